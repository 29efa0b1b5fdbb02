/**
 * Authoring and inspecting ONNX graphs: enough to hand-build small models (tests, the toy CLIP) and to do
 * surgery on exported ones (PES). Everything here works on the plain objects of codec.ts.
 */
import { AppError } from '../../errors';
import type { Attribute, Graph, Node, OnnxModel, Tensor, TypeProto, ValueInfo } from './codec';

/** TensorProto.DataType values we use (onnx.proto). */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
} as const;
export type DataTypeName = keyof typeof DataType;

/** AttributeProto.AttributeType. */
export const AttributeType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
} as const;

export type TensorArray = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array;

const BYTES_PER: Record<number, number> = {
  [DataType.FLOAT]: 4,
  [DataType.UINT8]: 1,
  [DataType.INT8]: 1,
  [DataType.INT32]: 4,
  [DataType.INT64]: 8,
  [DataType.BOOL]: 1,
  [DataType.DOUBLE]: 8,
};

const emptyTensor = (): Tensor => ({
  dims: [],
  floatData: [],
  int32Data: [],
  stringData: [],
  int64Data: [],
  externalData: [],
  doubleData: [],
  uint64Data: [],
  metadataProps: [],
});

export const elementCount = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

function dataTypeOf(data: TensorArray, bool: boolean): number {
  if (data instanceof Float32Array) return DataType.FLOAT;
  if (data instanceof Float64Array) return DataType.DOUBLE;
  if (data instanceof Int32Array) return DataType.INT32;
  if (data instanceof BigInt64Array) return DataType.INT64;
  if (data instanceof Int8Array) return DataType.INT8;
  return bool ? DataType.BOOL : DataType.UINT8;
}

/** A tensor stored as little-endian raw_data (what exporters write). Pass `{ bool: true }` for a BOOL Uint8Array. */
export function tensor(
  name: string,
  data: TensorArray,
  dims: readonly number[],
  opts: { bool?: boolean } = {},
): Tensor {
  if (elementCount(dims) !== data.length) {
    throw new AppError(
      'bad_request',
      `Tensor ${name}: dims [${dims.join(', ')}] hold ${elementCount(dims)} values, got ${data.length}.`,
    );
  }
  // Typed arrays are little-endian on every platform Node supports; copy so the tensor owns its bytes.
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  return {
    ...emptyTensor(),
    name,
    dims: [...dims],
    dataType: dataTypeOf(data, opts.bool ?? false),
    rawData: raw,
  };
}

/** The values of an initializer or Constant tensor, whichever field holds them. */
export function tensorValues(t: Tensor): TensorArray {
  const n = elementCount(t.dims);
  if (t.dataLocation === 1 || t.externalData.length > 0) {
    throw new AppError(
      'bad_request',
      `Tensor ${t.name ?? '(unnamed)'} keeps its data in an external file; save the model with its weights inside the .onnx (onnx.save(..., save_as_external_data=False)).`,
    );
  }
  const type = t.dataType ?? 0;
  if (t.rawData !== undefined) {
    const size = BYTES_PER[type];
    if (size === undefined)
      throw new AppError('bad_request', `Tensor ${t.name}: data type ${type} is not supported here.`);
    if (t.rawData.length !== n * size) {
      throw new AppError(
        'bad_request',
        `Tensor ${t.name}: raw_data has ${t.rawData.length} bytes, expected ${n * size}.`,
      );
    }
    const copy = new Uint8Array(t.rawData); // an aligned copy (works for Buffer views too)
    switch (type) {
      case DataType.FLOAT:
        return new Float32Array(copy.buffer, 0, n);
      case DataType.DOUBLE:
        return new Float64Array(copy.buffer, 0, n);
      case DataType.INT32:
        return new Int32Array(copy.buffer, 0, n);
      case DataType.INT64:
        return new BigInt64Array(copy.buffer, 0, n);
      case DataType.INT8:
        return new Int8Array(copy.buffer, 0, n);
      default:
        return copy;
    }
  }
  switch (type) {
    case DataType.FLOAT:
      return Float32Array.from(t.floatData.length ? t.floatData : new Array<number>(n).fill(0));
    case DataType.DOUBLE:
      return Float64Array.from(t.doubleData);
    case DataType.INT64:
      return BigInt64Array.from(t.int64Data);
    case DataType.INT32:
      return Int32Array.from(t.int32Data);
    case DataType.INT8:
      return Int8Array.from(t.int32Data);
    case DataType.UINT8:
    case DataType.BOOL:
      return Uint8Array.from(t.int32Data);
    default:
      throw new AppError('bad_request', `Tensor ${t.name}: data type ${type} is not supported here.`);
  }
}

