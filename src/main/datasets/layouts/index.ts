// Which re-ID layout a folder is in (issue 16), what it holds under that layout, and the one place that
// maps a layout's name to its module. Detection reads the root's entries and a few dozen names per
// folder, never a whole huge folder; the preview then counts under the chosen layout (up to a cap).
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  ImageRole,
  LayoutChoice,
  LayoutDetection,
  LayoutPreview,
  ReidLayout,
} from '#shared/library/types';
import { walkImagesAfter, someEntries } from '../cursor-walk';
import { checkImageRoot } from '../source';
import { isImageName } from '../walk';
import { cuhk03 } from './cuhk03';
import { duke } from './duke';
import { luperson } from './luperson';
import { market } from './market';
import { msmt17 } from './msmt17';
import type { DatasetLayout, FolderGlance, LayoutImage, WalkedLayout } from './types';

export type { DatasetLayout, LayoutImage, WalkedLayout, ListedLayout } from './types';

/** In the order detection tries them: the most specific markers first, LUPerson's "folders of images" last. */
export const LAYOUTS: readonly DatasetLayout[] = [msmt17, cuhk03, market, duke, luperson];

export function layoutModule(layout: ReidLayout): DatasetLayout {
  return LAYOUTS.find((l) => l.layout === layout)!;
}

/** Files counted for a preview before it stops and says its figures are a lower bound. */
export const PREVIEW_CAP = 200_000;
const SAMPLE_ENTRIES = 64;
const SAMPLE_DEPTH = 3;
const EXAMPLES = 5;

async function glanceAt(root: string): Promise<FolderGlance> {
  const entries = await readdir(root, { withFileTypes: true });
  const dirs = new Set<string>();
  const files = new Set<string>();
  for (const e of entries) {
    if (e.isDirectory()) dirs.add(e.name);
    else if (e.isFile()) files.add(e.name);
  }
  return {
    root,
    dirs,
    files,
    async sampleNames(dir) {
      // Image names in `dir`, or (for nested trees) in its first sub-folders, a few levels down.
      let prefix = '';
      let at = join(root, dir);
      for (let depth = 0; depth < SAMPLE_DEPTH; depth++) {
        const some = await someEntries(at, SAMPLE_ENTRIES);
        const images = some.filter((e) => e.isFile && isImageName(e.name)).map((e) => prefix + e.name);
        if (images.length > 0) return images.sort();
        const sub = some
          .filter((e) => e.isDirectory)
          .map((e) => e.name)
          .sort()[0];
        if (sub === undefined) return [];
        prefix += `${sub}/`;
        at = join(at, sub);
      }
      return [];
    },
  };
}

function emptyPreview(): LayoutPreview {
  return {
    images: 0,
    complete: true,
    byRole: { train: 0, query: 0, gallery: 0, none: 0 },
    bySplit: { train: 0, val: 0, test: 0, none: 0 },
    persons: 0,
    personsByRole: { train: 0, query: 0, gallery: 0 },
    cameras: [],
    junk: 0,
    distractors: 0,
    sourceGroups: 0,
    skipped: 0,
    examples: [],
  };
}

/** Tallies images into a preview; `finish` turns the sets into counts. */
export class PreviewTally {
  private readonly p = emptyPreview();
  private readonly persons = new Set<string>();
  private readonly byRole = {
    train: new Set<string>(),
    query: new Set<string>(),
    gallery: new Set<string>(),
  };
  private readonly cameras = new Set<string>();
  private readonly groups = new Set<string>();

  add(img: LayoutImage): void {
    const p = this.p;
    p.images++;
    p.byRole[img.role ?? 'none']++;
    p.bySplit[img.split ?? 'none']++;
    if (img.personKind === 'junk') p.junk++;
    if (img.personKind === 'distractor') p.distractors++;
    if (img.personId !== null) {
      this.persons.add(img.personId);
      if (img.role) this.byRole[img.role].add(img.personId);
    }
    if (img.camera !== null) this.cameras.add(img.camera);
    if (img.sourceGroup !== null) this.groups.add(img.sourceGroup);
    if (p.examples.length < EXAMPLES) {
      const { relPath, personId, personKind, camera, role, sourceGroup } = img;
      p.examples.push({ relPath, personId, personKind, camera, role, sourceGroup });
    }
  }

