// The gallery worker (started by ./gallery-thread.ts, one per workspace): reads a model's gallery through
// its own read-only connection into SharedArrayBuffers, and ranks galleries it loaded, exact or fast, with
// the same code as the inline path (./index.ts fillGallery, ml/vector-index.ts). It keeps the latest
// gallery of each model until the workspace releases it, and holds no other state.
import { parentPort, workerData } from 'node:worker_threads';
import { openReader } from '../db/open';
import { modelVectors } from '../db/repos/vectors';
import type { ReadableDb } from '../db/types';
import { AppError } from '../errors';
import { VectorIndex } from '../ml/vector-index';
import type {
  GalleryReply,
  GalleryRequest,
  GalleryWorkerData,
  LoadRequest,
  RankRequest,
} from './gallery-protocol';
import { fillGallery, type GalleryColumns } from './index';

const data = (workerData ?? {}) as GalleryWorkerData;
let conn: { file: string; db: ReadableDb } | null = null;
const galleries = new Map<number, { gallery: number; index: VectorIndex }>();
let nextGallery = 1;

function reader(file: string): ReadableDb {
  if (conn?.file === file) return conn.db;
  conn?.db.close();
  conn = null;
  const db = openReader(file, data.nativeBinding ? { nativeBinding: data.nativeBinding } : {});
  conn = { file, db };
  return db;
}

function load(r: LoadRequest): GalleryReply {
  galleries.delete(r.modelId); // the old gallery goes before the new one is allocated
  const cols: GalleryColumns = {
    vectors: new Float32Array(new SharedArrayBuffer(r.count * r.dim * 4)),
    imageIds: new Int32Array(new SharedArrayBuffer(r.count * 4)),
    datasetIds: new Int32Array(new SharedArrayBuffer(r.count * 4)),
  };
  const n = fillGallery(modelVectors(reader(r.file), r.modelId), { name: r.modelName, dim: r.dim }, cols);
  const gallery = nextGallery++;
  galleries.set(r.modelId, { gallery, index: new VectorIndex(cols.vectors.subarray(0, n * r.dim), r.dim) });
  return {
    id: r.id,
    ok: true,
    loaded: {
      gallery,
      n,
      vectors: cols.vectors.buffer as SharedArrayBuffer,
      imageIds: cols.imageIds.buffer as SharedArrayBuffer,
      datasetIds: cols.datasetIds.buffer as SharedArrayBuffer,
    },
  };
}

function rank(r: RankRequest): GalleryReply {
  const g = galleries.get(r.modelId);
  if (!g || g.gallery !== r.gallery)
    return { id: r.id, ok: false, code: 'gone', message: `gallery ${r.gallery} is not loaded here` };
  const mask = r.mask ?? undefined;
  const hits = r.fast ? g.index.fastTopK(r.query, r.k, { mask }) : g.index.topK(r.query, r.k, { mask });
  return { id: r.id, ok: true, hits };
}

parentPort?.on('message', (r: GalleryRequest) => {
  if (r.type === 'release') {
    if (r.modelId === undefined) galleries.clear();
    else galleries.delete(r.modelId);
    return;
  }
  let reply: GalleryReply;
  try {
    reply = r.type === 'load' ? load(r) : rank(r);
  } catch (err) {
    reply =
      err instanceof AppError
        ? { id: r.id, ok: false, code: err.code, message: err.message }
        : {
            id: r.id,
            ok: false,
            code: 'internal',
            message: err instanceof Error ? err.message : String(err),
          };
  }
  parentPort?.postMessage(reply);
});
