import type { EvalReport } from '#shared/eval/types';
import { EVAL_CAPTION_SOURCES, EVAL_QUERY_KINDS } from '#shared/eval/types';
import { SPLITS } from '#shared/library/types';
import { asJobId, asModelId } from '#shared/ids';
import { AppError } from '../../errors';
import { resolveModelRow } from '../../ml/models';
import { evaluateRetrieval } from '../../pipelines/eval';
import { evalMtiReport, startEvalMti } from '../../jobs/eval-mti';
import { formatMtiEval } from '../../pipelines/eval-mti';
import { jobExitCode, requeueJob, runJobInForeground } from '../foreground-job';
import { oneOf, requiredOption, stringOption, type Command } from '../command';
import { withWorkspace } from '../workspace';
import { datasetOption } from './search';
import { galleryScorer } from '../../search/store-search';

const f = (x: number): string => x.toFixed(2);

export function formatEval(r: EvalReport): string[] {
  const s = r.top1Similarity;
  return [
    `Model "${r.modelName}", ${r.split} split${r.datasetId === null ? '' : ` of dataset ${r.datasetId}`}: ${r.queryDerivation}`,
    `queries ${r.queries} (of ${r.captions} captions${r.queriesWithoutMatch ? `, ${r.queriesWithoutMatch} without a match left out` : ''}), ` +
      `gallery ${r.gallery} images of ${r.identities} identities`,
    `R@1 ${f(r.r1)}  R@5 ${f(r.r5)}  R@10 ${f(r.r10)}  mAP ${f(r.mAP)}  mINP ${f(r.mINP)}`,
    `top-1 similarity: min ${s.min.toFixed(3)}  p10 ${s.p10.toFixed(3)}  median ${s.median.toFixed(3)}  p90 ${s.p90.toFixed(3)}  max ${s.max.toFixed(3)}`,
    ...(r.truncatedQueries
      ? [`${r.truncatedQueries} queries were longer than the model's context and were cut`]
      : []),
    `${(r.ms / 1000).toFixed(1)} s on ${r.provider}`,
  ];
}

const PROTOCOL_CHOICES = ['tbps', 'reid', 'both'] as const;

/** The TBPS and re-ID protocols' figures side by side, one row each. */
export function formatProtocols(reports: EvalReport[]): string[] {
  const cell = (s: string, w: number): string => s.padStart(w);
  const lines = [
    `Model "${reports[0]!.modelName}"${reports[0]!.datasetId === null ? '' : `, dataset ${reports[0]!.datasetId}`}; ` +
      `queries from ${reports[0]!.captionSource === 'any' ? 'current captions (human or MTG, not rejected)' : 'human captions'}` +
      `, ${reports[0]!.distractors ? 'distractors in the gallery' : 'junk and distractors left out'}`,
    `${'protocol'.padEnd(26)}${['R@1', 'R@5', 'R@10', 'mAP', 'mINP', 'queries', 'gallery'].map((h) => cell(h, 8)).join('')}`,
  ];
  for (const r of reports) {
    const name = r.protocol === 'reid' ? 're-ID (query → gallery)' : `TBPS (${r.split} split → itself)`;
    lines.push(
      `${name.padEnd(26)}${[r.r1, r.r5, r.r10, r.mAP, r.mINP].map((x) => cell(f(x), 8)).join('')}` +
        `${cell(String(r.queries), 8)}${cell(String(r.gallery), 8)}`,
    );
  }
  for (const r of reports) {
    if (r.protocol === 'reid')
      lines.push(
        `re-ID: ${r.excludedSameCamera ?? 0} (query, gallery image) pairs of the same person seen by the same camera were left out`,
      );
    if (r.queriesWithoutMatch)
      lines.push(`${r.protocol ?? 'tbps'}: ${r.queriesWithoutMatch} queries without a match were left out`);
  }
  return lines;
}

