// The packaged app's self-test (`ctgi-studio --smoke`, see README "Desktop"): the parts of the app that a
// broken package breaks first, run once on a throw-away workspace — better-sqlite3 built for Electron,
// sqlite-vec, the encoder child process with ONNX Runtime and sharp, the toy CLIP, a job, a search.
// Electron-free, so test/integration/smoke.test.ts runs the same steps in Node; the Electron shell adds
// the window, the renderer protocol and IPC (src/main/desktop/shell.ts).
import { join } from 'node:path';
import type { Channel, InvokeArg, InvokeResults } from '#shared/contract';
import type { JobId } from '#shared/ids';
import { createHandlers, dispatch, type Handlers } from './api/handlers';
import { sqliteVersion } from './db/open';
import { writeToyClipFolder } from './synth/toy-clip';
import { generateWorld, IMAGE_ROOT, WORLD_FILES } from './synth/world';
import { openWorkspace, type Workspace } from './workspace';

export interface SmokeOptions {
  /** An empty folder to work in; the caller removes it. */
  dir: string;
  /** better-sqlite3's addon for this runtime (the Electron build, in the app). */
  nativeBinding?: string;
  log?: (line: string) => void;
  /** Runs on the open workspace once the image is embedded (the shell checks its window there). */
  check?: (ws: Workspace) => Promise<void>;
}

export interface SmokeReport {
  workspace: string;
  images: number;
  embedded: number;
  /** The ONNX Runtime provider of the text tower, e.g. "cpu". */
  provider: string;
  /** Cosine similarity of the one image to a short description: finite, or the text tower or vocabulary is broken. */
  score: number;
  ms: number;
}

async function call<C extends Channel>(
  handlers: Handlers,
  channel: C,
  arg: InvokeArg<C>,
): Promise<InvokeResults[C]> {
  const r = await dispatch(handlers, channel, arg);
  if (!r.ok) throw new Error(`${channel} failed: ${r.error.message}`);
  return r.value as InvokeResults[C];
}

async function finished(ws: Workspace, id: JobId, what: string): Promise<void> {
  await ws.jobs.idle();
  const job = ws.jobs.get(id);
  if (job.status !== 'done')
    throw new Error(`the ${what} job ended ${job.status}: ${job.error ?? 'no error recorded'}`);
}

/** Runs the steps in order; the first that fails throws an Error saying which and why. */
export async function runSmoke(opts: SmokeOptions): Promise<SmokeReport> {
  const started = performance.now();
  const log = opts.log ?? (() => {});
  const worldDir = join(opts.dir, 'world');
  await generateWorld({ outDir: worldDir, identities: 1, views: 1, seed: 1, overwrite: true });
  const clip = await writeToyClipFolder(join(opts.dir, 'toy-clip'));
  const ws = openWorkspace(join(opts.dir, 'smoke.sqlite'), { nativeBinding: opts.nativeBinding });
  try {
    log(`workspace ${ws.file} (SQLite ${sqliteVersion(ws.db)})`);
    const handlers = createHandlers(ws);
    const model = await call(handlers, 'models:register', { folder: clip.dir });
    const imported = await call(handlers, 'import:start', {
      imageRoot: join(worldDir, IMAGE_ROOT),
      annotationFile: join(worldDir, WORLD_FILES.rstpreid),
      format: 'rstpreid',
      name: 'smoke',
    });
    await finished(ws, imported.job.id, 'import');
    const stats = await call(handlers, 'library:stats', {});
    log(`imported ${stats.images} image`);
    const embedded = await call(handlers, 'embed:start', {
      modelId: model.id,
      datasetId: imported.datasetId,
    });
    await finished(ws, embedded.job.id, 'embed');
    const hits = await call(handlers, 'search:text', {
      modelId: model.id,
      query: 'a person in a red shirt and blue jeans',
      k: 1,
    });
    const top = hits.results[0];
    if (top === undefined || !Number.isFinite(top.score))
      throw new Error(`search found ${hits.results.length} results for one embedded image`);
    log(`embedded and found it again (score ${top.score.toFixed(3)})`);
    await opts.check?.(ws);
    return {
      workspace: ws.file,
      images: stats.images,
      embedded: hits.results.length,
      provider: hits.provider,
      score: top.score,
      ms: Math.round(performance.now() - started),
    };
  } finally {
    await ws.close();
  }
}
