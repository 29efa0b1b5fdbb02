// A real `ctgi footage`, really killed: SIGKILL three times in the middle (no cleanup, no shutdown hook),
// each time started again on the same folder, must end with the same tracks and crops as one uninterrupted
// run — nothing written twice, no track split by a restart.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { locateVideoTools } from '../../src/main/media/video';
import { FOOTAGE_PATTERN, generateFootage } from '../../src/main/synth/footage';
import { writeToyDetectorFolder } from '../../src/main/synth/toy-detector';

const CLI = join(process.cwd(), 'bin/ctgi.mjs');
let dir: string;
let videos: string;
let detectorDir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ctgi-footage-kill-'));
  videos = join(dir, 'videos');
  await generateFootage({ seed: 3, outDir: videos, tools: await locateVideoTools(), durationSeconds: 16 });
  detectorDir = (await writeToyDetectorFolder(join(dir, 'toy-detector'))).dir;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ctgi(args: string[]): {
  child: ChildProcess;
  exit: Promise<{ code: number | null; signal: string | null; out: string; err: string }>;
} {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<{ code: number | null; signal: string | null; out: string; err: string }>(
    (resolve) => child.on('exit', (code, signal) => resolve({ code, signal, out, err })),
  );
  return { child, exit };
}

const footageArgs = (ws: string): string[] => [
  'footage',
  '--workspace',
  ws,
  '--folder',
  videos,
  '--detector',
  'toy-detector',
  '--camera-pattern',
  FOOTAGE_PATTERN,
  '--utc-offset',
  '0',
  '--checkpoint',
  '2',
];

function read<T>(ws: string, f: (db: Database.Database) => T): T {
  const db = new Database(ws, { readonly: true, fileMustExist: true });
  try {
    return f(db);
  } finally {
    db.close();
  }
}

/** Seconds of video processed so far (the job's `done`), read from outside as a second app would. */
async function waitForDone(ws: string, atLeast: number, ms = 120_000): Promise<number> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const done = read(
        ws,
        (db) =>
          (
            db.prepare(`SELECT done FROM jobs WHERE kind = 'footage' ORDER BY id DESC LIMIT 1`).get() as
              { done: number } | undefined
          )?.done,
      );
      if (done !== undefined && done >= atLeast) return done;
    } catch {
      // not created yet, or mid-migration
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`the footage job never reached ${atLeast} s`);
}

interface Outcome {
  tracks: string[];
  crops: string[];
  counts: { tracks: number; crops: number; images: number; shas: number; identities: number };
}

function outcome(ws: string): Outcome {
  return read(ws, (db) => ({
    tracks: (
      db
        .prepare(
          `SELECT c.name || ' ' || v.rel_path || ' #' || t.tracker_id || ' ' || t.first_time || '–' || t.last_time ||
             ' ' || t.observations || ' obs @' || t.first_ms AS s
           FROM tracks t JOIN cameras c ON c.id = t.camera_id JOIN videos v ON v.id = t.video_id ORDER BY s`,
        )
        .all() as { s: string }[]
    ).map((r) => r.s),
    crops: (
      db
        .prepare(
          `SELECT c.name || ' #' || t.tracker_id || ' ' || k.frame_time || ' ' || k.time_ms || ' ' || i.sha256 || ' ' ||
             round(k.x1, 2) || ',' || round(k.y1, 2) || ',' || round(k.x2, 2) || ',' || round(k.y2, 2) AS s
           FROM crops k JOIN tracks t ON t.id = k.track_id JOIN cameras c ON c.id = t.camera_id
           JOIN images i ON i.id = k.image_id ORDER BY s`,
        )
        .all() as { s: string }[]
    ).map((r) => r.s),
    counts: db
      .prepare(
        `SELECT (SELECT count(*) FROM tracks) AS tracks, (SELECT count(*) FROM crops) AS crops,
           (SELECT count(*) FROM images) AS images, (SELECT count(DISTINCT sha256) FROM images) AS shas,
           (SELECT count(*) FROM identities) AS identities`,
      )
      .get() as Outcome['counts'],
  }));
}

describe('ctgi footage survives being killed', () => {
  it('SIGKILL three times mid-run, started again each time: the same tracks and crops as one straight run', async () => {
    const straightWs = join(dir, 'straight.sqlite');
    expect((await ctgi(['detectors', '--workspace', straightWs, '--register', detectorDir]).exit).code).toBe(
      0,
    );
    const straight = await ctgi([...footageArgs(straightWs), '--json']).exit;
    expect(straight.code, straight.err).toBe(0);
    const expected = outcome(straightWs);
    expect(expected.counts.tracks).toBeGreaterThanOrEqual(6);
    expect(expected.counts.crops).toBeGreaterThanOrEqual(12);

    const ws = join(dir, 'killed.sqlite');
    expect((await ctgi(['detectors', '--workspace', ws, '--register', detectorDir]).exit).code).toBe(0);
    // 48 s of video in 2 s stretches: killed after the 1st, 2nd and 3rd camera had started.
    const kills: number[] = [];
    let midVideo = 0;
    for (const at of [4, 20, 36]) {
      const run = ctgi(footageArgs(ws));
      kills.push(await waitForDone(ws, at));
      run.child.kill('SIGKILL');
      expect((await run.exit).signal).toBe('SIGKILL');
      // Killed part way through a video: its tracker and crop keeper were saved there, mid-walk.
      midVideo += read(
        ws,
        (db) =>
          (
            db.prepare(`SELECT count(*) AS n FROM footage_cursors WHERE snapshot IS NOT NULL`).get() as {
              n: number;
            }
          ).n,
      );
      const mid = outcome(ws);
      expect(mid.counts.crops).toBeLessThan(expected.counts.crops);
      expect(mid.counts).toMatchObject({ images: mid.counts.crops, shas: mid.counts.crops });
    }
    const last = await ctgi([...footageArgs(ws), '--json']).exit;
    expect(last.code, last.err).toBe(0);
    expect(last.err).toMatch(/Resuming footage job #1/);
    const report = JSON.parse(last.out) as {
      job: { id: number; status: string; attempts: number; done: number };
    };
    // One job all along, taken over after each kill.
    expect(report.job).toMatchObject({ id: 1, status: 'done', attempts: 4, done: 48 });
    expect(kills).toHaveLength(3);
    expect(midVideo).toBeGreaterThanOrEqual(2);

    const got = outcome(ws);
    expect(got.tracks).toEqual(expected.tracks);
    expect(got.crops).toEqual(expected.crops);
    expect(got.counts).toEqual(expected.counts);
    // Nothing twice: one image per crop, all different bytes, one identity per track.
    expect(got.counts).toMatchObject({
      images: got.counts.crops,
      shas: got.counts.crops,
      identities: got.counts.tracks,
    });
  });
});
