// The retrieval evaluation's rows: the gallery (with whether each image has a vector from the model) and
// the query captions, for the text-based person search protocol (a split) or re-ID's (gallery / query
// roles). Junk is never evaluated; distractors only when asked. The ranking and metrics are in
// src/main/pipelines/eval.ts.
import type { EvalCaptionSource, EvalProtocol } from '#shared/eval/types';
import type { Split } from '#shared/library/types';
import type { ModelId } from '#shared/ids';
import { stmt } from '../statements';
import type { ReadableDb } from '../types';

export interface EvalGalleryRow {
  image_id: number;
  dataset_id: number;
  rel_path: string;
  identity_id: number | null;
  camera: string | null;
  source_group: string | null;
  layout: string | null;
  /** Bytes of the image's vector from the model; null when it has none. */
  vector_bytes: number | null;
}

export interface EvalCaptionRow {
  id: number;
  image_id: number;
  text: string;
  dataset_id: number;
  rel_path: string;
  identity_id: number | null;
  camera: string | null;
  source_group: string | null;
  layout: string | null;
}

export interface EvalScope {
  protocol: EvalProtocol;
  /** The split (text-based protocol); re-ID uses the images' roles instead. */
  split: Split;
  datasetId?: number | undefined;
  distractors: boolean;
}

function sideWhere(scope: EvalScope, side: 'gallery' | 'query'): { sql: string; params: unknown[] } {
  const common = [scope.datasetId ?? null, scope.datasetId ?? null, scope.distractors ? 1 : 0];
  const tail =
    ` AND (? IS NULL OR i.dataset_id = ?) AND i.person_kind != 'junk'` +
    ` AND (? = 1 OR i.person_kind != 'distractor')`;
  return scope.protocol === 'reid'
    ? { sql: `i.role = '${side}'${tail}`, params: common }
    : { sql: `i.split = ?${tail}`, params: [scope.split, ...common] };
}

/** The gallery in image id order, with the size of each image's vector from `modelId` (null: none). */
export function listEvalGallery(db: ReadableDb, modelId: ModelId, scope: EvalScope): EvalGalleryRow[] {
  const w = sideWhere(scope, 'gallery');
  return stmt(
    db,
    `SELECT i.id AS image_id, i.dataset_id, i.rel_path, i.identity_id, i.camera, i.source_group, d.layout, length(e.vector) AS vector_bytes
       FROM images i JOIN datasets d ON d.id = i.dataset_id
         LEFT JOIN embeddings e ON e.image_id = i.id AND e.model_id = ?
       WHERE ${w.sql} ORDER BY i.id`,
  ).all(modelId, ...w.params) as EvalGalleryRow[];
}

/**
 * The query captions in id order, not rejected: the dataset's own (human) or every current caption.
 */
export function listEvalQueries(
  db: ReadableDb,
  scope: EvalScope,
  captionSource: EvalCaptionSource,
): EvalCaptionRow[] {
  const w = sideWhere(scope, 'query');
  return stmt(
    db,
    `SELECT c.id, c.image_id, c.text, i.dataset_id, i.rel_path, i.identity_id, i.camera, i.source_group, d.layout
       FROM captions c JOIN images i ON i.id = c.image_id JOIN datasets d ON d.id = i.dataset_id
       WHERE ${w.sql} AND c.status != 'rejected' AND ${
         captionSource === 'human' ? `c.source = 'human'` : 'c.is_current = 1'
       }
       ORDER BY c.id`,
  ).all(...w.params) as EvalCaptionRow[];
}
