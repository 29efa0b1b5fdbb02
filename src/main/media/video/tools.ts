// Which FFmpeg and ffprobe to run. Three places can hold them: a path the user chose (choice.ts), the
// system's PATH, and the npm packages @ffmpeg-installer/ffmpeg and @ffprobe-installer/ffprobe (static
// builds shipped inside node_modules, no download step). A user's path always wins. Otherwise the system's
// pair when its ffmpeg is newer than the npm one, else the npm pair: ffprobe comes from the same place as
// ffmpeg (falling back to the other place only when that one has none), because the two npm packages are
// not a pair — @ffmpeg-installer ships a 2018 build of 4.1, @ffprobe-installer a 2023 git snapshot that is
// "newer" than Debian 12's 5.1 yet segfaults on every MPEG-TS file (seen here, exit 139), while Debian's
// ffprobe reads them. "Newer" compares libavformat's version as the binary prints it, which orders releases
// and git snapshots alike (a snapshot's banner says "N-47683-g0e8eb07980", not a release number).
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { stat } from 'node:fs/promises';
import { AppError } from '../../errors';
import { unpackedPath } from '../../unpacked';

export type ToolName = 'ffmpeg' | 'ffprobe';
export type ToolSource = 'user' | 'system' | 'npm';

export interface Tool {
  name: ToolName;
  path: string;
  source: ToolSource;
  /** The banner's version word: "5.1.9-0+deb12u1", or a git snapshot's "N-66595-gc2b38619c0". */
  version: string;
  /** libavformat major.minor.micro, what "newer" compares. */
  libavformat: [number, number, number];
}

export interface VideoTools {
  ffmpeg: Tool;
  ffprobe: Tool;
}

export interface LocateOptions {
  /** Paths the user chose; each is checked and used even when another binary is newer. */
  ffmpegPath?: string | null;
  ffprobePath?: string | null;
  /** Directories searched for the system binaries; default $PATH. */
  searchPath?: string;
  /** Leave out the npm binaries (a test of the system-only path, or a build that does not ship them). */
  skipNpm?: boolean;
}

const require = createRequire(import.meta.url);
const NPM_PACKAGE: Record<ToolName, string> = {
  ffmpeg: '@ffmpeg-installer/ffmpeg',
  ffprobe: '@ffprobe-installer/ffprobe',
};

/**
 * The binary inside the npm package, or null when the package (or its platform part) is not installed.
 * In a packaged app the package's own path points into app.asar; the executable is unpacked beside it
 * (electron-builder.cjs).
 */
function npmBinary(name: ToolName): string | null {
  try {
    const p = unpackedPath((require(NPM_PACKAGE[name]) as { path: string }).path);
    return existsSync(p) ? p : null;
  } catch {
    return null;
  }
}

function systemBinary(name: ToolName, searchPath: string): string | null {
  const file = process.platform === 'win32' ? `${name}.exe` : name;
  for (const dir of searchPath.split(delimiter)) {
    if (!dir || dir.includes('node_modules')) continue;
    const p = join(dir, file);
    try {
      if (statSync(p).isFile()) {
        accessSync(p, constants.X_OK);
        return p;
      }
    } catch {
      // not here
    }
  }
  return null;
}

/** Parses `<name> -version` output; null when it is not an FFmpeg banner. */
export function parseVersionBanner(
  name: ToolName,
  text: string,
): { version: string; libavformat: [number, number, number] } | null {
  const banner = new RegExp(`^${name} version (\\S+)`, 'm').exec(text);
  const lavf = /^libavformat\s+(\d+)\.\s*(\d+)\.\s*(\d+)/m.exec(text);
  if (!banner || !lavf) return null;
  return { version: banner[1]!, libavformat: [Number(lavf[1]), Number(lavf[2]), Number(lavf[3])] };
}

export const compareVersions = (a: readonly number[], b: readonly number[]): number =>
  a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;

