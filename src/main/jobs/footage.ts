// The footage job: one folder of recordings → cameras, videos, tracks and crops (library images). It lists
// the folder (new recordings are picked up on every run), probes each file it has not finished (a bad file
// is a per-file issue and the job goes on), then runs each video through processVideo() with one FFmpeg
// from the video's cursor to its end, taking a checkpoint in stream every `checkpointSeconds` of video
// (between two frames, the decoder left running). Each checkpoint is one transaction that writes the tracks
// finished since the last one, their crops (JPEG files written first, content-addressed, so writing one
// twice writes the same file) and the video's cursor: how far it got, the tracker's frame number, and the
// tracker + crop keeper snapshot. A crash or a pause loses at most the stretch since the last checkpoint,
// which the next run reads again (seeking to the cursor) from the same sample bin with the same tracker
// state: no crop is written twice and no track is split by a restart. Progress is in seconds of video
// (per camera in the message).
import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import sharp from 'sharp';
import { z } from 'zod';
import { isJobFinished } from '#shared/jobs/types';
import type { InvokeResults, ParsedArg } from '#shared/contract';
import { asDatasetId, asJobId, type DatasetId, type JobId } from '#shared/ids';
import { getDatasetRow, insertDataset, updateDatasetStatus } from '../db/repos/datasets';
import {
  cameraName,
  findFootageFolderByRoot,
  findVideoByPath,
  getCursor,
  getFootageFolderRow,
  getVideoRow,
  insertCrop,
  insertFootageFolder,
  insertTrack,
  insertVideo,
  listFootageVideos,
  listVideoRows,
  resetProcessingVideos,
  resetVideo,
  updateFootageFolder,
  updateVideoProbe,
  updateVideoStatus,
  upsertCamera,
  upsertCursor,
  type FootageFolderRow,
  type VideoRow,
} from '../db/repos/footage';
import { findImageByPath, insertImage, upsertIdentity } from '../db/repos/images';
import { countJobIssues, getJobRow, listJobRowsByStatus } from '../db/repos/jobs';
import type { WritableDb } from '../db/types';
import { AppError, notFound } from '../errors';
import {
  ByteTracker,
  cameraOf,
  compilePattern,
  CropKeeper,
  DEFAULT_CROP_OPTIONS,
  matchFileName,
  processVideo,
  recordingStart,
  type CompiledPattern,
  type CropKeeperSnapshot,
  type TrackResult,
  type TrackerSnapshot,
  type UtcOffset,
} from '../footage';
import { openRegisteredDetector, resolveDetectorRow } from '../footage/detectors';
import {
  DEFAULT_SAMPLE_FPS,
  chosenVideoTools,
  checkFile,
  probeVideo,
  VideoError,
  type VideoInfo,
  type VideoIssue,
  type VideoTools,
} from '../media/video';
import type { Workspace } from '../workspace';
import { isOrphaned, throwIfAborted, type JobContext, type JobDefinition } from './runner';

/** What counts as a recording when a folder is listed (by extension, any case). */
export const VIDEO_EXTENSIONS = [
  'mp4',
  'm4v',
  'mov',
  'mkv',
  'webm',
  'avi',
  'ts',
  'mts',
  'm2ts',
  'mpg',
  'mpeg',
  'flv',
  'wmv',
  '3gp',
] as const;
const VIDEO_EXT = new RegExp(`\\.(${VIDEO_EXTENSIONS.join('|')})$`, 'i');
/** Where crops go inside the workspace's media folder (the footage dataset's root). */
const CROPS_DIR = 'crops';
const JPEG_QUALITY = 92;
/** Folders deeper than this are not listed (a link loop, a mount of the whole disk). */
const MAX_DEPTH = 8;

export const footageParams = z.object({
  folderId: z.number().int().positive(),
  detectorId: z.number().int().positive(),
  fps: z.number().gt(0).max(30).default(DEFAULT_SAMPLE_FPS),
  /** Seconds of video between two commits of tracks, crops and cursor (a crash loses at most this). */
  checkpointSeconds: z.number().min(1).max(3600).default(10),
  /** Frames per detector call. */
  batch: z.number().int().min(1).max(64).default(4),
  /** Crops kept per track: the best few spread over its time, or every sampled one ('all'). */
  cropsPerTrack: z.union([z.number().int().min(1).max(100), z.literal('all')]).default(3),
  /** The folder, for the title only. */
  root: z.string().optional(),
  /** The crops' dataset: deleting it is refused while the job is queued or running (datasets:delete). */
  datasetId: z.number().int().positive().optional(),
});
export type FootageParams = z.infer<typeof footageParams>;

