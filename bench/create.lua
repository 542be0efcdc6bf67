-- POST a new stakeholder; e-mails are unique per thread and request.
dofile(os.getenv("BENCH_DIR") .. "/common.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local counter = 0
local tag = tostring({}):sub(8)

request = function()
  counter = counter + 1
  local body = string.format(
    '{"kind":"customer","entity_type":"person","display_name":"Bench Person %d","email":"bench-%s-%d@example.com","segment":"gold","tags":["bench"]}',
    counter, tag, counter)
  return wrk.format("POST", "/api/v1/stakeholders", nil, body)
end
