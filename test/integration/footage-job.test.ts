// The footage job over a folder with bad recordings in it: each bad file is one clear per-file issue in
// FFmpeg's words, a recording that disappears mid-job keeps what was committed before it went, the good
// recordings are processed all the same, and running the job again picks up recordings added since.
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobIssue } from '#shared/jobs/types';
import { listJobIssues } from '../../src/main/db/repos/jobs';
import { getFootageFolderRow, toFootageFolder } from '../../src/main/db/repos/footage';
import { registerDetector } from '../../src/main/footage/detectors';
import { startFootage } from '../../src/main/jobs/footage';
import { locateVideoTools, type VideoTools } from '../../src/main/media/video';
import { generateFootage, type FootageTruth } from '../../src/main/synth/footage';
import { writeToyDetectorFolder } from '../../src/main/synth/toy-detector';
import { openWorkspace, type Workspace } from '../../src/main/workspace';
import { makeCountingVideo } from '../fixtures/video';

let dir: string;
let root: string;
let tools: VideoTools;
let truth: FootageTruth;
let spare: string;
let ws: Workspace;

const ff = (...args: string[]): void => {
  execFileSync(tools.ffmpeg.path, ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ctgi-footage-job-'));
  tools = await locateVideoTools();
  // Three cameras rendered; the third is kept aside and added to the folder later.
  const rendered = join(dir, 'rendered');
  truth = await generateFootage({ seed: 5, outDir: rendered, tools, durationSeconds: 12 });
  root = join(dir, 'archive');
  for (const c of truth.cameras.slice(0, 2)) {
    mkdirSync(join(root, c.name), { recursive: true });
    copyFileSync(join(rendered, c.file), join(root, c.file));
  }
  spare = join(rendered, truth.cameras[2]!.file);
  const good = join(rendered, truth.cameras[0]!.file);
  const bad = join(root, 'bad');
  mkdirSync(bad);
  writeFileSync(join(bad, 'zero.mp4'), '');
  writeFileSync(join(bad, 'notes.mp4'), 'Camera 3 notes: the lens was cleaned on Monday.\n'.repeat(20));
  ff('-f', 'lavfi', '-i', 'anullsrc=r=44100:cl=mono', '-t', '2', '-c:a', 'aac', join(bad, 'audio.mp4'));
  const raw = join(dir, 'clip.h264');
  ff('-i', good, '-c', 'copy', '-bsf:v', 'h264_mp4toannexb', '-f', 'h264', raw);
  ff('-r', '100000', '-i', raw, '-c', 'copy', join(bad, 'fast.mp4'));
  // Cut short: once with the index at the end (nothing readable), once with it first (readable up to the cut).
  const moovLast = join(dir, 'moov-last.mp4');
  ff('-i', good, '-c', 'copy', moovLast);
  writeFileSync(
    join(bad, 'cut.mp4'),
    readFileSync(moovLast).subarray(0, Math.floor(statSync(moovLast).size / 2)),
  );
  // (Another video than the cameras', whose crops would otherwise be the same bytes as cam01's.)
  const other = join(dir, 'other.mp4');
  await makeCountingVideo(tools, other, {
    frames: 200,
    fps: 25,
    gop: 25,
    creationTime: '2026-12-04T09:00:00Z',
  });
  const moovFirst = join(dir, 'moov-first.mp4');
  ff('-i', other, '-c', 'copy', '-movflags', '+faststart', moovFirst);
  writeFileSync(
    join(bad, 'cut-faststart.mp4'),
    readFileSync(moovFirst).subarray(0, Math.floor(statSync(moovFirst).size * 0.5)),
  );
  ws = openWorkspace(join(dir, 'ws.sqlite'));
  await registerDetector(ws.db, (await writeToyDetectorFolder(join(dir, 'toy-detector'))).dir);
});
afterAll(async () => {
  await ws?.close();
  rmSync(dir, { recursive: true, force: true });
});

const issuesOf = (jobId: number): Map<string, JobIssue[]> => {
  const out = new Map<string, JobIssue[]>();
  for (const i of listJobIssues(ws.db, jobId as never, 1000))
    out.set(i.item, [...(out.get(i.item) ?? []), i]);
  return out;
};

