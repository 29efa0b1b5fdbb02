// Writes the toy person detector as a detector folder (ml/detector/spec.ts), so it is validated and run
// exactly like a user's YOLOv8 export.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DETECTOR_MANIFEST_FILE, type DetectorManifest } from '../../ml/detector/spec';
import { buildToyDetectorModel, TOY_DETECTOR_INPUT } from './graph';

export const TOY_DETECTOR_DIR = 'toy-detector';
export const TOY_DETECTOR_NAME = 'toy-detector (synthetic)';
export const TOY_DETECTOR_FILE = 'toy-detector.onnx';

export const toyDetectorManifest = (): DetectorManifest => ({
  name: TOY_DETECTOR_NAME,
  file: TOY_DETECTOR_FILE,
  contract: 'yolov8',
  inputSize: [TOY_DETECTOR_INPUT[0], TOY_DETECTOR_INPUT[1]],
  personClass: 0,
  classes: 1,
  scoreThreshold: 0.25,
  nmsIou: 0.45,
  maxDetections: 300,
  preprocess: {},
});

/** Writes (or rewrites) the model and its manifest into `dir`; the bytes depend on nothing but this code. */
export async function writeToyDetectorFolder(dir: string): Promise<{ dir: string; model: string }> {
  const out = path.resolve(dir);
  await mkdir(out, { recursive: true });
  const model = path.join(out, TOY_DETECTOR_FILE);
  await writeFile(model, buildToyDetectorModel());
  await writeFile(
    path.join(out, DETECTOR_MANIFEST_FILE),
    `${JSON.stringify(toyDetectorManifest(), null, 2)}\n`,
  );
  return { dir: out, model };
}

/** Whether `dir` holds a toy detector folder (safe to replace). */
export function isToyDetectorFolder(dir: string): boolean {
  try {
    const m = JSON.parse(readFileSync(path.join(dir, DETECTOR_MANIFEST_FILE), 'utf8')) as { name?: unknown };
    return existsSync(path.join(dir, TOY_DETECTOR_FILE)) && m.name === TOY_DETECTOR_NAME;
  } catch {
    return false;
  }
}
