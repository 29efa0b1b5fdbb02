// LUPerson-style trees: millions of unlabelled crops in nested folders named by their source video. No
// person, no split: each image keeps its folder (relative to the root) as its source group, so a split by
// group keeps a video's crops together. Recognised when the root holds only folders of images (no image
// at the top, none of the other layouts' markers); a nested folder of crops of one's own looks the same,
// which is why the import dialog shows the detection and lets the user import it as a plain folder.
import { isImageName } from '../walk';
import type { WalkedLayout } from './types';

/** Folders looked into when recognising; enough to tell a tree of per-video folders from a mixed folder. */
const SAMPLED_FOLDERS = 8;

export const luperson: WalkedLayout = {
  kind: 'walk',
  layout: 'luperson',
  label: 'LUPerson-style (unlabelled crops in per-video folders)',
  async recognise(glance) {
    if (glance.dirs.size < 2) return null;
    if ([...glance.files].some(isImageName)) return null;
    const sampled = [...glance.dirs].sort().slice(0, SAMPLED_FOLDERS);
    let withImages = 0;
    let example = '';
    for (const d of sampled) {
      const names = await glance.sampleNames(d);
      if (names.length > 0) {
        withImages++;
        example ||= `${d}/${names[0]}`;
      }
    }
    if (withImages * 2 <= sampled.length) return null;
    return [
      `${glance.dirs.size} folders and no image at the top; ${withImages} of the ${sampled.length} folders looked into hold images (e.g. ${example})`,
      'no person ids: each image is grouped by the folder it is in (its source video)',
    ];
  },
  classify(relPath) {
    const cut = relPath.lastIndexOf('/');
    return {
      relPath,
      personId: null,
      personKind: 'unknown',
      camera: null,
      split: null,
      role: null,
      sourceGroup: cut < 0 ? null : relPath.slice(0, cut),
    };
  },
};
