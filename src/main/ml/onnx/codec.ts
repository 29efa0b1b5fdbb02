/**
 * ONNX ModelProto reader/writer over the wire format in wire.ts, driven by a schema that mirrors onnx.proto
 * (field numbers checked against onnx 1.23's onnx.proto). Messages we do not model (functions, training info,
 * sparse tensors, non-tensor types, …) and fields added by newer ONNX versions are kept as raw bytes in
 * `$unknown` and written back in field-number order, so decode → encode is lossless; for files written by the
 * reference C++ serializer (fields in number order) it is byte-identical.
 */
import { AppError } from '../../errors';
import {
  Reader,
  WIRE_BYTES,
  WIRE_FIXED32,
  WIRE_FIXED64,
  WIRE_VARINT,
  Writer,
  toInt32,
  toInt64Big,
  toInt64Number,
  toUint64Big,
} from './wire';

export interface UnknownField {
  no: number;
  /** Tag and payload exactly as read. */
  data: Uint8Array;
}

interface Unknowns {
  $unknown?: UnknownField[];
}

export interface StringStringEntry extends Unknowns {
  key?: string;
  value?: string;
}

export interface OperatorSetId extends Unknowns {
  domain?: string;
  version?: number;
}

export interface Dimension extends Unknowns {
  dimValue?: number;
  dimParam?: string;
  denotation?: string;
}

export interface TensorShape extends Unknowns {
  dim: Dimension[];
}

export interface TensorTypeProto extends Unknowns {
  elemType?: number;
  shape?: TensorShape;
}

/** Only tensor types are modelled; sequence/map/optional/sparse types stay in `$unknown`. */
export interface TypeProto extends Unknowns {
  tensorType?: TensorTypeProto;
  denotation?: string;
}

export interface ValueInfo extends Unknowns {
  name?: string;
  type?: TypeProto;
  docString?: string;
  metadataProps: StringStringEntry[];
}

export interface Tensor extends Unknowns {
  dims: number[];
  dataType?: number;
  floatData: number[];
  int32Data: number[];
  stringData: Uint8Array[];
  int64Data: bigint[];
  name?: string;
  docString?: string;
  rawData?: Uint8Array;
  externalData: StringStringEntry[];
  dataLocation?: number;
  doubleData: number[];
  uint64Data: bigint[];
  metadataProps: StringStringEntry[];
}

export interface Attribute extends Unknowns {
  name?: string;
  refAttrName?: string;
  docString?: string;
  type?: number;
  f?: number;
  i?: bigint;
  s?: Uint8Array;
  t?: Tensor;
  g?: Graph;
  tp?: TypeProto;
  floats: number[];
  ints: bigint[];
  strings: Uint8Array[];
  tensors: Tensor[];
  graphs: Graph[];
  typeProtos: TypeProto[];
}

export interface Node extends Unknowns {
  input: string[];
  output: string[];
  name?: string;
  opType?: string;
  domain?: string;
  overload?: string;
  attribute: Attribute[];
  docString?: string;
  metadataProps: StringStringEntry[];
}

export interface Graph extends Unknowns {
  node: Node[];
  name?: string;
  initializer: Tensor[];
  docString?: string;
  input: ValueInfo[];
  output: ValueInfo[];
  valueInfo: ValueInfo[];
  metadataProps: StringStringEntry[];
}

