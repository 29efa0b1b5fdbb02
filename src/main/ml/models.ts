// The CLIP model folder contract (DESIGN.md "Real models"):
//   vision_model.onnx   pixel_values [batch, 3, H, W] float32 → image_embeds [batch, D]
//   text_model.onnx     input_ids [batch, seq] int64|int32 (+ optional attention_mask) → text_embeds [batch, D]
//   ctgi-model.json     {name, imageSize: [H, W], resize: 'irra'|'clip', mean, std, contextLength, embeddingDim}
//   tokenizer.json or bpe_simple_vocab_16e6.txt.gz (else the bundled CLIP vocabulary, with a note)
// loadModelFolder() checks all of it — files, manifest, graph inputs/outputs, and two probe runs that
// prove the towers' real output sizes and that the text tower takes `contextLength` tokens — and says
// what is wrong in terms a user can act on. Registration stores it in the workspace's `models` table.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { z } from 'zod';
import type { ClipModel } from '#shared/models/types';
import { RESIZE_MODES } from '#shared/models/types';
import { asModelId } from '#shared/ids';
import {
  findModelRowByName,
  getModelRow,
  insertModel,
  listModelRows,
  toClipModel,
  type ModelRow,
} from '../db/repos/models';
import type { ReadableDb, WritableDb } from '../db/types';
import { AppError } from '../errors';
import { ClipEncoder, type ProviderChoice } from './encoder';
import type { SessionInfo, TextIo, ValueInfo, VisionIo } from './encoder-protocol';
import { isHfFolder, readHfFolder, variantsIn, type ModelVariant } from './hf-folder';
import { CLIP_MEAN, CLIP_STD, type PreprocessSpec } from './preprocess';
import { vocabPath } from './tokenizer';

export const VISION_FILE = 'vision_model.onnx';
export const TEXT_FILE = 'text_model.onnx';
export const MANIFEST_FILE = 'ctgi-model.json';
const BPE_FILE = 'bpe_simple_vocab_16e6.txt.gz';
/** The CLIP vocabulary shipped beside the repository (see DESIGN.md), or inside a packaged app. */
export const BUNDLED_VOCAB = vocabPath();

const triple = z.tuple([z.number(), z.number(), z.number()]);
export const manifestSchema = z.object({
  name: z.string().min(1).max(200),
  imageSize: z.tuple([z.number().int().positive(), z.number().int().positive()]),
  resize: z.enum(RESIZE_MODES),
  mean: triple.default([...CLIP_MEAN]),
  std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]).default([...CLIP_STD]),
  contextLength: z.number().int().min(2).max(4096),
  embeddingDim: z.number().int().positive(),
});
export type ModelManifest = z.infer<typeof manifestSchema>;

export interface TokenizerSource {
  kind: 'tokenizer.json' | 'bpe' | 'bundled';
  path: string;
  /** For display: where the vocabulary comes from. */
  description: string;
}

export interface ModelFolder {
  dir: string;
  manifest: ModelManifest;
  visionPath: string;
  textPath: string;
  visionSha256: string;
  textSha256: string;
  vision: VisionIo;
  text: TextIo;
  tokenizer: TokenizerSource;
  /** Accepted with a remark: other output names, the bundled vocabulary, a fixed batch size… */
  notes: string[];
  /** 'ctgi': our manifest; 'hf': a Hugging Face ONNX folder read as it comes. */
  layout: 'ctgi' | 'hf';
  /** The tower files chosen (fp32 unless the user picked another variant of a Hugging Face folder). */
  variant: ModelVariant;
  /** The towers relative to `dir`. */
  files: { vision: string; text: string };
}

export const preprocessSpecOf = (m: ModelManifest): PreprocessSpec => ({
  imageSize: m.imageSize,
  resize: m.resize,
  mean: m.mean,
  std: m.std,
});

export function sha256File(path: string): Promise<string> {
  return new Promise((res, rej) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('end', () => res(h.digest('hex')))
      .on('error', rej);
  });
}

