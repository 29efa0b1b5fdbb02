// Footage archives as the API shows them: registered person detectors, footage folders with their cameras
// and recordings, tracks, and what a crop image knows of where it came from. Pure types (shared by main and
// renderer). Video times are seconds from the video's start; wall-clock times are epoch milliseconds.
import type { DatasetId, ImageId } from '../ids';

export type DetectorContractName = 'yolov8' | 'yolox' | 'rtdetr';

export interface Detector {
  id: number;
  name: string;
  folder: string;
  contract: DetectorContractName;
  /** [height, width]. */
  inputSize: [number, number];
  personClass: number;
  scoreThreshold: number;
  sha256: string;
  notes: string[];
  createdAt: number;
}

export type StartSourceName = 'file-name' | 'container' | 'user';
export type VideoStatus = 'pending' | 'processing' | 'done' | 'failed';

export interface FootageVideo {
  id: number;
  cameraId: number;
  camera: string;
  /** Relative to the footage folder, with / between levels. */
  relPath: string;
  size: number;
  durationSeconds: number | null;
  width: number | null;
  height: number | null;
  fps: number | null;
  codec: string | null;
  /** The recording's wall-clock start, and where it was read; null when nothing said. */
  startMs: number | null;
  startSource: StartSourceName | null;
  startFrom: string | null;
  status: VideoStatus;
  error: string | null;
  /** Seconds of it a footage job has processed (from its start). */
  processedSeconds: number;
  tracks: number;
}

export interface FootageCameraSummary {
  id: number;
  name: string;
  source: 'file-name' | 'folder';
  videos: number;
  /** Seconds of video, and how many of them were processed. */
  seconds: number;
  processedSeconds: number;
  tracks: number;
  crops: number;
  /** Wall-clock span of its recordings (null when none has a clock time). */
  firstMs: number | null;
  lastMs: number | null;
}

export interface FootageFolder {
  id: number;
  root: string;
  datasetId: DatasetId;
  pattern: string | null;
  /** Minutes east of UTC of the cameras' clocks; null: this computer's time zone. */
  utcOffsetMinutes: number | null;
  cameras: FootageCameraSummary[];
  videos: FootageVideo[];
}

export interface FootageTrack {
  id: number;
  cameraId: number;
  camera: string;
  videoId: number;
  firstTime: number;
  lastTime: number;
  firstMs: number | null;
  lastMs: number | null;
  observations: number;
  /** Its kept crops (library images), in time order. */
  crops: ImageId[];
}

/** Where a crop image came from: enough to open its frame and draw its box. */
export interface CropOrigin {
  imageId: ImageId;
  trackId: number;
  videoId: number;
  cameraId: number;
  camera: string;
  folderId: number;
  /** Seconds from the video's start, and the frame's presentation timestamp as stored in the file. */
  frameTime: number;
  framePts: number;
  /** Wall-clock time of the frame; null when the recording has no clock time. */
  timeMs: number | null;
  /** Frame pixels: [x1, y1, x2, y2]. */
  box: [number, number, number, number];
  score: number;
  videoPath: string;
  frameWidth: number | null;
  frameHeight: number | null;
}

/** One file name as a camera pattern reads it (the pattern editor's preview). */
export type PatternPreviewRow =
  | {
      ok: true;
      file: string;
      camera: string | null;
      /** The recorder's local clock as read from the name, e.g. 2026-12-04T08:15:00.000. */
      localStart: string | null;
      startMs: number | null;
      fields: Record<string, string>;
    }
  | { ok: false; file: string; reason: string };

export interface PatternPreview {
  /** The pattern's own problems (then rows is empty). */
  problems: string | null;
  rows: PatternPreviewRow[];
  /** Video files found in the folder (the preview shows the first ones). */
  files: number;
}

/** One of the two FFmpeg binaries this machine runs for footage, and where it was found. */
export interface VideoToolInfo {
  path: string;
  /** 'user': chosen on this machine (`ctgi video-tools` or CTGI_FFMPEG/CTGI_FFPROBE); else found. */
  source: 'user' | 'system' | 'npm';
  version: string;
}

/** What `video:tools` answers: the binaries in use, or why none runs, and how to choose others. */
export interface VideoToolsInfo {
  ffmpeg: VideoToolInfo | null;
  ffprobe: VideoToolInfo | null;
  /** Why the binaries could not be used (a chosen path that does not run, no FFmpeg at all). */
  problem: string | null;
  /** Where the choice came from, when one was made. */
  chosenBy: 'environment' | 'settings file' | null;
  /** This machine's settings file for the choice. */
  settingsFile: string;
}
