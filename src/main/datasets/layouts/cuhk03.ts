// CUHK03 in the new protocol (Zhong et al., CUHK03-NP): detected/ and labeled/, each with Market-1501's
// folders, names PPPP_cC_N.png. The two hold the same people cropped two ways: each image keeps which one
// as its source group, and the re-ID evaluation ranks a query only against the gallery of its own group.
import { BBOX_FOLDERS } from './types';
import { classifyBboxImage } from './market';
import type { WalkedLayout } from './types';

export const CUHK03_NAME = /^(-?\d+)_c(\d+)_(\d+)\.\w+$/i;
const PATTERN = "CUHK03-NP's PPPP_cC_N.png";
export const CUHK03_VARIANTS = ['detected', 'labeled'] as const;

export const cuhk03: WalkedLayout = {
  kind: 'walk',
  layout: 'cuhk03',
  label: 'CUHK03 (new protocol: detected/ and labeled/)',
  async recognise(glance) {
    const variants = CUHK03_VARIANTS.filter((v) => glance.dirs.has(v));
    if (variants.length === 0) return null;
    const evidence: string[] = [];
    for (const v of variants) {
      const names = [
        ...(await glance.sampleNames(`${v}/bounding_box_train`)),
        ...(await glance.sampleNames(`${v}/query`)),
      ];
      const ok = names.filter((n) => CUHK03_NAME.test(n));
      if (names.length === 0 || ok.length * 2 < names.length) continue;
      evidence.push(
        `${v}/ with ${Object.keys(BBOX_FOLDERS)
          .map((d) => `${d}/`)
          .join(', ')}; ${ok.length} of ${names.length} sampled names follow ${PATTERN} (e.g. ${ok[0]})`,
      );
    }
    return evidence.length ? evidence : null;
  },
  classify(relPath) {
    const parts = relPath.split('/');
    if (parts.length !== 3 || !(CUHK03_VARIANTS as readonly string[]).includes(parts[0]!)) return null;
    return classifyBboxImage(relPath, CUHK03_NAME, PATTERN, parts, parts[0]!);
  },
};
