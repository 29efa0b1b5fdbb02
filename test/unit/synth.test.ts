import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/main/cli';
import {
  attributeKey,
  attributePhrases,
  COLOUR_NAMES,
  COLOURS,
  sampleAttributes,
  templateCaption,
  type ColourName,
  type PersonAttributes,
} from '../../src/main/pipelines/attributes';
import {
  BACKGROUND_REFERENCE,
  BAG_PROBE_BACKGROUND,
  BAG_PROBES,
  colourDistance,
  corePixels,
  LAYOUT,
  readColours,
  type Rect,
} from '../../src/main/synth/layout';
import { drawLabels, LABEL, POSE_RANGES, VIEWS, type Label, type Pose } from '../../src/main/synth/render';
import { createRng, deriveSeed } from '../../src/main/rng';
import { generateWorld, planWorld, type GroundTruth } from '../../src/main/synth/world';
import { makeWorld } from '../fixtures/world';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'ctgi-synth-test-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

describe('layout guarantee: region cores hold only their own part, in every view and extreme pose', () => {
  // People that between them use every garment, bag and hat variant.
  const people: PersonAttributes[] = [];
  const rng = createRng(deriveSeed('layout-test'));
  for (let i = 0; i < 120; i++) people.push(sampleAttributes(rng));

  const corners: Pose[] = [];
  for (const view of VIEWS) {
    for (const shift of POSE_RANGES.shift) {
      for (const spread of POSE_RANGES.spread[view]) {
        for (const arm of POSE_RANGES.arm[view]) corners.push({ view, shift, spread, arm });
      }
    }
  }

  function expectOnly(
    labels: Uint8Array,
    rects: readonly Rect[],
    size: { width: number; height: number },
    want: Label,
    what: string,
  ): void {
    const wrong = corePixels(rects, size.width, size.height).filter((i) => labels[i] !== want);
    expect(wrong.length, `${what}: ${wrong.length} core pixels are not label ${want}`).toBe(0);
  }

  it('covers every variant of the vocabulary in the sample', () => {
    const seen = (f: (a: PersonAttributes) => string): Set<string> => new Set(people.map(f));
    expect(seen((a) => a.top.type).size).toBe(5);
    expect(seen((a) => a.bottom.type + a.bottom.length).size).toBe(5);
    expect(seen((a) => a.bag.type).size).toBe(4);
    expect(seen((a) => `${a.hat.type}${a.hair.length}${a.glasses}`).size).toBe(8);
  });

  for (const [size, count] of [
    [{ width: 128, height: 256 }, people.length],
    [{ width: 256, height: 512 }, 30],
  ] as const) {
    it(`at ${size.width}×${size.height}`, { timeout: 60_000 }, () => {
      for (const a of people.slice(0, count)) {
        for (const pose of corners) {
          const labels = drawLabels({ attributes: a, pose }, size);
          const tag = `${pose.view} ${JSON.stringify(pose)} ${attributeKey(a)}`;
          expectOnly(labels, LAYOUT.top.core, size, LABEL.top, `top ${tag}`);
          expectOnly(labels, LAYOUT.bottom.core, size, LABEL.bottom, `bottom ${tag}`);
          expectOnly(labels, LAYOUT.shoes.core, size, LABEL.shoes, `shoes ${tag}`);
          expectOnly(labels, LAYOUT.hair.core, size, LABEL.hair, `hair ${tag}`);
          expectOnly(
            labels,
            LAYOUT.hat.core,
            size,
            a.hat.type === 'cap' ? LABEL.hat : LABEL.hair,
            `hat ${tag}`,
          );
          const bag = a.bag.type === 'none' ? LABEL.background : LABEL.bag;
          expectOnly(labels, LAYOUT.bag.core, size, bag, `bag ${tag}`);
          expectOnly(labels, BACKGROUND_REFERENCE, size, LABEL.background, `background ${tag}`);
          for (const [probe, rects] of Object.entries(BAG_PROBE_BACKGROUND)) {
            expectOnly(labels, rects, size, LABEL.background, `${probe} background ${tag}`);
          }
          const t = a.bag.type;
          expectOnly(
            labels,
            BAG_PROBES.high,
            size,
            t === 'backpack' ? LABEL.bag : LABEL.background,
            `high ${tag}`,
          );
          const middle = t === 'backpack' || t === 'shoulder bag';
          expectOnly(labels, BAG_PROBES.middle, size, middle ? LABEL.bag : LABEL.background, `middle ${tag}`);
          expectOnly(
            labels,
            BAG_PROBES.low,
            size,
            t === 'handbag' ? LABEL.bag : LABEL.background,
            `low ${tag}`,
          );
        }
      }
    });
  }
});

