// The library's channels (src/shared/library/contract.ts: library, datasets, images, import), merged
// into the service façade with every other feature's.
import type { DatasetId } from '#shared/ids';
import type { LibraryInvokeResults } from '#shared/library/contract';
import type { HandlersFor } from '#shared/handlers';
import { deleteDataset, listDatasets } from '../db/repos/datasets';
import { getImageDetail, getLibraryStats, listImages } from '../db/repos/images';
import { listJobRows } from '../db/repos/jobs';
import type { ReadableDb } from '../db/types';
import { AppError, notFound } from '../errors';
import { detectImportLayout, startImport } from '../jobs/import';
import type { Workspace } from '../workspace';

/** A dataset whose import is queued or running cannot be deleted under it: cancel the job first. */
export function assertDatasetIdle(db: ReadableDb, id: DatasetId): void {
  const busy = listJobRows(db, 500).some(
    (j) => (j.status === 'running' || j.status === 'queued') && JSON.parse(j.params).datasetId === id,
  );
  if (busy) throw new AppError('conflict', `Dataset ${id} is being imported; cancel its job first.`);
}

export function libraryHandlers(ws: Workspace): HandlersFor<keyof LibraryInvokeResults> {
  // Listing reads go through the read-only connection (ws.reader); what writes uses ws.db.
  const { db, reader } = ws;
  return {
    'library:stats': () => getLibraryStats(reader),
    'datasets:list': () => listDatasets(reader),
    'datasets:delete': ({ id }) => {
      assertDatasetIdle(db, id);
      const deleted = deleteDataset(db, id);
      ws.bus.emit('library:changed', { datasetId: id });
      return { deleted };
    },
    'images:list': ({ offset, limit, ...filter }) => listImages(reader, filter, offset, limit),
    'images:get': ({ id }) => {
      const detail = getImageDetail(reader, id);
      if (!detail) throw notFound(`Image ${id}`);
      return detail;
    },
    'import:start': (arg) => startImport(ws, arg),
    'import:detect': (arg) => detectImportLayout(arg),
  };
}