export interface OnnxModel extends Unknowns {
  irVersion?: number;
  opsetImport: OperatorSetId[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  graph?: Graph;
  metadataProps: StringStringEntry[];
}

// ---- schema ----

type ScalarKind = 'int32' | 'int64n' | 'int64b' | 'uint64b' | 'float' | 'double' | 'string' | 'bytes';
interface FieldDef {
  no: number;
  name: string;
  kind: ScalarKind | MessageDef;
  repeated?: boolean;
  /** Written packed (proto2 `[packed = true]`); reading accepts both forms either way. */
  packed?: boolean;
}
interface MessageDef {
  fields: FieldDef[];
  byNo: Map<number, FieldDef>;
}

const message = (fields: FieldDef[]): MessageDef => {
  const sorted = [...fields].sort((a, b) => a.no - b.no);
  return { fields: sorted, byNo: new Map(sorted.map((f) => [f.no, f])) };
};
// Late-bound references for the recursive messages (Attribute ↔ Graph ↔ Node, TypeProto).
const lazy = (): MessageDef => ({ fields: [], byNo: new Map() });
const fill = (target: MessageDef, source: MessageDef): void => {
  target.fields = source.fields;
  target.byNo = source.byNo;
};

const STRING_STRING = message([
  { no: 1, name: 'key', kind: 'string' },
  { no: 2, name: 'value', kind: 'string' },
]);
const OPSET = message([
  { no: 1, name: 'domain', kind: 'string' },
  { no: 2, name: 'version', kind: 'int64n' },
]);
const DIMENSION = message([
  { no: 1, name: 'dimValue', kind: 'int64n' },
  { no: 2, name: 'dimParam', kind: 'string' },
  { no: 3, name: 'denotation', kind: 'string' },
]);
const SHAPE = message([{ no: 1, name: 'dim', kind: DIMENSION, repeated: true }]);
const TENSOR_TYPE = message([
  { no: 1, name: 'elemType', kind: 'int32' },
  { no: 2, name: 'shape', kind: SHAPE },
]);
const TYPE = message([
  { no: 1, name: 'tensorType', kind: TENSOR_TYPE },
  { no: 6, name: 'denotation', kind: 'string' },
]);
const VALUE_INFO = message([
  { no: 1, name: 'name', kind: 'string' },
  { no: 2, name: 'type', kind: TYPE },
  { no: 3, name: 'docString', kind: 'string' },
  { no: 4, name: 'metadataProps', kind: STRING_STRING, repeated: true },
]);
const TENSOR = message([
  { no: 1, name: 'dims', kind: 'int64n', repeated: true },
  { no: 2, name: 'dataType', kind: 'int32' },
  { no: 4, name: 'floatData', kind: 'float', repeated: true, packed: true },
  { no: 5, name: 'int32Data', kind: 'int32', repeated: true, packed: true },
  { no: 6, name: 'stringData', kind: 'bytes', repeated: true },
  { no: 7, name: 'int64Data', kind: 'int64b', repeated: true, packed: true },
  { no: 8, name: 'name', kind: 'string' },
  { no: 9, name: 'rawData', kind: 'bytes' },
  { no: 10, name: 'doubleData', kind: 'double', repeated: true, packed: true },
  { no: 11, name: 'uint64Data', kind: 'uint64b', repeated: true, packed: true },
  { no: 12, name: 'docString', kind: 'string' },
  { no: 13, name: 'externalData', kind: STRING_STRING, repeated: true },
  { no: 14, name: 'dataLocation', kind: 'int32' },
  { no: 16, name: 'metadataProps', kind: STRING_STRING, repeated: true },
]);
const GRAPH = lazy();
const ATTRIBUTE = message([
  { no: 1, name: 'name', kind: 'string' },
  { no: 2, name: 'f', kind: 'float' },
  { no: 3, name: 'i', kind: 'int64b' },
  { no: 4, name: 's', kind: 'bytes' },
  { no: 5, name: 't', kind: TENSOR },
  { no: 6, name: 'g', kind: GRAPH },
  { no: 7, name: 'floats', kind: 'float', repeated: true },
  { no: 8, name: 'ints', kind: 'int64b', repeated: true },
  { no: 9, name: 'strings', kind: 'bytes', repeated: true },
  { no: 10, name: 'tensors', kind: TENSOR, repeated: true },
  { no: 11, name: 'graphs', kind: GRAPH, repeated: true },
  { no: 13, name: 'docString', kind: 'string' },
  { no: 14, name: 'tp', kind: TYPE },
  { no: 15, name: 'typeProtos', kind: TYPE, repeated: true },
  { no: 20, name: 'type', kind: 'int32' },
  { no: 21, name: 'refAttrName', kind: 'string' },
]);
const NODE = message([
  { no: 1, name: 'input', kind: 'string', repeated: true },
  { no: 2, name: 'output', kind: 'string', repeated: true },
  { no: 3, name: 'name', kind: 'string' },
  { no: 4, name: 'opType', kind: 'string' },
  { no: 5, name: 'attribute', kind: ATTRIBUTE, repeated: true },
  { no: 6, name: 'docString', kind: 'string' },
  { no: 7, name: 'domain', kind: 'string' },
  { no: 8, name: 'overload', kind: 'string' },
  { no: 9, name: 'metadataProps', kind: STRING_STRING, repeated: true },
]);
fill(
  GRAPH,
  message([
    { no: 1, name: 'node', kind: NODE, repeated: true },
    { no: 2, name: 'name', kind: 'string' },
    { no: 5, name: 'initializer', kind: TENSOR, repeated: true },
    { no: 10, name: 'docString', kind: 'string' },
    { no: 11, name: 'input', kind: VALUE_INFO, repeated: true },
    { no: 12, name: 'output', kind: VALUE_INFO, repeated: true },
    { no: 13, name: 'valueInfo', kind: VALUE_INFO, repeated: true },
    { no: 16, name: 'metadataProps', kind: STRING_STRING, repeated: true },
  ]),
);
const MODEL = message([
  { no: 1, name: 'irVersion', kind: 'int64n' },
  { no: 2, name: 'producerName', kind: 'string' },
  { no: 3, name: 'producerVersion', kind: 'string' },
  { no: 4, name: 'domain', kind: 'string' },
  { no: 5, name: 'modelVersion', kind: 'int64n' },
  { no: 6, name: 'docString', kind: 'string' },
  { no: 7, name: 'graph', kind: GRAPH },
  { no: 8, name: 'opsetImport', kind: OPSET, repeated: true },
  { no: 14, name: 'metadataProps', kind: STRING_STRING, repeated: true },
]);

// ---- decode ----

type Obj = Record<string, unknown> & Unknowns;

const wireOf = (kind: FieldDef['kind']): number => {
  if (typeof kind !== 'string') return WIRE_BYTES;
  switch (kind) {
    case 'float':
      return WIRE_FIXED32;
    case 'double':
      return WIRE_FIXED64;
    case 'string':
    case 'bytes':
      return WIRE_BYTES;
    default:
      return WIRE_VARINT;
  }
};

function readScalar(r: Reader, kind: ScalarKind): unknown {
  switch (kind) {
    case 'int32':
      return toInt32(r.varint());
    case 'int64n':
      return toInt64Number(r.varint());
    case 'int64b':
      return toInt64Big(r.varint());
    case 'uint64b':
      return toUint64Big(r.varint());
    case 'float':
      return r.fixed32();
    case 'double':
      return r.fixed64();
    case 'string':
      return r.string();
    case 'bytes':
      return r.bytes();
  }
}

function decodeMessage(def: MessageDef, r: Reader, end: number): Obj {
  const out: Obj = {};
  for (const f of def.fields) if (f.repeated) out[f.name] = [];
  while (r.pos < end) {
    const start = r.pos;
    const tag = r.uint32();
    const no = tag >>> 3;
    const wire = tag & 7;
    const f = def.byNo.get(no);
    const expected = f ? wireOf(f.kind) : -1;
    if (!f || (wire !== expected && !(f.repeated && wire === WIRE_BYTES && expected !== WIRE_BYTES))) {
      r.skip(wire, no);
      (out.$unknown ??= []).push({ no, data: r.buf.subarray(start, r.pos) });
      continue;
    }
    if (typeof f.kind !== 'string') {
      const len = r.uint32();
      const value = decodeMessage(f.kind, r, r.pos + len);
      if (f.repeated) (out[f.name] as unknown[]).push(value);
      else out[f.name] = value;
    } else if (f.repeated && wire === WIRE_BYTES && expected !== WIRE_BYTES) {
      // A packed run of numbers.
      const len = r.uint32();
      const stop = r.pos + len;
      const list = out[f.name] as unknown[];
      while (r.pos < stop) list.push(readScalar(r, f.kind));
    } else {
      const value = readScalar(r, f.kind);
      if (f.repeated) (out[f.name] as unknown[]).push(value);
      else out[f.name] = value;
    }
  }
  if (r.pos !== end)
    throw new AppError(
      'bad_request',
      'The ONNX file is not a valid protobuf (a message overruns its length).',
    );
  return out;
}

// ---- encode ----

function writeScalar(w: Writer, kind: ScalarKind, v: unknown): void {
  switch (kind) {
    case 'int32':
    case 'int64n':
    case 'int64b':
    case 'uint64b':
      w.varint(v as number | bigint);
      return;
    case 'float':
      w.float32(v as number);
      return;
    case 'double':
      w.float64(v as number);
      return;
    case 'string':
      w.string(v as string);
      return;
    case 'bytes':
      w.bytes(v as Uint8Array);
      return;
  }
}

function writeField(w: Writer, f: FieldDef, v: unknown): void {
  const kind = f.kind;
  if (typeof kind !== 'string') {
    w.tag(f.no, WIRE_BYTES);
    w.nested((inner) => encodeMessage(kind, inner, v as Obj));
    return;
  }
  w.tag(f.no, wireOf(kind));
  writeScalar(w, kind, v);
}

function encodeMessage(def: MessageDef, w: Writer, obj: Obj): void {
  const unknown = obj.$unknown ? [...obj.$unknown].sort((a, b) => a.no - b.no) : [];
  let u = 0;
  for (const f of def.fields) {
    while (u < unknown.length && unknown[u]!.no < f.no) w.raw(unknown[u++]!.data);
    const v = obj[f.name];
    if (v === undefined || v === null) continue;
    if (!f.repeated) {
      writeField(w, f, v);
      continue;
    }
    const list = v as unknown[];
    if (list.length === 0) continue;
    if (f.packed && typeof f.kind === 'string') {
      const kind = f.kind;
      w.tag(f.no, WIRE_BYTES);
      w.nested((inner) => {
        for (const item of list) writeScalar(inner, kind, item);
      });
      continue;
    }
    for (const item of list) writeField(w, f, item);
  }
  while (u < unknown.length) w.raw(unknown[u++]!.data);
}

/** Parses an .onnx file (ModelProto). Byte fields such as raw_data are views into `bytes`: keep it alive. */
export function decodeModel(input: Uint8Array): OnnxModel {
  // A plain Uint8Array view: a Node Buffer's subarray/slice would also be Buffers, whose slice() does not copy.
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const r = new Reader(bytes);
  const model = decodeMessage(MODEL, r, bytes.length) as unknown as OnnxModel;
  if (!model.graph) {
    throw new AppError(
      'bad_request',
      'The file parsed as protobuf but has no ONNX graph: is it an .onnx model?',
    );
  }
  return model;
}

export function encodeModel(model: OnnxModel): Uint8Array {
  const w = new Writer();
  encodeMessage(MODEL, w, model as unknown as Obj);
  return w.finish();
}

/** For tests and tools: encode/decode a single tensor or graph. */
export const encodeTensor = (t: Tensor): Uint8Array => {
  const w = new Writer();
  encodeMessage(TENSOR, w, t as unknown as Obj);
  return w.finish();
};
export const decodeTensor = (input: Uint8Array): Tensor => {
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  return decodeMessage(TENSOR, new Reader(bytes), bytes.length) as unknown as Tensor;
};
