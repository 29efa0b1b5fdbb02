import type { Migration } from '../migrate';

// A review team on one server (issue 13):
// - users: named people with a role and their own secret link. Only the token's SHA-256 is kept, so the
//   database never holds a credential; a revoked user keeps their row (the audit trail names them).
//   The workspace owner (the desktop app, the token `ctgi serve` prints) is not a row: they are the admin.
// - review_leases: a caption handed to one person for a while (renewed while they work, dropped when it
//   expires or they release it), so two people never decide the same caption at once.
// - admin_audit: who created or revoked whom, when.
// - review_votes: the double-review share (team_settings.double_share of captions, picked by their root
//   id) is decided blind by two different people; each vote waits here until the second one, and a
//   disagreement waits for a reviewer's adjudication (adjudicated_by on the caption's votes).
export const v14Team: Migration = {
  name: 'users, review leases, double-review votes and adjudications, team settings, admin audit',
  up: (db) => {
    db.exec(`
      CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(name) BETWEEN 1 AND 80),
        role TEXT NOT NULL CHECK (role IN ('admin', 'reviewer', 'annotator')),
        token_hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      ) STRICT;

      CREATE TABLE review_leases (
        caption_id INTEGER PRIMARY KEY REFERENCES captions(id) ON DELETE CASCADE,
        holder TEXT NOT NULL,
        acquired_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX review_leases_holder ON review_leases(holder, expires_at);

      CREATE TABLE review_votes (
        caption_id INTEGER NOT NULL REFERENCES captions(id) ON DELETE CASCADE,
        reviewer TEXT NOT NULL,
        decision TEXT NOT NULL CHECK (decision IN ('accept', 'reject')),
        text TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (caption_id, reviewer)
      ) STRICT;

      CREATE TABLE review_adjudications (
        caption_id INTEGER PRIMARY KEY REFERENCES captions(id) ON DELETE CASCADE,
        adjudicator TEXT NOT NULL,
        decision TEXT NOT NULL CHECK (decision IN ('accept', 'reject')),
        created_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE team_settings (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        double_share REAL NOT NULL DEFAULT 0 CHECK (double_share >= 0 AND double_share <= 1)
      ) STRICT;
      INSERT INTO team_settings (id, double_share) VALUES (1, 0);

      CREATE TABLE admin_audit (
        id INTEGER PRIMARY KEY,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
    `);
  },
};
