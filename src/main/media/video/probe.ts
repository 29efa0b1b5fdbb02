// probeVideo(): what a video file holds, from ffprobe's JSON, or a VideoError that says what is wrong with
// it in ffprobe's own words.
import { execFile } from 'node:child_process';
import { open, stat } from 'node:fs/promises';
import { errorLines, VideoError, type VideoIssue } from './errors';
import type { VideoTools } from './tools';

/** Above this many frames per second the timestamps are not a camera's (CCTV records ≤ 60, slow-motion ≤ 960). */
export const MAX_PLAUSIBLE_FPS = 1000;

export interface VideoInfo {
  path: string;
  sizeBytes: number;
  /** ffprobe's format_name, e.g. "mov,mp4,m4a,3gp,3g2,mj2", "mpegts", "matroska,webm". */
  container: string;
  /** Seconds, or null when neither the container nor the stream says. */
  durationSeconds: number | null;
  /**
   * The container's start time in seconds (0 for most MP4s, often > 0 for MPEG-TS). Frame times reported
   * by this module are measured from it, and seeking takes times measured from it.
   */
  startSeconds: number;
  /** The first video stream (the one that is read). */
  video: {
    index: number;
    codec: string;
    /** Display size: after the rotation in the file's metadata, as decoded frames come out. */
    width: number;
    height: number;
    /** Degrees the decoder turns the picture (phone footage): 0, 90, 180 or 270. */
    rotation: number;
    /** avg_frame_rate: frames over duration; the rate to trust. Null when the stream does not say. */
    avgFps: number | null;
    /** r_frame_rate: the finest rate its timestamps need (large for variable-rate streams). */
    rFps: number | null;
    /** Frame count from the header, when the container stores one. */
    frames: number | null;
    timeBase: string;
  };
  streams: { total: number; video: number; audio: number; other: number };
  /** The container's creation_time tag (ISO 8601, as written: many cameras write local time marked Z). */
  creationTime: string | null;
  /** Accepted with a remark (e.g. a nonsensical r_frame_rate beside a sane average). */
  issues: VideoIssue[];
}

interface ProbeJson {
  error?: { code: number; string: string };
  format?: {
    format_name?: string;
    duration?: string;
    start_time?: string;
    tags?: Record<string, string>;
  };
  streams?: {
    index: number;
    codec_type?: string;
    codec_name?: string;
    width?: number;
    height?: number;
    avg_frame_rate?: string;
    r_frame_rate?: string;
    nb_frames?: string;
    duration?: string;
    time_base?: string;
    tags?: Record<string, string>;
    side_data_list?: { side_data_type?: string; rotation?: number }[];
  }[];
}

/** "30000/1001" → 29.97…; "0/0" and nonsense → null. */
export function parseRate(r: string | undefined): number | null {
  if (!r) return null;
  const [n, d] = r.split('/').map(Number);
  if (!Number.isFinite(n) || !Number.isFinite(d) || !d || !n) return null;
  return n! / d!;
}

const num = (s: string | undefined): number | null => {
  if (s === undefined || s === 'N/A') return null;
  const v = Number(s);
  return Number.isFinite(v) ? v : null;
};

interface RunResult {
  code: number;
  signal: string | null;
  stdout: string;
  stderr: string;
}

function run(path: string, args: string[]): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(path, args, { maxBuffer: 16 * 1024 * 1024, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, signal: err?.signal ?? null, stdout, stderr });
    });
  });
}

/** Container signatures at the start of a file, to tell a cut-short video from something that never was one. */
function looksLikeContainer(head: Buffer): boolean {
  const ascii = head.toString('latin1');
  return (
    ascii.slice(4, 8) === 'ftyp' || // MP4/MOV
    ['moov', 'mdat', 'free', 'wide', 'skip'].includes(ascii.slice(4, 8)) ||
    head.readUInt32BE(0) === 0x1a45dfa3 || // Matroska/WebM
    ascii.startsWith('RIFF') || // AVI
    head[0] === 0x47 || // MPEG-TS sync byte
    head.readUInt32BE(0) === 0x000001ba || // MPEG-PS
    head.readUInt32BE(0) === 0x00000001 || // raw H.264/H.265 start code
    ascii.startsWith('FLV')
  );
}

