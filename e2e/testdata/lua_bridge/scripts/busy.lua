-- busy.lua <dial string>: calls the dial string with the caller as the
-- A-leg; the phone refuses. The failed object is written to busy.txt,
-- then the caller is answered and hears 900 Hz.
local record = require("e2e_record").record
local leg = freeswitch.Session(argv[1], session)
record("busy.txt", {
  {"ready", leg:ready()},
  {"cause", leg:hangupCause()},
  {"leg_uuid", leg.uuid},
  {"state", leg:getState()},
  {"a_disposition", session:getVariable("originate_disposition")},
  {"a_dialstatus", session:getVariable("DIALSTATUS")},
})
session:answer()
session:streamFile("tone_stream://%(800,0,900)")
record("busy.txt", {{"end", "1"}})
