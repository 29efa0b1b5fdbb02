// The first-pass kernel of the fast path, kept free of imports and outer references: the helper
// thread (parallel.ts) runs these very functions from their source text, so both threads compute
// bit-identical partial scores and a split scan ranks exactly like a single-thread one.

/** Sum of the four byte-table entries a 32-bit code word selects (tables at t, t+256, t+512, t+768). */
export function look(table: Float32Array, t: number, x: number): number {
  return (
    (table[t + (x & 255)] as number) +
    (table[t + 256 + ((x >>> 8) & 255)] as number) +
    (table[t + 512 + ((x >>> 16) & 255)] as number) +
    (table[t + 768 + (x >>> 24)] as number)
  );
}

/**
 * Partial asymmetric scores of codes [from, to): for each vector, the table sums of the `m` picked
 * words (`at`, tables packed 1024 per word in `sub`). Masked-out positions score −Infinity. `mask`
 * is indexed from `maskBase` (the helper thread gets only its slice). Writes [lo, hi] of the finite
 * scores to `range`.
 */
export function partialScores(
  bits: Uint32Array,
  words: number,
  sub: Float32Array,
  at: Int32Array,
  m: number,
  mask: Uint8Array | null,
  maskBase: number,
  scores: Float32Array,
  from: number,
  to: number,
  range: Float64Array,
): void {
  let lo = Infinity;
  let hi = -Infinity;
  if (m === 8) {
    // Unrolled for the default (8 of 16 words): V8 runs this about 2–3× faster than the loop below.
    const a0 = at[0] as number;
    const a1 = at[1] as number;
    const a2 = at[2] as number;
    const a3 = at[3] as number;
    const a4 = at[4] as number;
    const a5 = at[5] as number;
    const a6 = at[6] as number;
    const a7 = at[7] as number;
    for (let i = from, o = from * words; i < to; i++, o += words) {
      if (mask !== null && mask[i - maskBase] === 0) {
        scores[i] = -Infinity;
        continue;
      }
      const s =
        look(sub, 0, bits[o + a0] as number) +
        look(sub, 1024, bits[o + a1] as number) +
        look(sub, 2048, bits[o + a2] as number) +
        look(sub, 3072, bits[o + a3] as number) +
        look(sub, 4096, bits[o + a4] as number) +
        look(sub, 5120, bits[o + a5] as number) +
        look(sub, 6144, bits[o + a6] as number) +
        look(sub, 7168, bits[o + a7] as number);
      scores[i] = s;
      if (s < lo) lo = s;
      if (s > hi) hi = s;
    }
  } else {
    for (let i = from, o = from * words; i < to; i++, o += words) {
      if (mask !== null && mask[i - maskBase] === 0) {
        scores[i] = -Infinity;
        continue;
      }
      let s = 0;
      for (let p = 0, t = 0; p < m; p++, t += 1024) s += look(sub, t, bits[o + (at[p] as number)] as number);
      scores[i] = s;
      if (s < lo) lo = s;
      if (s > hi) hi = s;
    }
  }
  range[0] = lo;
  range[1] = hi;
}
