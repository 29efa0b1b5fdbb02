// The toy CLIP image tower: layout.readColours written as an ONNX graph, made soft so that it is a real
// (differentiable-looking) network rather than a lookup.
//
//   pixel_values [B,3,384,128], CLIP-normalised
//   → back to 0–255 RGB
//   → mean colour of 13 fixed areas (6 region cores, the background reference, 3 bag probes and the
//     background beside each probe), as two matrix products with constant row/column masks
//   → per region, a softmax over −(distance² to each palette colour)/T: a soft nearest colour
//   → the hat block only where the hat core differs from the hair (a cap is never the hair's colour),
//     the bag block only where the bag core differs from the background, bag types from the probes
//   → 69 features (features.ts) → the fixed projection → image_embeds [B, D]
import { CLIP_MEAN, CLIP_STD } from '../../ml/preprocess';
import { encodeModel, graph, model, valueInfo } from '../../ml/onnx';
import { COLOURS } from '../../pipelines/attributes';
import {
  BACKGROUND_REFERENCE,
  BAG_PROBE_BACKGROUND,
  BAG_PROBES,
  corePixels,
  LAYOUT,
  type Rect,
} from '../layout';
import {
  FEATURES,
  PAIR_FEATURES,
  projectionMatrix,
  TOY_COLOURS,
  TOY_EMBEDDING_DIM,
  TOY_REGIONS,
} from './features';
import { GraphWriter } from './graph';

export const TOY_IMAGE_SIZE = [384, 128] as const;

/**
 * Softmax temperature on squared RGB distances. Palette colours are ≥ 85 apart, so a region lit ×0.85–1.15
 * is still thousands of squared units nearer its own colour: T = 200 makes that a near one-hot.
 */
export const COLOUR_TEMPERATURE = 200;
/** readColours calls a bag present when its core is > 30 from the background: 30² as the sigmoid's centre. */
const BAG_PRESENT_D2 = 900;
/** Width of the presence and probe sigmoids, in squared RGB units. */
const SIGMOID_WIDTH = 100;

/** The areas whose mean colour the tower measures, in the order of its internal [B, 13, 3] tensor. */
export const AREAS: readonly { name: string; rects: readonly Rect[] }[] = [
  ...TOY_REGIONS.map((r) => ({ name: r, rects: LAYOUT[r].core })),
  { name: 'background', rects: BACKGROUND_REFERENCE },
  ...(['high', 'middle', 'low'] as const).map((p) => ({ name: `probe-${p}`, rects: BAG_PROBES[p] })),
  ...(['high', 'middle', 'low'] as const).map((p) => ({
    name: `probe-${p}-background`,
    rects: BAG_PROBE_BACKGROUND[p],
  })),
];
const BAG_AREA = TOY_REGIONS.indexOf('bag');
const BACKGROUND_AREA = TOY_REGIONS.length;
const PROBES_AREA = BACKGROUND_AREA + 1;
const PROBE_BACKGROUNDS_AREA = PROBES_AREA + 3;

/**
 * Separable masks for the area means: every rectangle k has a column mask C[:,k] and a row mask R[:,k]
 * (its pixel set is their product, exactly as layout.corePixels picks pixel centres), and W[k,a] = 1/n_a
 * adds the rectangles of area a and divides by its pixel count.
 */
export function areaMasks(
  height: number,
  width: number,
): { cols: Float32Array; rows: Float32Array; combine: Float32Array; rects: number } {
  const all = AREAS.flatMap((a, ai) => a.rects.map((r) => ({ r, ai })));
  const K = all.length;
  const cols = new Float32Array(width * K);
  const rows = new Float32Array(height * K);
  const combine = new Float32Array(K * AREAS.length);
  const counts = new Array<number>(AREAS.length).fill(0);
  const pixelsOf = all.map(({ r }) => corePixels([r], width, height));
  all.forEach(({ ai }, k) => {
    const px = pixelsOf[k]!;
    for (const p of px) {
      cols[(p % width) * K + k] = 1;
      rows[Math.floor(p / width) * K + k] = 1;
    }
    counts[ai]! += px.length;
  });
  all.forEach(({ ai }, k) => (combine[k * AREAS.length + ai] = 1 / counts[ai]!));
  return { cols, rows, combine, rects: K };
}

export interface ToyVisionOptions {
  embeddingDim?: number;
}

