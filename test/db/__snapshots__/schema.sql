-- user_version 15

-- index caption_scores_by_model
CREATE INDEX caption_scores_by_model ON caption_scores (model_id, score);

-- index captions_by_derived
CREATE INDEX captions_by_derived ON captions (derived_from) WHERE derived_from IS NOT NULL;

-- index captions_by_image
CREATE INDEX captions_by_image ON captions (image_id);

-- index captions_by_status
CREATE INDEX captions_by_status ON captions (status);

-- index captions_current_by_image
CREATE INDEX captions_current_by_image ON captions (is_current, image_id, id);

-- index captions_current_by_status
CREATE INDEX captions_current_by_status ON captions (is_current, status, image_id, id);

-- index crop_view_embeddings_by_image
CREATE INDEX crop_view_embeddings_by_image ON crop_view_embeddings (image_id);

-- index crops_by_track
CREATE INDEX crops_by_track ON crops (track_id, frame_time);

-- index crops_by_video
CREATE INDEX crops_by_video ON crops (video_id);

-- index embeddings_by_image
CREATE INDEX embeddings_by_image ON embeddings (image_id);

-- index images_by_identity
CREATE INDEX images_by_identity ON images (identity_id);

-- index images_by_role
CREATE INDEX images_by_role ON images (dataset_id, role);

-- index images_by_sha
CREATE INDEX images_by_sha ON images (dataset_id, sha256);

-- index images_by_split
CREATE INDEX images_by_split ON images (dataset_id, split);

-- index job_images_by_image
CREATE INDEX job_images_by_image ON job_images (image_id);

-- index job_issues_by_job
CREATE INDEX job_issues_by_job ON job_issues (job_id, id);

-- index jobs_by_status
CREATE INDEX jobs_by_status ON jobs (status);

-- index llm_batches_by_job
CREATE INDEX llm_batches_by_job ON llm_batches (job_id, round);

-- index llm_calls_by_endpoint
CREATE INDEX llm_calls_by_endpoint ON llm_calls (endpoint_id, created_at);

-- index llm_calls_by_job
CREATE INDEX llm_calls_by_job ON llm_calls (job_id) WHERE job_id IS NOT NULL;

-- index llm_calls_by_purpose
CREATE INDEX llm_calls_by_purpose ON llm_calls (purpose, created_at);

-- index llm_calls_cache
CREATE INDEX llm_calls_cache ON llm_calls (request_hash, id) WHERE status = 'ok';

-- index llm_calls_refusals
CREATE INDEX llm_calls_refusals ON llm_calls (request_hash, id) WHERE status = 'error' AND error_kind = 'refused';

-- index mtg_runs_by_caption
CREATE INDEX mtg_runs_by_caption ON mtg_runs (caption_id) WHERE caption_id IS NOT NULL;

-- index mtg_runs_by_image
CREATE INDEX mtg_runs_by_image ON mtg_runs (image_id, id);

-- index mtg_runs_by_job
CREATE INDEX mtg_runs_by_job ON mtg_runs (job_id, image_id);

-- index review_leases_holder
CREATE INDEX review_leases_holder ON review_leases(holder, expires_at);

-- index reviews_by_batch
CREATE INDEX reviews_by_batch ON reviews (batch) WHERE batch IS NOT NULL;

-- index reviews_by_caption
CREATE INDEX reviews_by_caption ON reviews (caption_id, id);

-- index reviews_by_reviewer
CREATE INDEX reviews_by_reviewer ON reviews (reviewer, id);

-- index reviews_by_time
CREATE INDEX reviews_by_time ON reviews (created_at);

-- index searches_by_time
CREATE INDEX searches_by_time ON searches (updated_at DESC, id DESC);

-- index tracks_by_camera
CREATE INDEX tracks_by_camera ON tracks (camera_id, first_ms);

-- index videos_by_camera
CREATE INDEX videos_by_camera ON videos (camera_id, start_ms);

