// Person detection with the user's ONNX detector (YOLOv8/YOLO11, YOLOX, RT-DETR output contracts), run in
// the encoder's child process.
export * from './decode';
export * from './detector';
export * from './folder';
export * from './letterbox';
export type { FrameInput, LetterboxedFrame } from './run';
export * from './spec';
