// Footage tables (migration 011): detectors, footage folders, cameras, videos, per-video job cursors,
// tracks and crops. Crops are library images (images table); the rows here say where each came from.
import type {
  CropOrigin,
  Detector,
  DetectorContractName,
  FootageCameraSummary,
  FootageFolder,
  FootageTrack,
  FootageVideo,
  StartSourceName,
  VideoStatus,
} from '#shared/footage/types';
import { asDatasetId, asImageId, type DatasetId, type IdentityId, type ImageId } from '#shared/ids';
import type { DetectorManifest, DetectorRunSpec } from '../../ml/detector/spec';
import { stmt } from '../statements';
import type { ReadableDb, WritableDb } from '../types';

// ---- detectors ----

export interface DetectorRow {
  id: number;
  name: string;
  folder: string;
  manifest: string;
  sha256: string;
  contract: DetectorContractName;
  input_height: number;
  input_width: number;
  created_at: number;
}

/** What `manifest` holds: the validated manifest, the run spec validation decided, and its notes. */
export interface StoredDetector {
  manifest: DetectorManifest;
  spec: DetectorRunSpec;
  modelFile: string;
  notes: string[];
}

export function insertDetector(
  db: WritableDb,
  d: { name: string; folder: string; sha256: string; stored: StoredDetector },
): number {
  const m = d.stored.manifest;
  const r = stmt(
    db,
    `INSERT INTO detectors (name, folder, manifest, sha256, contract, input_height, input_width, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    d.name,
    d.folder,
    JSON.stringify(d.stored),
    d.sha256,
    m.contract,
    m.inputSize[0],
    m.inputSize[1],
    Date.now(),
  );
  return Number(r.lastInsertRowid);
}

export function getDetectorRow(db: ReadableDb, id: number): DetectorRow | undefined {
  return stmt(db, `SELECT * FROM detectors WHERE id = ?`).get(id) as DetectorRow | undefined;
}

export function findDetectorRowByName(db: ReadableDb, name: string): DetectorRow | undefined {
  return stmt(db, `SELECT * FROM detectors WHERE name = ?`).get(name) as DetectorRow | undefined;
}

export function listDetectorRows(db: ReadableDb): DetectorRow[] {
  return stmt(db, `SELECT * FROM detectors ORDER BY id`).all() as DetectorRow[];
}

export const storedDetector = (r: DetectorRow): StoredDetector => JSON.parse(r.manifest) as StoredDetector;

export function toDetector(r: DetectorRow): Detector {
  const s = storedDetector(r);
  return {
    id: r.id,
    name: r.name,
    folder: r.folder,
    contract: r.contract,
    inputSize: [r.input_height, r.input_width],
    personClass: s.manifest.personClass,
    scoreThreshold: s.spec.scoreThreshold,
    sha256: r.sha256,
    notes: s.notes,
    createdAt: r.created_at,
  };
}

// ---- footage folders, cameras, videos ----

export interface FootageFolderRow {
  id: number;
  root: string;
  dataset_id: number;
  pattern: string | null;
  utc_offset_minutes: number | null;
  created_at: number;
}

export function insertFootageFolder(
  db: WritableDb,
  f: { root: string; datasetId: DatasetId; pattern: string | null; utcOffsetMinutes: number | null },
): number {
  const r = stmt(
    db,
    `INSERT INTO footage_folders (root, dataset_id, pattern, utc_offset_minutes, created_at) VALUES (?, ?, ?, ?, ?)`,
  ).run(f.root, f.datasetId, f.pattern, f.utcOffsetMinutes, Date.now());
  return Number(r.lastInsertRowid);
}

export function updateFootageFolder(
  db: WritableDb,
  id: number,
  f: { pattern: string | null; utcOffsetMinutes: number | null },
): void {
  stmt(db, `UPDATE footage_folders SET pattern = ?, utc_offset_minutes = ? WHERE id = ?`).run(
    f.pattern,
    f.utcOffsetMinutes,
    id,
  );
}

export function getFootageFolderRow(db: ReadableDb, id: number): FootageFolderRow | undefined {
  return stmt(db, `SELECT * FROM footage_folders WHERE id = ?`).get(id) as FootageFolderRow | undefined;
}

export function findFootageFolderByRoot(db: ReadableDb, root: string): FootageFolderRow | undefined {
  return stmt(db, `SELECT * FROM footage_folders WHERE root = ?`).get(root) as FootageFolderRow | undefined;
}

export function listFootageFolderRows(db: ReadableDb): FootageFolderRow[] {
  return stmt(db, `SELECT * FROM footage_folders ORDER BY id`).all() as FootageFolderRow[];
}

export function upsertCamera(
  db: WritableDb,
  folderId: number,
  name: string,
  source: 'file-name' | 'folder',
): number {
  stmt(db, `INSERT OR IGNORE INTO cameras (folder_id, name, source) VALUES (?, ?, ?)`).run(
    folderId,
    name,
    source,
  );
  return (
    stmt(db, `SELECT id FROM cameras WHERE folder_id = ? AND name = ?`).get(folderId, name) as {
      id: number;
    }
  ).id;
}

export interface VideoRow {
  id: number;
  folder_id: number;
  camera_id: number;
  rel_path: string;
  size: number;
  mtime_ms: number;
  probe: string | null;
  duration: number | null;
  start_ms: number | null;
  start_source: StartSourceName | null;
  start_from: string | null;
  status: VideoStatus;
  error: string | null;
  created_at: number;
}

export function findVideoByPath(db: ReadableDb, folderId: number, relPath: string): VideoRow | undefined {
  return stmt(db, `SELECT * FROM videos WHERE folder_id = ? AND rel_path = ?`).get(folderId, relPath) as
    VideoRow | undefined;
}

export function getVideoRow(db: ReadableDb, id: number): VideoRow | undefined {
  return stmt(db, `SELECT * FROM videos WHERE id = ?`).get(id) as VideoRow | undefined;
}

export function insertVideo(
  db: WritableDb,
  v: { folderId: number; cameraId: number; relPath: string; size: number; mtimeMs: number },
): number {
  const r = stmt(
    db,
    `INSERT INTO videos (folder_id, camera_id, rel_path, size, mtime_ms, status, created_at)
       VALUES (?, ?, ?, ?, ?, 'pending', ?)`,
  ).run(v.folderId, v.cameraId, v.relPath, v.size, v.mtimeMs, Date.now());
  return Number(r.lastInsertRowid);
}

/**
 * A file replaced since it was listed: its probe, any progress over the old bytes and what that progress
 * wrote (tracks, their identities, crop images) are forgotten; call inside a transaction.
 */
export function resetVideo(db: WritableDb, id: number, size: number, mtimeMs: number): void {
  stmt(db, `DELETE FROM images WHERE id IN (SELECT image_id FROM crops WHERE video_id = ?)`).run(id);
  stmt(
    db,
    `DELETE FROM identities WHERE id IN (SELECT identity_id FROM tracks WHERE video_id = ? AND identity_id IS NOT NULL)`,
  ).run(id);
  stmt(db, `DELETE FROM tracks WHERE video_id = ?`).run(id);
  stmt(
    db,
    `UPDATE videos SET size = ?, mtime_ms = ?, probe = NULL, duration = NULL, start_ms = NULL, start_source = NULL,
       start_from = NULL, status = 'pending', error = NULL WHERE id = ?`,
  ).run(size, mtimeMs, id);
  stmt(db, `DELETE FROM footage_cursors WHERE video_id = ?`).run(id);
}

export function updateVideoProbe(
  db: WritableDb,
  id: number,
  p: {
    probe: unknown;
    duration: number | null;
    startMs: number | null;
    startSource: StartSourceName | null;
    startFrom: string | null;
  },
): void {
  stmt(
    db,
    `UPDATE videos SET probe = ?, duration = ?, start_ms = ?, start_source = ?, start_from = ? WHERE id = ?`,
  ).run(JSON.stringify(p.probe), p.duration, p.startMs, p.startSource, p.startFrom, id);
}

export function updateVideoStatus(
  db: WritableDb,
  id: number,
  status: VideoStatus,
  error: string | null,
): void {
  stmt(db, `UPDATE videos SET status = ?, error = ? WHERE id = ?`).run(status, error, id);
}

export function listVideoRows(db: ReadableDb, folderId: number): VideoRow[] {
  return stmt(
    db,
    `SELECT v.* FROM videos v JOIN cameras c ON c.id = v.camera_id
       WHERE v.folder_id = ? ORDER BY c.name, v.start_ms, v.rel_path`,
  ).all(folderId) as VideoRow[];
}

export function cameraName(db: ReadableDb, cameraId: number): string {
  return (stmt(db, `SELECT name FROM cameras WHERE id = ?`).get(cameraId) as { name: string }).name;
}

// ---- cursors ----

export interface CursorRow {
  video_id: number;
  detector_id: number | null;
  fps: number;
  seconds: number;
  next_index: number;
  snapshot: Buffer | null;
  updated_at: number;
}

export function getCursor(db: ReadableDb, videoId: number): CursorRow | undefined {
  return stmt(db, `SELECT * FROM footage_cursors WHERE video_id = ?`).get(videoId) as CursorRow | undefined;
}

export function upsertCursor(
  db: WritableDb,
  c: {
    videoId: number;
    detectorId: number;
    fps: number;
    seconds: number;
    nextIndex: number;
    snapshot: Buffer | null;
  },
): void {
  stmt(
    db,
    `INSERT INTO footage_cursors (video_id, detector_id, fps, seconds, next_index, snapshot, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (video_id) DO UPDATE SET detector_id = excluded.detector_id, fps = excluded.fps,
       seconds = excluded.seconds, next_index = excluded.next_index, snapshot = excluded.snapshot,
       updated_at = excluded.updated_at`,
  ).run(c.videoId, c.detectorId, c.fps, c.seconds, c.nextIndex, c.snapshot, Date.now());
}

// ---- tracks and crops ----

export function insertTrack(
  db: WritableDb,
  t: {
    videoId: number;
    cameraId: number;
    trackerId: number;
    identityId: IdentityId | null;
    firstTime: number;
    lastTime: number;
    firstMs: number | null;
    lastMs: number | null;
    observations: number;
  },
): number {
  const r = stmt(
    db,
    `INSERT INTO tracks (video_id, camera_id, tracker_id, identity_id, first_time, last_time, first_ms, last_ms,
         observations) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    t.videoId,
    t.cameraId,
    t.trackerId,
    t.identityId,
    t.firstTime,
    t.lastTime,
    t.firstMs,
    t.lastMs,
    t.observations,
  );
  return Number(r.lastInsertRowid);
}

export function insertCrop(
  db: WritableDb,
  c: {
    imageId: ImageId;
    trackId: number;
    videoId: number;
    frameTime: number;
    framePts: number;
    timeMs: number | null;
    box: [number, number, number, number];
    score: number;
  },
): void {
  stmt(
    db,
    `INSERT INTO crops (image_id, track_id, video_id, frame_time, frame_pts, time_ms, x1, y1, x2, y2, score)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    c.imageId,
    c.trackId,
    c.videoId,
    c.frameTime,
    c.framePts,
    c.timeMs,
    c.box[0],
    c.box[1],
    c.box[2],
    c.box[3],
    c.score,
  );
}

interface ProbeShape {
  video?: { width?: number; height?: number; avgFps?: number | null; codec?: string };
}

function toVideo(r: VideoRow & { camera: string; processed: number | null; tracks: number }): FootageVideo {
  const p = r.probe ? (JSON.parse(r.probe) as ProbeShape) : null;
  return {
    id: r.id,
    cameraId: r.camera_id,
    camera: r.camera,
    relPath: r.rel_path,
    size: r.size,
    durationSeconds: r.duration,
    width: p?.video?.width ?? null,
    height: p?.video?.height ?? null,
    fps: p?.video?.avgFps ?? null,
    codec: p?.video?.codec ?? null,
    startMs: r.start_ms,
    startSource: r.start_source,
    startFrom: r.start_from,
    status: r.status,
    error: r.error,
    processedSeconds: r.status === 'done' ? (r.duration ?? r.processed ?? 0) : (r.processed ?? 0),
    tracks: r.tracks,
  };
}

export function listFootageVideos(db: ReadableDb, folderId: number): FootageVideo[] {
  const rows = stmt(
    db,
    `SELECT v.*, c.name AS camera, fc.seconds AS processed,
         (SELECT count(*) FROM tracks t WHERE t.video_id = v.id) AS tracks
       FROM videos v JOIN cameras c ON c.id = v.camera_id LEFT JOIN footage_cursors fc ON fc.video_id = v.id
       WHERE v.folder_id = ? ORDER BY c.name, v.start_ms, v.rel_path`,
  ).all(folderId) as (VideoRow & { camera: string; processed: number | null; tracks: number })[];
  return rows.map(toVideo);
}

export function toFootageFolder(db: ReadableDb, f: FootageFolderRow): FootageFolder {
  const videos = listFootageVideos(db, f.id);
  const cams = stmt(
    db,
    `SELECT c.id, c.name, c.source,
         (SELECT count(*) FROM tracks t WHERE t.camera_id = c.id) AS tracks,
         (SELECT count(*) FROM crops k JOIN tracks t ON t.id = k.track_id WHERE t.camera_id = c.id) AS crops
       FROM cameras c WHERE c.folder_id = ? ORDER BY c.name`,
  ).all(f.id) as {
    id: number;
    name: string;
    source: 'file-name' | 'folder';
    tracks: number;
    crops: number;
  }[];
  const cameras: FootageCameraSummary[] = cams.map((c) => {
    const mine = videos.filter((v) => v.cameraId === c.id);
    const starts = mine.flatMap((v) => (v.startMs === null ? [] : [v.startMs]));
    const ends = mine.flatMap((v) =>
      v.startMs === null ? [] : [v.startMs + Math.round((v.durationSeconds ?? 0) * 1000)],
    );
    return {
      id: c.id,
      name: c.name,
      source: c.source,
      videos: mine.length,
      seconds: mine.reduce((s, v) => s + (v.durationSeconds ?? 0), 0),
      processedSeconds: mine.reduce((s, v) => s + v.processedSeconds, 0),
      tracks: c.tracks,
      crops: c.crops,
      firstMs: starts.length ? Math.min(...starts) : null,
      lastMs: ends.length ? Math.max(...ends) : null,
    };
  });
  return {
    id: f.id,
    root: f.root,
    datasetId: asDatasetId(f.dataset_id),
    pattern: f.pattern,
    utcOffsetMinutes: f.utc_offset_minutes,
    cameras,
    videos,
  };
}

export function listFootageTracks(
  db: ReadableDb,
  f: { folderId: number; cameraId?: number; fromMs?: number; toMs?: number; limit: number; offset: number },
): FootageTrack[] {
  const where = ['c.folder_id = ?'];
  const args: (number | string)[] = [f.folderId];
  if (f.cameraId !== undefined) {
    where.push('t.camera_id = ?');
    args.push(f.cameraId);
  }
  if (f.fromMs !== undefined) {
    where.push('t.last_ms >= ?');
    args.push(f.fromMs);
  }
  if (f.toMs !== undefined) {
    where.push('t.first_ms <= ?');
    args.push(f.toMs);
  }
  const rows = stmt(
    db,
    `SELECT t.*, c.name AS camera,
         (SELECT group_concat(k.image_id) FROM (SELECT image_id FROM crops WHERE track_id = t.id ORDER BY frame_time) k) AS crop_ids
       FROM tracks t JOIN cameras c ON c.id = t.camera_id
       WHERE ${where.join(' AND ')} ORDER BY c.name, t.first_ms, t.video_id, t.first_time LIMIT ? OFFSET ?`,
  ).all(...args, f.limit, f.offset) as {
    id: number;
    camera_id: number;
    camera: string;
    video_id: number;
    first_time: number;
    last_time: number;
    first_ms: number | null;
    last_ms: number | null;
    observations: number;
    crop_ids: string | null;
  }[];
  return rows.map((r) => ({
    id: r.id,
    cameraId: r.camera_id,
    camera: r.camera,
    videoId: r.video_id,
    firstTime: r.first_time,
    lastTime: r.last_time,
    firstMs: r.first_ms,
    lastMs: r.last_ms,
    observations: r.observations,
    crops: r.crop_ids ? r.crop_ids.split(',').map((s) => asImageId(Number(s))) : [],
  }));
}

interface OriginRow {
  image_id: number;
  track_id: number;
  video_id: number;
  camera_id: number;
  camera: string;
  folder_id: number;
  frame_time: number;
  frame_pts: number;
  time_ms: number | null;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
  root: string;
  rel_path: string;
  probe: string | null;
}

const ORIGIN_SELECT = `SELECT k.*, t.camera_id, c.name AS camera, v.folder_id, f.root, v.rel_path, v.probe
  FROM crops k JOIN tracks t ON t.id = k.track_id JOIN cameras c ON c.id = t.camera_id
  JOIN videos v ON v.id = k.video_id JOIN footage_folders f ON f.id = v.folder_id`;

function toOrigin(r: OriginRow): CropOrigin {
  const p = r.probe ? (JSON.parse(r.probe) as ProbeShape) : null;
  return {
    imageId: asImageId(r.image_id),
    trackId: r.track_id,
    videoId: r.video_id,
    cameraId: r.camera_id,
    camera: r.camera,
    folderId: r.folder_id,
    frameTime: r.frame_time,
    framePts: r.frame_pts,
    timeMs: r.time_ms,
    box: [r.x1, r.y1, r.x2, r.y2],
    score: r.score,
    videoPath: `${r.root.replace(/[/\\]$/, '')}/${r.rel_path}`,
    frameWidth: p?.video?.width ?? null,
    frameHeight: p?.video?.height ?? null,
  };
}

/** Where each of these images came from, for those that are footage crops (others are left out). */
export function cropOrigins(db: ReadableDb, ids: readonly ImageId[]): Map<ImageId, CropOrigin> {
  const out = new Map<ImageId, CropOrigin>();
  const stmt = db.prepare(`${ORIGIN_SELECT} WHERE k.image_id = ?`);
  for (const id of ids) {
    const r = stmt.get(id) as OriginRow | undefined;
    if (r) out.set(id, toOrigin(r));
  }
  return out;
}

/** Every crop of a track, in time order (the frame viewer steps through them). */
export function listTrackOrigins(db: ReadableDb, trackId: number): CropOrigin[] {
  return (
    stmt(db, `${ORIGIN_SELECT} WHERE k.track_id = ? ORDER BY k.frame_time`).all(trackId) as OriginRow[]
  ).map(toOrigin);
}

/** Whether images of a dataset are footage crops that satisfy a camera/time filter; see search. */
export function cropImageIdsMatching(
  db: ReadableDb,
  f: { cameras?: readonly string[]; fromMs?: number; toMs?: number },
): Set<number> {
  const where: string[] = [];
  const args: (number | string)[] = [];
  if (f.cameras && f.cameras.length) {
    where.push(`c.name IN (${f.cameras.map(() => '?').join(', ')})`);
    args.push(...f.cameras);
  }
  if (f.fromMs !== undefined) {
    where.push('k.time_ms >= ?');
    args.push(f.fromMs);
  }
  if (f.toMs !== undefined) {
    where.push('k.time_ms <= ?');
    args.push(f.toMs);
  }
  const rows = stmt(
    db,
    `SELECT k.image_id FROM crops k JOIN tracks t ON t.id = k.track_id JOIN cameras c ON c.id = t.camera_id
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`,
  ).all(...args) as { image_id: number }[];
  return new Set(rows.map((r) => r.image_id));
}

/** Videos a stopped job left in processing go back to pending: the next run starts them over. */
export function resetProcessingVideos(db: WritableDb, folderId: number): void {
  stmt(db, `UPDATE videos SET status = 'pending' WHERE folder_id = ? AND status = 'processing'`).run(
    folderId,
  );
}

export interface TrackSpan {
  first_time: number;
  last_time: number;
  first_ms: number | null;
  last_ms: number | null;
}

/** When a track was first and last seen (camera clock, and video time where known). */
export const getTrackSpan = (db: ReadableDb, trackId: number): TrackSpan | undefined =>
  stmt(db, `SELECT first_time, last_time, first_ms, last_ms FROM tracks WHERE id = ?`).get(trackId) as
    TrackSpan | undefined;

// ---- crop views (migration 015) ----

/** The detector's boxes of those images that are footage crops. */
export function cropBoxes(
  db: ReadableDb,
  imageIds: readonly number[],
): Map<number, { x1: number; y1: number; x2: number; y2: number }> {
  const out = new Map<number, { x1: number; y1: number; x2: number; y2: number }>();
  const q = stmt(db, `SELECT x1, y1, x2, y2 FROM crops WHERE image_id = ?`);
  for (const id of imageIds) {
    const r = q.get(id) as { x1: number; y1: number; x2: number; y2: number } | undefined;
    if (r) out.set(id, r);
  }
  return out;
}

/** Stores one view's vector of a crop (L2-normalised float32). */
export function upsertCropViewVector(
  db: WritableDb,
  modelId: number,
  imageId: number,
  view: number,
  vector: Float32Array,
): void {
  stmt(
    db,
    `INSERT INTO crop_view_embeddings (model_id, image_id, view, vector) VALUES (?, ?, ?, ?)
     ON CONFLICT (model_id, image_id, view) DO UPDATE SET vector = excluded.vector`,
  ).run(modelId, imageId, view, Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength));
}
