// Hugging Face ONNX CLIP folders as people download them (the transformers.js / optimum layout):
//   onnx/text_model.onnx, onnx/vision_model.onnx   (or at the folder's top level)
//   onnx/*_fp16.onnx, onnx/*_quantized.onnx        variants; the user picks one (fp32 by default)
//   config.json                                    projection_dim, text_config.max_position_embeddings,
//                                                  vision_config.image_size
//   preprocessor_config.json                       size / crop_size / do_center_crop / image_mean / image_std
//   tokenizer.json                                 the CLIP BPE
// Everything the ctgi-model.json manifest would say is read from those files, so no manifest is written.
// Every problem is collected (not just the first) and phrased as what to do about it.
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { CLIP_MEAN, CLIP_STD } from './preprocess';
import type { ModelManifest } from './models';
import { ClipTokenizer, clipTokenizer } from './tokenizer';

export const MODEL_VARIANTS = ['fp32', 'fp16', 'quantized'] as const;
export type ModelVariant = (typeof MODEL_VARIANTS)[number];

const SUFFIX: Record<ModelVariant, string> = { fp32: '', fp16: '_fp16', quantized: '_quantized' };

/** The ONNX sub-folder when it holds the towers, else the folder itself; null when neither does. */
function onnxDir(dir: string): string | null {
  for (const d of [join(dir, 'onnx'), dir]) {
    for (const v of MODEL_VARIANTS)
      if (
        existsSync(join(d, `text_model${SUFFIX[v]}.onnx`)) ||
        existsSync(join(d, `vision_model${SUFFIX[v]}.onnx`))
      )
        return d;
  }
  return null;
}

/** A folder in the Hugging Face layout: towers under onnx/, or config.json beside them (the caller checks there is no ctgi-model.json). */
export function isHfFolder(dir: string): boolean {
  const d = onnxDir(dir);
  return d !== null && (d === join(dir, 'onnx') || existsSync(join(dir, 'config.json')));
}

/** The variants whose two towers are both present. */
export function variantsIn(dir: string): ModelVariant[] {
  const d = onnxDir(dir);
  if (!d) return [];
  return MODEL_VARIANTS.filter(
    (v) =>
      existsSync(join(d, `text_model${SUFFIX[v]}.onnx`)) &&
      existsSync(join(d, `vision_model${SUFFIX[v]}.onnx`)),
  );
}

export interface HfFolder {
  manifest: ModelManifest;
  variant: ModelVariant;
  visionPath: string;
  textPath: string;
  /** Paths of the towers relative to the folder, as stored with the registration. */
  files: { vision: string; text: string };
  tokenizerPath: string | null;
}

function readJson(
  dir: string,
  file: string,
  problems: string[],
  required: boolean,
): Record<string, unknown> | null {
  const p = join(dir, file);
  if (!existsSync(p)) {
    if (required)
      problems.push(
        `${file} is missing; download it with the model (it is part of every Hugging Face CLIP repository).`,
      );
    return null;
  }
  try {
    const v: unknown = JSON.parse(readFileSync(p, 'utf8'));
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      problems.push(`${file} is not a JSON object.`);
      return null;
    }
    return v as Record<string, unknown>;
  } catch (err) {
    problems.push(
      `${file} is not valid JSON (${err instanceof Error ? err.message : String(err)}); download it again.`,
    );
    return null;
  }
}

const obj = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const posInt = (v: unknown): number | null =>
  typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : null;

/** [height, width] from a `size`/`crop_size` value: an int, {height, width} or {shortest_edge}. */
function sizeOf(v: unknown): { hw: [number, number] | null; shortest: number | null } {
  const n = posInt(v);
  if (n) return { hw: [n, n], shortest: n };
  const o = obj(v);
  const h = posInt(o.height);
  const w = posInt(o.width);
  if (h && w) return { hw: [h, w], shortest: null };
  const s = posInt(o.shortest_edge);
  return { hw: null, shortest: s };
}

