// Messages between a workspace's gallery thread (./gallery-thread.ts, on the thread that serves requests)
// and its worker (./gallery-worker.ts). Galleries travel as SharedArrayBuffers: the worker fills them, both
// threads read the same memory, nothing is copied.

export interface GalleryWorkerData {
  /** better-sqlite3's addon for this runtime (the Electron shell's); absent: node_modules' build. */
  nativeBinding?: string;
}

/** Read one model's vectors from the workspace file into shared memory (at most `count` rows). */
export interface LoadRequest {
  type: 'load';
  id: number;
  file: string;
  modelId: number;
  modelName: string;
  dim: number;
  count: number;
}

/** Top `k` of the gallery loaded for `modelId` as `gallery`: exact, or the 1-bit fast path. */
export interface RankRequest {
  type: 'rank';
  id: number;
  modelId: number;
  gallery: number;
  query: Float32Array;
  k: number;
  fast: boolean;
  mask: Uint8Array | null;
}

/** Forget a model's gallery (all models' when absent): the workspace dropped it from its cache. */
export interface ReleaseRequest {
  type: 'release';
  modelId?: number;
}

export type GalleryRequest = LoadRequest | RankRequest | ReleaseRequest;

export interface LoadedGallery {
  /** Names this load in later rank requests: the worker ranks only the gallery it was asked about. */
  gallery: number;
  /** Rows read: `count`, or fewer when rows were deleted meanwhile. */
  n: number;
  vectors: SharedArrayBuffer;
  imageIds: SharedArrayBuffer;
  datasetIds: SharedArrayBuffer;
}

export type GalleryReply =
  | { id: number; ok: true; loaded: LoadedGallery }
  | { id: number; ok: true; hits: { index: number; score: number }[] }
  | { id: number; ok: false; code: string; message: string };
