package lua

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/switchboard-voip/switchboard/commands"
	"github.com/switchboard-voip/switchboard/scripting"
)

// The freeswitch module: its functions are made on first use (a script
// that only answers and plays pays for none of them).

// FreeSWITCH's session flags, exported by the module.
const (
	flagHup    = 1 << 0 // S_HUP
	flagFree   = 1 << 1 // S_FREE
	flagRDLock = 1 << 2 // S_RDLOCK
)

// openFreeswitch sets the global freeswitch (and package.loaded's).
func (r *runtime) openFreeswitch() {
	L := r.L
	mod := L.CreateTable(0, 4)
	mod.RawSetString("S_HUP", lua.LNumber(flagHup))
	mod.RawSetString("S_FREE", lua.LNumber(flagFree))
	mod.RawSetString("S_RDLOCK", lua.LNumber(flagRDLock))
	mt := L.CreateTable(0, 1)
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		name, ok := L.Get(2).(lua.LString)
		f, found := moduleFuncs[string(name)]
		if !ok || !found {
			L.Push(lua.LNil)
			return 1
		}
		fn := L.NewFunction(func(L *lua.LState) int { return f(r, L) })
		mod.RawSetString(string(name), fn)
		L.Push(fn)
		return 1
	}))
	L.SetMetatable(mod, mt)
	L.SetGlobal("freeswitch", mod)
	if loaded, ok := L.GetField(L.Get(lua.RegistryIndex), "_LOADED").(*lua.LTable); ok {
		loaded.RawSetString("freeswitch", mod)
	}
}

// moduleFuncs are the freeswitch module's functions and constructors.
var moduleFuncs = map[string]method{}

func init() {
	for name, f := range map[string]method{
		"consoleLog":        fsConsoleLog,
		"console_log":       fsConsoleLog,
		"consoleCleanLog":   fsConsoleCleanLog,
		"console_clean_log": fsConsoleCleanLog,
		"consoleLog2":       fsConsoleLog2,
		"console_log2":      fsConsoleLog2,
		"msleep":            fsMsleep,
		"getGlobalVariable": fsGetGlobal,
		"setGlobalVariable": fsSetGlobal,
		"globalSetVariable": fsGlobalSetVariable,
		"running":           fsRunning,
		"email":             fsEmail,
		"bridge":            fsBridge,
		"API":               newAPI,
		"Stream":            newStreamFn,
		"Session":           newSession,
		"Event":             newEventFn,
		"EventConsumer":     newConsumer,
		"Dbh":               newDbh,
		"JSON":              newJSON,
	} {
		moduleFuncs[name] = f
	}
	types[apiType] = typeInfo{methods: apiMethods}
	types[streamType] = typeInfo{methods: streamMethods}
}

func fsConsoleLog(r *runtime, L *lua.LState) int {
	nargs(L, "consoleLog", 2, 2)
	scripting.ConsoleLog(r.log, str(L, 1, "consoleLog"), str(L, 2, "consoleLog"))
	return 0
}

func fsConsoleCleanLog(r *runtime, L *lua.LState) int {
	nargs(L, "consoleCleanLog", 1, 1)
	scripting.ConsoleLog(r.log, "debug", str(L, 1, "consoleCleanLog"))
	return 0
}

func fsConsoleLog2(r *runtime, L *lua.LState) int {
	const fn = "consoleLog2"
	nargs(L, fn, 5, 5)
	level, file, function, line, msg := str(L, 1, fn), str(L, 2, fn), str(L, 3, fn), intArg(L, 4, fn), str(L, 5, fn)
	scripting.ConsoleLog(r.log.With("file", file, "func", function, "line", line), level, msg)
	return 0
}

// fsMsleep sleeps without touching media (bounded by the time limit).
func fsMsleep(r *runtime, L *lua.LState) int {
	nargs(L, "msleep", 1, 1)
	ms := intArg(L, 1, "msleep")
	if ms <= 0 {
		return 0
	}
	t := time.NewTimer(time.Duration(ms) * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.ctx.Done():
	}
	return 0
}

func fsGetGlobal(r *runtime, L *lua.LState) int {
	nargs(L, "getGlobalVariable", 1, 1)
	v, ok := commands.GlobalVar(r.env, str(L, 1, "getGlobalVariable"))
	return pushStr(L, v, ok)
}

func fsSetGlobal(r *runtime, L *lua.LState) int {
	nargs(L, "setGlobalVariable", 2, 2)
	name := str(L, 1, "setGlobalVariable")
	val, isNil := strArg(L, 2, "setGlobalVariable")
	setGlobal(r.env, name, val, isNil)
	return 0
}

func setGlobal(env commands.Env, name, val string, unset bool) {
	if name == "" {
		return
	}
	if unset {
		env.Globals().Unset(name)
		return
	}
	env.Globals().Set(name, val)
}

// fsGlobalSetVariable is globalSetVariable(var, val [, only_if_val]): with
// a third value the variable is set only if it currently holds it; 0 on
// success.
func fsGlobalSetVariable(r *runtime, L *lua.LState) int {
	const fn = "globalSetVariable"
	nargs(L, fn, 2, 3)
	name := str(L, 1, fn)
	val := str(L, 2, fn)
	cond := optStr(L, 3, fn, "")
	if cond != "" {
		cur, _ := commands.GlobalVar(r.env, name)
		if cur != cond {
			return pushInt(L, 1)
		}
	}
	setGlobal(r.env, name, val, val == "")
	return pushInt(L, 0)
}

