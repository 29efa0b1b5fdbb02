// Embedding job: one model over one dataset (or all images). Its scope is the images without a vector
// from that model when it is queued (images imported later wait for the next job); they are embedded in
// id order, with the last embedded id as the resume cursor. Vectors are
// L2-normalised float32, written in the same transaction as the cursor, so a crash loses at most the
// batch in flight. An unreadable image is a per-item issue; the job goes on.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { InvokeResults, ParsedArg } from '#shared/contract';
import { asDatasetId, asModelId, type ModelId } from '#shared/ids';
import { getDatasetRow } from '../db/repos/datasets';
import {
  countJobImagesMissingEmbedding,
  listImageIdsMissingEmbedding,
  listJobImagesMissingEmbedding,
  upsertEmbedding,
  type ImageToEmbed,
} from '../db/repos/embeddings';
import { cropBoxes, upsertCropViewVector } from '../db/repos/footage';
import { countJobIssues, getJobRow } from '../db/repos/jobs';
import type { ReadableDb } from '../db/types';
import { modelFilePaths, storedManifest } from '../db/repos/models';
import { AppError, notFound } from '../errors';
import { ClipEncoder, DEFAULT_BATCH_SIZE, type EmbedResult } from '../ml/encoder';
import { preprocessSpecOf, resolveModelRow, sha256File } from '../ml/models';
import { preprocessBatch, type PreprocessSpec } from '../ml/preprocess';
import { cropViews } from '../footage/views';
import type { Workspace } from '../workspace';
import { throwIfAborted, type JobDefinition } from './runner';

export const embedParams = z.object({
  modelId: z.number().int().positive(),
  datasetId: z.number().int().positive().optional(),
  batchSize: z.number().int().min(1).max(1024).default(DEFAULT_BATCH_SIZE),
});
export type EmbedParams = z.infer<typeof embedParams>;

interface EmbedState {
  /** Images with an id up to this one have been handled (embedded or reported). */
  afterId: number;
}

export const embedJob: JobDefinition<EmbedParams, EmbedState> = {
  kind: 'embed',
  params: embedParams,
  title: (p) => `Embed ${p.datasetId ? `dataset ${p.datasetId}` : 'all images'} with model ${p.modelId}`,
  scope: (db, p) =>
    listImageIdsMissingEmbedding(
      db,
      asModelId(p.modelId),
      p.datasetId === undefined ? undefined : asDatasetId(p.datasetId),
    ),
  async run(ctx) {
    const { db, params, jobId } = ctx;
    const modelId = asModelId(params.modelId);
    const row = resolveModelRow(db, modelId);
    const stored = storedManifest(row);
    const visionPath = modelFilePaths(row).vision;
    // Vectors of a changed file would silently mix two models under one id.
    const sha = await sha256File(visionPath).catch((err: unknown) => {
      throw new AppError(
        'not_found',
        `Model "${row.name}": cannot read ${visionPath} (${String(err)}). Restore the folder or register the model again.`,
      );
    });
    if (sha !== row.vision_sha256) {
      throw new AppError(
        'conflict',
        `Model "${row.name}": ${visionPath} changed since it was registered. Register it again under a new name; ` +
          `vectors of two different models must not be mixed.`,
      );
    }
    let afterId = ctx.state?.afterId ?? 0;
    let done = ctx.state ? (getJobRow(db, ctx.jobId)?.done ?? 0) : 0;
    const total = done + countJobImagesMissingEmbedding(db, modelId, jobId, afterId);
    ctx.progress({ done, total, message: 'loading the model…' });
    const spec = preprocessSpecOf(stored.manifest);
    const enc = await ClipEncoder.open({
      visionPath,
      preprocess: spec,
      batchSize: params.batchSize,
    });
    try {
      enc.bind({ vision: stored.vision });
      const message = `on ${enc.provider}`;
      const next = (after: number): { images: ImageToEmbed[]; result: Promise<EmbedResult> | null } => {
        const images = listJobImagesMissingEmbedding(db, modelId, jobId, after, params.batchSize);
        if (images.length === 0) return { images, result: null };
        const result = enc.embedImages(
          images.map((i) => ({ root: i.root, relPath: i.relPath, sha256: i.sha256, bytes: i.bytes })),
        );
        result.catch(() => undefined); // awaited below; this only silences an early rejection
        return { images, result };
      };
      let current = next(afterId);
      while (current.result) {
        throwIfAborted(ctx.signal);
        // Two batches in flight: the encoder process decodes the next one while it runs this one.
        const following = next(current.images.at(-1)!.id);
        const r = await current.result;
        throwIfAborted(ctx.signal);
        if (r.dim !== 0 && r.dim !== row.embedding_dim) {
          throw new AppError(
            'conflict',
            `Model "${row.name}" returned ${r.dim}-value vectors; it was registered with ${row.embedding_dim}.`,
          );
        }
        const batch = current.images;
        const views = await embedViews(
          db,
          enc,
          spec,
          params.batchSize,
          batch.filter((_, i) => r.vectors[i]),
        );
        throwIfAborted(ctx.signal);
        db.transaction(() => {
          for (const v of views) upsertCropViewVector(db, modelId, v.imageId, v.view, v.vector);
          batch.forEach((img, i) => {
            const v = r.vectors[i];
            if (v) upsertEmbedding(db, modelId, img.id, v);
            else
              ctx.issue({
                severity: 'error',
                item: img.relPath,
                message: `could not be read: ${r.errors[i] ?? 'unknown error'}`,
              });
          });
          afterId = batch.at(-1)!.id;
          done += batch.length;
          ctx.progress({ done, total, message, state: { afterId } });
        })();
        current = following;
      }
    } finally {
      await enc.close();
    }
    const failed = countJobIssues(db, jobId, 'error');
    return {
      failed,
      summary: `${failed} of ${total} images could not be read (the job's issues say why). Fix or remove them, then embed again.`,
    };
  },
};

