// Detector model folders (see spec.ts for the contract): loadDetectorFolder() checks the manifest, the ONNX
// file, the graph's inputs and outputs against the declared contract, and one probe run, and lists every
// problem it finds in words a user can act on — like ml/models.ts does for CLIP.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { AppError } from '../../errors';
import type { ProviderChoice } from '../encoder';
import type { SessionInfo, ValueInfo } from '../encoder-protocol';
import { sha256File } from '../models';
import { PersonDetector } from './detector';
import {
  DETECTOR_MANIFEST_FILE,
  detectorManifestSchema,
  preprocessOf,
  type DetectorIo,
  type DetectorManifest,
  type DetectorRunSpec,
} from './spec';

export interface DetectorFolder {
  dir: string;
  manifest: DetectorManifest;
  modelPath: string;
  sha256: string;
  spec: DetectorRunSpec;
  /** Accepted with a remark. */
  notes: string[];
}

const shape = (v: ValueInfo): string => `[${v.shape.join(', ')}]`;
const num = (d: number | string | undefined): number | null => (typeof d === 'number' && d > 0 ? d : null);

const EXAMPLE =
  '{"name": "yolov8n-coco", "file": "yolov8n.onnx", "contract": "yolov8", "inputSize": [640, 640], "personClass": 0}';

function readManifest(dir: string, problems: string[]): DetectorManifest | null {
  const file = join(dir, DETECTOR_MANIFEST_FILE);
  if (!existsSync(file)) {
    problems.push(
      `${DETECTOR_MANIFEST_FILE} is missing. Create it beside the ONNX file, e.g. ${EXAMPLE} ` +
        `(contract: yolov8 for YOLOv8/YOLO11, yolox, or rtdetr; personClass: the index of "person" among the model's classes).`,
    );
    return null;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    problems.push(
      `${DETECTOR_MANIFEST_FILE} is not valid JSON (${err instanceof Error ? err.message : String(err)}).`,
    );
    return null;
  }
  const parsed = detectorManifestSchema.safeParse(raw);
  if (!parsed.success) {
    for (const i of parsed.error.issues)
      problems.push(`${DETECTOR_MANIFEST_FILE}: "${i.path.join('.') || '(root)'}" ${i.message}.`);
    return null;
  }
  const m = parsed.data;
  if (m.yolox && m.contract !== 'yolox')
    problems.push(`${DETECTOR_MANIFEST_FILE}: "yolox" settings are given but the contract is ${m.contract}.`);
  if (m.classes !== undefined && m.personClass >= m.classes)
    problems.push(
      `${DETECTOR_MANIFEST_FILE}: personClass ${m.personClass} is not below classes ${m.classes}.`,
    );
  return m;
}

function checkInput(
  info: SessionInfo,
  m: DetectorManifest,
  problems: string[],
  notes: string[],
): { name: string; fixedBatch: number | null } | null {
  const images = info.inputs.filter((i) => i.type === 'float32' && i.shape.length === 4);
  const input = images.find((i) => i.name === 'images') ?? images[0];
  if (!input) {
    problems.push(
      `${m.file} has no float32 image input [batch, 3, H, W]; its inputs: ${info.inputs.map((i) => `"${i.name}" ${i.type} ${shape(i)}`).join(', ')}.`,
    );
    return null;
  }
  const [b, c, h, w] = input.shape;
  if (num(c) !== null && c !== 3)
    problems.push(`${m.file}: input "${input.name}" has ${c} channels; expected 3.`);
  if ((num(h) !== null && h !== m.inputSize[0]) || (num(w) !== null && w !== m.inputSize[1]))
    problems.push(
      `${m.file} takes ${h}×${w} images but ${DETECTOR_MANIFEST_FILE} says inputSize [${m.inputSize.join(', ')}]; make them agree.`,
    );
  const fixedBatch = num(b);
  if (fixedBatch === 1)
    notes.push(`${m.file} has a fixed batch size of 1: frames are detected one at a time.`);
  return { name: input.name, fixedBatch };
}

