import type { CaptionSource, Split } from '#shared/library/types';
import type { DropReason, MtgRun, QaRound } from '#shared/mtg/types';
import type { PromptSet, PromptSetBody } from '#shared/llm/types';
import {
  asCaptionId,
  asImageId,
  asJobId,
  type CaptionId,
  type DatasetId,
  type ImageId,
  type JobId,
} from '#shared/ids';
import { canonicalHash, canonicalJson } from '../../canonical-json';
import type { Statement } from 'better-sqlite3';
import { stmt } from '../statements';
import type { ReadableDb, WritableDb } from '../types';

// ── prompt sets ────────────────────────────────────────────────────────────────────────────────

interface PromptSetRow {
  id: number;
  name: string;
  version: number;
  sha256: string;
  body: string;
  created_at: number;
}

const toPromptSet = (r: PromptSetRow): PromptSet => ({
  id: r.id,
  name: r.name,
  version: r.version,
  sha256: r.sha256,
  body: JSON.parse(r.body) as PromptSetBody,
  createdAt: r.created_at,
});

/**
 * Stores a body as the next version of its name, or returns the stored version with the same content
 * (by hash) — saving an unchanged set creates nothing. The stored body carries its version number.
 */
export function savePromptSet(db: WritableDb, body: PromptSetBody): PromptSet {
  const content = { ...body, version: undefined };
  const sha = canonicalHash(content);
  return db.transaction(() => {
    const same = stmt(db, `SELECT * FROM prompt_sets WHERE sha256 = ?`).get(sha) as PromptSetRow | undefined;
    if (same) return toPromptSet(same);
    const { v } = stmt(db, `SELECT coalesce(max(version), 0) + 1 AS v FROM prompt_sets WHERE name = ?`).get(
      body.name,
    ) as { v: number };
    const stored = { ...content, version: v };
    const row = stmt(
      db,
      `INSERT INTO prompt_sets (name, version, sha256, body, created_at) VALUES (?, ?, ?, ?, ?) RETURNING *`,
    ).get(body.name, v, sha, canonicalJson(stored), Date.now()) as PromptSetRow;
    return toPromptSet(row);
  })();
}

export function getPromptSet(db: ReadableDb, id: number): PromptSet | undefined {
  const r = stmt(db, `SELECT * FROM prompt_sets WHERE id = ?`).get(id) as PromptSetRow | undefined;
  return r && toPromptSet(r);
}

export function latestPromptSet(db: ReadableDb, name: string): PromptSet | undefined {
  const r = stmt(db, `SELECT * FROM prompt_sets WHERE name = ? ORDER BY version DESC LIMIT 1`).get(name) as
    PromptSetRow | undefined;
  return r && toPromptSet(r);
}

/** Every stored version, newest first within each name. */
export function listPromptSets(db: ReadableDb): PromptSet[] {
  return (stmt(db, `SELECT * FROM prompt_sets ORDER BY name, version DESC`).all() as PromptSetRow[]).map(
    toPromptSet,
  );
}

// ── images to caption ──────────────────────────────────────────────────────────────────────────

export interface MtgSelection {
  datasetId?: DatasetId | undefined;
  split?: Split | undefined;
  imageIds?: readonly ImageId[] | undefined;
  /** Include images that already have an MTG caption. */
  redo: boolean;
}

export interface ImageToCaption {
  id: ImageId;
  relPath: string;
  root: string;
  sha256: string;
  format: string;
}

// The selection: unless `redo`, minus images that already have an MTG caption. Image ids of an explicit list
// travel as a JSON array, so a 100k list is one parameter rather than 100k placeholders.
const SELECTION_WHERE = `
  (@datasetId IS NULL OR i.dataset_id = @datasetId)
  AND (@split IS NULL OR i.split = @split)
  AND (@ids IS NULL OR i.id IN (SELECT value FROM json_each(@ids)))
  AND (@redo = 1 OR NOT EXISTS (SELECT 1 FROM captions c WHERE c.image_id = i.id AND c.source = 'mtg'))`;

