import { execFileSync } from 'node:child_process';
import {
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  frameAt,
  locateVideoTools,
  nextSampleTime,
  parseVersionBanner,
  probeVideo,
  sampleFrames,
  VideoError,
  type SampledFrame,
  type SampleOptions,
  type VideoIssue,
  type VideoTools,
} from '../../src/main/media/video';
import { makeCountingVideo, readFrameNumber } from '../fixtures/video';

let dir: string;
let tools: VideoTools;
let npmTools: VideoTools;
/** 8 s at 25 fps, keyframes every second. */
let clip: string;

const ff = (...args: string[]): void => {
  execFileSync(tools.ffmpeg.path, ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
};

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'ctgi-video-'));
  tools = await locateVideoTools();
  const npm = await locateVideoTools({ searchPath: '' });
  npmTools = npm;
  clip = path.join(dir, 'clip.mp4');
  await makeCountingVideo(tools, clip, {
    frames: 200,
    fps: 25,
    gop: 25,
    creationTime: '2026-12-04T08:15:00Z',
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function collect(
  file: string,
  opts: SampleOptions = {},
  t: VideoTools = tools,
): Promise<{ frames: SampledFrame[]; issues: VideoIssue[] }> {
  const frames: SampledFrame[] = [];
  const issues: VideoIssue[] = [];
  for await (const f of sampleFrames(t, file, { ...opts, onIssue: (i) => issues.push(i) })) frames.push(f);
  return { frames, issues };
}

async function failure(p: Promise<unknown>): Promise<VideoError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VideoError);
  return err as VideoError;
}

describe('FFmpeg and ffprobe location', () => {
  it('takes the system pair when its ffmpeg is newer than the npm one, and says which and what version', () => {
    // Debian 12's 5.1 (libavformat 59) is newer than @ffmpeg-installer's 4.1 (libavformat 58).
    expect(tools.ffmpeg).toMatchObject({ source: 'system', path: '/usr/bin/ffmpeg' });
    expect(tools.ffmpeg.version).toMatch(/^5\.1/);
    expect(tools.ffmpeg.libavformat[0]).toBe(59);
    // The npm ffprobe is "newer" (a 2023 snapshot) but segfaults on MPEG-TS: ffprobe follows ffmpeg's source.
    expect(tools.ffprobe).toMatchObject({ source: 'system', path: '/usr/bin/ffprobe' });
    expect(npmTools.ffmpeg.source).toBe('npm');
    expect(npmTools.ffmpeg.libavformat).toEqual([58, 24, 100]);
    expect(npmTools.ffprobe.source).toBe('npm');
  });

  it('uses a path the user gave even when another binary is newer, and refuses one that is not there', async () => {
    const t = await locateVideoTools({ ffmpegPath: npmTools.ffmpeg.path });
    expect(t.ffmpeg).toMatchObject({ source: 'user', path: npmTools.ffmpeg.path });
    await expect(locateVideoTools({ ffprobePath: '/nowhere/ffprobe' })).rejects.toThrow(
      /ffprobe chosen for this machine \(\/nowhere\/ffprobe\) does not exist/,
    );
    const notFfmpeg = path.join(dir, 'fake-ffmpeg');
    writeFileSync(notFfmpeg, '#!/bin/sh\necho hello\n', { mode: 0o755 });
    await expect(locateVideoTools({ ffmpegPath: notFfmpeg })).rejects.toThrow(/does not look like ffmpeg/);
  });

  it('reads release and git-snapshot banners alike', () => {
    const snap =
      'ffmpeg version N-47683-g0e8eb07980-static https://johnvansickle.com/ffmpeg/\nlibavformat    58. 24.100 / 58. 24.100\n';
    expect(parseVersionBanner('ffmpeg', snap)).toEqual({
      version: 'N-47683-g0e8eb07980-static',
      libavformat: [58, 24, 100],
    });
    expect(parseVersionBanner('ffprobe', snap)).toBeNull();
  });
});

describe('probeVideo', () => {
  it('reports duration, frame rates, size, codec, creation time and streams', async () => {
    const info = await probeVideo(tools, clip);
    expect(info).toMatchObject({
      durationSeconds: 8,
      startSeconds: 0,
      creationTime: '2026-12-04T08:15:00.000000Z',
      streams: { total: 1, video: 1, audio: 0, other: 0 },
      issues: [],
    });
    expect(info.video).toMatchObject({
      codec: 'h264',
      width: 320,
      height: 180,
      rotation: 0,
      avgFps: 25,
      rFps: 25,
      frames: 200,
    });
    expect(info.container).toContain('mp4');
  });
});