describe('attributes and captions', () => {
  it('keeps the palette far apart', () => {
    for (const a of COLOUR_NAMES) {
      for (const b of COLOUR_NAMES)
        if (a < b) expect(colourDistance(COLOURS[a], COLOURS[b]), `${a}/${b}`).toBeGreaterThan(80);
    }
  });

  it('captions state every attribute phrase, in several phrasings', () => {
    const rng = createRng(7);
    const openings = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const a = sampleAttributes(rng);
      const caption = templateCaption(a, rng);
      for (const phrase of attributePhrases(a)) expect(caption.toLowerCase(), caption).toContain(phrase);
      expect(caption.split('. ').length).toBeLessThanOrEqual(3);
      openings.add(caption.split(' ').slice(0, 2).join(' '));
    }
    expect(openings.size).toBeGreaterThanOrEqual(4);
  });

  it('phrases a person the way the brief reads', () => {
    const a: PersonAttributes = {
      sex: 'woman',
      ageGroup: 'adult',
      hair: { length: 'long', colour: 'black' },
      top: { colour: 'red', type: 't-shirt', sleeves: 'short' },
      bottom: { colour: 'blue', type: 'jeans', length: 'long' },
      shoes: { colour: 'white' },
      bag: { type: 'backpack', colour: 'black' },
      hat: { type: 'none', colour: null },
      glasses: false,
    };
    expect(attributePhrases(a)).toEqual([
      'woman',
      'long black hair',
      'red t-shirt',
      'short sleeves',
      'blue jeans',
      'white shoes',
      'black backpack',
    ]);
    const captions = new Set<string>();
    const rng = createRng(1);
    for (let i = 0; i < 40; i++) captions.add(templateCaption(a, rng));
    expect(captions).toContain(
      'A woman with long black hair, wearing a red t-shirt with short sleeves, blue jeans and white shoes. She carries a black backpack.',
    );
  });

  it('gives every identity of a world its own attribute set', { timeout: 30_000 }, () => {
    const plan = planWorld({ identities: 2000, views: 1, seed: 3 });
    expect(new Set(plan.identities.map((p) => attributeKey(p.attributes))).size).toBe(2000);
  });

  it('keeps identity i the same person however large the world', () => {
    const small = planWorld({ identities: 5, views: 2, seed: 'abc' });
    const large = planWorld({ identities: 50, views: 2, seed: 'abc' });
    expect(large.identities.slice(0, 5).map((p) => p.attributes)).toEqual(
      small.identities.map((p) => p.attributes),
    );
    expect(large.images.slice(0, 10).map((i) => i.scene)).toEqual(small.images.map((i) => i.scene));
  });

  it('writes the share of captions asked for with one wrong colour, and changes nothing else', () => {
    const clean = planWorld({ identities: 100, views: 2, seed: 5 });
    const noisy = planWorld({ identities: 100, views: 2, seed: 5, captionMistakes: 0.2 });
    expect(planWorld({ identities: 100, views: 2, seed: 5, captionMistakes: 0 })).toEqual(clean);
    expect(clean.images.every((i) => i.mistakes.length === 0)).toBe(true);
    expect(noisy.identities).toEqual(clean.identities);
    expect(noisy.images.map((i) => i.scene)).toEqual(clean.images.map((i) => i.scene));
    const mistakes = noisy.images.flatMap((img, k) => img.mistakes.map((m) => ({ m, k })));
    expect(mistakes.length / 400).toBeGreaterThan(0.15);
    expect(mistakes.length / 400).toBeLessThan(0.25);
    for (const { m, k } of mistakes) {
      const wrong = noisy.images[k]!.captions[m.caption];
      const right = clean.images[k]!.captions[m.caption];
      expect(m.said).not.toBe(m.truth);
      // The same sentence, with the garment's colour swapped.
      const { attributes } = noisy.identities.find((p) => p.personId === noisy.images[k]!.personId)!;
      expect(attributes[m.garment].colour).toBe(m.truth);
      expect(wrong).not.toBe(right);
      expect(wrong.split(' ').length).toBe(right.split(' ').length);
    }
    // Captions without a mistake are word for word the clean world's.
    noisy.images.forEach((img, k) =>
      img.captions.forEach((c, j) => {
        if (!img.mistakes.some((m) => m.caption === j)) expect(c).toBe(clean.images[k]!.captions[j]);
      }),
    );
    expect(() => planWorld({ identities: 1, views: 1, seed: 1, captionMistakes: 2 })).toThrow(
      'captionMistakes is a share from 0 to 1, got 2.',
    );
  });
});

