// Opening a model's vector store for a workspace: which backend (the setting, else by size), where the
// LanceDB tables live, loading from the workspace's `embeddings` table, and moving vectors between
// backends without re-embedding.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import type { ModelRow } from '../db/repos/models';
import { modelVectorRowPages } from '../db/repos/vectors';
import type { ReadableDb } from '../db/types';
import { AppError } from '../errors';
import { LanceVectorStore, type LanceIndexKind } from './lance';
import { MemoryVectorStore } from './memory';
import {
  autoBackend,
  VECTOR_BACKENDS,
  type StoreIdentity,
  type VectorBackend,
  type VectorRow,
  type VectorStore,
} from './types';

export * from './types';
export { LANCE_INDEX_FROM, LanceVectorStore, filterSql } from './lance';
export { MemoryVectorStore } from './memory';

export const vectorSettingsSchema = z.object({
  backend: z.enum(['auto', ...VECTOR_BACKENDS]).default('auto'),
  /** Folder of the LanceDB tables; default `<workspace>.vectors/` beside the workspace file. */
  folder: z.string().min(1).optional(),
  index: z.enum(['ivf_pq', 'ivf_hnsw_sq']).optional(),
});
export type VectorSettings = z.infer<typeof vectorSettingsSchema>;

/** The settings file beside a workspace file. */
export const vectorSettingsPath = (workspaceFile: string): string => `${workspaceFile}.vectors.json`;

export function readVectorSettings(workspaceFile: string): VectorSettings {
  const p = vectorSettingsPath(workspaceFile);
  if (workspaceFile === ':memory:' || !existsSync(p)) return vectorSettingsSchema.parse({});
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(p, 'utf8'));
  } catch (err) {
    throw new AppError(
      'bad_request',
      `${p} is not valid JSON (${(err as Error).message}); fix or delete it (defaults: automatic backend).`,
    );
  }
  const parsed = vectorSettingsSchema.safeParse(raw);
  if (!parsed.success)
    throw new AppError(
      'bad_request',
      `${p}: ${parsed.error.issues.map((i) => `"${i.path.join('.')}" ${i.message}`).join('; ')}.`,
    );
  return parsed.data;
}

export function writeVectorSettings(workspaceFile: string, s: VectorSettings): void {
  writeFileSync(
    vectorSettingsPath(workspaceFile),
    `${JSON.stringify(vectorSettingsSchema.parse(s), null, 2)}\n`,
  );
}

/** The identity a model's table carries: its name and image tower hash (a changed tower is another model). */
export const storeIdentity = (
  row: Pick<ModelRow, 'name' | 'vision_sha256' | 'embedding_dim'>,
): StoreIdentity => ({
  modelKey: `${row.name}#${row.vision_sha256.slice(0, 16)}`,
  dim: row.embedding_dim,
});

export interface OpenStoreOptions {
  backend: VectorBackend;
  identity: StoreIdentity;
  /** LanceDB: the tables folder and table name. */
  folder?: string;
  table?: string;
  rebuild?: boolean;
  create?: boolean;
  index?: LanceIndexKind;
}

export async function openStore(o: OpenStoreOptions): Promise<VectorStore> {
  if (o.backend === 'memory') return new MemoryVectorStore(o.identity);
  if (!o.folder) throw new AppError('bad_request', 'The LanceDB backend needs a folder for its tables.');
  return LanceVectorStore.open({
    ...o.identity,
    folder: o.folder,
    table: o.table ?? o.identity.modelKey.split('#')[0]!,
    rebuild: o.rebuild,
    create: o.create,
    index: o.index,
  });
}

/** The backend a workspace uses for a model with `rows` vectors under its settings. */
export const chooseBackend = (s: VectorSettings, rows: number): VectorBackend =>
  s.backend === 'auto' ? autoBackend(rows) : s.backend;

/** Adds rows to a store in batches: LanceDB appends to an empty table, else upserts. */
async function put(store: VectorStore, rows: VectorRow[], empty: boolean): Promise<void> {
  if (empty && store instanceof LanceVectorStore) await store.append(rows);
  else await store.upsert(rows);
}

/** Loads a model's vectors from the workspace into the store (which is emptied of stale rows first). */
export async function loadFromWorkspace(
  db: ReadableDb,
  modelId: number,
  store: VectorStore,
  batch = 8192,
): Promise<number> {
  const empty = (await store.count()) === 0;
  let n = 0;
  for (const page of modelVectorRowPages(db, modelId, batch)) {
    const rows = page.map(([imageId, view, datasetId, camera, time, split, blob]): VectorRow => {
      if (blob.byteLength !== store.dim * 4)
        throw new AppError(
          'conflict',
          `Image ${imageId} has a ${blob.byteLength / 4}-value vector; the model makes ${store.dim}. Re-embed it.`,
        );
      const vector = new Float32Array(store.dim);
      new Uint8Array(vector.buffer).set(blob);
      return { imageId, view, datasetId, camera, split, time, vector };
    });
    await put(store, rows, empty);
    n += rows.length;
  }
  await store.finish();
  return n;
}

/** Moves every vector of one store into another (switching backends): no re-embedding. */
export async function copyStore(from: VectorStore, to: VectorStore): Promise<number> {
  if (from.dim !== to.dim || from.modelKey !== to.modelKey)
    throw new AppError(
      'conflict',
      `Cannot copy vectors of ${from.modelKey} (${from.dim}-d) into a store of ${to.modelKey} (${to.dim}-d).`,
    );
  const empty = (await to.count()) === 0;
  let n = 0;
  for await (const rows of from.rows()) {
    await put(to, rows, empty);
    n += rows.length;
  }
  await to.finish();
  return n;
}
