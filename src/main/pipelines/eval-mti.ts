// Retrieval with and without MTI over a labelled split (issue 6): the IRRA protocol of eval.ts (queries are
// the split's human captions, or vague derivations of them; the gallery is the split's images; a match is
// the same person), run once on S(q, ·) and once on MTI's fused scores for every query. Also reports what
// MTI costs (MLLM calls per query, wall time percentiles) and the distribution of top-1 similarities,
// which is what ξ (the early-exit threshold) must be chosen against for a model.
import type { EvalQueryKind } from '#shared/eval/types';
import type { Split } from '#shared/library/types';
import type { DatasetId, ImageId, JobId, ModelId } from '#shared/ids';
import {
  mtiParamsOf,
  type MetricsRow,
  type MtiEvalQueryResult,
  type MtiEvalReport,
  type MtiParams,
  type QueryFigures,
} from '#shared/mti/types';
import {
  countMtiQueryCaptions,
  listMtiGallery,
  listMtiGalleryImageIds,
  listMtiQueryCaptions,
} from '../db/repos/eval-mti';
import type { WritableDb } from '../db/types';
import { AppError } from '../errors';
import type { LlmClientOptions } from '../llm/client';
import { mtiClients, mtiEndpoints } from '../llm/endpoints';
import type { KeyStore } from '../llm/keys';
import { encodeTexts, type TextEncoderPool } from '../ml/encoder-pool';
import { resolveModelRow } from '../ml/models';
import { findGroundTruth, firstClause, oneAttributeQuery, type GalleryScorer } from './eval';
import {
  MetricsAccumulator,
  quantile,
  retrievalMetrics,
  summarizeTop1,
  type MetricFigures,
  type PersonId,
} from './metrics';
import { runMti, type MtiDeps } from './mti';
import { mllmSide } from './mti-mllm';
import { compilePromptSet, defaultPromptSetBody } from './question-pool';

export interface MtiEvalOptions {
  modelId: ModelId;
  split: Split;
  datasetId?: DatasetId;
  queries?: EvalQueryKind;
  vqaEndpoint?: string;
  aggregatorEndpoint?: string;
  params?: Partial<MtiParams>;
  /** Evaluate only the first N queries (MTI costs MLLM calls per query). */
  limit?: number;
  /** Queries in flight at once (each runs its own checks concurrently). */
  parallel?: number;
  keyStore: KeyStore;
  llm?: LlmClientOptions;
  signal?: AbortSignal;
  /**
   * Results of an earlier, interrupted run by query index: one is reused (its query not run again) only
   * while the query at that index is still the same caption with the same text (the split may have changed).
   */
  done?: ReadonlyMap<number, MtiEvalQueryResult>;
  /** Once, before the first query: the indices whose earlier results are reused (the others are stale). */
  onStart?: (reused: ReadonlySet<number>, total: number) => void;
  /** Before the first query (done = the reused results) and after each one. */
  onProgress?: (done: number, total: number) => void;
  /** After each query with its result alone (what a resumable caller persists, one row per query). */
  onQuery?: (queryIndex: number, result: MtiEvalQueryResult, done: number, total: number) => void;
  /** Time spent by earlier attempts, added to the report's `ms`. */
  earlierMs?: number;
  /** Only images in this job's scope (job_images): the gallery, and the queries' images. */
  jobId?: JobId;
  /** S(q, ·) over the gallery through the workspace's vector store (`galleryScorer(services.vectors)`, search/store-search.ts). */
  score: GalleryScorer;
  /** The workspace's text towers (`services.encoders`). */
  encoders: TextEncoderPool;
}

type GalleryScope = Pick<MtiEvalOptions, 'split' | 'datasetId' | 'jobId'>;

/** The split's images, in id order: an `eval-mti` job's scope, fixed when it is queued. */
export function listMtiEvalGalleryIds(db: WritableDb, o: GalleryScope): ImageId[] {
  return listMtiGalleryImageIds(db, o);
}

