// Frames out of a video, with the times they are shown at. FFmpeg is spawned directly and writes raw RGB24
// frames to a pipe; its `showinfo` filter reports each frame's presentation timestamp on stderr, in the
// stream's own time base, so a frame's time is exact (pts × time base) rather than a position on a grid.
//
// Sampling at F frames per second takes the first frame of each 1/F-second bin of the video's timeline
// (`select`, with frames passed through unchanged: `-fps_mode/-vsync passthrough`). The `fps` filter is not
// used: it re-times the frames it keeps onto its grid, so a frame shown at 0.52 s would be reported as
// 0.5 s. Bins are counted from the video's start, so a read resumed at a bin boundary (nextSampleTime())
// yields exactly the frames an uninterrupted read would have.
//
// Seeking is `-ss` before `-i` (fast: the demuxer jumps to a keyframe) with FFmpeg's accurate seek (frames
// before the target are decoded and dropped). Some containers (MPEG-TS) land past the target instead; the
// first frame's time is checked, and the read starts again from further back when it overshot.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import sharp from 'sharp';
import { errorLines, VideoError, type VideoIssue } from './errors';
import { checkFile, probeVideo, type VideoInfo } from './probe';
import { compareVersions, type VideoTools } from './tools';

export const DEFAULT_SAMPLE_FPS = 2;

export interface SampleOptions {
  /** Frames per second of video to keep (the first frame of each 1/fps bin). Default 2. */
  fps?: number;
  /** Seconds from the video's start (VideoInfo.startSeconds); frames shown at or after it. */
  start?: number;
  /** Seconds from the video's start; frames shown before it. */
  end?: number;
  /** Stop after this many frames. */
  limit?: number;
  /** Kills FFmpeg; the iteration then throws a VideoError 'aborted'. */
  signal?: AbortSignal;
  /** A file read to its end with a remark: cut short, or with damaged packets along the way. */
  onIssue?: (issue: VideoIssue) => void;
  /** The file's probe, when the caller has it already. */
  info?: VideoInfo;
}

export interface SampledFrame {
  /** Seconds from the video's start: (pts − start_time), exact. */
  timeSeconds: number;
  /** The frame's presentation timestamp in seconds, as stored in the file. */
  ptsSeconds: number;
  /** Packed 8-bit RGB, width × height × 3 bytes. */
  rgb: Buffer;
  width: number;
  height: number;
}

/** Where a read that stopped after the frame at `lastTime` resumes, so that the same frames follow. */
export function nextSampleTime(lastTime: number, fps: number = DEFAULT_SAMPLE_FPS): number {
  return (Math.floor(lastTime * fps + 1e-6) + 1) / fps;
}

/** How far before the target each retry seeks when the container's seek overshot (last: from the start). */
const SEEK_MARGINS = [0, 10, 60, Infinity];

interface FrameMeta {
  pts: number;
  width: number;
  height: number;
}

/** Incremental parser of FFmpeg's stderr: showinfo's frames, the time base, and everything else kept for errors. */
class StderrLog {
  private rest = '';
  private readonly lines: string[] = [];
  private timeBase: [number, number] | null = null;
  readonly metas: FrameMeta[] = [];
  private waiters: (() => void)[] = [];
  closed = false;

  push(chunk: string): void {
    const text = this.rest + chunk;
    const parts = text.split(/\r?\n|\r/);
    this.rest = parts.pop() ?? '';
    for (const line of parts) this.line(line);
  }

  close(): void {
    if (this.rest) this.line(this.rest);
    this.rest = '';
    this.closed = true;
    this.wake();
  }

  private line(line: string): void {
    if (line.includes('Parsed_showinfo')) {
      const tb = /config in time_base: (\d+)\/(\d+)/.exec(line);
      if (tb) {
        this.timeBase = [Number(tb[1]), Number(tb[2])];
        return;
      }
      const f = /\bn:\s*\d+\s+pts:\s*(-?\d+)\s+pts_time:(\S+).*?\bs:(\d+)x(\d+)/.exec(line);
      if (f) {
        // Exact: integer pts × the time base; pts_time is printed with 6 significant digits only.
        const pts = this.timeBase ? (Number(f[1]) * this.timeBase[0]) / this.timeBase[1] : Number(f[2]);
        this.metas.push({ pts, width: Number(f[3]), height: Number(f[4]) });
        this.wake();
      }
      return;
    }
    this.lines.push(line);
    if (this.lines.length > 400) this.lines.splice(0, this.lines.length - 300);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves when frame meta `i` has arrived, or stderr has closed. */
  async meta(i: number): Promise<FrameMeta | null> {
    while (this.metas.length <= i && !this.closed) await new Promise<void>((r) => this.waiters.push(r));
    return this.metas[i] ?? null;
  }

  text(): string {
    return this.lines.join('\n');
  }
}

/** Reads exactly n bytes (fewer at the end of the stream, null when nothing is left). */
function readExactly(stream: Readable, n: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const done = (v: Buffer | null, err?: Error): void => {
      stream.off('readable', attempt);
      stream.off('end', onEnd);
      stream.off('error', onError);
      if (err) reject(err);
      else resolve(v);
    };
    const onEnd = (): void => done(null);
    const onError = (err: Error): void => done(null, err);
    function attempt(): void {
      const chunk = stream.read(n) as Buffer | null;
      if (chunk !== null) done(chunk);
      else if (stream.readableEnded) done(null);
    }
    stream.on('readable', attempt);
    stream.on('end', onEnd);
    stream.on('error', onError);
    attempt();
  });
}

