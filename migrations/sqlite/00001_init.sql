-- The store's first schema (SQLite). Times are TIMESTAMP text written by the
-- driver in UTC; a window's start is unix microseconds so time ranges compare
-- as integers.

-- +goose Up
CREATE TABLE plans (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    name    TEXT NOT NULL,
    created TIMESTAMP NOT NULL
);

CREATE TABLE plan_versions (
    plan_id INTEGER NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    yaml    TEXT NOT NULL,
    created TIMESTAMP NOT NULL,
    PRIMARY KEY (plan_id, version)
);

CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id          INTEGER NOT NULL,
    plan_version     INTEGER NOT NULL,
    kind             TEXT NOT NULL,
    status           TEXT NOT NULL,
    phase            TEXT NOT NULL DEFAULT '',
    settings         TEXT,
    summary          TEXT,
    result           TEXT,
    error            TEXT NOT NULL DEFAULT '',
    verdict          TEXT NOT NULL DEFAULT '',
    owner            TEXT NOT NULL DEFAULT '',
    target           TEXT NOT NULL DEFAULT '',
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    created          TIMESTAMP NOT NULL,
    started          TIMESTAMP,
    finished         TIMESTAMP,
    FOREIGN KEY (plan_id, plan_version) REFERENCES plan_versions (plan_id, version)
);
CREATE INDEX jobs_status ON jobs (status, id);
CREATE INDEX jobs_plan ON jobs (plan_id, id);

CREATE TABLE job_windows (
    job_id     INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    name       TEXT NOT NULL DEFAULT '',
    phase      TEXT NOT NULL DEFAULT '',
    step       INTEGER NOT NULL DEFAULT 0,
    start_us   INTEGER NOT NULL,
    duration_s REAL NOT NULL DEFAULT 0,
    offered    REAL NOT NULL DEFAULT 0,
    requests   INTEGER NOT NULL DEFAULT 0,
    errors     INTEGER NOT NULL DEFAULT 0,
    iterations INTEGER NOT NULL DEFAULT 0,
    dropped    INTEGER NOT NULL DEFAULT 0,
    in_flight  REAL NOT NULL DEFAULT 0,
    vus        INTEGER NOT NULL DEFAULT 0,
    classes    TEXT,
    hdr        BLOB,
    exemplars  TEXT,
    PRIMARY KEY (job_id, seq, name)
);
CREATE INDEX job_windows_start ON job_windows (job_id, start_us);

CREATE TABLE job_events (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    type   TEXT NOT NULL,
    data   TEXT,
    at     TIMESTAMP NOT NULL
);
CREATE INDEX job_events_job ON job_events (job_id, id);

CREATE TABLE job_steps (
    job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    idx    INTEGER NOT NULL,
    phase  TEXT NOT NULL DEFAULT '',
    doc    TEXT NOT NULL,
    PRIMARY KEY (job_id, idx)
);

CREATE TABLE job_findings (
    job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    idx    INTEGER NOT NULL,
    doc    TEXT NOT NULL,
    PRIMARY KEY (job_id, idx)
);

CREATE TABLE baselines (
    plan_id INTEGER PRIMARY KEY REFERENCES plans (id) ON DELETE CASCADE,
    job_id  INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    set_at  TIMESTAMP NOT NULL
);

CREATE TABLE schedules (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id  INTEGER NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    kind     TEXT NOT NULL,
    cron     TEXT NOT NULL,
    webhook  TEXT NOT NULL DEFAULT '',
    enabled  BOOLEAN NOT NULL DEFAULT TRUE,
    last_run TIMESTAMP,
    next_run TIMESTAMP,
    created  TIMESTAMP NOT NULL
);

CREATE TABLE reviews (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    schedule_id      INTEGER NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    job_id           INTEGER REFERENCES jobs (id) ON DELETE SET NULL,
    baseline_job_id  INTEGER REFERENCES jobs (id) ON DELETE SET NULL,
    verdict          TEXT NOT NULL DEFAULT '',
    reasons          TEXT,
    webhook_status   TEXT NOT NULL DEFAULT '',
    webhook_attempts INTEGER NOT NULL DEFAULT 0,
    created          TIMESTAMP NOT NULL
);
CREATE INDEX reviews_schedule ON reviews (schedule_id, id);

CREATE TABLE tokens (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    name      TEXT NOT NULL,
    role      TEXT NOT NULL,
    hash      TEXT NOT NULL UNIQUE,
    created   TIMESTAMP NOT NULL,
    last_used TIMESTAMP,
    revoked   TIMESTAMP
);

-- +goose Down
DROP TABLE tokens;
DROP TABLE reviews;
DROP TABLE schedules;
DROP TABLE baselines;
DROP TABLE job_findings;
DROP TABLE job_steps;
DROP TABLE job_events;
DROP TABLE job_windows;
DROP TABLE jobs;
DROP TABLE plan_versions;
DROP TABLE plans;
