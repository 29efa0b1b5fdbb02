// MTI evaluation job (`eval-mti`): retrieval without and with MTI over a labelled split (pipelines/eval-mti.ts),
// run as a persisted job so that it shows progress per query, can be cancelled, and keeps its report. Each
// finished query is one row of eval_mti_queries (ranks, AP, INP, calls, time), written in the same
// transaction as the job's progress, so a crash never loses a finished query nor counts one twice; the
// cursor stays a few bytes (the time spent so far) however many queries there are. After a cancel or a
// crash the job continues with the queries that have no row (a query cut short is run again; its MLLM
// answers mostly come from the llm_calls cache). The report, computed from every query's row, is stored
// with the job once all are done, which is where the report view and `ctgi eval --mti` read it.
import type { z } from 'zod';
import type { Job } from '#shared/jobs/types';
import type { DatasetId, JobId, ModelId } from '#shared/ids';
import type { MtiEvalReport } from '#shared/mti/types';
import { mtiEvalSchema } from '#shared/mti/contract';
import {
  countEvalMtiQueries,
  deleteEvalMtiQueriesExcept,
  insertEvalMtiQuery,
  listEvalMtiQueries,
} from '../db/repos/eval-mti';
import { getJobRow, getNewestJobRowOfKind, type JobRow } from '../db/repos/jobs';
import { AppError, notFound } from '../errors';
import { resolveModelRow } from '../ml/models';
import { countMtiEvalQueries, evaluateMti, listMtiEvalGalleryIds } from '../pipelines/eval-mti';
import { galleryScorer } from '../search/store-search';
import type { Workspace } from '../workspace';
import type { JobDefinition } from './runner';

export type EvalMtiParams = z.output<typeof mtiEvalSchema>;

/** The resume cursor: small on purpose, the per-query results are rows of eval_mti_queries. */
export interface EvalMtiState {
  /** Time spent by earlier attempts, so the report's duration covers the whole evaluation. */
  elapsedMs: number;
  /** Set once every query is done. */
  report?: MtiEvalReport;
}

const callsMessage = (calls: number, done: number): string =>
  `${(calls / done).toFixed(1)} MLLM calls per query so far`;

export const evalMtiJob: JobDefinition<EvalMtiParams, EvalMtiState> = {
  kind: 'eval-mti',
  params: mtiEvalSchema,
  // The number of queries it will run, not the limit asked for (`ctgi eval --mti` asks for "all": 1,000,000).
  title: (p, { db }) =>
    `Evaluate MTI on the ${p.split} split (${countMtiEvalQueries(db, { ...scopeOf(p), limit: p.limit })} ${p.queries} queries) with model ${p.modelId}`,
  scope: (db, p) => listMtiEvalGalleryIds(db, scopeOf(p)),
  async run(ctx) {
    const { db, params, jobId, services } = ctx;
    const t0 = performance.now();
    const elapsedMs = ctx.state?.elapsedMs ?? 0;
    const spent = (): number => elapsedMs + performance.now() - t0;
    const earlier = listEvalMtiQueries(db, jobId);
    let total = 0;
    let calls = 0;
    const report = await evaluateMti(db, {
      ...params,
      jobId,
      keyStore: services.keys,
      // Its model calls carry the job, so `ctgi usage --by job` and the Jobs view say what it cost.
      llm: { jobId, runtime: services.llm },
      signal: ctx.signal,
      done: earlier,
      earlierMs: elapsedMs,
      encoders: services.encoders,
      score: galleryScorer(services.vectors),
      onStart: (reused, n) => {
        total = n;
        for (const q of reused) calls += earlier.get(q)!.calls;
        db.transaction(() => {
          // Rows of queries that are no longer the same (captions rejected since, say) must not reach the report.
          deleteEvalMtiQueriesExcept(db, jobId, reused);
          ctx.progress({
            done: reused.size,
            total: n,
            message: reused.size > 0 ? `continuing after ${reused.size} queries` : 'ranking the queries…',
            state: { elapsedMs: spent() },
          });
        })();
      },
      onQuery: (q, result, done, n) => {
        calls += result.calls;
        db.transaction(() => {
          insertEvalMtiQuery(db, jobId, q, result);
          ctx.progress({ done, total: n, message: callsMessage(calls, done), state: { elapsedMs: spent() } });
        })();
      },
    });
    // The report covers exactly the stored rows: one per query, none missing, none left over.
    const stored = countEvalMtiQueries(db, jobId);
    if (stored !== total)
      throw new AppError(
        'internal',
        `The MTI evaluation stored ${stored} query results for ${total} queries. Resume the job to run the missing ones.`,
      );
    ctx.progress({
      done: total,
      total,
      message: `R@1 ${report.without.r1.toFixed(1)} → ${report.with.r1.toFixed(1)} with MTI, ${report.callsPerQuery.mean.toFixed(1)} MLLM calls per query`,
      state: { elapsedMs: spent(), report },
    });
  },
};

const scopeOf = (p: EvalMtiParams): { split: EvalMtiParams['split']; datasetId?: DatasetId } => ({
  split: p.split,
  datasetId: p.datasetId,
});

/** `eval:mti-start`: checks the model exists, then queues the evaluation. */
export function startEvalMti(ws: Workspace, arg: z.input<typeof mtiEvalSchema>): { job: Job } {
  const check = mtiEvalSchema.safeParse(arg);
  if (!check.success) {
    const detail = check.error.issues
      .map((i) => `${i.path.join('.') || 'argument'}: ${i.message}`)
      .join('; ');
    throw new AppError('bad_request', `The MTI evaluation's settings are not valid (${detail}).`);
  }
  const parsed = check.data;
  const row = resolveModelRow(ws.db, parsed.modelId as ModelId);
  return { job: ws.jobs.enqueue('eval-mti', { ...parsed, modelId: row.id }) };
}

function reportOf(row: JobRow): MtiEvalReport | null {
  if (row.status !== 'done' || row.state === null) return null;
  return (JSON.parse(row.state) as EvalMtiState).report ?? null;
}

/** `eval:mti-report`: the named evaluation, else the newest one (of the model, when given), with its report once done. */
export function evalMtiReport(
  ws: Workspace,
  arg: { jobId?: JobId; modelId?: ModelId },
): { job: Job | null; report: MtiEvalReport | null } {
  let row: JobRow | undefined;
  if (arg.jobId !== undefined) {
    row = getJobRow(ws.db, arg.jobId);
    if (!row) throw notFound(`Job ${arg.jobId}`);
    if (row.kind !== 'eval-mti')
      throw new AppError('bad_request', `Job ${arg.jobId} is a ${row.kind} job, not an MTI evaluation.`);
  } else {
    row = getNewestJobRowOfKind(ws.db, 'eval-mti', arg.modelId ?? null);
  }
  if (!row) return { job: null, report: null };
  return { job: ws.jobs.view(row), report: reportOf(row) };
}
