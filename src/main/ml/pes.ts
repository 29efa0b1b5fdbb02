/**
 * PES — positional-embedding stretching (Long-CLIP's rule, ALGORITHMS.md §2): a CLIP text encoder trained
 * for 77 tokens gets a 248-row positional table, and the graph is freed of everything else that pins it to 77.
 */
import { AppError } from '../errors';
import {
  DataType,
  consumers,
  constants,
  decodeModel,
  elementCount,
  encodeModel,
  replaceConstant,
  tensorValues,
  type ConstantRef,
  type Graph,
  type ValueInfo,
} from './onnx';

export const PES_KEEP = 20;
export const PES_SOURCE_ROWS = 77;
export const PES_TARGET_ROWS = 4 * PES_SOURCE_ROWS - 3 * PES_KEEP; // 248

const f = Math.fround;

/**
 * Stretches a row-major `rows × dim` table to `4·rows − 60` rows: rows 0–19 copied, each later gap split in
 * four by linear interpolation, the last four rows extrapolated. Every operation is rounded to float32 in
 * the reference's order (`(4−r)·P[a]/4 + r·P[b]/4`, each term divided separately), so the result is bit for
 * bit what Long-CLIP's PyTorch code gives.
 */
export function stretchPositionalTable(
  P: Float32Array,
  rows = PES_SOURCE_ROWS,
  dim = P.length / rows,
): Float32Array {
  if (!Number.isInteger(dim) || dim < 1 || P.length !== rows * dim) {
    throw new AppError(
      'bad_request',
      `The positional table has ${P.length} values, not ${rows} rows of a whole width.`,
    );
  }
  if (rows <= PES_KEEP + 1)
    throw new AppError('bad_request', `PES needs more than ${PES_KEEP + 1} positional rows, got ${rows}.`);
  const outRows = 4 * rows - 3 * PES_KEEP;
  const N = new Float32Array(outRows * dim);
  N.set(P.subarray(0, PES_KEEP * dim));
  for (let i = 0; i < rows - 1 - PES_KEEP; i++) {
    const a = (PES_KEEP + i) * dim;
    const b = (PES_KEEP + i + 1) * dim;
    for (let r = 0; r < 4; r++) {
      const o = (PES_KEEP + 4 * i + r) * dim;
      for (let c = 0; c < dim; c++) {
        // r = 0 is a plain copy in the reference; the formula gives the same bits, but copy like it does.
        N[o + c] = r === 0 ? P[a + c]! : f(f(f((4 - r) * P[a + c]!) / 4) + f(f(r * P[b + c]!) / 4));
      }
    }
  }
  const last = (rows - 1) * dim;
  const prev = (rows - 2) * dim;
  for (let k = 0; k < 4; k++) {
    const o = (outRows - 4 + k) * dim;
    for (let c = 0; c < dim; c++) N[o + c] = f(P[last + c]! + f(f(k * f(P[last + c]! - P[prev + c]!)) / 4));
  }
  return N;
}

export interface PesReport {
  /** Name of the positional table that was stretched. */
  table: string;
  width: number;
  contextBefore: number;
  contextAfter: number;
  /** Each change, in words. */
  changes: string[];
  /** Things that still mention 77 and were left alone: check them. */
  warnings: string[];
}

const FLOAT = DataType.FLOAT;
const isInt = (t: number | undefined): boolean => t === DataType.INT64 || t === DataType.INT32;

/** dims of a table: [77, D] or [1, 77, D] (some exporters keep the leading unsqueeze). */
function tableShape(dims: readonly number[]): { width: number; lead: boolean } | undefined {
  if (dims.length === 2 && dims[0] === PES_SOURCE_ROWS && dims[1]! > 1)
    return { width: dims[1]!, lead: false };
  if (dims.length === 3 && dims[0] === 1 && dims[1] === PES_SOURCE_ROWS && dims[2]! > 1)
    return { width: dims[2]!, lead: true };
  return undefined;
}

