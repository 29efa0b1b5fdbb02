/**
 * fp32 → fp16 weights for an ONNX model: every float32 initializer is stored as float16 and cast back to
 * float32 by a Cast node at the top of the graph, so the arithmetic stays fp32 while the file halves and the
 * weights carry fp16 rounding — what `onnxconverter_common.float16.convert_float_to_float16(keep_io_types=True)`
 * does to the weights, without its op-by-op rewrite. Inputs and outputs keep their float32 types.
 */
import type { Node, OnnxModel, Tensor } from './codec';
import { DataType, elementCount, node, tensorValues } from './builder';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 binary16 bits of a float32 value, rounded to nearest even (overflow → ±Inf, NaN kept). */
export function toHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  e = half >>> 10;
  return sign | (e >= 0x1f ? 0x7c00 : half);
}

/** The float32 value of binary16 bits. */
export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

export interface Fp16Report {
  converted: number;
  /** Weight bytes before and after. */
  bytesBefore: number;
  bytesAfter: number;
}

/** Converts the model's float32 initializers in place (see the file comment). */
export function weightsToFp16(model: OnnxModel): Fp16Report {
  const g = model.graph;
  if (!g) return { converted: 0, bytesBefore: 0, bytesAfter: 0 };
  const graphInputs = new Set(g.input.map((i) => i.name));
  const casts: Node[] = [];
  let converted = 0;
  let bytesBefore = 0;
  let bytesAfter = 0;
  const next: Tensor[] = [];
  for (const t of g.initializer) {
    if (t.dataType !== DataType.FLOAT || !t.name || graphInputs.has(t.name) || elementCount(t.dims) === 0) {
      next.push(t);
      continue;
    }
    const values = tensorValues(t) as Float32Array;
    const half = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) half[i] = toHalfBits(values[i]!);
    const name = `${t.name}__fp16`;
    next.push({
      ...t,
      name,
      dataType: DataType.FLOAT16,
      rawData: new Uint8Array(half.buffer),
      floatData: [],
    });
    casts.push(node('Cast', [name], [t.name], { to: DataType.FLOAT }, { name: `${t.name}__cast` }));
    converted++;
    bytesBefore += values.length * 4;
    bytesAfter += values.length * 2;
  }
  g.initializer = next;
  g.node = [...casts, ...g.node];
  return { converted, bytesBefore, bytesAfter };
}
