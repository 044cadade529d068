-- wrk script: the data plane's mix for bench/soak.sh. Three proxied calls with a path
-- parameter (each a different value) to one mock answer, on the group's domain.
local host = os.getenv("SOAK_HOST")
local n = 0

request = function()
    n = n + 1
    local headers = { ["Host"] = host }
    if n % 4 == 0 then
        return wrk.format("GET", "/soak/mock", headers)
    end
    return wrk.format("GET", "/soak/items/" .. (n % 1000), headers)
end
