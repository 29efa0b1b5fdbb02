// Retrieval evaluation over a labelled split, the IRRA/RDE protocol (ALGORITHMS.md §4): the queries are
// the human captions of the split's images, the gallery is the split's images, a match is an image of
// the same person. Text vectors come from the model's text tower (the workspace's warm one), image
// vectors from the embeddings table; the similarity matrix is the dot product of the unit vectors.
//
// Query kinds:
// - `captions`: every caption as written (the protocol);
// - `one-attribute`: one attribute phrase of the pictured person per caption ("a person with black
//   trousers") — the vague queries an analyst types and MTI is meant to help with. It needs the ground
//   truth, so only synthetic worlds (attributes.json beside the dataset) have it;
// - `first-clause`: each caption cut at its first clause ("A man with short black hair"), which works
//   on any dataset but keeps whatever the annotator wrote first (often two attributes, not one).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { EvalCaptionSource, EvalProtocol, EvalQueryKind, EvalReport } from '#shared/eval/types';
import type { Split } from '#shared/library/types';
import { asDatasetId, type DatasetId, type ModelId } from '#shared/ids';
import { getDatasetRow } from '../db/repos/datasets';
import {
  listEvalGallery,
  listEvalQueries,
  type EvalGalleryRow as GalleryRow,
  type EvalScope,
} from '../db/repos/eval';
import type { WritableDb } from '../db/types';
import { AppError } from '../errors';
import { encodeTexts, type TextEncoderPool } from '../ml/encoder-pool';
import { resolveModelRow } from '../ml/models';
import {
  ATTRIBUTES_FILE,
  attributePhrases,
  describeAttributes,
  withArticle,
  type AttributeTruth,
  type PersonAttributes,
} from './attributes';
import {
  MetricsAccumulator,
  retrievalMetrics,
  summarizeTop1,
  type MetricsOptions,
  type PersonId,
} from './metrics';
import { countExcluded, reidExclusion, type ReidSide } from './reid-protocol';

export interface EvalOptions {
  modelId: ModelId;
  split: Split;
  datasetId?: DatasetId;
  queries?: EvalQueryKind;
  /** Queries per block (default ENCODE_CHUNK); results do not depend on it. */
  chunk?: number;
  /**
   * 'tbps' (default): every query caption of the split ranks the split's images. 'reid': the captions of the
   * query-role images rank the gallery-role images, without the query person's own-camera images
   * (reid-protocol.ts); `split` is then not used (query and gallery are the test split's).
   */
  protocol?: EvalProtocol;
  /** Default: 'human' for tbps (the protocol's annotations), 'any' for reid (MTG captions too). */
  captionSource?: EvalCaptionSource;
  /** Keep distractor images (0000) in the gallery; by default they are left out, as junk always is. */
  distractors?: boolean;
  /** Scores the gallery through the workspace's vector store (`galleryScorer(services.vectors)`, search/store-search.ts). */
  score: GalleryScorer;
  /** The workspace's text towers (`services.encoders`). */
  encoders: TextEncoderPool;
}

/**
 * The exact cosine of each query vector (as given: the text tower's unit vectors) with each gallery image,
 * rows aligned with `imageIds`. Evaluation ranks through the workspace's vector store, whichever backend it
 * is; the caller passes it in (search/store-search.ts `galleryScorer`), as pipelines do not reach into search/.
 */
export type GalleryScorer = (
  modelId: ModelId,
  queries: readonly Float32Array[],
  imageIds: Int32Array,
) => Promise<Float32Array[]>;

/**
 * What the re-ID rule compares: person, camera, and the group a query may rank in — its own dataset, and
 * for CUHK03 its own version (detected or labeled).
 */
const reidSide = (
  r: Pick<GalleryRow, 'identity_id' | 'camera' | 'source_group' | 'layout' | 'dataset_id'>,
): ReidSide => ({
  pid: r.identity_id,
  camera: r.camera,
  group: `${r.dataset_id}/${r.layout === 'cuhk03' ? (r.source_group ?? '') : ''}`,
});

/** Captions per text-tower call and per similarity block: bounds memory, and lets a long run yield between calls. */
export const ENCODE_CHUNK = 512;
const EXAMPLES = 5;

/** "A man with short black hair, wearing …" → "A man with short black hair". */
export function firstClause(caption: string): string {
  const pieces = caption.split(/[,.;:!?]|\s+and\s+/i).map((p) => p.trim());
  return pieces.find((p) => p.split(/\s+/).length >= 2) ?? caption.trim();
}

/** The attributes an analyst might name on their own: what is seen, not age or sleeve length. */
function singleAttributePhrases(a: PersonAttributes): string[] {
  const p = describeAttributes(a);
  return attributePhrases(a).filter((x) => x !== p.person && x !== p.sleeves);
}

