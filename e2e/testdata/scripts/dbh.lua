-- freeswitch.Dbh (e2e/lua_test.go): each call adds its caller to an SQLite
-- table in <lua_out_dir>/e2e_lua.db and counts the rows: 700 Hz for the
-- first caller, 900 Hz from the second on.
local dir = freeswitch.getGlobalVariable("lua_out_dir")
session:answer()
local dbh = freeswitch.Dbh("sqlite://" .. dir .. "/e2e_lua.db")
assert(dbh:connected(), "no database")
dbh:query("CREATE TABLE IF NOT EXISTS callers (number TEXT, uuid TEXT)")
dbh:query("INSERT INTO callers VALUES ('" .. session:getVariable("caller_id_number") .. "', '" .. session:get_uuid() .. "')")
local n = 0
dbh:query("SELECT count(*) AS n FROM callers", function(row)
  n = tonumber(row.n)
end)
dbh:release()
session:streamFile("tone_stream://%(1000,0," .. (n == 1 and 700 or 900) .. ")")
