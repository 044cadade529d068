-- Asynchronous export and import tasks (`…/openapi/async-export`, `…/async-import`,
-- `GET …/async-tasks/{task_id}`). A task's result is kept as the text the API returns.
CREATE TABLE async_tasks (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    task_type   TEXT NOT NULL,
    status      TEXT NOT NULL,
    result      TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
