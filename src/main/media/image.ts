// Reading and decoding library images: the one place that turns an image of the library into bytes or
// pixels. Every path that needs an image — the encoder's child process (embed, score), thumbnails and
// full images for the UI, the MLLM payload (MTG, MTI) — comes through here, so BMP, EXIF orientation,
// containment and the checks below hold for all of them alike. No database here: the encoder's child
// process imports this module, and gets the few stored facts it needs (root, path, sha256) by message.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import sharp, { type OutputInfo, type Sharp } from 'sharp';
import { FileReadError, readRegularFile } from '../files';
import { BmpError, decodeBmp, readBmpHeader } from './bmp';
import { sniffImageFormat, type ImageFormat } from './formats';
import { realPathInside, resolveInside } from './paths';

/** Larger than any person crop; anything above is a decompression bomb or not a crop at all. */
export const MAX_PIXELS = 40_000_000;
/** Images are read whole (one read, one hash, one decode): absurd ones are refused before reading. */
export const MAX_IMAGE_BYTES = 256 * 1024 * 1024;

/** An image of the library as the database knows it: where it is and what its bytes were at import. */
export interface StoredImage {
  root: string;
  relPath: string;
  sha256: string;
  /** Size at import; a different size is refused without reading the file. */
  bytes?: number;
}

/** A plain file path (tests, benchmarks, model checks: files outside any library) or a library image. */
export type ImageSource = string | StoredImage;

export type ImageReadProblem =
  'missing' | 'outside' | 'not-regular' | 'too-large' | 'unreadable' | 'changed' | 'undecodable';

/** Why an image could not be read; the message names the file and says what to do. */
export class ImageReadError extends Error {
  constructor(
    readonly problem: ImageReadProblem,
    message: string,
  ) {
    super(message);
    this.name = 'ImageReadError';
  }
}

/** Decoded pixels: interleaved RGB, 8 bits per channel. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

const firstLine = (err: unknown): string =>
  (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';

export interface ImageBytes {
  /** The real path that was read (symlinks resolved). */
  path: string;
  bytes: Buffer;
  format: ImageFormat | null;
  sha256: string;
}

/**
 * The real path of `root/relPath`, checked to stay inside the real path of `root` (media/paths.ts): a
 * stored `../` and a symlink that leads out of the folder (an image swapped for a link to /etc/passwd)
 * are both refused, and nothing outside the folder is ever opened. The import uses it too, so that what
 * it brings in is exactly what can be read later.
 */
export async function realImagePath(root: string, relPath: string): Promise<string> {
  const lexical = resolveInside(root, relPath);
  if (lexical === null) {
    throw new ImageReadError(
      'outside',
      `${relPath} is not a path inside its dataset folder ${root}; it is not read.`,
    );
  }
  const real = await realPathInside(root, lexical);
  if (real.kind === 'outside') {
    throw new ImageReadError(
      'outside',
      `${lexical} leads outside its dataset folder (it is a link to a file elsewhere); it is not read. Replace the link with the image itself.`,
    );
  }
  if (real.kind === 'missing') {
    throw new ImageReadError(
      'missing',
      existsSync(root)
        ? `${lexical} is missing (it does not exist any more). Restore the file, or re-import the dataset.`
        : `The dataset folder ${root} is no longer there. Was it moved? Put it back, or import it again from its new place.`,
    );
  }
  return real.path;
}

/** The real path of a library image, inside its dataset folder (see `realImagePath`). */
export const resolveStoredImage = (img: StoredImage): Promise<string> => realImagePath(img.root, img.relPath);

function fileProblem(path: string, err: FileReadError): ImageReadError {
  switch (err.reason) {
    case 'missing':
      return new ImageReadError('missing', `${path} is missing (it does not exist).`);
    case 'folder':
    case 'not-regular':
      return new ImageReadError('not-regular', `${path} ${err.message}; only image files are read.`);
    case 'too-large':
      return new ImageReadError('too-large', `${path} ${err.message}; it is not a person crop.`);
    case 'unreadable':
      return new ImageReadError(
        'unreadable',
        `${path} ${err.message}${err.code === 'EACCES' || err.code === 'EPERM' ? '; check its permissions' : ''}.`,
      );
  }
}

