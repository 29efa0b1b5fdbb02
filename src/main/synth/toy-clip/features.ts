// The toy CLIP's shared feature space. Both towers end in the same 69 interpretable features before one
// common projection, so the dot product of an image and a text embedding counts what they agree on:
//   (region, colour) pairs  6 regions × 11 palette colours = 66   "the top region is red" / "red shirt"
//   bag types               backpack, shoulder bag, handbag  =  3  "a backpack" / probes show a backpack
// The projection to D dimensions is a fixed random matrix with orthonormal rows, so it changes the look of
// the vectors (dense, like a real CLIP's) but not their dot products.
import { COLOUR_NAMES, type ColourName } from '../../pipelines/attributes';
import { REGION_NAMES, type RegionName } from '../layout';
import { createRng, deriveSeed } from '../../rng';

export const TOY_COLOURS: readonly ColourName[] = COLOUR_NAMES;
export const TOY_REGIONS: readonly RegionName[] = REGION_NAMES;
/** The bag types the image tower can tell apart by its probes (layout.BAG_PROBES), in feature order. */
export const TOY_BAG_TYPES = ['backpack', 'shoulder bag', 'handbag'] as const;
export type ToyBagType = (typeof TOY_BAG_TYPES)[number];

export const PAIR_FEATURES = TOY_REGIONS.length * TOY_COLOURS.length;
export const FEATURES = PAIR_FEATURES + TOY_BAG_TYPES.length;
/** Embedding width; 256 keeps the folder small while looking like a real tower's output. */
export const TOY_EMBEDDING_DIM = 256;

export const pairIndex = (region: RegionName, colour: ColourName): number =>
  TOY_REGIONS.indexOf(region) * TOY_COLOURS.length + TOY_COLOURS.indexOf(colour);
export const bagTypeIndex = (type: ToyBagType): number => PAIR_FEATURES + TOY_BAG_TYPES.indexOf(type);

/** Human-readable name of feature i ("top:red", "bag-type:backpack"), for tests and debugging. */
export function featureName(i: number): string {
  if (i >= PAIR_FEATURES) return `bag-type:${TOY_BAG_TYPES[i - PAIR_FEATURES]}`;
  return `${TOY_REGIONS[Math.floor(i / TOY_COLOURS.length)]}:${TOY_COLOURS[i % TOY_COLOURS.length]}`;
}

/**
 * FEATURES × dim, row-major, rows orthonormal (Gram–Schmidt over uniform noise from a fixed seed). Only
 * + − × ÷ and sqrt are used, which IEEE 754 fixes exactly, so the bytes are the same on every machine.
 */
export function projectionMatrix(dim: number = TOY_EMBEDDING_DIM): Float32Array {
  if (dim < FEATURES)
    throw new RangeError(`The toy CLIP needs at least ${FEATURES} embedding dimensions, got ${dim}.`);
  const rng = createRng(deriveSeed('toy-clip', 'projection', dim));
  const rows: Float64Array[] = [];
  for (let i = 0; i < FEATURES; i++) {
    const v = Float64Array.from({ length: dim }, () => rng.range(-1, 1));
    for (const u of rows) {
      let dot = 0;
      for (let k = 0; k < dim; k++) dot += v[k]! * u[k]!;
      for (let k = 0; k < dim; k++) v[k]! -= dot * u[k]!;
    }
    let norm = 0;
    for (let k = 0; k < dim; k++) norm += v[k]! * v[k]!;
    norm = Math.sqrt(norm);
    for (let k = 0; k < dim; k++) v[k]! /= norm;
    rows.push(v);
  }
  const out = new Float32Array(FEATURES * dim);
  rows.forEach((r, i) => out.set(r, i * dim));
  return out;
}
