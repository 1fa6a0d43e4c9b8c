-- An agent the merge flagged as departing from the fleet (a noisy neighbour
-- or a bad agent) keeps the statement that flagged it on its share of the
-- job, for the job's page; empty when it never departed.

-- +goose Up
ALTER TABLE job_shards ADD COLUMN outlier TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE job_shards DROP COLUMN outlier;
