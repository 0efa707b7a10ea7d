package lua

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/switchboard-voip/switchboard/commands"
	"github.com/switchboard-voip/switchboard/events"
	"github.com/switchboard-voip/switchboard/scripting"
)

// api runs the lua API command with inline code and returns its output.
func (e *testEnv) api(code string) string {
	e.t.Helper()
	e.write("api.lua", code)
	return commands.Execute(context.Background(), e, "lua", "api.lua")
}

// freeswitch.API runs API commands: the output, INVALID COMMAND! for an
// unknown one, executeString splitting at the first space.
func TestAPI(t *testing.T) {
	e := newEnv(t, nil)
	out := e.api(`
local api = freeswitch.API()
stream:write(api:execute("global_setvar", "lua_g=one") .. "|")
stream:write(api:executeString("global_getvar lua_g") .. "|")
stream:write(api:execute("no_such_command", "x") .. "|")
stream:write(api:execute("") .. "|")
stream:write(api:executeString("eval ${lua_g} two") .. "|")
local t = tonumber(api:getTime())
stream:write(tostring(t > 1600000000000) .. "|")
stream:write(freeswitch.API(nil):execute("global_getvar", "lua_g"))
`)
	want := "+OK|one|INVALID COMMAND!\n|-ERR No application specified|one two|true|one"
	if out != want {
		t.Errorf("got %q\nwant %q", out, want)
	}
}

// API():executeString("show channels as json") sees the call running the
// script, in FreeSWITCH's JSON shape.
func TestAPIShowChannels(t *testing.T) {
	e := newEnv(t, nil)
	c := e.run(`session:setVariable("channels", freeswitch.API():executeString("show channels as json"))`)
	var got struct {
		RowCount int `json:"row_count"`
		Rows     []struct {
			UUID string `json:"uuid"`
			Dest string `json:"dest"`
		} `json:"rows"`
	}
	if err := json.Unmarshal([]byte(c.v("channels")), &got); err != nil {
		t.Fatalf("%v: %q", err, c.v("channels"))
	}
	if got.RowCount != 1 || len(got.Rows) != 1 || got.Rows[0].UUID != c.UUID() || got.Rows[0].Dest != "answered" {
		t.Errorf("%+v", got)
	}
}

// Global variables, msleep, running, Stream, logs.
func TestModuleFunctions(t *testing.T) {
	e := newEnv(t, nil)
	out := e.api(`
freeswitch.setGlobalVariable("lua_x", "1")
stream:write(freeswitch.getGlobalVariable("lua_x") .. "|")
freeswitch.setGlobalVariable("lua_x", nil)
stream:write(tostring(freeswitch.getGlobalVariable("lua_x")) .. "|")
stream:write(tostring(freeswitch.getGlobalVariable("domain")) .. "|")
stream:write(freeswitch.globalSetVariable("lua_y", "a") .. freeswitch.globalSetVariable("lua_y", "b", "zzz") .. freeswitch.getGlobalVariable("lua_y") .. "|")
freeswitch.msleep(1)
stream:write(tostring(freeswitch.running()) .. "|")
local s = freeswitch.Stream()
s:write("abc") s:raw_write("defgh", 2)
stream:write(s:get_data() .. "|")
stream:write(freeswitch.S_HUP .. freeswitch.S_FREE .. freeswitch.S_RDLOCK .. "|")
freeswitch.consoleLog("warning", "a warning\n")
freeswitch.console_log("err", "an error")
freeswitch.consoleCleanLog("clean")
stream:write(tostring(freeswitch.email("a@b", "c@d")) .. "|")
stream:write(tostring(freeswitch.no_such_function) .. "|")
stream:write(tostring(package.loaded.freeswitch == freeswitch))
`)
	want := "1|nil|example.com|01a|true|abcde|124|false|nil|true"
	if out != want {
		t.Errorf("got %q\nwant %q", out, want)
	}
}

