// Windows bitmaps: CUHK-PEDES ships VIPeR crops as .bmp, and sharp (libvips without ImageMagick)
// cannot read them. This reads the uncompressed variants, which is what those datasets use.

export interface BmpHeader {
  width: number;
  height: number;
  bitsPerPixel: number;
  compression: number;
  dataOffset: number;
  headerSize: number;
  topDown: boolean;
}

export class BmpError extends Error {}

export const isBmp = (buf: Buffer): boolean => buf.length >= 2 && buf[0] === 0x42 && buf[1] === 0x4d;

/** Reads the header only: cheap, and enough to refuse a decompression bomb before decoding. */
export function readBmpHeader(buf: Buffer): BmpHeader {
  if (buf.length < 26 || !isBmp(buf)) throw new BmpError('not a BMP file (header too short)');
  const dataOffset = buf.readUInt32LE(10);
  const headerSize = buf.readUInt32LE(14);
  if (headerSize === 12) {
    return {
      width: buf.readUInt16LE(18),
      height: buf.readUInt16LE(20),
      bitsPerPixel: buf.readUInt16LE(24),
      compression: 0,
      dataOffset,
      headerSize,
      topDown: false,
    };
  }
  if (headerSize < 40 || buf.length < 14 + 40) throw new BmpError(`unknown BMP header (size ${headerSize})`);
  const height = buf.readInt32LE(22);
  return {
    width: buf.readInt32LE(18),
    height: Math.abs(height),
    bitsPerPixel: buf.readUInt16LE(28),
    compression: buf.readUInt32LE(30),
    dataOffset,
    headerSize,
    topDown: height < 0,
  };
}

/** Decodes an uncompressed 1/4/8/24/32-bit BMP to packed RGB; throws BmpError on truncation. */
export function decodeBmp(
  buf: Buffer,
  header = readBmpHeader(buf),
): { width: number; height: number; data: Buffer } {
  const { width, height, bitsPerPixel: bpp, compression, dataOffset } = header;
  if (width <= 0 || height <= 0) throw new BmpError(`invalid size ${width}×${height}`);
  // BI_RGB, or BI_BITFIELDS for 32-bit with the usual BGRA masks.
  if (!(compression === 0 || (compression === 3 && bpp === 32)) || ![1, 4, 8, 24, 32].includes(bpp)) {
    throw new BmpError(
      `unsupported BMP variant (${bpp} bits, compression ${compression}); convert it to PNG`,
    );
  }
  const stride = Math.floor((bpp * width + 31) / 32) * 4;
  if (buf.length < dataOffset + stride * height) {
    throw new BmpError(
      `truncated: ${buf.length} bytes, the pixel data needs ${dataOffset + stride * height}`,
    );
  }
  const paletteAt = 14 + header.headerSize;
  const entry = header.headerSize === 12 ? 3 : 4;
  const out = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = dataOffset + stride * (header.topDown ? y : height - 1 - y);
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      if (bpp >= 24) {
        const p = row + x * (bpp / 8);
        out[o] = buf[p + 2] ?? 0;
        out[o + 1] = buf[p + 1] ?? 0;
        out[o + 2] = buf[p] ?? 0;
      } else {
        const bit = x * bpp;
        const byte = buf[row + (bit >> 3)] ?? 0;
        const index = (byte >> (8 - bpp - (bit & 7))) & ((1 << bpp) - 1);
        const p = paletteAt + index * entry;
        if (p + 2 >= dataOffset) throw new BmpError(`palette index ${index} out of range`);
        out[o] = buf[p + 2] ?? 0;
        out[o + 1] = buf[p + 1] ?? 0;
        out[o + 2] = buf[p] ?? 0;
      }
    }
  }
  return { width, height, data: out };
}