-- table admin_audit
CREATE TABLE admin_audit (
        id INTEGER PRIMARY KEY,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;

-- table cameras
CREATE TABLE cameras (
        id INTEGER PRIMARY KEY,
        folder_id INTEGER NOT NULL REFERENCES footage_folders(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('file-name', 'folder')),
        UNIQUE (folder_id, name)
      ) STRICT;

-- table caption_scores
CREATE TABLE caption_scores (
        caption_id INTEGER NOT NULL REFERENCES captions(id) ON DELETE CASCADE,
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        score REAL NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (caption_id, model_id)
      ) STRICT, WITHOUT ROWID;

-- table captions
CREATE TABLE captions (
        id INTEGER PRIMARY KEY,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        source TEXT NOT NULL CHECK (source IN ('human', 'mtg', 'edited')),
        text TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected', 'flagged')),
        derived_from INTEGER REFERENCES captions(id) ON DELETE SET NULL,
        version INTEGER NOT NULL DEFAULT 1,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      , is_current INTEGER NOT NULL DEFAULT 1 CHECK (is_current IN (0, 1)), retracted_at INTEGER) STRICT;

-- table crop_view_embeddings
CREATE TABLE crop_view_embeddings (
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        image_id INTEGER NOT NULL REFERENCES crops(image_id) ON DELETE CASCADE,
        view INTEGER NOT NULL CHECK (view >= 1),
        vector BLOB NOT NULL,
        PRIMARY KEY (model_id, image_id, view)
      ) STRICT;

-- table crops
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

-- table datasets
CREATE TABLE datasets (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        format TEXT NOT NULL CHECK (format IN ('folder', 'cuhk-pedes', 'icfg-pedes', 'rstpreid')),
        root TEXT NOT NULL,
        annotation_file TEXT,
        status TEXT NOT NULL CHECK (status IN ('importing', 'ready', 'incomplete')),
        created_at INTEGER NOT NULL
      , layout TEXT
        CHECK (layout IS NULL OR layout IN ('market', 'duke', 'msmt17', 'cuhk03', 'luperson'))) STRICT;

-- table detectors
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

-- table embeddings
CREATE TABLE embeddings (
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        vector BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (model_id, image_id)
      ) STRICT, WITHOUT ROWID;

-- table eval_mti_queries
CREATE TABLE eval_mti_queries (
        job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        query_index INTEGER NOT NULL CHECK (query_index >= 0),
        caption_id INTEGER NOT NULL,
        query TEXT NOT NULL,
        without_first INTEGER,
        without_ap REAL,
        without_inp REAL,
        with_first INTEGER,
        with_ap REAL,
        with_inp REAL,
        calls INTEGER NOT NULL CHECK (calls >= 0),
        ms REAL NOT NULL,
        top1 REAL NOT NULL,
        anchor INTEGER NOT NULL CHECK (anchor IN (0, 1)),
        anchor_correct INTEGER NOT NULL CHECK (anchor_correct IN (0, 1)),
        early_stop INTEGER NOT NULL CHECK (early_stop IN (0, 1)),
        fallback INTEGER NOT NULL CHECK (fallback IN (0, 1)),
        refined TEXT,
        PRIMARY KEY (job_id, query_index),
        CHECK ((without_first IS NULL) = (without_ap IS NULL) AND (without_ap IS NULL) = (without_inp IS NULL)),
        CHECK ((with_first IS NULL) = (with_ap IS NULL) AND (with_ap IS NULL) = (with_inp IS NULL))
      ) STRICT;

-- table footage_cursors
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

-- table footage_folders
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

-- table identities
CREATE TABLE identities (
        id INTEGER PRIMARY KEY,
        dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        person_id TEXT NOT NULL,
        UNIQUE (dataset_id, person_id)
      ) STRICT;

-- table images
CREATE TABLE images (
        id INTEGER PRIMARY KEY,
        dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        rel_path TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        width INTEGER NOT NULL CHECK (width > 0),
        height INTEGER NOT NULL CHECK (height > 0),
        bytes INTEGER NOT NULL,
        format TEXT NOT NULL,
        identity_id INTEGER REFERENCES identities(id) ON DELETE SET NULL,
        camera TEXT,
        split TEXT CHECK (split IN ('train', 'val', 'test')),
        created_at INTEGER NOT NULL, role TEXT CHECK (role IS NULL OR role IN ('train', 'query', 'gallery')), person_kind TEXT NOT NULL DEFAULT 'unknown'
        CHECK (person_kind IN ('identity', 'junk', 'distractor', 'unknown')), source_group TEXT,
        UNIQUE (dataset_id, rel_path)
      ) STRICT;

-- table job_images
CREATE TABLE job_images (
        job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        PRIMARY KEY (job_id, image_id)
      ) STRICT, WITHOUT ROWID;

-- table job_issues
CREATE TABLE job_issues (
        id INTEGER PRIMARY KEY,
        job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        severity TEXT NOT NULL CHECK (severity IN ('error', 'warning')),
        item TEXT NOT NULL,
        message TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;

-- table jobs
CREATE TABLE "jobs" (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        title TEXT NOT NULL,
        params TEXT NOT NULL CHECK (json_valid(params)),
        status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'paused', 'done', 'done-with-failures', 'failed', 'cancelled')),
        done INTEGER NOT NULL DEFAULT 0,
        total INTEGER,
        message TEXT,
        error TEXT,
        state TEXT CHECK (state IS NULL OR json_valid(state)),
        attempts INTEGER NOT NULL DEFAULT 0,
        -- The process running it ('host:pid:start:instance') and when it last said so: a second process
        -- opening the workspace leaves a live job alone and requeues only an orphaned one.
        owner TEXT,
        heartbeat_at INTEGER,
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        finished_at INTEGER,
        updated_at INTEGER NOT NULL,
        scoped INTEGER NOT NULL DEFAULT 0 CHECK (scoped IN (0, 1))
      ) STRICT;

