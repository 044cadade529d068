-- SSL certificates of a project (`type` global) or of one of its instances (`type` instance);
-- `doc` holds what the SDK shows, the PEM texts are columns and the private key is sealed.
CREATE TABLE certificates (
    seq             INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    project_id      TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    cert_content    TEXT NOT NULL,
    sealed_key      TEXT NOT NULL,
    trusted_root_ca TEXT,
    doc             TEXT NOT NULL,
    UNIQUE (project_id, name)
);

-- Domains bound to API groups. A name reaches one group in the whole database: the gateway
-- routes by `Host` across instances. `ssl_id` is the certificate the domain is served with.
CREATE TABLE domains (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    group_id    TEXT NOT NULL REFERENCES api_groups(id) ON DELETE CASCADE,
    url_domain  TEXT NOT NULL UNIQUE,
    ssl_id      TEXT REFERENCES certificates(id),
    doc         TEXT NOT NULL
);
CREATE INDEX domains_by_group ON domains (group_id);
CREATE INDEX domains_by_certificate ON domains (ssl_id);
