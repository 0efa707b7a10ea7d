package lua

import (
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/switchboard-voip/switchboard/scripting"
)

// The session object: LUA::Session, a CoreSession (scripting.Session)
// plus the input callback and hangup hook, which mod_lua names by global
// function names.

const sessionType = "LUA::Session *"

// luaSession is a session userdata's value.
type luaSession struct {
	s  *scripting.Session
	r  *runtime
	ud *lua.LUserData

	cbFunc, cbArg     string // input callback: global names
	hookFunc, hookArg string // hangup hook: global names
}

func (*luaSession) swigType() string { return sessionType }

// bindSession makes the userdata for s, installs the callbacks, and sets
// the global named by the channel's UUID to it, as mod_lua does.
func (r *runtime) bindSession(s *scripting.Session) *luaSession {
	ls := &luaSession{s: s, r: r}
	ls.ud = r.newObject(sessionType, ls)
	s.SetHooks(ls)
	if s.Allocated() && s.UUID() != "" {
		r.L.SetGlobal(s.UUID(), ls.ud)
	}
	return ls
}

// Input runs the input callback: fn(session, "dtmf", {digit, duration}
// [, arg]) or fn(session, "event", event [, arg]), the global __Input_Event__
// holding the event too.
func (ls *luaSession) Input(in scripting.Input) string {
	r, L := ls.r, ls.r.L
	if ls.cbFunc == "" {
		return ""
	}
	args := []lua.LValue{ls.ud}
	if in.Event == nil {
		t := L.CreateTable(0, 2)
		t.RawSetString("digit", lua.LString(string(in.Digit)))
		t.RawSetString("duration", lua.LNumber(in.Duration))
		args = append(args, lua.LString("dtmf"), t)
	} else {
		ev := r.newEvent(in.Event, true)
		L.SetGlobal("__Input_Event__", ev)
		args = append(args, lua.LString("event"), ev)
	}
	if ls.cbArg != "" {
		args = append(args, L.GetGlobal(ls.cbArg))
	}
	ret, ok := r.docall(L.GetGlobal(ls.cbFunc), args...)
	if !ok {
		return "SCRIPT_ERROR"
	}
	s, _ := toString(ret)
	return s
}

// HangupHook runs the hangup hook: fn(session, "hangup"|"transfer"
// [, arg]). Its result goes to lua_hangup_hook_return_val; "exit" or
// "die" ends the script.
func (ls *luaSession) HangupHook(state string) {
	r, L := ls.r, ls.r.L
	args := []lua.LValue{ls.ud, lua.LString(state)}
	if ls.hookArg != "" {
		args = append(args, L.GetGlobal(ls.hookArg))
	}
	ret, _ := r.docall(L.GetGlobal(ls.hookFunc), args...)
	ls.hookFunc, ls.hookArg = "", ""
	s, ok := toString(ret)
	if ch := ls.s.Channel(); ch != nil {
		if ok && s != "" {
			ch.Vars().Set("lua_hangup_hook_return_val", s)
		} else {
			ch.Vars().Unset("lua_hangup_hook_return_val")
		}
	}
	if ok && (strings.EqualFold(s, "exit") || strings.EqualFold(s, "die")) {
		L.Error(lua.LString(s), 0)
	}
}

// sm is a session method's receiver, checked.
func sm(L *lua.LState, fn string) *scripting.Session {
	return self[*luaSession](L, fn, sessionType).s
}

func init() {
	types[sessionType] = typeInfo{methods: sessionMethods, attr: sessionAttr}
}

// sessionAttr are the SWIG attributes scripts read: uuid above all.
func sessionAttr(_ *runtime, v any, key string) (lua.LValue, bool) {
	ls := v.(*luaSession)
	strOrNil := func(s string) lua.LValue {
		if s == "" {
			return lua.LNil
		}
		return lua.LString(s)
	}
	switch key {
	case "uuid":
		if !ls.s.Allocated() {
			return lua.LNil, true
		}
		return strOrNil(ls.s.UUID()), true
	case "allocated":
		return lua.LNumber(scriptingBool(ls.s.Allocated())), true
	case "cb_function":
		return strOrNil(ls.cbFunc), true
	case "cb_arg":
		return strOrNil(ls.cbArg), true
	case "hangup_func_str":
		return strOrNil(ls.hookFunc), true
	case "hangup_func_arg":
		return strOrNil(ls.hookArg), true
	}
	return nil, false
}