describe('the footage job over a folder with bad recordings', () => {
  it('gives each bad file one clear issue, keeps what a vanished file gave, and processes the rest', async () => {
    const cam02 = join(root, truth.cameras[1]!.file);
    // cam02 is processed last (cameras in name order: bad, cam01, cam02): delete it once its first
    // stretches are committed.
    let deleted = false;
    const off = ws.bus.on('jobs:progress', () => {
      if (deleted) return;
      const r = ws.db
        .prepare(
          `SELECT fc.seconds FROM footage_cursors fc JOIN videos v ON v.id = fc.video_id WHERE v.rel_path = ?`,
        )
        .get(truth.cameras[1]!.file) as { seconds: number } | undefined;
      if (r && r.seconds >= 4) {
        unlinkSync(cam02);
        deleted = true;
      }
    });
    const { job, folderId } = await startFootage(ws, {
      folder: root,
      detector: 'toy-detector',
      fps: 2,
      checkpointSeconds: 2,
    });
    await ws.jobs.idle();
    off();
    expect(deleted).toBe(true);
    const final = ws.jobs.get(job.id);
    expect(final.status).toBe('done-with-failures');
    expect(final.error).toMatch(/^6 of 8 recordings could not be read/);

    const issues = issuesOf(job.id);
    const only = (item: string): JobIssue => {
      const list = issues.get(item) ?? [];
      expect(list, `${item}: ${JSON.stringify(list)}`).toHaveLength(1);
      return list[0]!;
    };
    expect(only('bad/zero.mp4')).toMatchObject({
      severity: 'error',
      message: expect.stringMatching(/^empty: .*is empty \(0 bytes\)/),
    });
    expect(only('bad/notes.mp4')).toMatchObject({
      severity: 'error',
      message: expect.stringMatching(/^not-video: .*FFmpeg said: .*Invalid data found when processing input/),
    });
    expect(only('bad/audio.mp4').message).toMatch(
      /^no-video-stream: .*no video stream \(its streams: audio\)/,
    );
    expect(only('bad/fast.mp4').message).toMatch(/^bad-frame-rate: .*r_frame_rate=100000\/1/);
    expect(only('bad/cut.mp4').message).toMatch(/^truncated: .*moov atom not found/);
    // Readable up to the cut: processed, with a warning that says so.
    const cut = issues.get('bad/cut-faststart.mp4') ?? [];
    expect(cut.every((i) => i.severity === 'warning')).toBe(true);
    expect(
      cut.filter((i) => /ends early: frames stop at .*FFmpeg said: .*partial file/.test(i.message)),
    ).toHaveLength(1);
    expect(only(truth.cameras[1]!.file)).toMatchObject({
      severity: 'error',
      message: expect.stringMatching(/^missing: .*is not there any more/),
    });
    expect(issues.get(truth.cameras[0]!.file)).toBeUndefined();

    const folder = toFootageFolder(ws.db, getFootageFolderRow(ws.db, folderId)!);
    const video = (rel: string) => folder.videos.find((v) => v.relPath === rel)!;
    expect(video(truth.cameras[0]!.file)).toMatchObject({ status: 'done', startSource: 'container' });
    expect(video(truth.cameras[0]!.file).tracks).toBeGreaterThanOrEqual(2);
    expect(video('bad/cut-faststart.mp4').status).toBe('done');
    expect(video('bad/zero.mp4')).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/0 bytes/),
    });
    // What the vanished recording gave before it went is kept.
    const gone = video(truth.cameras[1]!.file);
    expect(gone.status).toBe('failed');
    expect(gone.processedSeconds).toBeGreaterThanOrEqual(4);
    expect(gone.processedSeconds).toBeLessThan(12);
    const cam = folder.cameras.find((c) => c.name === 'cam01')!;
    expect(cam).toMatchObject({ videos: 1, seconds: 12, processedSeconds: 12 });
    expect(cam.crops).toBeGreaterThanOrEqual(cam.tracks);
  });

  it('running it again picks up a recording added since and one put back, and leaves the finished ones alone', async () => {
    const before = toFootageFolder(ws.db, getFootageFolderRow(ws.db, 1)!);
    const cam01Tracks = before.cameras.find((c) => c.name === 'cam01')!.tracks;
    const cam03 = truth.cameras[2]!;
    mkdirSync(join(root, cam03.name), { recursive: true });
    copyFileSync(spare, join(root, cam03.file));
    copyFileSync(join(dir, 'rendered', truth.cameras[1]!.file), join(root, truth.cameras[1]!.file));
    const { job, resumed } = await startFootage(ws, {
      folder: root,
      detector: 'toy-detector',
      fps: 2,
      checkpointSeconds: 2,
    });
    expect(resumed).toBe(false);
    await ws.jobs.idle();
    const final = ws.jobs.get(job.id);
    // The bad files are still bad (and said so again); the rest is done.
    expect(final.status).toBe('done-with-failures');
    expect(final.error).toMatch(/^5 of 7 recordings could not be read/);
    const after = toFootageFolder(ws.db, getFootageFolderRow(ws.db, 1)!);
    expect(after.cameras.map((c) => c.name)).toEqual(['bad', 'cam01', 'cam02', 'cam03']);
    expect(after.cameras.find((c) => c.name === 'cam01')!.tracks).toBe(cam01Tracks);
    for (const name of ['cam02', 'cam03']) {
      const c = after.cameras.find((x) => x.name === name)!;
      expect(c, name).toMatchObject({ seconds: 12, processedSeconds: 12 });
      expect(c.tracks, name).toBeGreaterThanOrEqual(2);
    }
    // The put-back recording was processed from its start again: its tracks are not doubled.
    const dup = ws.db
      .prepare(
        `SELECT count(*) AS n FROM (SELECT video_id, tracker_id FROM tracks GROUP BY 1, 2 HAVING count(*) > 1)`,
      )
      .get() as { n: number };
    expect(dup.n).toBe(0);
  });

  it('pauses mid-video (status paused, resumable) and resumes to the same end as a run never paused', async () => {
    const root2 = join(dir, 'archive-2');
    const cam = truth.cameras[2]!;
    mkdirSync(join(root2, cam.name), { recursive: true });
    copyFileSync(spare, join(root2, cam.file));
    let paused: Promise<unknown> | null = null;
    const off = ws.bus.on('jobs:progress', (j) => {
      if (paused || j.kind !== 'footage' || j.status !== 'running' || j.done < 4) return;
      paused = ws.jobs.pause(j.id);
    });
    const { job, folderId } = await startFootage(ws, {
      folder: root2,
      detector: 'toy-detector',
      fps: 2,
      checkpointSeconds: 2,
    });
    await ws.jobs.idle();
    off();
    await paused;
    const stopped = ws.jobs.get(job.id);
    expect(stopped.status).toBe('paused');
    expect(stopped.done).toBeGreaterThanOrEqual(4);
    expect(stopped.done).toBeLessThan(12);
    const snapshot = ws.db
      .prepare(
        `SELECT count(*) AS n FROM footage_cursors fc JOIN videos v ON v.id = fc.video_id WHERE v.folder_id = ? AND fc.snapshot IS NOT NULL`,
      )
      .get(folderId) as { n: number };
    expect(snapshot.n).toBe(1);

    // Again through footage:start: the paused job is resumed, not a new one started.
    const again = await startFootage(ws, {
      folder: root2,
      detector: 'toy-detector',
      fps: 2,
      checkpointSeconds: 2,
    });
    expect(again).toMatchObject({ resumed: true, folderId });
    expect(again.job.id).toBe(job.id);
    await ws.jobs.idle();
    expect(ws.jobs.get(job.id)).toMatchObject({ status: 'done', done: 12 });
    // The same tracks and crops as cam03's uninterrupted run in the first folder.
    const summary = (fid: number): string[] =>
      (
        ws.db
          .prepare(
            `SELECT t.tracker_id || ' ' || t.first_time || ' ' || t.last_time || ' ' || i.sha256 AS s
             FROM crops k JOIN tracks t ON t.id = k.track_id JOIN videos v ON v.id = t.video_id
             JOIN images i ON i.id = k.image_id WHERE v.folder_id = ? AND v.rel_path = ? ORDER BY s`,
          )
          .all(fid, cam.file) as { s: string }[]
      ).map((r) => r.s);
    expect(summary(folderId)).toEqual(summary(1));
    expect(summary(folderId).length).toBeGreaterThan(2);
  });

  it('keeps every sampled crop of each track when asked (cropsPerTrack: all), not only the best three', async () => {
    const root3 = join(dir, 'archive-3');
    const cam = truth.cameras[2]!;
    mkdirSync(join(root3, cam.name), { recursive: true });
    copyFileSync(spare, join(root3, cam.file));
    const { job, folderId } = await startFootage(ws, {
      folder: root3,
      detector: 'toy-detector',
      fps: 2,
      checkpointSeconds: 2,
      cropsPerTrack: 'all',
    });
    await ws.jobs.idle();
    expect(ws.jobs.get(job.id).status).toBe('done');
    const perTrack = ws.db
      .prepare(
        `SELECT t.observations, (SELECT count(*) FROM crops k WHERE k.track_id = t.id) AS crops,
           (SELECT count(DISTINCT frame_time) FROM crops k WHERE k.track_id = t.id) AS times
         FROM tracks t JOIN videos v ON v.id = t.video_id WHERE v.folder_id = ?`,
      )
      .all(folderId) as { observations: number; crops: number; times: number }[];
    expect(perTrack.length).toBeGreaterThanOrEqual(2);
    // One crop per sampled frame the track was seen in (a crop too small to cut is the only exception).
    for (const t of perTrack) {
      expect(t.crops).toBe(t.times);
      expect(t.crops).toBeGreaterThanOrEqual(t.observations - 1);
      expect(t.crops).toBeLessThanOrEqual(t.observations);
    }
    expect(Math.max(...perTrack.map((t) => t.crops))).toBeGreaterThan(3);
  });
});
