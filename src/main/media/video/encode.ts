// Writes raw RGB frames into a video file with FFmpeg (frames piped to its stdin, H.264 in MP4 by
// default). The synthetic footage world is encoded this way, with the same FFmpeg that later reads it.
import { spawn } from 'node:child_process';
import { rename, rm } from 'node:fs/promises';
import { AppError } from '../../errors';
import { errorLines } from './errors';
import type { VideoTools } from './tools';

export interface EncodeOptions {
  width: number;
  height: number;
  /** Frames per second of the input frames (a constant rate: frame k is shown at k / fps). */
  fps: number;
  /** x264 constant rate factor; 23 is x264's default, lower is better quality. */
  crf?: number;
  /** x264 preset; 'veryfast' keeps synthetic footage quick to make. */
  preset?: string;
  /** Keyframe interval in frames (CCTV recorders use 1–4 s). Default 2 s. */
  gop?: number;
  /** Written as the container's creation_time tag (ISO 8601). */
  creationTime?: string;
  signal?: AbortSignal;
}

/**
 * Encodes `frames` (each width × height × 3 bytes of packed RGB) into `outPath` (MP4, H.264, yuv420p,
 * moov at the front). The file appears only once complete (written beside it, then renamed).
 */
export async function encodeVideo(
  tools: VideoTools,
  outPath: string,
  frames: AsyncIterable<Buffer> | Iterable<Buffer>,
  opts: EncodeOptions,
): Promise<{ frames: number }> {
  const partial = `${outPath}.partial.mp4`;
  const args = [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel',
    'level+error',
    '-y',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    '-s',
    `${opts.width}x${opts.height}`,
    '-r',
    String(opts.fps),
    '-i',
    'pipe:0',
    '-c:v',
    'libx264',
    '-preset',
    opts.preset ?? 'veryfast',
    '-crf',
    String(opts.crf ?? 23),
    '-g',
    String(opts.gop ?? Math.round(opts.fps * 2)),
    '-pix_fmt',
    'yuv420p',
    // x264's bytes depend on its thread count: a fixed count keeps files equal across machines.
    '-threads',
    '2',
    '-movflags',
    '+faststart',
    ...(opts.creationTime ? ['-metadata', `creation_time=${opts.creationTime}`] : []),
    partial,
  ];
  const child = spawn(tools.ffmpeg.path, args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  // FFmpeg may exit (bad options, disk full) while frames are still being written: the write then fails
  // with EPIPE, reported below with FFmpeg's own words rather than as an unhandled stream error.
  child.stdin.on('error', () => undefined);
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => (stderr = (stderr + s).slice(-20_000)));
  const closed = new Promise<number | null>((resolve) => {
    child.on('error', (err) => {
      stderr += `\n[error] ${err.message}\n`;
      resolve(-1);
    });
    child.on('close', (code) => resolve(code));
  });
  const onAbort = (): void => void child.kill('SIGKILL');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const size = opts.width * opts.height * 3;
  let count = 0;
  try {
    for await (const frame of frames) {
      if (frame.length !== size)
        throw new AppError('bad_request', `Frame ${count} has ${frame.length} bytes; expected ${size}.`);
      // Back-pressure: wait while FFmpeg's pipe is full.
      if (!child.stdin.write(frame)) {
        let onDrain = (): void => {};
        await Promise.race([
          new Promise<void>((resolve) => child.stdin.once('drain', (onDrain = resolve))),
          closed,
        ]);
        child.stdin.off('drain', onDrain);
      }
      count++;
      if (opts.signal?.aborted) break;
    }
    child.stdin.end();
    const code = await closed;
    if (opts.signal?.aborted) throw new AppError('unavailable', `Encoding ${outPath} was stopped.`);
    if (code !== 0)
      throw new AppError(
        'internal',
        `FFmpeg could not encode ${outPath} (exit code ${code}): ${errorLines(stderr) || stderr.slice(-500)}`,
      );
    await rename(partial, outPath);
    return { frames: count };
  } catch (err) {
    child.kill('SIGKILL');
    await closed;
    await rm(partial, { force: true });
    throw err;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
