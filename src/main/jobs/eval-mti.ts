// MTI evaluation job (`eval-mti`): retrieval without and with MTI over a labelled split (pipelines/eval-mti.ts),
// run as a persisted job so that it shows progress per query, can be cancelled, and keeps its report. Each
// query's result is a handful of numbers (ranks, AP, INP, calls, time), so all of them are the resume cursor:
// after a cancel or a crash the job continues with the queries not yet done (a query cut short is run
// again; its MLLM answers mostly come from the llm_calls cache). The report is stored with the job once
// every query is done, which is where the report view and `ctgi eval --mti` read it.
import type { z } from 'zod';
import type { Job } from '../../shared/domain';
import type { JobId, ModelId } from '../../shared/ids';
import type { MtiEvalReport } from '../../shared/mti';
import { mtiEvalSchema } from '../../shared/mti-contract';
import { getJobRow, type JobRow } from '../db/repos/jobs';
import { AppError, notFound } from '../errors';
import { getKeyStore } from '../llm/keys';
import { resolveModelRow } from '../ml/models';
import { evaluateMti, type MtiEvalQueryResult } from '../pipelines/eval-mti';
import type { Workspace } from '../workspace';
import type { JobDefinition } from './runner';

export type EvalMtiParams = z.output<typeof mtiEvalSchema>;

export interface EvalMtiState {
  /** Every finished query, in query order. */
  results: MtiEvalQueryResult[];
  /** Time spent by earlier attempts, so the report's duration covers the whole evaluation. */
  elapsedMs: number;
  /** Set once every query is done. */
  report?: MtiEvalReport;
}

export const evalMtiJob: JobDefinition<EvalMtiParams, EvalMtiState> = {
  kind: 'eval-mti',
  params: mtiEvalSchema,
  title: (p) => `Evaluate MTI on the ${p.split} split (${p.limit} ${p.queries} queries) with model ${p.modelId}`,
  async run(ctx) {
    const { db, params } = ctx;
    const t0 = performance.now();
    const elapsedMs = ctx.state?.elapsedMs ?? 0;
    const spent = (): number => elapsedMs + performance.now() - t0;
    let total: number | null = null;
    let latest = ctx.state?.results ?? [];
    const report = await evaluateMti(db, {
      ...params,
      keyStore: getKeyStore(),
      signal: ctx.signal,
      done: ctx.state?.results,
      earlierMs: elapsedMs,
      onProgress: (done, n) => {
        if (total === null) {
          total = n;
          ctx.progress({ done, total: n, message: done > 0 ? `continuing after ${done} queries` : 'ranking the queries…' });
        }
      },
      onQuery: (results, n) => {
        latest = results;
        const calls = results.reduce((a, r) => a + r.calls, 0) / results.length;
        ctx.progress({
          done: results.length,
          total: n,
          message: `${calls.toFixed(1)} MLLM calls per query so far`,
          state: { results, elapsedMs: spent() },
        });
      },
    });
    ctx.progress({
      done: total ?? report.queries,
      total,
      message: `R@1 ${report.without.r1.toFixed(1)} → ${report.with.r1.toFixed(1)} with MTI, ${report.callsPerQuery.mean.toFixed(1)} MLLM calls per query`,
      state: { results: latest, elapsedMs: spent(), report },
    });
  },
};

/** `eval:mti-start`: checks the model exists, then queues the evaluation. */
export function startEvalMti(ws: Workspace, arg: z.input<typeof mtiEvalSchema>): { job: Job } {
  const check = mtiEvalSchema.safeParse(arg);
  if (!check.success) {
    const detail = check.error.issues.map((i) => `${i.path.join('.') || 'argument'}: ${i.message}`).join('; ');
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
    if (row.kind !== 'eval-mti') throw new AppError('bad_request', `Job ${arg.jobId} is a ${row.kind} job, not an MTI evaluation.`);
  } else {
    row = ws.db
      .prepare(
        `SELECT * FROM jobs WHERE kind = 'eval-mti' AND (? IS NULL OR json_extract(params, '$.modelId') = ?) ORDER BY id DESC LIMIT 1`,
      )
      .get(arg.modelId ?? null, arg.modelId ?? null) as JobRow | undefined;
  }
  if (!row) return { job: null, report: null };
  return { job: ws.jobs.view(row), report: reportOf(row) };
}