function selectionParams(sel: MtgSelection): Record<string, unknown> {
  return {
    datasetId: sel.datasetId ?? null,
    split: sel.split ?? null,
    ids: sel.imageIds ? JSON.stringify(sel.imageIds) : null,
    redo: sel.redo ? 1 : 0,
  };
}

/** Images of the selection, now: what a new job would caption. */
export function countImagesToCaption(db: ReadableDb, sel: MtgSelection): number {
  const r = stmt(db, `SELECT count(*) AS n FROM images i WHERE ${SELECTION_WHERE}`).get(
    selectionParams(sel),
  ) as { n: number };
  return r.n;
}

/** The ids of the selection's images, in id order: an MTG job's scope, fixed when it is queued. */
export function listImageIdsToCaption(db: ReadableDb, sel: MtgSelection): ImageId[] {
  return (
    stmt(db, `SELECT i.id FROM images i WHERE ${SELECTION_WHERE} ORDER BY i.id`)
      .pluck()
      .all(selectionParams(sel)) as number[]
  ).map(asImageId);
}

// A job's scope, minus images it already handled (a run of this job exists: done or failed) and, unless
// `redo`, minus images that got an MTG caption elsewhere meanwhile. Driven by job_images' key, so a page
// costs its own rows whatever the size of the library. (A deleted image leaves the scope with its row.)
const JOB_PENDING_WHERE = `
  s.job_id = @jobId AND s.image_id > @afterId
  AND NOT EXISTS (SELECT 1 FROM mtg_runs r WHERE r.job_id = @jobId AND r.image_id = s.image_id)
  AND (@redo = 1 OR NOT EXISTS (SELECT 1 FROM captions c WHERE c.image_id = s.image_id AND c.source = 'mtg'))`;

export function countJobImagesToCaption(db: ReadableDb, jobId: JobId, redo: boolean): number {
  const r = stmt(db, `SELECT count(*) AS n FROM job_images s WHERE ${JOB_PENDING_WHERE}`).get({
    jobId,
    afterId: 0,
    redo: redo ? 1 : 0,
  }) as { n: number };
  return r.n;
}

export function listJobImagesToCaption(
  db: ReadableDb,
  jobId: JobId,
  redo: boolean,
  afterId: number,
  limit: number,
): ImageToCaption[] {
  const rows = stmt(
    db,
    `SELECT i.id, i.rel_path, i.sha256, i.format, d.root
       FROM job_images s JOIN images i ON i.id = s.image_id JOIN datasets d ON d.id = i.dataset_id
       WHERE ${JOB_PENDING_WHERE} ORDER BY s.image_id LIMIT @limit`,
  ).all({ jobId, afterId, redo: redo ? 1 : 0, limit }) as {
    id: number;
    rel_path: string;
    root: string;
    sha256: string;
    format: string;
  }[];
  return rows.map((r) => ({
    id: asImageId(r.id),
    relPath: r.rel_path,
    root: r.root,
    sha256: r.sha256,
    format: r.format,
  }));
}

// ── runs and rounds ────────────────────────────────────────────────────────────────────────────

/** What a finished image run stores: the stored run's fields, less those the database assigns. */
export interface NewMtgRun extends Omit<MtgRun, 'id' | 'captionId' | 'promptSet' | 'createdAt'> {
  promptSetId: number;
  initialCallId: number | null;
  reconstructCallId: number | null;
  /** The caption to store with the run (done runs only). */
  caption: { text: string; source: CaptionSource } | null;
}

interface Statements {
  run: Statement<unknown[]>;
  round: Statement<unknown[]>;
  caption: Statement<unknown[]>;
}
const statements = new WeakMap<WritableDb, Statements>();