describe('sampleFrames', () => {
  for (const which of ['system', 'npm'] as const) {
    it(`keeps the first frame of every half second, with its exact presentation time (${which} FFmpeg)`, async () => {
      const t = which === 'system' ? tools : npmTools;
      const { frames, issues } = await collect(clip, { fps: 2 }, t);
      expect(issues).toEqual([]);
      // Frames are at k/25 s; the first at or after each multiple of 0.5 s is k = ceil(12.5 · bin).
      const expected = Array.from({ length: 16 }, (_, bin) => Math.ceil(12.5 * bin));
      expect(frames.map((f) => readFrameNumber(f.rgb, f.width))).toEqual(expected);
      // The time is the frame's own (0.52 s for frame 13), not the grid's (0.5 s).
      frames.forEach((f, i) => expect(f.timeSeconds).toBeCloseTo(expected[i]! / 25, 9));
      expect(frames[1]!.timeSeconds).toBeCloseTo(0.52, 9);
      expect(frames.every((f) => f.width === 320 && f.height === 180 && f.rgb.length === 320 * 180 * 3)).toBe(
        true,
      );
    });
  }

  it('times 29.97 fps footage exactly (k · 1001/30000 s)', async () => {
    const ntsc = path.join(dir, 'ntsc.mp4');
    await makeCountingVideo(tools, ntsc, { frames: 90, fps: 30000 / 1001 });
    const { frames } = await collect(ntsc, { fps: 2 });
    expect(frames.length).toBe(6);
    for (const f of frames) {
      const k = readFrameNumber(f.rgb, f.width);
      expect(f.timeSeconds).toBeCloseTo((k * 1001) / 30000, 9);
    }
  });

  it('resumes from nextSampleTime() with exactly the frames an uninterrupted read gives', async () => {
    const all = (await collect(clip)).frames.map((f) => f.timeSeconds);
    const cut = all[5]!; // stopped after the frame at 2.52 s
    const resumed = (await collect(clip, { start: nextSampleTime(cut) })).frames.map((f) => f.timeSeconds);
    expect(resumed).toEqual(all.slice(6));
    // A window: [3, 5) s.
    const window = (await collect(clip, { start: 3, end: 5 })).frames.map((f) => f.timeSeconds);
    expect(window).toEqual(all.filter((t) => t >= 3 && t < 5));
  });

  it('checks the first frame after a seek, and reads again from further back where the container overshoots (MPEG-TS)', async () => {
    const ts = path.join(dir, 'clip.ts');
    ff('-i', clip, '-c', 'copy', ts);
    const info = await probeVideo(tools, ts);
    expect(info.startSeconds).toBeGreaterThan(0); // MPEG-TS starts its clock above zero
    const whole = await collect(ts);
    const { frames, issues } = await collect(ts, { start: 2.5 });
    expect(frames[0]!.timeSeconds).toBeCloseTo(2.52, 6);
    expect(readFrameNumber(frames[0]!.rgb, 320)).toBe(63);
    expect(frames.map((f) => f.timeSeconds)).toEqual(
      whole.frames.map((f) => f.timeSeconds).filter((t) => t >= 2.5),
    );
    expect(issues.map((i) => i.problem)).toEqual(['seek']);
  });

  it('reads only as fast as the consumer takes frames (FFmpeg waits on the pipe)', async () => {
    const frameBytes = 320 * 180 * 3;
    const children = (): number[] =>
      execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l.includes('ffmpeg'))
        .map((l) => Number(l.trim().split(/\s+/)[0]));
    const it = sampleFrames(tools, clip, { fps: 25 })[Symbol.asyncIterator]();
    for (let i = 0; i < 3; i++) expect((await it.next()).done).toBe(false);
    await new Promise((r) => setTimeout(r, 1500));
    const [pid] = children();
    expect(pid).toBeDefined();
    const written = Number(/wchar:\s*(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))![1]);
    // 200 frames (34 MB) if it ran ahead; a pipe's worth and a frame or two past what was taken if it waits.
    expect(written).toBeLessThan(8 * frameBytes);
    await it.return!();
    await new Promise((r) => setTimeout(r, 200));
    expect(children()).toEqual([]);
  });

  it('kills FFmpeg when the signal aborts, and says the read was stopped', async () => {
    const ac = new AbortController();
    let n = 0;
    const err = await failure(
      (async () => {
        for await (const _ of sampleFrames(tools, clip, { fps: 25, signal: ac.signal })) {
          if (++n === 2) ac.abort();
        }
      })(),
    );
    expect(err.problem).toBe('aborted');
    expect(n).toBe(2);
  });
});