class Problems {
  readonly list: string[] = [];
  add(p: string): void {
    this.list.push(p);
  }
  throwIfAny(dir: string): void {
    if (this.list.length === 0) return;
    throw new AppError(
      'bad_request',
      `The model folder ${dir} cannot be used:\n${this.list.map((p) => `- ${p}`).join('\n')}`,
    );
  }
}

const fmtShape = (v: ValueInfo): string => `[${v.shape.join(', ')}]`;

function readManifest(dir: string, problems: Problems): ModelManifest | null {
  const file = join(dir, MANIFEST_FILE);
  if (!existsSync(file)) {
    problems.add(
      `${MANIFEST_FILE} is missing. Create it beside the ONNX files, e.g. {"name": "irra-vitb16", "imageSize": [384, 128], ` +
        `"resize": "irra", "contextLength": 77, "embeddingDim": 512} (mean/std default to CLIP's).`,
    );
    return null;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    problems.add(`${MANIFEST_FILE} is not valid JSON (${err instanceof Error ? err.message : String(err)}).`);
    return null;
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    for (const i of parsed.error.issues)
      problems.add(`${MANIFEST_FILE}: "${i.path.join('.') || '(root)'}" ${i.message}.`);
    return null;
  }
  const m = parsed.data;
  if (m.resize === 'clip' && m.imageSize[0] !== m.imageSize[1]) {
    problems.add(
      `${MANIFEST_FILE}: resize "clip" centre-crops a square, but imageSize is ${m.imageSize[0]}×${m.imageSize[1]}; ` +
        `use "irra" for a non-square input or make imageSize square.`,
    );
  }
  return m;
}

function findTokenizer(dir: string, notes: string[]): TokenizerSource {
  const json = join(dir, 'tokenizer.json');
  if (existsSync(json))
    return { kind: 'tokenizer.json', path: json, description: 'tokenizer.json in the model folder' };
  const bpe = join(dir, BPE_FILE);
  if (existsSync(bpe)) return { kind: 'bpe', path: bpe, description: `${BPE_FILE} in the model folder` };
  notes.push(`No tokenizer.json or ${BPE_FILE} in the folder: the bundled OpenAI CLIP vocabulary is used.`);
  return { kind: 'bundled', path: BUNDLED_VOCAB, description: 'bundled OpenAI CLIP vocabulary' };
}

/** Picks the named output, else the last one (with a note); checks it is [batch, D] float32. */
function pickOutput(
  file: string,
  info: SessionInfo,
  wanted: string,
  dim: number,
  problems: Problems,
  notes: string[],
): string | null {
  let out = info.outputs.find((o) => o.name === wanted);
  if (!out) {
    out = info.outputs.at(-1);
    if (!out) {
      problems.add(`${file} has no outputs.`);
      return null;
    }
    notes.push(`${file} has no output "${wanted}"; using its last output "${out.name}" ${fmtShape(out)}.`);
  }
  if (out.type !== 'float32')
    problems.add(`${file}: output "${out.name}" is ${out.type}; expected float32 embeddings.`);
  if (out.shape.length && out.shape.length !== 2) {
    problems.add(
      `${file}: output "${out.name}" has shape ${fmtShape(out)}; expected [batch, ${dim}] — export the model with its ` +
        `projection head so it returns pooled embeddings, not per-token states.`,
    );
  } else if (typeof out.shape[1] === 'number' && out.shape[1] !== dim) {
    problems.add(
      `${file}: output "${out.name}" has ${out.shape[1]} values per item but ${MANIFEST_FILE} says embeddingDim ${dim}.`,
    );
  }
  return out.name;
}

