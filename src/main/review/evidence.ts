// What produced a caption: its MTG run (initial caption, every Q&A round kept or dropped and why,
// models, prompt set) and, when a CLIP model embedded the image, the image–text score of its text.
// The MTG tables arrive with migration 4; until an image has a run, the evidence is null.
import type { CaptionEvidence, QaDropReason } from '../../shared/domain';
import type { CaptionId, ModelId } from '../../shared/ids';
import { hasTable } from '../db/repos/review';
import type { Db } from '../db/types';

interface RunRow {
  id: number;
  initial_caption: string | null;
  reconstruction: string | null;
  vqa_model: string;
  reconstructor_model: string;
  prompt_set_id: number | null;
  created_at: number;
}

interface RoundRow {
  idx: number;
  question: string;
  answer: string | null;
  kept: number;
  drop_reason: QaDropReason | null;
  drop_detail: string | null;
}

/** The newest run that wrote `root` (the chain's first caption). */
export function getEvidence(db: Db, root: CaptionId): CaptionEvidence | null {
  if (!hasTable(db, 'mtg_runs') || !hasTable(db, 'qa_rounds')) return null;
  const run = db
    .prepare(
      `SELECT id, initial_caption, reconstruction, vqa_model, reconstructor_model, prompt_set_id, created_at
       FROM mtg_runs WHERE caption_id = ? ORDER BY id DESC LIMIT 1`,
    )
    .get(root) as RunRow | undefined;
  if (!run) return null;
  const rounds = db
    .prepare(
      `SELECT idx, question, answer, kept, drop_reason, drop_detail FROM qa_rounds WHERE run_id = ? ORDER BY idx`,
    )
    .all(run.id) as RoundRow[];
  let promptSet: CaptionEvidence['promptSet'] = null;
  if (run.prompt_set_id !== null && hasTable(db, 'prompt_sets')) {
    const ps = db.prepare(`SELECT name, version FROM prompt_sets WHERE id = ?`).get(run.prompt_set_id) as
      { name: string; version: number } | undefined;
    promptSet = ps ?? null;
  }
  return {
    runId: run.id,
    initialCaption: run.initial_caption,
    reconstruction: run.reconstruction,
    vqaModel: run.vqa_model,
    reconstructorModel: run.reconstructor_model,
    promptSet,
    rounds: rounds.map((r) => ({
      idx: r.idx,
      question: r.question,
      answer: r.answer,
      kept: r.kept === 1,
      dropReason: r.drop_reason,
      dropDetail: r.drop_detail,
    })),
    createdAt: run.created_at,
  };
}

/**
 * Turns a caption's text into its CLIP text embedding. Supplied by whoever holds a loaded model (the
 * encoder pool); absent, scores are read from caption_scores only and never computed.
 */
export type TextEmbedder = (modelId: ModelId, texts: readonly string[]) => Promise<Float32Array[]>;
