package lua

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/commands"
	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/scripting"
)

// The lua application is registered as FreeSWITCH registers it: flags
// N, R, Z, X and usage "<script>" (the catalogue test of package apps
// does not see applications registered outside it).
func TestAppMatchesCatalogue(t *testing.T) {
	a, ok := apps.Lookup("lua")
	if !ok {
		t.Fatal("lua is not registered")
	}
	info, _ := apps.KnownApp("lua")
	if a.Flags != info.Flags || a.Usage != info.Usage || a.Name != info.Name {
		t.Errorf("registered %s %v %q, catalogue %s %v %q", a.Name, a.Flags, a.Usage, info.Name, info.Flags, info.Usage)
	}
	for _, name := range []string{"lua", "luarun"} {
		c, ok := commands.Lookup(name)
		if !ok || c.Module != "mod_lua" || c.Usage != "<script>" {
			t.Errorf("command %s: %+v, %v", name, c, ok)
		}
	}
	if e, ok := scripting.Lookup("LUA"); !ok || e.Language() != "lua" {
		t.Errorf("scripting.Lookup(LUA) = %v, %v", e, ok)
	}
}

// When a script ends its channel is not hung up: the dialplan goes on
// with the next action (FreeSWITCH's source, not its documentation).
func TestScriptEndKeepsCall(t *testing.T) {
	e := newEnv(t, nil)
	c := e.run(`session:setVariable("ran", "yes")`)
	if c.v("ran") != "yes" || c.v("after_script") != "done" || !c.Ready() {
		t.Errorf("ran=%q after=%q ready=%v", c.v("ran"), c.v("after_script"), c.Ready())
	}
}

// setAutoHangup(true) on the script's own channel hangs it up at the end.
func TestAutoHangup(t *testing.T) {
	e := newEnv(t, nil)
	c := e.run(`session:setVariable("r", tostring(session:setAutoHangup(true)))`)
	waitFor(t, "the hangup", func() bool { return !c.Ready() })
	if c.HangupCause() != cause.CNormalClearing || c.v("r") != "0" {
		t.Errorf("cause %v, setAutoHangup returned %q", c.HangupCause(), c.v("r"))
	}
	if c.v("after_script") != "" {
		t.Error("the dialplan went on after a hangup")
	}
}

// Errors are logged with the script's path and line and a traceback, and
// the dialplan goes on; load errors name file and line, with a hint for
// Lua 5.3's operators.
func TestErrorsAreLogged(t *testing.T) {
	tests := []struct {
		name, code string
		want       []string
	}{
		{"runtime error", "local x = 1\nlocal function f() error('boom') end\nf()\n", []string{"t.lua:2: boom", "stack traceback", "t.lua:3"}},
		{"nil index", "local t\nlocal y = t.x\n", []string{"t.lua:2:", "attempt to index"}},
		{"floor division", "local a = 1\nlocal b = 7 // 2\n", []string{"t.lua:2: syntax error near '/'", "Lua 5.3"}},
		{"bitwise and", "local a = 1\n\nlocal b = 3 & 5\n", []string{"t.lua:3:", "near '&'", "Lua 5.3"}},
		{"unterminated string", "local s = 'abc\n", []string{"t.lua:", "unterminated string"}},
		{"error object", "error({code = 1})", []string{"t.lua", "table"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			c := e.run(tt.code)
			if c.v("after_script") != "done" || !c.Ready() {
				t.Error("the dialplan did not go on after the error")
			}
			for _, w := range tt.want {
				if !e.logHas(w) {
					t.Errorf("log lacks %q:\n%s", w, e.logs)
				}
			}
			if !e.logHas(filepath.Join(e.dir, "t.lua")) {
				t.Errorf("log does not name the script's path")
			}
		})
	}
}

// A missing script is logged and the dialplan goes on.
func TestMissingScript(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial("answered", "nosuch.lua")
	c.waitScript()
	if !e.logHas("cannot open", "nosuch.lua") {
		t.Errorf("log:\n%s", e.logs)
	}
}

