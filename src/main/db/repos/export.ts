// The export's queries: accepted current captions of person images (of a dataset, of a job's scope) with
// what the annotation file and its provenance need. What is written, and how, is in src/main/jobs/export.ts.
import { CAPTION_SOURCES, type CaptionSource, type ImageRole, type Split } from '#shared/library/types';
import { asImageId, type ImageId, type JobId } from '#shared/ids';
import { stmt } from '../statements';
import type { ReadableDb } from '../types';
import { hasTable } from './review';

/** Which captions an export takes: accepted ones of these sources, of one dataset or all. */
export interface ExportScope {
  datasetId?: number;
  sources: readonly CaptionSource[];
}

export interface ExportRow {
  caption_id: number;
  root_id: number;
  text: string;
  source: CaptionSource;
  image_id: number;
  dataset_id: number;
  dataset_name: string;
  root: string;
  rel_path: string;
  bytes: number;
  split: Split | null;
  person_id: string | null;
  camera: string | null;
  role: ImageRole | null;
  source_group: string | null;
}

/**
 * Junk (Market/Duke's -1: bad detections) and distractors (0000: no person of the set) are never exported:
 * neither has a person id a trainer could learn from (issue 16).
 */
const PERSON_IMAGES = `i.person_kind NOT IN ('junk', 'distractor')`;

function sourceFilter(sources: readonly CaptionSource[]): { sql: string; params: unknown[] } {
  return { sql: `c.source IN (${sources.map(() => '?').join(',')})`, params: [...sources] };
}

/** Accepted current captions in image order (of the job's scope, when given): what the export writes. */
export function exportRows(db: ReadableDb, p: ExportScope, jobId?: JobId): ExportRow[] {
  const src = sourceFilter(p.sources);
  return stmt(
    db,
    `SELECT c.id AS caption_id, coalesce(c.derived_from, c.id) AS root_id, c.text, c.source, i.id AS image_id,
         i.dataset_id, d.name AS dataset_name, d.root, i.rel_path, i.bytes, i.split, pe.person_id,
         i.camera, i.role, i.source_group
       FROM captions c JOIN images i ON i.id = c.image_id JOIN datasets d ON d.id = i.dataset_id
         LEFT JOIN identities pe ON pe.id = i.identity_id
       WHERE c.is_current = 1 AND c.status = 'accepted' AND ${PERSON_IMAGES} AND ${src.sql} ${p.datasetId === undefined ? '' : 'AND i.dataset_id = ?'}
         ${jobId === undefined ? '' : 'AND EXISTS (SELECT 1 FROM job_images j WHERE j.job_id = ? AND j.image_id = i.id)'}
       ORDER BY i.id, c.id`,
  ).all(
    ...src.params,
    ...(p.datasetId === undefined ? [] : [p.datasetId]),
    ...(jobId === undefined ? [] : [jobId]),
  ) as ExportRow[];
}

/** Images with an accepted caption to export, in id order: an export job's scope, fixed when it is queued. */
export function listExportableImageIds(db: ReadableDb, p: ExportScope): ImageId[] {
  const src = sourceFilter(p.sources);
  return (
    stmt(
      db,
      `SELECT DISTINCT i.id FROM captions c JOIN images i ON i.id = c.image_id
         WHERE c.is_current = 1 AND c.status = 'accepted' AND ${PERSON_IMAGES} AND ${src.sql} ${p.datasetId === undefined ? '' : 'AND i.dataset_id = ?'}
         ORDER BY i.id`,
      'pluck',
    ).all(...src.params, ...(p.datasetId === undefined ? [] : [p.datasetId])) as number[]
  ).map(asImageId);
}

export function countExportable(
  db: ReadableDb,
  p: ExportScope,
): { captions: number; images: number; bytes: number } {
  const src = sourceFilter(p.sources);
  return stmt(
    db,
    `SELECT coalesce(sum(n), 0) AS captions, count(*) AS images, coalesce(sum(bytes), 0) AS bytes FROM (
         SELECT i.id, i.bytes, count(*) AS n FROM captions c JOIN images i ON i.id = c.image_id
         WHERE c.is_current = 1 AND c.status = 'accepted' AND ${PERSON_IMAGES} AND ${src.sql} ${p.datasetId === undefined ? '' : 'AND i.dataset_id = ?'}
         GROUP BY i.id)`,
  ).get(...src.params, ...(p.datasetId === undefined ? [] : [p.datasetId])) as {
    captions: number;
    images: number;
    bytes: number;
  };
}

/** Accepted current captions per source (of one dataset, or all): what each source would add to an export. */
export function countExportableBySource(
  db: ReadableDb,
  datasetId: number | undefined,
): Record<CaptionSource, number> {
  const rows = stmt(
    db,
    `SELECT c.source, count(*) AS n FROM captions c JOIN images i ON i.id = c.image_id
       WHERE c.is_current = 1 AND c.status = 'accepted' AND ${PERSON_IMAGES} ${datasetId === undefined ? '' : 'AND i.dataset_id = ?'}
       GROUP BY c.source`,
  ).all(...(datasetId === undefined ? [] : [datasetId])) as { source: CaptionSource; n: number }[];
  const out = Object.fromEntries(CAPTION_SOURCES.map((s) => [s, 0])) as Record<CaptionSource, number>;
  for (const r of rows) out[r.source] = r.n;
  return out;
}

/** The last decision (not undone) on each edit chain, by the chain's root caption. */
export function listLastDecisions(
  db: ReadableDb,
): { root: number; action: string; reviewer: string; created_at: number }[] {
  return stmt(
    db,
    `SELECT coalesce(c.derived_from, c.id) AS root, r.action, r.reviewer, r.created_at FROM reviews r JOIN captions c ON c.id = r.caption_id
       WHERE r.id IN (SELECT max(r2.id) FROM reviews r2 JOIN captions c2 ON c2.id = r2.caption_id
                      WHERE r2.action != 'undo' AND r2.undone_by IS NULL GROUP BY coalesce(c2.derived_from, c2.id))`,
  ).all() as { root: number; action: string; reviewer: string; created_at: number }[];
}

export interface MtgProvenanceRow {
  caption_id: number;
  id: number;
  vqa_model: string;
  reconstructor_model: string;
  initial_caption: string | null;
  prompt_name?: string;
  prompt_version?: number;
  prompt_sha256?: string;
}

/**
 * The latest MTG run that wrote each caption, with its prompt set where the workspace has prompt sets;
 * none in a workspace without MTG runs.
 */
export function listMtgProvenance(db: ReadableDb): MtgProvenanceRow[] {
  if (!hasTable(db, 'mtg_runs')) return [];
  const withPrompts = hasTable(db, 'prompt_sets');
  return stmt(
    db,
    `SELECT m.caption_id, m.id, m.vqa_model, m.reconstructor_model, m.initial_caption
           ${withPrompts ? ', ps.name AS prompt_name, ps.version AS prompt_version, ps.sha256 AS prompt_sha256' : ''}
         FROM mtg_runs m ${withPrompts ? 'LEFT JOIN prompt_sets ps ON ps.id = m.prompt_set_id' : ''}
         WHERE m.id IN (SELECT max(id) FROM mtg_runs WHERE caption_id IS NOT NULL GROUP BY caption_id)`,
  ).all() as MtgProvenanceRow[];
}

/** A caption's text (the root of an edited chain: what the model wrote). */
export const getCaptionText = (db: ReadableDb, id: number): string =>
  stmt(db, `SELECT text FROM captions WHERE id = ?`, 'pluck').get(id) as string;
