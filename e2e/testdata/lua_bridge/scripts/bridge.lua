-- bridge.lua <dial string> <how>: answers the caller, calls the dial
-- string and bridges the two with freeswitch.bridge, the way
-- FreeSWITCH IVRs place a second call. <how> says how the call is placed:
--   new       freeswitch.Session(dial)            (no A-leg)
--   aleg      freeswitch.Session(dial, session)   (the caller is the A-leg)
--   originate freeswitch.Session() then :originate(session, dial, 20)
--   drop      freeswitch.Session(dial), not bridged: the script ends and
--             the new leg is hung up with it (auto-hangup)
-- What it sees goes to bridge.txt; watch.lua, started in the background
-- before the bridge, looks at the bridge from outside (watch.txt).
local record = require("e2e_record").record
local dial, how = argv[1], argv[2]

session:answer()
local leg
local originated
if how == "aleg" then
  leg = freeswitch.Session(dial, session)
elseif how == "originate" then
  leg = freeswitch.Session()
  originated = leg:originate(session, dial, 20)
else
  leg = freeswitch.Session(dial)
end

record("bridge.txt", {
  {"how", how},
  {"a_uuid", session.uuid},
  {"originate_result", originated},
  {"ready", leg:ready()},
  {"answered", leg:answered()},
  {"cause", leg:hangupCause()},
  {"leg_uuid", leg.uuid},
  {"uuid_var", leg:getVariable("uuid")},
  {"leg_direction", leg:getVariable("direction")},
  {"leg_originator", leg:getVariable("originating_leg_uuid")},
  {"a_disposition", session:getVariable("originate_disposition")},
  {"bridged_before", session:bridged()},
})
if not leg:ready() or how == "drop" then
  record("bridge.txt", {{"end", "no bridge"}})
  return
end

freeswitch.API():executeString("luarun watch.lua " .. session.uuid)
freeswitch.bridge(session, leg)

record("bridge.txt", {
  {"bridged_after", session:bridged()},
  {"a_ready_after", session:ready()},
  {"leg_ready_after", leg:ready()},
  {"last_bridge_to", session:getVariable("last_bridge_to")},
})
if session:ready() then
  -- The other side hung up: the script goes on with the caller.
  session:streamFile("tone_stream://%(600,0,500)")
end
record("bridge.txt", {{"end", "bridged"}})
