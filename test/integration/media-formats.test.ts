// Every image format the import accepts goes the whole way: import → embed (toy CLIP, real ONNX in the
// encoder process) → thumbnail and full image → CLIP score → MTG against the oracle MLLM (a real HTTP
// server that, like vLLM's PIL, decodes PNG/JPEG/WebP/GIF and ignores EXIF orientation). Each picture
// is the same upright "person" (red top, blue bottom), so each path can also be checked to see it
// upright and with the same pixels: a BMP is not just accepted, it is read as the PNG is.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/main/cli';
import { getEmbedding } from '../../src/main/db/repos/embeddings';
import { mediaResponse } from '../../src/main/media/serve';
import { mllmImage } from '../../src/main/media/library';
import { writeToyClipFolder } from '../../src/main/synth/toy-clip';
import { startOracle, type OracleServer } from '../../src/main/synth/oracle/server';
import { openWorkspace, type Workspace } from '../../src/main/workspace';
import { asImageId, type ImageId, type ModelId } from '#shared/ids';
import { cosine } from '../../src/main/ml/vector-index';

process.env.CTGI_ORT_PROVIDER = 'cpu';

const W = 32;
const H = 64;

/** The upright person: red top half, blue bottom half, as raw RGB. */
function uprightPixels(): Buffer {
  const px = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const o = (y * W + x) * 3;
      if (y < H / 2) px.set([220, 30, 30], o);
      else px.set([30, 40, 210], o);
    }
  }
  return px;
}

/** An uncompressed 24-bit bottom-up BMP, as CUHK-PEDES ships VIPeR crops. */
function bmp(px: Buffer): Buffer {
  const stride = Math.ceil((W * 3) / 4) * 4;
  const out = Buffer.alloc(54 + stride * H);
  out.write('BM', 0, 'latin1');
  out.writeUInt32LE(out.length, 2);
  out.writeUInt32LE(54, 10);
  out.writeUInt32LE(40, 14);
  out.writeInt32LE(W, 18);
  out.writeInt32LE(H, 22);
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(24, 28);
  for (let y = 0; y < H; y++) {
    const row = 54 + stride * (H - 1 - y);
    for (let x = 0; x < W; x++) {
      const s = (y * W + x) * 3;
      out[row + x * 3] = px[s + 2]!;
      out[row + x * 3 + 1] = px[s + 1]!;
      out[row + x * 3 + 2] = px[s]!;
    }
  }
  return out;
}

const raw = (): Sharp => sharp(uprightPixels(), { raw: { width: W, height: H, channels: 3 } });

/** File name → bytes, one per format the import accepts (by extension in a folder, by content in a record). */
async function files(): Promise<Record<string, Buffer>> {
  return {
    'p.png': await raw().png().toBuffer(),
    'p.jpg': await raw().jpeg({ quality: 95 }).toBuffer(),
    'p.webp': await raw().webp({ lossless: true }).toBuffer(),
    'p.gif': await raw().gif().toBuffer(),
    'p.tif': await raw().tiff().toBuffer(),
    'p.avif': await raw().avif({ lossless: true }).toBuffer(),
    'p.bmp': bmp(uprightPixels()),
    // Stored on its side with EXIF orientation 6 ("rotate 90° clockwise to show"), as phones write.
    'p-exif6.jpg': await sharp(await raw().rotate(270).png().toBuffer())
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toBuffer(),
  };
}
const LOSSLESS = ['p.png', 'p.webp', 'p.gif', 'p.tif', 'p.avif', 'p.bmp'];
const ALL = [...LOSSLESS, 'p.jpg', 'p-exif6.jpg'];

/**
 * Mean RGB of the top and bottom quarter bands of decoded pixels: as the bytes say (what PIL, and so
 * vLLM, sees), or with EXIF orientation applied (what a browser shows).
 */
async function bands(bytes: Buffer, exif = false): Promise<{ top: number[]; bottom: number[] }> {
  const { data, info } = await sharp(bytes, { autoOrient: exif })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const mean = (y0: number, y1: number): number[] => {
    const s = [0, 0, 0];
    let n = 0;
    for (let y = y0; y < y1; y++)
      for (let x = 0; x < info.width; x++) {
        const o = (y * info.width + x) * info.channels;
        for (let c = 0; c < 3; c++) s[c]! += data[o + c]!;
        n++;
      }
    return s.map((v) => v / n);
  };
  return {
    top: mean(0, Math.floor(info.height / 4)),
    bottom: mean(Math.ceil((info.height * 3) / 4), info.height),
  };
}

/** Red on top, blue below: the picture is upright. */
function expectUpright(b: { top: number[]; bottom: number[] }, what: string): void {
  expect(b.top[0]!, `${what}: top is red`).toBeGreaterThan(150);
  expect(b.top[2]!, `${what}: top is red`).toBeLessThan(100);
  expect(b.bottom[2]!, `${what}: bottom is blue`).toBeGreaterThan(150);
  expect(b.bottom[0]!, `${what}: bottom is blue`).toBeLessThan(100);
}

let dir: string;
let wsFile: string;
let oracle: OracleServer;
let ws: Workspace;
const ids = new Map<string, ImageId>();
let modelId: ModelId;