// Events: build, inspect, serialize and fire; an EventConsumer receives
// what the bus delivers.
func TestEvents(t *testing.T) {
	e := newEnv(t, nil)
	out := e.api(`
local con = freeswitch.EventConsumer("CUSTOM", "lua::test")
local all = freeswitch.EventConsumer()
stream:write(all:bind("HEARTBEAT") .. all:bind("NO_SUCH_EVENT") .. "|")
local ev = freeswitch.Event("custom", "lua::test")
stream:write(tostring(ev:addHeader("Name", "a b")) .. "|")
ev:addBody("the body")
stream:write(ev:getHeader("name") .. "|" .. ev:getType() .. "|" .. ev:getBody() .. "|")
stream:write(tostring(ev:getHeader("missing")) .. "|")
stream:write(tostring(ev:delHeader("Name")) .. tostring(ev:getHeader("Name")) .. "|")
ev:addHeader("Name", "a b")
stream:write(ev:serialize() .. "|")
stream:write(ev:serialize("json") .. "|")
stream:write(tostring(ev:fire()) .. "|")
local got = con:pop(1, 2000)
stream:write(got:getHeader("Name") .. "|" .. got:getHeader("Event-Subclass") .. "|" .. tostring(got:getHeader("Core-UUID") ~= nil) .. "|")
stream:write(tostring(con:pop()) .. "|" .. tostring(con:pop(1, 10)) .. "|")
local m = freeswitch.Event("NOT_A_TYPE")
stream:write(m:getType() .. "|")
local w = freeswitch.Event("MESSAGE", "forced")
stream:write(w:getType() .. "|")
local j = freeswitch.Event("json", '{"Event-Name":"CUSTOM","Event-Subclass":"x::y","k":"v","_body":"b"}')
stream:write(j:getType() .. j:getHeader("k") .. j:getBody() .. "|")
con:cleanup()
stream:write(tostring(con:pop(1, 10)))
`)
	want := "10|true|a b|CUSTOM|the body|nil|truenil|Event-Name: CUSTOM\nEvent-Subclass: lua%3A%3Atest\nName: a%20b\nContent-Length: 8\n\nthe body|" +
		`{"Event-Name":"CUSTOM","Event-Subclass":"lua::test","Name":"a b","Content-Length":"8","_body":"the body"}|true|a b|lua::test|true|nil|nil|MESSAGE|CUSTOM|CUSTOMvb|nil`
	if out != want {
		t.Errorf("got  %q\nwant %q", out, want)
	}
	if !e.logHas("Changing event type to custom", "Can't bind to NO_SUCH_EVENT") {
		t.Errorf("log:\n%s", e.logs)
	}
}

// A consumer that does not keep up keeps the first len events and drops
// the rest (logged once), as FreeSWITCH's queue does; the bus never drops
// the consumer itself.
func TestConsumerQueueLimit(t *testing.T) {
	e := newEnv(t, nil)
	done := make(chan string, 1)
	go func() {
		done <- e.api(`
local con = freeswitch.EventConsumer("CUSTOM", "lua::flood", 3)
freeswitch.setGlobalVariable("consumer_ready", "1")
freeswitch.msleep(200)
local n = 0
while con:pop() do n = n + 1 end
stream:write(n)`)
	}()
	waitFor(t, "the consumer", func() bool { v, _ := e.Runtime.Get("consumer_ready"); return v == "1" })
	for range 10 {
		e.bus.Fire(events.NewCustom("lua::flood"))
	}
	if got := <-done; got != "3" {
		t.Errorf("popped %s events, want the queue's 3", got)
	}
	if !e.logHas("Cannot queue any more events") {
		t.Error("the drop is not logged")
	}
}

