import type { Migration } from '../migrate';

// Registered CLIP models and the image vectors each made. A vector always names its model, and search
// never mixes models: vectors of different models live in different rows keyed by model_id.
export const v2Models: Migration = {
  name: 'models and embeddings',
  up: (db) => {
    db.exec(`
      CREATE TABLE models (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        folder TEXT NOT NULL,
        manifest TEXT NOT NULL CHECK (json_valid(manifest)),
        vision_sha256 TEXT NOT NULL,
        text_sha256 TEXT NOT NULL,
        image_height INTEGER NOT NULL CHECK (image_height > 0),
        image_width INTEGER NOT NULL CHECK (image_width > 0),
        context_length INTEGER NOT NULL CHECK (context_length > 0),
        embedding_dim INTEGER NOT NULL CHECK (embedding_dim > 0),
        created_at INTEGER NOT NULL
      ) STRICT;

      -- vector: embedding_dim float32 values, little-endian, L2-normalised.
      CREATE TABLE embeddings (
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        vector BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (model_id, image_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX embeddings_by_image ON embeddings (image_id);
    `);
  },
};