// os.exit does not end anything: it complains, and the script goes on.
func TestOSExit(t *testing.T) {
	e := newEnv(t, nil)
	c := e.run(`os.exit(1) session:setVariable("after_exit", "yes")`)
	if c.v("after_exit") != "yes" || !e.logHas("Surely you jest! exiting is a bad plan....") {
		t.Errorf("after_exit=%q log:\n%s", c.v("after_exit"), e.logs)
	}
}

// argv holds the script's name and its arguments, split as application
// data is: quotes group, backslash escapes.
func TestArgv(t *testing.T) {
	e := newEnv(t, nil)
	e.write("args.lua", `session:setVariable("got", argv[0] .. "|" .. #argv .. "|" .. table.concat(argv, ","))`)
	c := e.dial("answered", `args.lua one 'two three'  four`)
	c.waitScript()
	if got := c.v("got"); got != "args.lua|3|one,two three,four" {
		t.Errorf("got %q", got)
	}
}

// A script in a subdirectory of script_dir, an absolute path, and a
// module found through script-directory (package.path) with require.
func TestPathsAndRequire(t *testing.T) {
	e := newEnv(t, nil)
	e.write("lib/greet.lua", `local M = {} function M.hello(n) return "hello " .. n end return M`)
	e.write("sub/main.lua", `local g = require("greet") session:setVariable("got", g.hello(argv[1]))`)
	c := e.dial("answered", "sub/main.lua world")
	c.waitScript()
	if c.v("got") != "hello world" {
		t.Errorf("got %q; log:\n%s", c.v("got"), e.logs)
	}
	c = e.dial("answered", filepath.Join(e.dir, "sub", "main.lua")+" abs")
	c.waitScript()
	if c.v("got") != "hello abs" {
		t.Errorf("absolute path: got %q", c.v("got"))
	}
}

// Compiled chunks are cached by path, modification time and size; Flush
// (reloadxml) forgets them.
func TestChunkCache(t *testing.T) {
	e := newEnv(t, nil)
	path := filepath.Join(e.dir, "c.lua")
	mtime := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	write := func(code string) {
		e.write("c.lua", code)
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	run := func() string {
		c := e.dial("answered", "c.lua")
		c.waitScript()
		return c.v("v")
	}
	write(`session:setVariable("v", "A")`)
	if got := run(); got != "A" {
		t.Fatalf("first run: %q", got)
	}
	write(`session:setVariable("v", "B")`) // same size, same time
	if got := run(); got != "A" {
		t.Errorf("an unchanged file was compiled again: %q", got)
	}
	scripting.Flush()
	if got := run(); got != "B" {
		t.Errorf("after Flush: %q", got)
	}
	mtime = mtime.Add(time.Second)
	write(`session:setVariable("v", "C")`)
	if got := run(); got != "C" {
		t.Errorf("after a change of modification time: %q", got)
	}
}

// inline="true" runs the script during the hunt, where the channel is
// still routing: ready() is false, as in FreeSWITCH.
func TestInline(t *testing.T) {
	e := newEnv(t, nil)
	e.write("inline.lua", `session:setVariable("inline_state", session:getState() .. "/" .. tostring(session:ready()))`)
	c := e.dial("inline", "")
	c.waitScript()
	if got := c.v("inline_state"); got != "CS_ROUTING/false" {
		t.Errorf("inline: %q", got)
	}
}

// A runaway loop ends at lua.conf's time-limit; the dialplan goes on.
func TestTimeLimit(t *testing.T) {
	e := newEnv(t, map[string]string{"lua_time_limit": "0.2"})
	start := time.Now()
	c := e.run(`while true do end`)
	if time.Since(start) > 5*time.Second || !c.Ready() {
		t.Errorf("took %v, ready %v", time.Since(start), c.Ready())
	}
	if !e.logHas("time limit") {
		t.Errorf("log:\n%s", e.logs)
	}
	// A blocking wait is bounded too, and pcall cannot swallow the limit.
	c = e.run(`pcall(function() while true do end end) session:setVariable("after", "x") freeswitch.msleep(100000)`)
	if !c.Ready() {
		t.Error("the call hung up")
	}
}

// Misuse that must not take the switch down: huge strings, runaway
// recursion, deep pcall nesting.
func TestMisuse(t *testing.T) {
	tests := []struct {
		name, code, want string
	}{
		{"string.rep of a gigabyte", `local s = string.rep("x", 1024*1024*1024)`, "too large"},
		{"string.rep of a huge count", `local s = string.rep("ab", 2^53)`, "too large"},
		{"runaway recursion", `local function f(n) return 1 + f(n + 1) end f(1)`, "stack overflow"},
		{"runaway recursion through pcall", `local function f() pcall(f) error("deep") end f()`, "deep"},
		{"huge table index", `local t = {} t[2^40] = 1 session:setVariable("ok", "1")`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			c := e.run(tt.code)
			if !c.Ready() || c.v("after_script") != "done" {
				t.Error("the dialplan did not go on")
			}
			if tt.want != "" && !e.logHas(tt.want) {
				t.Errorf("log lacks %q:\n%s", tt.want, e.logs)
			}
		})
	}
}