export interface FootageState {
  /** The videos this job covers, fixed at its first run (new files wait for the next run). */
  videos: number[];
}

/** The v8-serialised resume point of a video that is part way through. */
interface Snapshot {
  tracker: TrackerSnapshot;
  keeper: CropKeeperSnapshot;
}

const posix = (p: string): string => p.split(sep).join('/');

/** Video files under `root`, relative with / between levels, sorted; hidden files and folders skipped. */
export async function listVideoFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (depth < MAX_DEPTH) await walk(p, depth + 1);
      } else if ((e.isFile() || e.isSymbolicLink()) && VIDEO_EXT.test(e.name)) {
        out.push(posix(relative(root, p)));
      }
    }
  };
  await walk(root, 0);
  return out.sort();
}

const offsetOf = (f: FootageFolderRow): UtcOffset => f.utc_offset_minutes ?? 'system';
const patternOf = (f: FootageFolderRow): CompiledPattern | null =>
  f.pattern ? compilePattern(f.pattern) : null;

/** Lists the folder into the videos table; returns the videos this run covers. */
async function scan(
  ctx: JobContext<FootageParams, FootageState>,
  folder: FootageFolderRow,
): Promise<number[]> {
  const { db } = ctx;
  const pattern = patternOf(folder);
  const files = await listVideoFiles(folder.root);
  const seen = await Promise.all(
    files.map(async (rel) => {
      try {
        const s = await stat(join(folder.root, rel));
        return { rel, size: s.size, mtimeMs: Math.floor(s.mtimeMs) };
      } catch {
        return { rel, size: 0, mtimeMs: 0 };
      }
    }),
  );
  db.transaction(() => {
    for (const f of seen) {
      const known = findVideoByPath(db, folder.id, f.rel);
      if (!known) {
        const match = pattern ? matchFileName(pattern, basename(f.rel)) : null;
        const cam = cameraOf(folder.root, join(folder.root, f.rel), match);
        if (match && !match.ok)
          ctx.issue({
            severity: 'warning',
            item: f.rel,
            message: `does not match the camera pattern "${folder.pattern}" (${match.reason}); its camera is its folder, "${cam.name}", and its start comes from the container.`,
          });
        const cameraId = upsertCamera(db, folder.id, cam.name, cam.source);
        insertVideo(db, {
          folderId: folder.id,
          cameraId,
          relPath: f.rel,
          size: f.size,
          mtimeMs: f.mtimeMs,
        });
      } else if (known.size !== f.size || known.mtime_ms !== f.mtimeMs) {
        if (known.status === 'done')
          ctx.issue({
            severity: 'warning',
            item: f.rel,
            message:
              'changed since it was processed (size or time); its tracks and crops stay as they were. ' +
              'A recording that is still being written is processed once it is complete: give it a new name.',
          });
        else resetVideo(db, known.id, f.size, f.mtimeMs);
      } else if (known.status === 'failed') {
        updateVideoStatus(db, known.id, 'pending', null);
      }
    }
  })();
  return listVideoRows(db, folder.id)
    .filter((v) => v.status !== 'done')
    .map((v) => v.id);
}

/** Probes a video (once), reads its wall-clock start; a bad file becomes a per-file issue. */
async function probeOne(
  ctx: JobContext<FootageParams, FootageState>,
  tools: VideoTools,
  folder: FootageFolderRow,
  v: VideoRow,
): Promise<VideoInfo | null> {
  const path = join(folder.root, v.rel_path);
  if (v.probe) return JSON.parse(v.probe) as VideoInfo;
  try {
    const info = await probeVideo(tools, path);
    const pattern = patternOf(folder);
    const match = pattern ? matchFileName(pattern, basename(v.rel_path)) : null;
    let start = null;
    try {
      start = recordingStart({ match, creationTime: info.creationTime, offset: offsetOf(folder) });
    } catch {
      start = null;
    }
    ctx.db.transaction(() => {
      updateVideoProbe(ctx.db, v.id, {
        probe: info,
        duration: info.durationSeconds,
        startMs: start?.epochMs ?? null,
        startSource: start?.source ?? null,
        startFrom: start?.from ?? null,
      });
      for (const i of info.issues)
        ctx.issue({ severity: 'warning', item: v.rel_path, message: issueText(i) });
      if (!start)
        ctx.issue({
          severity: 'warning',
          item: v.rel_path,
          message:
            'has no wall-clock start (not in its name, nor in the container): its crops carry video times only. ' +
            'Set a camera pattern that reads the time from the name.',
        });
    })();
    return info;
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    failVideo(ctx, v, err);
    return null;
  }
}

