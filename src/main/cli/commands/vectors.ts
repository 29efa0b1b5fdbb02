import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { listModelRows } from '../../db/repos/models';
import { AppError } from '../../errors';
import { asModelId } from '#shared/ids';
import { backendFor, lanceFolder, lanceStoreFor } from '../../search/store-search';
import { fingerprint } from '../../search';
import {
  readVectorSettings,
  vectorSettingsSchema,
  writeVectorSettings,
  type VectorSettings,
} from '../../vectors';
import { stringOption, type Command } from '../command';
import { withWorkspace } from '../workspace';

export const vectorsCommand: Command = {
  name: 'vectors',
  summary: 'show or set where image vectors are searched: in memory or in LanceDB tables on disk',
  usage:
    'ctgi vectors [--json]\n' +
    'ctgi vectors [--backend auto|memory|lancedb] [--folder DIR] [--index ivf_pq|ivf_hnsw_sq] [--rebuild] [--json]\n\n' +
    'The setting lives beside the workspace (<workspace>.vectors.json). auto: memory below 2 million vectors\n' +
    'per model, LanceDB from there. --folder puts the LanceDB tables elsewhere (another disk, shared storage);\n' +
    'default <workspace>.vectors/. Switching copies the vectors from the workspace into the new backend: nothing\n' +
    'is embedded again. --rebuild drops the LanceDB tables and builds them again from the workspace.',
  options: {
    backend: { type: 'string' },
    folder: { type: 'string' },
    index: { type: 'string' },
    rebuild: { type: 'boolean' },
  },
  run: (values, _positionals, io) =>
    withWorkspace(values, async (ws) => {
      const file = ws.db.name;
      if (file === ':memory:')
        throw new AppError('bad_request', 'An in-memory workspace has no vector settings.');
      const current = readVectorSettings(file);
      const next: VectorSettings = { ...current };
      const backend = stringOption(values, 'backend');
      const folder = stringOption(values, 'folder');
      const index = stringOption(values, 'index');
      if (backend !== undefined) next.backend = backend as VectorSettings['backend'];
      if (folder !== undefined) next.folder = resolve(folder);
      if (index !== undefined) next.index = index as VectorSettings['index'];
      const parsed = vectorSettingsSchema.safeParse(next);
      if (!parsed.success)
        throw new AppError(
          'bad_request',
          parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ') + '.',
        );
      const changed = JSON.stringify(parsed.data) !== JSON.stringify(current);
      if (changed) writeVectorSettings(file, parsed.data);
      if (values.rebuild) {
        await ws.services.vectors.close();
        rmSync(lanceFolder(ws.db), { recursive: true, force: true });
      }
      const models = [];
      for (const row of listModelRows(ws.db)) {
        const id = asModelId(row.id);
        const b = backendFor(ws.db, id);
        const vectors = fingerprint(ws.db, id).count;
        const started = performance.now();
        // Building the table now (not on the first search) is what "switching" costs; later runs reuse it.
        const rows =
          b === 'lancedb' && vectors > 0
            ? await (await lanceStoreFor(ws.services.vectors, id)).count()
            : vectors;
        models.push({
          model: row.name,
          backend: b,
          vectors: rows,
          seconds: (performance.now() - started) / 1000,
        });
      }
      const out = { settings: parsed.data, folder: lanceFolder(ws.db), models };
      if (values.json) io.out(JSON.stringify(out, null, 2));
      else {
        io.out(
          `Vector backend: ${parsed.data.backend}${changed ? ' (saved)' : ''}; LanceDB folder ${out.folder}` +
            (parsed.data.index ? `; index ${parsed.data.index}` : ''),
        );
        for (const m of models)
          io.out(
            `  ${m.model}: ${m.backend}, ${m.vectors} vectors${m.backend === 'lancedb' ? ` (ready in ${m.seconds.toFixed(1)} s)` : ''}`,
          );
      }
      return 0;
    }),
};
