// The synthetic footage world: CCTV-like videos of the synthetic people with ground truth.
export * from './scene';
export * from './world';