/**
 * The views' vectors of those images that are footage crops (src/main/footage/views.ts): cut in this
 * process from the crop's file, preprocessed as the model's images are, embedded in the encoder process.
 * A crop whose views cannot be cut (unreadable now, or framed before views existed) just has none.
 */
async function embedViews(
  db: ReadableDb,
  enc: ClipEncoder,
  spec: PreprocessSpec,
  batchSize: number,
  images: readonly ImageToEmbed[],
): Promise<{ imageId: ImageToEmbed['id']; view: number; vector: Float32Array }[]> {
  const boxes = cropBoxes(
    db,
    images.map((i) => i.id),
  );
  const cut: { imageId: ImageToEmbed['id']; view: number; png: Buffer }[] = [];
  for (const img of images) {
    const box = boxes.get(img.id);
    if (!box) continue;
    const views = await readFile(join(img.root, img.relPath))
      .then((bytes) => cropViews(bytes, box))
      .catch(() => null);
    // View 0 is the image's own vector: the views are 1 (left half) and 2 (right half).
    views?.forEach((png, i) => cut.push({ imageId: img.id, view: i + 1, png }));
  }
  const out: { imageId: ImageToEmbed['id']; view: number; vector: Float32Array }[] = [];
  // In runs of the job's batch size, as the images themselves go through the model.
  for (let start = 0; start < cut.length; start += batchSize) {
    const part = cut.slice(start, start + batchSize);
    const pre = await preprocessBatch(
      part.map((c) => c.png),
      spec,
    );
    const vectors = await enc.embedPixels(pre.pixels, pre.count);
    part.forEach((c, i) => {
      const vector = vectors[i];
      if (!pre.errors[i] && vector) out.push({ imageId: c.imageId, view: c.view, vector });
    });
  }
  return out;
}

/** `embed:start`: checks the model and dataset exist, then queues the job. */
export function startEmbed(ws: Workspace, arg: ParsedArg<'embed:start'>): InvokeResults['embed:start'] {
  const row = resolveModelRow(ws.db, arg.modelId as ModelId);
  if (arg.datasetId !== undefined && !getDatasetRow(ws.db, arg.datasetId))
    throw notFound(`Dataset ${arg.datasetId}`);
  const job = ws.jobs.enqueue('embed', { modelId: row.id, datasetId: arg.datasetId });
  return { job };
}
