// A workspace's gallery worker, seen from the thread that serves requests: a `worker_threads` worker that
// reads a model's gallery (every embedding row) through its own read-only connection into shared memory
// and ranks large galleries over that memory, so neither long scan holds up other requests. Owned by the
// workspace's vector caches (./vector-caches.ts), started on first use, terminated on close.
// A bundled build puts gallery-worker.js beside this module; from source (CLI, tests) the worker is
// TypeScript, started through tsx's loader as ml/encoder.ts starts its child.
// Whenever the worker is not there (failed to start, crashed, closed) its callers get null and do the work
// on their own thread: answers never depend on whether the worker ran, only latency does.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ErrorCode } from '#shared/contract';
import { AppError } from '../errors';
import type { ScoredIndex } from '../ml/vector-index';
import type {
  GalleryReply,
  GalleryRequest,
  GalleryWorkerData,
  LoadedGallery,
  LoadRequest,
  RankRequest,
} from './gallery-protocol';

const require = createRequire(import.meta.url);

/** The worker from its built .js when there is one, else from the TypeScript source through tsx. */
function startWorker(workerData: GalleryWorkerData): Worker {
  const js = fileURLToPath(new URL('./gallery-worker.js', import.meta.url));
  if (existsSync(js)) return new Worker(js, { workerData });
  // tsx's loader given as --import is not applied to a worker's entry module (Node 20 resolves the entry
  // first), so a small bootstrap registers tsx inside the worker, then imports the TypeScript entry.
  const tsxApi = pathToFileURL(
    join(dirname(require.resolve('tsx/package.json')), 'dist', 'esm', 'api', 'index.mjs'),
  );
  const entry = new URL('./gallery-worker.ts', import.meta.url);
  const bootstrap = `import(${JSON.stringify(tsxApi.href)}).then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}

interface Pending {
  resolve(r: GalleryReply | null): void;
}

export class GalleryThread {
  private worker: Worker | null = null;
  private broken = false;
  private closed = false;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly workerData: GalleryWorkerData = {}) {}

  /** Whether work can be sent (the worker starts on the first request). */
  get usable(): boolean {
    return !this.broken && !this.closed;
  }

  /** Whether a worker thread is running now (tests: none is left after close). */
  get running(): boolean {
    return this.worker !== null;
  }

  private ensure(): Worker | null {
    if (!this.usable) return null;
    if (this.worker) return this.worker;
    let w: Worker;
    try {
      w = startWorker(this.workerData);
    } catch {
      this.broken = true;
      return null;
    }
    // Requests in flight keep the process alive through their promises' callers; an idle worker must not.
    w.unref();
    w.on('message', (r: GalleryReply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      p.resolve(r);
    });
    const fail = (): void => {
      this.broken = true;
      this.worker = null;
      for (const p of this.pending.values()) p.resolve(null);
      this.pending.clear();
    };
    w.on('error', fail);
    w.on('exit', fail);
    this.worker = w;
    return w;
  }

  private request(msg: Omit<LoadRequest, 'id'> | Omit<RankRequest, 'id'>): Promise<GalleryReply | null> {
    const w = this.ensure();
    if (!w) return Promise.resolve(null);
    const id = this.nextId++;
    return new Promise<GalleryReply | null>((resolve) => {
      this.pending.set(id, { resolve });
      // Held while a request is out, so that a caller awaiting it does not see the process exit under it.
      w.ref();
      try {
        w.postMessage({ ...msg, id } as GalleryRequest);
      } catch {
        this.pending.delete(id);
        resolve(null);
      }
    }).finally(() => {
      if (this.pending.size === 0) this.worker?.unref();
    });
  }

  /**
   * Reads a model's gallery in the worker. Null when the worker cannot (then read it on this thread); an
   * AppError (a stored vector of the wrong length) as the inline load would throw it.
   */
  async load(r: Omit<LoadRequest, 'id' | 'type'>): Promise<LoadedGallery | null> {
    const reply = await this.request({ type: 'load', ...r });
    if (!reply) return null;
    if (!reply.ok) throw replyError(reply);
    return 'loaded' in reply ? reply.loaded : null;
  }

  /** Ranks a gallery the worker loaded. Null when it cannot (gone, or the gallery was released). */
  async rank(r: Omit<RankRequest, 'id' | 'type'>): Promise<ScoredIndex[] | null> {
    const reply = await this.request({ type: 'rank', ...r });
    if (!reply) return null;
    if (!reply.ok) {
      if (reply.code === 'gone') return null;
      throw replyError(reply);
    }
    return 'hits' in reply ? reply.hits : null;
  }

  /** Lets the worker drop a model's gallery (all of them when no model is named). */
  release(modelId?: number): void {
    if (!this.worker) return;
    try {
      this.worker.postMessage({ type: 'release', ...(modelId !== undefined ? { modelId } : {}) });
    } catch {
      // a worker that cannot take a message holds nothing worth releasing
    }
  }

  /** Terminates the worker (its read-only connection and galleries go with it); later calls do the work inline. */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = null;
    for (const p of this.pending.values()) p.resolve(null);
    this.pending.clear();
    if (w) await w.terminate();
  }
}

function replyError(r: Extract<GalleryReply, { ok: false }>): Error {
  return r.code === 'internal' ? new Error(r.message) : new AppError(r.code as ErrorCode, r.message);
}