/** One phrase per caption, chosen by the caption id so that a run is reproducible and attributes rotate. */
export function oneAttributeQuery(a: PersonAttributes, captionId: number): string {
  const phrases = singleAttributePhrases(a);
  const phrase = phrases[captionId % phrases.length]!;
  return `a person with ${withArticle(phrase)}`;
}

/** attributes.json of a synthetic world, found beside the dataset's images or annotation file. */
export function findGroundTruth(db: WritableDb, datasetIds: number[]): Map<string, PersonAttributes> {
  const byKey = new Map<string, PersonAttributes>();
  for (const id of datasetIds) {
    const ds = getDatasetRow(db, asDatasetId(id));
    if (!ds) continue;
    const candidates = [
      ds.annotation_file ? join(dirname(ds.annotation_file), ATTRIBUTES_FILE) : null,
      join(ds.root, ATTRIBUTES_FILE),
      join(dirname(ds.root), ATTRIBUTES_FILE),
    ].filter((c): c is string => c !== null);
    const file = candidates.find((c) => existsSync(c));
    if (!file) continue;
    const truth = JSON.parse(readFileSync(file, 'utf8')) as AttributeTruth;
    const imageRoot = join(dirname(file), truth.imageRoot);
    for (const img of truth.images) {
      // Keyed by dataset and path relative to the dataset root, as the library stores images.
      const rel = relative(ds.root, join(imageRoot, img.file)).split('\\').join('/');
      byKey.set(`${id}\0${rel}`, img.attributes);
    }
  }
  return byKey;
}

