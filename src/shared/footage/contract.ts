// Footage channels (issue 9); shared/contract.ts merges them with every other feature's: same rules
// (one object argument, validated by these schemas).
import { z } from 'zod';
import { id } from '../schema-fields';
import type { Job } from '../jobs/types';
import type {
  CropOrigin,
  Detector,
  FootageFolder,
  FootageTrack,
  PatternPreview,
  VideoToolsInfo,
} from './types';
import type { DatasetId, ImageId } from '../ids';

/** A search's footage scope: crops of these cameras, seen in this wall-clock range (both optional). */
export const footageScopeFields = {
  /** Footage only: crops of these cameras (by name). */
  cameras: z.array(z.string().min(1).max(200)).max(500).optional(),
  /** Footage only: crops seen in this wall-clock range (epoch ms, inclusive). */
  fromMs: z.number().int().optional(),
  toMs: z.number().int().optional(),
};

export const footageInvokeSchemas = {
  'detectors:list': z.object({}),
  /** Validates a person-detector folder (ONNX + ctgi-detector.json) and registers it. */
  'detectors:register': z.object({
    folder: z.string().min(1),
    name: z.string().min(1).max(200).optional(),
  }),
  /**
   * Records a folder of recordings and queues its footage job (or resumes the folder's unfinished one):
   * new recordings are picked up each time it runs.
   */
  'footage:start': z.object({
    folder: z.string().min(1),
    /** Camera pattern over file names, e.g. {camera}_{date:YYYYMMDD}_{time:HHmmss}; absent: folders are cameras. */
    cameraPattern: z.string().min(1).max(200).optional(),
    /** The cameras' clock, minutes east of UTC; absent: this computer's time zone. */
    utcOffsetMinutes: z
      .number()
      .int()
      .min(-14 * 60)
      .max(14 * 60)
      .nullable()
      .optional(),
    /** Detector id or name. */
    detector: z.union([z.number().int().positive(), z.string().min(1).max(200)]),
    fps: z.number().gt(0).max(30).default(2),
    checkpointSeconds: z.number().min(1).max(3600).default(10),
    /** Crops kept per track: the best few spread over its time (default 3), or every sampled one. */
    cropsPerTrack: z.union([z.number().int().min(1).max(100), z.literal('all')]).default(3),
  }),
  'footage:list': z.object({}),
  'footage:get': z.object({ id: z.number().int().positive() }),
  /** What a camera pattern reads from the folder's file names (the pattern editor's live preview). */
  'footage:preview-pattern': z.object({
    folder: z.string().min(1),
    pattern: z.string().max(500),
    limit: z.number().int().min(1).max(500).default(20),
  }),
  'footage:tracks': z.object({
    folderId: z.number().int().positive(),
    cameraId: z.number().int().positive().optional(),
    fromMs: z.number().int().optional(),
    toMs: z.number().int().optional(),
    offset: z.number().int().min(0).default(0),
    limit: z.number().int().min(1).max(2000).default(200),
  }),
  /** Where a crop image came from, and every crop of its track (to step through). */
  'footage:origin': z.object({ imageId: id<ImageId>() }),
  /**
   * The FFmpeg and ffprobe footage runs on this machine. Read-only on purpose: a path to run is chosen on
   * the machine itself (`ctgi video-tools`), never over the API, which would let a token holder run any program.
   */
  'video:tools': z.object({}).strict(),
} as const;

export interface FootageInvokeResults {
  'detectors:list': Detector[];
  'detectors:register': Detector;
  'footage:start': { job: Job; folderId: number; datasetId: DatasetId; resumed: boolean };
  'footage:list': FootageFolder[];
  'footage:get': FootageFolder;
  'footage:preview-pattern': PatternPreview;
  'footage:tracks': FootageTrack[];
  'footage:origin': { origin: CropOrigin; track: CropOrigin[] };
  'video:tools': VideoToolsInfo;
}
