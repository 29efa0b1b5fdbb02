// The library's channels: its figures, datasets, their images, and importing a dataset (folder, TBPS
// annotation file or re-ID layout). contract.ts merges them with every other feature's.
import { z } from 'zod';
import type { DatasetId, ImageId } from '../ids';
import type { Job } from '../jobs/types';
import { id } from '../schema-fields';
import { CAPTION_FILTERS, DATASET_FORMATS, LAYOUT_CHOICES, SPLITS } from './types';
import type { Dataset, ImageDetail, ImagePage, LayoutDetection, LibraryStats } from './types';

export const libraryInvokeSchemas = {
  'library:stats': z.object({}),
  'datasets:list': z.object({}),
  'datasets:delete': z.object({ id: id<DatasetId>() }),
  'images:list': z.object({
    datasetId: id<DatasetId>().optional(),
    split: z.enum([...SPLITS, 'none']).optional(),
    personId: z.string().min(1).optional(),
    captions: z.enum(CAPTION_FILTERS).default('any'),
    offset: z.number().int().min(0).default(0),
    limit: z.number().int().min(1).max(2000).default(200),
  }),
  'images:get': z.object({ id: id<ImageId>() }),
  'import:start': z.object({
    /** Absolute path to a folder of images, or to the folder that holds a dataset's images. */
    imageRoot: z.string().min(1),
    /** A TBPS annotation file; absent for a plain folder of images. */
    annotationFile: z.string().min(1).optional(),
    /** Forced format; by default it is detected from the annotation file. */
    format: z.enum(DATASET_FORMATS).optional(),
    name: z.string().min(1).max(200).optional(),
    /**
     * A folder without annotation file: 'auto' detects a re-ID layout (Market-1501, DukeMTMC-reID, MSMT17,
     * CUHK03, LUPerson), a layout forces one, 'plain' (the default) imports it as a plain folder of images.
     */
    layout: z.enum(LAYOUT_CHOICES).optional(),
  }),
  /** The re-ID layout a folder is in and what it holds under it, before any import starts. */
  'import:detect': z.object({
    folder: z.string().min(1),
    layout: z.enum(LAYOUT_CHOICES).default('auto'),
  }),
} as const;

export interface LibraryInvokeResults {
  'library:stats': LibraryStats;
  'datasets:list': Dataset[];
  'datasets:delete': { deleted: boolean };
  'images:list': ImagePage;
  'images:get': ImageDetail;
  'import:start': { job: Job; datasetId: DatasetId };
  'import:detect': LayoutDetection;
}
