// The models feature's vocabulary, shared by main and renderer (carved out of the former domain.ts). Plain data only.
import type { ModelId } from '../ids';

// ── CLIP models (issue 3) ─────────────────────────────────────────────────────────────────────────
/** How images are resized for a model: IRRA/RDE stretch to H×W; stock CLIP scales and centre-crops. */
export const RESIZE_MODES = ['irra', 'clip'] as const;
export type ResizeMode = (typeof RESIZE_MODES)[number];

export interface ClipModel {
  id: ModelId;
  name: string;
  /** Absolute folder the model was registered from; the ONNX files are read from there. */
  folder: string;
  /** [height, width] */
  imageSize: [number, number];
  resize: ResizeMode;
  contextLength: number;
  embeddingDim: number;
  visionSha256: string;
  textSha256: string;
  /** Which tokenizer the folder provides, in words (e.g. "bpe_simple_vocab_16e6.txt.gz in the folder"). */
  tokenizer: string;
  /** What validation accepted with a remark (other output names, bundled vocab, …). */
  notes: string[];
  /** Images that have a vector from this model. */
  embeddedImages: number;
  createdAt: number;
}
