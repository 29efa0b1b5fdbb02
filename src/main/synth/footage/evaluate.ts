// The footage pipeline's results against the synthetic world's ground truth: which true boxes belong to a
// sampled frame (by its exact time), which are set aside (mostly out of the frame or hidden: visibility
// below a threshold), and the figures of footage/metrics.ts.
import {
  detectionFigures,
  pooledTracking,
  trackingFigures,
  type DetectionFigures,
  type EvalFrame,
  type TrackingFigures,
} from '../../footage/metrics';
import type { FrameResult } from '../../footage/pipeline';
import type { FootageCamera, FootageTruth } from './world';

/** True boxes with less of the person visible than this count neither way. */
export const MIN_VISIBILITY = 0.5;

/** The evaluation frame of one processed frame of a camera (truth at the frame's own time). */
export function evalFrame(
  truth: FootageTruth,
  camera: FootageCamera,
  f: Pick<FrameResult, 'time' | 'detections' | 'trackOf'>,
  minVisibility = MIN_VISIBILITY,
): EvalFrame {
  const frame = Math.round(f.time * truth.fps);
  if (Math.abs(frame / truth.fps - f.time) > 1e-6)
    throw new Error(`time ${f.time} is not a frame time of ${camera.name} (${truth.fps} fps)`);
  return {
    truth: camera.boxes
      .filter((b) => b.frame === frame)
      .map((b) => ({
        x1: b.box[0],
        y1: b.box[1],
        x2: b.box[2],
        y2: b.box[3],
        id: b.personId,
        ignore: b.visibility < minVisibility,
      })),
    predicted: f.detections.map((d, j) => {
      const track = f.trackOf[j];
      return { x1: d.x1, y1: d.y1, x2: d.x2, y2: d.y2, score: d.score, ...(track != null ? { track } : {}) };
    }),
  };
}

export interface CameraFigures {
  camera: string;
  detection: DetectionFigures;
  tracking: TrackingFigures;
}

/** Detection and tracking figures per camera and over all of them (identities and tracks are per camera). */
export function footageFigures(perCamera: readonly { camera: string; frames: EvalFrame[] }[]): {
  cameras: CameraFigures[];
  detection: DetectionFigures;
  idf1: number;
  purity: number;
} {
  const cameras = perCamera.map((c) => ({
    camera: c.camera,
    detection: detectionFigures(c.frames),
    tracking: trackingFigures(c.frames),
  }));
  return {
    cameras,
    detection: detectionFigures(perCamera.flatMap((c) => c.frames)),
    ...pooledTracking(cameras.map((c) => c.tracking)),
  };
}
