// The toy CLIP text tower: reads colour and garment words and binds each colour to the garment named
// right after it, so that "a red shirt and blue jeans" means (top, red) + (bottom, blue) and never
// (bottom, red).
//
//   input_ids [B,77] int64
//   → token channels [B,77,20]: 11 colours, 6 regions, 3 bag types (Gather through a token → slot table)
//   + a positional table [77,20] at a small scale (smooth, ≤ POSITION_SCALE): used, so PES has something
//     to stretch and stretching shows, but too small to flip any decision
//   → a width-2 convolution over the sequence: channel (region r, colour c) = colour c here + region r
//     at the next token − 1.1, so only the pair clears the threshold (a lone word gives ≤ −0.06)
//   → ReLU, max over the sequence → the 69 features of features.ts → the shared projection → text_embeds
import { encodeModel, graph, model, valueInfo } from '../../ml/onnx';
import { clipTokenizer, DEFAULT_CONTEXT, type ClipTokenizer } from '../../ml/tokenizer';
import { COLOUR_NAMES, type ColourName } from '../../pipelines/attributes';
import { GARMENT_REGION, type RegionName } from '../layout';
import {
  FEATURES,
  PAIR_FEATURES,
  projectionMatrix,
  TOY_BAG_TYPES,
  TOY_COLOURS,
  TOY_EMBEDDING_DIM,
  TOY_REGIONS,
  type ToyBagType,
} from './features';
import { GraphWriter } from './graph';

/** Largest absolute value in the positional table. */
export const POSITION_SCALE = 0.02;
/** Conv bias of a (region, colour) channel: a pair gives ≈ 0.9, a lone word ≈ −0.1. */
const PAIR_BIAS = -1.1;
/** Conv bias of a bag-type channel: the word alone gives ≈ 0.9. */
const TYPE_BIAS = -0.1;
const CLIP_VOCAB_SIZE = 49408;

/** Token channels: colours, then regions, then bag types. */
const COLOUR_CH = 0;
const REGION_CH = COLOUR_CH + TOY_COLOURS.length;
const TYPE_CH = REGION_CH + TOY_REGIONS.length;
export const TOKEN_CHANNELS = TYPE_CH + TOY_BAG_TYPES.length;

/** Words beyond the world's own vocabulary that people type for the same things. */
const COLOUR_SYNONYMS: Record<string, ColourName> = { gray: 'grey' };
const REGION_SYNONYMS: Record<string, RegionName> = {
  top: 'top',
  tshirt: 'top',
  coat: 'top',
  blouse: 'top',
  pants: 'bottom',
  sneakers: 'shoes',
  boots: 'shoes',
  hat: 'hat',
  // The first word of "shoulder bag": the colour before it must bind to the bag.
  shoulder: 'bag',
  purse: 'bag',
};
const BAG_TYPE_WORDS: Record<string, ToyBagType> = {
  backpack: 'backpack',
  shoulder: 'shoulder bag',
  handbag: 'handbag',
  purse: 'handbag',
};

export interface TokenMeaning {
  colours: ColourName[];
  regions: RegionName[];
  bagTypes: ToyBagType[];
}

/**
 * What each meaningful token id stands for. A word of several tokens marks its first token (the one
 * right after a colour: "red t-shirt" is red, t, -, shirt) and its last.
 */
export function tokenMeanings(tok: ClipTokenizer = clipTokenizer()): Map<number, TokenMeaning> {
  const out = new Map<number, TokenMeaning>();
  const mark = (word: string, add: (m: TokenMeaning) => void): void => {
    const ids = tok.encodeText(word);
    for (const id of new Set([ids[0]!, ids.at(-1)!])) {
      let m = out.get(id);
      if (!m) out.set(id, (m = { colours: [], regions: [], bagTypes: [] }));
      add(m);
    }
  };
  const addUnique = <T>(list: T[], v: T): void => {
    if (!list.includes(v)) list.push(v);
  };
  for (const c of COLOUR_NAMES) mark(c, (m) => addUnique(m.colours, c));
  for (const [w, c] of Object.entries(COLOUR_SYNONYMS)) mark(w, (m) => addUnique(m.colours, c));
  for (const [w, r] of [...Object.entries(GARMENT_REGION), ...Object.entries(REGION_SYNONYMS)]) {
    mark(w, (m) => addUnique(m.regions, r as RegionName));
  }
  for (const [w, t] of Object.entries(BAG_TYPE_WORDS)) mark(w, (m) => addUnique(m.bagTypes, t));
  return out;
}

/** Smooth, distinct per channel, |value| ≤ POSITION_SCALE. */
export function positionalTable(rows: number = DEFAULT_CONTEXT): Float32Array {
  const t = new Float32Array(rows * TOKEN_CHANNELS);
  for (let p = 0; p < rows; p++) {
    for (let ch = 0; ch < TOKEN_CHANNELS; ch++) {
      // A triangle wave (no transcendental functions, so the bytes are the same everywhere).
      const phase = (p * (ch + 3)) / 97 + ch / TOKEN_CHANNELS;
      const frac = phase - Math.floor(phase);
      t[p * TOKEN_CHANNELS + ch] = POSITION_SCALE * (4 * Math.abs(frac - 0.5) - 1);
    }
  }
  return t;
}

