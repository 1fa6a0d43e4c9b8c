-- A study's phases number their steps on their own (verification starts again
-- at 1), so a step is known by its phase and index; seq keeps the order the
-- steps were stored in. Existing rows keep their documents; their seq is
-- their index.

-- +goose Up
CREATE TABLE job_steps_v2 (
    job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    phase  TEXT NOT NULL DEFAULT '',
    idx    INTEGER NOT NULL,
    seq    INTEGER NOT NULL,
    doc    TEXT NOT NULL,
    PRIMARY KEY (job_id, phase, idx)
);
INSERT INTO job_steps_v2 (job_id, phase, idx, seq, doc) SELECT job_id, phase, idx, idx, doc FROM job_steps;
DROP TABLE job_steps;
ALTER TABLE job_steps_v2 RENAME TO job_steps;
CREATE INDEX job_steps_seq ON job_steps (job_id, seq);

-- +goose Down
CREATE TABLE job_steps_v1 (
    job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    idx    INTEGER NOT NULL,
    phase  TEXT NOT NULL DEFAULT '',
    doc    TEXT NOT NULL,
    PRIMARY KEY (job_id, idx)
);
-- The old key holds one step per index: the last stored wins, as it did.
INSERT INTO job_steps_v1 (job_id, idx, phase, doc)
    SELECT job_id, idx, phase, doc FROM job_steps s
    WHERE seq = (SELECT MAX(seq) FROM job_steps t WHERE t.job_id = s.job_id AND t.idx = s.idx);
DROP TABLE job_steps;
ALTER TABLE job_steps_v1 RENAME TO job_steps;