describe('generateWorld', () => {
  it(
    'writes byte-identical files for the same seed, and different ones for another seed',
    { timeout: 30_000 },
    async () => {
      const opts = { identities: 12, views: 2, seed: 42, imageFormat: 'mixed' as const };
      await generateWorld({ ...opts, outDir: path.join(scratch, 'a') });
      await generateWorld({ ...opts, outDir: path.join(scratch, 'b') });
      await generateWorld({ ...opts, seed: 43, outDir: path.join(scratch, 'c') });
      const a = hashTree(path.join(scratch, 'a'));
      expect(Object.keys(a)).toHaveLength(24 + 3);
      expect(Object.keys(a).filter((f) => f.endsWith('.png')).length).toBeGreaterThan(0);
      expect(hashTree(path.join(scratch, 'b'))).toEqual(a);
      const c = hashTree(path.join(scratch, 'c'));
      expect(c['data_captions.json']).not.toBe(a['data_captions.json']);
    },
  );

  it('refuses to write over a world unless asked to', async () => {
    const outDir = path.join(scratch, 'again');
    await generateWorld({ outDir, identities: 2, views: 1, seed: 1 });
    await expect(generateWorld({ outDir, identities: 2, views: 1, seed: 1 })).rejects.toThrow(/--force/);
    const s = await generateWorld({ outDir, identities: 3, views: 1, seed: 1, overwrite: true });
    expect(s.images).toBe(3);
  });

  it(
    'writes RSTPReid and CUHK-PEDES files whose paths resolve, split by identity',
    { timeout: 30_000 },
    async () => {
      const w = await makeWorld({ identities: 40, views: 3, seed: 5 });
      const rstp = JSON.parse(readFileSync(path.join(w.dir, 'data_captions.json'), 'utf8')) as Record<
        string,
        unknown
      >[];
      const cuhk = JSON.parse(readFileSync(path.join(w.dir, 'reid_raw.json'), 'utf8')) as Record<
        string,
        unknown
      >[];
      expect(rstp).toHaveLength(120);
      expect(cuhk).toHaveLength(120);
      const splitOf = new Map<number, string>();
      for (const r of rstp) {
        expect(Object.keys(r).sort()).toEqual(['captions', 'id', 'img_path', 'split']);
        expect(existsSync(path.join(w.imageRoot, r.img_path as string))).toBe(true);
        expect(r.captions as string[]).toHaveLength(2);
        expect(['train', 'val', 'test']).toContain(r.split);
        const id = r.id as number;
        expect(splitOf.get(id) ?? r.split, `identity ${id} is in two splits`).toBe(r.split);
        splitOf.set(id, r.split as string);
      }
      expect(new Set(splitOf.values())).toEqual(new Set(['train', 'val', 'test']));
      for (const r of cuhk) {
        expect(Object.keys(r).sort()).toEqual(['captions', 'file_path', 'id', 'processed_tokens', 'split']);
        expect(existsSync(path.join(w.imageRoot, r.file_path as string))).toBe(true);
        const tokens = r.processed_tokens as string[][];
        expect(tokens).toHaveLength(2);
        expect(tokens[0]?.every((t) => t === t.toLowerCase() && !/[.,]/.test(t))).toBe(true);
      }
      expect(Math.min(...cuhk.map((r) => r.id as number))).toBe(1);
      expect(new Set(cuhk.map((r) => r.id)).size).toBe(40);

      const truth = w.truth;
      for (const img of truth.images) {
        const person = truth.identities[img.personId - 1];
        expect(img.attributes).toEqual(person?.attributes);
        const caption = rstp.find((r) => r.img_path === img.file)?.captions as string[];
        for (const c of caption)
          for (const phrase of attributePhrases(img.attributes)) expect(c.toLowerCase()).toContain(phrase);
      }
    },
  );

  it('runs as `ctgi synth` and prints a JSON summary', async () => {
    const lines: string[] = [];
    const errors: string[] = [];
    const outDir = path.join(scratch, 'cli');
    const code = await main(
      ['synth', '--out', outDir, '--identities', '4', '--views', '2', '--seed', '9', '--json'],
      {
        out: (l) => lines.push(l),
        err: (l) => errors.push(l),
      },
    );
    expect(code).toBe(0);
    const summary = JSON.parse(lines.join('\n')) as { images: number; identities: number };
    expect(summary).toMatchObject({ images: 8, identities: 4 });
    expect(errors.at(-1)).toBe('rendered 8/8 images');
    const again = await main(['synth', '--out', outDir, '--identities', '4'], {
      out: () => {},
      err: (l) => errors.push(l),
    });
    expect(again).toBe(2);
    expect(errors.at(-1)).toMatch(/already holds a synthetic world/);
  });
});

