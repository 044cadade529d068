-- wrk script for bench/management.sh: every request creates a new API (a name and path of its own)
-- in one group. Arguments after `--`: the group id, and a prefix unique to this wrk process.
local threads = {}

function setup(thread)
    table.insert(threads, thread)
    thread:set("thread_no", #threads)
end

local group, prefix
local counter = 0

function init(args)
    group = args[1]
    prefix = args[2] .. "t" .. thread_no .. "n"
end

function request()
    counter = counter + 1
    local name = prefix .. counter
    local body = string.format(
        '{"name":"%s","type":1,"version":"v1","req_protocol":"HTTPS","req_method":"GET",' ..
        '"req_uri":"/bench/%s","auth_type":"NONE","match_mode":"NORMAL","backend_type":"HTTP",' ..
        '"group_id":"%s","backend_api":{"url_domain":"backend.example.com:8080","req_protocol":"HTTP",' ..
        '"req_method":"GET","req_uri":"/v1/items","timeout":5000}}',
        name, name, group)
    return wrk.format("POST", nil, nil, body)
end