function checkVision(
  info: SessionInfo,
  m: ModelManifest,
  problems: Problems,
  notes: string[],
): VisionIo | null {
  let input = info.inputs.find((i) => i.name === 'pixel_values');
  if (!input && info.inputs.length === 1) {
    input = info.inputs[0]!;
    notes.push(`${VISION_FILE}: its only input is named "${input.name}", not "pixel_values"; using it.`);
  }
  if (!input) {
    problems.add(
      `${VISION_FILE} needs an input "pixel_values" [batch, 3, H, W]; it has ${info.inputs.map((i) => `"${i.name}"`).join(', ')}.`,
    );
    return null;
  }
  if (input.type !== 'float32')
    problems.add(`${VISION_FILE}: input "${input.name}" is ${input.type}; expected float32.`);
  const [, c, h, w] = input.shape;
  if (input.shape.length !== 4) {
    problems.add(
      `${VISION_FILE}: input "${input.name}" has shape ${fmtShape(input)}; expected [batch, 3, H, W].`,
    );
  } else {
    if (typeof c === 'number' && c !== 3)
      problems.add(`${VISION_FILE}: input has ${c} channels; expected 3 (RGB).`);
    if ((typeof h === 'number' && h !== m.imageSize[0]) || (typeof w === 'number' && w !== m.imageSize[1])) {
      problems.add(
        `${VISION_FILE} takes ${h}×${w} images but ${MANIFEST_FILE} says imageSize [${m.imageSize.join(', ')}]; ` +
          `make them agree (IRRA/RDE models: [384, 128]; stock CLIP ViT-B/16: [224, 224]).`,
      );
    }
    if (input.shape[0] === 1)
      notes.push(`${VISION_FILE} has a fixed batch size of 1: images are encoded one at a time.`);
  }
  const output = pickOutput(VISION_FILE, info, 'image_embeds', m.embeddingDim, problems, notes);
  return output ? { input: input.name, output } : null;
}

function checkText(info: SessionInfo, m: ModelManifest, problems: Problems, notes: string[]): TextIo | null {
  const ids = info.inputs.find((i) => i.name === 'input_ids');
  if (!ids) {
    problems.add(
      `${TEXT_FILE} needs an input "input_ids" [batch, seq]; it has ${info.inputs.map((i) => `"${i.name}"`).join(', ')}.`,
    );
    return null;
  }
  if (ids.type !== 'int64' && ids.type !== 'int32')
    problems.add(`${TEXT_FILE}: "input_ids" is ${ids.type}; expected int64 or int32.`);
  if (ids.shape.length && ids.shape.length !== 2)
    problems.add(`${TEXT_FILE}: "input_ids" has shape ${fmtShape(ids)}; expected [batch, seq].`);
  const seq = ids.shape[1];
  if (typeof seq === 'number' && seq !== m.contextLength) {
    problems.add(
      `${TEXT_FILE} takes exactly ${seq} tokens but ${MANIFEST_FILE} says contextLength ${m.contextLength}; ` +
        `set contextLength to ${seq}, or re-export the text tower with a dynamic sequence axis.`,
    );
  }
  const mask = info.inputs.find((i) => i.name === 'attention_mask') ?? null;
  const others = info.inputs.filter((i) => i !== ids && i !== mask);
  if (others.length) {
    problems.add(
      `${TEXT_FILE} has inputs we cannot fill: ${others.map((o) => `"${o.name}"`).join(', ')}; only input_ids and attention_mask are supported.`,
    );
  }
  const output = pickOutput(TEXT_FILE, info, 'text_embeds', m.embeddingDim, problems, notes);
  if (!output) return null;
  return {
    input: ids.name,
    idsType: ids.type === 'int32' ? 'int32' : 'int64',
    attentionMask: mask?.name ?? null,
    output,
  };
}