/** The 77×77 causal mask: zero on and below the diagonal, one negative value (often −inf) above. */
function causalMaskFill(ref: ConstantRef): number | undefined {
  const d = ref.tensor.dims;
  const n = PES_SOURCE_ROWS;
  const square = d.length >= 2 && d[d.length - 1] === n && d[d.length - 2] === n && elementCount(d) === n * n;
  if (!square || ref.tensor.dataType !== FLOAT) return undefined;
  const v = tensorValues(ref.tensor) as Float32Array;
  const fill = v[1]!;
  if (!(fill < 0)) return undefined;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const x = v[i * n + j]!;
      if (j <= i ? x !== 0 : x !== fill) return undefined;
    }
  }
  return fill;
}

const isArange = (ref: ConstantRef, n: number): boolean => {
  if (
    !isInt(ref.tensor.dataType) ||
    elementCount(ref.tensor.dims) !== n ||
    ref.tensor.dims[ref.tensor.dims.length - 1] !== n
  )
    return false;
  const v = tensorValues(ref.tensor) as BigInt64Array | Int32Array;
  for (let i = 0; i < n; i++) if (Number(v[i]) !== i) return false;
  return true;
};

// Ops whose integer inputs at these positions are shapes/extents: a 77 there is the context length.
const SHAPE_INPUTS: Record<string, readonly number[]> = {
  Reshape: [1],
  Expand: [1],
  Tile: [1],
  ConstantOfShape: [0],
  Slice: [1, 2],
  Range: [0, 1],
};

function describe(ref: ConstantRef): string {
  return `${ref.source === 'initializer' ? 'initializer' : 'Constant'} "${ref.name}" [${ref.tensor.dims.join(', ')}]`;
}

function stretchValueInfos(list: ValueInfo[], where: string, changes: string[]): void {
  for (const v of list) {
    const dims = v.type?.tensorType?.shape?.dim ?? [];
    let hit = false;
    for (const d of dims) {
      if (d.dimValue === PES_SOURCE_ROWS) {
        d.dimValue = PES_TARGET_ROWS;
        hit = true;
      }
    }
    if (hit)
      changes.push(
        `${where} "${v.name}" shape: 77 → 248 (${dims.map((d) => d.dimValue ?? d.dimParam ?? '?').join(' × ')}).`,
      );
  }
}

function findTable(g: Graph, all: ConstantRef[]): ConstantRef {
  const candidates = all.filter(
    (c) =>
      tableShape(c.tensor.dims) !== undefined &&
      causalMaskFill(c) === undefined &&
      c.tensor.dataType !== undefined &&
      [FLOAT, DataType.FLOAT16, DataType.DOUBLE].includes(c.tensor.dataType as 1),
  );
  if (candidates.length === 0) {
    throw new AppError(
      'bad_request',
      'No positional-embedding table of shape [77, D] was found in this model, so it is not a stock CLIP text encoder ' +
        '(or it was stretched already). Pass the text encoder ONNX (e.g. text_model.onnx from optimum), not the image encoder.',
    );
  }
  const gathered = candidates.filter((c) =>
    consumers(g, c.name).some((u) => u.node.opType === 'Gather' && u.index === 0),
  );
  const named = candidates.filter((c) => /position/i.test(c.name));
  for (const pool of [candidates, gathered, named, gathered.filter((c) => named.includes(c))]) {
    if (pool.length === 1) return pool[0]!;
  }
  throw new AppError(
    'bad_request',
    `Several [77, D] tables could be the positional embedding (${candidates.map(describe).join('; ')}); ` +
      'refusing to guess. Export the text encoder alone, or rename the positional table to contain "position".',
  );
}

/**
 * Rewrites a CLIP text-encoder ONNX model for 248 tokens: stretches the positional table and updates
 * position-id constants, the causal mask, shape constants and declared shapes that say 77.
 */