function runVersion(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(path, ['-hide_banner', '-version'], { timeout: 15_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}${stderr ? `: ${stderr.trim().slice(0, 300)}` : ''}`));
      else resolve(stdout);
    });
  });
}

/**
 * Binaries already inspected in this process, by path, size and modification time: a job no longer runs
 * every candidate's `-version` again (a second on a loaded machine); a binary replaced since is run again.
 */
const inspected = new Map<string, Tool>();

async function inspect(name: ToolName, path: string, source: ToolSource): Promise<Tool> {
  let key: string | null = null;
  try {
    const s = await stat(path);
    key = `${name}\0${source}\0${path}\0${s.size}\0${s.mtimeMs}\0${s.ino}`;
  } catch {
    key = null;
  }
  const known = key === null ? undefined : inspected.get(key);
  if (known) return { ...known };
  const tool = await inspectUncached(name, path, source);
  if (key !== null) inspected.set(key, { ...tool });
  return tool;
}

async function inspectUncached(name: ToolName, path: string, source: ToolSource): Promise<Tool> {
  let out: string;
  try {
    out = await runVersion(path);
  } catch (err) {
    throw new AppError(
      'unavailable',
      `${path} (${source} ${name}) does not run: ${err instanceof Error ? err.message : String(err)}. ` +
        `Choose a working ${name} with \`ctgi video-tools --${name} PATH\`, or install one (Debian/Ubuntu: apt-get install ffmpeg).`,
    );
  }
  const v = parseVersionBanner(name, out);
  if (!v) {
    throw new AppError(
      'bad_request',
      `${path} does not look like ${name}: \`${name} -version\` printed "${out.split('\n')[0]?.slice(0, 120)}".`,
    );
  }
  return { name, path, source, ...v };
}

function candidatePaths(name: ToolName, opts: LocateOptions): { npm: string | null; system: string | null } {
  return {
    npm: opts.skipNpm ? null : npmBinary(name),
    system: systemBinary(name, opts.searchPath ?? process.env.PATH ?? ''),
  };
}

async function userTool(name: ToolName, path: string): Promise<Tool> {
  if (!existsSync(path))
    throw new AppError(
      'bad_request',
      `The ${name} chosen for this machine (${path}) does not exist; choose it again with \`ctgi video-tools --${name} PATH\` or clear the choice with \`ctgi video-tools --clear\`.`,
    );
  return inspect(name, path, 'user');
}

const notFound = (name: ToolName, failures: string[]): AppError =>
  new AppError(
    'unavailable',
    `No ${name} found${failures.length ? ` that runs (${failures.join('; ')})` : ''}. Install FFmpeg ` +
      `(Debian/Ubuntu: apt-get install ffmpeg; macOS: brew install ffmpeg) or choose a ${name} binary with \`ctgi video-tools --${name} PATH\`.`,
  );

/** The working binaries of one name, npm first. */
async function inspectAll(
  name: ToolName,
  opts: LocateOptions,
): Promise<{ tools: Tool[]; failures: string[] }> {
  const paths = candidatePaths(name, opts);
  const tools: Tool[] = [];
  const failures: string[] = [];
  for (const source of ['npm', 'system'] as const) {
    const path = paths[source];
    if (!path) continue;
    try {
      tools.push(await inspect(name, path, source));
    } catch (err) {
      failures.push(err instanceof Error ? err.message : String(err));
    }
  }
  return { tools, failures };
}

/** Finds ffmpeg and ffprobe (see the file comment for the order) and reads their versions. */
export async function locateVideoTools(opts: LocateOptions = {}): Promise<VideoTools> {
  const [mpegs, probes] = await Promise.all([inspectAll('ffmpeg', opts), inspectAll('ffprobe', opts)]);
  let ffmpeg: Tool;
  if (opts.ffmpegPath) ffmpeg = await userTool('ffmpeg', opts.ffmpegPath);
  else {
    if (mpegs.tools.length === 0) throw notFound('ffmpeg', mpegs.failures);
    // Ties go to the npm build (listed first): the one the app ships with.
    ffmpeg = mpegs.tools.reduce((best, c) =>
      compareVersions(c.libavformat, best.libavformat) > 0 ? c : best,
    );
  }
  let ffprobe: Tool;
  if (opts.ffprobePath) ffprobe = await userTool('ffprobe', opts.ffprobePath);
  else {
    const same = probes.tools.find((t) => t.source === ffmpeg.source);
    const any = same ?? probes.tools[0];
    if (!any) throw notFound('ffprobe', probes.failures);
    ffprobe = any;
  }
  return { ffmpeg, ffprobe };
}

/** One line for logs and Settings: which binaries, from where, which version. */
export const describeVideoTools = (t: VideoTools): string =>
  [t.ffmpeg, t.ffprobe]
    .map((x) => `${x.name} ${x.version} (${x.source}, libavformat ${x.libavformat.join('.')}) at ${x.path}`)
    .join('; ');
