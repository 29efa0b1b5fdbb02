import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/main/errors';
import {
  DataType,
  consumers,
  constants,
  decodeModel,
  encodeModel,
  float,
  getAttribute,
  graph,
  intValues,
  model,
  node,
  producer,
  replaceConstant,
  shapeOf,
  tensor,
  tensorValues,
  valueInfo,
} from '../../src/main/ml/onnx';

// Written by the reference onnx Python package (see make_python_fixture.py beside it): local functions, a sparse
// initializer, training info, a sequence output, an If with subgraphs, INT64_MAX and negative ints.
const PYTHON_MADE = readFileSync(resolve(__dirname, '../fixtures/onnx/python-made.onnx'));

describe('ONNX codec', () => {
  it('round-trips a model written by the onnx Python package byte for byte', () => {
    const m = decodeModel(PYTHON_MADE);
    expect(Buffer.from(encodeModel(m)).equals(PYTHON_MADE)).toBe(true);
  });

  it('reads the fields we model from that file', () => {
    const m = decodeModel(PYTHON_MADE);
    expect(m).toMatchObject({
      irVersion: 8,
      producerName: 'onnx-python',
      producerVersion: '1.23',
      modelVersion: 3,
    });
    expect(m.opsetImport.map((o) => [o.domain, o.version])).toEqual([
      ['', 17],
      ['local.fn', 1],
    ]);
    expect(m.metadataProps).toEqual([
      { key: 'author', value: 'ctgi' },
      { key: 'note', value: 'unicode ✓' },
    ]);
    const g = m.graph!;
    expect(g.name).toBe('python_made');
    expect(shapeOf(g.input[0]!)).toEqual(['batch', 4]);
    expect(shapeOf(g.output[0]!)).toEqual([null]);
    const init = Object.fromEntries(g.initializer.map((t) => [t.name, t]));
    expect(tensorValues(init.ends!)).toEqual(BigInt64Array.of(9223372036854775807n));
    expect(intValues(init.axes!)).toEqual([-1]);
    expect(Array.from(tensorValues(init.raw_w!) as Float32Array)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(init.f_data!.rawData).toBeUndefined();
    expect(Array.from(tensorValues(init.f_data!) as Float32Array)).toEqual([0.5, -1, Math.fround(1e-30)]);
    const byName = Object.fromEntries(constants(g).map((c) => [c.name, c]));
    expect(tensorValues(byName.cints!.tensor)).toEqual(BigInt64Array.of(-1n, 2n, 9223372036854775807n));
    expect(Array.from(tensorValues(byName.cf!.tensor) as Float32Array)).toEqual([1.5, -2.25]);
    const ifNode = g.node.find((n) => n.opType === 'If')!;
    expect(getAttribute(ifNode, 'else_branch')!.g!.node[0]!.opType).toBe('Neg');
    expect(
      getAttribute(
        g.node.find((n) => n.opType === 'LeakyRelu')!,
        'alpha',
      )!.f,
    ).toBeCloseTo(0.1, 6);
    expect(g.node.find((n) => n.name === 'add')!.docString).toBe('adds');
    // Not modelled, kept raw: local functions (25), training info (20), sparse initializers (15), sequence types.
    expect(m.$unknown!.map((u) => u.no).sort()).toEqual([20, 25]);
    expect(g.$unknown!.map((u) => u.no)).toEqual([15]);
    expect(g.output[1]!.type!.$unknown!.length).toBe(1);
  });

  it('keeps unknown fields through an edit', () => {
    const m = decodeModel(PYTHON_MADE);
    m.graph!.node[0]!.name = 'renamed_slice';
    const again = decodeModel(encodeModel(m));
    expect(again.graph!.node[0]!.name).toBe('renamed_slice');
    expect(again.$unknown).toEqual(m.$unknown);
    expect(again.graph!.$unknown).toEqual(m.graph!.$unknown);
  });

  it('authors a small graph that onnxruntime runs, with a symbolic batch dimension', async () => {
    const g = graph({
      name: 'tiny',
      nodes: [
        node('MatMul', ['x', 'W'], ['y0']),
        node('Add', ['y0', 'b'], ['y1']),
        node('LeakyRelu', ['y1'], ['y'], { alpha: float(0.5) }),
        node('ArgMax', ['y'], ['best'], { axis: 1, keepdims: 0 }),
      ],
      inputs: [valueInfo('x', 'FLOAT', ['batch', 2])],
      outputs: [valueInfo('y', 'FLOAT', ['batch', 3]), valueInfo('best', 'INT64', ['batch'])],
      initializers: [
        tensor('W', new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]),
        tensor('b', new Float32Array([-10, 0, 1]), [3]),
      ],
    });
    const bytes = encodeModel(model(g));
    expect(Buffer.from(encodeModel(decodeModel(bytes))).equals(Buffer.from(bytes))).toBe(true);
    const session = await ort.InferenceSession.create(bytes);
    const out = await session.run({ x: new ort.Tensor('float32', new Float32Array([1, 1, 0, 2]), [2, 2]) });
    // [1,1]·W = [5,7,9] + b = [-5,7,10] → leaky(0.5) → [-2.5,7,10]; [0,2]·W = [8,10,12] + b → [-2,10,13] → [-1,10,13]
    expect(Array.from(out.y!.data as Float32Array)).toEqual([-2.5, 7, 10, -1, 10, 13]);
    expect(Array.from(out.best!.data as BigInt64Array)).toEqual([2n, 2n]);
  });

  it('writes large initializers, Constant nodes and graph queries that onnxruntime agrees with', async () => {
    const n = 4096; // > the writer's by-reference threshold
    const table = Float32Array.from({ length: n * 2 }, (_, i) => i / 8);
    const g = graph({
      nodes: [
        node('Constant', [], ['idx'], { value_ints: [0, 4095, 17] }),
        node('Gather', ['table', 'idx'], ['rows']),
        node('Constant', [], ['scale'], { value: tensor('scale', new Float32Array([2]), []) }),
        node('Mul', ['rows', 'scale'], ['out']),
      ],
      inputs: [],
      outputs: [valueInfo('out', 'FLOAT', [3, 2])],
      initializers: [tensor('table', table, [n, 2])],
    });
    const m = decodeModel(encodeModel(model(g)));
    expect(consumers(m.graph!, 'table').map((u) => [u.node.opType, u.index])).toEqual([['Gather', 0]]);
    expect(producer(m.graph!, 'rows')!.opType).toBe('Gather');
    const idx = constants(m.graph!).find((c) => c.name === 'idx')!;
    replaceConstant(idx, BigInt64Array.of(1n, 2n, 3n), [3]);
    expect(getAttribute(idx.node!, 'value_ints')).toBeUndefined();
    const session = await ort.InferenceSession.create(encodeModel(m));
    const out = await session.run({});
    expect(Array.from(out.out!.data as Float32Array)).toEqual([0.5, 0.75, 1, 1.25, 1.5, 1.75]);
    expect(m.graph!.initializer[0]!.dataType).toBe(DataType.FLOAT);
  });

  it('refuses truncated or non-ONNX bytes with a readable error', () => {
    expect(() => decodeModel(PYTHON_MADE.subarray(0, 300))).toThrow(AppError);
    expect(() => decodeModel(PYTHON_MADE.subarray(0, 300))).toThrow(/not a valid protobuf|no ONNX graph/);
    expect(() => decodeModel(new TextEncoder().encode('hello world, not a model'))).toThrow(AppError);
    expect(() => tensor('bad', new Float32Array(3), [2, 2])).toThrow(/hold 4 values, got 3/);
  });
});