// A script still running long after its call hung up is reported.
func TestWarnAfterHangup(t *testing.T) {
	e := newEnv(t, map[string]string{"lua_warn_after": "0.05"})
	e.write("t.lua", `session:hangup() freeswitch.msleep(300)`)
	c := e.dial("answered", "t.lua")
	waitFor(t, "the warning", func() bool { return e.logHas("still running") })
	<-c.Done()
}

// A script can run scripts (session:execute("lua")), but not without
// end.
func TestNestedScripts(t *testing.T) {
	e := newEnv(t, nil)
	e.write("inner.lua", `session:setVariable("inner", argv[1])`)
	c := e.run(`session:execute("lua", "inner.lua x") session:setVariable("outer", session:getVariable("inner"))`)
	if c.v("outer") != "x" {
		t.Errorf("outer=%q", c.v("outer"))
	}
	e.write("self.lua", `local n = tonumber(session:getVariable("depth") or "0") + 1
session:setVariable("depth", tostring(n))
session:execute("lua", "self.lua")`)
	c = e.dial("answered", "self.lua")
	c.waitScript()
	if c.v("depth") != "16" || !e.logHas("nested more than 16 deep") {
		t.Errorf("depth=%q; log:\n%s", c.v("depth"), e.logs)
	}
}

// The lua API command: output is what the script writes to stream; env
// carries the request; a failing script adds -ERR Cannot execute script.
func TestAPICommand(t *testing.T) {
	e := newEnv(t, nil)
	e.write("api.lua", `stream:write("arg=" .. argv[1] .. " cmd=" .. env:getHeader("API-Command-Argument"))`)
	e.write("bad.lua", `stream:write("partial\n") error("nope")`)
	ctx := context.Background()
	tests := []struct{ args, want string }{
		{"api.lua hello", "arg=hello cmd=api.lua hello"},
		{"bad.lua", "partial\n-ERR Cannot execute script\n"},
		{"", ""},
		{"~stream:write(1+2)", "3"},
		{"#!/lua stream:write('x')", "x"},
		{"nosuch.lua", "-ERR Cannot execute script\n"},
	}
	for _, tt := range tests {
		if got := commands.Execute(ctx, e, "lua", tt.args); got != tt.want {
			t.Errorf("lua %s = %q, want %q", tt.args, got, tt.want)
		}
	}
	if got := commands.Execute(ctx, e, "luarun", ""); got != "-ERR no args specified!\n" {
		t.Errorf("luarun without args: %q", got)
	}
	e.write("bg.lua", `freeswitch.msleep(50) freeswitch.setGlobalVariable("bg_done", argv[1])`)
	if got := commands.Execute(ctx, e, "luarun", "bg.lua yes"); got != "+OK\n" {
		t.Errorf("luarun: %q", got)
	}
	waitFor(t, "the background script", func() bool { v, _ := e.Runtime.Get("bg_done"); return v == "yes" })
	waitFor(t, "the background count", func() bool { return scripting.Background() == 0 })
}