const issueText = (i: VideoIssue): string =>
  i.ffmpegSaid ? `${i.message} FFmpeg said: ${i.ffmpegSaid}` : i.message;

function failVideo(ctx: JobContext<FootageParams, FootageState>, v: VideoRow, err: unknown): void {
  if (!(err instanceof VideoError) && !(err instanceof AppError)) throw err;
  const problem = err instanceof VideoError ? `${err.problem}: ` : '';
  ctx.db.transaction(() => {
    updateVideoStatus(ctx.db, v.id, 'failed', err.message);
    ctx.issue({ severity: 'error', item: v.rel_path, message: `${problem}${err.message}` });
  })();
}

interface WrittenCrop {
  relPath: string;
  sha256: string;
  bytes: number;
  width: number;
  height: number;
}

/** Encodes a crop as JPEG and stores it under its hash (the same crop always lands on the same file). */
async function writeCrop(
  mediaRoot: string,
  rgb: Buffer,
  width: number,
  height: number,
): Promise<WrittenCrop> {
  const data = await sharp(rgb, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: JPEG_QUALITY })
    .toBuffer();
  const sha256 = createHash('sha256').update(data).digest('hex');
  const relPath = `${CROPS_DIR}/${sha256.slice(0, 2)}/${sha256}.jpg`;
  const file = join(mediaRoot, relPath);
  if (!existsSync(file)) {
    await mkdir(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, data);
    await rename(tmp, file);
  }
  return { relPath, sha256, bytes: data.length, width, height };
}

/** Writes finished tracks with their crops; inside the transaction that moves the cursor. */
function writeTracks(
  db: WritableDb,
  ctx: {
    datasetId: DatasetId;
    video: VideoRow;
    camera: string;
    startMs: number | null;
    startSeconds: number;
  },
  tracks: readonly { track: TrackResult; files: (WrittenCrop | null)[] }[],
  issue: JobContext<FootageParams, FootageState>['issue'],
): void {
  const wall = (t: number): number | null =>
    ctx.startMs === null ? null : ctx.startMs + Math.round(t * 1000);
  for (const { track, files } of tracks) {
    const obs = track.observations;
    const firstTime = obs[0]?.time ?? 0;
    const lastTime = obs.at(-1)?.time ?? firstTime;
    // Each track is an identity within its camera: what search and evaluation group by.
    const identityId = upsertIdentity(db, ctx.datasetId, `${ctx.camera}/v${ctx.video.id}/t${track.id}`);
    const trackId = insertTrack(db, {
      videoId: ctx.video.id,
      cameraId: ctx.video.camera_id,
      trackerId: track.id,
      identityId,
      firstTime,
      lastTime,
      firstMs: wall(firstTime),
      lastMs: wall(lastTime),
      observations: obs.length,
    });
    track.crops.forEach((c, k) => {
      const f = files[k];
      if (!f) return;
      if (findImageByPath(db, ctx.datasetId, f.relPath)) {
        issue({
          severity: 'warning',
          item: ctx.video.rel_path,
          message: `a crop at ${c.time.toFixed(2)} s has the same bytes as one already kept; kept once.`,
        });
        return;
      }
      const imageId = insertImage(db, {
        datasetId: ctx.datasetId,
        relPath: f.relPath,
        sha256: f.sha256,
        width: f.width,
        height: f.height,
        bytes: f.bytes,
        format: 'jpeg',
        identityId,
        camera: ctx.camera,
        split: null,
      });
      insertCrop(db, {
        imageId,
        trackId,
        videoId: ctx.video.id,
        frameTime: c.time,
        framePts: c.time + ctx.startSeconds,
        timeMs: wall(c.time),
        box: [c.box.x1, c.box.y1, c.box.x2, c.box.y2],
        score: c.score,
      });
    });
  }
}

