import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  CLIP_MEAN,
  CLIP_SPEC,
  CLIP_STD,
  IRRA_SPEC,
  preprocessBatch,
  resampleRgb,
  shorterSideSize,
  type RgbImage,
} from '../../src/main/ml/preprocess';

const png = (w: number, h: number, rgb: [number, number, number]): Promise<Buffer> =>
  sharp({ create: { width: w, height: h, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .png()
    .toBuffer();

/** Left half one colour, right half another (or top/bottom), as encoded PNG. */
async function split(
  w: number,
  h: number,
  a: [number, number, number],
  b: [number, number, number],
  vertical: boolean,
) {
  const data = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const c = (vertical ? x < w / 2 : y < h / 2) ? a : b;
      data.set(c, (y * w + x) * 3);
    }
  return sharp(data, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toBuffer();
}

const norm = (v: number, c: 0 | 1 | 2): number => (v / 255 - CLIP_MEAN[c]) / CLIP_STD[c];

/** Value at channel c, row y, column x of image i in an NCHW batch. */
const at = (
  px: Float32Array,
  hw: readonly [number, number],
  i: number,
  c: number,
  y: number,
  x: number,
): number => px[((i * 3 + c) * hw[0] + y) * hw[1] + x]!;

describe('preprocessing', () => {
  it('batches IRRA images into [N, 3, 384, 128] with CLIP mean/std applied to a solid colour', async () => {
    const batch = await preprocessBatch(
      [await png(60, 170, [255, 0, 128]), await png(300, 90, [0, 255, 0])],
      IRRA_SPEC,
    );
    expect(batch.errors).toEqual([null, null]);
    expect(batch.pixels.length).toBe(2 * 3 * 384 * 128);
    for (const [y, x] of [
      [0, 0],
      [200, 64],
      [383, 127],
    ] as const) {
      expect(at(batch.pixels, [384, 128], 0, 0, y, x)).toBeCloseTo(norm(255, 0), 5);
      expect(at(batch.pixels, [384, 128], 0, 1, y, x)).toBeCloseTo(norm(0, 1), 5);
      expect(at(batch.pixels, [384, 128], 0, 2, y, x)).toBeCloseTo(norm(128, 2), 5);
      expect(at(batch.pixels, [384, 128], 1, 1, y, x)).toBeCloseTo(norm(255, 1), 5);
    }
    expect(norm(255, 0)).toBeCloseTo(1.9303, 3);
  });

  it('IRRA stretches to 384×128 without cropping: a wide image keeps both halves', async () => {
    const img = await split(400, 100, [255, 0, 0], [0, 0, 255], true);
    const { pixels } = await preprocessBatch([img], IRRA_SPEC);
    expect(at(pixels, [384, 128], 0, 0, 190, 2)).toBeCloseTo(norm(255, 0), 5);
    expect(at(pixels, [384, 128], 0, 2, 190, 125)).toBeCloseTo(norm(255, 2), 5);
  });

  it('stock CLIP keeps the aspect and centre-crops: the borders of a wide image fall away', async () => {
    // 672×224: blue, red in the middle third, blue — after resize (already 224 high) the crop is the red third.
    const w = 672;
    const data = Buffer.alloc(w * 224 * 3);
    for (let y = 0; y < 224; y++)
      for (let x = 0; x < w; x++) data.set(x >= 224 && x < 448 ? [255, 0, 0] : [0, 0, 255], (y * w + x) * 3);
    const img = await sharp(data, { raw: { width: w, height: 224, channels: 3 } })
      .png()
      .toBuffer();
    const { pixels } = await preprocessBatch([img], CLIP_SPEC);
    expect(pixels.length).toBe(3 * 224 * 224);
    for (const x of [0, 112, 223]) expect(at(pixels, [224, 224], 0, 0, 100, x)).toBeCloseTo(norm(255, 0), 5);
  });

  it('stock CLIP scales the shorter side to 224 and truncates the longer one as torchvision does', () => {
    expect(shorterSideSize(100, 300, 224)).toEqual({ width: 224, height: 672 });
    expect(shorterSideSize(333, 211, 224)).toEqual({ width: 353, height: 224 });
  });

  it('resamples exactly as Pillow does (values from PIL 9.4 Image.resize)', () => {
    const img: RgbImage = {
      width: 5,
      height: 1,
      data: Uint8Array.from([0, 10, 255, 50, 10, 0, 100, 10, 255, 200, 10, 0, 255, 10, 255]),
    };
    expect([...resampleRgb(img, 3, 1, 'bilinear').data]).toEqual([21, 10, 146, 111, 10, 142, 231, 10, 146]);
    expect([...resampleRgb(img, 3, 1, 'bicubic').data]).toEqual([16, 10, 149, 110, 10, 129, 237, 10, 149]);
    expect([...resampleRgb(img, 8, 1, 'bilinear').data]).toEqual([
      0, 10, 255, 22, 10, 143, 53, 10, 16, 84, 10, 175, 131, 10, 175, 194, 10, 16, 231, 10, 143, 255, 10, 255,
    ]);
    const up = resampleRgb(img, 8, 2, 'bicubic');
    expect([...up.data.subarray(0, 24)]).toEqual([
      0, 10, 255, 17, 10, 141, 53, 10, 3, 81, 10, 196, 129, 10, 196, 195, 10, 3, 238, 10, 141, 255, 10, 255,
    ]);
    expect([...up.data.subarray(24)]).toEqual([...up.data.subarray(0, 24)]);
  });

  it('expands greyscale and drops alpha', async () => {
    const grey = await sharp({ create: { width: 20, height: 20, channels: 3, background: '#808080' } })
      .greyscale()
      .png()
      .toBuffer();
    const rgba = await sharp({
      create: { width: 20, height: 20, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 0.2 } },
    })
      .png()
      .toBuffer();
    const { pixels, errors } = await preprocessBatch([grey, rgba], IRRA_SPEC);
    expect(errors).toEqual([null, null]);
    expect(at(pixels, [384, 128], 0, 1, 10, 10)).toBeCloseTo(norm(128, 1), 5);
    expect(at(pixels, [384, 128], 1, 2, 10, 10)).toBeCloseTo(norm(255, 2), 5);
  });

  it('reports an unreadable image at its index and still preprocesses the rest', async () => {
    const { pixels, errors } = await preprocessBatch(
      [Buffer.from('not an image'), await png(10, 30, [0, 0, 0]), '/nonexistent/x.png'],
      IRRA_SPEC,
    );
    expect(errors[0]).toMatch(/unsupported image format|Input buffer/i);
    expect(errors[1]).toBeNull();
    expect(errors[2]).toMatch(/missing|no such file|not exist/i);
    expect(at(pixels, [384, 128], 1, 0, 0, 0)).toBeCloseTo(norm(0, 0), 5);
  });
});
