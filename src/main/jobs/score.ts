// Score job: the CLIP image–text score of every current caption that has none from a model yet, so the
// review queue's score filter and the dashboard's score chart cover all captions, not only those someone
// opened. Its scope is the images with such captions when it is queued: images imported later wait for
// the next job. Captions are taken in id order with the last handled id as the resume cursor; scores are
// written in the same transaction as the cursor, so a crash loses at most the batch in flight and a
// resumed job never scores a caption twice. Captions whose image has no vector from the model cannot
// be scored: they are counted and reported once, not failed one by one.
import { z } from 'zod';
import type { InvokeResults, ParsedArg } from '#shared/contract';
import { CAPTION_STATUSES } from '#shared/library/types';
import type { Job } from '#shared/jobs/types';
import { asDatasetId, asJobId, asModelId, type ModelId } from '#shared/ids';
import { getDatasetRow } from '../db/repos/datasets';
import { getJobRow, listJobRowsByStatus } from '../db/repos/jobs';
import { scoringModel, upsertCaptionScore } from '../db/repos/review';
import { AppError, notFound } from '../errors';
import { resolveModelRow } from '../ml/models';
import {
  countCaptionsToScore,
  countCaptionsWithoutVector,
  listCaptionsToScore,
  listScoreScopeImageIds,
  type CaptionToScore,
  type ScoreScope,
} from '../db/repos/scores';
import { computeCaptionScores } from '../review/score';
import type { Workspace } from '../workspace';
import { throwIfAborted, type JobDefinition } from './runner';

/** Captions per transaction: a few text-tower runs (64 texts each) between two cursor writes. */
export const SCORE_BATCH = 256;

export const scoreParams = z.object({
  modelId: z.number().int().positive(),
  datasetId: z.number().int().positive().optional(),
  statuses: z.array(z.enum(CAPTION_STATUSES)).min(1).max(4).optional(),
  batchSize: z.number().int().min(1).max(4096).default(SCORE_BATCH),
});
export type ScoreParams = z.infer<typeof scoreParams>;

interface ScoreState {
  /** Captions with an id up to this one have been handled. */
  afterId: number;
  /** How many captions had no image vector when the job first ran (reported once, as one issue). */
  withoutVector: number;
}

const scopeOf = (p: ScoreParams): ScoreScope => ({
  datasetId: p.datasetId === undefined ? undefined : asDatasetId(p.datasetId),
  statuses: p.statuses,
});

