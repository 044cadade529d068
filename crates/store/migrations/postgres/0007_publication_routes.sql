-- What the data plane routes each publication by (group, method, path, match mode, auth type,
-- authorizer, gateway response), copied from its version when it goes live. The route table is
-- then built from this narrow table alone: at 100,000 live APIs, reading and decoding every
-- snapshot took seconds at each start (see BENCHMARKS.md, "Gateway").
ALTER TABLE publications ADD COLUMN route TEXT COLLATE "C";

UPDATE publications p SET route = (
    SELECT jsonb_build_object(
        'group_id', s.doc -> 'group_id',
        'req_method', s.doc -> 'req_method',
        'req_uri', s.doc -> 'req_uri',
        'match_mode', COALESCE(s.doc -> 'match_mode', '"NORMAL"'::jsonb),
        'auth_type', s.doc -> 'auth_type',
        'authorizer_id', s.doc -> 'authorizer_id',
        'response_id', s.doc -> 'response_id')::text
    FROM (SELECT v.snapshot::jsonb AS doc FROM api_versions v WHERE v.id = p.version_id) s);