export function pesModel(modelBytes: Uint8Array): { bytes: Uint8Array; report: PesReport } {
  const m = decodeModel(modelBytes);
  const g = m.graph!;
  const all = constants(g);
  const changes: string[] = [];
  const warnings: string[] = [];
  const handled = new Set<ConstantRef>();

  const table = findTable(g, all);
  if (table.tensor.dataType !== FLOAT) {
    throw new AppError(
      'bad_request',
      `The positional table "${table.name}" is not float32; export the text encoder in float32 and convert after PES.`,
    );
  }
  const shape = tableShape(table.tensor.dims)!;
  const stretched = stretchPositionalTable(
    tensorValues(table.tensor) as Float32Array,
    PES_SOURCE_ROWS,
    shape.width,
  );
  replaceConstant(
    table,
    stretched,
    shape.lead ? [1, PES_TARGET_ROWS, shape.width] : [PES_TARGET_ROWS, shape.width],
  );
  handled.add(table);
  changes.push(
    `Positional table ${describe(table)}: stretched from 77 to 248 rows (rows 0–19 kept, the rest interpolated ×4).`,
  );

  for (const ref of all) {
    if (handled.has(ref)) continue;
    if (isArange(ref, PES_SOURCE_ROWS)) {
      const before = describe(ref);
      const dims = [...ref.tensor.dims.slice(0, -1), PES_TARGET_ROWS];
      const ids = Array.from({ length: PES_TARGET_ROWS }, (_, i) => i);
      replaceConstant(
        ref,
        ref.tensor.dataType === DataType.INT64 ? BigInt64Array.from(ids, BigInt) : Int32Array.from(ids),
        dims,
      );
      handled.add(ref);
      changes.push(`Position ids ${before}: 0…76 → 0…247.`);
      continue;
    }
    const fill = causalMaskFill(ref);
    if (fill !== undefined) {
      const n = PES_TARGET_ROWS;
      const mask = new Float32Array(n * n);
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) mask[i * n + j] = fill;
      const before = describe(ref);
      replaceConstant(ref, mask, [...ref.tensor.dims.slice(0, -2), n, n]);
      handled.add(ref);
      changes.push(
        `Causal mask ${before}: rebuilt as 248 × 248 (0 on and below the diagonal, ${fill} above).`,
      );
    }
  }

  for (const ref of all) {
    if (handled.has(ref) || !isInt(ref.tensor.dataType) || elementCount(ref.tensor.dims) > 8) continue;
    const values = Array.from(tensorValues(ref.tensor) as BigInt64Array | Int32Array, Number);
    if (!values.includes(PES_SOURCE_ROWS)) continue;
    const uses = consumers(g, ref.name);
    const shapeUses = uses.filter((u) => SHAPE_INPUTS[u.node.opType ?? '']?.includes(u.index));
    if (uses.length === 0 || shapeUses.length !== uses.length) {
      warnings.push(
        `${describe(ref)} holds 77 but is used by ${uses.map((u) => u.node.opType).join(', ') || 'nothing'}: left unchanged.`,
      );
      continue;
    }
    const next = values.map((v) => (v === PES_SOURCE_ROWS ? PES_TARGET_ROWS : v));
    const before = describe(ref);
    replaceConstant(
      ref,
      ref.tensor.dataType === DataType.INT64 ? BigInt64Array.from(next, BigInt) : Int32Array.from(next),
      ref.tensor.dims,
    );
    handled.add(ref);
    changes.push(
      `Shape constant ${before} for ${[...new Set(shapeUses.map((u) => u.node.opType))].join('/')}: [${values.join(', ')}] → [${next.join(', ')}].`,
    );
  }

  stretchValueInfos(g.input, 'Input', changes);
  stretchValueInfos(g.output, 'Output', changes);
  stretchValueInfos(g.valueInfo, 'Intermediate', changes);

  for (const ref of all) {
    if (!handled.has(ref) && ref.tensor.dims.includes(PES_SOURCE_ROWS)) {
      warnings.push(`${describe(ref)} has a dimension of 77 and was left unchanged.`);
    }
  }
  if (g.node.some((n) => n.attribute.some((a) => a.g || a.graphs.length))) {
    warnings.push('The graph has subgraphs (If/Loop/Scan); PES does not look inside them.');
  }

  m.metadataProps = [
    ...m.metadataProps.filter((p) => p.key !== 'ctgi.pes' && p.key !== 'ctgi.context_length'),
    { key: 'ctgi.pes', value: `long-clip 77->${PES_TARGET_ROWS} keep=${PES_KEEP}` },
    { key: 'ctgi.context_length', value: String(PES_TARGET_ROWS) },
  ];
  return {
    bytes: encodeModel(m),
    report: {
      table: table.name,
      width: shape.width,
      contextBefore: PES_SOURCE_ROWS,
      contextAfter: PES_TARGET_ROWS,
      changes,
      warnings,
    },
  };
}
