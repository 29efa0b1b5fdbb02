// The demo workspace behind `npm start` / `ctgi serve --demo`: a synthetic world imported like any
// dataset, its toy CLIP registered and embedded, and its oracle MLLM running as an endpoint — so a fresh
// clone shows every view working (library, search, MTG, MTI) without any download.
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isJobFinished, isJobStopped, type Job } from '#shared/jobs/types';
import { asDatasetId, type DatasetId, type ModelId } from '#shared/ids';
import { getDatasetRow, listDatasets } from './db/repos/datasets';
import { countImagesMissingEmbedding } from './db/repos/embeddings';
import { findModelRowByName } from './db/repos/models';
import { startEmbed } from './jobs/embed';
import { startScore } from './jobs/score';
import { countCaptionsToScore } from './db/repos/scores';
import { startImport } from './jobs/import';
import { saveEndpoint } from './llm/endpoints';
import { registerModel } from './ml/models';
import { ORACLE_MODELS, startOracle } from './synth/oracle/server';
import { isToyClipFolder, writeToyClipFolder } from './synth/toy-clip';
import { generateWorld, IMAGE_ROOT, WORLD_FILES } from './synth/world';
import type { Workspace } from './workspace';

export interface DemoOptions {
  /** Where the world's files go; default `demo-world` beside the workspace file. */
  worldDir?: string;
  identities?: number;
  views?: number;
  seed?: number;
  /** Start the oracle MLLM and save it as the `demo-oracle` endpoint (default true). */
  oracle?: boolean;
  log?: (line: string) => void;
}

export interface DemoResult {
  /** The import job, when this call started one; undefined when the workspace already had data. */
  job?: Job;
  worldDir: string;
  modelId: ModelId;
  /** The oracle's base URL, when it was started. */
  oracleUrl: string | null;
  /** Stops the oracle; call before closing the workspace. */
  stop(): Promise<void>;
}

/** Big enough to scroll and search, small enough to render and import in seconds on a laptop. */
export const DEMO_DEFAULTS = { identities: 150, views: 4, seed: 7 } as const;
export const DEMO_MODEL = 'toy-clip (synthetic)';
export const DEMO_ENDPOINT = 'demo-oracle';
/** A little noise, so MTG's filters and MTI's anchor checks have something to do. */
const DEMO_ORACLE_WRONG_RATE = 0.05;
/**
 * One dataset caption in ten names a colour wrong, as annotators sometimes do. Right captions of the
 * world state every attribute the toy CLIP reads, so their score is ~1.0; without wrong ones the score
 * filter, the chart and "lowest score first" would have nothing to find.
 */
export const DEMO_CAPTION_MISTAKES = 0.1;

/**
 * Brings a workspace to a working demo, one idempotent step at a time: the world on disk, its import,
 * the toy CLIP registered, every demo image embedded once the import is done, and the oracle endpoint.
 * A workspace that holds other data keeps it; only missing steps run.
 */