/** Seconds processed per camera, over the videos this job covers. */
function progressOf(
  db: WritableDb,
  folderId: number,
  scope: ReadonlySet<number>,
): { done: number; total: number; message: string } {
  const per = new Map<string, { done: number; total: number }>();
  let done = 0;
  let total = 0;
  for (const v of listFootageVideos(db, folderId)) {
    if (!scope.has(v.id)) continue;
    const d = v.durationSeconds ?? 0;
    const p = v.status === 'failed' ? d : Math.min(d, v.processedSeconds);
    const c = per.get(v.camera) ?? { done: 0, total: 0 };
    c.done += p;
    c.total += d;
    per.set(v.camera, c);
    done += p;
    total += d;
  }
  const message = [...per.entries()]
    .map(([name, c]) => `${name} ${Math.floor(c.done)}/${Math.round(c.total)} s`)
    .join(', ');
  return { done: Math.floor(done), total: Math.round(total), message: `seconds of video: ${message}` };
}

async function runFootage(
  ctx: JobContext<FootageParams, FootageState>,
): Promise<{ failed: number; summary: string }> {
  const { db, params } = ctx;
  const folder = getFootageFolderRow(db, params.folderId);
  if (!folder) throw notFound(`Footage folder ${params.folderId} (deleted while its job was paused?)`);
  const dataset = getDatasetRow(db, asDatasetId(folder.dataset_id));
  if (!dataset) throw notFound(`The crops dataset of ${folder.root}`);
  updateDatasetStatus(db, asDatasetId(dataset.id), 'importing');
  const tools = await chosenVideoTools();

  let videos = ctx.state?.videos;
  if (!videos) {
    if (!existsSync(folder.root))
      throw new AppError(
        'not_found',
        `The footage folder ${folder.root} is not there (moved, or its drive is disconnected). Put it back and run again.`,
      );
    videos = await scan(ctx, folder);
    const scope = new Set(videos);
    ctx.progress({ ...progressOf(db, folder.id, scope), state: { videos } });
  }
  const scope = new Set(videos);
  const report = (): void => ctx.progress(progressOf(db, folder.id, scope));
  throwIfAborted(ctx.signal);
  const todo = (v: VideoRow | undefined): v is VideoRow =>
    !!v && v.status !== 'done' && v.status !== 'failed';
  if (!videos.some((id) => todo(getVideoRow(db, id)))) {
    report();
    return outcome(ctx, videos.length);
  }

  // The encoder process and its detector session start while the files are probed (a second or so).
  const opening = openRegisteredDetector(db, params.detectorId, { batchSize: params.batch });
  opening.catch(() => undefined);
  try {
    // Probe first, so the job knows its total before the long part.
    const probed = new Map<number, VideoInfo>();
    for (const id of videos) {
      throwIfAborted(ctx.signal);
      const v = getVideoRow(db, id);
      if (!todo(v)) continue;
      const info = await probeOne(ctx, tools, folder, v);
      if (info) probed.set(id, info);
    }
    report();
    if (probed.size === 0) return outcome(ctx, videos.length);

    const { detector, row: detectorRow } = await opening;
    for (const id of videos) {
      const info = probed.get(id);
      const v = getVideoRow(db, id);
      if (!info || !todo(v)) continue;
      throwIfAborted(ctx.signal);
      await processOne(ctx, { tools, detector, detectorId: detectorRow.id, folder, video: v, info, report });
    }
  } finally {
    await opening.then(
      (o) => o.detector.close(),
      () => undefined,
    );
  }
  report();
  return outcome(ctx, videos.length);
}

function outcome(
  ctx: JobContext<FootageParams, FootageState>,
  videos: number,
): { failed: number; summary: string } {
  const failed = countJobIssues(ctx.db, ctx.jobId, 'error');
  return {
    failed,
    summary: `${failed} of ${videos} recordings could not be read (the job's issues say why, in FFmpeg's words). Replace or remove them, then run again.`,
  };
}

