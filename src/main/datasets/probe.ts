import { createHash } from 'node:crypto';
import sharp, { type Metadata } from 'sharp';
import { FileReadError, readRegularFile } from '../files';
import { BmpError, decodeBmp, readBmpHeader } from '../media/bmp';
import { sniffImageFormat } from '../media/formats';
import { MAX_IMAGE_BYTES, MAX_PIXELS } from '../media/image';

export { MAX_PIXELS } from '../media/image';
/** Up to this size a full decode is cheapest; above it, decode with shrink-on-load. */
const FULL_DECODE_PIXELS = 1_000_000;
/**
 * Person crops are small files: for them one decode call gives size and validity together (a
 * separate metadata() call would cost another ~40% per image). The low pixel cap bounds the memory of
 * that full decode; anything bigger takes the careful path below.
 */
const FAST_PATH_BYTES = 1024 * 1024;
const FAST_PATH_PIXELS = 4_000_000;
/** Formats the fast path decodes at once; the rest go to metadata() first. */
const FAST_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif']);

const RASTER_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif', 'bmp']);

export interface ProbedImage {
  sha256: string;
  bytes: number;
  width: number;
  height: number;
  format: string;
}

export type ProbeResult = { ok: true; image: ProbedImage } | { ok: false; message: string };

const fail = (message: string): ProbeResult => ({ ok: false, message });
const firstLine = (err: unknown): string =>
  (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';

function readError(err: unknown): ProbeResult {
  if (!(err instanceof FileReadError)) return fail(`cannot be read: ${firstLine(err)}`);
  switch (err.reason) {
    case 'missing':
      return fail('file not found.');
    case 'folder':
      return fail('is a folder, not an image file.');
    case 'not-regular':
      return fail(`${err.message}; skipped.`);
    case 'too-large':
      return fail(`refused: ${err.message} for a person crop.`);
    case 'unreadable':
      return err.code === 'EACCES' || err.code === 'EPERM'
        ? fail(`cannot be read (${err.code}); check its permissions.`)
        : fail(`${err.message}.`);
  }
}

function tooBig(width: number, height: number, maxPixels: number): ProbeResult | null {
  const mp = (width * height) / 1e6;
  if (width * height <= maxPixels) return null;
  return fail(
    `refused: ${width}×${height} is ${mp.toFixed(0)} megapixels, over the ${maxPixels / 1e6}-megapixel limit ` +
      '(a decompression bomb, or not a person crop). It was not decoded.',
  );
}

/**
 * Hash, size and format of one image file — and a real decode, because a truncated JPEG has a
 * perfectly good header. The pixel count is checked from the header before any decoding, so a tiny
 * file claiming 100 000 × 100 000 pixels costs nothing.
 */
export async function probeImage(file: string, maxPixels = MAX_PIXELS): Promise<ProbeResult> {
  let buf: Buffer;
  try {
    // A regular file only (a FIFO or a device named by an annotation record would hang the read), under
    // the size cap, opened once for stat and read: at hundreds of files a second the extra lookups show.
    ({ bytes: buf } = await readRegularFile(file, MAX_IMAGE_BYTES));
  } catch (err) {
    return readError(err);
  }
  if (buf.length === 0) return fail('empty file (0 bytes).');
  const sha256 = createHash('sha256').update(buf).digest('hex');

  const sniffed = sniffImageFormat(buf);
  if (sniffed === 'bmp') {
    try {
      const header = readBmpHeader(buf);
      const refused = tooBig(header.width, header.height, maxPixels);
      if (refused) return refused;
      decodeBmp(buf, header);
      return {
        ok: true,
        image: { sha256, bytes: buf.length, width: header.width, height: header.height, format: 'bmp' },
      };
    } catch (err) {
      if (err instanceof BmpError) return fail(`corrupt BMP: ${err.message}.`);
      throw err;
    }
  }

  if (sniffed !== null && FAST_FORMATS.has(sniffed) && buf.length <= FAST_PATH_BYTES) {
    try {
      const { info } = await sharp(buf, {
        limitInputPixels: FAST_PATH_PIXELS,
        failOn: 'truncated',
        autoOrient: true,
      })
        .raw()
        .toBuffer({ resolveWithObject: true });
      return {
        ok: true,
        image: { sha256, bytes: buf.length, width: info.width, height: info.height, format: sniffed },
      };
    } catch (err) {
      // Over the fast path's pixel cap is not an error yet: the careful path decides.
      if (!/pixel limit/i.test(firstLine(err)))
        return fail(`corrupt or truncated ${sniffed} (${firstLine(err)}); it cannot be decoded.`);
    }
  }

  let meta: Metadata;
  try {
    // No pixel limit here: the header is all metadata() reads, and we want to say the size ourselves.
    meta = await sharp(buf, { limitInputPixels: false }).metadata();
  } catch (err) {
    return fail(`not a readable image (${firstLine(err)}).`);
  }
  if (!RASTER_FORMATS.has(meta.format))
    return fail(`is ${meta.format}, not a raster image format the app imports.`);
  const width = meta.autoOrient?.width ?? meta.width;
  const height = meta.autoOrient?.height ?? meta.height;
  if (!(width > 0 && height > 0)) return fail('has no pixel size in its header.');
  const refused = tooBig(meta.width, meta.height * (meta.pages ?? 1), maxPixels);
  if (refused) return refused;
  try {
    // 'truncated' rather than the default 'warning': real datasets carry JPEGs with harmless
    // warnings (extraneous bytes before a marker) that every viewer shows fine.
    const img = sharp(buf, { limitInputPixels: maxPixels, failOn: 'truncated' });
    if (meta.width * meta.height > FULL_DECODE_PIXELS) img.resize(256, 256, { fit: 'inside' });
    await img.raw().toBuffer();
  } catch (err) {
    return fail(`corrupt or truncated ${meta.format} (${firstLine(err)}); it cannot be decoded.`);
  }
  return { ok: true, image: { sha256, bytes: buf.length, width, height, format: meta.format } };
}