/** Runs each tower once: real output sizes, and proof that the text tower takes `contextLength` tokens. */
async function probe(enc: ClipEncoder, m: ModelManifest, problems: Problems): Promise<void> {
  const [h, w] = m.imageSize;
  let visionDim: number | null = null;
  let textDim: number | null = null;
  try {
    const [v] = await enc.embedPixels(new Float32Array(3 * h * w), 1);
    visionDim = v!.length;
  } catch (err) {
    problems.add(
      `${VISION_FILE} failed on one ${h}×${w} image: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  try {
    const ids = new Int32Array(m.contextLength);
    ids[0] = 49406;
    ids[m.contextLength - 1] = 49407;
    const [t] = await enc.embedTokens(ids, 1, m.contextLength);
    textDim = t!.length;
  } catch (err) {
    problems.add(
      `${TEXT_FILE} cannot take ${m.contextLength} tokens (contextLength in ${MANIFEST_FILE}); its positional table is ` +
        `probably shorter — use the length it was trained with (77 for CLIP, 248 after PES). ONNX Runtime said: ` +
        `${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`,
    );
  }
  if (visionDim !== null && textDim !== null && visionDim !== textDim) {
    problems.add(
      `The towers disagree: images embed to ${visionDim} values, texts to ${textDim}. Both must end in the same ` +
        `projection size; re-export them from the same checkpoint with projection heads.`,
    );
  }
  for (const [tower, d] of [
    [VISION_FILE, visionDim],
    [TEXT_FILE, textDim],
  ] as const) {
    if (
      d !== null &&
      d !== m.embeddingDim &&
      !(visionDim !== null && textDim !== null && visionDim !== textDim)
    ) {
      problems.add(
        `${tower} returns ${d}-value embeddings but ${MANIFEST_FILE} says embeddingDim ${m.embeddingDim}.`,
      );
    }
  }
}

export interface LoadOptions {
  /** Providers for the probe runs; CPU by default so that validation never depends on a GPU. */
  providers?: ProviderChoice;
  /** Which towers of a Hugging Face folder: fp32 (default), fp16 or quantized. Our manifest folders are fp32. */
  variant?: ModelVariant;
}

/** Validates a model folder; throws one AppError listing every problem found. */
export async function loadModelFolder(folder: string, opts: LoadOptions = {}): Promise<ModelFolder> {
  const dir = resolve(folder);
  const problems = new Problems();
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new AppError(
      'bad_request',
      `${dir} is not a folder. Point to the folder that holds ${VISION_FILE}, ${TEXT_FILE} and ${MANIFEST_FILE}.`,
    );
  }
  const notes: string[] = [];
  const hf = !existsSync(join(dir, MANIFEST_FILE)) && isHfFolder(dir);
  const variant = opts.variant ?? 'fp32';
  let visionPath = join(dir, VISION_FILE);
  let textPath = join(dir, TEXT_FILE);
  let manifest: ModelManifest | null;
  let tokenizer: TokenizerSource;
  if (hf) {
    const found: string[] = [];
    const f = readHfFolder(dir, variant, found, notes);
    for (const p of found) problems.add(p);
    manifest = f?.manifest ?? null;
    if (f) ({ visionPath, textPath } = f);
    tokenizer = f?.tokenizerPath
      ? { kind: 'tokenizer.json', path: f.tokenizerPath, description: 'tokenizer.json in the model folder' }
      : { kind: 'bundled', path: BUNDLED_VOCAB, description: 'bundled OpenAI CLIP vocabulary' };
    const others = variantsIn(dir).filter((v) => v !== variant);
    if (others.length)
      notes.push(`Hugging Face folder, ${variant} towers (also here: ${others.join(', ')}).`);
  } else {
    if (variant !== 'fp32')
      problems.add(
        `the ${variant} variant was asked for, but this folder has our ${MANIFEST_FILE} layout with one pair of towers; ` +
          `leave the variant at fp32, or register the Hugging Face folder (onnx/*_${variant === 'fp16' ? 'fp16' : 'quantized'}.onnx) instead.`,
      );
    for (const [file, what] of [
      [VISION_FILE, 'image tower'],
      [TEXT_FILE, 'text tower'],
    ] as const) {
      if (!existsSync(join(dir, file))) {
        problems.add(
          `${file} (the ${what}) is missing; export it as ONNX (see tools/ for OpenAI CLIP and IRRA/RDE checkpoints), ` +
            `or point to a Hugging Face ONNX folder (config.json + onnx/).`,
        );
      }
    }
    manifest = readManifest(dir, problems);
    tokenizer = findTokenizer(dir, notes);
  }
  problems.throwIfAny(dir);
  const m = manifest!;

  let enc: ClipEncoder;
  try {
    enc = await ClipEncoder.open({
      visionPath,
      textPath,
      preprocess: preprocessSpecOf(m),
      providers: opts.providers ?? 'cpu',
    });
  } catch (err) {
    throw new AppError(
      'bad_request',
      `The model folder ${dir} cannot be used:\n- ONNX Runtime cannot open its ONNX files — are they complete ONNX exports? ` +
        `(${err instanceof Error ? err.message : String(err)})`,
    );
  }
  try {
    const vision = checkVision(enc.vision!, m, problems, notes);
    const text = checkText(enc.text!, m, problems, notes);
    const dimOf = (info: SessionInfo, name: string | undefined): unknown =>
      info.outputs.find((o) => o.name === name)?.shape[1];
    const vd = dimOf(enc.vision!, vision?.output);
    const td = dimOf(enc.text!, text?.output);
    if (typeof vd === 'number' && typeof td === 'number' && vd !== td) {
      problems.add(
        `The towers disagree: images embed to ${vd} values, texts to ${td}. Both must end in the same ` +
          `projection size; re-export them from the same checkpoint with projection heads.`,
      );
    }
    problems.throwIfAny(dir);
    enc.bind({ vision, text });
    await probe(enc, m, problems);
    problems.throwIfAny(dir);
    const [visionSha256, textSha256] = await Promise.all([sha256File(visionPath), sha256File(textPath)]);
    return {
      dir,
      manifest: m,
      visionPath,
      textPath,
      visionSha256,
      textSha256,
      vision: vision!,
      text: text!,
      tokenizer,
      notes,
      layout: hf ? 'hf' : 'ctgi',
      variant,
      files: { vision: relative(dir, visionPath), text: relative(dir, textPath) },
    };
  } finally {
    await enc.close();
  }
}

/** The default display name: the manifest's, else the folder's. */
export const defaultModelName = (f: ModelFolder): string => f.manifest.name || basename(f.dir);

/** Validates a folder and registers it in the workspace; the name must be new. */
export async function registerModel(
  db: WritableDb,
  folder: string,
  name?: string,
  variant?: ModelVariant,
): Promise<ClipModel> {
  const f = await loadModelFolder(folder, { variant });
  const finalName = name ?? defaultModelName(f);
  if (findModelRowByName(db, finalName)) {
    throw new AppError(
      'conflict',
      `A model named "${finalName}" is already registered; pass another name (--name).`,
    );
  }
  const id = insertModel(db, finalName, f);
  return toClipModel(db, getModelRow(db, id)!);
}

/**
 * A model by id (digits), by its registered name, or by its folder's name, as the CLI and API accept it.
 * Names and folder names match whole and case-insensitively, so `toy-clip` finds the toy CLIP that
 * `ctgi synth` registers as "toy-clip (synthetic)". An exact name wins; a word that fits several
 * models, or none, is an error that lists what is registered.
 */
export function resolveModelRow(db: ReadableDb, idOrName: string | number): ModelRow {
  const byId =
    typeof idOrName === 'number' || /^\d+$/.test(idOrName)
      ? getModelRow(db, asModelId(Number(idOrName)))
      : undefined;
  if (byId) return byId;
  const wanted = String(idOrName);
  const exact = findModelRowByName(db, wanted);
  if (exact) return exact;
  const rows = listModelRows(db);
  const lower = wanted.trim().toLowerCase();
  const byName = rows.filter((r) => r.name.toLowerCase() === lower);
  const matches = byName.length > 0 ? byName : rows.filter((r) => basename(r.folder).toLowerCase() === lower);
  if (matches.length === 1) return matches[0]!;
  const describe = (list: readonly ModelRow[]): string =>
    list.map((r) => `${r.id} "${r.name}" (folder ${basename(r.folder)})`).join(', ');
  if (matches.length > 1)
    throw new AppError(
      'conflict',
      `"${wanted}" fits ${matches.length} models: ${describe(matches)}. Give the id or the whole name.`,
    );
  if (rows.length === 0)
    throw new AppError(
      'not_found',
      `No model "${wanted}" is registered: this workspace has none yet. Register a model folder with \`ctgi models --register DIR\`.`,
    );
  throw new AppError(
    'not_found',
    `No model "${wanted}" is registered. Registered: ${describe(rows)}. Give an id, a name or a folder's name.`,
  );
}