function checkOutputs(
  info: SessionInfo,
  m: DetectorManifest,
  input: string,
  problems: string[],
  notes: string[],
): DetectorIo | null {
  const outs = info.outputs;
  const list = outs.map((o) => `"${o.name}" ${o.type} ${shape(o)}`).join(', ');
  if (m.contract === 'rtdetr') {
    const named = (n: string): ValueInfo | undefined => outs.find((o) => o.name === n);
    const [labels, boxes, scores] = [named('labels'), named('boxes'), named('scores')];
    if (!labels || !boxes || !scores) {
      problems.push(
        `${m.file} should have outputs "labels", "boxes" and "scores" (RT-DETR's deploy export, with its postprocessor); it has ${list}.`,
      );
      return null;
    }
    if (boxes.shape.length !== 3 || (num(boxes.shape[2]) !== null && boxes.shape[2] !== 4))
      problems.push(`${m.file}: output "boxes" has shape ${shape(boxes)}; expected [batch, queries, 4].`);
    const sizes = info.inputs.find((i) => i.name !== input) ?? null;
    if (!sizes)
      notes.push(`${m.file} has no orig_target_sizes input: its boxes are taken as model-input pixels.`);
    const t = sizes?.type;
    if (sizes && t !== 'int64' && t !== 'int32' && t !== 'float32') {
      problems.push(
        `${m.file}: input "${sizes.name}" is ${t}; expected orig_target_sizes as int64 [batch, 2].`,
      );
      return null;
    }
    return {
      contract: 'rtdetr',
      input,
      sizes: sizes?.name ?? null,
      sizesType: (t as 'int64' | 'int32' | 'float32' | undefined) ?? 'int64',
      labels: labels.name,
      boxes: boxes.name,
      scores: scores.name,
    };
  }
  const out = outs.find((o) => o.type === 'float32' && (o.shape.length === 3 || o.shape.length === 0));
  if (!out) {
    problems.push(
      `${m.file} has no float32 output of rank 3 (${m.contract === 'yolov8' ? '[1, 4+C, N]' : '[1, N, 5+C]'}); it has ${list}. ` +
        `Export without NMS inside the graph (Ultralytics: export(format="onnx", nms=False)).`,
    );
    return null;
  }
  if (outs.length > 1) notes.push(`${m.file} has ${outs.length} outputs; using "${out.name}" ${shape(out)}.`);
  const [, d1, d2] = out.shape.map(num);
  if (m.contract === 'yolov8') {
    if (d1 != null && d2 != null) {
      const channels = Math.min(d1, d2);
      if (channels < 5)
        problems.push(
          `${m.file}: output ${shape(out)} has no class scores; expected [1, 4+C, N] (YOLOv8/YOLO11).`,
        );
      else checkClasses(m, channels - 4, out, problems);
      if (d1 > d2) notes.push(`${m.file}: output ${shape(out)} is [1, N, 4+C] (transposed); read that way.`);
    }
    return { contract: 'yolov8', input, output: out.name };
  }
  const yx = m.yolox ?? { decoded: false, strides: [8, 16, 32] };
  if (d2 != null) {
    if (d2 < 6) problems.push(`${m.file}: output ${shape(out)} is not [1, N, 5+C] (YOLOX).`);
    else checkClasses(m, d2 - 5, out, problems);
  }
  if (!yx.decoded && d1 != null) {
    const rows = yx.strides.reduce(
      (n, s) => n + Math.floor(m.inputSize[0] / s) * Math.floor(m.inputSize[1] / s),
      0,
    );
    if (rows !== d1)
      problems.push(
        `${m.file}: ${d1} rows, but undecoded YOLOX outputs at strides ${yx.strides.join('/')} on ${m.inputSize.join('×')} have ${rows}; ` +
          `set "yolox": {"decoded": true} if it was exported with --decode_in_inference, or give its strides.`,
      );
  }
  notes.push(
    yx.decoded
      ? `YOLOX boxes are taken as decoded (input pixels).`
      : `YOLOX boxes are decoded here from grid offsets at strides ${yx.strides.join('/')} (the exporter's default).`,
  );
  return { contract: 'yolox', input, output: out.name, decoded: yx.decoded, strides: yx.strides };
}

function checkClasses(m: DetectorManifest, classes: number, out: ValueInfo, problems: string[]): void {
  if (m.personClass >= classes)
    problems.push(
      `${m.file}: personClass ${m.personClass} but the output ${shape(out)} has ${classes} classes.`,
    );
  if (m.classes !== undefined && m.classes !== classes)
    problems.push(
      `${m.file}: output ${shape(out)} has ${classes} classes but ${DETECTOR_MANIFEST_FILE} says ${m.classes}.`,
    );
}

function fail(dir: string, problems: string[]): never {
  throw new AppError(
    'bad_request',
    `The detector folder ${dir} cannot be used:\n${problems.map((p) => `- ${p}`).join('\n')}`,
  );
}

/** Validates a detector folder; throws one AppError listing every problem found. */
export async function loadDetectorFolder(
  folder: string,
  opts: { providers?: ProviderChoice } = {},
): Promise<DetectorFolder> {
  const dir = resolve(folder);
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new AppError(
      'bad_request',
      `${dir} is not a folder. Point to the folder that holds the detector's .onnx file and ${DETECTOR_MANIFEST_FILE}.`,
    );
  const problems: string[] = [];
  const m = readManifest(dir, problems);
  const modelPath = m ? join(dir, m.file) : '';
  if (m && !existsSync(modelPath))
    problems.push(
      `${m.file} (named by ${DETECTOR_MANIFEST_FILE} "file") is not in the folder; export the detector as ONNX ` +
        `(Ultralytics: yolo export model=yolov8n.pt format=onnx) and put it there.`,
    );
  if (problems.length || !m) fail(dir, problems);

  let det: PersonDetector;
  try {
    det = await PersonDetector.open({ modelPath, providers: opts.providers ?? 'cpu' });
  } catch (err) {
    fail(dir, [
      `ONNX Runtime cannot open ${m.file} — is it a complete ONNX export? (${err instanceof Error ? err.message : String(err)})`,
    ]);
  }
  const notes: string[] = [];
  try {
    const input = checkInput(det.session, m, problems, notes);
    const io = input ? checkOutputs(det.session, m, input.name, problems, notes) : null;
    if (problems.length || !input || !io) fail(dir, problems);
    const spec: DetectorRunSpec = {
      io,
      inputSize: [m.inputSize[0], m.inputSize[1]],
      fixedBatch: input.fixedBatch,
      preprocess: preprocessOf(m),
      personClass: m.personClass,
      scoreThreshold: m.scoreThreshold,
      nmsIou: m.nmsIou,
      maxDetections: m.maxDetections,
    };
    det.bind(spec);
    // One run on a grey frame of the input's own size: proves the graph runs and its outputs decode.
    const [h, w] = m.inputSize;
    try {
      await det.detect([{ rgb: new Uint8Array(h * w * 3).fill(114), width: w, height: h }]);
    } catch (err) {
      fail(dir, [
        `${m.file} failed on one ${h}×${w} frame: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`,
      ]);
    }
    return { dir, manifest: m, modelPath, sha256: await sha256File(modelPath), spec, notes };
  } finally {
    await det.close();
  }
}

/** The default display name: the manifest's, else the folder's. */
export const defaultDetectorName = (f: DetectorFolder): string => f.manifest.name || basename(f.dir);
