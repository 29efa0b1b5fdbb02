import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageVariant } from '#shared/contract';
import { asImageId } from '#shared/ids';
import { fullForBrowser, thumbnail, THUMB_HEIGHT } from './encode';
import {
  ImageReadError,
  readImage,
  resolveStoredImage,
  type ImageReadProblem,
  type StoredImage,
} from './image';
import { findStoredImage } from './library';
import { cropOrigins } from '../db/repos/footage';
import type { WritableDb } from '../db/types';
import type { MediaCaches } from './caches';
import { frameAt, VideoError } from './video';

/**
 * What serving needs of an open workspace (a `Workspace` is one): its database, its cache folder and the
 * media caches it owns. Named here, not imported, so media/ stays below workspace.ts (CONTEXT.md, layers).
 */
export interface MediaSource {
  readonly db: WritableDb;
  readonly cacheDir: string;
  readonly services: { readonly media: MediaCaches };
}

/** The whole frame a footage crop was cut from (its box is drawn by the viewer, from footage:origin). */
async function frameResponse(ws: MediaSource, id: number, sha256: string): Promise<MediaResponse> {
  const origin = cropOrigins(ws.db, [asImageId(id)]).get(asImageId(id));
  if (!origin)
    return text(
      404,
      `Image ${id} is not a footage crop: it has no frame (it was imported, not cut from a video).`,
    );
  try {
    const still = await frameAt(await ws.services.media.videoTools(), origin.videoPath, origin.frameTime, {
      format: 'jpeg',
      quality: 88,
    });
    return {
      status: 200,
      headers: {
        'content-type': 'image/jpeg',
        'cache-control': 'private, max-age=86400',
        etag: `"${sha256}-frame"`,
      },
      body: still.data,
    };
  } catch (err) {
    if (!(err instanceof VideoError)) throw err;
    return text(
      err.problem === 'missing' ? 410 : 422,
      `The frame of image ${id} cannot be shown: ${err.message}`,
    );
  }
}

export interface MediaResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

const text = (status: number, message: string): MediaResponse => ({
  status,
  headers: { 'content-type': 'text/plain; charset=utf-8' },
  body: Buffer.from(message),
});

const STATUS: Record<ImageReadProblem, number> = {
  missing: 410,
  outside: 403,
  changed: 409,
  'not-regular': 422,
  'too-large': 422,
  undecodable: 422,
  unreadable: 500,
};

export interface MediaRequest {
  /** The client's cached ETag: when it still matches, answer 304 without reading the file. */
  ifNoneMatch?: string | string[];
}

async function makeThumbnail(stored: StoredImage, cached: string): Promise<Buffer> {
  if (existsSync(cached)) return readFile(cached);
  const img = await readImage(stored);
  const body = await thumbnail(img.bytes, img.format);
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
 * The cheap check before an answer that reads no image bytes (a 304, a cached thumbnail): the real path
 * stays inside the dataset folder, is a regular file, and has the size it had at import. Anything that
 * reads the bytes checks their sha256 as well (`readImage`).
 */
async function checkOnDisk(stored: StoredImage): Promise<void> {
  const path = await resolveStoredImage(stored);
  const st = await stat(path);
  if (!st.isFile())
    throw new ImageReadError('not-regular', `${path} is not a regular file; only image files are read.`);
  if (stored.bytes !== undefined && st.size !== stored.bytes) {
    throw new ImageReadError(
      'changed',
      `${path} changed on disk since it was imported (${st.size} bytes, ${stored.bytes} at import). Restore the original file, or import the folder again as a new dataset.`,
    );
  }
}

/**
 * Serves an image by id — the only way images leave the main process. Paths are resolved here from
 * the dataset root and never accepted from a client. Thumbnails are made on first request and cached
 * by content hash, so two datasets holding the same file share one thumbnail.
 */
export async function mediaResponse(
  ws: MediaSource,
  rawId: number,
  rawVariant: string,
  req: MediaRequest = {},
): Promise<MediaResponse> {
  if (!Number.isInteger(rawId) || rawId <= 0) return text(400, 'Image ids are positive integers.');
  if (rawVariant !== 'thumb' && rawVariant !== 'full' && rawVariant !== 'frame')
    return text(400, 'Variant must be "thumb", "full" or "frame".');
  const variant: ImageVariant = rawVariant;
  const found = findStoredImage(ws.db, asImageId(rawId));
  if (!found) return text(404, `Image ${rawId} does not exist.`);
  const { row: image, stored } = found;
  const cacheHeaders = { 'cache-control': 'private, max-age=86400', etag: `"${image.sha256}-${variant}"` };
  if (variant === 'frame') {
    if (etagMatches(req.ifNoneMatch, cacheHeaders.etag))
      return { status: 304, headers: cacheHeaders, body: Buffer.alloc(0) };
    return frameResponse(ws, rawId, image.sha256);
  }
  try {
    await checkOnDisk(stored);
    if (etagMatches(req.ifNoneMatch, cacheHeaders.etag))
      return { status: 304, headers: cacheHeaders, body: Buffer.alloc(0) };
    if (variant === 'full') {
      const img = await readImage(stored);
      const out = await fullForBrowser(img.bytes, img.format);
      return { status: 200, headers: { 'content-type': out.mime, ...cacheHeaders }, body: out.bytes };
    }
    const cached = join(
      ws.cacheDir,
      'thumbs',
      image.sha256.slice(0, 2),
      `${image.sha256}-${THUMB_HEIGHT}.webp`,
    );
    // Two requests for one new thumbnail (a grid asking twice, two tabs) share one decode.
    const thumbsInFlight = ws.services.media.thumbsInFlight;
    let pending = thumbsInFlight.get(cached);
    if (!pending) {
      pending = makeThumbnail(stored, cached).finally(() => thumbsInFlight.delete(cached));
      thumbsInFlight.set(cached, pending);
    }
    const body = await pending;
    return { status: 200, headers: { 'content-type': 'image/webp', ...cacheHeaders }, body };
  } catch (err) {
    if (!(err instanceof ImageReadError)) throw err;
    const advice = err.problem === 'undecodable' ? ' Re-import it or replace the file.' : '';
    return text(STATUS[err.problem], `Image ${rawId} (${image.rel_path}): ${err.message}${advice}`);
  }
}