function describeScope(p: ScoreParams): string {
  const what = p.statuses ? `${p.statuses.join('/')} captions` : 'captions';
  return p.datasetId === undefined ? what : `${what} of dataset ${p.datasetId}`;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export const scoreJob: JobDefinition<ScoreParams, ScoreState> = {
  kind: 'score',
  params: scoreParams,
  title: (p) => `Score ${describeScope(p)} with model ${p.modelId}`,
  scope: (db, p) => listScoreScopeImageIds(db, scopeOf(p)),
  async run(ctx) {
    const { db, params, services } = ctx;
    const modelId = asModelId(params.modelId);
    const model = resolveModelRow(db, modelId);
    const scope: ScoreScope = { ...scopeOf(params), jobId: ctx.jobId };
    let afterId = ctx.state?.afterId ?? 0;
    let done = ctx.state ? (getJobRow(db, ctx.jobId)?.done ?? 0) : 0;
    const total = done + countCaptionsToScore(db, modelId, scope, afterId);
    let withoutVector = ctx.state?.withoutVector;
    if (withoutVector === undefined) {
      const missing = countCaptionsWithoutVector(db, modelId, scope);
      withoutVector = missing;
      // The issue and the state that says it was raised go together: a resumed job does not repeat it.
      db.transaction(() => {
        if (missing > 0) {
          ctx.issue({
            severity: 'warning',
            item: plural(missing, 'caption'),
            message:
              `not scored: their images have no vector from model "${model.name}". ` +
              `Embed them (ctgi embed --model ${model.name}, or Embed in Search), then score again.`,
          });
        }
        ctx.progress({
          done,
          total,
          message: `loading the text tower of "${model.name}"…`,
          state: { afterId, withoutVector: missing },
        });
      })();
    }
    const skipped =
      withoutVector > 0 ? `; ${plural(withoutVector, 'caption')} without an image vector skipped` : '';

    const next = (after: number): { batch: CaptionToScore[]; scores: Promise<(number | null)[]> | null } => {
      const batch = listCaptionsToScore(db, modelId, scope, after, params.batchSize);
      if (batch.length === 0) return { batch, scores: null };
      const scores = computeCaptionScores(db, services.encoders, model, batch);
      scores.catch(() => undefined); // awaited below; this only silences an early rejection
      return { batch, scores };
    };
    let current = next(afterId);
    while (current.scores) {
      throwIfAborted(ctx.signal);
      // Two batches in flight: the text tower encodes the next one while this one is written.
      const following = next(current.batch.at(-1)!.captionId);
      const values = await current.scores.catch((err: unknown) => {
        throw new AppError(
          'unavailable',
          `The text tower of model "${model.name}" failed (${err instanceof Error ? err.message : String(err)}). ` +
            'What was scored is kept; resume the job to go on.',
        );
      });
      throwIfAborted(ctx.signal);
      const batch = current.batch;
      db.transaction(() => {
        batch.forEach((c, k) => {
          const value = values[k];
          if (value !== null && value !== undefined) upsertCaptionScore(db, c.captionId, modelId, value);
          // Listed with a vector a moment ago: its image was re-embedded or removed meanwhile.
          else
            ctx.issue({
              severity: 'warning',
              item: `caption ${c.captionId}`,
              message: 'its image lost its vector while scoring; score again later',
            });
        });
        afterId = batch.at(-1)!.captionId;
        done += batch.length;
        ctx.progress({
          done,
          total,
          message: `${plural(done, 'caption')} scored with "${model.name}"${skipped}`,
          state: { afterId, withoutVector },
        });
      })();
      current = following;
    }
    if (done === 0)
      ctx.progress({ done, total, message: `nothing left to score with "${model.name}"${skipped}` });
  },
};

/** The queued or running score job of this model and scope, if any: "Score all" twice starts one job. */
function activeScoreJob(ws: Workspace, params: ScoreParams): Job | null {
  const key = JSON.stringify([params.modelId, params.datasetId ?? null, [...(params.statuses ?? [])].sort()]);
  for (const row of listJobRowsByStatus(ws.db, ['queued', 'running'])) {
    if (row.kind !== 'score') continue;
    const p = scoreParams.safeParse(JSON.parse(row.params));
    if (
      p.success &&
      JSON.stringify([p.data.modelId, p.data.datasetId ?? null, [...(p.data.statuses ?? [])].sort()]) === key
    ) {
      return ws.jobs.get(asJobId(row.id));
    }
  }
  return null;
}

/** `review:scoreAll`: picks the model (by default the one the score filter uses), then queues the job. */
export function startScore(
  ws: Workspace,
  arg: ParsedArg<'review:scoreAll'>,
): InvokeResults['review:scoreAll'] {
  let modelId: ModelId;
  if (arg.modelId !== undefined) modelId = asModelId(resolveModelRow(ws.db, arg.modelId).id);
  else {
    const model = scoringModel(ws.db);
    if (!model) {
      throw new AppError(
        'bad_request',
        'No CLIP model has embedded any image yet, so there is nothing to score with. Register a model in ' +
          'Settings → Models (or `ctgi models --register DIR`) and embed the images (Search → Embed, or `ctgi embed`).',
      );
    }
    modelId = model.id;
  }
  if (arg.datasetId !== undefined && !getDatasetRow(ws.db, arg.datasetId))
    throw notFound(`Dataset ${arg.datasetId}`);
  const params = scoreParams.parse({ modelId, datasetId: arg.datasetId, statuses: arg.statuses });
  const scope = scopeOf(params);
  const toScore = countCaptionsToScore(ws.db, modelId, scope);
  const withoutVector = countCaptionsWithoutVector(ws.db, modelId, scope);
  const job = activeScoreJob(ws, params) ?? ws.jobs.enqueue('score', params);
  return { job, toScore, withoutVector };
}
