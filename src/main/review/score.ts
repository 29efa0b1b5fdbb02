// The CLIP image–text score of a caption: the stored image vector against the caption's text encoded
// by the same model's text tower (the encoder pool keeps it warm). The desk computes it on first view;
// the score job (src/main/jobs/score.ts) computes it for every caption ahead of time. Both go through
// `computeCaptionScores`, so a caption's score does not depend on which of them got there first.
// Scores are kept in caption_scores; a row's text never changes (edits are new rows), so a stored
// score never goes stale.
import type { ReviewItem } from '#shared/review/types';
import type { CaptionId, ImageId, ModelId } from '#shared/ids';
import { getEmbedding } from '../db/repos/embeddings';
import { getModelRow, type ModelRow } from '../db/repos/models';
import { scoringModel, upsertCaptionScore } from '../db/repos/review';
import type { WritableDb } from '../db/types';
import { cosine } from '../ml/vector-index';
import { encodeTexts, type TextEncoderPool } from '../ml/encoder-pool';

/**
 * The score of each item with `model`: cosine of the image's stored vector and the text's vector from
 * the model's text tower, in order; null where the image has no vector from this model. Writes nothing:
 * the caller stores the values (the job in the same transaction as its cursor).
 */
export async function computeCaptionScores(
  db: WritableDb,
  encoders: TextEncoderPool,
  model: ModelRow,
  items: readonly { imageId: ImageId; text: string }[],
): Promise<(number | null)[]> {
  const modelId = model.id as ModelId;
  const images = items.map((it) => getEmbedding(db, modelId, it.imageId) ?? null);
  // Generated captions repeat themselves ("A person walking."): encode each distinct text once.
  const texts = [...new Set(items.filter((_, k) => images[k] !== null).map((it) => it.text))];
  if (texts.length === 0) return items.map(() => null);
  const tower = await encoders.get(model);
  const { vectors } = await encodeTexts(tower, texts);
  const byText = new Map(texts.map((t, k) => [t, vectors[k]!]));
  return items.map((it, k) => {
    const image = images[k];
    return image ? cosine(image, byText.get(it.text)!) : null;
  });
}

/** Fills `item.score` when the image has a vector and the score is not stored yet; failures hide it. */
export async function withScore(
  db: WritableDb,
  encoders: TextEncoderPool,
  item: ReviewItem,
): Promise<ReviewItem> {
  if (item.score !== null) return item;
  // The workspace's scoring model, the same one the score filter, the dashboard and `ctgi score` use.
  const model = scoringModel(db);
  if (!model) return item;
  const row = getModelRow(db, model.id);
  if (!row) return item;
  try {
    const [value] = await computeCaptionScores(db, encoders, row, [
      { imageId: item.image.id, text: item.caption.text },
    ]);
    if (value === null || value === undefined) return item;
    upsertCaptionScore(db, item.caption.id as CaptionId, model.id, value);
    return { ...item, score: { model: model.name, value } };
  } catch {
    // No text tower (files moved, encoder process failed): the desk works without the score.
    return item;
  }
}
