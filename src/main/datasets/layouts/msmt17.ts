// MSMT17: the lists name the images — list_train.txt, list_val.txt (both under the train folder),
// list_query.txt and list_gallery.txt (under the test folder), one `path pid` a line. V1 keeps the images in
// train/ and test/, V2 in mask_train_v2/ and mask_test_v2/. Names are PPPP_SSS_CC_DDDDtime_NNNN_N.jpg (the
// camera is the third field). Train and test persons are numbered separately (both from 0), so a person is
// named by its folder as the dataset names it: 'train/0000', 'test/0000'.
import { statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ImageRole, Split } from '#shared/library/types';
import { FileReadError, readRegularFile } from '../../files';
import type { LayoutImage, ListedLayout } from './types';

const LISTS: readonly { file: string; part: 'train' | 'test'; split: Split; role: ImageRole }[] = [
  { file: 'list_train.txt', part: 'train', split: 'train', role: 'train' },
  { file: 'list_val.txt', part: 'train', split: 'val', role: 'train' },
  { file: 'list_query.txt', part: 'test', split: 'test', role: 'query' },
  { file: 'list_gallery.txt', part: 'test', split: 'test', role: 'gallery' },
];
const FOLDERS = [
  { train: 'train', test: 'test' },
  { train: 'mask_train_v2', test: 'mask_test_v2' },
] as const;
/** Far above MSMT17's 126,441 lines (~6 MB); a list past it is not a list. */
const MAX_LIST_BYTES = 64 * 1024 * 1024;

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

const MSMT_NAME = /^(\d+)_(\d+)_(\d+)_/;

export const msmt17: ListedLayout = {
  kind: 'list',
  layout: 'msmt17',
  label: 'MSMT17 (list_train.txt, list_query.txt, list_gallery.txt)',
  recognise(glance) {
    const lists = LISTS.map((l) => l.file).filter((f) => glance.files.has(f));
    if (!lists.includes('list_query.txt') || !lists.includes('list_gallery.txt'))
      return Promise.resolve(null);
    const folders = FOLDERS.find((f) => glance.dirs.has(f.train) || glance.dirs.has(f.test));
    return Promise.resolve([
      `list files ${lists.join(', ')}`,
      folders
        ? `image folders ${folders.train}/ and ${folders.test}/`
        : 'no train/ or test/ folder beside them (the paths in the lists are read from the root)',
    ]);
  },
  async list(root) {
    const images: LayoutImage[] = [];
    const problems: { item: string; message: string }[] = [];
    const folders = FOLDERS.find((f) => isDir(join(root, f.train)) || isDir(join(root, f.test))) ?? null;
    for (const l of LISTS) {
      let text: string;
      try {
        text = (await readRegularFile(join(root, l.file), MAX_LIST_BYTES)).bytes.toString('utf8');
      } catch (err) {
        if (err instanceof FileReadError && err.reason === 'missing') continue;
        problems.push({
          item: l.file,
          message: `cannot be read (${err instanceof Error ? err.message : String(err)}); its images were skipped.`,
        });
        continue;
      }
      const dir = folders ? folders[l.part] : null;
      text.split(/\r?\n/).forEach((line, n) => {
        const trimmed = line.trim();
        if (trimmed === '') return;
        const [path, pid] = trimmed.split(/\s+/);
        if (!path || pid === undefined || !/^\d+$/.test(pid)) {
          problems.push({
            item: `${l.file}:${n + 1}`,
            message: `expected "path person-id", got "${trimmed.slice(0, 80)}"; line skipped.`,
          });
          return;
        }
        const clean = path.replace(/\\/g, '/').replace(/^\.\//, '');
        const relPath = dir === null || clean.startsWith(`${dir}/`) ? clean : `${dir}/${clean}`;
        const m = MSMT_NAME.exec(basename(clean));
        images.push({
          relPath,
          personId: `${l.part}/${pid.padStart(4, '0')}`,
          personKind: 'identity',
          camera: m ? `c${Number(m[3])}` : null,
          split: l.split,
          role: l.role,
          sourceGroup: null,
          ...(m
            ? {}
            : { warning: "name does not follow MSMT17's PPPP_SSS_CC_… pattern; imported without a camera." }),
        });
      });
    }
    return { images, problems };
  },
};
