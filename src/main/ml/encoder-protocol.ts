// Messages between ClipEncoder (app process) and encoder-worker.ts (its child process). Plain data:
// everything here crosses the IPC channel with 'advanced' serialization (structured clone, typed arrays).
import type { LetterboxedFrame } from './detector/run';
import type { DetectorRunSpec } from './detector/spec';
import type { ImageSource } from '../media/image';
import type { PreprocessSpec } from './preprocess';

export type Tower = 'vision' | 'text';

export interface ValueInfo {
  name: string;
  /** ORT tensor type ('float32', 'int64', …) or 'non-tensor'. */
  type: string;
  /** Numbers for fixed dims, strings for symbolic ones; empty when the model does not say. */
  shape: (number | string)[];
}

export interface SessionInfo {
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

/** Which inputs and outputs of each tower to use; decided by model-folder validation. */
export interface VisionIo {
  input: string;
  output: string;
}
export interface TextIo {
  input: string;
  idsType: 'int64' | 'int32';
  attentionMask: string | null;
  output: string;
}

export interface InitMessage {
  type: 'init';
  visionPath: string | null;
  textPath: string | null;
  /** A person detector's ONNX file, run in the same process (see ml/detector). */
  detectorPath?: string | null;
  /** Provider lists to try in order; the first that creates every session wins. */
  providerLists: string[][];
  batchSize: number;
  preprocess: PreprocessSpec | null;
}

export type Request =
  | InitMessage
  | { type: 'bind'; vision: VisionIo | null; text: TextIo | null }
  /** Plain paths, or library images (checked against their folder and stored hash by the worker). */
  | { type: 'images'; id: number; sources: ImageSource[] }
  | { type: 'pixels'; id: number; pixels: Float32Array; count: number }
  | { type: 'tokens'; id: number; ids: Int32Array; count: number; seq: number }
  /** How to run the detector (from detector-folder validation). */
  | { type: 'bind-detector'; spec: DetectorRunSpec }
  | { type: 'detect'; id: number; frames: LetterboxedFrame[] }
  /** Makes the encoder process abort, as native code that crashes does; for tests of the crash path. */
  | { type: 'crash' };

export type Reply =
  | {
      type: 'ready';
      provider: string;
      vision: SessionInfo | null;
      text: SessionInfo | null;
      detector?: SessionInfo | null;
      tried: string[];
    }
  | { type: 'init-error'; message: string }
  /** `vectors` holds count × dim L2-normalised values; rows of failed items are zero. */
  | { type: 'result'; id: number; vectors: Float32Array; dim: number; errors: (string | null)[] }
  /** Per frame `counts[i]` boxes, 5 values each (x1, y1, x2, y2, score in frame pixels), frame after frame. */
  | { type: 'detections'; id: number; boxes: Float32Array; counts: number[] }
  | { type: 'error'; id: number; message: string };