async function fileHead(path: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(16);
    const { bytesRead } = await fh.read(buf, 0, 16, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Missing, unreadable or empty files, told apart by the file system before ffprobe runs. */
export async function checkFile(path: string): Promise<number> {
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile())
      throw new VideoError('unreadable', path, `${path} is not a file (a folder or a device); skip it.`);
    size = s.size;
  } catch (err) {
    if (err instanceof VideoError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new VideoError(
        'missing',
        path,
        `${path} is not there any more (moved, deleted, or its drive is disconnected). Put it back and run again.`,
      );
    throw new VideoError(
      'unreadable',
      path,
      `${path} cannot be read (${code ?? String(err)}); check its permissions.`,
    );
  }
  if (size === 0)
    throw new VideoError(
      'empty',
      path,
      `${path} is empty (0 bytes): the recording never got written. Copy it again from the recorder.`,
    );
  return size;
}

/** Probes a video file: streams, duration, frame rate, size, codec, creation time; see VideoInfo. */
export async function probeVideo(tools: VideoTools, path: string): Promise<VideoInfo> {
  const sizeBytes = await checkFile(path);
  const r = await run(tools.ffprobe.path, [
    '-v',
    'level+error',
    '-print_format',
    'json',
    '-show_format',
    '-show_streams',
    '-show_error',
    path,
  ]);
  if (r.signal) {
    // ffprobe itself crashed (a build's bug, not the file's): say so, and which binary.
    throw new VideoError(
      'decode-failed',
      path,
      `ffprobe ${tools.ffprobe.version} (${tools.ffprobe.source}, ${tools.ffprobe.path}) crashed on ${path} ` +
        `(${r.signal}). Choose another ffprobe with \`ctgi video-tools --ffprobe PATH\` (e.g. the system's, apt-get install ffmpeg).`,
      errorLines(r.stderr, 6, path),
    );
  }
  let json: ProbeJson = {};
  try {
    json = JSON.parse(r.stdout) as ProbeJson;
  } catch {
    // stays empty: handled below with ffprobe's stderr
  }
  const said = errorLines(r.stderr, 6, path) || json.error?.string || '';
  if (json.error || !json.format) {
    // Re-check the file system: it may have gone between stat and ffprobe.
    await checkFile(path);
    let head: Buffer = Buffer.alloc(0);
    try {
      head = await fileHead(path);
    } catch {
      // unreadable now: the stat above would have said
    }
    if (head.length >= 8 && looksLikeContainer(head)) {
      throw new VideoError(
        'truncated',
        path,
        `${path} starts like a video container but FFmpeg cannot open it: it is probably cut short (a recording ` +
          `that was interrupted before its index was written, or an incomplete copy). Copy it again, or repair it ` +
          `with a tool that rebuilds the index (e.g. untrunc with a good file from the same camera).`,
        said,
      );
    }
    throw new VideoError(
      'not-video',
      path,
      `${path} is not a video FFmpeg can read (its bytes match no container format). Check that it is a ` +
        `recording and not another file with a video extension.`,
      said,
    );
  }

  const streams = json.streams ?? [];
  const videos = streams.filter((s) => s.codec_type === 'video');
  const counts = {
    total: streams.length,
    video: videos.length,
    audio: streams.filter((s) => s.codec_type === 'audio').length,
    other: streams.filter((s) => s.codec_type !== 'video' && s.codec_type !== 'audio').length,
  };
  // Cover art (an attached picture) is a video stream of one frame; footage has a real one.
  const v = videos.find((s) => s.avg_frame_rate !== '0/0' || s.nb_frames !== '1') ?? videos[0];
  if (!v) {
    const kinds = streams.map((s) => s.codec_type ?? 'unknown').join(', ') || 'none';
    throw new VideoError(
      'no-video-stream',
      path,
      `${path} has no video stream (its streams: ${kinds}); there is nothing to search in it.`,
    );
  }
  const issues: VideoIssue[] = [];
  const avgFps = parseRate(v.avg_frame_rate);
  const rFps = parseRate(v.r_frame_rate);
  const frames = num(v.nb_frames);
  // A damaged header can give the container a zero duration beside a stream that has one.
  const durationSeconds =
    [num(json.format.duration), num(v.duration)].find((d) => d !== null && d > 0) ?? null;
  const rate = avgFps ?? (frames && durationSeconds ? frames / durationSeconds : rFps);
  if (rate !== null && rate > MAX_PLAUSIBLE_FPS) {
    const detail =
      frames !== null && durationSeconds !== null
        ? ` (${frames} frames in ${durationSeconds.toPrecision(3)} s)`
        : durationSeconds !== null
          ? ` (${durationSeconds.toPrecision(3)} s long)`
          : '';
    throw new VideoError(
      'bad-frame-rate',
      path,
      `${path} says it runs at ${Math.round(rate)} frames per second${detail}, which no camera records: its ` +
        `timestamps are damaged, so no frame could be given a true time. Re-encode it with the real rate, e.g. ` +
        `ffmpeg -i IN -vf setpts=N/25/TB -r 25 OUT.mp4 for a 25 fps camera.`,
      `r_frame_rate=${v.r_frame_rate}, avg_frame_rate=${v.avg_frame_rate}`,
    );
  }
  if (rFps !== null && rFps > MAX_PLAUSIBLE_FPS && avgFps !== null) {
    issues.push({
      problem: 'frame-rate',
      message: `The stream's r_frame_rate is ${v.r_frame_rate} (a variable-rate stream's timestamp grid); the average ${avgFps.toFixed(3)} fps is used.`,
      ffmpegSaid: '',
    });
  }
  const rotation = Math.round(
    (((v.side_data_list?.find((d) => typeof d.rotation === 'number')?.rotation ??
      num(v.tags?.rotate ?? undefined) ??
      0) %
      360) +
      360) %
      360,
  );
  const swap = rotation === 90 || rotation === 270;
  const width = v.width ?? 0;
  const height = v.height ?? 0;
  return {
    path,
    sizeBytes,
    container: json.format.format_name ?? 'unknown',
    durationSeconds,
    startSeconds: num(json.format.start_time) ?? 0,
    video: {
      index: v.index,
      codec: v.codec_name ?? 'unknown',
      width: swap ? height : width,
      height: swap ? width : height,
      rotation,
      avgFps,
      rFps,
      frames,
      timeBase: v.time_base ?? '',
    },
    streams: counts,
    creationTime: json.format.tags?.creation_time ?? v.tags?.creation_time ?? null,
    issues,
  };
}
