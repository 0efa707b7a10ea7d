-- The Lua IVR of scripts/load.sh lua (extension 7003): what a typical
-- FreeSWITCH IVR does with a call, for argv[1] seconds in all (20 by
-- default). It answers, counts the visit in a channel variable (a read
-- and a write), asks for a digit with playAndGetDigits (a 3 s prompt
-- tone, up to 3 tries; the SIPp caller sends 2 by SIP INFO after a
-- second), stores the choice, plays a tone for the rest of the call and
-- hangs up. Media flows from the answer to the hangup, but for the
-- moment between the prompt and the tone. A call that did not get its
-- digit is logged ("load_ivr: ..."), which load.sh counts.
local len_ms = (tonumber(argv[1]) or 20) * 1000
local api = freeswitch.API()
local t0 = tonumber(api:getTime())

session:answer()
local visits = tonumber(session:getVariable("load_ivr_visits") or "0") + 1
session:setVariable("load_ivr_visits", tostring(visits))

local choice = session:playAndGetDigits(1, 1, 3, 2000, "#",
  "tone_stream://%(3000,0,440)", "tone_stream://%(500,0,480)", "^[1-3]$", "load_ivr_choice")
if choice ~= "2" or session:getVariable("load_ivr_choice") ~= "2" then
  if session:ready() then
    session:consoleLog("err", "load_ivr: got '" .. choice .. "', want 2\n")
  end
end

local left = len_ms - (tonumber(api:getTime()) - t0)
if left > 0 and session:ready() then
  session:streamFile("tone_stream://%(" .. string.format("%d", left) .. ",0,350)")
end
session:hangup()
