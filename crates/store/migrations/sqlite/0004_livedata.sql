-- ROMA Connect: integration applications, data sources and custom backends (livedata APIs),
-- with their deployment and test histories.
--
-- App secrets and data source passwords are sealed with the data directory's key, as app
-- secrets are in 0002. An integration application cannot be deleted while it owns data sources
-- or custom backends (no cascade: the store refuses with a conflict); a custom backend's
-- histories go with it.

CREATE TABLE roma_apps (
    seq           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    instance_id   TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    sealed_secret TEXT NOT NULL,
    doc           TEXT NOT NULL,
    UNIQUE (instance_id, name)
);

CREATE TABLE data_sources (
    seq             INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    instance_id     TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    app_id          TEXT NOT NULL REFERENCES roma_apps(id),
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    sealed_password TEXT,
    doc             TEXT NOT NULL,
    UNIQUE (instance_id, name)
);
CREATE INDEX data_sources_app ON data_sources (app_id, seq);

CREATE TABLE livedata_apis (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    app_id      TEXT NOT NULL REFERENCES roma_apps(id),
    name        TEXT NOT NULL,
    method      TEXT NOT NULL,
    path        TEXT NOT NULL,
    status      INTEGER NOT NULL,
    doc         TEXT NOT NULL,
    UNIQUE (app_id, name),
    UNIQUE (app_id, method, path)
);
CREATE INDEX livedata_apis_instance ON livedata_apis (instance_id, seq);

-- The data sources each custom backend's scripts run against, so a used one cannot be deleted.
CREATE TABLE livedata_sources (
    ld_api_id TEXT NOT NULL REFERENCES livedata_apis(id) ON DELETE CASCADE,
    ds_id     TEXT NOT NULL REFERENCES data_sources(id),
    PRIMARY KEY (ld_api_id, ds_id)
);
CREATE INDEX livedata_sources_ds ON livedata_sources (ds_id);

CREATE TABLE livedata_deployments (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    ld_api_id   TEXT NOT NULL REFERENCES livedata_apis(id) ON DELETE CASCADE,
    doc         TEXT NOT NULL
);
CREATE INDEX livedata_deployments_api ON livedata_deployments (ld_api_id, seq);

CREATE TABLE livedata_tests (
    test_id   INTEGER PRIMARY KEY,
    ld_api_id TEXT NOT NULL REFERENCES livedata_apis(id) ON DELETE CASCADE,
    doc       TEXT NOT NULL
);
CREATE INDEX livedata_tests_api ON livedata_tests (ld_api_id, test_id);
