-- execute.lua <dial string>: the bridge application run from Lua,
-- session:execute("bridge", dial). watch.lua looks at the bridge from
-- outside; after it the script goes on with the caller (600 Hz).
local record = require("e2e_record").record
session:answer()
record("execute.txt", {{"a_uuid", session.uuid}})
freeswitch.API():executeString("luarun watch.lua " .. session.uuid)
session:execute("bridge", argv[1])
record("execute.txt", {
  {"a_ready_after", session:ready()},
  {"last_bridge_to", session:getVariable("last_bridge_to")},
  {"bridge_hangup_cause", session:getVariable("bridge_hangup_cause")},
  {"a_disposition", session:getVariable("originate_disposition")},
})
if session:ready() then
  session:streamFile("tone_stream://%(600,0,500)")
end
record("execute.txt", {{"end", "1"}})
