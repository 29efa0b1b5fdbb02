// One module per re-ID layout (market, duke, msmt17, cuhk03, luperson), each saying from a few folder
// entries whether a folder is in its layout, and what each image of it is. index.ts picks among them.
import type { ImageRole, PersonKind, ReidLayout, Split } from '#shared/library/types';

/** What an image's place and name say about it under a layout. */
export interface LayoutImage {
  relPath: string;
  /** The dataset's person id as written ('0002'); null for junk, distractors and unlabelled images. */
  personId: string | null;
  personKind: PersonKind;
  camera: string | null;
  split: Split | null;
  role: ImageRole | null;
  sourceGroup: string | null;
  /** Set when the name does not follow the layout's pattern (the image is imported without a person). */
  warning?: string;
}

/** The root's entries, as the detectors see them. */
export interface FolderGlance {
  root: string;
  dirs: Set<string>;
  files: Set<string>;
  /** Up to a few dozen image names inside `dir` (relative to the root), read without listing huge folders. */
  sampleNames(dir: string): Promise<string[]>;
}

interface LayoutBase {
  layout: ReidLayout;
  label: string;
  /** Evidence (sentences) that the folder is in this layout; null when it is not. */
  recognise(glance: FolderGlance): Promise<string[] | null>;
}

/** Layouts whose folders and names say everything: the import walks the tree and classifies each file. */
export interface WalkedLayout extends LayoutBase {
  kind: 'walk';
  /** The image a walked file is; null when it lies outside the layout's folders (not imported). */
  classify(relPath: string): LayoutImage | null;
}

/** Layouts driven by list files (MSMT17): the lists name the images. */
export interface ListedLayout extends LayoutBase {
  kind: 'list';
  /** Every image the lists name, with the lines that could not be read. */
  list(root: string): Promise<{ images: LayoutImage[]; problems: { item: string; message: string }[] }>;
}

export type DatasetLayout = WalkedLayout | ListedLayout;

/** Market/Duke/CUHK03 person ids: -1 junk, 0 (0000) a distractor, anything else a person. */
export function personFromId(pid: string): Pick<LayoutImage, 'personId' | 'personKind'> {
  const n = Number(pid);
  if (n < 0) return { personId: null, personKind: 'junk' };
  if (n === 0) return { personId: null, personKind: 'distractor' };
  return { personId: pid, personKind: 'identity' };
}

/** The three folders of Market-1501 and its followers, and what each holds. */
export const BBOX_FOLDERS: Record<string, { split: Split; role: ImageRole }> = {
  bounding_box_train: { split: 'train', role: 'train' },
  bounding_box_test: { split: 'test', role: 'gallery' },
  query: { split: 'test', role: 'query' },
};

/** `-1_c3_...`, `0002_c1s1_...`: the person and camera every Market-style name starts with. */
export const GENERIC_NAME = /^(-?\d+)_c(\d+)/i;
