-- DataArts DataService (`/v1/{project_id}/service/…`): catalogs and APIs of a workspace, where
-- each API is live on gateway instances, and Excel import jobs. Every row names its project and
-- workspace, and every query filters on both, so one workspace never sees another's data.

CREATE TABLE ds_catalogs (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    workspace   TEXT NOT NULL,
    pid         TEXT NOT NULL,
    name        TEXT NOT NULL,
    doc         TEXT NOT NULL,
    UNIQUE (project_id, workspace, pid, name)
);

CREATE TABLE ds_apis (
    seq                  INTEGER PRIMARY KEY,
    id                   TEXT NOT NULL UNIQUE,
    project_id           TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    workspace            TEXT NOT NULL,
    catalog_id           TEXT NOT NULL,
    name                 TEXT NOT NULL,
    description          TEXT,
    create_user          TEXT NOT NULL,
    tags                 TEXT NOT NULL,
    table_name           TEXT,
    api_type             TEXT NOT NULL,
    publish_status       TEXT NOT NULL,
    authorization_status TEXT NOT NULL,
    create_time          INTEGER NOT NULL,
    doc                  TEXT NOT NULL,
    UNIQUE (project_id, workspace, name)
);
CREATE INDEX ds_apis_catalog ON ds_apis (project_id, workspace, catalog_id);

-- One row per (API, gateway instance) it is published to; the gateway API is an ordinary row
-- of `apis`, created or updated by the publish, and removed with its instance.
CREATE TABLE ds_publications (
    id             TEXT NOT NULL UNIQUE,
    api_id         TEXT NOT NULL REFERENCES ds_apis(id) ON DELETE CASCADE,
    instance_id    TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    group_id       TEXT NOT NULL,
    gateway_api_id TEXT NOT NULL,
    PRIMARY KEY (api_id, instance_id)
);

CREATE TABLE ds_jobs (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    workspace   TEXT NOT NULL,
    status      TEXT NOT NULL,
    result      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
