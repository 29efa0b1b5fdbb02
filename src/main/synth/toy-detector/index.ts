// The toy person detector: a hand-weighted ONNX graph with YOLOv8's output contract that finds the synthetic
// people on the synthetic footage scenes.
export * from './folder';
export { buildToyDetectorModel, TOY_DETECTOR_INPUT } from './graph';
