// What one open workspace owns besides its database, event bus and job runner: the LLM runtime (limiters,
// replica pools, calls in flight, learned request fields), the key store it reads API keys from, the media
// server's caches, the warm text encoders and the vector caches (in-memory galleries, LanceDB tables). `openWorkspace` builds one and
// `Workspace.close` disposes it, so two workspaces open in one process share nothing and a closed one
// leaves no timer, child process or open table behind.
import type { ReadableDb } from './db/types';
import { unavailableKeyStore, type KeyStore } from './llm/keys';
import { LlmRuntime } from './llm/runtime';
import { MediaCaches } from './media/caches';
import { TextEncoderPool } from './ml/encoder-pool';
import { GalleryThread } from './search/gallery-thread';
import { VectorCaches } from './search/vector-caches';

export interface WorkspaceServices {
  /** The LLM clients' shared state: one limiter and one replica pool per endpoint, calls in flight. */
  readonly llm: LlmRuntime;
  /**
   * Where `safe-storage` API keys are kept: the OS keychain's store in the desktop app, none in the CLI and
   * the server (keys then come from `CTGI_KEY_*` variables or key files). Set when the workspace is opened.
   */
  readonly keys: KeyStore;
  /** FFmpeg located once, thumbnails being made now. */
  readonly media: MediaCaches;
  /** The warm text towers (one encoder process per model). */
  readonly encoders: TextEncoderPool;
  /**
   * The in-memory vector index and the open LanceDB table of each model, and the gallery worker that loads
   * and ranks large galleries off this thread (search/vector-caches.ts).
   */
  readonly vectors: VectorCaches;
  /**
   * Disposes everything, in this order: the LLM runtime first (its calls in flight are cancelled and its
   * replica probes stop, so nothing new reaches a server), then the media caches (thumbnails being written
   * finish), then the text encoders (their processes exit), then the vector caches (galleries dropped, the gallery worker
   * terminated, LanceDB tables closed). The key store is not
   * the workspace's to close (the desktop app's store outlives a workspace). The database is closed after
   * this, by the workspace. The job runner is closed before it, so no job is still using a service.
   */
  close(): Promise<void>;
}

export interface ServicesOptions {
  keys?: KeyStore;
  /** better-sqlite3's addon for this runtime (the Electron shell's), for connections the services open. */
  nativeBinding?: string;
}

/** `reader`: the workspace's read connection (searches and galleries only read). */
export function createServices(reader: ReadableDb, opts: ServicesOptions = {}): WorkspaceServices {
  const llm = new LlmRuntime();
  const media = new MediaCaches();
  const encoders = new TextEncoderPool();
  const vectors = new VectorCaches(reader, {
    thread: new GalleryThread(opts.nativeBinding ? { nativeBinding: opts.nativeBinding } : {}),
  });
  let closing: Promise<void> | null = null;
  return {
    llm,
    keys: opts.keys ?? unavailableKeyStore,
    media,
    encoders,
    vectors,
    close() {
      closing ??= (async () => {
        llm.close();
        await media.close();
        await encoders.close();
        await vectors.close();
      })();
      return closing;
    },
  };
}
