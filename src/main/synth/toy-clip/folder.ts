// Writes the toy CLIP as a model folder in the contract of ml/models.ts, so that it is registered,
// validated and run exactly like a user's exported CLIP. No tokenizer file is written: the towers are
// built against the bundled OpenAI CLIP vocabulary, which loadModelFolder falls back to.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MANIFEST_FILE, TEXT_FILE, VISION_FILE, type ModelManifest } from '../../ml/models';
import { CLIP_MEAN, CLIP_STD } from '../../ml/preprocess';
import { DEFAULT_CONTEXT } from '../../ml/tokenizer';
import { TOY_EMBEDDING_DIM } from './features';
import { buildToyTextModel } from './text';
import { buildToyVisionModel, TOY_IMAGE_SIZE } from './vision';

/** Where `ctgi synth` puts the folder inside a world's directory. */
export const TOY_CLIP_DIR = 'toy-clip';
export const TOY_CLIP_NAME = 'toy-clip (synthetic)';

export const toyClipManifest = (): ModelManifest => ({
  name: TOY_CLIP_NAME,
  imageSize: [TOY_IMAGE_SIZE[0], TOY_IMAGE_SIZE[1]],
  resize: 'irra',
  mean: [...CLIP_MEAN],
  std: [...CLIP_STD],
  contextLength: DEFAULT_CONTEXT,
  embeddingDim: TOY_EMBEDDING_DIM,
});

export interface ToyClipFolder {
  dir: string;
  files: { vision: string; text: string; manifest: string };
}

/** Writes (or rewrites) the three files into `dir`; the bytes depend on nothing but this code. */
export async function writeToyClipFolder(dir: string): Promise<ToyClipFolder> {
  const out = path.resolve(dir);
  await mkdir(out, { recursive: true });
  const files = {
    vision: path.join(out, VISION_FILE),
    text: path.join(out, TEXT_FILE),
    manifest: path.join(out, MANIFEST_FILE),
  };
  await writeFile(files.vision, buildToyVisionModel());
  await writeFile(files.text, buildToyTextModel());
  await writeFile(files.manifest, `${JSON.stringify(toyClipManifest(), null, 2)}\n`);
  return { dir: out, files };
}

/** Whether `dir` holds a toy CLIP folder written by writeToyClipFolder (safe to replace). */
export function isToyClipFolder(dir: string): boolean {
  const manifest = path.join(dir, MANIFEST_FILE);
  if (!existsSync(manifest)) return false;
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === TOY_CLIP_NAME;
  } catch {
    return false;
  }
}