/** Integer tensor values as numbers (INT64/INT32/INT8/UINT8), for shape constants and ids. */
export function intValues(t: Tensor): number[] {
  const v = tensorValues(t);
  if (v instanceof Float32Array || v instanceof Float64Array)
    throw new AppError('bad_request', `Tensor ${t.name} is not integer.`);
  return Array.from(v as ArrayLike<number | bigint>, (x) => Number(x));
}

/** Replaces a tensor's values and dims in place, storing them as raw_data and clearing the other fields. */
export function setTensorValues(t: Tensor, data: TensorArray, dims: readonly number[]): void {
  const fresh = tensor(t.name ?? '', data, dims, { bool: t.dataType === DataType.BOOL });
  Object.assign(t, {
    ...emptyTensor(),
    name: t.name,
    docString: t.docString,
    dims: fresh.dims,
    dataType: fresh.dataType,
    rawData: fresh.rawData,
  });
  if (t.name === undefined) delete t.name;
  if (t.docString === undefined) delete t.docString;
}

// ---- attributes ----

/** Wraps numbers that must be stored as FLOAT/FLOATS even when they are whole (`{ alpha: float(1) }`). */
export class FloatAttr {
  constructor(readonly value: number | readonly number[]) {}
}
export const float = (value: number | readonly number[]): FloatAttr => new FloatAttr(value);

export type AttrValue =
  | number
  | bigint
  | string
  | readonly number[]
  | readonly bigint[]
  | readonly string[]
  | FloatAttr
  | Tensor
  | Graph;

const utf8 = new TextEncoder();
const isTensor = (v: object): v is Tensor => 'dims' in v && 'floatData' in v;
const isGraph = (v: object): v is Graph => 'node' in v && 'initializer' in v;

/** An attribute from a JS value: whole numbers → INT(S), fractions → FLOAT(S), strings → STRING(S). */
export function attribute(name: string, value: AttrValue): Attribute {
  const a: Attribute = { name, floats: [], ints: [], strings: [], tensors: [], graphs: [], typeProtos: [] };
  if (value instanceof FloatAttr) {
    if (typeof value.value === 'number') return { ...a, type: AttributeType.FLOAT, f: value.value };
    return { ...a, type: AttributeType.FLOATS, floats: [...value.value] };
  }
  if (typeof value === 'bigint') return { ...a, type: AttributeType.INT, i: value };
  if (typeof value === 'number') {
    return Number.isInteger(value)
      ? { ...a, type: AttributeType.INT, i: BigInt(value) }
      : { ...a, type: AttributeType.FLOAT, f: value };
  }
  if (typeof value === 'string') return { ...a, type: AttributeType.STRING, s: utf8.encode(value) };
  if (Array.isArray(value)) {
    const list = value as readonly (number | bigint | string)[];
    if (list.every((x) => typeof x === 'string'))
      return { ...a, type: AttributeType.STRINGS, strings: list.map((x) => utf8.encode(x as string)) };
    if (list.every((x) => typeof x === 'bigint' || Number.isInteger(x)))
      return { ...a, type: AttributeType.INTS, ints: list.map((x) => BigInt(x)) };
    return { ...a, type: AttributeType.FLOATS, floats: list.map(Number) };
  }
  const obj = value as Tensor | Graph;
  if (isTensor(obj)) return { ...a, type: AttributeType.TENSOR, t: obj };
  if (isGraph(obj)) return { ...a, type: AttributeType.GRAPH, g: obj };
  throw new AppError('bad_request', `Attribute ${name}: unsupported value.`);
}

export function getAttribute(node: Node, name: string): Attribute | undefined {
  return node.attribute.find((a) => a.name === name);
}

// ---- nodes, value infos, graphs, models ----

let nodeCounter = 0;
export function node(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attrs: Record<string, AttrValue> = {},
  opts: { name?: string; domain?: string } = {},
): Node {
  return {
    input: [...inputs],
    output: [...outputs],
    name: opts.name ?? `${opType}_${nodeCounter++}`,
    opType,
    ...(opts.domain !== undefined ? { domain: opts.domain } : {}),
    attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    metadataProps: [],
  };
}

/** Shape entries: a number is a fixed size, a string a symbolic one ('batch', 'sequence'), null unknown. */
export type ShapeSpec = readonly (number | string | null)[];