export interface ToyTextOptions {
  embeddingDim?: number;
  tokenizer?: ClipTokenizer;
}

/** The text tower's ONNX bytes; the same options always give the same bytes. */
export function buildToyTextModel(opts: ToyTextOptions = {}): Uint8Array {
  const D = opts.embeddingDim ?? TOY_EMBEDDING_DIM;
  const L = DEFAULT_CONTEXT;
  const meanings = [...tokenMeanings(opts.tokenizer).entries()].sort((a, b) => a[0] - b[0]);
  const g = new GraphWriter();

  // Slot 0 means nothing; slot i + 1 is the i-th meaningful token.
  const slotOf = new Int32Array(CLIP_VOCAB_SIZE);
  const slotChannels = new Float32Array((meanings.length + 1) * TOKEN_CHANNELS);
  meanings.forEach(([id, m], i) => {
    slotOf[id] = i + 1;
    const row = (i + 1) * TOKEN_CHANNELS;
    for (const c of m.colours) slotChannels[row + COLOUR_CH + TOY_COLOURS.indexOf(c)] = 1;
    for (const r of m.regions) slotChannels[row + REGION_CH + TOY_REGIONS.indexOf(r)] = 1;
    for (const t of m.bagTypes) slotChannels[row + TYPE_CH + TOY_BAG_TYPES.indexOf(t)] = 1;
  });
  g.constant('token_slot', slotOf, [CLIP_VOCAB_SIZE]);
  g.floats('slot_channels', slotChannels, [meanings.length + 1, TOKEN_CHANNELS]);
  g.op('Gather', ['token_slot', 'input_ids'], 'slots'); // [B,L] int32
  g.op('Gather', ['slot_channels', 'slots'], 'token_channels'); // [B,L,CH]

  // Shaped and named as in a CLIP export, so pes.ts finds and stretches it.
  g.floats('text_model.embeddings.position_embedding.weight', positionalTable(L), [L, TOKEN_CHANNELS]);
  g.ints(
    'text_model.embeddings.position_ids',
    Array.from({ length: L }, (_, i) => i),
    [1, L],
  );
  g.op(
    'Gather',
    ['text_model.embeddings.position_embedding.weight', 'text_model.embeddings.position_ids'],
    'position_channels',
  ); // [1,L,CH]
  g.op('Add', ['token_channels', 'position_channels'], 'channels');
  g.op('Transpose', ['channels'], 'channels_by_time', { perm: [0, 2, 1] }); // [B,CH,L]

  // Kernel [out, CH, 2]: tap 0 is this token, tap 1 the next one.
  const kernel = new Float32Array(FEATURES * TOKEN_CHANNELS * 2);
  const bias = new Float32Array(FEATURES);
  const at = (out: number, ch: number, tap: number): number => (out * TOKEN_CHANNELS + ch) * 2 + tap;
  for (let r = 0; r < TOY_REGIONS.length; r++) {
    for (let c = 0; c < TOY_COLOURS.length; c++) {
      const out = r * TOY_COLOURS.length + c;
      kernel[at(out, COLOUR_CH + c, 0)] = 1;
      kernel[at(out, REGION_CH + r, 1)] = 1;
      bias[out] = PAIR_BIAS;
    }
  }
  for (let t = 0; t < TOY_BAG_TYPES.length; t++) {
    kernel[at(PAIR_FEATURES + t, TYPE_CH + t, 0)] = 1;
    bias[PAIR_FEATURES + t] = TYPE_BIAS;
  }
  g.floats('binding_kernel', kernel, [FEATURES, TOKEN_CHANNELS, 2]);
  g.floats('binding_bias', bias, [FEATURES]);
  g.op('Conv', ['channels_by_time', 'binding_kernel', 'binding_bias'], 'binding', {
    kernel_shape: [2],
    pads: [0, 1],
  }); // [B,F,L]
  g.op('Relu', ['binding'], 'binding_fired');
  g.op('ReduceMax', ['binding_fired'], 'features', { axes: [2], keepdims: 0 }); // [B,F]
  g.floats('projection', projectionMatrix(D), [FEATURES, D]);
  g.op('MatMul', ['features', 'projection'], 'text_embeds');

  const gr = graph({
    name: 'toy_clip_text',
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: [valueInfo('input_ids', 'INT64', ['batch', L])],
    outputs: [
      valueInfo('text_embeds', 'FLOAT', ['batch', D]),
      valueInfo('features', 'FLOAT', ['batch', FEATURES]),
    ],
  });
  return encodeModel(model(gr, { producerName: 'ctgi-studio toy-clip', metadata: { 'ctgi.toy': 'text' } }));
}
