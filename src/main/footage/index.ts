// Footage: from video files to people with camera and time — cameras and their clocks, tracking, the best
// crops per track, evaluation against ground truth, and the per-video pipeline. Plain functions and small
// classes with their dependencies passed in; the footage job wires them to the workspace.
export * from './assignment';
export * from './best-crops';
export * from './cameras';
export * from './metrics';
export * from './pipeline';
export * from './tracker';
