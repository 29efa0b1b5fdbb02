// The synthetic footage world: CCTV-like videos of the synthetic people with ground truth, and its evaluation.
export * from './evaluate';
export * from './scene';
export * from './world';