// Dbh on SQLite: a file under db_dir (sqlite://name), an absolute path,
// a shared in-memory database; query with and without a row callback,
// affected_rows, query_rows, errors, release; other DSNs do not connect.
func TestDbh(t *testing.T) {
	e := newEnv(t, nil)
	abs := filepath.Join(t.TempDir(), "abs.db")
	out := e.api(`
local db = freeswitch.Dbh("sqlite://luatest")
stream:write(tostring(db:connected()) .. "|")
stream:write(tostring(db:query("create table t (k text, v integer)")) .. "|")
db:query("insert into t values ('a', 1)")
db:query("insert into t values ('b', 2)")
db:query("insert into t values ('c', NULL)")
stream:write(db:affected_rows() .. "|")
db:query("update t set v = v + 10 where v is not null")
stream:write(db:affected_rows() .. "|")
local rows = {}
stream:write(tostring(db:query("select k, v from t order by k", function(row) rows[#rows + 1] = row.k .. "=" .. row.v end)) .. "|")
stream:write(table.concat(rows, ",") .. "|")
local n = 0
db:query("select k from t", function(row) n = n + 1 return 1 end)
stream:write(n .. "|")
n = 0
db:query("select k from t", function(row) n = n + 1 return true end)
stream:write(n .. "|")
local ok, all, err = db:query_rows("select k from t where v > 11")
stream:write(tostring(ok) .. #all .. all[1].k .. tostring(err) .. "|")
stream:write(tostring(db:query("select * from nope")) .. "|" .. tostring(db:last_error() ~= nil) .. "|")
db:clear_error()
stream:write(tostring(db:last_error()) .. "|")
stream:write(tostring(db:query("")) .. "|")
stream:write(tostring(db:test_reactive("select v from t2", "drop table if exists t2", "create table t2 (v)")) .. "|")
stream:write(tostring(db:release()) .. tostring(db:release()) .. tostring(db:connected()) .. "|")
local a = freeswitch.Dbh("sqlite://` + abs + `")
a:query("create table x (y)") a:query("insert into x values (5)")
local m1 = freeswitch.Dbh("sqlite://memory://shared1")
m1:query("create table m (z)") m1:query("insert into m values (7)")
local m2 = freeswitch.Dbh("sqlite://memory://shared1")
local z
m2:query("select z from m", function(r) z = r.z end)
stream:write(z .. "|")
local pg = freeswitch.Dbh("pgsql://hostaddr=127.0.0.1 dbname=x")
stream:write(tostring(pg:connected()) .. tostring(pg:query("select 1")) .. pg:affected_rows() .. "|")
local odbc = freeswitch.Dbh("mydsn", "user", "pass")
stream:write(tostring(odbc:connected()))
`)
	want := "true|true|1|2|true|a=11,b=12,c=|1|3|true1bnil|false|true|nil|false|true|truefalsefalse|7|falsefalse0|true"
	if out != want {
		t.Errorf("got  %q\nwant %q", out, want)
	}
	if !e.logHas("Connection failed.  DBH NOT Connected.", "Missing SQL query.") {
		t.Errorf("log:\n%s", e.logs)
	}
	// The file is db_dir/luatest.db, readable by anyone.
	dir, _ := commands.GlobalVar(e, "db_dir")
	db, err := sql.Open("sqlite", filepath.Join(dir, "luatest.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("select count(*) from t").Scan(&n); err != nil || n != 3 {
		t.Errorf("rows in db_dir/luatest.db: %d, %v", n, err)
	}
	t.Cleanup(func() { _ = scriptingEngine(t).Close() })
}

// JSON encodes as cJSON prints (formatted by default) and decodes into
// tables.
func TestJSON(t *testing.T) {
	e := newEnv(t, nil)
	out := e.api(`
local j = freeswitch.JSON()
stream:write(j:encode({a = 1, b = "x\n", c = true, d = {1, 2.5, "s"}, e = {}}) .. "|")
j:return_unformatted_json(true)
stream:write(j:encode({1, 2, {k = "v"}}) .. "|")
stream:write(j:encode({}) .. "|")
j:encode_empty_table_as_object(false)
stream:write(j:encode({}) .. "|")
stream:write(j:encode({n = 1e20, f = 0.1, i = -3}) .. "|")
local t = j:decode('{"a": [1, "two", {"b": false}], "n": null, "x": 1.5}')
stream:write(t.a[1] .. t.a[2] .. tostring(t.a[3].b) .. tostring(t.n) .. t.x .. "|")
local bad = j:decode("not json")
stream:write(tostring(bad) .. select("#", j:decode("not json")) .. "|")
stream:write(type(j:decode("5")))
`)
	want := "{\n\t\"a\":\t1,\n\t\"b\":\t\"x\\n\",\n\t\"c\":\ttrue,\n\t\"d\":\t[1, 2.5, \"s\"],\n\t\"e\":\t{\n\t}\n}|" +
		`[1,2,{"k":"v"}]|{}|[]|{"n":1e+20,"f":0.1,"i":-3}|1twofalsenil1.5|nil0|table`
	if out != want {
		t.Errorf("got  %q\nwant %q", out, want)
	}
}

// scriptingEngine is the registered Lua engine.
func scriptingEngine(t *testing.T) *Engine {
	t.Helper()
	e, ok := lookupEngine()
	if !ok {
		t.Fatal("no lua engine")
	}
	return e
}

func lookupEngine() (*Engine, bool) {
	e, ok := scripting.Lookup("lua")
	if !ok {
		return nil, false
	}
	en, ok := e.(*Engine)
	return en, ok
}
