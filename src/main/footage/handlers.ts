// The footage channels of the service façade (src/main/api/handlers.ts spreads them in).
import { resolve } from 'node:path';
import type { FootageInvokeResults } from '#shared/footage/contract';
import type { PatternPreviewRow } from '#shared/footage/types';
import type { HandlersFor } from '#shared/handlers';
import {
  cropOrigins,
  getFootageFolderRow,
  listFootageFolderRows,
  listFootageTracks,
  listTrackOrigins,
  toFootageFolder,
} from '../db/repos/footage';
import { AppError, notFound } from '../errors';
import { listVideoFiles, startFootage } from '../jobs/footage';
import { videoToolsInfo } from '../media/video';
import type { Workspace } from '../workspace';
import { localToEpochMs, previewPattern } from './cameras';
import { listDetectors, registerDetector } from './detectors';

export function footageHandlers(ws: Workspace): HandlersFor<keyof FootageInvokeResults> {
  const { db } = ws;
  return {
    'detectors:list': () => listDetectors(db),
    'detectors:register': ({ folder, name }) => registerDetector(db, folder, name),
    'footage:start': (arg) => startFootage(ws, arg),
    'footage:list': () => listFootageFolderRows(db).map((f) => toFootageFolder(db, f)),
    'footage:get': ({ id }) => {
      const f = getFootageFolderRow(db, id);
      if (!f) throw notFound(`Footage folder ${id}`);
      return toFootageFolder(db, f);
    },
    'footage:preview-pattern': async ({ folder, pattern, limit }) => {
      const files = await listVideoFiles(resolve(folder)).catch(() => [] as string[]);
      const shown = files.slice(0, limit);
      if (pattern.trim() === '') return { problems: null, rows: [], files: files.length };
      try {
        const rows = previewPattern(pattern, shown).map((m): PatternPreviewRow => {
          if (!m.ok) return m;
          const startMs =
            m.epochMs ?? (m.localStart !== null ? localToEpochMs(m.localStart, 'system') : null);
          return { ...m, startMs };
        });
        return { problems: null, rows, files: files.length };
      } catch (err) {
        if (err instanceof AppError) return { problems: err.message, rows: [], files: files.length };
        throw err;
      }
    },
    'footage:tracks': ({ folderId, cameraId, fromMs, toMs, offset, limit }) =>
      listFootageTracks(db, {
        folderId,
        limit,
        offset,
        ...(cameraId !== undefined ? { cameraId } : {}),
        ...(fromMs !== undefined ? { fromMs } : {}),
        ...(toMs !== undefined ? { toMs } : {}),
      }),
    'footage:origin': ({ imageId }) => {
      const origin = cropOrigins(db, [imageId]).get(imageId);
      if (!origin)
        throw new AppError(
          'not_found',
          `Image ${imageId} is not a footage crop (it was imported, not cut from a video).`,
        );
      return { origin, track: listTrackOrigins(db, origin.trackId) };
    },
    'video:tools': () => videoToolsInfo(),
  };
}
