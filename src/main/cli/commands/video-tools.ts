import type { VideoToolsInfo } from '#shared/footage/types';
import { AppError } from '../../errors';
import {
  clearVideoToolChoice,
  readVideoToolChoice,
  saveVideoToolChoice,
  videoToolsInfo,
} from '../../media/video';
import { stringOption, type Command } from '../command';

function formatInfo(i: VideoToolsInfo): string {
  const line = (name: string, t: VideoToolsInfo['ffmpeg']): string =>
    t ? `${name.padEnd(8)} ${t.version}  (${t.source})  ${t.path}` : `${name.padEnd(8)} none`;
  return [
    line('ffmpeg', i.ffmpeg),
    line('ffprobe', i.ffprobe),
    ...(i.problem ? [`problem: ${i.problem}`] : []),
    i.chosenBy
      ? `chosen by: ${i.chosenBy === 'environment' ? 'CTGI_FFMPEG / CTGI_FFPROBE' : i.settingsFile}`
      : `chosen by: nobody (the npm binaries, or the system's when newer); the choice would go to ${i.settingsFile}`,
  ].join('\n');
}

export const videoToolsCommand: Command = {
  name: 'video-tools',
  summary: 'show which FFmpeg and ffprobe footage runs on this machine, or choose them',
  usage:
    'ctgi video-tools [--json]\n' +
    'ctgi video-tools [--ffmpeg PATH] [--ffprobe PATH] [--json]\n' +
    'ctgi video-tools --clear\n\n' +
    'Without a choice, footage runs the npm FFmpeg, or the system one when it is newer (ffprobe from the same\n' +
    'place). A chosen path is checked (it must run and print its banner) and kept for this machine in the\n' +
    'settings folder ($CTGI_CONFIG_DIR, else ~/.config/ctgi), not in a workspace. CTGI_FFMPEG and CTGI_FFPROBE\n' +
    'override it for one process. Only this command chooses: the app and the API show the choice but do not\n' +
    'take a program path, which would let anyone holding the server token run any program here.',
  options: {
    ffmpeg: { type: 'string' },
    ffprobe: { type: 'string' },
    clear: { type: 'boolean' },
  },
  run: async (values, _positionals, io) => {
    const ffmpeg = stringOption(values, 'ffmpeg');
    const ffprobe = stringOption(values, 'ffprobe');
    if (values.clear === true && (ffmpeg !== undefined || ffprobe !== undefined))
      throw new AppError('bad_request', '--clear takes no paths: clear first, then choose.');
    if (values.clear === true) clearVideoToolChoice();
    else if (ffmpeg !== undefined || ffprobe !== undefined) {
      // A tool not named keeps what the settings file held for it (the environment is not a choice to save).
      // A damaged file holds nothing worth keeping: the new choice replaces it.
      const saved = await readVideoToolChoice({ ...process.env, CTGI_FFMPEG: '', CTGI_FFPROBE: '' }).catch(
        (err: unknown) => {
          if (err instanceof AppError) return { ffmpegPath: null, ffprobePath: null };
          throw err;
        },
      );
      await saveVideoToolChoice({
        ffmpeg: ffmpeg ?? saved.ffmpegPath,
        ffprobe: ffprobe ?? saved.ffprobePath,
      });
    }
    const info = await videoToolsInfo();
    io.out(values.json ? JSON.stringify(info, null, 2) : formatInfo(info));
    return info.problem ? 1 : 0;
  },
};