async function ctgi(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main([...args, '-w', wsFile], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ctgi-formats-'));
  wsFile = join(dir, 'ws.sqlite');
  const imgs = join(dir, 'imgs');
  const all = await files();
  mkdirSync(imgs);
  for (const [name, bytes] of Object.entries(all)) writeFileSync(join(imgs, name), bytes);
  // An annotation file names every file, so formats a folder walk does not pick up by name (GIF, TIFF,
  // AVIF) are imported too; the captions give the score job something to score.
  const records = Object.keys(all).map((name, i) => ({
    id: i + 1,
    file_path: name,
    captions: ['a person in a red shirt and blue trousers'],
    split: 'train',
  }));
  writeFileSync(join(dir, 'reid_raw.json'), JSON.stringify(records));
  const clip = await writeToyClipFolder(join(dir, 'toy-clip'));
  oracle = await startOracle({ seed: 3 });
  for (const args of [
    ['import', '--annotations', join(dir, 'reid_raw.json'), '--images', imgs],
    ['models', '--register', clip.dir, '--name', 'toy'],
    [
      'endpoints',
      '--save',
      'oracle',
      '--base-url',
      oracle.url,
      '--model',
      'oracle-vl',
      '--role',
      'both',
      '--no-key',
    ],
  ]) {
    const r = await ctgi(...args);
    expect(r.code, `${args[0]}: ${r.err}`).toBe(0);
  }
  ws = openWorkspace(wsFile, { resumeJobs: false });
  for (const r of ws.db.prepare('SELECT id, rel_path FROM images').all() as {
    id: number;
    rel_path: string;
  }[])
    ids.set(r.rel_path, asImageId(r.id));
  modelId = (ws.db.prepare(`SELECT id FROM models WHERE name = 'toy'`).get() as { id: ModelId }).id;
}, 240_000);

afterAll(async () => {
  await ws?.close();
  await oracle?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('every format the import accepts works on every path', { timeout: 240_000 }, () => {
  it('imports each one, upright size', () => {
    expect([...ids.keys()].sort()).toEqual([...ALL].sort());
    const rows = ws.db.prepare('SELECT rel_path, width, height FROM images').all() as {
      rel_path: string;
      width: number;
      height: number;
    }[];
    for (const r of rows) expect({ [r.rel_path]: [r.width, r.height] }).toEqual({ [r.rel_path]: [W, H] });
  });

  it('embeds each one; lossless formats give the PNG’s vector, JPEG and the EXIF-rotated JPEG an upright one', async () => {
    const r = await ctgi('embed', '--model', 'toy');
    expect(r.code, r.err).toBe(0);
    const vec = (name: string): Float32Array => {
      const v = getEmbedding(ws.db, modelId, ids.get(name)!);
      expect(v, `${name} has a vector`).toBeTruthy();
      return v!;
    };
    const png = vec('p.png');
    for (const name of LOSSLESS) expect(cosine(vec(name), png), name).toBeGreaterThan(0.9999);
    expect(cosine(vec('p.jpg'), png)).toBeGreaterThan(0.99);
    expect(cosine(vec('p-exif6.jpg'), vec('p.jpg')), 'the rotated JPEG is embedded upright').toBeGreaterThan(
      0.99,
    );
  });

  it('serves a thumbnail and a full image a browser shows, upright, for each', async () => {
    for (const [name, id] of ids) {
      const thumb = await mediaResponse(ws, id, 'thumb');
      expect(thumb.status, `${name} thumb: ${thumb.body.toString().slice(0, 200)}`).toBe(200);
      expect(thumb.headers['content-type']).toBe('image/webp');
      expectUpright(await bands(thumb.body), `${name} thumb`);
      const full = await mediaResponse(ws, id, 'full');
      expect(full.status, `${name} full`).toBe(200);
      expect(['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/bmp', 'image/avif']).toContain(
        full.headers['content-type'],
      );
      // The type names what the bytes are (a browser refuses a mislabelled image).
      const format =
        full.headers['content-type'] === 'image/bmp' ? 'bmp' : (await sharp(full.body).metadata()).format;
      expect(full.headers['content-type']!.replace('image/', '').replace('avif', 'heif')).toBe(format);
      if (format !== 'bmp')
        expectUpright(await bands(full.body, true), `${name} full, as a browser shows it`);
    }
  });

  it('scores the caption of each one', async () => {
    const r = await ctgi('score', '--model', 'toy');
    expect(r.code, r.err).toBe(0);
    const scored = ws.db
      .prepare(
        `SELECT i.rel_path FROM caption_scores s JOIN captions c ON c.id = s.caption_id JOIN images i ON i.id = c.image_id`,
      )
      .all() as { rel_path: string }[];
    expect(scored.map((s) => s.rel_path).sort()).toEqual([...ids.keys()].sort());
  });

  it('sends each one to the MLLM in a format it takes, with the right MIME type, upright', async () => {
    for (const [name, id] of ids) {
      const img = await mllmImage(ws.db, id);
      const m = /^data:(image\/[a-z]+);base64,/.exec(img.dataUrl);
      expect(m, name).toBeTruthy();
      const bytes = Buffer.from(img.dataUrl.slice(m![0].length), 'base64');
      const format = (await sharp(bytes).metadata()).format;
      expect(['jpeg', 'png', 'webp', 'gif'], `${name} is sent as ${format}`).toContain(format);
      expect(m![1], name).toBe(`image/${format}`);
      expectUpright(await bands(bytes), `${name} as sent`);
    }
    const r = await ctgi('mtg', '--vqa', 'oracle', '--rounds', '2');
    expect(r.code, r.err).toBe(0);
    const runs = ws.db
      .prepare(`SELECT i.rel_path, r.status, r.error FROM mtg_runs r JOIN images i ON i.id = r.image_id`)
      .all() as { rel_path: string; status: string; error: string | null }[];
    expect(runs.filter((x) => x.status !== 'done')).toEqual([]);
    expect(runs.map((x) => x.rel_path).sort()).toEqual([...ids.keys()].sort());
  });
});