export async function ensureDemoWorkspace(ws: Workspace, opts: DemoOptions = {}): Promise<DemoResult> {
  const worldDir = opts.worldDir ?? join(dirname(ws.file), 'demo-world');
  const log = opts.log ?? (() => {});
  const datasets = listDatasets(ws.db);
  // The annotation file is written last, so its presence means a whole world; without it a previous
  // run stopped half-way and the world is made again from scratch.
  const annotationFile = join(worldDir, WORLD_FILES.rstpreid);
  const clipDir = join(worldDir, 'toy-clip');
  if (datasets.length === 0 && !existsSync(annotationFile)) {
    // generateWorld keeps out of folders holding files it did not write; the toy CLIP is ours to redo.
    if (isToyClipFolder(clipDir)) rmSync(clipDir, { recursive: true });
    const identities = opts.identities ?? DEMO_DEFAULTS.identities;
    const views = opts.views ?? DEMO_DEFAULTS.views;
    log(`Generating the synthetic demo world (${identities} people × ${views} views) in ${worldDir}…`);
    const world = await generateWorld({
      outDir: worldDir,
      identities,
      views,
      seed: opts.seed ?? DEMO_DEFAULTS.seed,
      captionMistakes: DEMO_CAPTION_MISTAKES,
      overwrite: true,
    });
    log(
      `Generated ${world.images} images in ${(world.elapsedMs / 1000).toFixed(1)} s; ${Math.round(DEMO_CAPTION_MISTAKES * 100)} % of their captions name a colour wrong on purpose (listed in attributes.json), for the CLIP score to find.`,
    );
  }
  if (!isToyClipFolder(clipDir)) await writeToyClipFolder(clipDir);

  let job: Job | undefined;
  let datasetId: DatasetId;
  if (datasets.length === 0) {
    const started = await startImport(ws, {
      imageRoot: join(worldDir, IMAGE_ROOT),
      annotationFile,
      format: 'rstpreid',
      name: 'Demo (synthetic people)',
    });
    job = started.job;
    datasetId = started.datasetId;
  } else datasetId = datasets[0]!.id;

  const existing = findModelRowByName(ws.db, DEMO_MODEL);
  const modelId =
    (existing?.id as ModelId | undefined) ?? (await registerModel(ws.db, clipDir, DEMO_MODEL)).id;
  embedWhenImported(ws, datasetId, modelId, log);

  let stop = async (): Promise<void> => {};
  let oracleUrl: string | null = null;
  if (opts.oracle ?? true) {
    const oracle = await startOracle({
      world: worldDir,
      seed: opts.seed ?? DEMO_DEFAULTS.seed,
      wrongRate: DEMO_ORACLE_WRONG_RATE,
    });
    oracleUrl = oracle.url;
    // The port changes at every start, so the profile is saved again each time.
    await saveEndpoint(
      ws.db,
      {
        name: DEMO_ENDPOINT,
        baseUrl: oracle.url,
        model: ORACLE_MODELS.vision,
        role: 'both',
        temperature: 0.01,
        maxTokens: 512,
        concurrency: 16,
        requestsPerMinute: null,
        timeoutMs: 30_000,
        keyRef: { kind: 'none' },
        replicas: [],
        priceInput: null,
        priceOutput: null,
        batchDiscount: 0.5,
      },
      ws.services.keys,
    );
    log(`Oracle MLLM (synthetic) at ${oracle.url}, saved as endpoint "${DEMO_ENDPOINT}".`);
    stop = () => oracle.close();
  }
  return { job, worldDir, modelId, oracleUrl, stop };
}

/**
 * Embeds the demo dataset with the toy CLIP as soon as its import is done (now, if it already is), then
 * scores its captions, so search works and the review desk can filter and order by score from the start.
 */
function embedWhenImported(
  ws: Workspace,
  datasetId: DatasetId,
  modelId: ModelId,
  log: (line: string) => void,
): void {
  const score = (): void => {
    if (countCaptionsToScore(ws.db, modelId, { datasetId }) === 0) return;
    const { job } = startScore(ws, { modelId, datasetId });
    log(`Scoring the demo captions with the toy CLIP (job #${job.id}).`);
  };
  const embed = (): void => {
    if (countImagesMissingEmbedding(ws.db, modelId, datasetId) === 0) return score();
    const { job } = startEmbed(ws, { modelId, datasetId });
    log(`Embedding the demo images with the toy CLIP (job #${job.id}).`);
    const off = ws.bus.on('jobs:progress', (j) => {
      if (j.id !== job.id || !isJobStopped(j.status)) return;
      off();
      if (isJobFinished(j.status)) score();
    });
  };
  if (getDatasetRow(ws.db, asDatasetId(datasetId))?.status === 'ready') {
    embed();
    return;
  }
  const off = ws.bus.on('jobs:progress', (j) => {
    if (j.kind !== 'import' || !isJobStopped(j.status)) return;
    if (getDatasetRow(ws.db, datasetId)?.status !== 'ready') return;
    off();
    embed();
  });
}