describe('attributes are recoverable from pixels', () => {
  interface Reading {
    top: ColourName;
    bottom: ColourName;
    shoes: ColourName;
    hair: ColourName;
    hat: ColourName | null;
    bag: ColourName | null;
    bagType: string | null;
  }

  // What the toy CLIP and the oracle do: average each region core, take the nearest palette colour.
  function read(pixels: Uint8Array, width: number, height: number, channels: number): Reading {
    const r = readColours(pixels, width, height, channels);
    return { ...r, bag: r.bag?.colour ?? null, bagType: r.bag?.type ?? null };
  }

  function truthOf(a: PersonAttributes): Reading {
    return {
      top: a.top.colour,
      bottom: a.bottom.colour,
      shoes: a.shoes.colour,
      hair: a.hair.colour,
      hat: a.hat.colour,
      bag: a.bag.colour,
      bagType: a.bag.type === 'none' ? null : a.bag.type,
    };
  }

  /** `load` returns the image as the app would hand it on: a path or re-encoded bytes. */
  async function score(
    truth: GroundTruth,
    imageRoot: string,
    load: (file: string) => Promise<string | Buffer>,
  ): Promise<Record<keyof Reading, number>> {
    const right = { top: 0, bottom: 0, shoes: 0, hair: 0, hat: 0, bag: 0, bagType: 0 };
    for (const img of truth.images) {
      const input = await load(path.join(imageRoot, img.file));
      const { data, info } = await sharp(input).raw().toBuffer({ resolveWithObject: true });
      const got = read(data, info.width, info.height, info.channels);
      const want = truthOf(img.attributes);
      for (const k of Object.keys(right) as (keyof Reading)[]) {
        if (got[k] === want[k]) right[k]++;
      }
    }
    const n = truth.images.length;
    const rates = Object.fromEntries(Object.entries(right).map(([k, v]) => [k, v / n])) as Record<
      keyof Reading,
      number
    >;
    return rates;
  }

  const expectRates = (rates: Record<keyof Reading, number>): void => {
    for (const [k, v] of Object.entries(rates))
      expect(v, `${k} read right for ${(v * 100).toFixed(1)}%`).toBeGreaterThanOrEqual(0.98);
  };

  it('as written (JPEG)', { timeout: 60_000 }, async () => {
    const w = await makeWorld({ identities: 100, views: 3, seed: 11 });
    expect(w.truth.images).toHaveLength(300);
    expectRates(await score(w.truth, w.imageRoot, async (file) => file));
    // Control: the same reading scored against the wrong people mostly misses, so the rates above
    // come from the pixels, not from a lenient comparison.
    const shuffled = {
      ...w.truth,
      images: w.truth.images.map((img, k, all) => ({
        ...img,
        attributes: all[(k + 3) % all.length]!.attributes,
      })),
    };
    const wrong = await score(shuffled, w.imageRoot, async (file) => file);
    expect(wrong.top).toBeLessThan(0.3);
    expect(wrong.bottom).toBeLessThan(0.3);
  });

  it(
    'after resizing to 384×128 (bilinear, aspect changed) and JPEG re-encoding at quality 75',
    { timeout: 60_000 },
    async () => {
      const w = await makeWorld({ identities: 100, views: 3, seed: 11 });
      expectRates(
        await score(w.truth, w.imageRoot, (file) =>
          sharp(file).resize(128, 384, { fit: 'fill', kernel: 'linear' }).jpeg({ quality: 75 }).toBuffer(),
        ),
      );
    },
  );
});
