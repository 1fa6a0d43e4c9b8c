-- A study's phases number their steps on their own (verification starts again
-- at 1), so a step is known by its phase and index; seq keeps the order the
-- steps were stored in. Existing rows keep their documents; their seq is
-- their index.

-- +goose Up
ALTER TABLE job_steps ADD COLUMN seq BIGINT;
UPDATE job_steps SET seq = idx;
ALTER TABLE job_steps ALTER COLUMN seq SET NOT NULL;
ALTER TABLE job_steps DROP CONSTRAINT job_steps_pkey;
ALTER TABLE job_steps ADD PRIMARY KEY (job_id, phase, idx);
CREATE INDEX job_steps_seq ON job_steps (job_id, seq);

-- +goose Down
-- The old key holds one step per index: the last stored wins, as it did.
DELETE FROM job_steps s USING job_steps t
    WHERE s.job_id = t.job_id AND s.idx = t.idx AND s.seq < t.seq;
DROP INDEX job_steps_seq;
ALTER TABLE job_steps DROP CONSTRAINT job_steps_pkey;
ALTER TABLE job_steps ADD PRIMARY KEY (job_id, idx);
ALTER TABLE job_steps DROP COLUMN seq;