function triple(v: unknown): [number, number, number] | null {
  return Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number')
    ? [v[0] as number, v[1] as number, v[2] as number]
    : null;
}

/** PIL resample codes in preprocessor_config.json. */
const RESAMPLE: Record<number, string> = {
  0: 'nearest',
  1: 'lanczos',
  2: 'bilinear',
  3: 'bicubic',
  4: 'box',
  5: 'hamming',
};

/** Reads the folder's JSON files into the manifest our encoder needs; adds problems and notes. */
export function readHfFolder(
  dir: string,
  variant: ModelVariant,
  problems: string[],
  notes: string[],
): HfFolder | null {
  const d = onnxDir(dir) ?? join(dir, 'onnx');
  const visionPath = join(d, `vision_model${SUFFIX[variant]}.onnx`);
  const textPath = join(d, `text_model${SUFFIX[variant]}.onnx`);
  const have = variantsIn(dir);
  for (const [p, what] of [
    [visionPath, 'image tower'],
    [textPath, 'text tower'],
  ] as const) {
    if (!existsSync(p)) {
      const combined = existsSync(join(d, `model${SUFFIX[variant]}.onnx`));
      problems.push(
        `${relative(dir, p)} (the ${what}, ${variant}) is missing. ` +
          (have.length
            ? `This folder has both towers for: ${have.join(', ')}; choose one of those variants.`
            : combined
              ? `Only the combined model${SUFFIX[variant]}.onnx is here; we need the separate text_model and vision_model files (download them too).`
              : 'Download the onnx/ folder of the model repository.'),
      );
    }
  }
  const config = readJson(dir, 'config.json', problems, true);
  const pre = readJson(dir, 'preprocessor_config.json', problems, true);
  const tokenizerPath = existsSync(join(dir, 'tokenizer.json')) ? join(dir, 'tokenizer.json') : null;
  if (!tokenizerPath)
    notes.push('No tokenizer.json in the folder: the bundled OpenAI CLIP vocabulary is used.');
  if (!config || !pre) return null;

  if (config.model_type !== undefined && config.model_type !== 'clip')
    notes.push(
      `config.json says model_type "${String(config.model_type)}", not "clip"; it is read as a CLIP model.`,
    );
  const text = obj(config.text_config);
  const vision = obj(config.vision_config);
  const embeddingDim = posInt(config.projection_dim);
  if (!embeddingDim)
    problems.push('config.json has no projection_dim (the embedding size); is it a CLIP config?');
  const contextLength =
    posInt(text.max_position_embeddings) ?? (text.max_position_embeddings === undefined ? 77 : null);
  if (!contextLength)
    problems.push('config.json: text_config.max_position_embeddings is not a positive whole number.');
  if (text.max_position_embeddings === undefined)
    notes.push("config.json has no text_config.max_position_embeddings; CLIP's 77 tokens are assumed.");

  // Preprocessing: CLIPImageProcessor resizes (shortest edge, or to height × width), then centre-crops.
  const rescale = pre.rescale_factor;
  if (rescale !== undefined && (typeof rescale !== 'number' || Math.abs(rescale - 1 / 255) > 1e-9))
    problems.push(
      `preprocessor_config.json: rescale_factor ${String(rescale)} is not 1/255; only 8-bit pixels scaled to 0–1 are supported.`,
    );
  if (pre.do_normalize === false)
    problems.push(
      'preprocessor_config.json: do_normalize is false; CLIP models are trained on normalised pixels, which we always apply.',
    );
  if (pre.do_resize === false)
    problems.push(
      'preprocessor_config.json: do_resize is false; images of any size cannot go into a fixed-size tower.',
    );
  const mean = pre.image_mean === undefined ? [...CLIP_MEAN] : triple(pre.image_mean);
  const std = pre.image_std === undefined ? [...CLIP_STD] : triple(pre.image_std);
  if (!mean) problems.push('preprocessor_config.json: image_mean must be three numbers (R, G, B).');
  if (!std || std.some((s) => s <= 0))
    problems.push('preprocessor_config.json: image_std must be three positive numbers (R, G, B).');
  const size = sizeOf(pre.size);
  const crop = sizeOf(pre.crop_size);
  const centreCrop = pre.do_center_crop !== false && pre.crop_size !== undefined;
  const resample = typeof pre.resample === 'number' ? pre.resample : 3;
  let resize: ModelManifest['resize'] = 'clip';
  let imageSize: [number, number] | null = null;
  if (centreCrop) {
    imageSize = crop.hw;
    if (!imageSize) problems.push('preprocessor_config.json: crop_size must be a number or {height, width}.');
    else if (imageSize[0] !== imageSize[1])
      problems.push(
        `preprocessor_config.json: a ${imageSize[0]}×${imageSize[1]} centre crop is not supported; only square crops after a shortest-edge resize.`,
      );
    else if (size.shortest !== null && size.shortest !== imageSize[0])
      problems.push(
        `preprocessor_config.json: resizing the shortest edge to ${size.shortest} and cropping ${imageSize[0]} is not supported; they must be equal (as in CLIP).`,
      );
    if (resample !== 3)
      notes.push(
        `preprocessor_config.json asks for ${RESAMPLE[resample] ?? resample} resampling; we resize with bicubic as CLIP does.`,
      );
  } else {
    resize = 'irra';
    imageSize = size.hw;
    if (!imageSize)
      problems.push(
        'preprocessor_config.json: without a centre crop, size must be {height, width} (e.g. {"height": 384, "width": 128}).',
      );
    if (resample !== 2)
      notes.push(
        `preprocessor_config.json asks for ${RESAMPLE[resample] ?? resample} resampling; a direct resize to height × width uses bilinear (as IRRA/RDE).`,
      );
  }
  const visionSize = posInt(vision.image_size);
  if (imageSize && visionSize && imageSize[0] === imageSize[1] && visionSize !== imageSize[0])
    problems.push(
      `config.json says vision_config.image_size ${visionSize} but preprocessor_config.json makes ${imageSize[0]}×${imageSize[1]} images; make them agree.`,
    );
  if (tokenizerPath) checkTokenizer(tokenizerPath, problems, notes);
  if (!embeddingDim || !contextLength || !imageSize || !mean || !std) return null;
  return {
    manifest: {
      name: variant === 'fp32' ? basename(dir) : `${basename(dir)} ${variant}`,
      imageSize,
      resize,
      mean: mean as [number, number, number],
      std: std as [number, number, number],
      contextLength,
      embeddingDim,
    },
    variant,
    visionPath,
    textPath,
    files: { vision: relative(dir, visionPath), text: relative(dir, textPath) },
    tokenizerPath,
  };
}

