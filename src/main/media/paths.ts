import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';

/** `root/rel` if it stays inside root, else null (a stored `../` never escapes the dataset). */
export function resolveInside(root: string, rel: string): string | null {
  if (isAbsolute(rel)) return null;
  const full = resolve(root, rel);
  return isInside(root, full) ? full : null;
}

function isInside(root: string, full: string): boolean {
  const back = relative(root, full);
  return !(back === '' || back.startsWith(`..${sep}`) || back === '..' || isAbsolute(back));
}

export type RealPathInside = { kind: 'inside'; path: string } | { kind: 'outside' } | { kind: 'missing' };

/**
 * Where `file` really is once symbolic links are followed, and whether that stays inside the real
 * path of `root`: a name inside a folder proves nothing when it is a link (issue 12.10: an image swapped
 * for a link to /etc/passwd). Serve the returned path, not `file`.
 */
export async function realPathInside(root: string, file: string): Promise<RealPathInside> {
  const [realRoot, real] = await Promise.all([
    realpath(root).catch(() => null),
    realpath(file).catch(() => null),
  ]);
  if (realRoot === null || real === null) return { kind: 'missing' };
  return isInside(realRoot, real) ? { kind: 'inside', path: real } : { kind: 'outside' };
}

/** Dataset paths are stored with forward slashes, whatever the OS. */
export const toPosix = (p: string): string => p.split(sep).join('/');
