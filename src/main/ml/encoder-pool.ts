// Warm text towers, one per model and workspace (`services.encoders`). Opening an ONNX session costs from tens
// of milliseconds (toy CLIP) to seconds (a real ViT-B/16 text tower); a search box that re-encodes on
// every query cannot pay that each time. The pool opens a model's text tower on first use, keeps it,
// and the workspace closes every one of them on close(). A tower whose encoder process died is dropped and
// reopened on the next call, so one crash does not disable search until restart.
import { readFileSync } from 'node:fs';
import { modelFilePaths, storedManifest, type ModelRow } from '../db/repos/models';
import { AppError } from '../errors';
import { asModelId, type ModelId } from '#shared/ids';
import { ClipEncoder } from './encoder';
import { sha256File, type TokenizerSource } from './models';
import { ClipTokenizer, clipTokenizer } from './tokenizer';

/** A model's text side, ready to encode: its tokenizer, context length and a live text tower. */
export interface TextModel {
  modelId: ModelId;
  modelName: string;
  contextLength: number;
  tokenizer: ClipTokenizer;
  encoder: ClipEncoder;
}

/** Texts per ORT run: queries come one at a time, evaluation sends thousands of captions at once. */
const TEXT_BATCH = 64;

const tokenizers = new Map<string, ClipTokenizer>();

/**
 * The tokenizer the model folder was validated with (its tokenizer.json or BPE file, else the bundled
 * vocabulary), loaded once per file: the search box asks for a token count on every keystroke.
 */
export function tokenizerFor(source: TokenizerSource): ClipTokenizer {
  const key = `${source.kind}\0${source.path}`;
  let t = tokenizers.get(key);
  if (!t) tokenizers.set(key, (t = loadTokenizer(source)));
  return t;
}

function loadTokenizer(source: TokenizerSource): ClipTokenizer {
  try {
    switch (source.kind) {
      case 'tokenizer.json':
        return ClipTokenizer.fromTokenizerJson(readFileSync(source.path));
      case 'bpe':
        return ClipTokenizer.fromBpeFile(source.path);
      case 'bundled':
        return clipTokenizer();
    }
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError(
      'not_found',
      `Cannot read the tokenizer ${source.path} (${err instanceof Error ? err.message : String(err)}). ` +
        `Restore the model folder or register the model again.`,
    );
  }
}

async function openTextModel(row: ModelRow): Promise<TextModel> {
  const stored = storedManifest(row);
  const textPath = modelFilePaths(row).text;
  // Vectors from a changed text tower would be compared with images embedded by the old one.
  const sha = await sha256File(textPath).catch((err: unknown) => {
    throw new AppError(
      'not_found',
      `Model "${row.name}": cannot read ${textPath} (${String(err)}). Restore the folder or register the model again.`,
    );
  });
  if (sha !== row.text_sha256) {
    throw new AppError(
      'conflict',
      `Model "${row.name}": ${textPath} changed since it was registered. Register the folder again under a new name ` +
        `and embed the images with it; a changed text tower does not match the stored image vectors.`,
    );
  }
  const tokenizer = tokenizerFor(stored.tokenizer);
  const encoder = await ClipEncoder.open({ textPath, batchSize: TEXT_BATCH });
  encoder.bind({ text: stored.text });
  return {
    modelId: asModelId(row.id),
    modelName: row.name,
    contextLength: row.context_length,
    tokenizer,
    encoder,
  };
}

interface Entry {
  /** The registration the tower was opened for: a model re-registered under the same id must not reuse it. */
  key: string;
  model: Promise<TextModel>;
}

/** One workspace's text towers (`services.encoders`); closed with the workspace. */
export class TextEncoderPool {
  private readonly entries = new Map<ModelId, Entry>();
  private closed = false;

  /** The model's warm text tower, opened on first use (concurrent first calls share one open). */
  async get(row: ModelRow): Promise<TextModel> {
    if (this.closed)
      throw new AppError('unavailable', 'The workspace is closing; search again after it reopens.');
    const id = asModelId(row.id);
    const key = `${row.folder}\0${row.text_sha256}`;
    const current = this.entries.get(id);
    if (current && current.key === key) {
      const model = await current.model.catch(() => null);
      if (model?.encoder.alive) return model;
      // Failed to open, or crashed since: forget it and try once more below.
      if (this.entries.get(id) === current) this.entries.delete(id);
      if (model) await model.encoder.close();
    } else if (current) {
      this.entries.delete(id);
      void current.model.then(
        (m) => m.encoder.close(),
        () => undefined,
      );
    }
    const entry: Entry = { key, model: openTextModel(row) };
    this.entries.set(id, entry);
    try {
      return await entry.model;
    } catch (err) {
      if (this.entries.get(id) === entry) this.entries.delete(id);
      throw err;
    }
  }

  /** Models with a tower open now (for tests and diagnostics). */
  get size(): number {
    return this.entries.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(
      all.map((e) =>
        e.model.then(
          (m) => m.encoder.close(),
          () => undefined,
        ),
      ),
    );
  }
}

/** Token rows for `texts` in the model's context, plus how many tokens each needed before truncation. */
export function tokenizeForModel(
  model: Pick<TextModel, 'tokenizer' | 'contextLength'>,
  texts: readonly string[],
): {
  ids: Int32Array;
  counts: number[];
} {
  const seq = model.contextLength;
  const ids = new Int32Array(texts.length * seq);
  const counts: number[] = [];
  texts.forEach((t, i) => {
    ids.set(model.tokenizer.encode(t, { context: seq }), i * seq);
    counts.push(model.tokenizer.tokenCount(t));
  });
  return { ids, counts };
}

/** L2-normalised text vectors, one per text, in order. */
export async function encodeTexts(
  model: TextModel,
  texts: readonly string[],
): Promise<{ vectors: Float32Array[]; counts: number[] }> {
  if (texts.length === 0) return { vectors: [], counts: [] };
  const { ids, counts } = tokenizeForModel(model, texts);
  const vectors = await model.encoder.embedTokens(ids, texts.length, model.contextLength);
  return { vectors, counts };
}
