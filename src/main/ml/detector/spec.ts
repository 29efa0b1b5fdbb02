// The person-detector model folder contract, and the plain-data run spec that crosses to the encoder process.
//
// A folder holds one ONNX file and ctgi-detector.json:
//   {"name": "yolov8n-coco", "file": "yolov8n.onnx", "contract": "yolov8", "inputSize": [640, 640],
//    "personClass": 0}
// Everything else has the defaults of the exporter each contract comes from:
//   yolov8   Ultralytics YOLOv8/YOLO11: output [1, 4+C, N] (cx, cy, w, h in input pixels, then C class
//            scores after sigmoid); letterbox centred, pad 114, RGB, /255.
//   yolox    Megvii YOLOX (tools/export_onnx.py): output [1, N, 5+C] (cx, cy, w, h, objectness, C class
//            scores, both after sigmoid). Its exporter leaves the boxes undecoded by default (grid offsets and
//            log sizes per stride 8/16/32: "decoded": false, the default) unless run with
//            --decode_in_inference ("decoded": true). Letterbox at the top left, pad 114, BGR, 0–255.
//   rtdetr   RT-DETR as its own repository exports it (deploy: labels, boxes, scores after the
//            postprocessor; a second input orig_target_sizes [N, 2] int64 that the boxes are scaled to):
//            stretched to the input size, RGB, /255; a set prediction, so no NMS. Its COCO labels are the
//            original category ids when exported with remap_mscoco_category (person = 1).
import { z } from 'zod';

export const DETECTOR_MANIFEST_FILE = 'ctgi-detector.json';
export const DEFAULT_DETECTOR_FILE = 'model.onnx';
export const CONTRACTS = ['yolov8', 'yolox', 'rtdetr'] as const;
export type DetectorContract = (typeof CONTRACTS)[number];

const triple = z.tuple([z.number(), z.number(), z.number()]);

export const detectorManifestSchema = z.object({
  name: z.string().min(1).max(200),
  file: z
    .string()
    .min(1)
    .max(255)
    .regex(/^[^/\\]+\.onnx$/, 'must be the name of an .onnx file in the folder')
    .default(DEFAULT_DETECTOR_FILE),
  contract: z.enum(CONTRACTS),
  inputSize: z.tuple([z.number().int().min(32).max(4096), z.number().int().min(32).max(4096)]),
  personClass: z.number().int().min(0).max(100_000),
  /** Number of classes C, when known: checked against the output's shape. */
  classes: z.number().int().min(1).max(100_000).optional(),
  scoreThreshold: z.number().gt(0).lt(1).default(0.25),
  nmsIou: z.number().gt(0).lte(1).default(0.45),
  maxDetections: z.number().int().min(1).max(10_000).default(300),
  preprocess: z
    .object({
      resize: z.enum(['letterbox', 'stretch']).optional(),
      /** Letterbox: centre the picture (Ultralytics) or put it at the top left (YOLOX). */
      center: z.boolean().optional(),
      padValue: z.number().int().min(0).max(255).optional(),
      channels: z.enum(['rgb', 'bgr']).optional(),
      /** 0–255 values are multiplied by this first (1/255 for Ultralytics, 1 for YOLOX). */
      scale: z.number().positive().optional(),
      mean: triple.optional(),
      std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]).optional(),
    })
    .strict()
    .default({}),
  yolox: z
    .object({
      decoded: z.boolean().default(false),
      strides: z.array(z.number().int().positive()).min(1).max(8).default([8, 16, 32]),
    })
    .strict()
    .optional(),
});
export type DetectorManifest = z.infer<typeof detectorManifestSchema>;

export interface Preprocess {
  resize: 'letterbox' | 'stretch';
  center: boolean;
  padValue: number;
  channels: 'rgb' | 'bgr';
  scale: number;
  mean: [number, number, number];
  std: [number, number, number];
}

const DEFAULT_PREPROCESS: Record<DetectorContract, Preprocess> = {
  yolov8: {
    resize: 'letterbox',
    center: true,
    padValue: 114,
    channels: 'rgb',
    scale: 1 / 255,
    mean: [0, 0, 0],
    std: [1, 1, 1],
  },
  yolox: {
    resize: 'letterbox',
    center: false,
    padValue: 114,
    channels: 'bgr',
    scale: 1,
    mean: [0, 0, 0],
    std: [1, 1, 1],
  },
  rtdetr: {
    resize: 'stretch',
    center: false,
    padValue: 0,
    channels: 'rgb',
    scale: 1 / 255,
    mean: [0, 0, 0],
    std: [1, 1, 1],
  },
};

export const preprocessOf = (m: DetectorManifest): Preprocess => ({
  ...DEFAULT_PREPROCESS[m.contract],
  ...Object.fromEntries(Object.entries(m.preprocess).filter(([, v]) => v !== undefined)),
});

/** Which graph inputs/outputs to use; decided by folder validation. */
export type DetectorIo =
  | { contract: 'yolov8'; input: string; output: string }
  | { contract: 'yolox'; input: string; output: string; decoded: boolean; strides: number[] }
  | {
      contract: 'rtdetr';
      input: string;
      /** The orig_target_sizes input, fed the model's own input size so boxes come in input pixels. */
      sizes: string | null;
      sizesType: 'int64' | 'int32' | 'float32';
      labels: string;
      boxes: string;
      scores: string;
    };

/** Everything the encoder process needs to run the detector; plain data (crosses the IPC channel). */
export interface DetectorRunSpec {
  io: DetectorIo;
  /** [height, width]. */
  inputSize: [number, number];
  /** The model's fixed batch size, or null when the batch axis is dynamic. */
  fixedBatch: number | null;
  preprocess: Preprocess;
  personClass: number;
  scoreThreshold: number;
  nmsIou: number;
  maxDetections: number;
}

/** A detection in frame pixels: corners, score, class. */
export interface Detection {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
}
