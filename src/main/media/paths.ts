import { isAbsolute, relative, resolve, sep } from 'node:path';

/** `root/rel` if it stays inside root, else null (a stored `../` never escapes the dataset). */
export function resolveInside(root: string, rel: string): string | null {
  if (isAbsolute(rel)) return null;
  const full = resolve(root, rel);
  const back = relative(root, full);
  if (back === '' || back.startsWith(`..${sep}`) || back === '..' || isAbsolute(back)) return null;
  return full;
}

/** Dataset paths are stored with forward slashes, whatever the OS. */
export const toPosix = (p: string): string => p.split(sep).join('/');