/** Sentences the tokenizer check runs through both tokenizers. */
export const TOKENIZER_PROBES = [
  'A woman in a red coat with a black backpack, walking fast.',
  "the man's jeans are light-blue; he's carrying 2 bags & a phone",
  'Café — naïve résumé 東京 😀',
];

/**
 * The folder's tokenizer.json must load as the CLIP BPE; when it gives other ids than OpenAI's vocabulary on
 * a few sentences that is said (a fine-tuned vocabulary is allowed, but the user should know).
 */
function checkTokenizer(path: string, problems: string[], notes: string[]): void {
  let t: ClipTokenizer;
  try {
    t = ClipTokenizer.fromTokenizerJson(readFileSync(path));
  } catch (err) {
    problems.push(`tokenizer.json: ${err instanceof Error ? err.message : String(err)}`);
    return;
  }
  let ref: ClipTokenizer;
  try {
    ref = clipTokenizer();
  } catch {
    return; // no bundled vocabulary to compare with: nothing to say
  }
  try {
    const differs = TOKENIZER_PROBES.some((s) => t.encode(s).join() !== ref.encode(s).join());
    if (differs)
      notes.push(
        'tokenizer.json gives other ids than the OpenAI CLIP vocabulary; it is used as it is (a model-specific vocabulary).',
      );
  } catch (err) {
    problems.push(
      `tokenizer.json cannot tokenize plain text: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}