/** How many queries an evaluation runs: the split's usable captions, at most `limit`. */
export function countMtiEvalQueries(db: WritableDb, o: GalleryScope & Pick<MtiEvalOptions, 'limit'>): number {
  const n = countMtiQueryCaptions(db, o);
  return o.limit === undefined ? n : Math.min(n, o.limit);
}

function histogram(values: Float64Array, bins = 10): MtiEvalReport['top1Similarity']['histogram'] {
  const min = values[0]!;
  const max = values[values.length - 1]!;
  const width = (max - min) / bins || 1;
  const out = Array.from({ length: bins }, (_, i) => ({
    from: min + i * width,
    to: min + (i + 1) * width,
    count: 0,
  }));
  for (const v of values) out[Math.min(bins - 1, Math.floor((v - min) / width))]!.count++;
  return out;
}

function figuresOf(row: Float32Array, pid: PersonId, galleryPids: readonly PersonId[]): QueryFigures | null {
  const m = retrievalMetrics(row, [pid], galleryPids);
  if (m.queries === 0) return null;
  return { first: m.perQuery.firstMatchRank[0]!, ap: m.perQuery.ap[0]!, inp: m.perQuery.inp[0]! };
}

/** R@k, mAP and mINP from per-query figures, in query order (MetricsAccumulator). */
function metricsOf(figures: readonly (QueryFigures | null)[]): MetricFigures {
  const sums = new MetricsAccumulator();
  for (const f of figures) if (f) sums.add(f.first, f.ap, f.inp);
  return sums.figures();
}

