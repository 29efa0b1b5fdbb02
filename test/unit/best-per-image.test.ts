// Images ranked by their best row (src/main/vectors/types.ts), the rule every vector store follows now that an
// image may hold several rows (a footage crop's views): the first k distinct images of a backend's top rows,
// and asking the backend again for more rows while the rows it gave repeat images.
import { describe, expect, it } from 'vitest';
import { bestPerImage, topImages, type VectorHit } from '../../src/main/vectors/types';

/** Rows of `images` images, `perImage` each, with scores spread so that an image's rows are not adjacent. */
function rowsOf(images: number, perImage: number): VectorHit[] {
  const rows: VectorHit[] = [];
  for (let id = 1; id <= images; id++)
    for (let v = 0; v < perImage; v++) rows.push({ imageId: id, score: 1 - ((id * 7 + v * 13) % 97) / 97 });
  return rows.sort((a, b) => b.score - a.score || a.imageId - b.imageId);
}

/** Brute force: each image at its best score, best first, ties by image id. */
function reference(rows: VectorHit[], k: number): VectorHit[] {
  const best = new Map<number, number>();
  for (const r of rows) best.set(r.imageId, Math.max(best.get(r.imageId) ?? -Infinity, r.score));
  return [...best]
    .map(([imageId, score]) => ({ imageId, score }))
    .sort((a, b) => b.score - a.score || a.imageId - b.imageId)
    .slice(0, k);
}

describe('images ranked by their best row', () => {
  it('keeps the first k distinct images of ranked rows, each at its best score', () => {
    const rows = rowsOf(40, 3);
    for (const k of [1, 5, 17, 40, 60]) expect(bestPerImage(rows, k)).toEqual(reference(rows, k));
  });

  it('asks the backend again for more rows while the rows it gave hold fewer than k images', async () => {
    const rows = rowsOf(40, 3);
    const asked: number[] = [];
    const top = (m: number): Promise<VectorHit[]> => {
      asked.push(m);
      return Promise.resolve(rows.slice(0, m));
    };
    expect(await topImages(20, top)).toEqual(reference(rows, 20));
    expect(asked[0]).toBe(20);
    expect(asked.length).toBeGreaterThan(1); // 20 rows of 3-row images hold fewer than 20 images
    expect(asked.every((m, i) => i === 0 || m === asked[i - 1]! * 3)).toBe(true);
  });

  it('asks once when the store knows an image holds at most r rows (k × r rows)', async () => {
    const rows = rowsOf(40, 3);
    const asked: number[] = [];
    const top = (m: number): Promise<VectorHit[]> => {
      asked.push(m);
      return Promise.resolve(rows.slice(0, m));
    };
    expect(await topImages(10, top, 30)).toEqual(reference(rows, 10));
    expect(asked).toEqual([30]);
  });

  it('stops when the backend has no more rows, with the images there are', async () => {
    const rows = rowsOf(4, 3);
    let calls = 0;
    const top = (m: number): Promise<VectorHit[]> => {
      calls++;
      return Promise.resolve(rows.slice(0, m));
    };
    expect(await topImages(10, top)).toEqual(reference(rows, 10));
    expect(calls).toBe(2); // 10 rows asked and given (4 images), then 30 asked and the 12 there are given
  });
});
