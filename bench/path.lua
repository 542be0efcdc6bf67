-- GET one fixed path (a filtered list, a deep page, a search): URL_PATH.
dofile(os.getenv("BENCH_DIR") .. "/common.lua")
local path = os.getenv("URL_PATH")
request = function() return wrk.format("GET", path) end
