// The toy CLIP: a pair of hand-weighted ONNX towers whose similarity follows the synthetic world's
// attributes (DESIGN.md "The synthetic world"). See features.ts for the shared feature space.
export * from './features';
export * from './folder';
export {
  buildToyTextModel,
  positionalTable,
  POSITION_SCALE,
  TOKEN_CHANNELS,
  tokenMeanings,
  type TokenMeaning,
} from './text';
export { AREAS, areaMasks, buildToyVisionModel, COLOUR_TEMPERATURE, TOY_IMAGE_SIZE } from './vision';
