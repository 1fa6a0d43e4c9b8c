-- The pprof profiles fetched while a job ran, kept as the service sent them
-- (gzipped protobuf, what `go tool pprof` reads) with the step they cover.

-- +goose Up
CREATE TABLE job_profiles (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id     INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    phase      TEXT NOT NULL DEFAULT '',
    step       INTEGER NOT NULL DEFAULT 0,
    component  TEXT NOT NULL DEFAULT '',
    seconds    REAL NOT NULL,
    requests   INTEGER NOT NULL DEFAULT 0,
    fetched_at TIMESTAMP NOT NULL,
    raw        BLOB NOT NULL
);
CREATE INDEX job_profiles_job ON job_profiles (job_id, id);

-- +goose Down
DROP TABLE job_profiles;