export const evalCommand: Command = {
  name: 'eval',
  summary: 'retrieval metrics (R@1/5/10, mAP, mINP) of a CLIP model over a labelled split',
  usage:
    'ctgi eval --model ID|NAME|FOLDER-NAME [--split test|val|train] [--dataset ID] [--queries captions|one-attribute|first-clause] [--json]\n' +
    '          [--protocol tbps|reid|both] [--captions human|any] [--distractors]\n' +
    '          [--mti [--vqa ENDPOINT] [--aggregator ENDPOINT] [--k 20] [--xi 0.85] [--lambda 0.8] [--rounds 1] [--questions 6]\n' +
    '                 [--check-concurrency 20] [--limit N] [--parallel 4] | --mti --resume JOB]\n\n' +
    'The IRRA protocol: every human caption of the split ranks all images of the split; a match is an image\n' +
    'of the same person. --mti runs MTI (anchor check, diagnostic questions, refined query, λ-fusion) for every\n' +
    'query with the MLLM endpoints and reports the metrics without and with it, MLLM calls per query, latency\n' +
    'percentiles and the top-1 similarity distribution (to choose ξ for the model); it runs as an eval-mti job\n' +
    '(Ctrl-C cancels, --resume continues with the queries not yet done). --check-concurrency: anchor checks in\n' +
    'flight at once (1 = sequential, fewest calls; K = shortest round). --queries one-attribute asks one attribute per caption ("a person with black\n' +
    'trousers"; synthetic worlds only, from attributes.json); first-clause cuts each caption at its first\n' +
    "clause (any dataset). The split's images must all be embedded with the model (`ctgi embed`).\n\n" +
    "--protocol reid: the dataset's own protocol (re-ID layouts, `ctgi import --folder DIR`): the captions of the\n" +
    'query images rank the gallery images; a gallery image of the same person from the same camera as the query\n' +
    "is left out of that query's ranking (the Market-1501/DukeMTMC-reID rule); CUHK03 queries rank their own\n" +
    'version (detected or labeled). both: the TBPS and re-ID figures side by side. --captions any takes the\n' +
    'current caption of any source (MTG too; the default for reid and both), human only the human ones (the\n' +
    'default for tbps). Junk (-1) is never in the gallery; distractors (0000) only with --distractors.',
  options: {
    model: { type: 'string', short: 'm' },
    split: { type: 'string' },
    dataset: { type: 'string' },
    queries: { type: 'string' },
    mti: { type: 'boolean' },
    vqa: { type: 'string' },
    aggregator: { type: 'string' },
    k: { type: 'string' },
    xi: { type: 'string' },
    lambda: { type: 'string' },
    rounds: { type: 'string' },
    questions: { type: 'string' },
    limit: { type: 'string' },
    'check-concurrency': { type: 'string' },
    parallel: { type: 'string' },
    resume: { type: 'string' },
    protocol: { type: 'string' },
    captions: { type: 'string' },
    distractors: { type: 'boolean' },
  },
  run: (values, _positionals, io) =>
    withWorkspace(values, async (ws) => {
      const model = resolveModelRow(ws.db, requiredOption(values, 'model'));
      const split = oneOf('split', stringOption(values, 'split'), SPLITS) ?? 'test';
      const queries = oneOf('queries', stringOption(values, 'queries'), EVAL_QUERY_KINDS) ?? 'captions';
      if (values.mti) {
        const num = (name: string): number | undefined => {
          const v = stringOption(values, name);
          if (v === undefined) return undefined;
          const n = Number(v);
          if (!Number.isFinite(n))
            throw new AppError('bad_request', `--${name} must be a number; got "${v}".`);
          return n;
        };
        const resume = stringOption(values, 'resume');
        const jobId =
          resume !== undefined
            ? requeueJob(
                ws,
                asJobId(Number(resume)),
                'eval-mti',
                'an MTI evaluation',
                `Job ${resume} has already finished; \`ctgi eval --mti\` starts a new evaluation.`,
              )
            : startEvalMti(ws, {
                modelId: asModelId(model.id),
                split,
                datasetId: datasetOption(values),
                queries,
                vqaEndpoint: stringOption(values, 'vqa'),
                aggregatorEndpoint: stringOption(values, 'aggregator'),
                params: {
                  k: num('k'),
                  xi: num('xi'),
                  lambda: num('lambda'),
                  rounds: num('rounds'),
                  questions: num('questions'),
                  checkConcurrency: num('check-concurrency'),
                },
                // The CLI evaluates every query unless told otherwise (the API's default is a cheap 48).
                limit: num('limit') ?? 1_000_000,
                parallel: num('parallel'),
              }).job.id;
        // The same job the report view runs, here in the foreground: Ctrl-C cancels it, `--resume` continues it.
        const final = await runJobInForeground(ws, jobId, {
          io,
          quiet: values.json === true,
          everyMs: 2000,
          showFinal: true,
          interruptMessage: `Cancelling; \`ctgi eval --mti --model ${model.name} --resume ${jobId}\` continues with the queries not yet done.`,
          progressLine: (j) =>
            `MTI #${j.id}: ${j.done}/${j.total ?? '?'} queries ${j.status}${j.message ? ` — ${j.message}` : ''}`,
        });
        if (final.status !== 'done') {
          io.err(
            final.status === 'failed'
              ? `The MTI evaluation failed: ${final.error ?? 'unknown error'}`
              : `The MTI evaluation was cancelled after ${final.done} of ${final.total ?? '?'} queries; \`ctgi eval --mti --model ${model.name} --resume ${jobId}\` continues it.`,
          );
          return jobExitCode(final);
        }
        const m = evalMtiReport(ws, { jobId }).report!;
        if (values.json) io.out(JSON.stringify(m, null, 2));
        else for (const line of formatMtiEval(m)) io.out(line);
        return 0;
      }
      const protocol = oneOf('protocol', stringOption(values, 'protocol'), PROTOCOL_CHOICES) ?? 'tbps';
      const captionSource =
        oneOf('captions', stringOption(values, 'captions'), EVAL_CAPTION_SOURCES) ??
        (protocol === 'tbps' ? 'human' : 'any');
      const common = {
        modelId: asModelId(model.id),
        split,
        datasetId: datasetOption(values),
        queries,
        captionSource,
        distractors: values.distractors === true,
        encoders: ws.services.encoders,
        score: galleryScorer(ws.services.vectors),
      };
      if (protocol === 'both') {
        const tbps = await evaluateRetrieval(ws.db, { ...common, protocol: 'tbps' });
        const reid = await evaluateRetrieval(ws.db, { ...common, protocol: 'reid' });
        if (values.json) io.out(JSON.stringify({ tbps, reid }, null, 2));
        else for (const line of formatProtocols([tbps, reid])) io.out(line);
        return 0;
      }
      const r = await evaluateRetrieval(ws.db, { ...common, protocol });
      if (values.json) io.out(JSON.stringify(r, null, 2));
      else for (const line of protocol === 'reid' ? formatProtocols([r]) : formatEval(r)) io.out(line);
      return 0;
    }),
};
