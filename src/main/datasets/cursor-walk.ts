// A walk of a folder tree that never holds the whole tree in memory: one sorted directory listing per level
// of the current path, files handed out one at a time in a fixed order (depth-first, names sorted by code
// unit within each folder). The position is one relative path — the last file handed out — so a job can
// save it with each batch and, after a crash, continue with the next file without listing what came before.
// Memory is bounded by the largest single folder and the depth, not by the number of files (a 1M-image
// LUPerson tree of per-video folders holds a few hundred names at a time).
//
// The same rules as walk.ts: symlinks that lead outside the root are reported and not followed, a link back
// to an ancestor (a loop) is reported, a folder reached twice is walked once, unreadable folders are
// reported and skipped. Within one attempt only: after a resume, a link to a folder walked before the
// cursor is not recognised as walked (its files would meet the import's same-bytes check instead).
import { opendir, readdir, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { ItemProblem } from './formats';
import { isImageName } from './walk';

const errCode = (err: unknown): string =>
  err instanceof Error && 'code' in err ? String(err.code) : 'error';

function isWithin(root: string, path: string): boolean {
  const back = relative(root, path);
  return back === '' || (back !== '..' && !back.startsWith(`..${sep}`) && !isAbsolute(back));
}

const byName = (a: { name: string }, b: { name: string }): number =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

/**
 * Image files under `root` as relative posix paths, in walk order, starting after `after` (the last file a
 * previous attempt handed out; null or absent: from the start). Problems found on the way go to `onProblem`
 * (only for folders and links met after the cursor, so a resumed walk does not report them twice).
 */
export async function* walkImagesAfter(
  root: string,
  after: string | null | undefined,
  onProblem: (p: ItemProblem) => void = () => undefined,
): AsyncGenerator<string> {
  const cursor = after ? after.split('/') : null;
  const rootReal = await realpath(root);
  const walked = new Map<string, string>();

  async function* visit(
    dir: string,
    rel: string,
    real: string,
    ancestors: ReadonlySet<string>,
    /** Depth of this folder when it lies on the cursor's path; -1 when the cursor says nothing here. */
    onCursor: number,
  ): AsyncGenerator<string> {
    walked.set(real, rel || '.');
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (onCursor < 0)
        onProblem({
          severity: 'error',
          item: rel || '.',
          message: `folder cannot be read (${errCode(err)}); its images were skipped. Check its permissions.`,
        });
      return;
    }
    entries.sort(byName);
    const inside = new Set(ancestors).add(real);
    const bound = cursor && onCursor >= 0 ? cursor[onCursor] : undefined;
    const last = cursor !== null && onCursor === cursor.length - 1;
    for (const e of entries) {
      let childCursor = -1;
      if (bound !== undefined) {
        if (e.name < bound) continue;
        if (e.name === bound) {
          if (last) continue; // the file the previous attempt ended on
          childCursor = onCursor + 1;
        }
      }
      const full = join(dir, e.name);
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        const childReal = join(real, e.name);
        const earlier = walked.get(childReal);
        if (earlier !== undefined) {
          onProblem({
            severity: 'warning',
            item: childRel,
            message: `is the same folder as ${earlier} (reached through a symlink); not walked twice.`,
          });
        } else yield* visit(full, childRel, childReal, inside, childCursor);
      } else if (e.isFile()) {
        if (isImageName(e.name)) yield childRel;
      } else if (e.isSymbolicLink()) {
        let target;
        try {
          target = await stat(full);
        } catch (err) {
          const code = errCode(err);
          onProblem({
            severity: code === 'ELOOP' ? 'error' : 'warning',
            item: childRel,
            message:
              code === 'ELOOP'
                ? 'symlink loop (the link resolves to itself); not followed.'
                : code === 'ENOENT'
                  ? 'broken symlink (its target does not exist); skipped.'
                  : `symlink cannot be followed (${code}); skipped.`,
          });
          continue;
        }
        if (!target.isFile() && !target.isDirectory()) continue;
        if (target.isFile() && !isImageName(e.name)) continue;
        const targetReal = await realpath(full);
        if (!isWithin(rootReal, targetReal)) {
          onProblem({
            severity: 'warning',
            item: childRel,
            message: `links outside the image folder (to ${targetReal}); not followed: only files inside the folder are imported. Copy or move them in.`,
          });
          continue;
        }
        if (target.isFile()) {
          yield childRel;
          continue;
        }
        if (inside.has(targetReal)) {
          onProblem({
            severity: 'error',
            item: childRel,
            message: `symlink loop: it points back to ${walked.get(targetReal) ?? 'a folder above it'}; not followed.`,
          });
        } else if (walked.has(targetReal)) {
          onProblem({
            severity: 'warning',
            item: childRel,
            message: `links to ${walked.get(targetReal)}, which is already imported; not followed again.`,
          });
        } else {
          yield* visit(full, childRel, targetReal, inside, childCursor);
        }
      }
    }
  }

  yield* visit(root, '', rootReal, new Set(), cursor ? 0 : -1);
}

/** Up to `max` entry names of a folder, unsorted, without reading the rest of a huge folder; [] when unreadable. */
export async function someEntries(
  dir: string,
  max: number,
): Promise<{ name: string; isDirectory: boolean; isFile: boolean }[]> {
  const out: { name: string; isDirectory: boolean; isFile: boolean }[] = [];
  let handle;
  try {
    handle = await opendir(dir);
  } catch {
    return out;
  }
  try {
    for await (const e of handle) {
      out.push({ name: e.name, isDirectory: e.isDirectory(), isFile: e.isFile() });
      if (out.length >= max) break;
    }
  } catch {
    // unreadable part way: what was read is enough for a sample
  }
  return out;
}
