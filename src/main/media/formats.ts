// The one table of image formats: what the bytes are (never the file name), their MIME type, and which
// of them a browser shows and an MLLM server takes as they are.

export const IMAGE_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'bmp', 'tiff', 'avif', 'heic'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

export const IMAGE_MIME: Record<ImageFormat, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  bmp: 'image/bmp',
  tiff: 'image/tiff',
  avif: 'image/avif',
  heic: 'image/heic',
};

/** Formats every current browser displays; the others are served converted to PNG. */
export const BROWSER_FORMATS: ReadonlySet<ImageFormat> = new Set([
  'jpeg',
  'png',
  'webp',
  'gif',
  'bmp',
  'avif',
]);

/**
 * Formats OpenAI-compatible servers take in a data URL (OpenAI: PNG, JPEG, WebP, non-animated GIF;
 * vLLM and llama.cpp decode the same with PIL/stb). Anything else is re-encoded to PNG before it is sent.
 */
export const MLLM_FORMATS: ReadonlySet<ImageFormat> = new Set(['jpeg', 'png', 'webp', 'gif']);

const HEIF_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1']);
const AVIF_BRANDS = new Set(['avif', 'avis']);

/** The format by its magic bytes; null when the bytes are none of the formats above. */
export function sniffImageFormat(buf: Uint8Array): ImageFormat | null {
  if (buf.length < 12) return buf.length >= 2 && buf[0] === 0x42 && buf[1] === 0x4d ? 'bmp' : null;
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.readUInt32BE(0) === 0x89504e47) return 'png';
  const head = b.toString('latin1', 0, 4);
  if (head === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  if (head === 'GIF8') return 'gif';
  if (head === 'II*\0' || head === 'MM\0*') return 'tiff';
  if (b[0] === 0x42 && b[1] === 0x4d) return 'bmp';
  if (b.toString('latin1', 4, 8) === 'ftyp') {
    const brand = b.toString('latin1', 8, 12);
    if (AVIF_BRANDS.has(brand)) return 'avif';
    if (HEIF_BRANDS.has(brand)) return 'heic';
  }
  return null;
}

/** The MIME type for bytes of this format; unknown bytes are `application/octet-stream`, never guessed. */
export const mimeOf = (format: ImageFormat | null): string =>
  format === null ? 'application/octet-stream' : IMAGE_MIME[format];