const fmt = (x: number): string => x.toFixed(9);

function ffmpegArgs(
  tools: VideoTools,
  path: string,
  info: VideoInfo,
  fps: number,
  start: number,
  end: number | null,
  margin: number,
): string[] {
  const S = info.startSeconds;
  const seek = margin === Infinity ? 0 : Math.max(0, start - margin);
  const select =
    `gte(t,${fmt(S + start - 5e-4)})` +
    (end !== null ? `*lt(t,${fmt(S + end - 5e-4)})` : '') +
    `*(isnan(prev_selected_t)+gte(floor((t-${fmt(S)})*${fmt(fps)}+1e-6),floor((prev_selected_t-${fmt(S)})*${fmt(fps)}+1e-6)+1))`;
  const passthrough = compareVersions(tools.ffmpeg.libavformat, [59, 27, 0]) >= 0 ? '-fps_mode' : '-vsync';
  return [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel',
    'level+info',
    // Timestamps as in the file, so that showinfo reports true presentation times after a seek.
    '-copyts',
    ...(seek > 0 ? ['-ss', fmt(seek)] : []),
    ...(end !== null ? ['-t', fmt(end - seek + 1)] : []),
    '-i',
    path,
    '-map',
    `0:${info.video.index}`,
    '-an',
    '-sn',
    '-dn',
    '-vf',
    `select='${select}',format=rgb24,showinfo`,
    passthrough,
    'passthrough',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    'pipe:1',
  ];
}

