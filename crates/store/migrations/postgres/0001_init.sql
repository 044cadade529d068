-- Every table carries `seq` (SQLite's rowid) so lists come back in creation order.
-- Objects are stored as JSON documents (`doc`) with the columns that identify, filter and
-- constrain them pulled out beside.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE projects (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE users (
    seq           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    readonly      INTEGER NOT NULL,
    created_at    TEXT NOT NULL
);

CREATE TABLE user_projects (
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, project_id)
);

CREATE TABLE credentials (
    access_key TEXT PRIMARY KEY,
    secret_key TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL
);

CREATE TABLE instances (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    project_id TEXT NOT NULL REFERENCES projects(id),
    name       TEXT NOT NULL,
    doc        TEXT NOT NULL
);

CREATE TABLE api_groups (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    doc         TEXT NOT NULL,
    UNIQUE (instance_id, name)
);

CREATE TABLE envs (
    seq         INTEGER PRIMARY KEY,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    doc         TEXT NOT NULL,
    UNIQUE (instance_id, id),
    UNIQUE (instance_id, name)
);

CREATE TABLE env_variables (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    group_id    TEXT NOT NULL REFERENCES api_groups(id) ON DELETE CASCADE,
    env_id      TEXT NOT NULL,
    name        TEXT NOT NULL,
    value       TEXT NOT NULL,
    UNIQUE (group_id, env_id, name)
);

CREATE TABLE apis (
    seq          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    instance_id  TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    group_id     TEXT NOT NULL REFERENCES api_groups(id),
    name         TEXT NOT NULL,
    req_protocol TEXT NOT NULL,
    req_method   TEXT NOT NULL,
    req_uri      TEXT NOT NULL,
    match_mode   TEXT NOT NULL,
    auth_type    TEXT NOT NULL,
    api_type     INTEGER NOT NULL,
    tags         TEXT NOT NULL,
    doc          TEXT NOT NULL,
    UNIQUE (group_id, name),
    UNIQUE (group_id, req_method, req_uri, match_mode)
);
CREATE INDEX apis_instance ON apis (instance_id, seq);

-- Immutable snapshots: one per publication, kept after offline as history.
CREATE TABLE api_versions (
    seq          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    instance_id  TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    api_id       TEXT NOT NULL REFERENCES apis(id) ON DELETE CASCADE,
    env_id       TEXT NOT NULL,
    number       INTEGER NOT NULL,  -- 1, 2, 3… per API: the version_no clients see
    remark       TEXT,
    publish_time TEXT NOT NULL,
    snapshot     TEXT NOT NULL
);
CREATE INDEX api_versions_api ON api_versions (api_id, env_id, seq);
CREATE UNIQUE INDEX api_versions_number ON api_versions (api_id, number);

-- What is live: at most one version of an API per environment.
CREATE TABLE publications (
    seq          INTEGER PRIMARY KEY,
    publish_id   TEXT NOT NULL UNIQUE,
    instance_id  TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    api_id       TEXT NOT NULL REFERENCES apis(id) ON DELETE CASCADE,
    env_id       TEXT NOT NULL,
    version_id   TEXT NOT NULL REFERENCES api_versions(id),
    remark       TEXT,
    publish_time TEXT NOT NULL,
    UNIQUE (api_id, env_id)
);
CREATE INDEX publications_env ON publications (instance_id, env_id);
