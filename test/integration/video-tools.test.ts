// Which FFmpeg footage runs: found (npm or system), or chosen on this machine with `ctgi video-tools`,
// kept in the machine's settings folder, shown read-only over the API.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHandlers, dispatch } from '../../src/main/api/handlers';
import { main } from '../../src/main/cli';
import { chosenVideoTools, videoToolsFile, videoToolsInfo } from '../../src/main/media/video';
import { openWorkspace } from '../../src/main/workspace';

const require = createRequire(import.meta.url);
const npmFfmpeg = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
const npmFfprobe = (require('@ffprobe-installer/ffprobe') as { path: string }).path;

let configDir: string;
const saved = { ...process.env };

async function ctgi(...args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await main(args, { out: (l) => lines.push(l), err: (l) => lines.push(l) });
  return { code, out: lines.join('\n') };
}

beforeEach(() => {
  configDir = mkdtempSync(join(tmpdir(), 'ctgi-config-'));
  process.env.CTGI_CONFIG_DIR = configDir;
  delete process.env.CTGI_FFMPEG;
  delete process.env.CTGI_FFPROBE;
});
afterEach(() => {
  process.env = { ...saved };
});

describe('ctgi video-tools', () => {
  it('shows the binaries found when nobody chose any', async () => {
    const r = await ctgi('video-tools', '--json');
    expect(r.code, r.out).toBe(0);
    const info = JSON.parse(r.out);
    expect(info.problem).toBeNull();
    expect(info.chosenBy).toBeNull();
    expect(['npm', 'system']).toContain(info.ffmpeg.source);
    expect(info.settingsFile).toBe(join(configDir, 'video-tools.json'));
    expect(existsSync(info.settingsFile)).toBe(false);
  });

  it('keeps a checked choice for this machine, which footage then runs, until it is cleared', async () => {
    const r = await ctgi('video-tools', '--ffmpeg', npmFfmpeg, '--ffprobe', npmFfprobe, '--json');
    expect(r.code, r.out).toBe(0);
    expect(JSON.parse(readFileSync(videoToolsFile(), 'utf8'))).toEqual({
      ffmpeg: npmFfmpeg,
      ffprobe: npmFfprobe,
    });
    const tools = await chosenVideoTools();
    expect([tools.ffmpeg.path, tools.ffmpeg.source]).toEqual([npmFfmpeg, 'user']);
    expect([tools.ffprobe.path, tools.ffprobe.source]).toEqual([npmFfprobe, 'user']);

    // Choosing one tool again keeps the other's choice.
    expect((await ctgi('video-tools', '--ffmpeg', npmFfmpeg)).code).toBe(0);
    expect(JSON.parse(readFileSync(videoToolsFile(), 'utf8')).ffprobe).toBe(npmFfprobe);

    const cleared = await ctgi('video-tools', '--clear');
    expect(cleared.code, cleared.out).toBe(0);
    expect(cleared.out).toMatch(/chosen by: nobody/);
    expect(existsSync(videoToolsFile())).toBe(false);
  });

  it('refuses a program that is not FFmpeg or not there, and writes nothing', async () => {
    const fake = join(configDir, 'not-ffmpeg');
    writeFileSync(fake, '#!/bin/sh\necho hello\n');
    chmodSync(fake, 0o755);
    const r = await ctgi('video-tools', '--ffmpeg', fake);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/not-ffmpeg does not look like ffmpeg: `ffmpeg -version` printed "hello"/);
    expect(existsSync(videoToolsFile())).toBe(false);

    const gone = await ctgi('video-tools', '--ffprobe', join(configDir, 'nowhere', 'ffprobe'));
    expect(gone.code).not.toBe(0);
    expect(gone.out).toMatch(/ffprobe chosen for this machine \(.*nowhere\/ffprobe\) does not exist/);
  });

  it('says a damaged settings file is damaged, with its path and how to repair it', async () => {
    mkdirSync(configDir, { recursive: true });
    writeFileSync(videoToolsFile(), '{"ffmpeg": 42');
    const info = await videoToolsInfo();
    expect(info.ffmpeg).toBeNull();
    expect(info.problem).toContain(`The video tools setting ${videoToolsFile()} is damaged`);
    expect(info.problem).toContain('ctgi video-tools --clear');
    const r = await ctgi('video-tools');
    expect(r.code).toBe(1);
    // Choosing again replaces the damaged file; --clear removes it.
    const again = await ctgi('video-tools', '--ffmpeg', npmFfmpeg);
    expect(again.code, again.out).toBe(0);
    expect(JSON.parse(readFileSync(videoToolsFile(), 'utf8')).ffmpeg).toBe(npmFfmpeg);
    writeFileSync(videoToolsFile(), 'not json');
    expect((await ctgi('video-tools', '--clear')).code).toBe(0);
    expect(existsSync(videoToolsFile())).toBe(false);
  });

  it('lets CTGI_FFMPEG / CTGI_FFPROBE override the settings file for one process', async () => {
    expect((await ctgi('video-tools', '--ffmpeg', npmFfmpeg)).code).toBe(0);
    process.env.CTGI_FFPROBE = npmFfprobe;
    const info = await videoToolsInfo();
    expect(info.chosenBy).toBe('environment');
    expect(info.ffprobe).toMatchObject({ path: npmFfprobe, source: 'user' });
    expect(info.ffmpeg).toMatchObject({ path: npmFfmpeg, source: 'user' });
  });
});

describe('video:tools over the API', () => {
  it('shows the choice and takes no program path', async () => {
    const ws = openWorkspace(join(configDir, 'ws.sqlite'), { resumeJobs: false });
    try {
      const handlers = createHandlers(ws);
      const shown = await dispatch(handlers, 'video:tools', {});
      expect(shown.ok).toBe(true);
      if (shown.ok) expect(shown.value).toMatchObject({ problem: null, chosenBy: null });
      const refused = await dispatch(handlers, 'video:tools', { ffmpeg: '/bin/sh' });
      expect(refused.ok).toBe(false);
      if (!refused.ok) expect(refused.error.code).toBe('bad_request');
      expect(existsSync(videoToolsFile())).toBe(false);
    } finally {
      await ws.close();
    }
  });
});
