import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import sharp from 'sharp';
import type { ImageVariant } from '../../shared/contract';
import { asImageId } from '../../shared/ids';
import { getDatasetRow } from '../db/repos/datasets';
import { getImageRow } from '../db/repos/images';
import type { Workspace } from '../workspace';
import { realPathInside, resolveInside } from './paths';

export interface MediaResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Thumbnails are this tall (person crops are portrait); wide enough for a 2:1 crop at 2× DPI. */
export const THUMB_HEIGHT = 256;

const CONTENT_TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.bmp': 'image/bmp',
};

const text = (status: number, message: string): MediaResponse => ({
  status,
  headers: { 'content-type': 'text/plain; charset=utf-8' },
  body: Buffer.from(message),
});

export interface MediaRequest {
  /** The client's cached ETag: when it still matches, answer 304 without reading the file. */
  ifNoneMatch?: string | string[];
}

// Two requests for one new thumbnail (a grid asking twice, two tabs) share one sharp run.
const thumbsInFlight = new Map<string, Promise<Buffer>>();

async function makeThumbnail(file: string, cached: string): Promise<Buffer> {
  if (existsSync(cached)) return readFile(cached);
  const body = await sharp(file)
    .rotate()
    .resize({ height: THUMB_HEIGHT, withoutEnlargement: true })
    .webp({ quality: 78 })
    .toBuffer();
  await mkdir(join(cached, '..'), { recursive: true });
  // Write then rename, so a reader never sees half a thumbnail.
  const tmp = `${cached}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, body);
  await rename(tmp, cached);
  return body;
}

function etagMatches(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const values = (Array.isArray(header) ? header : [header]).flatMap((h) => h.split(','));
  return values.some((v) => {
    const t = v.trim();
    return t === '*' || t === etag || t === `W/${etag}`;
  });
}

/**
 * Serves an image by id — the only way images leave the main process. Paths are resolved here from
 * the dataset root and never accepted from a client. Thumbnails are made on first request and cached
 * by content hash, so two datasets holding the same file share one thumbnail.
 */
export async function mediaResponse(
  ws: Workspace,
  rawId: number,
  rawVariant: string,
  req: MediaRequest = {},
): Promise<MediaResponse> {
  if (!Number.isInteger(rawId) || rawId <= 0) return text(400, 'Image ids are positive integers.');
  if (rawVariant !== 'thumb' && rawVariant !== 'full') return text(400, 'Variant must be "thumb" or "full".');
  const variant: ImageVariant = rawVariant;
  const image = getImageRow(ws.db, asImageId(rawId));
  const dataset = image && getDatasetRow(ws.db, image.dataset_id as never);
  if (!image || !dataset) return text(404, `Image ${rawId} does not exist.`);
  const inDataset = resolveInside(dataset.root, image.rel_path);
  const real =
    inDataset === null ? { kind: 'missing' as const } : await realPathInside(dataset.root, inDataset);
  if (real.kind === 'outside') {
    return text(
      403,
      `The file of image ${rawId} (${image.rel_path}) is a link that leads out of its dataset folder, so it is not served. Put the image itself there, or re-import the dataset.`,
    );
  }
  if (real.kind === 'missing') {
    return text(410, `The file of image ${rawId} (${image.rel_path}) is no longer on disk.`);
  }
  const file = real.path;
  const cacheHeaders = { 'cache-control': 'private, max-age=86400', etag: `"${image.sha256}-${variant}"` };
  if (etagMatches(req.ifNoneMatch, cacheHeaders.etag))
    return { status: 304, headers: cacheHeaders, body: Buffer.alloc(0) };
  if (variant === 'full') {
    const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
    return { status: 200, headers: { 'content-type': type, ...cacheHeaders }, body: await readFile(file) };
  }
  const cached = join(
    ws.cacheDir,
    'thumbs',
    image.sha256.slice(0, 2),
    `${image.sha256}-${THUMB_HEIGHT}.webp`,
  );
  let pending = thumbsInFlight.get(cached);
  if (!pending) {
    pending = makeThumbnail(file, cached).finally(() => thumbsInFlight.delete(cached));
    thumbsInFlight.set(cached, pending);
  }
  try {
    const body = await pending;
    return { status: 200, headers: { 'content-type': 'image/webp', ...cacheHeaders }, body };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return text(
      422,
      `Image ${rawId} (${image.rel_path}) could not be decoded: ${why}. Re-import it or replace the file.`,
    );
  }
}