/**
 * The bytes of an image, read once: a regular file only, under the size cap. For a library image the
 * real path is checked to be inside its folder, and the bytes must still be the ones imported (size,
 * then sha256): a file replaced or edited since is refused rather than shown, embedded or sent as if it
 * were the image its captions and vectors describe. Hashing costs little next to the decode that follows.
 */
export async function readImage(source: ImageSource): Promise<ImageBytes> {
  const path = typeof source === 'string' ? source : await resolveStoredImage(source);
  let bytes: Buffer;
  try {
    ({ bytes } = await readRegularFile(path, MAX_IMAGE_BYTES));
  } catch (err) {
    if (err instanceof FileReadError) throw fileProblem(path, err);
    throw err;
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (typeof source !== 'string') {
    if ((source.bytes !== undefined && bytes.length !== source.bytes) || sha256 !== source.sha256) {
      throw new ImageReadError(
        'changed',
        `${path} changed on disk since it was imported (its bytes no longer match the recorded sha256), so its ` +
          'captions and vectors may not describe it. Restore the original file, or import the folder again as a new dataset.',
      );
    }
  }
  return { path, bytes, format: sniffImageFormat(bytes), sha256 };
}

function pixelCheck(width: number, height: number): void {
  if (width * height > MAX_PIXELS) {
    throw new ImageReadError(
      'undecodable',
      `is ${width}×${height} pixels, over the ${MAX_PIXELS / 1e6}-megapixel limit (a decompression bomb, or not a person crop)`,
    );
  }
}

/**
 * A sharp pipeline over the image, upright (EXIF orientation applied), with the app's limits. BMP goes
 * through our own decoder (libvips without ImageMagick cannot read it); everything else through sharp.
 */
export function imagePipeline(bytes: Buffer, format: ImageFormat | null = sniffImageFormat(bytes)): Sharp {
  if (format === 'bmp') {
    try {
      const header = readBmpHeader(bytes);
      pixelCheck(header.width, header.height);
      const { width, height, data } = decodeBmp(bytes, header);
      return sharp(data, { raw: { width, height, channels: 3 } });
    } catch (err) {
      if (err instanceof BmpError)
        throw new ImageReadError('undecodable', `does not decode: corrupt BMP (${err.message})`);
      throw err;
    }
  }
  // 'truncated' rather than the default 'warning': real datasets carry JPEGs with harmless warnings
  // (extraneous bytes before a marker) that every viewer shows; the import accepts them the same way.
  return sharp(bytes, { limitInputPixels: MAX_PIXELS, failOn: 'truncated', autoOrient: true });
}

/**
 * Decodes to upright 8-bit RGB (alpha dropped, greyscale and palettes expanded), in libvips' threads. An
 * ImageReadError's message here finishes a sentence about the image: "does not decode as jpeg (…)".
 */
export async function decodeImage(
  bytes: Buffer,
  format: ImageFormat | null = sniffImageFormat(bytes),
): Promise<RgbImage> {
  let out: { data: Buffer; info: OutputInfo };
  try {
    out = await imagePipeline(bytes, format)
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    if (err instanceof ImageReadError) throw err;
    throw new ImageReadError(
      'undecodable',
      `does not decode${format ? ` as ${format}` : ' (not an image format the app reads)'} (${firstLine(err)})`,
    );
  }
  if (out.info.channels !== 3)
    throw new ImageReadError('undecodable', `decodes to ${out.info.channels} channels, not 3`);
  return { data: out.data, width: out.info.width, height: out.info.height };
}

/** Reads and decodes one image: what the encoder's child process does for every image it embeds. */
export async function decodeImageSource(source: ImageSource): Promise<RgbImage> {
  const img = await readImage(source);
  try {
    return await decodeImage(img.bytes, img.format);
  } catch (err) {
    if (err instanceof ImageReadError && err.problem === 'undecodable')
      throw new ImageReadError('undecodable', `${img.path} ${err.message}; re-export it or leave it out.`);
    throw err;
  }
}