interface Attempt {
  child: ChildProcess;
  log: StderrLog;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(tools: VideoTools, args: string[]): Attempt {
  const child = spawn(tools.ffmpeg.path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = new StderrLog();
  // Errors of the pipes themselves surface as FFmpeg's exit status; never as an unhandled stream error.
  child.stdout!.on('error', () => undefined);
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => log.push(s));
  child.stderr!.on('end', () => log.close());
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('error', (err) => {
      log.push(`\n[error] ${err.message}\n`);
      log.close();
      resolve({ code: -1, signal: null });
    });
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  return { child, log, exit };
}

function kill(a: Attempt): void {
  if (a.child.exitCode === null && a.child.signalCode === null) a.child.kill('SIGKILL');
}

/**
 * Samples frames at `fps` (default 2) from a video, from `start` to `end` (seconds from its start), each
 * with its exact presentation time. Frames are read only as fast as the consumer takes them: FFmpeg blocks
 * on the pipe while the consumer works. Breaking out of the loop or aborting the signal kills FFmpeg.
 */
export async function* sampleFrames(
  tools: VideoTools,
  path: string,
  opts: SampleOptions = {},
): AsyncGenerator<SampledFrame, void, undefined> {
  const fps = opts.fps ?? DEFAULT_SAMPLE_FPS;
  if (!(fps > 0 && fps <= 1000)) throw new RangeError(`fps must be in (0, 1000], got ${fps}`);
  const aborted = (): VideoError =>
    new VideoError('aborted', path, `Reading ${path} was stopped before the end.`);
  if (opts.signal?.aborted) throw aborted();
  const info = opts.info ?? (await probeVideo(tools, path));
  const startAt = Math.max(0, opts.start ?? 0);
  const end = opts.end ?? null;
  if (end !== null && end <= startAt) return;
  const frameGap = info.video.avgFps ? 1 / info.video.avgFps : 0.1;
  let yielded = 0;
  let lastTime = -Infinity;

  for (let m = startAt > 0 ? 0 : SEEK_MARGINS.length - 1; m < SEEK_MARGINS.length; m++) {
    const attempt = start(tools, ffmpegArgs(tools, path, info, fps, startAt, end, SEEK_MARGINS[m]!));
    const onAbort = (): void => kill(attempt);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    let overshot = false;
    try {
      for (let i = 0; ; i++) {
        if (opts.limit !== undefined && yielded >= opts.limit) return;
        const meta = await attempt.log.meta(i);
        if (opts.signal?.aborted) throw aborted();
        if (!meta) break;
        const timeSeconds = meta.pts - info.startSeconds;
        // The demuxer jumped past the target: start again from further back (the frames in between exist
        // only if the file has them; a read from further back finds them).
        if (
          i === 0 &&
          startAt > 0 &&
          timeSeconds > startAt + 1.5 * frameGap + 1e-3 &&
          m < SEEK_MARGINS.length - 1
        ) {
          overshot = true;
          break;
        }
        const bytes = meta.width * meta.height * 3;
        const rgb = await readExactly(attempt.child.stdout!, bytes);
        if (opts.signal?.aborted) throw aborted();
        if (!rgb || rgb.length < bytes) break;
        lastTime = timeSeconds;
        yielded++;
        yield { timeSeconds, ptsSeconds: meta.pts, rgb, width: meta.width, height: meta.height };
      }
      if (overshot) {
        opts.onIssue?.({
          problem: 'seek',
          message: `Seeking to ${startAt.toFixed(3)} s landed later in ${path}; read again from ${SEEK_MARGINS[m + 1] === Infinity ? 'the start' : `${SEEK_MARGINS[m + 1]} s earlier`}.`,
          ffmpegSaid: '',
        });
        continue;
      }
      const { code, signal } = await attempt.exit;
      if (opts.signal?.aborted) throw aborted();
      const stderr = attempt.log.text();
      const said = errorLines(stderr, 6, path);
      if (code !== 0) {
        // The file may have gone while FFmpeg had it open, or been replaced.
        await checkFile(path);
        if (/Decoder \(codec .*\) not found|Unknown decoder|Decoding requested, but no decoder/i.test(stderr))
          throw new VideoError(
            'unsupported-codec',
            path,
            `${path}: this FFmpeg (${tools.ffmpeg.version}) cannot decode its ${info.video.codec} video; choose an FFmpeg build that can with \`ctgi video-tools --ffmpeg PATH\`.`,
            said,
          );
        throw new VideoError(
          'decode-failed',
          path,
          `FFmpeg stopped reading ${path} ${signal ? `(killed by ${signal})` : `(exit code ${code})`} after ${yielded} sampled frames${yielded ? ` (last at ${lastTime.toFixed(2)} s)` : ''}.`,
          said,
        );
      }
      const expectedEnd = Math.min(end ?? Infinity, info.durationSeconds ?? -Infinity);
      if (Number.isFinite(expectedEnd) && lastTime < expectedEnd - 1 / fps - 2 * frameGap && said) {
        opts.onIssue?.({
          problem: 'truncated',
          message: `${path} ends early: frames stop at ${yielded ? `${lastTime.toFixed(2)} s` : 'the start'} of the ${expectedEnd.toFixed(2)} s its header announces (the file is cut short or damaged); what is there was read.`,
          ffmpegSaid: said,
        });
      } else if (said) {
        opts.onIssue?.({
          problem: 'decode-errors',
          message: `FFmpeg reported damaged data in ${path}; frames it could decode were read.`,
          ffmpegSaid: said,
        });
      }
      return;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      kill(attempt);
      attempt.child.stdout?.destroy();
    }
  }
}

export interface StillFrame {
  timeSeconds: number;
  width: number;
  height: number;
  /** Encoded image bytes. */
  data: Buffer;
  format: 'jpeg' | 'png';
}

/**
 * The frame shown at or right after `tSeconds` (seconds from the video's start), encoded as JPEG or PNG:
 * pass a sampled frame's own timeSeconds to get that very frame back.
 */
export async function frameAt(
  tools: VideoTools,
  path: string,
  tSeconds: number,
  opts: { format?: 'jpeg' | 'png'; quality?: number; info?: VideoInfo; signal?: AbortSignal } = {},
): Promise<StillFrame> {
  const format = opts.format ?? 'jpeg';
  for await (const f of sampleFrames(tools, path, {
    start: tSeconds,
    // The first frame at or after the target is always kept, whatever the rate.
    limit: 1,
    ...(opts.info ? { info: opts.info } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  })) {
    const img = sharp(f.rgb, { raw: { width: f.width, height: f.height, channels: 3 } });
    const data =
      format === 'png'
        ? await img.png({ compressionLevel: 6 }).toBuffer()
        : await img.jpeg({ quality: opts.quality ?? 90 }).toBuffer();
    return { timeSeconds: f.timeSeconds, width: f.width, height: f.height, data, format };
  }
  throw new VideoError(
    'decode-failed',
    path,
    `${path} has no frame at or after ${tSeconds.toFixed(3)} s (it is shorter, or the frames there cannot be decoded).`,
  );
}
