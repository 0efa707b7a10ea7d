-- startup.lua: lua.conf's startup-script (e2e/lua_bridge_test.go). It
-- writes its argv, and whether it has a session, to startup.txt once per
-- run.
local record = require("e2e_record").record
record("startup.txt", {
  {"argv", argv[0] .. "|" .. table.concat(argv, "|")},
  {"session", type(session)},
  {"running", freeswitch.running()},
})
