-- wrk script: creates FILL_COUNT projects (default 45000), then stops.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-access-token"] = "mock-token"
wrk.body = '{"description":"bench project filling the state"}'
local limit = tonumber(os.getenv("FILL_COUNT") or "45000")
local done = 0
function response(status, headers, body)
    done = done + 1
    if done >= limit then
        wrk.thread:stop()
    end
end
