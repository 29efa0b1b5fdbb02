// What produced a caption, as rows: the newest MTG run that wrote a chain's first caption, its Q&A
// rounds and its prompt set. Shaped into the desk's evidence in src/main/review/evidence.ts.
import type { QaDropReason } from '#shared/review/types';
import type { CaptionId } from '#shared/ids';
import { stmt } from '../statements';
import type { ReadableDb } from '../types';

export interface RunRow {
  id: number;
  initial_caption: string | null;
  reconstruction: string | null;
  vqa_model: string;
  reconstructor_model: string;
  prompt_set_id: number | null;
  created_at: number;
}

export interface RoundRow {
  idx: number;
  question: string;
  answer: string | null;
  kept: number;
  drop_reason: QaDropReason | null;
  drop_detail: string | null;
}

/** The newest MTG run that wrote `root` (a chain's first caption). */
export const getNewestRunOf = (db: ReadableDb, root: CaptionId): RunRow | undefined =>
  stmt(
    db,
    `SELECT id, initial_caption, reconstruction, vqa_model, reconstructor_model, prompt_set_id, created_at
       FROM mtg_runs WHERE caption_id = ? ORDER BY id DESC LIMIT 1`,
  ).get(root) as RunRow | undefined;

/** A run's Q&A rounds in order, kept and dropped. */
export const listRunRounds = (db: ReadableDb, runId: number): RoundRow[] =>
  stmt(
    db,
    `SELECT idx, question, answer, kept, drop_reason, drop_detail FROM qa_rounds WHERE run_id = ? ORDER BY idx`,
  ).all(runId) as RoundRow[];

export const getPromptSetName = (db: ReadableDb, id: number): { name: string; version: number } | undefined =>
  stmt(db, `SELECT name, version FROM prompt_sets WHERE id = ?`).get(id) as
    { name: string; version: number } | undefined;
