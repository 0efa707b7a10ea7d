-- A hangup hook (e2e/lua_test.go): when the caller hangs up, the hook
-- writes "<how> <hangup_cause> <arg>" to <lua_out_dir>/<caller>.hook and
-- sets a channel variable. It runs at the loop's next session call.
local dir = freeswitch.getGlobalVariable("lua_out_dir")
function on_hangup(s, how, arg)
  s:setVariable("hook_ran", how)
  local f = io.open(dir .. "/" .. s:getVariable("caller_id_number") .. ".hook", "w")
  f:write(how .. " " .. s:getVariable("hangup_cause") .. " " .. arg .. " " .. s:getVariable("hook_ran"))
  f:close()
  return "done"
end
marker = "armed"
session:setHangupHook("on_hangup", "marker")
session:answer()
session:streamFile("tone_stream://%(500,0,600)")
while session:ready() do
  session:sleep(100)
end
