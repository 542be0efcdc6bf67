-- GET one stakeholder by a random id from the seeded sample.
dofile(os.getenv("BENCH_DIR") .. "/common.lua")
local ids = {}
for line in io.lines(os.getenv("IDS_FILE")) do ids[#ids + 1] = line end
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))

request = function()
  return wrk.format("GET", "/api/v1/stakeholders/" .. ids[math.random(#ids)])
end
