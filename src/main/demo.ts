// The demo workspace behind `npm start` / `ctgi serve --demo`: a synthetic world, imported like any
// dataset, so a fresh clone shows a working library (and a running import job) without any download.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Job } from '../shared/domain';
import { listDatasets } from './db/repos/datasets';
import { startImport } from './jobs/import';
import { generateWorld, IMAGE_ROOT, WORLD_FILES } from './synth/world';
import type { Workspace } from './workspace';

export interface DemoOptions {
  /** Where the world's files go; default `demo-world` beside the workspace file. */
  worldDir?: string;
  identities?: number;
  views?: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface DemoResult {
  /** The import job, when this call started one; undefined when the workspace already had data. */
  job?: Job;
  worldDir: string;
}

/** Big enough to scroll and search, small enough to render and import in seconds on a laptop. */
export const DEMO_DEFAULTS = { identities: 150, views: 4, seed: 7 } as const;

/**
 * Fills an empty workspace with the synthetic demo dataset. A workspace that holds any dataset —
 * including a demo import interrupted earlier, which the job runner resumes — is left alone. The world
 * on disk is reused when a previous run already generated it.
 */
export async function ensureDemoWorkspace(ws: Workspace, opts: DemoOptions = {}): Promise<DemoResult> {
  const worldDir = opts.worldDir ?? join(dirname(ws.file), 'demo-world');
  if (listDatasets(ws.db).length > 0) return { worldDir };
  // The annotation file is written last, so its presence means a whole world; without it a previous
  // run stopped half-way and the world is made again from scratch.
  const annotationFile = join(worldDir, WORLD_FILES.rstpreid);
  if (!existsSync(annotationFile)) {
    const identities = opts.identities ?? DEMO_DEFAULTS.identities;
    const views = opts.views ?? DEMO_DEFAULTS.views;
    opts.log?.(`Generating the synthetic demo world (${identities} people × ${views} views) in ${worldDir}…`);
    const world = await generateWorld({
      outDir: worldDir,
      identities,
      views,
      seed: opts.seed ?? DEMO_DEFAULTS.seed,
      overwrite: true,
    });
    opts.log?.(`Generated ${world.images} images in ${(world.elapsedMs / 1000).toFixed(1)} s.`);
  }
  const { job } = startImport(ws, {
    imageRoot: join(worldDir, IMAGE_ROOT),
    annotationFile,
    format: 'rstpreid',
    name: 'Demo (synthetic people)',
  });
  return { job, worldDir };
}