export async function evaluateMti(db: WritableDb, opts: MtiEvalOptions): Promise<MtiEvalReport> {
  const started = performance.now();
  const kind = opts.queries ?? 'captions';
  const params: MtiParams = mtiParamsOf(opts.params ?? {});
  const row = resolveModelRow(db, opts.modelId);
  const modelId = row.id as ModelId;
  const gallery = listMtiGallery(db, modelId, opts);
  if (gallery.length === 0)
    throw new AppError(
      'not_found',
      `No images are in the ${opts.split} split. Import a dataset with split labels first.`,
    );
  const missing = gallery.filter((g) => g.vector_bytes === null).length;
  if (missing > 0) {
    throw new AppError(
      'conflict',
      `${missing} of the ${gallery.length} ${opts.split} images have no vector from model "${row.name}". Run \`ctgi embed --model ${row.name}\` first, then evaluate again.`,
    );
  }
  const ng = gallery.length;
  const galleryPids: PersonId[] = gallery.map((g) => g.identity_id ?? `none:${g.image_id}`);
  const galleryIds = Int32Array.from(gallery, (g) => g.image_id);

  let captions = listMtiQueryCaptions(db, opts);
  if (captions.length === 0)
    throw new AppError('not_found', `The ${opts.split} split has no human captions to use as queries.`);
  if (opts.limit !== undefined) captions = captions.slice(0, opts.limit);
  const imageById = new Map(gallery.map((g) => [g.image_id, g]));
  let texts: string[];
  if (kind === 'captions') texts = captions.map((c) => c.text);
  else if (kind === 'first-clause') texts = captions.map((c) => firstClause(c.text));
  else {
    const truth = findGroundTruth(db, [...new Set(gallery.map((g) => g.dataset_id))]);
    texts = captions.map((c) => {
      const img = imageById.get(c.image_id)!;
      const attrs = truth.get(`${img.dataset_id}\0${img.rel_path}`);
      if (!attrs)
        throw new AppError(
          'bad_request',
          `One-attribute queries need a synthetic world's attributes.json; image ${img.rel_path} has none. Use --queries first-clause.`,
        );
      return oneAttributeQuery(attrs, c.id);
    });
  }
  const queryPids: PersonId[] = captions.map(
    (c) => imageById.get(c.image_id)!.identity_id ?? `caption:${c.id}`,
  );

  const nq = texts.length;
  const results: (MtiEvalQueryResult | undefined)[] = new Array(nq);
  // Reuse an earlier attempt's results only where the query is still the same (the split may have changed).
  const reused = new Set<number>();
  for (const [q, r] of opts.done ?? []) {
    if (q < nq && r.captionId === captions[q]!.id && r.query === texts[q]) {
      results[q] = r;
      reused.add(q);
    }
  }
  let done = reused.size;
  opts.onStart?.(reused, nq);
  opts.onProgress?.(done, nq);

  const signal = opts.signal ?? new AbortController().signal;
  const eps = mtiEndpoints(db, opts.vqaEndpoint, opts.aggregatorEndpoint);
  if (done < nq) {
    const model = await opts.encoders.get(row);
    const scoreText = async (text: string): Promise<Float32Array> => {
      const {
        vectors: [q],
      } = await encodeTexts(model, [text]);
      const [scores] = await opts.score(modelId, [q!], galleryIds);
      return scores!;
    };
    const { vqa, aggregator: agg } = mtiClients(db, eps, opts.keyStore, opts.llm);
    const pool = compilePromptSet(defaultPromptSetBody());
    const mllm = mllmSide(db, vqa, agg);
    const identityOf = new Map(gallery.map((g) => [g.image_id, g.identity_id]));

    let next = 0;
    // Set when a worker fails (its query, or the caller's onQuery): the others take no new query.
    let stopped = false;
    const worker = async (): Promise<void> => {
      try {
        await work();
      } catch (err) {
        stopped = true;
        throw err;
      }
    };
    const work = async (): Promise<void> => {
      while (next < nq) {
        const q = next++;
        if (results[q]) continue;
        if (signal.aborted || stopped) return;
        const text = texts[q]!;
        const deps: MtiDeps = { gallery: galleryIds, pool, ...mllm, scoreAll: (t) => scoreText(t) };
        const t0 = performance.now();
        const out = await runMti(deps, text, params, signal);
        const ms = performance.now() - t0;
        const anchored = out.rounds.find((r) => r.anchor);
        const anchorPerson = anchored ? identityOf.get(anchored.anchor!.imageId) : undefined;
        let top1 = -Infinity;
        for (let j = 0; j < ng; j++) top1 = Math.max(top1, out.base[j]!);
        const result: MtiEvalQueryResult = {
          captionId: captions[q]!.id,
          query: text,
          without: figuresOf(out.base, queryPids[q]!, galleryPids),
          with: figuresOf(out.scores, queryPids[q]!, galleryPids),
          calls: out.calls,
          ms,
          top1,
          anchor: anchored !== undefined,
          anchorCorrect: anchorPerson !== undefined && anchorPerson !== null && anchorPerson === queryPids[q],
          earlyStop: out.rounds.some((r) => r.earlyStop),
          fallback: out.fallback !== null,
          refined: out.rounds.at(-1)?.refined ?? null,
        };
        results[q] = result;
        done++;
        opts.onQuery?.(q, result, done, nq);
        opts.onProgress?.(done, nq);
      }
    };
    // Wait for every worker, not just the first to fail: a worker still running after the evaluation has
    // returned could persist a query after a cancel, or beside a resumed run of the same query.
    const ends = await Promise.allSettled(Array.from({ length: Math.max(1, opts.parallel ?? 4) }, worker));
    if (signal.aborted)
      throw signal.reason instanceof Error ? signal.reason : new Error('The evaluation was cancelled.');
    const failed = ends.find((e): e is PromiseRejectedResult => e.status === 'rejected');
    if (failed) throw failed.reason;
  }
  return summarise(
    row.name,
    opts,
    kind,
    ng,
    params,
    eps.vqa.name,
    eps.aggregator.name,
    results as MtiEvalQueryResult[],
    started,
  );
}

