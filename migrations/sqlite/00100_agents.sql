-- Load agents (headroom agent) and the ledger of the jobs they run: each
-- agent's share of a job, each round's agreed start, and every window an
-- agent pushed, kept once per (job, agent, round, second).

-- +goose Up
CREATE TABLE agents (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    cores       INTEGER NOT NULL DEFAULT 0,
    max_rate    REAL NOT NULL DEFAULT 0,
    version     TEXT NOT NULL DEFAULT '',
    token_id    INTEGER NOT NULL DEFAULT 0,
    owner       TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL DEFAULT 'idle',
    registered  TIMESTAMP NOT NULL,
    lease_until TIMESTAMP NOT NULL
);

CREATE TABLE job_shards (
    job_id    INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    agent_id  INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    idx       INTEGER NOT NULL,
    count     INTEGER NOT NULL,
    name      TEXT NOT NULL DEFAULT '',
    state     TEXT NOT NULL DEFAULT 'assigned',
    rows_desc TEXT NOT NULL DEFAULT '',
    offset_ms REAL NOT NULL DEFAULT 0,
    delay_ms  REAL NOT NULL DEFAULT 0,
    requests  INTEGER NOT NULL DEFAULT 0,
    dropped   INTEGER NOT NULL DEFAULT 0,
    windows   INTEGER NOT NULL DEFAULT 0,
    error     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (job_id, agent_id)
);

CREATE TABLE job_rounds (
    job_id    INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    round     INTEGER NOT NULL,
    agents    INTEGER NOT NULL,
    start_us  INTEGER NOT NULL,
    spread_ms REAL,
    PRIMARY KEY (job_id, round)
);

CREATE TABLE agent_windows (
    job_id   INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    agent_id INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    round    INTEGER NOT NULL,
    second   INTEGER NOT NULL,
    seq      INTEGER NOT NULL,
    doc      BLOB NOT NULL,
    PRIMARY KEY (job_id, agent_id, round, second)
);

-- +goose Down
DROP TABLE agent_windows;
DROP TABLE job_rounds;
DROP TABLE job_shards;
DROP TABLE agents;
