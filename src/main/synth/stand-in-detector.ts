// A stand-in for a real person detector's cost: YOLOv8n's graph (Ultralytics' yolov8n.yaml at width 0.25,
// depth 0.33: Conv/C2f/SPPF backbone, PAN neck, decoupled head with DFL box decoding, output [1, 84, 8400]),
// with random weights, built with the project's ONNX builder. It finds nothing (its class biases make every
// score ≈ 5e-5, as Ultralytics initialises them); what it is for is timing: the same convolutions, sizes
// and FLOPs as the real model, so the footage benchmark can say what a real detector costs here.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DETECTOR_MANIFEST_FILE, type DetectorManifest } from '../ml/detector/spec';
import { encodeModel, graph, model, node, valueInfo } from '../ml/onnx';
import { GraphWriter } from './toy-clip/graph';
import { createRng, deriveSeed, type Rng } from '../rng';

export const STAND_IN_INPUT = 640;
const CLASSES = 80;
const REG_MAX = 16;
const STRIDES = [8, 16, 32] as const;

export interface StandInModel {
  bytes: Uint8Array;
  /** Multiply-accumulates of the convolutions at 640 × 640, × 2 (the FLOPs Ultralytics quotes: 8.7 G for v8n). */
  flops: number;
  parameters: number;
}

interface Tensor4 {
  name: string;
  c: number;
  h: number;
  w: number;
}

class Builder {
  readonly g = new GraphWriter();
  flops = 0;
  parameters = 0;
  private n = 0;
  constructor(private readonly rng: Rng) {}

  private id(prefix: string): string {
    return `${prefix}_${this.n++}`;
  }

