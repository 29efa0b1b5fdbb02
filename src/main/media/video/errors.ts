// What can be wrong with a video file, as a typed error that keeps FFmpeg's own words. A footage job turns
// each into a per-file issue and goes on with the other files; the message says what to do next.
import type { ErrorCode } from '#shared/contract';
import { AppError } from '../../errors';

export const VIDEO_PROBLEMS = [
  /** The file is not there (moved, deleted, a disconnected drive). */
  'missing',
  /** The file is there but cannot be opened (permissions, a folder). */
  'unreadable',
  /** Zero bytes. */
  'empty',
  /** FFmpeg does not recognise the bytes as any container (a text file, a renamed document). */
  'not-video',
  /** A container FFmpeg recognises, cut short: no index at the end, or data ending early. */
  'truncated',
  /** A container without a video stream (audio only, subtitles only). */
  'no-video-stream',
  /** A frame rate no camera records at (header damage, a broken muxer): timestamps cannot be trusted. */
  'bad-frame-rate',
  /** FFmpeg has no decoder for the codec. */
  'unsupported-codec',
  /** FFmpeg failed while decoding. */
  'decode-failed',
  /** The caller stopped the read (pause, cancel). */
  'aborted',
] as const;
export type VideoProblem = (typeof VIDEO_PROBLEMS)[number];

const CODES: Record<VideoProblem, ErrorCode> = {
  missing: 'not_found',
  unreadable: 'bad_request',
  empty: 'bad_request',
  'not-video': 'bad_request',
  truncated: 'bad_request',
  'no-video-stream': 'bad_request',
  'bad-frame-rate': 'bad_request',
  'unsupported-codec': 'bad_request',
  'decode-failed': 'internal',
  aborted: 'unavailable',
};

export class VideoError extends AppError {
  constructor(
    readonly problem: VideoProblem,
    readonly path: string,
    message: string,
    /** FFmpeg's or ffprobe's own words (the error lines it printed), '' when it was not asked. */
    readonly ffmpegSaid: string = '',
  ) {
    super(CODES[problem], ffmpegSaid ? `${message} FFmpeg said: ${ffmpegSaid}` : message);
    this.name = 'VideoError';
  }
}

/** A non-fatal remark about a file: it was read, but not all of it, or not all of it cleanly. */
export interface VideoIssue {
  problem: 'truncated' | 'decode-errors' | 'frame-rate' | 'seek';
  message: string;
  ffmpegSaid: string;
}

/**
 * The error lines of FFmpeg's stderr (run with `-loglevel level+…`, which prefixes each line with its
 * level), deduplicated, with the component's memory address and the file's path taken out so that equal
 * problems read the same: "[mov,mp4,m4a,3gp,3g2,mj2] moov atom not found | Invalid data found when
 * processing input".
 */
export function errorLines(stderr: string, max = 6, path?: string): string {
  const seen = new Set<string>();
  for (const raw of stderr.split(/\r?\n|\r/)) {
    const m = /^(?:\[([^\]]*?) @ 0x[0-9a-f]+\] )?\[(error|fatal|panic)\] (.*)$/.exec(raw);
    if (!m) continue;
    let text = m[3]!.trim();
    if (path && text.startsWith(`${path}: `)) text = text.slice(path.length + 2);
    const line = m[1] ? `[${m[1]}] ${text}` : text;
    if (line) seen.add(line);
    if (seen.size >= max) break;
  }
  return [...seen].join(' | ');
}