/** Encodes the split's captions, ranks its gallery for each, and scores the rankings. */
export async function evaluateRetrieval(db: WritableDb, opts: EvalOptions): Promise<EvalReport> {
  const started = performance.now();
  const kind = opts.queries ?? 'captions';
  const row = resolveModelRow(db, opts.modelId);
  const modelId = row.id as ModelId;
  const scope = opts.datasetId === undefined ? '' : ` of dataset ${opts.datasetId}`;

  const protocol = opts.protocol ?? 'tbps';
  const captionSource = opts.captionSource ?? (protocol === 'reid' ? 'any' : 'human');
  const distractors = opts.distractors ?? false;
  const evalScope: EvalScope = { protocol, split: opts.split, datasetId: opts.datasetId, distractors };
  const gallery = listEvalGallery(db, modelId, evalScope);
  const what = protocol === 'reid' ? 'gallery-role images' : `images in the ${opts.split} split`;
  if (gallery.length === 0) {
    throw new AppError(
      'not_found',
      protocol === 'reid'
        ? `No gallery-role images${scope}. Import a re-ID dataset with its own query/gallery protocol first ` +
            '(`ctgi import --folder DIR --layout auto`: Market-1501, DukeMTMC-reID, MSMT17, CUHK03).'
        : `No images are in the ${opts.split} split${scope}. Import a dataset with split labels (CUHK-PEDES, ICFG-PEDES, RSTPReid) first.`,
    );
  }
  const missing = gallery.filter((g) => g.vector_bytes === null).length;
  if (missing > 0) {
    // A partial gallery would inflate every metric; say how to complete it instead.
    const ds = opts.datasetId === undefined ? '' : ` --dataset ${opts.datasetId}`;
    throw new AppError(
      'conflict',
      `${missing} of the ${gallery.length} ${what}${scope} have no vector from model "${row.name}". ` +
        `Run \`ctgi embed --model ${row.name}${ds}\` (or start an embed job in Settings → Models), then evaluate again.`,
    );
  }
  const dim = row.embedding_dim;
  const ng = gallery.length;
  for (const g of gallery) {
    if (g.vector_bytes !== dim * 4) {
      throw new AppError(
        'conflict',
        `Image ${g.image_id} has a ${g.vector_bytes! / 4}-value vector under model "${row.name}" (${dim} expected). ` +
          `Delete that model's vectors and embed again.`,
      );
    }
  }
  const galleryIds = Int32Array.from(gallery, (g) => g.image_id);
  // Images without a person id can never be a match; they stay in the gallery as distractors.
  const galleryPids: PersonId[] = gallery.map((g) => g.identity_id ?? `none:${g.image_id}`);

  const captions = listEvalQueries(db, evalScope, captionSource);
  if (captions.length === 0) {
    throw new AppError(
      'not_found',
      protocol === 'reid'
        ? `The query-role images${scope} have no caption to use as a query. Caption them first ` +
            `(\`ctgi mtg${opts.datasetId === undefined ? '' : ` --dataset ${opts.datasetId}`} --split test\`), then evaluate again.`
        : captionSource === 'human'
          ? `The ${opts.split} split${scope} has no human captions to use as queries. Import the dataset with its annotation file` +
            ' (or use its MTG captions: --captions any).'
          : `The ${opts.split} split${scope} has no caption that is not rejected. Caption it first (\`ctgi mtg\`).`,
    );
  }

  let texts: string[];
  let derivation: string;
  if (kind === 'captions') {
    texts = captions.map((c) => c.text);
    derivation = 'human captions as written';
  } else if (kind === 'first-clause') {
    texts = captions.map((c) => firstClause(c.text));
    derivation = 'the first clause of each human caption';
  } else {
    const truth = findGroundTruth(db, [...new Set(gallery.map((g) => g.dataset_id))]);
    texts = captions.map((c) => {
      const img = c;
      const attrs = truth.get(`${img.dataset_id}\0${img.rel_path}`);
      if (!attrs) {
        throw new AppError(
          'bad_request',
          `One-attribute queries need the ground-truth attributes of a synthetic world (attributes.json beside the ` +
            `dataset), and image ${img.rel_path} has none. Use --queries first-clause for other datasets.`,
        );
      }
      return oneAttributeQuery(attrs, c.id);
    });
    derivation = 'one attribute phrase per caption, from the world\'s attributes.json ("a person with …")';
  }
  const queryPids: PersonId[] = captions.map((c) => c.identity_id ?? `caption:${c.id}`);
  let exclude: Required<MetricsOptions>['exclude'] | undefined;
  let excludedSameCamera = 0;
  if (protocol === 'reid') {
    const q = captions.map(reidSide);
    const g = gallery.map(reidSide);
    exclude = reidExclusion(q, g, { sameGroupOnly: true });
    // Only the person-and-camera exclusions are reported; the other group's images simply are not its gallery.
    const sameCamera = reidExclusion(q, g);
    excludedSameCamera = countExcluded(q, g, (qi, j) => q[qi]!.group === g[j]!.group && sameCamera(qi, j));
  }

  const model = await opts.encoders.get(row);
  const nq = texts.length;
  // Scored chunk by chunk: the full queries × gallery matrix of a large split (a train split of 68k
  // captions × 34k images) would not fit in memory, and every metric is a per-query sum anyway.
  let truncatedQueries = 0;
  const sums = new MetricsAccumulator();
  const top1 = new Float64Array(nq);
  const examples: EvalReport['examples'] = [];
  const block = opts.chunk ?? ENCODE_CHUNK;
  for (let start = 0; start < nq; start += block) {
    const chunk = texts.slice(start, start + block);
    const { vectors, counts } = await encodeTexts(model, chunk);
    truncatedQueries += counts.filter((n) => n > model.contextLength).length;
    vectors.forEach((q) => {
      if (q.length !== dim) {
        throw new AppError(
          'conflict',
          `Model "${row.name}" made ${q.length}-value text vectors; its images have ${dim}.`,
        );
      }
    });
    const rows = await opts.score(modelId, vectors, galleryIds);
    const similarity = new Float32Array(chunk.length * ng);
    rows.forEach((r, i) => {
      similarity.set(r, i * ng);
      let best = -Infinity;
      for (let j = 0; j < ng; j++) if (r[j]! > best) best = r[j]!;
      top1[start + i] = best;
    });
    const m = retrievalMetrics(
      similarity,
      queryPids.slice(start, start + chunk.length),
      galleryPids,
      exclude ? { exclude: (qi, j) => exclude(start + qi, j) } : {},
    );
    const { firstMatchRank, ap, inp } = m.perQuery;
    for (let i = 0; i < chunk.length; i++) {
      const first = firstMatchRank[i]!;
      if (first === 0) continue;
      sums.add(first, ap[i]!, inp[i]!);
      if (examples.length < EXAMPLES) examples.push({ query: chunk[i]!, firstMatchRank: first });
    }
  }
  const figures = sums.figures();

  return {
    modelId,
    modelName: row.name,
    split: protocol === 'reid' ? 'test' : opts.split,
    datasetId: opts.datasetId ?? null,
    queryKind: kind,
    queryDerivation: derivation,
    captions: captions.length,
    queries: figures.queries,
    queriesWithoutMatch: nq - figures.queries,
    gallery: ng,
    identities: new Set(gallery.filter((g) => g.identity_id !== null).map((g) => g.identity_id)).size,
    r1: figures.r1,
    r5: figures.r5,
    r10: figures.r10,
    mAP: figures.mAP,
    mINP: figures.mINP,
    top1Similarity: summarizeTop1(top1),
    truncatedQueries,
    examples,
    provider: model.encoder.provider,
    ms: performance.now() - started,
    protocol,
    captionSource,
    distractors,
    ...(protocol === 'reid' ? { excludedSameCamera } : {}),
  };
}
