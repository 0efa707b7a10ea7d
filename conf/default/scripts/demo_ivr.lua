--[[
  demo_ivr.lua: the demo IVR of extension 5000 (dialplan/default.xml).

  A small menu written the way FreeSWITCH's Lua IVRs are, to copy from:
  it greets the caller, asks for a number of up to four digits followed
  by #, says "you are number <n> in line" and puts the caller on hold
  music (extension 9664). A wrong entry is refused with "that was an
  invalid entry"; after three tries without a valid entry it says goodbye
  and hangs up.

  The prompts are the English sounds under sounds/en/us/callie (the
  channel's sound_prefix); the number is said with session:say and the
  sounds under digits/. Scripts live in $${script_dir} (scripts/ next to
  freeswitch.xml): "lua demo_ivr.lua" runs this one.
]]

local function log(msg)
  freeswitch.consoleLog("info", "demo_ivr: " .. msg .. "\n")
end

-- A hangup hook runs at the first session call after the caller hangs
-- up (or the call is transferred); scripts use it to clean up.
function demo_ivr_done(s, how)
  log("call ended by " .. how)
end
session:setHangupHook("demo_ivr_done")

if not session:answered() then
  session:answer()
end
session:streamFile("ivr/ivr-welcome.wav")

-- min 1, max 4 digits; 3 tries; 5 s for the first digit; # ends the
-- entry; the prompt; the sound for a wrong entry; what a valid entry
-- looks like; the channel variable that receives it.
local digits = session:playAndGetDigits(1, 4, 3, 5000, "#",
  "ivr/ivr-please_enter_pin_followed_by_pound.wav",
  "ivr/ivr-that_was_an_invalid_entry.wav",
  "^\\d{1,4}$", "demo_ivr_number")

if digits == "" then
  if session:ready() then
    log("no valid entry; goodbye")
    session:streamFile("voicemail/vm-goodbye.wav")
    session:hangup("NORMAL_CLEARING")
  end
  return
end

log("caller entered " .. digits)
session:streamFile("ivr/ivr-thank_you.wav")
session:streamFile("ivr/ivr-you_are_number.wav")
session:say(digits, "en", "number", "pronounced")
session:streamFile("ivr/ivr-in_line.wav")
session:streamFile("ivr/ivr-hold_connect_call.wav")

-- The script ends here and the call goes on in the dialplan, at the hold
-- music of extension 9664.
session:transfer("9664", "XML", "default")
