-- wrk script: the management API's mix for bench/soak.sh. Nine reads (lists, details, the
-- group, environments) to one write (the group's remark, a real transaction that also makes
-- the gateway rebuild its route table), each with the IAM token.
local base = os.getenv("SOAK_BASE")
local token = os.getenv("SOAK_TOKEN")
local group = os.getenv("SOAK_GROUP_ID")
local api = os.getenv("SOAK_API_ID")
local headers = { ["X-Auth-Token"] = token, ["Content-Type"] = "application/json" }
local reads = {
    base .. "/apis?limit=20",
    base .. "/apis/" .. api,
    base .. "/api-groups/" .. group,
    base .. "/api-groups?limit=10",
    base .. "/envs",
    base .. "/apis/" .. api,
    base .. "/apis?limit=5&offset=1",
    base .. "/api-groups/" .. group,
    base .. "/apis/publish/" .. api,
}
local n = 0

request = function()
    n = n + 1
    local slot = n % 10
    if slot == 0 then
        local body = string.format('{"name":"soak_group","remark":"soak write %d"}', n)
        return wrk.format("PUT", base .. "/api-groups/" .. group, headers, body)
    end
    return wrk.format("GET", reads[slot], headers)
end
