-- The nodes serving this database and the node that runs each async task, so that a task whose
-- node died is failed by another node instead of staying `processing` forever. A node renews its
-- row every heartbeat; `heartbeat_ms` is the node's clock in milliseconds since the Unix epoch
-- (finer than the whole seconds of object times, because leases are a few seconds long).
CREATE TABLE nodes (
    id           TEXT PRIMARY KEY,
    heartbeat_ms INTEGER NOT NULL
);

-- The node that accepted the task (NULL for tasks from before this migration: nobody's).
ALTER TABLE async_tasks ADD COLUMN node_id TEXT;
