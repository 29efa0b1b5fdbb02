// Embedding job: one model over one dataset (or all images). Its scope is the images without a vector
// from that model when it is queued (images imported later wait for the next job); they are embedded in
// id order, with the last embedded id as the resume cursor. Vectors are
// L2-normalised float32, written in the same transaction as the cursor, so a crash loses at most the
// batch in flight. An unreadable image is a per-item issue; the job goes on.
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
import { countJobIssues, getJobRow } from '../db/repos/jobs';
import { modelFilePaths, storedManifest } from '../db/repos/models';
import { AppError, notFound } from '../errors';
import { ClipEncoder, DEFAULT_BATCH_SIZE, type EmbedResult } from '../ml/encoder';
import { preprocessSpecOf, resolveModelRow, sha256File } from '../ml/models';
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
    const enc = await ClipEncoder.open({
      visionPath,
      preprocess: preprocessSpecOf(stored.manifest),
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
        db.transaction(() => {
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

/** `embed:start`: checks the model and dataset exist, then queues the job. */
export function startEmbed(ws: Workspace, arg: ParsedArg<'embed:start'>): InvokeResults['embed:start'] {
  const row = resolveModelRow(ws.db, arg.modelId as ModelId);
  if (arg.datasetId !== undefined && !getDatasetRow(ws.db, arg.datasetId))
    throw notFound(`Dataset ${arg.datasetId}`);
  const job = ws.jobs.enqueue('embed', { modelId: row.id, datasetId: arg.datasetId });
  return { job };
}
