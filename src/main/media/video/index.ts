// Video I/O (the media layer owns image and video I/O): FFmpeg/ffprobe location, probing, frame sampling
// with exact timestamps, single frames, encoding.
export * from './encode';
export * from './errors';
export * from './frames';
export * from './probe';
export * from './tools';
export * from './choice';
