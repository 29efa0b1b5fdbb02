import type { Migration } from '../migrate';

// Person re-ID datasets as they come (issue 16): Market-1501, DukeMTMC-reID, MSMT17, CUHK03 and
// LUPerson-style trees. Their layout and file names carry more than the split:
// - `datasets.layout`: the layout the folder was imported as (NULL: a plain folder or a TBPS annotation file);
// - `images.role`: the dataset's own protocol, 'train', 'query' or 'gallery' (split stays train/val/test, so
//   the TBPS protocol and every split filter keep working; query and gallery images are split 'test');
// - `images.person_kind`: 'identity' (a person id), 'junk' (Market/Duke's -1: bad detections), 'distractor'
//   (0000: not a person of the set) or 'unknown' (no label, as in LUPerson). Junk and distractors get no
//   identity row, so they never count as persons, and evaluation leaves them out unless asked;
// - `images.source_group`: where the image came from when that is all that is known (LUPerson's source video,
//   CUHK03's detected/labeled crops), so a split by group keeps a video's crops together.
// Existing images with an identity are identities; the rest are unknown.
export const v11Reid: Migration = {
  name: 're-ID layouts: dataset layout, image role, person kind, source group',
  up: (db) => {
    db.exec(`
      ALTER TABLE datasets ADD COLUMN layout TEXT
        CHECK (layout IS NULL OR layout IN ('market', 'duke', 'msmt17', 'cuhk03', 'luperson'));
      ALTER TABLE images ADD COLUMN role TEXT CHECK (role IS NULL OR role IN ('train', 'query', 'gallery'));
      ALTER TABLE images ADD COLUMN person_kind TEXT NOT NULL DEFAULT 'unknown'
        CHECK (person_kind IN ('identity', 'junk', 'distractor', 'unknown'));
      ALTER TABLE images ADD COLUMN source_group TEXT;
      UPDATE images SET person_kind = 'identity' WHERE identity_id IS NOT NULL;
      CREATE INDEX images_by_role ON images (dataset_id, role);
    `);
  },
};
