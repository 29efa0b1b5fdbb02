import { readdir, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { ItemProblem } from './formats';

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.bmp'] as const;

export const isImageName = (name: string): boolean => {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((e) => lower.endsWith(e));
};

/** Whether `path` is `root` or lies below it (both real paths). */
function isWithin(root: string, path: string): boolean {
  const back = relative(root, path);
  return back === '' || (back !== '..' && !back.startsWith(`..${sep}`) && !isAbsolute(back));
}

const errCode = (err: unknown): string =>
  err instanceof Error && 'code' in err ? String(err.code) : 'error';

/**
 * Every image file under `root`, as sorted relative posix paths, so the import's resume cursor can be
 * an index into this list. Symlinks that lead outside `root` are reported and not followed (the library
 * reads nothing outside a dataset's folder). Symlinked folders inside it are followed once: a link back to one of its own
 * ancestors (a loop) or to a folder already walked is reported and not followed again, so the walk
 * always ends and never lists the same file under two folders. Unreadable folders are reported, and
 * the walk goes on.
 */
export async function walkImages(root: string): Promise<{ files: string[]; problems: ItemProblem[] }> {
  const files: string[] = [];
  const problems: ItemProblem[] = [];
  const walked = new Map<string, string>(); // real path → the relative path it was walked under
  const rootReal = await realpath(root);

  async function visit(
    dir: string,
    rel: string,
    real: string,
    ancestors: ReadonlySet<string>,
  ): Promise<void> {
    walked.set(real, rel || '.');
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      problems.push({
        severity: 'error',
        item: rel || '.',
        message: `folder cannot be read (${errCode(err)}); its images were skipped. Check its permissions.`,
      });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const inside = new Set(ancestors).add(real);
    for (const e of entries) {
      const full = join(dir, e.name);
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        const childReal = join(real, e.name);
        const earlier = walked.get(childReal);
        if (earlier !== undefined) {
          problems.push({
            severity: 'warning',
            item: childRel,
            message: `is the same folder as ${earlier} (reached through a symlink); not walked twice.`,
          });
        } else await visit(full, childRel, childReal, inside);
      } else if (e.isFile()) {
        if (isImageName(e.name)) files.push(childRel);
      } else if (e.isSymbolicLink()) {
        let target;
        try {
          target = await stat(full);
        } catch (err) {
          const code = errCode(err);
          problems.push({
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
          // The library reads images only inside a dataset's folder (a link out of it could be swapped
          // for one to any file), so what leads out is not imported in the first place.
          problems.push({
            severity: 'warning',
            item: childRel,
            message: `links outside the image folder (to ${targetReal}); not followed: only files inside the folder are imported. Copy or move them in.`,
          });
          continue;
        }
        if (target.isFile()) {
          files.push(childRel);
          continue;
        }
        if (inside.has(targetReal)) {
          problems.push({
            severity: 'error',
            item: childRel,
            message: `symlink loop: it points back to ${walked.get(targetReal) ?? 'a folder above it'}; not followed.`,
          });
        } else if (walked.has(targetReal)) {
          problems.push({
            severity: 'warning',
            item: childRel,
            message: `links to ${walked.get(targetReal)}, which is already imported; not followed again.`,
          });
        } else {
          await visit(full, childRel, targetReal, inside);
        }
      }
    }
  }

  await visit(root, '', rootReal, new Set());
  files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { files, problems };
}
