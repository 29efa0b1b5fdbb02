// A workspace over a synthetic world for the MTI scripts (figures labelled "synthetic"): the world
// imported, the toy CLIP registered and embedded, all through `ctgi` as a user would run it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/main/cli';
import { upsertEndpoint } from '../src/main/db/repos/llm';
import { startOracle, type OracleOptions, type OracleServer } from '../src/main/synth/oracle/server';
import { writeToyClipFolder } from '../src/main/synth/toy-clip';
import { generateWorld, IMAGE_ROOT } from '../src/main/synth/world';
import { openWorkspace, type Workspace } from '../src/main/workspace';
import { asModelId, type ModelId } from '#shared/ids';

process.env.CTGI_ORT_PROVIDER ??= 'cpu';

export interface MtiWorld {
  dir: string;
  worldDir: string;
  wsFile: string;
  ws: Workspace;
  modelId: ModelId;
}

async function ctgi(wsFile: string, ...args: string[]): Promise<void> {
  const err: string[] = [];
  const code = await main([...args, '-w', wsFile], { out: () => {}, err: (l) => err.push(l) });
  if (code !== 0) throw new Error(`ctgi ${args.join(' ')} failed (${code}): ${err.join('\n')}`);
}

export async function mtiWorld(opts: {
  identities: number;
  views: number;
  seed?: number;
}): Promise<MtiWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'ctgi-mti-bench-'));
  const worldDir = join(dir, 'world');
  process.stderr.write(`generating ${opts.identities} × ${opts.views} synthetic people…\n`);
  await generateWorld({
    outDir: worldDir,
    identities: opts.identities,
    views: opts.views,
    seed: opts.seed ?? 1,
  });
  const clip = await writeToyClipFolder(join(dir, 'toy-clip'));
  const wsFile = join(dir, 'ws.sqlite');
  await ctgi(
    wsFile,
    'import',
    '--annotations',
    join(worldDir, 'data_captions.json'),
    '--images',
    join(worldDir, IMAGE_ROOT),
  );
  await ctgi(wsFile, 'models', '--register', clip.dir, '--name', 'toy');
  await ctgi(wsFile, 'embed', '--model', 'toy');
  const ws = openWorkspace(wsFile, { resumeJobs: false });
  const modelId = asModelId(
    (ws.db.prepare(`SELECT id FROM models WHERE name = 'toy'`).get() as { id: number }).id,
  );
  return { dir, worldDir, wsFile, ws, modelId };
}

/** An oracle and an endpoint profile for it (each oracle has its own URL, so llm_calls caches never mix). */
export async function oracleEndpoint(
  w: MtiWorld,
  name: string,
  opts: OracleOptions,
  concurrency = 20,
): Promise<OracleServer> {
  const oracle = await startOracle({ world: w.worldDir, ...opts });
  upsertEndpoint(w.ws.db, {
    name,
    baseUrl: oracle.url,
    model: 'oracle-vl',
    role: 'both',
    temperature: 0.01,
    maxTokens: 512,
    concurrency,
    requestsPerMinute: null,
    timeoutMs: 60_000,
    keyRef: { kind: 'none' },
  });
  return oracle;
}
