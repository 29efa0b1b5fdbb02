// A workspace's vector caches: the in-memory gallery of each model (./index.ts `loadIndex`) and the open
// LanceDB table of each model (./store-search.ts `lanceStoreFor`). One per open workspace
// (`services.vectors`), closed with it, so two workspaces in one process never share a gallery or a table
// and a closed one leaves no table open. The searches take it in place of the connection: it carries it.
import type { ModelId } from '../../shared/ids';
import type { ReadableDb } from '../db/types';
import type { LanceVectorStore } from '../vectors';
import type { LoadedIndex } from './index';

/** A model's LanceDB table and the embeddings fingerprint it was last loaded at. */
export interface OpenLance {
  store: LanceVectorStore;
  synced: string;
}

export class VectorCaches {
  /** Each model's gallery in memory, checked against its fingerprint on every use. */
  readonly indexes = new Map<ModelId, LoadedIndex>();
  /** Each model's LanceDB table, opening or open. */
  readonly lance = new Map<ModelId, Promise<OpenLance>>();

  constructor(readonly db: ReadableDb) {}

  /** Drops the galleries (all, or one model's); the next search reloads. Tables stay open. */
  invalidate(modelId?: ModelId): void {
    if (modelId === undefined) this.indexes.clear();
    else this.indexes.delete(modelId);
  }

  /** Drops the galleries and closes the LanceDB tables (workspace close; `ctgi vectors` before it moves them). */
  async close(): Promise<void> {
    this.indexes.clear();
    const open = [...this.lance.values()];
    this.lance.clear();
    for (const p of open) await p.then((o) => o.store.close()).catch(() => undefined);
  }
}
