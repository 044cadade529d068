-- What the data plane routes each publication by (group, method, path, match mode, auth type,
-- authorizer, gateway response), copied from its version when it goes live. The route table is
-- then built from this narrow table alone: at 100,000 live APIs, reading and decoding every
-- snapshot took seconds at each start (see BENCHMARKS.md, "Gateway").
ALTER TABLE publications ADD COLUMN route TEXT;

UPDATE publications SET route = (
    SELECT json_object(
        'group_id', json_extract(v.snapshot, '$.group_id'),
        'req_method', json_extract(v.snapshot, '$.req_method'),
        'req_uri', json_extract(v.snapshot, '$.req_uri'),
        'match_mode', COALESCE(json_extract(v.snapshot, '$.match_mode'), 'NORMAL'),
        'auth_type', json_extract(v.snapshot, '$.auth_type'),
        'authorizer_id', json_extract(v.snapshot, '$.authorizer_id'),
        'response_id', json_extract(v.snapshot, '$.response_id'))
    FROM api_versions v WHERE v.id = publications.version_id);
