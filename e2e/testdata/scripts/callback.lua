-- An input callback breaking playback (e2e/lua_test.go): a minute of
-- 350 Hz that the digit 5 breaks; then 700 Hz when streamFile reported
-- the break (0), 300 Hz otherwise. Other digits let the tone go on.
session:answer()
function on_input(s, kind, obj)
  if kind == "dtmf" and obj.digit == "5" then
    return "break"
  end
  return "true"
end
session:setInputCallback("on_input")
local r = session:streamFile("tone_stream://%(60000,0,350)")
session:unsetInputCallback()
session:streamFile("tone_stream://%(1000,0," .. (r == 0 and 700 or 300) .. ")")
