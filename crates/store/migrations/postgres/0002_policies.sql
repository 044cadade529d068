-- Policies and access objects: apps (with AppCodes and authorizations), throttling policies
-- (with specials), ACLs, and their bindings to publish records.
--
-- Secrets (app secrets, AppCodes) are stored sealed with the data directory's key
-- (`secrets.key`, AES-256-GCM); AppCodes are found by the SHA-256 of the code.
-- Every binding references `publications(publish_id)` with ON DELETE CASCADE: taking an API
-- offline (or deleting it) removes its bindings in the same statement, hence the same
-- transaction.

CREATE TABLE apps (
    seq          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    instance_id  TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    app_key      TEXT NOT NULL UNIQUE,
    sealed_secret TEXT NOT NULL,
    doc          TEXT NOT NULL,
    UNIQUE (instance_id, name)
);

CREATE TABLE app_codes (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    app_id      TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    code_hash   TEXT NOT NULL UNIQUE,
    sealed_code TEXT NOT NULL,
    create_time TEXT NOT NULL
);
CREATE INDEX app_codes_app ON app_codes (app_id, seq);

CREATE TABLE app_auths (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    app_id      TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    publish_id  TEXT NOT NULL REFERENCES publications(publish_id) ON DELETE CASCADE,
    api_id      TEXT NOT NULL,
    env_id      TEXT NOT NULL,
    auth_time   TEXT NOT NULL,
    UNIQUE (app_id, publish_id)
);
CREATE INDEX app_auths_publication ON app_auths (publish_id);

CREATE TABLE throttles (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    doc         TEXT NOT NULL,
    UNIQUE (instance_id, name)
);

CREATE TABLE throttle_specials (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    throttle_id TEXT NOT NULL REFERENCES throttles(id) ON DELETE CASCADE,
    object_type TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    doc         TEXT NOT NULL,
    UNIQUE (throttle_id, object_type, object_id)
);

CREATE TABLE acls (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    acl_type    TEXT NOT NULL,
    doc         TEXT NOT NULL,
    UNIQUE (instance_id, name)
);

-- A publish record has at most one policy of each kind ('throttle', 'acl', 'sign').
CREATE TABLE policy_bindings (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    policy_id   TEXT NOT NULL,
    publish_id  TEXT NOT NULL REFERENCES publications(publish_id) ON DELETE CASCADE,
    api_id      TEXT NOT NULL,
    env_id      TEXT NOT NULL,
    create_time TEXT NOT NULL,
    UNIQUE (kind, publish_id)
);
CREATE INDEX policy_bindings_policy ON policy_bindings (kind, policy_id, seq);

CREATE TABLE authorizers (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    doc         TEXT NOT NULL,
    UNIQUE (instance_id, name)
);

-- What each API's current definition refers to ('authorizer', 'vpc_channel'), written with
-- the API in its transaction; a referenced object cannot be deleted.
CREATE TABLE api_refs (
    api_id      TEXT NOT NULL REFERENCES apis(id) ON DELETE CASCADE,
    instance_id TEXT NOT NULL,
    kind        TEXT NOT NULL,
    ref_id      TEXT NOT NULL,
    field       TEXT NOT NULL,
    PRIMARY KEY (api_id, field)
);
CREATE INDEX api_refs_target ON api_refs (kind, ref_id);

-- Members, member groups and the health check live in the document.
CREATE TABLE vpc_channels (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    doc         TEXT NOT NULL,
    UNIQUE (instance_id, name)
);

-- Signature keys; `doc` holds everything but the secret, which is sealed.
CREATE TABLE signs (
    seq           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    instance_id   TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    sealed_secret TEXT NOT NULL,
    doc           TEXT NOT NULL,
    UNIQUE (instance_id, name)
);

-- Gateway responses of a group; `doc` holds the customised error types.
CREATE TABLE gateway_responses (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    group_id    TEXT NOT NULL REFERENCES api_groups(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    doc         TEXT NOT NULL,
    UNIQUE (group_id, name)
);