  /** He-normal weights (Box–Muller), scaled so activations stay in range through 200+ layers. */
  private weights(count: number, fanIn: number, gain = 1): Float32Array {
    const w = new Float32Array(count);
    const std = gain * Math.sqrt(1 / fanIn);
    for (let i = 0; i < count; i++) {
      const u = Math.max(1e-12, this.rng.next());
      const v = this.rng.next();
      w[i] = std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
    return w;
  }

  /** Conv2d (+ bias) and, unless `plain`, SiLU — a fused Conv + BatchNorm + SiLU of Ultralytics' Conv. */
  conv(
    x: Tensor4,
    cout: number,
    k: number,
    s: number,
    opts: { plain?: boolean; bias?: number; gain?: number } = {},
  ): Tensor4 {
    const name = this.id('conv');
    const pad = Math.floor(k / 2);
    const h = Math.floor((x.h + 2 * pad - k) / s) + 1;
    const w = Math.floor((x.w + 2 * pad - k) / s) + 1;
    const fanIn = x.c * k * k;
    this.g.floats(`${name}_w`, this.weights(cout * fanIn, fanIn, opts.gain ?? 1), [cout, x.c, k, k]);
    this.g.floats(`${name}_b`, new Float32Array(cout).fill(opts.bias ?? 0), [cout]);
    this.parameters += cout * fanIn + cout;
    this.flops += 2 * cout * fanIn * h * w;
    this.g.op('Conv', [x.name, `${name}_w`, `${name}_b`], `${name}_y`, {
      kernel_shape: [k, k],
      strides: [s, s],
      pads: [pad, pad, pad, pad],
    });
    if (opts.plain) return { name: `${name}_y`, c: cout, h, w };
    this.g.op('Sigmoid', [`${name}_y`], `${name}_sig`);
    this.g.op('Mul', [`${name}_y`, `${name}_sig`], `${name}_out`);
    return { name: `${name}_out`, c: cout, h, w };
  }

  add(a: Tensor4, b: Tensor4): Tensor4 {
    return { ...a, name: this.g.op('Add', [a.name, b.name], this.id('add')) };
  }

  concat(xs: Tensor4[]): Tensor4 {
    const out = this.g.op(
      'Concat',
      xs.map((x) => x.name),
      this.id('cat'),
      { axis: 1 },
    );
    return { name: out, c: xs.reduce((s, x) => s + x.c, 0), h: xs[0]!.h, w: xs[0]!.w };
  }

  split(x: Tensor4, parts: number[]): Tensor4[] {
    const name = this.id('split');
    this.g.ints(`${name}_sizes`, parts);
    const outs = parts.map((_, i) => `${name}_${i}`);
    this.g.nodes.push(node('Split', [x.name, `${name}_sizes`], outs, { axis: 1 }, { name }));
    return parts.map((c, i) => ({ name: outs[i]!, c, h: x.h, w: x.w }));
  }

  /** C2f: 1×1 conv, split in two, n bottlenecks on the second half (each kept), concat, 1×1 conv. */
  c2f(x: Tensor4, cout: number, n: number, shortcut: boolean): Tensor4 {
    const c = Math.floor(cout / 2);
    const y = this.conv(x, 2 * c, 1, 1);
    const parts = this.split(y, [c, c]);
    const kept = [...parts];
    let cur = parts[1]!;
    for (let i = 0; i < n; i++) {
      const b = this.conv(this.conv(cur, c, 3, 1), c, 3, 1);
      cur = shortcut ? this.add(cur, b) : b;
      kept.push(cur);
    }
    return this.conv(this.concat(kept), cout, 1, 1);
  }

  sppf(x: Tensor4, cout: number): Tensor4 {
    const y = this.conv(x, Math.floor(x.c / 2), 1, 1);
    const pools = [y];
    for (let i = 0; i < 3; i++) {
      const p = this.g.op('MaxPool', [pools.at(-1)!.name], this.id('pool'), {
        kernel_shape: [5, 5],
        strides: [1, 1],
        pads: [2, 2, 2, 2],
      });
      pools.push({ ...y, name: p });
    }
    return this.conv(this.concat(pools), cout, 1, 1);
  }

  upsample(x: Tensor4): Tensor4 {
    const name = this.id('up');
    this.g.floats(`${name}_scales`, [1, 1, 2, 2], [4]);
    this.g.op('Resize', [x.name, '', `${name}_scales`], name, { mode: 'nearest' });
    return { name, c: x.c, h: x.h * 2, w: x.w * 2 };
  }
}

/** Builds the stand-in (deterministic for a seed). */
export function buildStandInDetector(seed = 0): StandInModel {
  const b = new Builder(createRng(deriveSeed('stand-in-detector', seed)));
  const g = b.g;
  const input: Tensor4 = { name: 'images', c: 3, h: STAND_IN_INPUT, w: STAND_IN_INPUT };
  // Backbone.
  const x1 = b.conv(input, 16, 3, 2);
  const x2 = b.c2f(b.conv(x1, 32, 3, 2), 32, 1, true);
  const p3 = b.c2f(b.conv(x2, 64, 3, 2), 64, 2, true);
  const p4 = b.c2f(b.conv(p3, 128, 3, 2), 128, 2, true);
  const p5 = b.sppf(b.c2f(b.conv(p4, 256, 3, 2), 256, 1, true), 256);
  // Neck.
  const h12 = b.c2f(b.concat([b.upsample(p5), p4]), 128, 1, false);
  const out3 = b.c2f(b.concat([b.upsample(h12), p3]), 64, 1, false);
  const out4 = b.c2f(b.concat([b.conv(out3, 64, 3, 2), h12]), 128, 1, false);
  const out5 = b.c2f(b.concat([b.conv(out4, 128, 3, 2), p5]), 256, 1, false);
  // Head: per level, box distributions (4 × 16) and class logits (80), flattened and joined.
  const c2 = Math.max(16, 64 / 4, REG_MAX * 4);
  const c3 = Math.max(64, Math.min(CLASSES, 100));
  const clsBias = Math.log(5 / CLASSES / (640 / 8) ** 2);
  const flat: string[] = [];
  for (const [i, x] of [out3, out4, out5].entries()) {
    const box = b.conv(b.conv(b.conv(x, c2, 3, 1), c2, 3, 1), 4 * REG_MAX, 1, 1, { plain: true, bias: 1 });
    const cls = b.conv(b.conv(b.conv(x, c3, 3, 1), c3, 3, 1), CLASSES, 1, 1, {
      plain: true,
      bias: clsBias,
      gain: 0.01,
    });
    const both = b.concat([box, cls]);
    g.ints(`flat_shape_${i}`, [1, 4 * REG_MAX + CLASSES, -1]);
    flat.push(g.op('Reshape', [both.name, `flat_shape_${i}`], `flat_${i}`));
  }
  const anchors = STRIDES.reduce((n, s) => n + (STAND_IN_INPUT / s) ** 2, 0); // 8400
  g.op('Concat', flat, 'head', { axis: 2 }); // [1, 144, 8400]
  g.ints('head_split', [4 * REG_MAX, CLASSES]);
  g.nodes.push(
    node('Split', ['head', 'head_split'], ['box_dist', 'cls_logits'], { axis: 1 }, { name: 'head_split' }),
  );
  // DFL: softmax over 16 bins per side, expectation by a fixed 1×1 convolution with weights 0..15.
  g.ints('dfl_shape', [1, 4, REG_MAX, anchors]);
  g.op('Reshape', ['box_dist', 'dfl_shape'], 'dfl_4d');
  g.op('Transpose', ['dfl_4d'], 'dfl_t', { perm: [0, 2, 1, 3] }); // [1,16,4,N]
  g.op('Softmax', ['dfl_t'], 'dfl_p', { axis: 1 });
  g.floats(
    'dfl_w',
    Array.from({ length: REG_MAX }, (_, i) => i),
    [1, REG_MAX, 1, 1],
  );
  g.op('Conv', ['dfl_p', 'dfl_w'], 'dfl_e'); // [1,1,4,N]
  g.ints('ltrb_shape', [1, 4, anchors]);
  g.op('Reshape', ['dfl_e', 'ltrb_shape'], 'ltrb');
  g.ints('ltrb_split', [2, 2]);
  g.nodes.push(node('Split', ['ltrb', 'ltrb_split'], ['lt', 'rb'], { axis: 1 }, { name: 'ltrb_split' }));
  // Anchor points (cell centres, in cells) and strides.
  const points: number[] = [];
  const strides: number[] = [];
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of STRIDES) {
    const n = STAND_IN_INPUT / s;
    for (let y = 0; y < n; y++)
      for (let x = 0; x < n; x++) {
        xs.push(x + 0.5);
        ys.push(y + 0.5);
        strides.push(s);
      }
  }
  points.push(...xs, ...ys);
  g.floats('anchor_points', points, [1, 2, anchors]);
  g.floats('anchor_strides', strides, [1, 1, anchors]);
  g.op('Sub', ['anchor_points', 'lt'], 'xy1');
  g.op('Add', ['anchor_points', 'rb'], 'xy2');
  g.op('Add', ['xy1', 'xy2'], 'xy_sum');
  g.floats('half', [0.5], []);
  g.op('Mul', ['xy_sum', 'half'], 'centre');
  g.op('Sub', ['xy2', 'xy1'], 'size');
  g.op('Concat', ['centre', 'size'], 'cxcywh', { axis: 1 });
  g.op('Mul', ['cxcywh', 'anchor_strides'], 'boxes'); // [1,4,N] input pixels
  g.op('Sigmoid', ['cls_logits'], 'scores');
  g.op('Concat', ['boxes', 'scores'], 'output0', { axis: 1 }); // [1,84,8400]
  const gr = graph({
    name: 'stand_in_yolov8n',
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: [valueInfo('images', 'FLOAT', [1, 3, STAND_IN_INPUT, STAND_IN_INPUT])],
    outputs: [valueInfo('output0', 'FLOAT', [1, 4 + CLASSES, anchors])],
  });
  return {
    bytes: encodeModel(
      model(gr, { producerName: 'ctgi-studio stand-in', metadata: { 'ctgi.stand-in': 'yolov8n' } }),
    ),
    flops: b.flops,
    parameters: b.parameters,
  };
}

/** Writes the stand-in as a detector folder (YOLOv8 contract, COCO's 80 classes, person = 0). */
export async function writeStandInDetectorFolder(
  dir: string,
  seed = 0,
): Promise<{ dir: string; model: StandInModel }> {
  const out = path.resolve(dir);
  await mkdir(out, { recursive: true });
  const m = buildStandInDetector(seed);
  await writeFile(path.join(out, 'yolov8n-stand-in.onnx'), m.bytes);
  const manifest: DetectorManifest = {
    name: 'yolov8n-sized stand-in (random weights)',
    file: 'yolov8n-stand-in.onnx',
    contract: 'yolov8',
    inputSize: [STAND_IN_INPUT, STAND_IN_INPUT],
    personClass: 0,
    classes: CLASSES,
    scoreThreshold: 0.25,
    nmsIou: 0.45,
    maxDetections: 300,
    preprocess: {},
  };
  await writeFile(path.join(out, DETECTOR_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return { dir: out, model: m };
}
