// Views of a kept crop. A person box takes in what the person carries: a bag widens it to one side, so
// the crop (framed 1:3 about the box's centre) has the body off centre, while pedestrian pictures, and the
// models that read them, have the body in the middle. Besides the crop, two 1:3 windows of the box's
// height are embedded, centred on the left and on the right half of the box (where the body is when
// something carried widens the box); a crop is ranked by the best of the three. A box without anything
// beside the person is about as narrow as the body, so its views are nearly the crop itself; no threshold
// on the box's width is needed (figures: docs/footage.md, `npm run eval:footage-search`). The views' vectors
// are rows of the crop's image in the vector stores (src/main/vectors/types.ts `VectorRow`).
import sharp from 'sharp';
import { cropRect, DEFAULT_CROP_OPTIONS } from './best-crops';
import type { Box } from './tracker';

/**
 * The views' windows in frame pixels: the box's height with the crop's margin, 1:3 wide, centred a quarter
 * of the box's width in from each end.
 */
export function viewWindows(
  box: Box,
  margin = DEFAULT_CROP_OPTIONS.margin,
): { x: number; y: number; width: number; height: number }[] {
  const w = box.x2 - box.x1;
  const height = (box.y2 - box.y1) * (1 + 2 * margin);
  const width = height / 3;
  const y = (box.y1 + box.y2) / 2 - height / 2;
  return [box.x1 + w / 4, box.x2 - w / 4].map((cx) => ({ x: cx - width / 2, y, width, height }));
}

/**
 * The views of a stored crop (its encoded file), cut from it; where a window reaches past the crop, the
 * crop's edge pixels are repeated (as the crop itself does at the frame's edge). PNG buffers, or null when
 * the crop was not framed as crops are now (box + margin widened to 1:3: crops cut before that have
 * another size), so where the box lies in it is not known.
 */
export async function cropViews(crop: Buffer, box: Box): Promise<Buffer[] | null> {
  const { margin, aspect } = DEFAULT_CROP_OPTIONS;
  if (!aspect) return null;
  const rect = cropRect(box, margin, aspect);
  const { data, info } = await sharp(crop).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.width !== rect.width || info.height !== rect.height) return null;
  const windows = viewWindows(box, margin);
  const pad = Math.ceil(windows[0]!.width) + 1;
  const padded = await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } })
    .extend({ left: pad, right: pad, top: pad, bottom: pad, extendWith: 'copy' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return Promise.all(
    windows.map((v) =>
      sharp(padded.data, { raw: padded.info })
        .extract({
          left: Math.round(v.x - rect.x) + pad,
          top: Math.round(v.y - rect.y) + pad,
          width: Math.max(1, Math.round(v.width)),
          height: Math.max(1, Math.round(v.height)),
        })
        .png({ compressionLevel: 1 })
        .toBuffer(),
    ),
  );
}
