-- A menu (e2e/lua_test.go): playAndGetDigits with a 350 Hz prompt and a
-- 480 Hz invalid prompt, two tries; 1 plays 700 Hz, 2 plays 900 Hz, no
-- valid entry 300 Hz. The regex comes before the variable name, as in
-- mod_lua.
session:answer()
local choice = session:playAndGetDigits(1, 1, 2, 1500, "#",
  "tone_stream://%(1500,0,350)", "tone_stream://%(600,0,480)", "^[12]$", "menu_choice")
local tones = {["1"] = 700, ["2"] = 900}
freeswitch.consoleLog("info", "menu.lua: choice [" .. choice .. "] variable [" .. tostring(session:getVariable("menu_choice")) .. "]\n")
session:streamFile("tone_stream://%(1000,0," .. (tones[choice] or 300) .. ")")