// Applications the script runs through session:execute take the same
// path as dialplan actions: an unknown one hangs up.
func TestExecuteUnknownApp(t *testing.T) {
	e := newEnv(t, nil)
	c := e.run(`session:execute("no_such_app", "x") session:setVariable("r", tostring(session:ready()))`)
	if c.Ready() || c.HangupCause() != cause.CDestinationOutOfOrder {
		t.Errorf("ready %v cause %v", c.Ready(), c.HangupCause())
	}
	if !e.logHas("Invalid Application no_such_app") {
		t.Errorf("log:\n%s", e.logs)
	}
}

// The libraries opened on first use behave as if they had been opened
// at the start.
func TestLazyLibraries(t *testing.T) {
	e := newEnv(t, nil)
	c := e.run(`local m = math
local parts = {
  m.floor(2.5),
  #os.date("%Y"),
  type(io.open),
  type(require("debug").traceback),
  coroutine.status(coroutine.create(function() end)),
  ("x"):upper(),
  tostring(package.loaded.math == math),
  tostring(rawget(os, "time") ~= nil),
}
local n = 0 for _ in pairs(math) do n = n + 1 end
parts[#parts + 1] = tostring(n > 20)
os.exit()
session:setVariable("libs", table.concat(parts, ","))`)
	if got := c.v("libs"); got != "2,4,function,function,suspended,X,true,true,true" {
		t.Errorf("libs: %q", got)
	}
	if !e.logHas("Surely you jest") {
		t.Error("os.exit is not replaced when os is opened late")
	}
}

// A new configuration (reloadxml) empties the chunk cache.
func TestReloadFlushesCache(t *testing.T) {
	e := newEnv(t, nil)
	path := filepath.Join(e.dir, "c.lua")
	mtime := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	write := func(code string) {
		e.write("c.lua", code)
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	run := func() string {
		c := e.dial("answered", "c.lua")
		c.waitScript()
		return c.v("v")
	}
	write(`session:setVariable("v", "A")`)
	run()
	write(`session:setVariable("v", "B")`)
	if got := run(); got != "A" {
		t.Fatalf("cache: %q", got)
	}
	snap, err := conf.Load(conf.Options{Dir: "testdata/conf", StateDir: t.TempDir(), Set: map[string]string{"script_dir": e.dir},
		LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	e.Config = func() *conf.Snapshot { return snap }
	if got := run(); got != "B" {
		t.Errorf("after a reload: %q", got)
	}
}

// lua.conf's startup-script params run in the background when the switch
// starts (scripting.Startup), in order, with argv and without session or
// stream; an empty one is skipped.
func TestStartupScripts(t *testing.T) {
	e := newEnv(t, map[string]string{"lua_startup": "start.lua one 'two words'"})
	e.write("start.lua", `freeswitch.setGlobalVariable("startup_argv", argv[0] .. "|" .. table.concat(argv, "|"))
freeswitch.setGlobalVariable("startup_globals", tostring(session) .. "," .. tostring(stream))`)
	eng, _ := scripting.Lookup("lua")
	if got := eng.(scripting.StartupScripter).StartupScripts(e); len(got) != 2 || got[0] != "start.lua one 'two words'" {
		t.Errorf("StartupScripts = %q", got)
	}
	if n := scripting.Startup(e); n != 2 {
		t.Fatalf("Startup started %d scripts, want 2", n)
	}
	waitFor(t, "the start-up scripts", func() bool {
		_, a := e.Runtime.Get("startup_globals")
		_, b := e.Runtime.Get("inline_startup")
		return a && b
	})
	if v, _ := e.Runtime.Get("startup_argv"); v != "start.lua|one|two words" {
		t.Errorf("argv = %q", v)
	}
	if v, _ := e.Runtime.Get("startup_globals"); v != "nil,nil" {
		t.Errorf("session, stream = %q, want nil,nil", v)
	}
	// Without the param there is only the inline one.
	e2 := newEnv(t, nil)
	if got := eng.(scripting.StartupScripter).StartupScripts(e2); len(got) != 1 {
		t.Errorf("StartupScripts without lua_startup = %q", got)
	}
}
