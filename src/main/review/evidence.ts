// What produced a caption: its MTG run (initial caption, every Q&A round kept or dropped and why,
// models, prompt set) and, when a CLIP model embedded the image, the image–text score of its text.
// The MTG tables arrive with migration 4; until an image has a run, the evidence is null.
import type { CaptionEvidence } from '#shared/review/types';
import type { CaptionId, ModelId } from '#shared/ids';
import { getNewestRunOf, getPromptSetName, listRunRounds } from '../db/repos/evidence';
import { hasTable } from '../db/repos/review';
import type { ReadableDb } from '../db/types';

/** The newest run that wrote `root` (the chain's first caption). */
export function getEvidence(db: ReadableDb, root: CaptionId): CaptionEvidence | null {
  if (!hasTable(db, 'mtg_runs') || !hasTable(db, 'qa_rounds')) return null;
  const run = getNewestRunOf(db, root);
  if (!run) return null;
  const rounds = listRunRounds(db, run.id);
  let promptSet: CaptionEvidence['promptSet'] = null;
  if (run.prompt_set_id !== null && hasTable(db, 'prompt_sets')) {
    promptSet = getPromptSetName(db, run.prompt_set_id) ?? null;
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