function prepared(db: WritableDb): Statements {
  let s = statements.get(db);
  if (!s) {
    s = {
      run: stmt(
        db,
        `INSERT INTO mtg_runs (image_id, job_id, prompt_set_id, status, error, caption_id, initial_caption, initial_call_id,
           reconstruction, reconstruct_call_id, vqa_endpoint, vqa_model, reconstructor_endpoint, reconstructor_model, params,
           skipped, calls, cached_calls, prompt_tokens, completion_tokens, elapsed_ms, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      round: stmt(
        db,
        `INSERT INTO qa_rounds (run_id, idx, question_id, question, prompt, answer, kept, drop_reason, drop_detail, fact,
           llm_call_id, cached, latency_ms, prompt_tokens, completion_tokens)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      caption: stmt(
        db,
        `INSERT INTO captions (image_id, source, text, status, created_at, updated_at) VALUES (?, ?, ?, 'pending', ?, ?)`,
      ),
    };
    statements.set(db, s);
  }
  return s;
}

/**
 * Writes a run, its rounds and (when done) its pending caption. Call inside the caller's transaction
 * (with the job cursor) so the three land together or not at all.
 */
export function insertMtgRun(db: WritableDb, r: NewMtgRun): { runId: number; captionId: CaptionId | null } {
  const s = prepared(db);
  const now = Date.now();
  const captionId = r.caption
    ? asCaptionId(
        Number(s.caption.run(r.imageId, r.caption.source, r.caption.text, now, now).lastInsertRowid),
      )
    : null;
  const runId = Number(
    s.run.run(
      r.imageId,
      r.jobId,
      r.promptSetId,
      r.status,
      r.error,
      captionId,
      r.initialCaption,
      r.initialCallId,
      r.reconstruction,
      r.reconstructCallId,
      r.vqa.endpoint,
      r.vqa.model,
      r.reconstructor.endpoint,
      r.reconstructor.model,
      JSON.stringify(r.params),
      JSON.stringify(r.skipped),
      r.calls,
      r.cachedCalls,
      r.promptTokens,
      r.completionTokens,
      r.elapsedMs,
      now,
    ).lastInsertRowid,
  );
  for (const q of r.rounds) {
    s.round.run(
      runId,
      q.index,
      q.questionId,
      q.question,
      q.prompt,
      q.answer,
      q.kept ? 1 : 0,
      q.dropReason,
      q.dropDetail,
      q.fact,
      q.llmCallId,
      q.cached ? 1 : 0,
      q.latencyMs,
      q.promptTokens,
      q.completionTokens,
    );
  }
  return { runId, captionId };
}

interface RunRow {
  id: number;
  image_id: number;
  job_id: number | null;
  prompt_set_id: number;
  status: 'done' | 'failed';
  error: string | null;
  caption_id: number | null;
  initial_caption: string | null;
  reconstruction: string | null;
  vqa_endpoint: string;
  vqa_model: string;
  reconstructor_endpoint: string;
  reconstructor_model: string;
  params: string;
  skipped: string;
  calls: number;
  cached_calls: number;
  prompt_tokens: number;
  completion_tokens: number;
  elapsed_ms: number;
  created_at: number;
  ps_name: string;
  ps_version: number;
  ps_sha256: string;
}

interface RoundRow {
  run_id: number;
  idx: number;
  question_id: string;
  question: string;
  prompt: string;
  answer: string | null;
  kept: number;
  drop_reason: DropReason | null;
  drop_detail: string | null;
  fact: string | null;
  llm_call_id: number | null;
  cached: number;
  latency_ms: number | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
}

const toRound = (q: RoundRow): QaRound => ({
  index: q.idx,
  questionId: q.question_id,
  question: q.question,
  prompt: q.prompt,
  answer: q.answer,
  kept: q.kept === 1,
  dropReason: q.drop_reason,
  dropDetail: q.drop_detail,
  fact: q.fact,
  llmCallId: q.llm_call_id,
  cached: q.cached === 1,
  latencyMs: q.latency_ms,
  promptTokens: q.prompt_tokens,
  completionTokens: q.completion_tokens,
});

/** Every MTG run of an image, newest first, with its rounds in order: the audit trail of its captions. */
export function listMtgRunsForImage(db: ReadableDb, imageId: ImageId): MtgRun[] {
  const runs = stmt(
    db,
    `SELECT r.*, p.name AS ps_name, p.version AS ps_version, p.sha256 AS ps_sha256
       FROM mtg_runs r JOIN prompt_sets p ON p.id = r.prompt_set_id WHERE r.image_id = ? ORDER BY r.id DESC`,
  ).all(imageId) as RunRow[];
  if (runs.length === 0) return [];
  const rounds = stmt(
    db,
    `SELECT q.* FROM qa_rounds q JOIN mtg_runs r ON r.id = q.run_id WHERE r.image_id = ? ORDER BY q.run_id, q.idx`,
  ).all(imageId) as RoundRow[];
  return runs.map((r) => ({
    id: r.id,
    imageId: asImageId(r.image_id),
    jobId: r.job_id === null ? null : asJobId(r.job_id),
    status: r.status,
    error: r.error,
    captionId: r.caption_id === null ? null : asCaptionId(r.caption_id),
    initialCaption: r.initial_caption,
    reconstruction: r.reconstruction,
    promptSet: { id: r.prompt_set_id, name: r.ps_name, version: r.ps_version, sha256: r.ps_sha256 },
    vqa: { endpoint: r.vqa_endpoint, model: r.vqa_model },
    reconstructor: { endpoint: r.reconstructor_endpoint, model: r.reconstructor_model },
    params: JSON.parse(r.params) as Record<string, unknown>,
    skipped: JSON.parse(r.skipped) as { questionId: string; reason: string }[],
    calls: r.calls,
    cachedCalls: r.cached_calls,
    promptTokens: r.prompt_tokens,
    completionTokens: r.completion_tokens,
    elapsedMs: r.elapsed_ms,
    createdAt: r.created_at,
    rounds: rounds.filter((q) => q.run_id === r.id).map(toRound),
  }));
}

export interface JobRunCounts {
  done: number;
  failed: number;
  calls: number;
  cachedCalls: number;
  tokens: number;
}

/** Totals over a job's runs: the job's progress line is rebuilt from these after a crash. */
export function countJobRuns(db: ReadableDb, jobId: JobId): JobRunCounts {
  return stmt(
    db,
    `SELECT coalesce(sum(status = 'done'), 0) AS done, coalesce(sum(status = 'failed'), 0) AS failed,
         coalesce(sum(calls), 0) AS calls, coalesce(sum(cached_calls), 0) AS cachedCalls,
         coalesce(sum(prompt_tokens + completion_tokens), 0) AS tokens
       FROM mtg_runs WHERE job_id = ?`,
  ).get(jobId) as JobRunCounts;
}

/** Images whose run in this job failed and that have no MTG caption since: what a retry should redo. */
export function listFailedImagesOfJob(db: ReadableDb, jobId: JobId): ImageId[] {
  return (
    stmt(
      db,
      `SELECT DISTINCT r.image_id AS id FROM mtg_runs r WHERE r.job_id = ? AND r.status = 'failed'
           AND NOT EXISTS (SELECT 1 FROM captions c WHERE c.image_id = r.image_id AND c.source = 'mtg')
         ORDER BY r.image_id`,
    ).all(jobId) as { id: number }[]
  ).map((r) => asImageId(r.id));
}

/** These images (in id order), with what the MTG job needs to read them. */
export function getImagesToCaption(db: ReadableDb, ids: readonly ImageId[]): ImageToCaption[] {
  const rows = stmt(
    db,
    `SELECT i.id, i.rel_path, i.sha256, i.format, d.root
       FROM images i JOIN datasets d ON d.id = i.dataset_id
       WHERE i.id IN (SELECT value FROM json_each(?)) ORDER BY i.id`,
  ).all(JSON.stringify(ids)) as {
    id: number;
    rel_path: string;
    root: string;
    sha256: string;
    format: string;
  }[];
  return rows.map((r) => ({
    id: asImageId(r.id),
    relPath: r.rel_path,
    root: r.root,
    sha256: r.sha256,
    format: r.format,
  }));
}
