// Which FFmpeg and ffprobe the user chose on this machine. The choice is a machine setting
// (`video-tools.json` in the settings folder, see config.ts), not a workspace one: a workspace is shared
// between machines whose binaries live in different places. `CTGI_FFMPEG` / `CTGI_FFPROBE` override the
// file for one process. It is set from this machine only (`ctgi video-tools`): the API shows the choice but
// never takes a path, since naming a program to run would let anyone holding the server's token run any
// program on the host.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { configFolder } from '../../config';
import { AppError } from '../../errors';
import { FileReadError, readRegularFile } from '../../files';
import type { VideoToolInfo, VideoToolsInfo } from '#shared/footage/types';
import { locateVideoTools, type Tool, type ToolName, type VideoTools } from './tools';

export interface VideoToolChoice {
  ffmpegPath: string | null;
  ffprobePath: string | null;
  /** Where the choice came from: the environment, the settings file, or nothing chosen. */
  from: 'environment' | 'settings file' | null;
  /** The settings file, whether or not it exists. */
  file: string;
}

export const videoToolsFile = (env: NodeJS.ProcessEnv = process.env): string =>
  join(configFolder(env), 'video-tools.json');

async function readFileChoice(
  file: string,
): Promise<{ ffmpeg: string | null; ffprobe: string | null } | null> {
  let text: string;
  try {
    text = (await readRegularFile(file, 64 * 1024)).bytes.toString('utf8');
  } catch (err) {
    if (err instanceof FileReadError && err.reason === 'missing') return null;
    if (err instanceof FileReadError) throw damaged(file, `it ${err.message}`);
    throw err;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw damaged(file, err instanceof Error ? err.message : String(err));
  }
  if (typeof data !== 'object' || data === null) throw damaged(file, 'not a JSON object');
  const pick = (name: ToolName): string | null => {
    const v = (data as Record<string, unknown>)[name];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string' || v === '') throw damaged(file, `"${name}" is not a path`);
    return v;
  };
  return { ffmpeg: pick('ffmpeg'), ffprobe: pick('ffprobe') };
}

const damaged = (file: string, why: string): AppError =>
  new AppError(
    'bad_request',
    `The video tools setting ${file} is damaged (${why}). Choose again with ` +
      '`ctgi video-tools --ffmpeg PATH --ffprobe PATH`, or clear it with `ctgi video-tools --clear`.',
  );

/** The user's choice: the environment's paths win over the settings file's, each tool on its own. */
export async function readVideoToolChoice(env: NodeJS.ProcessEnv = process.env): Promise<VideoToolChoice> {
  const file = videoToolsFile(env);
  const fromEnv = { ffmpeg: env.CTGI_FFMPEG || null, ffprobe: env.CTGI_FFPROBE || null };
  const saved = await readFileChoice(file);
  const ffmpegPath = fromEnv.ffmpeg ?? saved?.ffmpeg ?? null;
  const ffprobePath = fromEnv.ffprobe ?? saved?.ffprobe ?? null;
  const from =
    fromEnv.ffmpeg || fromEnv.ffprobe
      ? 'environment'
      : saved && (saved.ffmpeg || saved.ffprobe)
        ? 'settings file'
        : null;
  return { ffmpegPath, ffprobePath, from, file };
}

/** The binaries to run: the user's choice where there is one, else found as tools.ts describes. */
export async function chosenVideoTools(env: NodeJS.ProcessEnv = process.env): Promise<VideoTools> {
  const c = await readVideoToolChoice(env);
  return locateVideoTools({ ffmpegPath: c.ffmpegPath, ffprobePath: c.ffprobePath });
}

/**
 * Saves a choice after checking it: each path given must run and print its tool's banner (the check's own
 * error says what is wrong, and nothing is written). A tool given no path is found as tools.ts describes.
 */
export async function saveVideoToolChoice(
  choice: { ffmpeg: string | null; ffprobe: string | null },
  env: NodeJS.ProcessEnv = process.env,
): Promise<VideoTools> {
  const paths = {
    ffmpeg: choice.ffmpeg ? resolve(choice.ffmpeg) : null,
    ffprobe: choice.ffprobe ? resolve(choice.ffprobe) : null,
  };
  if (!paths.ffmpeg && !paths.ffprobe)
    throw new AppError('bad_request', 'Give --ffmpeg PATH, --ffprobe PATH or both (or --clear).');
  const tools = await locateVideoTools({ ffmpegPath: paths.ffmpeg, ffprobePath: paths.ffprobe });
  const file = videoToolsFile(env);
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(paths, null, 2)}\n`, 'utf8');
  renameSync(tmp, file);
  return tools;
}

/** Forgets the choice (a damaged settings file too): footage finds FFmpeg again as tools.ts describes. */
export function clearVideoToolChoice(env: NodeJS.ProcessEnv = process.env): void {
  rmSync(videoToolsFile(env), { force: true });
}

/** The binaries footage would run now, or the reason none can, for Settings and `ctgi video-tools`. */
export async function videoToolsInfo(env: NodeJS.ProcessEnv = process.env): Promise<VideoToolsInfo> {
  const settingsFile = videoToolsFile(env);
  const info = (t: Tool): VideoToolInfo => ({ path: t.path, source: t.source, version: t.version });
  let choice: VideoToolChoice;
  try {
    choice = await readVideoToolChoice(env);
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return { ffmpeg: null, ffprobe: null, problem: err.message, chosenBy: null, settingsFile };
  }
  try {
    const tools = await locateVideoTools({ ffmpegPath: choice.ffmpegPath, ffprobePath: choice.ffprobePath });
    return {
      ffmpeg: info(tools.ffmpeg),
      ffprobe: info(tools.ffprobe),
      problem: null,
      chosenBy: choice.from,
      settingsFile,
    };
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return { ffmpeg: null, ffprobe: null, problem: err.message, chosenBy: choice.from, settingsFile };
  }
}