export function tensorType(elemType: number | DataTypeName, shape?: ShapeSpec): TypeProto {
  const elem = typeof elemType === 'number' ? elemType : DataType[elemType];
  return {
    tensorType: {
      elemType: elem,
      ...(shape
        ? {
            shape: {
              dim: shape.map((d) =>
                d === null ? {} : typeof d === 'number' ? { dimValue: d } : { dimParam: d },
              ),
            },
          }
        : {}),
    },
  };
}

export function valueInfo(name: string, elemType: number | DataTypeName, shape?: ShapeSpec): ValueInfo {
  return { name, type: tensorType(elemType, shape), metadataProps: [] };
}

/** A ValueInfo's shape as numbers/strings/null, or undefined when it has none. */
export function shapeOf(v: ValueInfo): (number | string | null)[] | undefined {
  const dims = v.type?.tensorType?.shape?.dim;
  return dims?.map((d) => d.dimValue ?? d.dimParam ?? null);
}

export function graph(spec: {
  name?: string;
  nodes: Node[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers?: Tensor[];
  valueInfo?: ValueInfo[];
}): Graph {
  return {
    name: spec.name ?? 'graph',
    node: spec.nodes,
    input: spec.inputs,
    output: spec.outputs,
    initializer: spec.initializers ?? [],
    valueInfo: spec.valueInfo ?? [],
    metadataProps: [],
  };
}

/** IR 8 / opset 17 by default: loadable by every onnxruntime since 1.13. */
export function model(
  g: Graph,
  opts: { opset?: number; irVersion?: number; producerName?: string; metadata?: Record<string, string> } = {},
): OnnxModel {
  return {
    irVersion: opts.irVersion ?? 8,
    producerName: opts.producerName ?? 'ctgi-studio',
    graph: g,
    opsetImport: [{ domain: '', version: opts.opset ?? 17 }],
    metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
}

// ---- queries for graph surgery ----

export interface Use {
  node: Node;
  /** Which input of the node. */
  index: number;
}

export function consumers(g: Graph, value: string): Use[] {
  const out: Use[] = [];
  for (const n of g.node) n.input.forEach((name, index) => name === value && out.push({ node: n, index }));
  return out;
}

export function producer(g: Graph, value: string): Node | undefined {
  return g.node.find((n) => n.output.includes(value));
}

/** A constant value in the graph: an initializer, or the tensor of a Constant node (value / value_ints / value_int). */
export interface ConstantRef {
  name: string;
  source: 'initializer' | 'constant';
  /** The TensorProto to read or rewrite (for value_ints constants, a tensor made from them). */
  tensor: Tensor;
  node?: Node;
}

export function constants(g: Graph): ConstantRef[] {
  const out: ConstantRef[] = g.initializer.map((t) => ({
    name: t.name ?? '',
    source: 'initializer' as const,
    tensor: t,
  }));
  for (const n of g.node) {
    if (n.opType !== 'Constant' || (n.domain ?? '') !== '') continue;
    const name = n.output[0] ?? '';
    const value = getAttribute(n, 'value');
    if (value?.t) {
      out.push({ name, source: 'constant', tensor: value.t, node: n });
      continue;
    }
    const ints = getAttribute(n, 'value_ints');
    if (ints)
      out.push({
        name,
        source: 'constant',
        tensor: tensor(name, BigInt64Array.from(ints.ints), [ints.ints.length]),
        node: n,
      });
    const int = getAttribute(n, 'value_int');
    if (int?.i !== undefined)
      out.push({ name, source: 'constant', tensor: tensor(name, BigInt64Array.of(int.i), []), node: n });
  }
  return out;
}

/**
 * Writes new values into a constant found by `constants()`, whatever form it had: an initializer is updated in
 * place; a Constant node gets a `value` tensor attribute (replacing value_ints/value_int).
 */
export function replaceConstant(ref: ConstantRef, data: TensorArray, dims: readonly number[]): void {
  if (ref.source === 'initializer') {
    setTensorValues(ref.tensor, data, dims);
    return;
  }
  const n = ref.node!;
  const existing = getAttribute(n, 'value');
  if (existing?.t) {
    setTensorValues(existing.t, data, dims);
    ref.tensor = existing.t;
    return;
  }
  const t = tensor(ref.name, data, dims);
  n.attribute = [
    ...n.attribute.filter((a) => a.name !== 'value_ints' && a.name !== 'value_int'),
    attribute('value', t),
  ];
  ref.tensor = t;
}