async function processOne(
  ctx: JobContext<FootageParams, FootageState>,
  o: {
    tools: VideoTools;
    detector: Awaited<ReturnType<typeof openRegisteredDetector>>['detector'];
    detectorId: number;
    folder: FootageFolderRow;
    video: VideoRow;
    info: VideoInfo;
    report: () => void;
  },
): Promise<void> {
  const { db, params } = ctx;
  const { video, info } = o;
  const path = join(o.folder.root, video.rel_path);
  const camera = cameraName(db, video.camera_id);
  const cursor = getCursor(db, video.id);
  // A video part way through keeps the rate it was started at: its tracks and bins depend on it.
  const fps = cursor?.fps ?? params.fps;
  const step = Math.max(1, Math.round(params.checkpointSeconds * fps)) / fps;
  const seconds = cursor?.seconds ?? 0;
  const nextIndex = cursor?.next_index ?? 0;
  let tracker = new ByteTracker();
  let keeper = new CropKeeper(
    params.cropsPerTrack === 'all'
      ? { ...DEFAULT_CROP_OPTIONS, perTrack: Number.MAX_SAFE_INTEGER, bucketSeconds: 1 / fps }
      : { ...DEFAULT_CROP_OPTIONS, perTrack: params.cropsPerTrack },
  );
  if (cursor?.snapshot) {
    const s = deserialize(cursor.snapshot) as Snapshot;
    tracker = ByteTracker.restore(s.tracker);
    keeper = CropKeeper.restore(s.keeper);
  }
  updateVideoStatus(db, video.id, 'processing', null);
  const duration = video.duration ?? info.durationSeconds;
  const remarks = new Map<string, VideoIssue>();
  const datasetId = asDatasetId(o.folder.dataset_id);
  const mediaRoot = getDatasetRow(db, datasetId)!.root;
  // Finished tracks wait here for the next commit, their crops already being written (content-addressed:
  // a crash before the commit that records them leaves files that the rerun writes again, byte for byte).
  let pending: Promise<{ track: TrackResult; files: (WrittenCrop | null)[] }>[] = [];
  const commit = async (reached: number, nextIdx: number, last: boolean): Promise<void> => {
    const written = await Promise.all(pending);
    pending = [];
    // A recording that went away while FFmpeg still had it open (its bytes stay readable until closed):
    // what was committed before stays, this stretch is not recorded, and the file gets its issue.
    await checkFile(path);
    // Tracks, crops and cursor together: a crash before this commit reads the stretch again.
    db.transaction(() => {
      writeTracks(
        db,
        { datasetId, video, camera, startMs: video.start_ms, startSeconds: info.startSeconds },
        written,
        ctx.issue,
      );
      upsertCursor(db, {
        videoId: video.id,
        detectorId: o.detectorId,
        fps,
        seconds: reached,
        nextIndex: nextIdx,
        snapshot: last ? null : serialize({ tracker: tracker.snapshot(), keeper: keeper.snapshot() }),
      });
      if (last) {
        updateVideoStatus(db, video.id, 'done', null);
        for (const r of remarks.values())
          ctx.issue({ severity: 'warning', item: video.rel_path, message: issueText(r) });
      }
      o.report();
    })();
  };
  try {
    // One FFmpeg from the cursor to the end: checkpoints are taken in stream, between two frames, without
    // restarting the decoder (a restart per stretch cost a seek and the decoder's start-up each time).
    const summary = await processVideo({
      tools: o.tools,
      path,
      detector: o.detector,
      tracker,
      keeper,
      batch: params.batch,
      sample: {
        fps,
        start: seconds,
        info,
        onIssue: (i) => {
          if (i.problem !== 'seek') remarks.set(i.problem, i);
        },
      },
      firstIndex: nextIndex,
      endOfVideo: true,
      signal: ctx.signal,
      checkpoint: {
        from: seconds,
        every: step,
        commit: async (at) => {
          // At or past the announced end: the rest goes with the final commit, which ends every track.
          if (duration !== null && at.seconds >= duration - 1e-6) return;
          await commit(at.seconds, at.nextIndex, false);
          throwIfAborted(ctx.signal);
        },
      },
      onTrack: (track) => {
        const files = Promise.all(
          track.crops.map((c) =>
            c.width > 0 && c.height > 0 ? writeCrop(mediaRoot, c.rgb, c.width, c.height) : null,
          ),
        ).then((f) => ({ track, files: f }));
        // Awaited at the next commit; a failure surfaces there, not as an unhandled rejection.
        files.catch(() => undefined);
        pending.push(files);
      },
    });
    await commit(Math.max(duration ?? 0, summary.lastTime ?? 0), summary.nextIndex, true);
  } catch (err) {
    if (ctx.signal.aborted) throw ctx.signal.reason instanceof Error ? ctx.signal.reason : err;
    // The file went away or broke mid-way: what was committed stays; the rest is this file's issue.
    failVideo(ctx, getVideoRow(db, video.id) ?? video, err);
    o.report();
  }
}