func scriptingBool(b bool) int {
	if b {
		return 1
	}
	return 0
}

// sessionMethods are the session methods, with mod_lua's arguments.
var sessionMethods = map[string]method{
	"answer": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::answer"
		nargs(L, fn, 1, 1)
		return pushInt(L, sm(L, fn).Answer())
	},
	"preAnswer": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::preAnswer"
		nargs(L, fn, 1, 1)
		return pushInt(L, sm(L, fn).PreAnswer())
	},
	"hangup": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::hangup"
		nargs(L, fn, 1, 2)
		s := sm(L, fn)
		s.Hangup(optStr(L, 2, fn, "normal_clearing"))
		return 0
	},
	"hangupState": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::hangupState"
		nargs(L, fn, 1, 1)
		sm(L, fn).HangupState()
		return 0
	},
	"hangupCause": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::hangupCause"
		nargs(L, fn, 1, 1)
		return pushStr(L, sm(L, fn).HangupCause(), true)
	},
	"ready": func(_ *runtime, L *lua.LState) int {
		const fn = "LUA::Session::ready"
		nargs(L, fn, 1, 1)
		return pushBool(L, sm(L, fn).Ready())
	},
	"answered": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::answered"
		nargs(L, fn, 1, 1)
		return pushBool(L, sm(L, fn).Answered())
	},
	"bridged": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::bridged"
		nargs(L, fn, 1, 1)
		return pushBool(L, sm(L, fn).Bridged())
	},
	"mediaReady": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::mediaReady"
		nargs(L, fn, 1, 1)
		return pushBool(L, sm(L, fn).MediaReady())
	},
	"getVariable": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::getVariable"
		nargs(L, fn, 2, 2)
		s := sm(L, fn)
		name := str(L, 2, fn)
		v, ok := s.GetVariable(name)
		return pushStr(L, v, ok)
	},
	"setVariable": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::setVariable"
		nargs(L, fn, 3, 3)
		s := sm(L, fn)
		s.SetVariable(str(L, 2, fn), str(L, 3, fn))
		return 0
	},
	"execute": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::execute"
		nargs(L, fn, 2, 3)
		s := sm(L, fn)
		s.Execute(str(L, 2, fn), optStr(L, 3, fn, ""))
		return 0
	},
	"executeString": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::executeString"
		nargs(L, fn, 2, 2)
		s := sm(L, fn)
		s.ExecuteString(str(L, 2, fn))
		return 0
	},
	"consoleLog": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::consoleLog"
		nargs(L, fn, 3, 3)
		s := sm(L, fn)
		s.ConsoleLog(str(L, 2, fn), str(L, 3, fn))
		return 0
	},
	"consoleLog2": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::consoleLog2"
		nargs(L, fn, 6, 6)
		s := sm(L, fn)
		level, file, function, line, msg := str(L, 2, fn), str(L, 3, fn), str(L, 4, fn), intArg(L, 5, fn), str(L, 6, fn)
		scripting.ConsoleLog(s.Logger().With("file", file, "func", function, "line", line), level, msg)
		return 0
	},
	"streamFile": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::streamFile"
		nargs(L, fn, 2, 3)
		s := sm(L, fn)
		file, start := str(L, 2, fn), optInt(L, 3, fn, 0)
		return pushInt(L, s.StreamFile(file, start))
	},
	"sleep": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::sleep"
		nargs(L, fn, 2, 3)
		s := sm(L, fn)
		ms, sync := intArg(L, 2, fn), optInt(L, 3, fn, 0)
		return pushInt(L, s.Sleep(ms, sync))
	},
	"getDigits": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::getDigits"
		nargs(L, fn, 4, 6)
		s := sm(L, fn)
		max, terms, timeout := intArg(L, 2, fn), str(L, 3, fn), intArg(L, 4, fn)
		inter, abs := optInt(L, 5, fn, 0), optInt(L, 6, fn, 0)
		return pushStr(L, s.GetDigits(max, terms, timeout, inter, abs), true)
	},
	"collectDigits": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::collectDigits"
		nargs(L, fn, 2, 3)
		s := sm(L, fn)
		if L.GetTop() == 2 {
			return pushInt(L, s.CollectDigits(0, intArg(L, 2, fn)))
		}
		return pushInt(L, s.CollectDigits(intArg(L, 2, fn), intArg(L, 3, fn)))
	},
	"read": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::read"
		nargs(L, fn, 6, 7)
		s := sm(L, fn)
		min, max, prompt, timeout, terms := intArg(L, 2, fn), intArg(L, 3, fn), str(L, 4, fn), intArg(L, 5, fn), str(L, 6, fn)
		digitTimeout := optInt(L, 7, fn, 0)
		return pushStr(L, s.Read(min, max, prompt, timeout, terms, digitTimeout), true)
	},
	"playAndGetDigits": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::playAndGetDigits"
		nargs(L, fn, 9, 12)
		s := sm(L, fn)
		min, max, tries, timeout := intArg(L, 2, fn), intArg(L, 3, fn), intArg(L, 4, fn), intArg(L, 5, fn)
		terms, file, invalid, regex := str(L, 6, fn), str(L, 7, fn), str(L, 8, fn), str(L, 9, fn)
		varName, digitTimeout, failure := optStr(L, 10, fn, ""), optInt(L, 11, fn, 0), optStr(L, 12, fn, "")
		return pushStr(L, s.PlayAndGetDigits(min, max, tries, timeout, terms, file, invalid, regex, varName, digitTimeout, failure), true)
	},
	"recordFile": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::recordFile"
		nargs(L, fn, 2, 5)
		s := sm(L, fn)
		path, isNil := strArg(L, 2, fn)
		limit, thresh, hits := optInt(L, 3, fn, 0), optInt(L, 4, fn, 0), optInt(L, 5, fn, 0)
		if isNil {
			return pushInt(L, 0)
		}
		return pushInt(L, s.RecordFile(path, limit, thresh, hits))
	},
	"say": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::say"
		nargs(L, fn, 5, 6)
		s := sm(L, fn)
		text, module, typ, method := str(L, 2, fn), str(L, 3, fn), str(L, 4, fn), str(L, 5, fn)
		s.Say(text, module, typ, method, optStr(L, 6, fn, ""))
		return 0
	},
	"sayPhrase": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::sayPhrase"
		nargs(L, fn, 2, 4)
		s := sm(L, fn)
		s.SayPhrase(str(L, 2, fn), optStr(L, 3, fn, ""), optStr(L, 4, fn, ""))
		return 0
	},
	"speak": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::speak"
		nargs(L, fn, 2, 2)
		s := sm(L, fn)
		return pushInt(L, s.Speak(str(L, 2, fn)))
	},
	"set_tts_params": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::set_tts_params"
		nargs(L, fn, 3, 3)
		s := sm(L, fn)
		s.SetTTSParams(str(L, 2, fn), str(L, 3, fn))
		return 0
	},
	"set_tts_parms": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::set_tts_parms"
		nargs(L, fn, 3, 3)
		s := sm(L, fn)
		s.Logger().Error("set_tts_parms is deprecated. Use set_tts_params.")
		s.SetTTSParams(str(L, 2, fn), str(L, 3, fn))
		return 0
	},
	"transfer": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::transfer"
		nargs(L, fn, 2, 4)
		s := sm(L, fn)
		return pushInt(L, s.Transfer(str(L, 2, fn), optStr(L, 3, fn, ""), optStr(L, 4, fn, "")))
	},
	"flushDigits": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::flushDigits"
		nargs(L, fn, 1, 1)
		return pushInt(L, sm(L, fn).FlushDigits())
	},
	"flushEvents": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::flushEvents"
		nargs(L, fn, 1, 1)
		return pushInt(L, sm(L, fn).FlushEvents())
	},
	"setAutoHangup": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::setAutoHangup"
		nargs(L, fn, 2, 2)
		s := sm(L, fn)
		return pushInt(L, s.SetAutoHangup(boolArg(L, 2, fn)))
	},
	"setInputCallback": func(_ *runtime, L *lua.LState) int {
		const fn = "LUA::Session::setInputCallback"
		nargs(L, fn, 2, 3)
		ls := self[*luaSession](L, fn, sessionType)
		name, arg := str(L, 2, fn), optStr(L, 3, fn, "")
		if !ls.s.Allocated() {
			ls.s.SetInputCallback(true) // logs the error
			return 0
		}
		ls.cbFunc, ls.cbArg = name, arg
		ls.s.SetInputCallback(true)
		return 0
	},
	"unsetInputCallback": func(_ *runtime, L *lua.LState) int {
		const fn = "LUA::Session::unsetInputCallback"
		nargs(L, fn, 1, 1)
		ls := self[*luaSession](L, fn, sessionType)
		ls.cbFunc, ls.cbArg = "", ""
		ls.s.SetInputCallback(false)
		return 0
	},
	"setHangupHook": func(_ *runtime, L *lua.LState) int {
		const fn = "LUA::Session::setHangupHook"
		nargs(L, fn, 2, 3)
		ls := self[*luaSession](L, fn, sessionType)
		name, isNil := strArg(L, 2, fn)
		arg := optStr(L, 3, fn, "")
		if !ls.s.Allocated() {
			ls.s.SetHangupHook(false) // logs the error
			return 0
		}
		ls.hookFunc, ls.hookArg = name, arg
		ls.s.SetHangupHook(!isNil)
		return 0
	},
	"check_hangup_hook": func(_ *runtime, L *lua.LState) int {
		const fn = "LUA::Session::check_hangup_hook"
		nargs(L, fn, 1, 1)
		sm(L, fn).CheckHangupHook()
		return 0
	},
	"get_uuid": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::get_uuid"
		nargs(L, fn, 1, 1)
		s := sm(L, fn)
		return pushStr(L, s.UUID(), s.Allocated())
	},
	"getState": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::getState"
		nargs(L, fn, 1, 1)
		return pushStr(L, sm(L, fn).GetState(), true)
	},
	"sendEvent": func(r *runtime, L *lua.LState) int {
		const fn = "CoreSession::sendEvent"
		nargs(L, fn, 2, 2)
		s := sm(L, fn)
		if e := eventArg(L, 2, fn); e != nil {
			s.SendEvent(e.e)
		}
		return 0
	},
	"setEventData": func(r *runtime, L *lua.LState) int {
		const fn = "CoreSession::setEventData"
		nargs(L, fn, 2, 2)
		s := sm(L, fn)
		if e := eventArg(L, 2, fn); e != nil {
			s.SetEventData(e.e)
		}
		return 0
	},
	"waitForAnswer": func(r *runtime, L *lua.LState) int {
		const fn = "CoreSession::waitForAnswer"
		nargs(L, fn, 2, 2)
		s := sm(L, fn)
		s.WaitForAnswer(sessionArg(L, 2, fn))
		return 0
	},
	"insertFile": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::insertFile"
		nargs(L, fn, 4, 4)
		s := sm(L, fn)
		return pushInt(L, s.InsertFile(str(L, 2, fn), str(L, 3, fn), intArg(L, 4, fn)))
	},
	"originate": func(_ *runtime, L *lua.LState) int {
		const fn = "LUA::Session::originate"
		nargs(L, fn, 3, 4)
		ls := self[*luaSession](L, fn, sessionType)
		aLeg := sessionArg(L, 2, fn)
		dest, timeout := str(L, 3, fn), optInt(L, 4, fn, 60)
		// As LUA::Session::originate: no auto-hangup (only the
		// freeswitch.Session(dial) constructor sets it), and the global
		// named by the UUID is not set (mod_lua sets it only when the
		// inverted result says failure, when there is no UUID).
		return pushInt(L, ls.s.Originate(aLeg, dest, timeout))
	},
	"destroy": func(_ *runtime, L *lua.LState) int {
		const fn = "LUA::Session::destroy"
		nargs(L, fn, 1, 2)
		ls := self[*luaSession](L, fn, sessionType)
		msg := optStr(L, 2, fn, "")
		if !ls.s.Allocated() {
			return 0
		}
		ls.cbFunc, ls.cbArg, ls.hookFunc, ls.hookArg = "", "", "", ""
		ls.s.Destroy()
		if msg != "" {
			L.Error(lua.LString(msg), 0)
		}
		return 0
	},
	"setPrivate": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::setPrivate"
		nargs(L, fn, 3, 3)
		sm(L, fn)
		return 0
	},
	"getPrivate": func(_ *runtime, L *lua.LState) int {
		const fn = "CoreSession::getPrivate"
		nargs(L, fn, 2, 2)
		sm(L, fn)
		L.Push(lua.LNil)
		return 1
	},
}

// sessionArg reads argument i as a session object or nil.
func sessionArg(L *lua.LState, i int, fn string) *scripting.Session {
	switch v := L.Get(i).(type) {
	case *lua.LNilType:
		return nil
	case *lua.LUserData:
		if ls, ok := v.Value.(*luaSession); ok {
			return ls.s
		}
	}
	badArg(L, fn, i, "CoreSession *")
	return nil
}