describe('frameAt', () => {
  it('returns the frame shown at a sampled time as a JPEG or PNG', async () => {
    for (const [t, k] of [
      [2.52, 63],
      [0, 0],
      [7.96, 199],
    ] as const) {
      const still = await frameAt(tools, clip, t, { format: 'png' });
      expect(still.timeSeconds).toBeCloseTo(k / 25, 9);
      const { data, info } = await sharp(still.data).raw().toBuffer({ resolveWithObject: true });
      expect(readFrameNumber(data, info.width)).toBe(k);
    }
    const jpeg = await frameAt(tools, clip, 4);
    expect(jpeg.data.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    await expect(frameAt(tools, clip, 9)).rejects.toThrow(/has no frame at or after 9\.000 s/);
  });
});

describe('bad input: each file gets a typed error (or issue) with FFmpeg’s own words', () => {
  it('a zero-byte file', async () => {
    const f = path.join(dir, 'zero.mp4');
    writeFileSync(f, '');
    const err = await failure(probeVideo(tools, f));
    expect(err.problem).toBe('empty');
    expect(err.message).toMatch(/is empty \(0 bytes\)/);
  });

  it('a missing file', async () => {
    const err = await failure(probeVideo(tools, path.join(dir, 'gone.mp4')));
    expect(err.problem).toBe('missing');
    expect(err.code).toBe('not_found');
  });

  it('an mp4 cut short before its index (moov at the end) was written', async () => {
    const whole = path.join(dir, 'moov-at-end.mp4');
    ff('-i', clip, '-c', 'copy', whole); // no +faststart: the index is written last
    const cut = path.join(dir, 'cut.mp4');
    writeFileSync(cut, readFileSync(whole).subarray(0, Math.floor(statSync(whole).size / 2)));
    const err = await failure(probeVideo(tools, cut));
    expect(err.problem).toBe('truncated');
    expect(err.ffmpegSaid).toMatch(/moov atom not found/);
    expect(err.message).toMatch(/cut short/);
  });

  it('an mp4 with its index first, cut short: read up to the cut, with an issue', async () => {
    const cut = path.join(dir, 'cut-faststart.mp4');
    writeFileSync(cut, readFileSync(clip).subarray(0, Math.floor(statSync(clip).size * 0.4)));
    const { frames, issues } = await collect(cut);
    expect(frames.length).toBeGreaterThan(2);
    expect(frames.length).toBeLessThan(16);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ problem: 'truncated' });
    expect(issues[0]!.message).toMatch(/ends early: frames stop at \d+\.\d\d s of the 8\.00 s/);
    expect(issues[0]!.ffmpegSaid).toMatch(/partial file|Invalid/);
  });

  it('a text file named .mp4', async () => {
    const f = path.join(dir, 'notes.mp4');
    writeFileSync(f, 'Camera 3 notes: the lens was cleaned on Monday.\n'.repeat(20));
    const err = await failure(probeVideo(tools, f));
    expect(err.problem).toBe('not-video');
    expect(err.ffmpegSaid).toMatch(/Invalid data found when processing input/);
  });

  it('a file with audio only', async () => {
    const f = path.join(dir, 'audio.mp4');
    ff('-f', 'lavfi', '-i', 'anullsrc=r=44100:cl=mono', '-t', '2', '-c:a', 'aac', f);
    const err = await failure(probeVideo(tools, f));
    expect(err.problem).toBe('no-video-stream');
    expect(err.message).toMatch(/no video stream \(its streams: audio\)/);
  });

  it('a header that says 100,000 frames per second', async () => {
    const raw = path.join(dir, 'clip.h264');
    const fast = path.join(dir, 'fast.mp4');
    ff('-i', clip, '-c', 'copy', '-bsf:v', 'h264_mp4toannexb', '-f', 'h264', raw);
    ff('-r', '100000', '-i', raw, '-c', 'copy', fast);
    const err = await failure(probeVideo(tools, fast));
    expect(err.problem).toBe('bad-frame-rate');
    expect(err.ffmpegSaid).toMatch(/r_frame_rate=100000\/1/);
    expect(err.message).toMatch(/which no camera records/);
    await expect(collect(fast)).rejects.toThrow(/frames per second/);
  });

  it('a file deleted while it is read: the open file is read to its end, the next read says it is gone', async () => {
    const f = path.join(dir, 'deleted.mp4');
    writeFileSync(f, readFileSync(clip));
    const times: number[] = [];
    for await (const fr of sampleFrames(tools, f)) {
      if (times.length === 0) unlinkSync(f);
      times.push(fr.timeSeconds);
    }
    expect(times).toHaveLength(16); // POSIX keeps an open file's data until it is closed
    const err = await failure(collect(f, { start: nextSampleTime(times[3]!) }));
    expect(err.problem).toBe('missing');
  });

  it('a file cut short while it is read (a recorder overwriting it): the rest of the file goes on, with an issue', async () => {
    const f = path.join(dir, 'overwritten.mp4');
    writeFileSync(f, readFileSync(clip));
    const times: number[] = [];
    const issues: VideoIssue[] = [];
    for await (const fr of sampleFrames(tools, f, { fps: 25, onIssue: (i) => issues.push(i) })) {
      if (times.length === 0) truncateSync(f, Math.floor(statSync(f).size / 3));
      times.push(fr.timeSeconds);
    }
    expect(times.length).toBeLessThan(200);
    expect(issues.map((i) => i.problem)).toEqual(['truncated']);
  });
});
