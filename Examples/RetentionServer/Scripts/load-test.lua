-- wrk script for Scripts/load-test.sh: a mix of POST /orders (new orders, re-sent batches, malformed, invalid and
-- oversized bodies) and report queries. Each thread counts what it sent and what the server acknowledged; done()
-- prints the totals as key=value lines for the shell script.
--
--   wrk -t2 -c16 -d60s -s load-test.lua http://127.0.0.1:18080
--
-- Environment: LOAD_OVERSIZED_BYTES (default 70000; the server runs with a smaller --max-body-bytes),
-- LOAD_CUSTOMERS (default 2000).

local threads = {}
local counter = 1

function setup(thread)
    thread:set("thread_id", counter)
    counter = counter + 1
    table.insert(threads, thread)
end

local customers = tonumber(os.getenv("LOAD_CUSTOMERS") or "2000")
local oversized_bytes = tonumber(os.getenv("LOAD_OVERSIZED_BYTES") or "70000")
local json_headers = { ["Content-Type"] = "application/json" }

-- Per-thread state (each wrk thread has its own Lua state).
sent = {}            -- requests generated, by kind
unique_orders = 0    -- orders in generated "new" batches (each id sent once)
inserted = 0         -- sum of "inserted" over 200 answers
ignored = 0          -- sum of "duplicatesIgnored" over 200 answers
statuses = {}        -- answers by status code
batch_number = 0
last_body = nil
oversized = nil

function init(args)
    math.randomseed(os.time() * 1000 + thread_id)
    -- A syntactically valid array of orders, larger than the server's body limit.
    local parts = {}
    local size = 0
    local n = 0
    while size < oversized_bytes do
        local row = string.format(
            '{"orderId":"big-%d-%d","customerId":"cust1","timestamp":"2024-01-01T00:00:00Z","amount":"1.00"}',
            thread_id, n)
        parts[#parts + 1] = row
        size = size + #row + 1
        n = n + 1
    end
    oversized = "[" .. table.concat(parts, ",") .. "]"
end

local function count(kind)
    sent[kind] = (sent[kind] or 0) + 1
end

local function new_batch()
    batch_number = batch_number + 1
    local orders = {}
    local size = math.random(1, 5)
    for i = 1, size do
        local month = math.random(1, 12)
        local day = math.random(1, 28)
        orders[i] = string.format(
            '{"orderId":"t%d-%d-%d","customerId":"cust%d","timestamp":"2024-%02d-%02dT%02d:%02d:00Z",' ..
            '"amount":"%d.%02d"}',
            thread_id, batch_number, i, math.random(1, customers), month, day, math.random(0, 23),
            math.random(0, 59), math.random(1, 300), math.random(0, 99))
    end
    unique_orders = unique_orders + size
    return "[" .. table.concat(orders, ",") .. "]"
end

function request()
    local r = math.random()
    if r < 0.55 or (r < 0.60 and last_body == nil) then
        count("new")
        last_body = new_batch()
        return wrk.format("POST", "/orders", json_headers, last_body)
    elseif r < 0.60 then
        count("resent")
        return wrk.format("POST", "/orders", json_headers, last_body)
    elseif r < 0.63 then
        count("malformed")
        return wrk.format("POST", "/orders", json_headers, '[{"orderId":"x","customerId":')
    elseif r < 0.66 then
        count("invalid")
        return wrk.format("POST", "/orders", json_headers,
            '[{"orderId":"","customerId":"c","timestamp":"2024-02-30","amount":"1,000"}]')
    elseif r < 0.67 then
        count("oversized")
        return wrk.format("POST", "/orders", json_headers, oversized)
    elseif r < 0.75 then
        count("report")
        return wrk.format("GET", "/metrics/report?tz=Europe/Berlin")
    elseif r < 0.80 then
        count("cohorts")
        return wrk.format("GET", "/metrics/cohorts?period=month")
    elseif r < 0.85 then
        count("rfm")
        return wrk.format("GET", "/metrics/rfm?limit=10&offset=" .. math.random(0, 100))
    elseif r < 0.95 then
        count("customer")
        return wrk.format("GET", "/customers/cust" .. math.random(1, customers))
    else
        count("health")
        return wrk.format("GET", "/health")
    end
end

function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
    if status == 200 then
        local n = body:match('"inserted"%s*:%s*(%d+)')
        if n then
            inserted = inserted + tonumber(n)
            ignored = ignored + tonumber(body:match('"duplicatesIgnored"%s*:%s*(%d+)') or "0")
        end
    end
end

function done(summary, latency, requests)
    local total_sent, total_statuses = {}, {}
    local unique, ins, ign = 0, 0, 0
    for _, thread in ipairs(threads) do
        for k, v in pairs(thread:get("sent")) do total_sent[k] = (total_sent[k] or 0) + v end
        for k, v in pairs(thread:get("statuses")) do total_statuses[k] = (total_statuses[k] or 0) + v end
        unique = unique + thread:get("unique_orders")
        ins = ins + thread:get("inserted")
        ign = ign + thread:get("ignored")
    end
    local seconds = summary.duration / 1e6
    print(string.format("requests=%d", summary.requests))
    print(string.format("seconds=%.2f", seconds))
    print(string.format("throughput=%.1f", summary.requests / seconds))
    print(string.format("p50_ms=%.2f", latency:percentile(50) / 1000))
    print(string.format("p99_ms=%.2f", latency:percentile(99) / 1000))
    print(string.format("max_ms=%.2f", latency.max / 1000))
    print(string.format("socket_errors=%d", summary.errors.connect + summary.errors.read + summary.errors.write +
        summary.errors.timeout))
    print(string.format("socket_errors_detail=connect %d, read %d, write %d, timeout %d", summary.errors.connect,
        summary.errors.read, summary.errors.write, summary.errors.timeout))
    print(string.format("non_2xx_3xx=%d", summary.errors.status))
    local fivexx = 0
    local codes = {}
    for code, n in pairs(total_statuses) do
        if code >= 500 then fivexx = fivexx + n end
        codes[#codes + 1] = string.format("%d:%d", code, n)
    end
    table.sort(codes)
    print("statuses=" .. table.concat(codes, " "))
    print(string.format("status_5xx=%d", fivexx))
    local kinds = {}
    for kind, n in pairs(total_sent) do kinds[#kinds + 1] = string.format("%s:%d", kind, n) end
    table.sort(kinds)
    print("sent=" .. table.concat(kinds, " "))
    print(string.format("unique_orders_sent=%d", unique))
    print(string.format("orders_acknowledged=%d", ins))
    print(string.format("duplicates_ignored=%d", ign))
end
