"""Benchmark helper: copies a published API until TOTAL APIs are live, straight into Portico's
SQLite file (the server must be stopped: its caches do not see writes from other processes).

    python3 bench/seed_routes.py DB TEMPLATE_API_ID TOTAL

Each copy `seed_<n>` is `GET /seed/<n>/{id}` with a PATH parameter, the template's backend, and
is published in the template's environment. Prints the number of live APIs.
"""
import sqlite3
import sys

db, template, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = sqlite3.connect(db)
have = c.execute("SELECT COUNT(*) FROM publications").fetchone()[0]
params = '[{"name":"id","type":"STRING","location":"PATH","required":1,"valid_enable":2,"id":"p"}]'
c.execute("BEGIN")
c.executemany(
    "INSERT INTO apis (id, instance_id, group_id, name, req_protocol, req_method, req_uri, match_mode, auth_type,"
    " api_type, tags, doc) SELECT printf('seed%028d', ?1), instance_id, group_id, 'seed_' || ?1, req_protocol,"
    " req_method, '/seed/' || ?1 || '/{id}', match_mode, auth_type, api_type, tags,"
    " json_set(doc, '$.id', printf('seed%028d', ?1), '$.name', 'seed_' || ?1, '$.req_uri', '/seed/' || ?1 || '/{id}',"
    " '$.req_params', json(?3)) FROM apis WHERE id = ?2",
    [(i, template, params) for i in range(have, total)],
)
c.execute(
    "INSERT INTO api_versions (id, instance_id, api_id, env_id, number, remark, publish_time, snapshot)"
    " SELECT 'v' || a.id, a.instance_id, a.id, p.env_id, 1, NULL, p.publish_time, a.doc"
    " FROM apis a JOIN publications p ON p.api_id = ? WHERE a.id LIKE 'seed%'"
    " AND a.id NOT IN (SELECT api_id FROM publications)",
    (template,),
)
# The route key, as Portico writes it when publishing (see migration 0007_publication_routes).
c.execute(
    "INSERT INTO publications (publish_id, instance_id, api_id, env_id, version_id, route, remark, publish_time)"
    " SELECT 'p' || v.api_id, v.instance_id, v.api_id, v.env_id, v.id, json_object("
    "  'group_id', json_extract(v.snapshot, '$.group_id'), 'req_method', json_extract(v.snapshot, '$.req_method'),"
    "  'req_uri', json_extract(v.snapshot, '$.req_uri'),"
    "  'match_mode', COALESCE(json_extract(v.snapshot, '$.match_mode'), 'NORMAL'),"
    "  'auth_type', json_extract(v.snapshot, '$.auth_type'),"
    "  'authorizer_id', json_extract(v.snapshot, '$.authorizer_id'),"
    "  'response_id', json_extract(v.snapshot, '$.response_id')),"
    " NULL, v.publish_time FROM api_versions v"
    " WHERE v.api_id LIKE 'seed%' AND v.api_id NOT IN (SELECT api_id FROM publications)"
)
c.commit()
print(c.execute("SELECT COUNT(*) FROM publications").fetchone()[0])
