// The CLIP image–text score of a caption: the stored image vector against the caption's text encoded
// by the same model's text tower (the encoder pool keeps it warm). Computed on first view and kept in
// caption_scores; a row's text never changes (edits are new rows), so a stored score never goes stale.
import type { ReviewItem } from '../../shared/domain';
import type { CaptionId } from '../../shared/ids';
import { getEmbedding } from '../db/repos/embeddings';
import { getModelRow } from '../db/repos/models';
import { upsertCaptionScore } from '../db/repos/review';
import type { Db } from '../db/types';
import { encodeTexts, textEncoderPool } from '../ml/encoder-pool';
import { cosine, modelForImage } from './evidence';

/** Fills `item.score` when the image has a vector and the score is not stored yet; failures hide it. */
export async function withScore(db: Db, item: ReviewItem): Promise<ReviewItem> {
  if (item.score !== null) return item;
  const model = modelForImage(db, item.image.id);
  if (!model) return item;
  const row = getModelRow(db, model.id);
  const image = getEmbedding(db, model.id, item.image.id);
  if (!row || !image) return item;
  try {
    const text = await textEncoderPool(db).get(row);
    const { vectors } = await encodeTexts(text, [item.caption.text]);
    const value = cosine(image, vectors[0]!);
    upsertCaptionScore(db, item.caption.id as CaptionId, model.id, value);
    return { ...item, score: { model: model.name, value } };
  } catch {
    // No text tower (files moved, worker failed): the desk works without the score.
    return item;
  }
}