  skip(): void {
    this.p.skipped++;
  }

  finish(complete: boolean): LayoutPreview {
    const roles: ImageRole[] = ['train', 'query', 'gallery'];
    return {
      ...this.p,
      complete,
      persons: this.persons.size,
      personsByRole: Object.fromEntries(roles.map((r) => [r, this.byRole[r].size])) as Record<
        ImageRole,
        number
      >,
      cameras: [...this.cameras].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })),
      sourceGroups: this.groups.size,
    };
  }
}

/** Counts of what `layout` takes in from `root`: from the lists (MSMT17), else a walk of up to `cap` files. */
export async function previewLayout(
  root: string,
  layout: DatasetLayout,
  cap = PREVIEW_CAP,
): Promise<LayoutPreview> {
  const tally = new PreviewTally();
  if (layout.kind === 'list') {
    const { images } = await layout.list(root);
    for (const img of images) tally.add(img);
    return tally.finish(true);
  }
  let seen = 0;
  for await (const relPath of walkImagesAfter(root, null)) {
    if (seen++ >= cap) return tally.finish(false);
    const img = layout.classify(relPath);
    if (img) tally.add(img);
    else tally.skip();
  }
  return tally.finish(true);
}

/** Image files a walked layout takes in (the import's total); a streaming count, flat in memory. */
export async function countLayoutImages(root: string, layout: WalkedLayout): Promise<number> {
  let n = 0;
  for await (const relPath of walkImagesAfter(root, null)) if (layout.classify(relPath)) n++;
  return n;
}

/** The first layout whose markers the folder carries, with the evidence; null layout: none matched. */
export async function recogniseLayout(
  root: string,
): Promise<{ layout: DatasetLayout | null; evidence: string[] }> {
  const found = await recogniseAt(root);
  if (found && found.layout.layout !== 'luperson') return found;
  // The usual slip: the folder that holds the dataset's folder (an unpacked archive's parent). Looked for
  // before settling on LUPerson, whose "folders of images" a parent of two datasets also is.
  const glance = await glanceAt(root);
  for (const d of [...glance.dirs].sort().slice(0, NESTED_LOOKS)) {
    const inner = await recogniseAt(join(root, d)).catch(() => null);
    if (inner && inner.layout.layout !== 'luperson') {
      return {
        layout: null,
        evidence: [
          `no re-ID layout at the top, but ${d}/ inside it looks like ${inner.layout.label}: give ${join(root, d)} as the folder`,
        ],
      };
    }
  }
  if (found) return found;
  return {
    layout: null,
    evidence: [
      'no re-ID layout recognised (no bounding_box_train/ + query/, no detected/ or labeled/, no list_query.txt, ' +
        'not a tree of per-video folders): a plain folder of images',
    ],
  };
}

/** Folders inside a plain folder looked into for a layout one level down. */
const NESTED_LOOKS = 4;

async function recogniseAt(root: string): Promise<{ layout: DatasetLayout; evidence: string[] } | null> {
  const glance = await glanceAt(root);
  for (const l of LAYOUTS) {
    const evidence = await l.recognise(glance);
    if (evidence) return { layout: l, evidence: [`looks like ${l.label}:`, ...evidence] };
  }
  return null;
}

/**
 * What the import dialog and `ctgi import --folder` show before anything is written: the layout detected,
 * why, the layout the import will use (`choice` may force one, or 'plain'), and what it holds under it.
 */
export async function detectLayout(folder: string, choice: LayoutChoice = 'auto'): Promise<LayoutDetection> {
  checkImageRoot(folder);
  const { layout: found, evidence } = await recogniseLayout(folder);
  const chosen: DatasetLayout | null =
    choice === 'auto' ? found : choice === 'plain' ? null : layoutModule(choice);
  if (choice !== 'auto') {
    evidence.push(
      chosen === null
        ? 'imported as a plain folder, as asked'
        : chosen === found
          ? `imported as ${chosen.label}, as asked`
          : `imported as ${chosen.label}, as asked (overriding the detection)`,
    );
  }
  return {
    folder,
    detected: found?.layout ?? null,
    layout: chosen?.layout ?? null,
    evidence,
    preview: chosen ? await previewLayout(folder, chosen) : null,
  };
}
