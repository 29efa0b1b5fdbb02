// Registered person detectors, like registered CLIP models: a folder validated once (loadDetectorFolder
// lists every problem), stored with the run spec validation decided and the ONNX file's sha256, and
// checked again before each job so a changed file is refused rather than silently used.
import { join } from 'node:path';
import type { Detector } from '#shared/footage/types';
import {
  findDetectorRowByName,
  getDetectorRow,
  insertDetector,
  listDetectorRows,
  storedDetector,
  toDetector,
  type DetectorRow,
} from '../db/repos/footage';
import type { WritableDb } from '../db/types';
import { AppError } from '../errors';
import { defaultDetectorName, loadDetectorFolder, PersonDetector } from '../ml/detector';
import type { ProviderChoice } from '../ml/encoder';
import { sha256File } from '../ml/models';

export async function registerDetector(db: WritableDb, folder: string, name?: string): Promise<Detector> {
  const f = await loadDetectorFolder(folder);
  const finalName = name ?? defaultDetectorName(f);
  if (findDetectorRowByName(db, finalName))
    throw new AppError(
      'conflict',
      `A detector named "${finalName}" is registered already. Pass another name (--name), or use that one.`,
    );
  const id = insertDetector(db, {
    name: finalName,
    folder: f.dir,
    sha256: f.sha256,
    stored: { manifest: f.manifest, spec: f.spec, modelFile: f.manifest.file, notes: f.notes },
  });
  return toDetector(getDetectorRow(db, id)!);
}

export const listDetectors = (db: WritableDb): Detector[] => listDetectorRows(db).map(toDetector);

/** By id, name, or the folder's name (whole, any case), as `--model` finds CLIP models. */
export function resolveDetectorRow(db: WritableDb, idOrName: string | number): DetectorRow {
  const rows = listDetectorRows(db);
  const text = String(idOrName);
  const hit =
    (/^\d+$/.test(text) ? rows.find((r) => r.id === Number(text)) : undefined) ??
    rows.find((r) => r.name === text) ??
    rows.find((r) => r.name.toLowerCase() === text.toLowerCase()) ??
    rows.find((r) => r.name.toLowerCase().split(' ')[0] === text.toLowerCase()) ??
    rows.find((r) => (r.folder.split(/[/\\]/).at(-1) ?? '').toLowerCase() === text.toLowerCase());
  if (!hit) {
    const known = rows.map((r) => `#${r.id} ${r.name}`).join(', ');
    throw new AppError(
      'not_found',
      `No detector "${text}" is registered${known ? ` (registered: ${known})` : ''}. ` +
        'Register one with `ctgi detectors --register DIR`.',
    );
  }
  return hit;
}

/** Opens a registered detector in the encoder process, after checking its file is the one registered. */
export async function openRegisteredDetector(
  db: WritableDb,
  id: number,
  opts: { providers?: ProviderChoice; batchSize?: number } = {},
): Promise<{ detector: PersonDetector; row: DetectorRow }> {
  const row = getDetectorRow(db, id);
  if (!row)
    throw new AppError(
      'not_found',
      `Detector ${id} is not registered (deleted?). Register it again: ctgi detectors --register DIR.`,
    );
  const stored = storedDetector(row);
  const modelPath = join(row.folder, stored.modelFile);
  const sha = await sha256File(modelPath).catch((err: unknown) => {
    throw new AppError(
      'not_found',
      `Detector "${row.name}": cannot read ${modelPath} (${String(err)}). Restore the folder or register it again.`,
    );
  });
  if (sha !== row.sha256)
    throw new AppError(
      'conflict',
      `Detector "${row.name}": ${modelPath} changed since it was registered. Register it again under a new name.`,
    );
  const detector = await PersonDetector.open({
    modelPath,
    ...(opts.providers ? { providers: opts.providers } : {}),
    ...(opts.batchSize ? { batchSize: opts.batchSize } : {}),
  });
  detector.bind(stored.spec);
  return { detector, row };
}