export const footageJob: JobDefinition<FootageParams, FootageState> = {
  kind: 'footage',
  params: footageParams,
  title: (p) => `Footage ${p.root ? `“${p.root}”` : `folder ${p.folderId}`}`,
  run: runFootage,
  settled(db, params, status) {
    const folder = getFootageFolderRow(db, params.folderId);
    if (!folder) return;
    resetProcessingVideos(db, folder.id);
    updateDatasetStatus(db, asDatasetId(folder.dataset_id), status === 'done' ? 'ready' : 'incomplete');
  },
};

/** A footage job of this folder that has not finished: it is resumed rather than started again. */
function unfinishedJob(db: WritableDb, folderId: number): { id: JobId; params: FootageParams } | null {
  for (const r of listJobRowsByStatus(db, ['queued', 'running', 'paused'])) {
    if (r.kind !== 'footage') continue;
    const p = footageParams.safeParse(JSON.parse(r.params));
    if (p.success && p.data.folderId === folderId) return { id: asJobId(r.id), params: p.data };
  }
  return null;
}

/**
 * `footage:start`: checks the folder, the pattern and the detector, records the folder (with its crops
 * dataset in the workspace's media folder) and queues its job — or resumes the folder's unfinished one.
 */
export async function startFootage(
  ws: Workspace,
  arg: Omit<ParsedArg<'footage:start'>, 'cropsPerTrack'> & { cropsPerTrack?: number | 'all' },
): Promise<InvokeResults['footage:start']> {
  const root = resolve(arg.folder);
  const s = await stat(root).catch(() => null);
  if (!s?.isDirectory())
    throw new AppError(
      'bad_request',
      `${root} is not a folder. Point to the folder that holds the recordings (one sub-folder per camera, or a camera pattern).`,
    );
  if (arg.cameraPattern) compilePattern(arg.cameraPattern);
  const detector = resolveDetectorRow(ws.db, arg.detector);
  const files = await listVideoFiles(root);
  if (files.length === 0)
    throw new AppError(
      'bad_request',
      `${root} holds no video files (${VIDEO_EXTENSIONS.join(', ')}). Point to the folder of recordings.`,
    );
  const existing = findFootageFolderByRoot(ws.db, root);
  const pattern = arg.cameraPattern ?? existing?.pattern ?? null;
  const offset =
    arg.utcOffsetMinutes === undefined ? (existing?.utc_offset_minutes ?? null) : arg.utcOffsetMinutes;
  let folderId: number;
  if (existing) {
    folderId = existing.id;
    updateFootageFolder(ws.db, folderId, { pattern, utcOffsetMinutes: offset });
    const open = unfinishedJob(ws.db, folderId);
    if (open) {
      const row = getJobRow(ws.db, open.id)!;
      if (row.status === 'running' && !isOrphaned(row))
        throw new AppError(
          'conflict',
          `Footage job ${open.id} is already running on ${root}. Wait for it, or pause it (ctgi jobs --pause ${open.id}).`,
        );
      if (open.params.detectorId !== detector.id || open.params.fps !== arg.fps)
        throw new AppError(
          'conflict',
          `Footage job ${open.id} on ${root} is not finished; it runs detector ${open.params.detectorId} at ` +
            `${open.params.fps} frames/s, not ${detector.id} at ${arg.fps}. Resume it (ctgi jobs --resume ${open.id}), ` +
            `or cancel it (ctgi jobs --cancel ${open.id}) and start again with the new settings.`,
        );
      if (!isJobFinished(row.status)) {
        const job = ws.jobs.resume(open.id);
        return { job, folderId, datasetId: asDatasetId(existing.dataset_id), resumed: true };
      }
    }
  } else {
    folderId = ws.db.transaction(() => {
      const datasetId = insertDataset(ws.db, {
        name: `footage: ${basename(root) || root}`,
        format: 'folder',
        root: ws.mediaDir,
        annotationFile: null,
      });
      return insertFootageFolder(ws.db, { root, datasetId, pattern, utcOffsetMinutes: offset });
    })();
    await mkdir(ws.mediaDir, { recursive: true });
  }
  const folder = getFootageFolderRow(ws.db, folderId)!;
  const job = ws.jobs.enqueue('footage', {
    folderId,
    detectorId: detector.id,
    fps: arg.fps,
    checkpointSeconds: arg.checkpointSeconds,
    cropsPerTrack: arg.cropsPerTrack ?? 3,
    root,
    datasetId: folder.dataset_id,
  } satisfies Partial<FootageParams>);
  return { job, folderId, datasetId: asDatasetId(folder.dataset_id), resumed: false };
}
