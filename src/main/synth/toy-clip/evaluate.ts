// Retrieval figures of a CLIP model folder on a synthetic world, through the same code users run: the
// model folder is validated by loadModelFolder, gallery images go through preprocessing and ONNX Runtime
// in the encoder process, queries through the CLIP tokenizer and the text tower, and the scores through
// the IRRA metrics. With the toy CLIP it shows what the world can tell apart: full captions name every
// colour and find the person; a single attribute is shared by many people and cannot.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Split } from '#shared/library/types';
import { AppError } from '../../errors';
import { ClipEncoder, type ProviderChoice } from '../../ml/encoder';
import { loadModelFolder, preprocessSpecOf, type TokenizerSource } from '../../ml/models';
import { ClipTokenizer, clipTokenizer } from '../../ml/tokenizer';
import { retrievalMetrics, type RetrievalMetrics } from '../../pipelines/metrics';
import { describeAttributes, withArticle, type PersonAttributes } from '../../pipelines/attributes';
import { WORLD_FILES, type GroundTruth } from '../world';

/** The query sets, from the most to the least specific. */
export const QUERY_SETS = ['full captions', 'top + bottom', 'top only', 'bottom only', 'shoes only'] as const;
export type QuerySet = (typeof QUERY_SETS)[number];

/** The short queries a person might type about one image's person, one per set. */
export function attributeQuery(set: Exclude<QuerySet, 'full captions'>, a: PersonAttributes): string {
  const p = describeAttributes(a);
  switch (set) {
    case 'top + bottom':
      return `a person in ${withArticle(p.top)} and ${withArticle(p.bottom)}`;
    case 'top only':
      return `a person in ${withArticle(p.top)}`;
    case 'bottom only':
      return `a person in ${withArticle(p.bottom)}`;
    case 'shoes only':
      return `a person with ${p.shoes}`;
  }
}

export interface EvaluationRow extends RetrievalMetrics {
  set: QuerySet;
  /** One query of the set, to show what was asked. */
  example: string;
}

export interface Evaluation {
  model: string;
  split: Split;
  identities: number;
  gallery: number;
  rows: EvaluationRow[];
}

export interface EvaluateOptions {
  /** A world written by generateWorld / `ctgi synth`. */
  worldDir: string;
  modelDir: string;
  split?: Split;
  sets?: readonly QuerySet[];
  providers?: ProviderChoice;
}

function tokenizerOf(source: TokenizerSource): Promise<ClipTokenizer> | ClipTokenizer {
  if (source.kind === 'bundled') return clipTokenizer();
  if (source.kind === 'bpe') return ClipTokenizer.fromBpeFile(source.path);
  return readFile(source.path).then((json) => ClipTokenizer.fromTokenizerJson(json));
}

const dot = (a: Float32Array, b: Float32Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

export async function evaluateRetrieval(opts: EvaluateOptions): Promise<Evaluation> {
  const split = opts.split ?? 'test';
  const truth = JSON.parse(
    await readFile(path.join(opts.worldDir, WORLD_FILES.attributes), 'utf8'),
  ) as GroundTruth;
  const rstp = JSON.parse(await readFile(path.join(opts.worldDir, WORLD_FILES.rstpreid), 'utf8')) as {
    img_path: string;
    captions: string[];
  }[];
  const captionsOf = new Map(rstp.map((r) => [r.img_path, r.captions]));
  const gallery = truth.images.filter((img) => img.split === split);
  if (gallery.length === 0) {
    throw new AppError(
      'bad_request',
      `The world in ${opts.worldDir} has no ${split} images; generate more identities.`,
    );
  }

  const folder = await loadModelFolder(opts.modelDir, { providers: opts.providers ?? 'cpu' });
  const tokenizer = await tokenizerOf(folder.tokenizer);
  const context = folder.manifest.contextLength;
  const enc = await ClipEncoder.open({
    visionPath: folder.visionPath,
    textPath: folder.textPath,
    preprocess: preprocessSpecOf(folder.manifest),
    providers: opts.providers ?? 'cpu',
  });
  try {
    enc.bind({ vision: folder.vision, text: folder.text });
    const images = await enc.embedImages(
      gallery.map((img) => path.join(opts.worldDir, truth.imageRoot, img.file)),
    );
    const failed = images.errors.findIndex((e) => e !== null);
    if (failed >= 0)
      throw new AppError('internal', `Could not embed ${gallery[failed]!.file}: ${images.errors[failed]}`);
    const imageVectors = images.vectors as Float32Array[];
    const galleryPids = gallery.map((img) => img.personId);

    const rows: EvaluationRow[] = [];
    for (const set of opts.sets ?? QUERY_SETS) {
      const queries: { text: string; pid: number }[] =
        set === 'full captions'
          ? gallery.flatMap((img) =>
              (captionsOf.get(img.file) ?? []).map((text) => ({ text, pid: img.personId })),
            )
          : gallery.map((img) => ({ text: attributeQuery(set, img.attributes), pid: img.personId }));
      const ids = new Int32Array(queries.length * context);
      queries.forEach((q, i) => ids.set(tokenizer.encode(q.text, { context }), i * context));
      const textVectors = await enc.embedTokens(ids, queries.length, context);
      const sim = new Float32Array(queries.length * gallery.length);
      textVectors.forEach((t, i) =>
        imageVectors.forEach((v, j) => (sim[i * gallery.length + j] = dot(t, v))),
      );
      const m = retrievalMetrics(
        sim,
        queries.map((q) => q.pid),
        galleryPids,
      );
      rows.push({
        set,
        example: queries[0]?.text ?? '',
        r1: m.r1,
        r5: m.r5,
        r10: m.r10,
        mAP: m.mAP,
        mINP: m.mINP,
        queries: m.queries,
        gallery: m.gallery,
        queriesWithoutMatch: m.queriesWithoutMatch,
      });
    }
    return {
      model: folder.manifest.name,
      split,
      identities: new Set(galleryPids).size,
      gallery: gallery.length,
      rows,
    };
  } finally {
    await enc.close();
  }
}

/** The figures as a plain-text table, labelled synthetic (DESIGN.md: figures on this world always are). */
export function formatEvaluation(e: Evaluation): string {
  const pad = (s: string, n: number): string => s.padEnd(n);
  const num = (v: number): string => v.toFixed(1).padStart(6);
  const lines = [
    `${e.model} on the synthetic world, ${e.split} split: ${e.gallery} images of ${e.identities} people (synthetic figures)`,
    `${pad('queries', 15)} ${'n'.padStart(5)}    R@1    R@5   R@10    mAP   mINP   example`,
  ];
  for (const r of e.rows) {
    lines.push(
      `${pad(r.set, 15)} ${String(r.queries).padStart(5)} ${num(r.r1)} ${num(r.r5)} ${num(r.r10)} ${num(r.mAP)} ${num(r.mINP)}   ${r.example.length > 60 ? `${r.example.slice(0, 57)}...` : r.example}`,
    );
  }
  return lines.join('\n');
}
