// What leaves the app as an image: thumbnails and full images for the UI, and the payload an MLLM gets.
// All start from bytes that `readImage` checked, and all go through `imagePipeline`, so a BMP or an
// EXIF-rotated JPEG looks the same in the grid, to CLIP and to the MLLM.
import sharp, { type Sharp } from 'sharp';
import { BROWSER_FORMATS, IMAGE_MIME, MLLM_FORMATS, type ImageFormat } from './formats';
import { ImageReadError, imagePipeline } from './image';

/** Thumbnails are this tall (person crops are portrait); wide enough for a 2:1 crop at 2× DPI. */
export const THUMB_HEIGHT = 256;

export interface EncodedImage {
  bytes: Buffer;
  mime: string;
}

const firstLine = (err: unknown): string =>
  (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';

async function run(pipeline: () => Sharp, format: ImageFormat | null): Promise<Buffer> {
  try {
    return await pipeline().toBuffer();
  } catch (err) {
    if (err instanceof ImageReadError) throw err;
    throw new ImageReadError(
      'undecodable',
      `does not decode${format ? ` as ${format}` : ''} (${firstLine(err)})`,
    );
  }
}

/** A WebP thumbnail, THUMB_HEIGHT tall (never enlarged), upright. */
export function thumbnail(bytes: Buffer, format: ImageFormat | null): Promise<Buffer> {
  return run(
    () =>
      imagePipeline(bytes, format)
        .resize({ height: THUMB_HEIGHT, withoutEnlargement: true })
        .webp({ quality: 78 }),
    format,
  );
}

/** EXIF orientation other than "upright" (1): such bytes look rotated to a reader that ignores EXIF. */
async function needsRotation(bytes: Buffer): Promise<boolean> {
  const { orientation } = await sharp(bytes).metadata();
  return orientation !== undefined && orientation !== 1;
}

/**
 * The full image for a browser: the bytes as stored when a browser shows them (browsers apply EXIF
 * orientation themselves), else a PNG (TIFF, HEIC).
 */
export async function fullForBrowser(bytes: Buffer, format: ImageFormat | null): Promise<EncodedImage> {
  if (format !== null && BROWSER_FORMATS.has(format)) return { bytes, mime: IMAGE_MIME[format] };
  return { bytes: await run(() => imagePipeline(bytes, format).png(), format), mime: IMAGE_MIME.png };
}

/**
 * The image as an MLLM gets it. JPEG, PNG, WebP and GIF go as stored (so the bytes, and with them the
 * cache keys of earlier calls, stay the same); BMP, TIFF and HEIF/AVIF are re-encoded to PNG. A JPEG or
 * PNG with an EXIF rotation is sent upright (JPEG at quality 95), because vLLM's PIL and most servers
 * do not apply EXIF orientation. Either way the bytes are checked to decode first, so a broken file
 * fails here with its own message, not at the server.
 */
export async function forMllm(bytes: Buffer, format: ImageFormat | null): Promise<EncodedImage> {
  if (format !== null && MLLM_FORMATS.has(format)) {
    let rotate: boolean;
    try {
      rotate = await needsRotation(bytes);
    } catch (err) {
      throw new ImageReadError('undecodable', `does not decode as ${format} (${firstLine(err)})`);
    }
    if (!rotate) return { bytes, mime: IMAGE_MIME[format] };
    if (format === 'jpeg')
      return {
        bytes: await run(() => imagePipeline(bytes, format).jpeg({ quality: 95 }), format),
        mime: IMAGE_MIME.jpeg,
      };
  }
  return { bytes: await run(() => imagePipeline(bytes, format).png(), format), mime: IMAGE_MIME.png };
}