func fsRunning(r *runtime, L *lua.LState) int {
	if c, ok := r.env.(commands.Core); ok && c.ShutdownPending() {
		return pushBool(L, false)
	}
	return pushBool(L, true)
}

func fsEmail(r *runtime, L *lua.LState) int {
	r.log.Error("freeswitch.email: sending mail is not supported")
	return pushBool(L, false)
}

// fsBridge is freeswitch.bridge(a, b): it bridges the two channels and
// returns when the bridge is over (one side hung up), as
// switch_ivr_multi_threaded_bridge does.
func fsBridge(r *runtime, L *lua.LState) int {
	const fn = "bridge"
	nargs(L, fn, 2, 2)
	a, b := sessionArg(L, 1, fn), sessionArg(L, 2, fn)
	if a == nil || b == nil {
		r.log.Error("Channels not ready")
		return 0
	}
	a.Bridge(b)
	return 0
}

// newSession is freeswitch.Session([uuid_or_dial [, a_leg]]).
func newSession(r *runtime, L *lua.LState) int {
	const fn = "new_Session"
	nargs(L, fn, 0, 2)
	var s *scripting.Session
	if L.GetTop() == 0 {
		s = scripting.NewEmptySession(r.env, r.log)
		s.SetContext(r.ctx)
	} else {
		dial := str(L, 1, fn)
		aLeg := sessionArg(L, 2, fn)
		s = scripting.OpenSession(r.ctx, r.env, r.log, dial, aLeg)
	}
	ls := r.bindSession(s)
	r.atEnd(func() {
		s.SetHooks(nil)
		s.Destroy()
	})
	L.Push(ls.ud)
	return 1
}

// The API object.

const apiType = "API *"

type apiObj struct{ s *scripting.Session }

func (*apiObj) swigType() string { return apiType }

func newAPI(r *runtime, L *lua.LState) int {
	nargs(L, "new_API", 0, 1)
	var s *scripting.Session
	if L.GetTop() == 1 {
		s = sessionArg(L, 1, "new_API")
	}
	L.Push(r.newObject(apiType, &apiObj{s: s}))
	return 1
}

var apiMethods = map[string]method{
	"execute": func(r *runtime, L *lua.LState) int {
		const fn = "API::execute"
		nargs(L, fn, 2, 3)
		self[*apiObj](L, fn, apiType)
		cmd, arg := str(L, 2, fn), optStr(L, 3, fn, "")
		L.Push(lua.LString(r.api(cmd, arg)))
		return 1
	},
	"executeString": func(r *runtime, L *lua.LState) int {
		const fn = "API::executeString"
		nargs(L, fn, 2, 2)
		self[*apiObj](L, fn, apiType)
		cmd, arg, _ := strings.Cut(str(L, 2, fn), " ")
		L.Push(lua.LString(r.api(cmd, arg)))
		return 1
	},
	"getTime": func(r *runtime, L *lua.LState) int {
		const fn = "API::getTime"
		nargs(L, fn, 1, 1)
		self[*apiObj](L, fn, apiType)
		L.Push(lua.LString(strconv.FormatInt(time.Now().UnixMilli(), 10)))
		return 1
	},
}

// api runs an API command and returns what FreeSWITCH's stream holds.
func (r *runtime) api(cmd, arg string) string {
	if cmd == "" {
		r.log.Error("No application specified")
		return "-ERR No application specified"
	}
	out, _ := commands.ExecuteStream(r.ctx, r.env, cmd, arg)
	return out
}

// The Stream object: the API command's output, or a buffer of the
// script's own (freeswitch.Stream()).

const streamType = "Stream *"

type streamObj struct {
	w   io.Writer
	buf *strings.Builder // the script's own stream
}

func (*streamObj) swigType() string { return streamType }

func (r *runtime) newStream(w io.Writer, own bool) *lua.LUserData {
	s := &streamObj{w: w}
	if own {
		s.buf = &strings.Builder{}
		s.w = s.buf
	}
	return r.newObject(streamType, s)
}

func newStreamFn(r *runtime, L *lua.LState) int {
	nargs(L, "new_Stream", 0, 0)
	L.Push(r.newStream(nil, true))
	return 1
}

var streamMethods = map[string]method{
	"write": func(r *runtime, L *lua.LState) int {
		const fn = "Stream::write"
		nargs(L, fn, 2, 2)
		s := self[*streamObj](L, fn, streamType)
		io.WriteString(s.w, str(L, 2, fn))
		return 0
	},
	"raw_write": func(r *runtime, L *lua.LState) int {
		const fn = "Stream::raw_write"
		nargs(L, fn, 3, 3)
		s := self[*streamObj](L, fn, streamType)
		data, n := str(L, 2, fn), intArg(L, 3, fn)
		if n < 0 {
			n = 0
		}
		io.WriteString(s.w, data[:min(n, len(data))])
		return 0
	},
	"get_data": func(r *runtime, L *lua.LState) int {
		const fn = "Stream::get_data"
		nargs(L, fn, 1, 1)
		s := self[*streamObj](L, fn, streamType)
		if sg, ok := s.w.(fmt.Stringer); ok {
			L.Push(lua.LString(sg.String()))
		} else {
			L.Push(lua.LString(""))
		}
		return 1
	},
	"read": func(r *runtime, L *lua.LState) int {
		const fn = "Stream::read"
		nargs(L, fn, 1, 1)
		self[*streamObj](L, fn, streamType)
		L.Push(lua.LString(""))
		L.Push(lua.LNumber(0))
		return 2
	},
}
