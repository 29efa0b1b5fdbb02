// A workspace's vector caches: the in-memory gallery of each model (./index.ts `loadIndex`), the open
// LanceDB table of each model (./store-search.ts `lanceStoreFor`) and the gallery worker that loads and
// ranks large galleries off the thread serving requests (./gallery-thread.ts). One per open workspace
// (`services.vectors`), closed with it, so two workspaces in one process never share a gallery, a table or
// a worker, and a closed one leaves no table open and no thread running. The searches take it in place of
// the connection: it carries the workspace's read connection.
import type { ModelId } from '#shared/ids';
import type { ReadableDb } from '../db/types';
import type { LanceVectorStore } from '../vectors';
import { GalleryThread } from './gallery-thread';
import type { LoadedIndex } from './index';

/** A model's LanceDB table and the embeddings fingerprint it was last loaded at. */
export interface OpenLance {
  store: LanceVectorStore;
  synced: string;
}

/**
 * Galleries of at least this many rows are loaded and ranked by the gallery worker: below it a load takes
 * tens of ms and an exact scan a few, less than a round trip is worth.
 */
export const OFF_THREAD_FROM = 50_000;

export interface VectorCachesOptions {
  /** The gallery worker; null: every load and scan on the calling thread. Default: one, started on first use. */
  thread?: GalleryThread | null;
  /** Rows from which the worker is used (tests set 0 to send every gallery there). */
  offThreadFrom?: number;
}

export class VectorCaches {
  /** Each model's gallery in memory, checked against its fingerprint on every use. */
  readonly indexes = new Map<ModelId, LoadedIndex>();
  /** Galleries being loaded by the worker now: a second search waits for the same load. */
  readonly loading = new Map<ModelId, Promise<LoadedIndex>>();
  /** Each model's LanceDB table, opening or open. */
  readonly lance = new Map<ModelId, Promise<OpenLance>>();
  readonly thread: GalleryThread | null;
  readonly offThreadFrom: number;
  /** Drops so far, of all galleries and of each: a load that finishes after one does not cache what it read. */
  private dropsOfAll = 0;
  private readonly drops = new Map<ModelId, number>();

  constructor(
    readonly db: ReadableDb,
    opts: VectorCachesOptions = {},
  ) {
    this.thread = opts.thread === undefined ? new GalleryThread() : opts.thread;
    this.offThreadFrom = opts.offThreadFrom ?? OFF_THREAD_FROM;
  }

  /** Forgets one model's gallery, here and in the worker. */
  /** Changes whenever the model's gallery is dropped. */
  generation(modelId: ModelId): string {
    return `${this.dropsOfAll}:${this.drops.get(modelId) ?? 0}`;
  }

  drop(modelId: ModelId): void {
    this.drops.set(modelId, (this.drops.get(modelId) ?? 0) + 1);
    if (this.indexes.get(modelId)?.gallery !== undefined) this.thread?.release(modelId);
    this.indexes.delete(modelId);
  }

  /** Drops the galleries (all, or one model's); the next search reloads. Tables stay open. */
  invalidate(modelId?: ModelId): void {
    if (modelId !== undefined) return this.drop(modelId);
    this.dropsOfAll++;
    this.indexes.clear();
    this.thread?.release();
  }

  /**
   * Drops the galleries, terminates the gallery worker and closes the LanceDB tables (workspace close;
   * `ctgi vectors` before it moves them).
   */
  async close(): Promise<void> {
    this.dropsOfAll++;
    this.indexes.clear();
    await this.thread?.close();
    const open = [...this.lance.values()];
    this.lance.clear();
    for (const p of open) await p.then((o) => o.store.close()).catch(() => undefined);
  }
}
