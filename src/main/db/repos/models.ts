import { join } from 'node:path';
import type { ClipModel, ResizeMode } from '#shared/models/types';
import { asModelId, type ModelId } from '#shared/ids';
import type { ModelFolder } from '../../ml/models';
import { stmt } from '../statements';
import type { ReadableDb, WritableDb } from '../types';

export interface ModelRow {
  id: number;
  name: string;
  folder: string;
  manifest: string;
  vision_sha256: string;
  text_sha256: string;
  image_height: number;
  image_width: number;
  context_length: number;
  embedding_dim: number;
  created_at: number;
}

/**
 * What `manifest` holds: the validated manifest plus what validation decided (input/output names,
 * tokenizer, notes), so that a later run uses the model exactly as it was checked.
 */
export interface StoredManifest {
  manifest: ModelFolder['manifest'];
  vision: ModelFolder['vision'];
  text: ModelFolder['text'];
  tokenizer: ModelFolder['tokenizer'];
  notes: string[];
  /** The towers relative to the folder; absent in rows from before Hugging Face folders (the top-level files). */
  files?: ModelFolder['files'];
  layout?: ModelFolder['layout'];
  variant?: ModelFolder['variant'];
}

/** The absolute paths of a registered model's two towers. */
export function modelFilePaths(r: ModelRow): { vision: string; text: string } {
  const files = storedManifest(r).files ?? { vision: 'vision_model.onnx', text: 'text_model.onnx' };
  return { vision: join(r.folder, files.vision), text: join(r.folder, files.text) };
}

export function insertModel(db: WritableDb, name: string, f: ModelFolder): ModelId {
  const stored: StoredManifest = {
    manifest: f.manifest,
    vision: f.vision,
    text: f.text,
    tokenizer: f.tokenizer,
    notes: f.notes,
    files: f.files,
    layout: f.layout,
    variant: f.variant,
  };
  const r = stmt(
    db,
    `INSERT INTO models (name, folder, manifest, vision_sha256, text_sha256, image_height, image_width,
         context_length, embedding_dim, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    name,
    f.dir,
    JSON.stringify(stored),
    f.visionSha256,
    f.textSha256,
    f.manifest.imageSize[0],
    f.manifest.imageSize[1],
    f.manifest.contextLength,
    f.manifest.embeddingDim,
    Date.now(),
  );
  return asModelId(Number(r.lastInsertRowid));
}

export function getModelRow(db: ReadableDb, id: ModelId): ModelRow | undefined {
  return stmt(db, `SELECT * FROM models WHERE id = ?`).get(id) as ModelRow | undefined;
}

export function findModelRowByName(db: ReadableDb, name: string): ModelRow | undefined {
  return stmt(db, `SELECT * FROM models WHERE name = ?`).get(name) as ModelRow | undefined;
}

/** Every registered model's row, oldest first. */
export function listModelRows(db: ReadableDb): ModelRow[] {
  return stmt(db, `SELECT * FROM models ORDER BY id`).all() as ModelRow[];
}

export const storedManifest = (r: ModelRow): StoredManifest => JSON.parse(r.manifest) as StoredManifest;

export function toClipModel(db: ReadableDb, r: ModelRow): ClipModel {
  const s = storedManifest(r);
  const embedded = (
    stmt(db, `SELECT count(*) AS n FROM embeddings WHERE model_id = ?`).get(r.id) as { n: number }
  ).n;
  return {
    id: asModelId(r.id),
    name: r.name,
    folder: r.folder,
    imageSize: [r.image_height, r.image_width],
    resize: s.manifest.resize as ResizeMode,
    contextLength: r.context_length,
    embeddingDim: r.embedding_dim,
    visionSha256: r.vision_sha256,
    textSha256: r.text_sha256,
    tokenizer: s.tokenizer.description,
    notes: s.notes,
    embeddedImages: embedded,
    createdAt: r.created_at,
  };
}

export function listModels(db: ReadableDb): ClipModel[] {
  return listModelRows(db).map((r) => toClipModel(db, r));
}
