import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import sharp, { type Metadata } from 'sharp';
import { BmpError, decodeBmp, isBmp, readBmpHeader } from './bmp';

/** Larger than any person crop; anything above is a decompression bomb or not a crop at all. */
export const MAX_PIXELS = 40_000_000;
/** Read files whole (one read, one hash, one decode): refuse absurd ones before reading them. */
export const MAX_FILE_BYTES = 256 * 1024 * 1024;
/** Up to this size a full decode is cheapest; above it, decode with shrink-on-load. */
const FULL_DECODE_PIXELS = 1_000_000;
/**
 * Person crops are small files: for them one decode call gives size and validity together (a
 * separate metadata() call would cost another ~40% per image). The low pixel cap bounds the memory of
 * that full decode; anything bigger takes the careful path below.
 */
const FAST_PATH_BYTES = 1024 * 1024;
const FAST_PATH_PIXELS = 4_000_000;

const RASTER_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif', 'bmp']);

/** The format by its magic bytes, for the formats the fast path takes; null sends a file to metadata(). */
export function sniffFormat(buf: Buffer): 'jpeg' | 'png' | 'webp' | 'gif' | null {
  if (buf.length < 12) return null;
  if (buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'jpeg';
  if (buf.readUInt32BE(0) === 0x89504e47) return 'png';
  if (buf.toString('latin1', 0, 4) === 'RIFF' && buf.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  if (buf.toString('latin1', 0, 4) === 'GIF8') return 'gif';
  return null;
}

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
  const code = err instanceof Error && 'code' in err ? String(err.code) : '';
  if (code === 'ENOENT') return fail('file not found.');
  if (code === 'EISDIR') return fail('is a folder, not an image file.');
  if (code === 'EACCES' || code === 'EPERM') return fail(`cannot be read (${code}); check its permissions.`);
  return fail(`cannot be read: ${firstLine(err)}`);
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
  let fh: FileHandle | undefined;
  try {
    // One open for stat and read: at hundreds of files a second the extra path lookups show.
    fh = await open(file, 'r');
    const st = await fh.stat();
    if (st.isDirectory()) return fail('is a folder, not an image file.');
    if (st.size === 0) return fail('empty file (0 bytes).');
    if (st.size > MAX_FILE_BYTES)
      return fail(`refused: ${(st.size / 2 ** 20).toFixed(0)} MB is too large for a person crop.`);
    buf = await fh.readFile();
  } catch (err) {
    return readError(err);
  } finally {
    await fh?.close();
  }
  if (buf.length === 0) return fail('empty file (0 bytes).');
  const sha256 = createHash('sha256').update(buf).digest('hex');

  if (isBmp(buf)) {
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

  const sniffed = sniffFormat(buf);
  if (sniffed !== null && buf.length <= FAST_PATH_BYTES) {
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
