-- The lua_bridge tests' results (e2e/lua_bridge_test.go): record(file,
-- {{key, value}, ...}) appends "key=value" lines to <lua_out_dir>/<file>,
-- which the test reads. Loaded with require, through lua.conf's
-- script-directory.
local M = {}

function M.record(file, pairs)
  local dir = freeswitch.getGlobalVariable("lua_out_dir")
  local f = assert(io.open(dir .. "/" .. file, "a"))
  for _, kv in ipairs(pairs) do
    f:write(kv[1], "=", tostring(kv[2]), "\n")
  end
  f:close()
end

return M