-- table llm_batches
CREATE TABLE llm_batches (
        id INTEGER PRIMARY KEY,
        job_id INTEGER REFERENCES jobs(id) ON DELETE CASCADE,
        endpoint_id INTEGER REFERENCES llm_endpoints(id) ON DELETE SET NULL,
        -- The MTG round this batch asks (0 = initial caption; rounds + 1 = reconstruction), and which try
        -- of that round it is (a smaller batch retries what failed or expired).
        round INTEGER NOT NULL CHECK (round >= 0),
        try INTEGER NOT NULL DEFAULT 1 CHECK (try >= 1),
        provider_batch_id TEXT,
        input_file_id TEXT,
        output_file_id TEXT,
        error_file_id TEXT,
        status TEXT NOT NULL CHECK (status IN ('preparing', 'submitted', 'in_progress', 'finalizing',
          'completed', 'failed', 'expired', 'cancelled', 'collected')),
        request_count INTEGER NOT NULL DEFAULT 0 CHECK (request_count >= 0),
        completed_count INTEGER NOT NULL DEFAULT 0 CHECK (completed_count >= 0),
        failed_count INTEGER NOT NULL DEFAULT 0 CHECK (failed_count >= 0),
        error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;

-- table llm_calls
CREATE TABLE llm_calls (
        id INTEGER PRIMARY KEY,
        endpoint_id INTEGER REFERENCES llm_endpoints(id) ON DELETE SET NULL,
        base_url TEXT NOT NULL,
        model TEXT NOT NULL,
        purpose TEXT NOT NULL,
        request_hash TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('ok', 'error', 'hit')),
        attempt INTEGER NOT NULL DEFAULT 1,
        latency_ms INTEGER,
        prompt_tokens INTEGER,
        completion_tokens INTEGER,
        response TEXT,
        finish_reason TEXT,
        error_kind TEXT,
        error TEXT,
        cached_from INTEGER REFERENCES llm_calls(id) ON DELETE SET NULL,
        created_at INTEGER NOT NULL
      , replica TEXT, job_id INTEGER REFERENCES jobs(id) ON DELETE SET NULL, batch_id INTEGER REFERENCES llm_batches(id) ON DELETE SET NULL) STRICT;

-- table llm_endpoints
CREATE TABLE llm_endpoints (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        base_url TEXT NOT NULL,
        model TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('vqa', 'reconstructor', 'both')),
        temperature REAL NOT NULL DEFAULT 0.01 CHECK (temperature >= 0),
        max_tokens INTEGER NOT NULL CHECK (max_tokens > 0),
        concurrency INTEGER NOT NULL CHECK (concurrency > 0),
        requests_per_minute INTEGER CHECK (requests_per_minute IS NULL OR requests_per_minute > 0),
        timeout_ms INTEGER NOT NULL CHECK (timeout_ms > 0),
        key_ref TEXT NOT NULL CHECK (json_valid(key_ref)),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      , token_limit_param TEXT NOT NULL DEFAULT 'auto'
        CHECK (token_limit_param IN ('auto', 'max_tokens', 'max_completion_tokens')), temperature_param TEXT NOT NULL DEFAULT 'auto'
        CHECK (temperature_param IN ('auto', 'send', 'omit')), replicas TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(replicas)), price_input REAL CHECK (price_input IS NULL OR price_input >= 0), price_output REAL CHECK (price_output IS NULL OR price_output >= 0), batch_discount REAL NOT NULL DEFAULT 0.5
        CHECK (batch_discount >= 0 AND batch_discount <= 1)) STRICT;

-- table models
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

