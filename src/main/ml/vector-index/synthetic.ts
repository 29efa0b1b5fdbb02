// CLIP-like synthetic embeddings for the search benchmark and tests. Uniform noise would flatter any
// index (every point equally far from every other); real CLIP galleries are not like that:
// - all image embeddings share a large common direction (unrelated crops still have cosine ≈ 0.4);
// - images cluster by identity (several views of one person), and identities share attributes
//   ("red coat", "backpack") that pull different people together;
// - variance is spread unevenly over dimensions;
// - text embeddings live in their own cone (the modality gap): a query is a noisy description of an
//   identity's attributes plus a text-only offset, with cosines to its matches around 0.3.
// Everything is drawn from a seeded PRNG, so a benchmark run is repeatable.

/** mulberry32: small, fast, good enough for test data. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draws (Box–Muller, both values used). */
export function seededGaussian(seed: number): () => number {
  const rand = seededRandom(seed);
  let spare = NaN;
  return () => {
    if (!Number.isNaN(spare)) {
      const s = spare;
      spare = NaN;
      return s;
    }
    const u = 1 - rand();
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

export function normalizeInPlace(v: Float32Array, offset = 0, dim = v.length - offset): void {
  let s = 0;
  for (let j = 0; j < dim; j++) s += (v[offset + j] as number) ** 2;
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let j = 0; j < dim; j++) v[offset + j] = (v[offset + j] as number) * inv;
}

export interface ClipLikeOptions {
  size: number;
  dim: number;
  /** Distinct people; images are spread over them at random. */
  identities: number;
  seed: number;
  /** Shared attribute directions, each identity has `attributesPerIdentity` of them. */
  attributes?: number;
  attributesPerIdentity?: number;
}

export interface ClipLikeQueries {
  /** `count` text-like queries, each describing a random identity (returned in `identities`). */
  queries(count: number, seed: number): { vectors: Float32Array; identities: Int32Array };
}

export interface ClipLikeGallery extends ClipLikeQueries {
  dim: number;
  size: number;
  vectors: Float32Array;
  identityOf: Int32Array;
}

/** One slice of a streamed gallery: images `start` … `start + identityOf.length − 1`. */
export interface ClipLikeChunk {
  start: number;
  vectors: Float32Array;
  identityOf: Int32Array;
}

/**
 * The same gallery as `clipLikeGallery`, vector for vector, made `chunk` images at a time, so a gallery
 * larger than memory (10M × 512 floats is 20 GB) can be written to a store and scored as it goes.
 */
export interface ClipLikeStream extends ClipLikeQueries {
  chunks(chunk: number): Generator<ClipLikeChunk>;
}

// Weights chosen so that, at 512-d: image–image cosine ≈ 0.89 within an identity and ≈ 0.5 across;
// text–image ≈ 0.39 for the described identity and ≈ 0.16 otherwise; and about 80% of a query's
// exact top 10 are images of the described identity (the rest share its attributes).
const IMAGE_NOISE = 0.5;
const TEXT_OFFSET = 1.2;
const TEXT_OWN = 0.3;
const TEXT_NOISE = 1.2;

export function clipLikeStream(opts: ClipLikeOptions): ClipLikeStream {
  const { size, dim, identities, seed } = opts;
  const nAttr = opts.attributes ?? 24;
  const perId = Math.min(opts.attributesPerIdentity ?? 6, nAttr);
  const gauss = seededGaussian(seed);
  const rand = seededRandom(seed ^ 0x9e3779b9);

  // Uneven spectrum over dimensions (a shuffled 1/sqrt decay), mean energy 1 per unit vector.
  const scale = new Float32Array(dim);
  let energy = 0;
  for (let j = 0; j < dim; j++) {
    scale[j] = 1 / Math.sqrt(1 + j / 24);
    energy += (scale[j] as number) ** 2;
  }
  for (let j = 0; j < dim; j++) scale[j] = (scale[j] as number) * Math.sqrt(dim / energy);
  for (let j = dim - 1; j > 0; j--) {
    const k = Math.floor(rand() * (j + 1));
    const t = scale[j] as number;
    scale[j] = scale[k] as number;
    scale[k] = t;
  }
  const shaped = (out: Float32Array, offset: number, weight: number): void => {
    const sd = weight / Math.sqrt(dim);
    for (let j = 0; j < dim; j++)
      out[offset + j] = (out[offset + j] as number) + gauss() * (scale[j] as number) * sd;
  };
  const unit = (): Float32Array => {
    const v = new Float32Array(dim);
    for (let j = 0; j < dim; j++) v[j] = gauss();
    normalizeInPlace(v);
    return v;
  };

  const imageMean = unit();
  const textOffset = unit();
  for (let j = 0; j < dim; j++) textOffset[j] = 0.3 * (imageMean[j] as number) + (textOffset[j] as number);
  normalizeInPlace(textOffset);

  const attrs = new Float32Array(nAttr * dim);
  for (let a = 0; a < nAttr; a++) shaped(attrs, a * dim, 1);
  // An identity's look: the attributes it has (shared with others), and something only it has.
  const shared = new Float32Array(identities * dim);
  const own = new Float32Array(identities * dim);
  for (let p = 0; p < identities; p++) {
    const o = p * dim;
    for (let t = 0; t < perId; t++) {
      const a = Math.floor(rand() * nAttr) * dim;
      for (let j = 0; j < dim; j++)
        shared[o + j] = (shared[o + j] as number) + (attrs[a + j] as number) * (0.8 / Math.sqrt(perId));
    }
    shaped(own, o, 0.5);
  }

  // Per-image and per-query noise is the bulk of the work (N × D draws): cheap uniform draws with
  // variance 1 serve, as only their sum over many dimensions matters.
  const noise = (out: Float32Array, offset: number, weight: number, r: () => number): void => {
    const sd = (weight * Math.sqrt(3)) / Math.sqrt(dim);
    for (let j = 0; j < dim; j++)
      out[offset + j] = (out[offset + j] as number) + (2 * r() - 1) * (scale[j] as number) * sd;
  };

  function* chunks(chunk: number): Generator<ClipLikeChunk> {
    for (let start = 0; start < size; start += chunk) {
      const n = Math.min(chunk, size - start);
      const vectors = new Float32Array(n * dim);
      const identityOf = new Int32Array(n);
      for (let i = 0, o = 0; i < n; i++, o += dim) {
        const p = Math.floor(rand() * identities);
        identityOf[i] = p;
        const l = p * dim;
        for (let j = 0; j < dim; j++)
          vectors[o + j] = (imageMean[j] as number) + (shared[l + j] as number) + (own[l + j] as number);
        noise(vectors, o, IMAGE_NOISE, rand); // pose, camera, background
        normalizeInPlace(vectors, o, dim);
      }
      yield { start, vectors, identityOf };
    }
  }

  return {
    chunks,
    queries(count, qseed) {
      const qr = seededRandom(qseed);
      const out = new Float32Array(count * dim);
      const ids = new Int32Array(count);
      for (let q = 0, o = 0; q < count; q++, o += dim) {
        const p = Math.floor(qr() * identities);
        ids[q] = p;
        const l = p * dim;
        // Text names the attributes well and the person's own look only faintly.
        for (let j = 0; j < dim; j++)
          out[o + j] =
            TEXT_OFFSET * (textOffset[j] as number) +
            (shared[l + j] as number) +
            TEXT_OWN * (own[l + j] as number);
        noise(out, o, TEXT_NOISE, qr);
        normalizeInPlace(out, o, dim);
      }
      return { vectors: out, identities: ids };
    },
  };
}

/** A whole synthetic gallery in memory (the stream's one chunk). */
export function clipLikeGallery(opts: ClipLikeOptions): ClipLikeGallery {
  const stream = clipLikeStream(opts);
  const whole = opts.size > 0 ? stream.chunks(opts.size).next().value : undefined;
  return {
    dim: opts.dim,
    size: opts.size,
    vectors: whole?.vectors ?? new Float32Array(0),
    identityOf: whole?.identityOf ?? new Int32Array(0),
    queries: stream.queries,
  };
}
