// DukeMTMC-reID: Market-1501's folders, names PPPP_cC_fFFFFFFF.jpg (person, camera, frame).
import { bboxEvidence, classifyBboxImage } from './market';
import type { WalkedLayout } from './types';

export const DUKE_NAME = /^(-?\d+)_c(\d+)_f(\d+)\.\w+$/i;
const PATTERN = "DukeMTMC-reID's PPPP_cC_fFFFFFFF.jpg";

export const duke: WalkedLayout = {
  kind: 'walk',
  layout: 'duke',
  label: 'DukeMTMC-reID',
  recognise: (glance) => bboxEvidence(glance, DUKE_NAME, PATTERN),
  classify(relPath) {
    const parts = relPath.split('/');
    if (parts.length !== 2) return null;
    return classifyBboxImage(relPath, DUKE_NAME, PATTERN, parts, null);
  },
};