-- table mtg_runs
CREATE TABLE mtg_runs (
        id INTEGER PRIMARY KEY,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        job_id INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
        prompt_set_id INTEGER NOT NULL REFERENCES prompt_sets(id),
        status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
        error TEXT,
        caption_id INTEGER REFERENCES captions(id) ON DELETE SET NULL,
        initial_caption TEXT,
        initial_call_id INTEGER REFERENCES llm_calls(id) ON DELETE SET NULL,
        reconstruction TEXT,
        reconstruct_call_id INTEGER REFERENCES llm_calls(id) ON DELETE SET NULL,
        vqa_endpoint TEXT NOT NULL,
        vqa_model TEXT NOT NULL,
        reconstructor_endpoint TEXT NOT NULL,
        reconstructor_model TEXT NOT NULL,
        params TEXT NOT NULL CHECK (json_valid(params)),
        skipped TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(skipped)),
        calls INTEGER NOT NULL DEFAULT 0,
        cached_calls INTEGER NOT NULL DEFAULT 0,
        prompt_tokens INTEGER NOT NULL DEFAULT 0,
        completion_tokens INTEGER NOT NULL DEFAULT 0,
        elapsed_ms INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        CHECK (status = 'done' OR error IS NOT NULL)
      ) STRICT;

-- table prompt_sets
CREATE TABLE prompt_sets (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        version INTEGER NOT NULL CHECK (version > 0),
        sha256 TEXT NOT NULL UNIQUE,
        body TEXT NOT NULL CHECK (json_valid(body)),
        created_at INTEGER NOT NULL,
        UNIQUE (name, version)
      ) STRICT;

-- table qa_rounds
CREATE TABLE "qa_rounds" (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES mtg_runs(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL CHECK (idx >= 0),
        question_id TEXT NOT NULL,
        question TEXT NOT NULL,
        prompt TEXT NOT NULL,
        answer TEXT,
        kept INTEGER NOT NULL CHECK (kept IN (0, 1)),
        drop_reason TEXT CHECK (drop_reason IS NULL OR drop_reason IN ('not_visible', 'refusal', 'negative', 'redundant', 'empty', 'error', 'unverified')),
        drop_detail TEXT,
        fact TEXT,
        llm_call_id INTEGER REFERENCES llm_calls(id) ON DELETE SET NULL,
        cached INTEGER NOT NULL DEFAULT 0 CHECK (cached IN (0, 1)),
        latency_ms INTEGER,
        prompt_tokens INTEGER,
        completion_tokens INTEGER,
        CHECK ((kept = 1) = (drop_reason IS NULL)),
        UNIQUE (run_id, idx)
      ) STRICT;

-- table review_adjudications
CREATE TABLE review_adjudications (
        caption_id INTEGER PRIMARY KEY REFERENCES captions(id) ON DELETE CASCADE,
        adjudicator TEXT NOT NULL,
        decision TEXT NOT NULL CHECK (decision IN ('accept', 'reject')),
        created_at INTEGER NOT NULL
      ) STRICT;

-- table review_leases
CREATE TABLE review_leases (
        caption_id INTEGER PRIMARY KEY REFERENCES captions(id) ON DELETE CASCADE,
        holder TEXT NOT NULL,
        acquired_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) STRICT;

-- table review_votes
CREATE TABLE review_votes (
        caption_id INTEGER NOT NULL REFERENCES captions(id) ON DELETE CASCADE,
        reviewer TEXT NOT NULL,
        decision TEXT NOT NULL CHECK (decision IN ('accept', 'reject')),
        text TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (caption_id, reviewer)
      ) STRICT;

-- table reviews
CREATE TABLE reviews (
        id INTEGER PRIMARY KEY,
        caption_id INTEGER NOT NULL REFERENCES captions(id) ON DELETE CASCADE,
        reviewer TEXT NOT NULL,
        action TEXT NOT NULL,
        before TEXT CHECK (before IS NULL OR json_valid(before)),
        after TEXT CHECK (after IS NULL OR json_valid(after)),
        created_at INTEGER NOT NULL
      , undone_by INTEGER REFERENCES reviews(id) ON DELETE SET NULL, batch INTEGER) STRICT;

-- table saved_filters
CREATE TABLE saved_filters (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        filter TEXT NOT NULL CHECK (json_valid(filter)),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;

-- table searches
CREATE TABLE searches (
        id INTEGER PRIMARY KEY,
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        dataset_id INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
        query TEXT NOT NULL,
        vqa_endpoint TEXT,
        aggregator_endpoint TEXT,
        params TEXT NOT NULL CHECK (json_valid(params)),
        transcript TEXT NOT NULL CHECK (json_valid(transcript)),
        refined TEXT,
        results TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(results)),
        status TEXT NOT NULL CHECK (status IN ('running', 'done', 'fallback', 'cancelled')),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;

-- table team_settings
CREATE TABLE team_settings (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        double_share REAL NOT NULL DEFAULT 0 CHECK (double_share >= 0 AND double_share <= 1)
      ) STRICT;

-- table tracks
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

-- table users
CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(name) BETWEEN 1 AND 80),
        role TEXT NOT NULL CHECK (role IN ('admin', 'reviewer', 'annotator')),
        token_hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      ) STRICT;

-- table videos
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
