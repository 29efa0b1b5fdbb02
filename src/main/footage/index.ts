// Footage: from video files to people with camera and time — cameras and their clocks, tracking, the best
// classes with their dependencies passed in; the footage job wires them to the workspace.
export * from './assignment';
export * from './best-crops';
export * from './cameras';
export * from './metrics';
export * from './tracker';
