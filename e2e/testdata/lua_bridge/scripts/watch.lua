-- watch.lua <uuid>: run in the background (luarun) by bridge.lua and
-- execute.lua. It attaches to the channel, waits until it is bridged,
-- attaches to its partner too, and writes to watch.txt what both objects
-- say and what "show channels as json" lists during the bridge.
local record = require("e2e_record").record
local a = freeswitch.Session(argv[1])
for _ = 1, 1500 do
  if a:bridged() then break end
  freeswitch.msleep(10)
end
local b_uuid = a:getVariable("bridge_uuid")
if not b_uuid then
  record("watch.txt", {{"a_bridged", a:bridged()}, {"end", "never bridged"}})
  return
end
local b = freeswitch.Session(b_uuid)
record("watch.txt", {
  {"a_bridged", a:bridged()},
  {"b_uuid", b_uuid},
  {"b_bridged", b:bridged()},
  {"b_partner", b:getVariable("bridge_uuid")},
})
local f = assert(io.open(freeswitch.getGlobalVariable("lua_out_dir") .. "/channels.json", "w"))
f:write(freeswitch.API():executeString("show channels as json"))
f:close()
record("watch.txt", {{"end", "1"}})
