import type { Migration } from '../migrate';

// Views of footage crops (issue 9): a person box takes in what the person carries, so a bag carrier's crop
// is centred on body + bag. Each kept crop also gets two 1:3 windows centred on the left and right half of
// its box (src/main/footage/views.ts), embedded beside the crop. The views are not library images: only their
// vectors are kept, per model, and they go with the crop's image. The vector stores hold them as more rows
// of the crop's image (view 1 and 2; the image's own vector is view 0), so an image ranks by the best of its
// rows in every search, filter and re-rank (src/main/vectors/types.ts).
// A rowid table (the ~2 KB blobs stay out of the indices): the primary key's index is narrow, so the
// fingerprint of a model's rows (count and id sum) reads no blob.
export const v15CropViews: Migration = {
  name: 'vectors of footage crop views',
  up: (db) => {
    db.exec(`
      CREATE TABLE crop_view_embeddings (
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        image_id INTEGER NOT NULL REFERENCES crops(image_id) ON DELETE CASCADE,
        view INTEGER NOT NULL CHECK (view >= 1),
        vector BLOB NOT NULL,
        PRIMARY KEY (model_id, image_id, view)
      ) STRICT;
      CREATE INDEX crop_view_embeddings_by_image ON crop_view_embeddings (image_id);
    `);
  },
};
