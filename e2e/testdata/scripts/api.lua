-- freeswitch.API (e2e/lua_test.go): "show channels as json" is written to
-- <lua_out_dir>/<caller>.channels; 700 Hz when it lists this call, 300 Hz
-- otherwise.
local dir = freeswitch.getGlobalVariable("lua_out_dir")
session:answer()
local json = freeswitch.API():executeString("show channels as json")
local f = io.open(dir .. "/" .. session:getVariable("caller_id_number") .. ".channels", "w")
f:write(json)
f:close()
local listed = json:find(session:get_uuid(), 1, true) ~= nil
session:streamFile("tone_stream://%(1000,0," .. (listed and 700 or 300) .. ")")
