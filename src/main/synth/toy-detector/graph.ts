// The toy person detector: a real ONNX graph with YOLOv8's contract — images [B, 3, 384, 640] (letterboxed,
// /255) → output0 [B, 4 + 1, N] (cx, cy, w, h in input pixels, then a person score) — whose weights are made,
// not trained, so that it finds the synthetic people on the synthetic scenes:
//
//   1. foreground: on 2×2-averaged pixels, the squared RGB distance to the nearest scene colour (a 1×1
//      convolution against the scene palette of synth/footage/scene.ts, + |x|²), through a sigmoid at 40
//      units: people wear no scene colour. Letterbox padding (rows or columns that are all 114 grey, and the
//      row or column beside them) is masked out.
//   2. occupancy per 4×4 cell, softly thresholded: the mask.
//   3. the person's extent, measured from every cell: a row mask (foreground in this row within ±7 cells)
//      gives, by a cumulative sum minus its value at the last empty cell (a running max, from shifted
//      copies), the length of the run of rows up to the cell and down from it: the distance to the
//      person's top and bottom edges. A column mask (foreground within ±31 rows,
//      gives the left and right edges the same way. Every cell inside a person so proposes the same box: anchor-free box regression
//      by fixed filters, contiguous, so a neighbour further along the row or column does not count.
//   4. the score: the cell's occupancy × its centredness (min/max of the up/down and left/right runs,
//      FCOS-style), so the cell at a person's centre wins NMS, × a gate on a minimum height.
// Outputs are taken at stride 8 (3840 anchors at 384 × 640).
import { encodeModel, graph, model, valueInfo } from '../../ml/onnx';
import { SCENE_PALETTE } from '../footage/scene';
import { GraphWriter } from '../toy-clip/graph';

/**
 * Input [height, width]: 640 wide like YOLOv8, 384 high — what Ultralytics' rectangular inference letterboxes
 * a 16:9 frame to (a multiple of 32), so no time is spent on padding.
 */
export const TOY_DETECTOR_INPUT: readonly [number, number] = [384, 640];
/** Cell size of the masks, in input pixels. */
const CELL = 4;
/** Output stride (anchors every OUTPUT_STRIDE pixels). */
const OUTPUT_STRIDE = 8;
/** A pixel further than this (RGB units) from every scene colour is foreground. */
const FOREGROUND_DISTANCE = 40;
/** Letterbox padding value (Ultralytics' 114 grey). */
const PAD = 114;
/** Runs are measured up to this many cells (252 px: taller than any person in a 16:9 frame). */
const RUN_REACH = 63;
/** The row mask looks this many cells left and right: across a walker's legs and to the bag. */
const ROW_REACH = 7;
/** The column mask looks this many cells up and down: from a person's middle to head and feet. */
const COL_REACH = 31;
/**
 * Below this width-to-height ratio a box is not a person but a part of one: a bag whose strap a downscaled
 * frame lost, proposing its own narrow box (a walker seen from the side is ≥ 0.17).
 */
const MIN_ASPECT = 0.06;
const COL_BRIDGE = 1;
/** Smallest person the gate lets through, in input pixels of height. */
const MIN_HEIGHT = 20;