/** The report from every query's result, in query order. */
function summarise(
  modelName: string,
  opts: Pick<MtiEvalOptions, 'split' | 'earlierMs'>,
  kind: EvalQueryKind,
  ng: number,
  params: MtiParams,
  vqaEndpoint: string,
  aggregatorEndpoint: string,
  results: readonly MtiEvalQueryResult[],
  started: number,
): MtiEvalReport {
  const nq = results.length;
  const m0 = metricsOf(results.map((r) => r.without));
  const m1 = metricsOf(results.map((r) => r.with));
  const top1 = Float64Array.from(results, (r) => r.top1);
  const top1Summary = summarizeTop1(top1); // sorts top1, as histogram() below expects
  const lat = Float64Array.from(results, (r) => r.ms).sort();
  const cs = Float64Array.from(results, (r) => r.calls).sort();
  const count = (f: (r: MtiEvalQueryResult) => boolean): number => (100 * results.filter(f).length) / nq;
  // Queries whose rank MTI changed, each text once: two captions can give the same query (one-attribute
  // queries of two views of one person), and its second row would only repeat the first.
  const examples: MtiEvalReport['examples'] = [];
  const shown = new Set<string>();
  for (const r of results) {
    if (examples.length >= 5) break;
    const b = r.without?.first ?? 0;
    const a = r.with?.first ?? 0;
    if (b === a || b === 0 || shown.has(r.query)) continue;
    shown.add(r.query);
    examples.push({ query: r.query, refined: r.refined, before: b, after: a });
  }
  return {
    modelName,
    split: opts.split,
    queryKind: kind,
    queries: m0.queries,
    gallery: ng,
    params,
    vqaEndpoint,
    aggregatorEndpoint,
    without: pick(m0),
    with: pick(m1),
    callsPerQuery: {
      mean: cs.reduce((a, b) => a + b, 0) / nq,
      p50: quantile(cs, 0.5),
      p95: quantile(cs, 0.95),
      max: cs[nq - 1]!,
    },
    latencyMs: {
      p50: quantile(lat, 0.5),
      p90: quantile(lat, 0.9),
      p95: quantile(lat, 0.95),
      p99: quantile(lat, 0.99),
      max: lat[nq - 1]!,
    },
    anchorFound: count((r) => r.anchor),
    earlyStops: count((r) => r.earlyStop),
    fallbacks: count((r) => r.fallback),
    anchorCorrect: count((r) => r.anchorCorrect),
    top1Similarity: { ...top1Summary, histogram: histogram(top1) },
    examples,
    ms: (opts.earlierMs ?? 0) + performance.now() - started,
  };
}

const pick = (m: MetricsRow): MetricsRow => ({ r1: m.r1, r5: m.r5, r10: m.r10, mAP: m.mAP, mINP: m.mINP });

const f = (x: number): string => x.toFixed(2);

export function formatMtiEval(r: MtiEvalReport): string[] {
  const row = (name: string, m: MetricsRow): string =>
    `${name.padEnd(12)} R@1 ${f(m.r1)}  R@5 ${f(m.r5)}  R@10 ${f(m.r10)}  mAP ${f(m.mAP)}  mINP ${f(m.mINP)}`;
  const s = r.top1Similarity;
  const p = r.params;
  return [
    `Model "${r.modelName}", ${r.split} split, ${r.queryKind} queries: ${r.queries} queries, gallery ${r.gallery}`,
    `MTI: K ${p.k}, ξ ${p.xi}, λ ${p.lambda}, rounds ${p.rounds}, ≤${p.questions} questions, ${p.checkConcurrency} checks at once; VQA ${r.vqaEndpoint}, aggregator ${r.aggregatorEndpoint}`,
    row('without MTI', r.without),
    row('with MTI', r.with),
    `MLLM calls per query: mean ${f(r.callsPerQuery.mean)}, p95 ${f(r.callsPerQuery.p95)}, max ${r.callsPerQuery.max}`,
    `latency per query: p50 ${r.latencyMs.p50.toFixed(0)} ms  p90 ${r.latencyMs.p90.toFixed(0)} ms  p95 ${r.latencyMs.p95.toFixed(0)} ms  max ${r.latencyMs.max.toFixed(0)} ms`,
    `anchor found ${f(r.anchorFound)}% (of the right person ${f(r.anchorCorrect)}%), early stops ${f(r.earlyStops)}%, fallbacks ${f(r.fallbacks)}%`,
    `top-1 similarity: min ${s.min.toFixed(3)}  p10 ${s.p10.toFixed(3)}  median ${s.median.toFixed(3)}  p90 ${s.p90.toFixed(3)}  max ${s.max.toFixed(3)} (set ξ above the bulk)`,
    `${(r.ms / 1000).toFixed(1)} s`,
  ];
}
