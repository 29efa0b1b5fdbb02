import { describe, expect, it } from 'vitest';
import { insertDataset, listDatasets } from '../../src/main/db/repos/datasets';
import {
  getImageDetail,
  getLibraryStats,
  insertCaption,
  insertImage,
  listImages,
} from '../../src/main/db/repos/images';
import { openDatabase } from '../../src/main/db/open';

function library() {
  const { db } = openDatabase(':memory:');
  const datasetId = insertDataset(db, { name: 'd', format: 'folder', root: '/x', annotationFile: null });
  const image = (n: number) =>
    insertImage(db, {
      datasetId,
      relPath: `${n}.jpg`,
      sha256: `sha${n}`,
      width: 64,
      height: 128,
      bytes: 100,
      format: 'jpeg',
      identityId: null,
      camera: null,
      split: n % 2 ? 'train' : 'test',
    });
  return { db, datasetId, image };
}

describe('library listing', () => {
  it('counts and lists only the current caption of an edit chain, never the row it replaced', () => {
    const { db, image } = library();
    const a = image(1);
    const generated = insertCaption(db, {
      imageId: a,
      source: 'mtg',
      text: 'a man in red',
      status: 'pending',
    });
    // The review desk replaced it by an edited row; the model output stays, no longer current.
    db.prepare(`UPDATE captions SET is_current = 0 WHERE id = ?`).run(generated);
    insertCaption(db, { imageId: a, source: 'edited', text: 'a man in a red coat', status: 'accepted' });

    expect(getImageDetail(db, a)!.captions.map((c) => c.text)).toEqual(['a man in a red coat']);
    expect(getLibraryStats(db).captions).toMatchObject({ pending: 0, accepted: 1 });
    expect(listImages(db, { captions: 'pending' }, 0, 10).total).toBe(0);
    expect(listImages(db, { captions: 'accepted' }, 0, 10).items.map((i) => i.captionCount)).toEqual([1]);
    expect(listDatasets(db)[0]!.captionCount).toBe(1);
  });

  it('filters by split and by having no caption, paging in stable id order with the total', () => {
    const { db, image } = library();
    const ids = [1, 2, 3, 4, 5].map(image);
    insertCaption(db, { imageId: ids[0]!, source: 'human', text: 't', status: 'accepted' });
    const none = listImages(db, { captions: 'none' }, 0, 2);
    expect(none.total).toBe(4);
    expect(none.items.map((i) => i.id)).toEqual([ids[1], ids[2]]);
    expect(listImages(db, { captions: 'any', split: 'train' }, 0, 10).items.map((i) => i.id)).toEqual([
      ids[0],
      ids[2],
      ids[4],
    ]);
  });
});
