import type { Migration } from '../migrate';

// Footage archives (issue 9): a folder of recordings becomes cameras, videos, tracks and crops, and the
// crops are ordinary library images (JPEG, content-addressed in the workspace's media folder, in one
// dataset per footage folder, with their camera set), so embedding, search, MTI and review take them as
// they take any image. What only footage has lives beside them:
// - detectors: registered person-detector folders, like `models` for CLIP (the validated manifest and run
//   spec, and the ONNX file's sha256, so a changed file is refused rather than silently used);
// - footage_folders → cameras → videos: where a recording is, its probe, and its wall-clock start with
//   where that came from (file name, container, user);
// - footage_cursors: how far a footage job got in each video (seconds, the tracker's frame number, and
//   the tracker + crop keeper snapshot at that point), written in the transaction that writes the tracks
//   and crops the stretch ended, so a crash resumes without a crop written twice or a track split;
// - tracks (one walk past one camera; each is an identity within its camera) and crops (the image, its
//   track, the frame's time, the wall-clock time and the box in frame pixels).
// Times in videos are seconds from the video's start (REAL); wall-clock times are epoch milliseconds.
export const v12Footage: Migration = {
  name: 'footage: detectors, footage folders, cameras, videos, cursors, tracks, crops',
  up: (db) => {
    db.exec(`
      CREATE TABLE detectors (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        folder TEXT NOT NULL,
        -- The validated manifest, the run spec validation decided and its notes.
        manifest TEXT NOT NULL CHECK (json_valid(manifest)),
        sha256 TEXT NOT NULL,
        contract TEXT NOT NULL CHECK (contract IN ('yolov8', 'yolox', 'rtdetr')),
        input_height INTEGER NOT NULL CHECK (input_height > 0),
        input_width INTEGER NOT NULL CHECK (input_width > 0),
        created_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE footage_folders (
        id INTEGER PRIMARY KEY,
        root TEXT NOT NULL UNIQUE,
        dataset_id INTEGER NOT NULL UNIQUE REFERENCES datasets(id) ON DELETE CASCADE,
        -- The camera pattern over file names; NULL: each folder is a camera.
        pattern TEXT,
        -- The cameras' clock: minutes east of UTC, or NULL for this computer's time zone.
        utc_offset_minutes INTEGER,
        created_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE cameras (
        id INTEGER PRIMARY KEY,
        folder_id INTEGER NOT NULL REFERENCES footage_folders(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('file-name', 'folder')),
        UNIQUE (folder_id, name)
      ) STRICT;

      CREATE TABLE videos (
        id INTEGER PRIMARY KEY,
        folder_id INTEGER NOT NULL REFERENCES footage_folders(id) ON DELETE CASCADE,
        camera_id INTEGER NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
        -- Relative to the footage folder's root, with / between levels.
        rel_path TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime_ms INTEGER NOT NULL,
        -- ffprobe's answer as VideoInfo; NULL until probed (or when the probe failed: see error).
        probe TEXT CHECK (probe IS NULL OR json_valid(probe)),
        duration REAL,
        start_ms INTEGER,
        start_source TEXT CHECK (start_source IS NULL OR start_source IN ('file-name', 'container', 'user')),
        start_from TEXT,
        status TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'done', 'failed')),
        error TEXT,
        created_at INTEGER NOT NULL,
        UNIQUE (folder_id, rel_path)
      ) STRICT;
      CREATE INDEX videos_by_camera ON videos (camera_id, start_ms);

      CREATE TABLE footage_cursors (
        video_id INTEGER PRIMARY KEY REFERENCES videos(id) ON DELETE CASCADE,
        detector_id INTEGER REFERENCES detectors(id) ON DELETE SET NULL,
        fps REAL NOT NULL CHECK (fps > 0),
        -- Processed up to here (exclusive), in seconds from the video's start.
        seconds REAL NOT NULL CHECK (seconds >= 0),
        -- The tracker's frame number of the next sample.
        next_index INTEGER NOT NULL CHECK (next_index >= 0),
        -- v8-serialised tracker and crop keeper at 'seconds'; NULL once the video is done.
        snapshot BLOB,
        updated_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE tracks (
        id INTEGER PRIMARY KEY,
        video_id INTEGER NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
        camera_id INTEGER NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
        -- The tracker's own number within the video: a resumed job cannot write one track twice.
        tracker_id INTEGER NOT NULL,
        identity_id INTEGER REFERENCES identities(id) ON DELETE SET NULL,
        first_time REAL NOT NULL,
        last_time REAL NOT NULL,
        first_ms INTEGER,
        last_ms INTEGER,
        observations INTEGER NOT NULL,
        UNIQUE (video_id, tracker_id)
      ) STRICT;
      CREATE INDEX tracks_by_camera ON tracks (camera_id, first_ms);

      CREATE TABLE crops (
        image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
        track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
        video_id INTEGER NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
        -- Seconds from the video's start (the frame's pts less the container's start time).
        frame_time REAL NOT NULL,
        frame_pts REAL NOT NULL,
        time_ms INTEGER,
        x1 REAL NOT NULL,
        y1 REAL NOT NULL,
        x2 REAL NOT NULL,
        y2 REAL NOT NULL,
        score REAL NOT NULL
      ) STRICT;
      CREATE INDEX crops_by_track ON crops (track_id, frame_time);
      CREATE INDEX crops_by_video ON crops (video_id);
    `);
  },
};
