// Market-1501: bounding_box_train/, bounding_box_test/ (the gallery), query/; names PPPP_cCsS_FFFFFF_NN.jpg
// (person, camera, sequence, frame, box). Person -1 is junk, 0000 a distractor. gt_bbox/ and gt_query/
// (hand-drawn boxes and .mat files) are not part of the protocol and are left out.
import {
  BBOX_FOLDERS,
  GENERIC_NAME,
  personFromId,
  type FolderGlance,
  type LayoutImage,
  type WalkedLayout,
} from './types';

export const MARKET_NAME = /^(-?\d+)_c(\d+)s(\d+)_(\d+)_(\d+)\.\w+$/i;

/** The image under one of the three folders, named by `pattern` (or at least person_camera). */
export function classifyBboxImage(
  relPath: string,
  pattern: RegExp,
  patternText: string,
  parts: readonly string[],
  sourceGroup: string | null,
): LayoutImage | null {
  const folder = parts[parts.length - 2];
  const name = parts[parts.length - 1]!;
  const place = folder === undefined ? undefined : BBOX_FOLDERS[folder];
  if (!place) return null;
  const m = pattern.exec(name) ?? GENERIC_NAME.exec(name);
  if (!m) {
    return {
      relPath,
      personId: null,
      personKind: 'unknown',
      camera: null,
      ...place,
      sourceGroup,
      warning: `name does not follow ${patternText}; imported without a person or camera.`,
    };
  }
  return { relPath, ...personFromId(m[1]!), camera: `c${Number(m[2])}`, ...place, sourceGroup };
}

/** Evidence for a Market-style folder: at least two of its three folders, and names that follow `pattern`. */
export async function bboxEvidence(
  glance: FolderGlance,
  pattern: RegExp,
  label: string,
): Promise<string[] | null> {
  const present = Object.keys(BBOX_FOLDERS).filter((d) => glance.dirs.has(d));
  if (present.length < 2) return null;
  const names = [...(await glance.sampleNames('bounding_box_train')), ...(await glance.sampleNames('query'))];
  const matching = names.filter((n) => pattern.test(n));
  if (names.length === 0 || matching.length * 2 < names.length) return null;
  return [
    `folders ${present.map((d) => `${d}/`).join(', ')}`,
    `${matching.length} of ${names.length} sampled names follow ${label} (e.g. ${matching[0]})`,
  ];
}

export const market: WalkedLayout = {
  kind: 'walk',
  layout: 'market',
  label: 'Market-1501',
  recognise: (glance) => bboxEvidence(glance, MARKET_NAME, "Market-1501's PPPP_cCsS_FFFFFF_NN.jpg"),
  classify(relPath) {
    const parts = relPath.split('/');
    if (parts.length !== 2) return null;
    return classifyBboxImage(relPath, MARKET_NAME, "Market-1501's PPPP_cCsS_FFFFFF_NN.jpg", parts, null);
  },
};
