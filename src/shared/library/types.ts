// The library feature's vocabulary, shared by main and renderer (carved out of the former domain.ts). Plain data only.
import type { CaptionId, DatasetId, IdentityId, ImageId } from '../ids';

export const SPLITS = ['train', 'val', 'test'] as const;
export type Split = (typeof SPLITS)[number];

export const DATASET_FORMATS = ['folder', 'cuhk-pedes', 'icfg-pedes', 'rstpreid'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

/** Person re-ID dataset layouts the folder import recognises (issue 16). */
export const REID_LAYOUTS = ['market', 'duke', 'msmt17', 'cuhk03', 'luperson'] as const;
export type ReidLayout = (typeof REID_LAYOUTS)[number];
/** What a folder import is told: detect the layout, use this one, or a plain folder of images. */
export const LAYOUT_CHOICES = ['auto', ...REID_LAYOUTS, 'plain'] as const;
export type LayoutChoice = (typeof LAYOUT_CHOICES)[number];
/** An image's part in its dataset's own protocol; query and gallery images are in the test split. */
export const IMAGE_ROLES = ['train', 'query', 'gallery'] as const;
export type ImageRole = (typeof IMAGE_ROLES)[number];
/** junk: Market/Duke's -1 (bad detections); distractor: 0000 (not a person of the set); unknown: no label. */
export const PERSON_KINDS = ['identity', 'junk', 'distractor', 'unknown'] as const;
export type PersonKind = (typeof PERSON_KINDS)[number];

/** What a folder holds as its layout reads it: counted before the import starts. */
export interface LayoutPreview {
  /** Image files the layout takes in (counted up to a cap; see `complete`). */
  images: number;
  /** False when counting stopped at the cap: the figures are a lower bound. */
  complete: boolean;
  byRole: Record<ImageRole | 'none', number>;
  bySplit: Record<Split | 'none', number>;
  /** Distinct person ids (junk and distractors are not persons), in all and per role. */
  persons: number;
  personsByRole: Record<ImageRole, number>;
  cameras: string[];
  junk: number;
  distractors: number;
  /** Distinct source groups (LUPerson's videos, CUHK03's detected/labeled). */
  sourceGroups: number;
  /** Image files outside the layout's folders (Market's gt_bbox/): not imported. */
  skipped: number;
  examples: {
    relPath: string;
    personId: string | null;
    personKind: PersonKind;
    camera: string | null;
    role: ImageRole | null;
    sourceGroup: string | null;
  }[];
}

export interface LayoutDetection {
  folder: string;
  /** What the folder looks like; null: no re-ID layout recognised (a plain folder). */
  detected: ReidLayout | null;
  /** The layout the import will use: the detected one for 'auto', the forced one otherwise; null: plain. */
  layout: ReidLayout | null;
  /** Why, in sentences (folders and file names found, or what was missing). */
  evidence: string[];
  /** Counts under `layout`; null for a plain folder. */
  preview: LayoutPreview | null;
}

/** `importing` while its import job runs; `incomplete` when that job was cancelled or failed. */
export const DATASET_STATUSES = ['importing', 'ready', 'incomplete'] as const;
export type DatasetStatus = (typeof DATASET_STATUSES)[number];

export const CAPTION_SOURCES = ['human', 'mtg', 'edited'] as const;
export type CaptionSource = (typeof CAPTION_SOURCES)[number];

export const CAPTION_STATUSES = ['pending', 'accepted', 'rejected', 'flagged'] as const;
export type CaptionStatus = (typeof CAPTION_STATUSES)[number];

/** Library filter on captions: `none` = images with no caption at all. */
export const CAPTION_FILTERS = ['any', 'none', ...CAPTION_STATUSES] as const;
export type CaptionFilter = (typeof CAPTION_FILTERS)[number];

export interface Dataset {
  id: DatasetId;
  name: string;
  format: DatasetFormat;
  /** The re-ID layout it was imported as; null for a plain folder or an annotation file. */
  layout: ReidLayout | null;
  status: DatasetStatus;
  imageCount: number;
  identityCount: number;
  captionCount: number;
  createdAt: number;
}

export interface ImageSummary {
  id: ImageId;
  datasetId: DatasetId;
  /** Path relative to the dataset root, for display only: the API never resolves paths. */
  relPath: string;
  width: number;
  height: number;
  personId: string | null;
  split: Split | null;
  captionCount: number;
}

export interface Caption {
  id: CaptionId;
  imageId: ImageId;
  source: CaptionSource;
  text: string;
  status: CaptionStatus;
  version: number;
  createdAt: number;
  updatedAt: number;
}

export interface ImageDetail extends ImageSummary {
  datasetName: string;
  identityId: IdentityId | null;
  camera: string | null;
  role: ImageRole | null;
  personKind: PersonKind;
  sourceGroup: string | null;
  sha256: string;
  bytes: number;
  format: string;
  createdAt: number;
  captions: Caption[];
}

export interface ImagePage {
  items: ImageSummary[];
  /** Total matching the filter, for the virtualized grid's scroll height. */
  total: number;
}

export interface LibraryStats {
  datasets: number;
  images: number;
  identities: number;
  captions: Record<CaptionStatus, number>;
  imagesBySplit: Record<Split | 'none', number>;
}
