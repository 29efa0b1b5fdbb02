import type { EvalReport } from '../../../shared/domain';
import { EVAL_QUERY_KINDS, SPLITS } from '../../../shared/domain';
import { asModelId } from '../../../shared/ids';
import { AppError } from '../../errors';
import { resolveModelRow } from '../../ml/models';
import { evaluateRetrieval } from '../../pipelines/eval';
import { evaluateMti, formatMtiEval } from '../../pipelines/eval-mti';
import { getKeyStore } from '../../llm/keys';
import { oneOf, requiredOption, stringOption, type Command } from '../command';
import { withWorkspace } from '../workspace';
import { datasetOption } from './search';

const f = (x: number): string => x.toFixed(2);

export function formatEval(r: EvalReport): string[] {
  const s = r.top1Similarity;
  return [
    `Model "${r.modelName}", ${r.split} split${r.datasetId === null ? '' : ` of dataset ${r.datasetId}`}: ${r.queryDerivation}`,
    `queries ${r.queries} (of ${r.captions} captions${r.queriesWithoutMatch ? `, ${r.queriesWithoutMatch} without a match left out` : ''}), ` +
      `gallery ${r.gallery} images of ${r.identities} identities`,
    `R@1 ${f(r.r1)}  R@5 ${f(r.r5)}  R@10 ${f(r.r10)}  mAP ${f(r.mAP)}  mINP ${f(r.mINP)}`,
    `top-1 similarity: min ${s.min.toFixed(3)}  p10 ${s.p10.toFixed(3)}  median ${s.median.toFixed(3)}  p90 ${s.p90.toFixed(3)}  max ${s.max.toFixed(3)}`,
    ...(r.truncatedQueries ? [`${r.truncatedQueries} queries were longer than the model's context and were cut`] : []),
    `${(r.ms / 1000).toFixed(1)} s on ${r.provider}`,
  ];
}

export const evalCommand: Command = {
  name: 'eval',
  summary: 'retrieval metrics (R@1/5/10, mAP, mINP) of a CLIP model over a labelled split',
  usage:
    'ctgi eval --model ID|NAME [--split test|val|train] [--dataset ID] [--queries captions|one-attribute|first-clause] [--json]\n' +
    '          [--mti [--vqa ENDPOINT] [--aggregator ENDPOINT] [--k 20] [--xi 0.85] [--lambda 0.8] [--rounds 1] [--questions 6] [--limit N]]\n\n' +
    'The IRRA protocol: every human caption of the split ranks all images of the split; a match is an image\n' +
    'of the same person. --mti runs MTI (anchor check, diagnostic questions, refined query, λ-fusion) for every\n' +
    'query with the MLLM endpoints and reports the metrics without and with it, MLLM calls per query, latency\n' +
    'percentiles and the top-1 similarity distribution (to choose ξ for the model). --queries one-attribute asks one attribute per caption ("a person with black\n' +
    'trousers"; synthetic worlds only, from attributes.json); first-clause cuts each caption at its first\n' +
    'clause (any dataset). The split\'s images must all be embedded with the model (`ctgi embed`).',
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
          if (!Number.isFinite(n)) throw new AppError('bad_request', `--${name} must be a number; got "${v}".`);
          return n;
        };
        const controller = new AbortController();
        const onSigint = (): void => controller.abort(new Error('Cancelled (Ctrl-C).'));
        process.once('SIGINT', onSigint);
        try {
          const m = await evaluateMti(ws.db, {
            modelId: asModelId(model.id),
            split,
            datasetId: datasetOption(values),
            queries,
            vqaEndpoint: stringOption(values, 'vqa'),
            aggregatorEndpoint: stringOption(values, 'aggregator'),
            params: { k: num('k'), xi: num('xi'), lambda: num('lambda'), rounds: num('rounds'), questions: num('questions') },
            limit: num('limit'),
            keyStore: getKeyStore(),
            signal: controller.signal,
            onProgress: values.json ? undefined : (d, n) => (d === n || d % 25 === 0 ? io.err(`MTI ${d}/${n} queries`) : undefined),
          });
          if (values.json) io.out(JSON.stringify(m, null, 2));
          else for (const line of formatMtiEval(m)) io.out(line);
        } finally {
          process.off('SIGINT', onSigint);
        }
        return 0;
      }
      const r = await evaluateRetrieval(ws.db, {
        modelId: asModelId(model.id),
        split,
        datasetId: datasetOption(values),
        queries,
      });
      if (values.json) io.out(JSON.stringify(r, null, 2));
      else for (const line of formatEval(r)) io.out(line);
      return 0;
    }),
};