export function buildToyDetectorModel(): Uint8Array {
  const [H, W] = TOY_DETECTOR_INPUT;
  const rows = H / CELL;
  const cols = W / CELL;
  const g = new GraphWriter();
  const palette = Object.values(SCENE_PALETTE);
  const K = palette.length;

  // Colours stay in the input's 0–1 units: the palette, thresholds and padding value are scaled instead.
  const u = 1 / 255;
  g.op('AveragePool', ['images'], 'rgb', { kernel_shape: [2, 2], strides: [2, 2] }); // [B,3,S/2,S/2]
  // |x − p|² = |x|² − 2 x·p + |p|², the last two as one 1×1 convolution.
  g.op('Mul', ['rgb', 'rgb'], 'rgb_sq');
  g.ints('axis1', [1]);
  g.op('ReduceSum', ['rgb_sq', 'axis1'], 'norm_sq', { keepdims: 1 }); // [B,1,s,s]
  g.floats(
    'palette_w',
    palette.flatMap((p) => p.map((v) => -2 * v * u)),
    [K, 3, 1, 1],
  );
  g.floats(
    'palette_b',
    palette.map((p) => (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]) * u * u),
    [K],
  );
  g.op('Conv', ['rgb', 'palette_w', 'palette_b'], 'cross'); // [B,K,s,s]
  g.op('ReduceMin', ['cross'], 'nearest_cross', { axes: [1], keepdims: 1 });
  g.op('Add', ['nearest_cross', 'norm_sq'], 'nearest_sq'); // [B,1,s,s]
  g.floats('fg_centre', [FOREGROUND_DISTANCE * FOREGROUND_DISTANCE * u * u], []);
  g.floats('fg_gain', [(255 * 255) / 150], []);
  g.op('Sub', ['nearest_sq', 'fg_centre'], 'fg_margin');
  g.op('Mul', ['fg_margin', 'fg_gain'], 'fg_logit');
  g.op('Sigmoid', ['fg_logit'], 'fg_pixel');

  // Letterbox padding: a row (or column) that is 114 grey from end to end, and its neighbour (which may
  // average padding and picture).
  g.floats('pad_value', [PAD * u], []);
  g.op('Sub', ['rgb', 'pad_value'], 'from_pad');
  g.op('Mul', ['from_pad', 'from_pad'], 'from_pad_sq');
  g.op('ReduceSum', ['from_pad_sq', 'axis1'], 'pad_dist', { keepdims: 1 }); // [B,1,s,s]
  g.op('ReduceMean', ['pad_dist'], 'row_pad_dist', { axes: [3], keepdims: 1 }); // [B,1,s,1]
  g.op('ReduceMean', ['pad_dist'], 'col_pad_dist', { axes: [2], keepdims: 1 }); // [B,1,1,s]
  g.floats('pad_centre', [8 * u * u], []);
  g.floats('pad_gain', [-2 * 255 * 255], []);
  for (const [axis, kernel, pads] of [
    ['row', [3, 1], [1, 0, 1, 0]],
    ['col', [1, 3], [0, 1, 0, 1]],
  ] as const) {
    g.op('Sub', [`${axis}_pad_dist`, 'pad_centre'], `${axis}_pad_margin`);
    g.op('Mul', [`${axis}_pad_margin`, 'pad_gain'], `${axis}_pad_logit`);
    g.op('Sigmoid', [`${axis}_pad_logit`], `${axis}_is_pad`);
    g.op('MaxPool', [`${axis}_is_pad`], `${axis}_near_pad`, { kernel_shape: kernel, pads, strides: [1, 1] });
  }
  g.floats('one', [1], []);
  g.op('Sub', ['one', 'row_near_pad'], 'row_is_picture');
  g.op('Sub', ['one', 'col_near_pad'], 'col_is_picture');
  g.op('Mul', ['fg_pixel', 'row_is_picture'], 'fg_rows');
  g.op('Mul', ['fg_rows', 'col_is_picture'], 'fg');

  // Occupancy of 4×4 cells, softly thresholded: < 10 % is noise, ≥ 90 % a full cell.
  g.op('AveragePool', ['fg'], 'occupancy', { kernel_shape: [2, 2], strides: [2, 2] });
  g.floats('occ_offset', [0.1], []);
  g.floats('occ_gain', [1.25], []);
  g.floats('zero', [0], []);
  g.op('Sub', ['occupancy', 'occ_offset'], 'occ_shift');
  g.op('Mul', ['occ_shift', 'occ_gain'], 'occ_scaled');
  g.op('Clip', ['occ_scaled', 'zero', 'one'], 'mask'); // [B,1,c,c]

  /**
   * Max over a window along an axis (2: rows, 3: columns), `reach` cells in a direction: [i − reach, i]
   * backwards, [i, i + reach] forwards. Built from shifted copies with doubling steps (1, 2, 4, …; each the
   * max of the map and itself shifted, zero-padded: every value here is ≥ 0): a handful of cheap ops where one
   * wide pool would cost its width per cell.
   */
  const maxRun = (src: string, out: string, axis: 2 | 3, dir: 'back' | 'forward', reach: number): string => {
    if (reach === 0) return g.op('Identity', [src], out);
    let cur = src;
    let covered = 0;
    for (let j = 0; covered < reach; j++) {
      const d = Math.min(covered + 1, reach - covered);
      covered += d;
      const name = `${out}_${j}`;
      const pads = [0, 0, 0, 0, 0, 0, 0, 0];
      pads[dir === 'back' ? axis : axis + 4] = d;
      g.ints(`${name}_pads`, pads);
      g.op('Pad', [cur, `${name}_pads`], `${name}_padded`);
      g.ints(`${name}_from`, [dir === 'back' ? 0 : d]);
      g.ints(`${name}_to`, [(dir === 'back' ? 0 : d) + (axis === 2 ? rows : cols)]);
      g.ints(`${name}_axis`, [axis]);
      g.op('Slice', [`${name}_padded`, `${name}_from`, `${name}_to`, `${name}_axis`], `${name}_shifted`);
      cur = g.op('Max', [cur, `${name}_shifted`], covered >= reach ? out : name);
    }
    return cur;
  };
  maxRun('mask', 'row_mask_back', 3, 'back', ROW_REACH);
  maxRun('row_mask_back', 'row_mask', 3, 'forward', ROW_REACH);
  maxRun('mask', 'col_mask_up', 2, 'back', COL_REACH);
  maxRun('col_mask_up', 'col_mask_vertical', 2, 'forward', COL_REACH);
  // Bridges a one-cell gap across a column (between a body and the bag it carries, whose thin strap a
  // downscaled frame may lose); widens the runs by COL_BRIDGE cells each side, taken off below.
  maxRun('col_mask_vertical', 'col_mask_left', 3, 'back', COL_BRIDGE);
  maxRun('col_mask_left', 'col_mask', 3, 'forward', COL_BRIDGE);

  // Run lengths: cumulative sum minus its value at the last empty cell before (a running max of the sums
  // at empty cells, which only grow).
  g.constant('cum_axis_rows', BigInt64Array.of(2n), []);
  g.constant('cum_axis_cols', BigInt64Array.of(3n), []);
  g.floats('empty_below', [0.02], []);
  for (const m of ['row_mask', 'col_mask']) {
    g.op('Less', [m, 'empty_below'], `${m}_empty_b`);
    g.op('Cast', [`${m}_empty_b`], `${m}_empty`, { to: 1 });
  }
  const run = (m: 'row_mask' | 'col_mask', out: string, reverse: boolean): string => {
    const axis = m === 'row_mask' ? 2 : 3;
    g.op('CumSum', [m, axis === 2 ? 'cum_axis_rows' : 'cum_axis_cols'], `${out}_cum`, {
      reverse: reverse ? 1 : 0,
    });
    g.op('Mul', [`${out}_cum`, `${m}_empty`], `${out}_at_empty`);
    maxRun(`${out}_at_empty`, `${out}_last_empty`, axis, reverse ? 'forward' : 'back', RUN_REACH);
    return g.op('Sub', [`${out}_cum`, `${out}_last_empty`], out);
  };
  run('row_mask', 'up', false);
  run('row_mask', 'down', true);
  run('col_mask', 'left_bridged', false);
  run('col_mask', 'right_bridged', true);
  g.floats('bridge', [COL_BRIDGE], []);
  g.op('Sub', ['left_bridged', 'bridge'], 'left');
  g.op('Sub', ['right_bridged', 'bridge'], 'right');

  // Cell coordinates, then edges in pixels: top = CELL·(y + 1 − up), bottom = CELL·(y + down), …
  g.floats(
    'grid_y',
    Array.from({ length: rows }, (_, i) => i),
    [1, 1, rows, 1],
  );
  g.floats(
    'grid_x',
    Array.from({ length: cols }, (_, i) => i),
    [1, 1, 1, cols],
  );
  g.floats('cell', [CELL], []);
  g.op('Add', ['grid_y', 'one'], 'grid_y1');
  g.op('Add', ['grid_x', 'one'], 'grid_x1');
  g.op('Sub', ['grid_y1', 'up'], 'top_cells');
  g.op('Add', ['grid_y', 'down'], 'bottom_cells');
  g.op('Sub', ['grid_x1', 'left'], 'left_cells');
  g.op('Add', ['grid_x', 'right'], 'right_cells');
  g.op('Add', ['top_cells', 'bottom_cells'], 'cy2');
  g.op('Add', ['left_cells', 'right_cells'], 'cx2');
  g.floats('half_cell', [CELL / 2], []);
  g.op('Mul', ['cy2', 'half_cell'], 'cy');
  g.op('Mul', ['cx2', 'half_cell'], 'cx');
  g.op('Sub', ['bottom_cells', 'top_cells'], 'h_cells');
  g.op('Sub', ['right_cells', 'left_cells'], 'w_cells');
  g.op('Mul', ['h_cells', 'cell'], 'h');
  g.op('Mul', ['w_cells', 'cell'], 'w');

  // Centredness: (min/max of up, down) × (min/max of left, right), square-rooted.
  g.floats('eps', [1e-3], []);
  const ratio = (a: string, b: string, out: string): string => {
    g.op('Min', [a, b], `${out}_min`);
    g.op('Max', [a, b], `${out}_max`);
    g.op('Add', [`${out}_max`, 'eps'], `${out}_den`);
    return g.op('Div', [`${out}_min`, `${out}_den`], out);
  };
  ratio('up', 'down', 'vertical_balance');
  ratio('left', 'right', 'horizontal_balance');
  g.op('Mul', ['vertical_balance', 'horizontal_balance'], 'balance');
  g.op('Sqrt', ['balance'], 'centredness');
  g.floats('min_height', [MIN_HEIGHT], []);
  g.floats('size_gain', [0.5], []);
  g.op('Sub', ['h', 'min_height'], 'size_margin');
  g.op('Mul', ['size_margin', 'size_gain'], 'size_logit');
  g.op('Sigmoid', ['size_logit'], 'height_gate');
  g.op('Div', ['w', 'h'], 'aspect');
  g.floats('min_aspect', [MIN_ASPECT], []);
  g.floats('aspect_gain', [60], []);
  g.op('Sub', ['aspect', 'min_aspect'], 'aspect_margin');
  g.op('Mul', ['aspect_margin', 'aspect_gain'], 'aspect_logit');
  g.op('Sigmoid', ['aspect_logit'], 'aspect_gate');
  g.op('Mul', ['height_gate', 'aspect_gate'], 'size_gate');
  g.op('Mul', ['mask', 'centredness'], 'score_raw');
  g.op('Mul', ['score_raw', 'size_gate'], 'score');

  // Anchors every OUTPUT_STRIDE pixels, in YOLOv8's layout [B, 4 + C, N].
  g.op('Concat', ['cx', 'cy', 'w', 'h', 'score'], 'maps', { axis: 1 }); // [B,5,c,c]
  const step = OUTPUT_STRIDE / CELL;
  g.ints('slice_start', [0, 0]);
  g.ints('slice_end', [rows, cols]);
  g.ints('slice_axes', [2, 3]);
  g.ints('slice_steps', [step, step]);
  g.op('Slice', ['maps', 'slice_start', 'slice_end', 'slice_axes', 'slice_steps'], 'anchor_maps');
  const n = (rows / step) * (cols / step);
  g.ints('out_shape', [-1, 5, n]);
  g.op('Reshape', ['anchor_maps', 'out_shape'], 'output0');

  const gr = graph({
    name: 'toy_person_detector',
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: [valueInfo('images', 'FLOAT', ['batch', 3, H, W])],
    outputs: [valueInfo('output0', 'FLOAT', ['batch', 5, n])],
  });
  return encodeModel(
    model(gr, { producerName: 'ctgi-studio toy-detector', metadata: { 'ctgi.toy': 'person-detector' } }),
  );
}