/** The image tower's ONNX bytes; the same options always give the same bytes. */
export function buildToyVisionModel(opts: ToyVisionOptions = {}): Uint8Array {
  const [H, W] = TOY_IMAGE_SIZE;
  const D = opts.embeddingDim ?? TOY_EMBEDDING_DIM;
  const C = TOY_COLOURS.length;
  const R = TOY_REGIONS.length;
  const A = AREAS.length;
  const g = new GraphWriter();

  // (x·std + mean)·255 undoes preprocess.writeNormalised.
  g.floats(
    'rgb_scale',
    CLIP_STD.map((s) => s * 255),
    [1, 3, 1, 1],
  );
  g.floats(
    'rgb_shift',
    CLIP_MEAN.map((m) => m * 255),
    [1, 3, 1, 1],
  );
  g.op('Mul', ['pixel_values', 'rgb_scale'], 'rgb_scaled');
  g.op('Add', ['rgb_scaled', 'rgb_shift'], 'rgb');

  const masks = areaMasks(H, W);
  g.floats('area_cols', masks.cols, [W, masks.rects]);
  g.floats('area_rows', masks.rows, [H, masks.rects]);
  g.floats('area_combine', masks.combine, [masks.rects, A]);
  g.ints('axis_2', [2]);
  g.ints('axis_last', [-1]);
  g.op('MatMul', ['rgb', 'area_cols'], 'rect_colsums'); // [B,3,H,K]
  g.op('Mul', ['rect_colsums', 'area_rows'], 'rect_rows_masked');
  g.op('ReduceSum', ['rect_rows_masked', 'axis_2'], 'rect_sums', { keepdims: 0 }); // [B,3,K]
  g.op('MatMul', ['rect_sums', 'area_combine'], 'area_means_cf'); // [B,3,A]
  g.op('Transpose', ['area_means_cf'], 'area_means', { perm: [0, 2, 1] }); // [B,A,3]

  const slice = (out: string, from: number, to: number): string => {
    g.ints(`${out}_from`, [from]);
    g.ints(`${out}_to`, [to]);
    g.ints(`${out}_axis`, [1]);
    return g.op('Slice', ['area_means', `${out}_from`, `${out}_to`, `${out}_axis`], out);
  };
  slice('region_means', 0, R); // [B,R,3]
  slice('bag_mean', BAG_AREA, BAG_AREA + 1); // [B,1,3]
  slice('background_mean', BACKGROUND_AREA, BACKGROUND_AREA + 1);
  slice('probe_means', PROBES_AREA, PROBES_AREA + 3); // [B,3,3]
  slice('probe_background_means', PROBE_BACKGROUNDS_AREA, PROBE_BACKGROUNDS_AREA + 3);

  // Soft nearest colour: logits = −|m − p|²/T = (2 m·p − |m|² − |p|²)/T.
  const palette = TOY_COLOURS.map((c) => COLOURS[c]);
  g.floats(
    'palette_t',
    ([0, 1, 2] as const).flatMap((ch) => palette.map((p) => p[ch])),
    [3, C],
  );
  g.floats(
    'palette_sq_over_t',
    palette.map((p) => (p[0] ** 2 + p[1] ** 2 + p[2] ** 2) / COLOUR_TEMPERATURE),
    [C],
  );
  g.floats('two_over_t', [2 / COLOUR_TEMPERATURE], []);
  g.floats('one_over_t', [1 / COLOUR_TEMPERATURE], []);
  g.op('MatMul', ['region_means', 'palette_t'], 'region_dot_palette'); // [B,R,C]
  g.op('Mul', ['region_dot_palette', 'two_over_t'], 'colour_cross');
  g.op('Mul', ['region_means', 'region_means'], 'region_means_sq');
  g.op('ReduceSum', ['region_means_sq', 'axis_last'], 'region_norm_sq', { keepdims: 1 }); // [B,R,1]
  g.op('Mul', ['region_norm_sq', 'one_over_t'], 'region_norm_sq_over_t');
  g.op('Sub', ['colour_cross', 'region_norm_sq_over_t'], 'colour_partial');
  g.op('Sub', ['colour_partial', 'palette_sq_over_t'], 'colour_logits');
  g.op('Softmax', ['colour_logits'], 'colour_probs', { axis: -1 }); // [B,R,C]

  const regionProbs = (name: (typeof TOY_REGIONS)[number]): string => {
    const i = TOY_REGIONS.indexOf(name);
    g.ints(`${name}_from`, [i]);
    g.ints(`${name}_to`, [i + 1]);
    g.ints(`${name}_axis`, [1]);
    return g.op('Slice', ['colour_probs', `${name}_from`, `${name}_to`, `${name}_axis`], `${name}_probs`); // [B,1,C]
  };
  const blocks: Record<string, string> = {};
  for (const r of TOY_REGIONS) blocks[r] = regionProbs(r);

  // A cap shows where the hat core's colour is not the hair's; without one the core is hair.
  g.op('Sub', [blocks.hat!, blocks.hair!], 'hat_minus_hair');
  blocks.hat = g.op('Relu', ['hat_minus_hair'], 'hat_block');

  // A bag shows where its core differs from the background at the same height (squared distance > 30²).
  const sqDist = (a: string, b: string, out: string, keepdims: 0 | 1): string => {
    g.op('Sub', [a, b], `${out}_diff`);
    g.op('Mul', [`${out}_diff`, `${out}_diff`], `${out}_diff_sq`);
    return g.op('ReduceSum', [`${out}_diff_sq`, 'axis_last'], out, { keepdims });
  };
  g.floats('bag_present_centre', [BAG_PRESENT_D2], []);
  g.floats('sigmoid_gain', [1 / SIGMOID_WIDTH], []);
  sqDist('bag_mean', 'background_mean', 'bag_background_d2', 1); // [B,1,1]
  g.op('Sub', ['bag_background_d2', 'bag_present_centre'], 'bag_present_margin');
  g.op('Mul', ['bag_present_margin', 'sigmoid_gain'], 'bag_present_logit');
  g.op('Sigmoid', ['bag_present_logit'], 'bag_present'); // [B,1,1]
  blocks.bag = g.op('Mul', [blocks.bag!, 'bag_present'], 'bag_block');

  g.ints('pairs_shape', [-1, PAIR_FEATURES]);
  g.op(
    'Concat',
    TOY_REGIONS.map((r) => blocks[r]!),
    'pair_blocks',
    { axis: 1 },
  ); // [B,R,C]
  g.op('Reshape', ['pair_blocks', 'pairs_shape'], 'pair_features'); // [B,R·C]

  // Bag type: a probe shows the bag when it is nearer the bag's colour than the background beside it.
  // high → backpack; else middle → shoulder bag; else low → handbag (layout.BAG_PROBES).
  sqDist('probe_means', 'probe_background_means', 'probe_background_d2', 0); // [B,3]
  sqDist('probe_means', 'bag_mean', 'probe_bag_d2', 0); // [B,3]
  g.op('Sub', ['probe_background_d2', 'probe_bag_d2'], 'probe_margin');
  g.op('Mul', ['probe_margin', 'sigmoid_gain'], 'probe_logit');
  g.op('Sigmoid', ['probe_logit'], 'probe_shows'); // [B,3]
  g.floats('one', [1], []);
  g.op('Sub', ['one', 'probe_shows'], 'probe_blank');
  const probeCol = (src: string, i: number, out: string): string => {
    g.ints(`${out}_from`, [i]);
    g.ints(`${out}_to`, [i + 1]);
    g.ints(`${out}_axis`, [1]);
    return g.op('Slice', [src, `${out}_from`, `${out}_to`, `${out}_axis`], out); // [B,1]
  };
  const high = probeCol('probe_shows', 0, 'probe_high');
  const middle = probeCol('probe_shows', 1, 'probe_middle');
  const low = probeCol('probe_shows', 2, 'probe_low');
  const noHigh = probeCol('probe_blank', 0, 'probe_high_blank');
  const noMiddle = probeCol('probe_blank', 1, 'probe_middle_blank');
  g.op('Mul', [noHigh, middle], 'is_shoulder_bag');
  g.op('Mul', [noHigh, noMiddle], 'neither_high_nor_middle');
  g.op('Mul', ['neither_high_nor_middle', low], 'is_handbag');
  g.op('Concat', [high, 'is_shoulder_bag', 'is_handbag'], 'bag_type_guess', { axis: 1 }); // [B,3]
  g.ints('present_shape', [-1, 1]);
  g.op('Reshape', ['bag_present', 'present_shape'], 'bag_present_col');
  g.op('Mul', ['bag_type_guess', 'bag_present_col'], 'bag_type_features');

  g.op('Concat', ['pair_features', 'bag_type_features'], 'features', { axis: 1 }); // [B,FEATURES]
  g.floats('projection', projectionMatrix(D), [FEATURES, D]);
  g.op('MatMul', ['features', 'projection'], 'image_embeds');

  const gr = graph({
    name: 'toy_clip_vision',
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: [valueInfo('pixel_values', 'FLOAT', ['batch', 3, H, W])],
    outputs: [
      valueInfo('image_embeds', 'FLOAT', ['batch', D]),
      valueInfo('features', 'FLOAT', ['batch', FEATURES]),
    ],
  });
  return encodeModel(model(gr, { producerName: 'ctgi-studio toy-clip', metadata: { 'ctgi.toy': 'vision' } }));
}
