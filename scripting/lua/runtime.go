package lua

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/switchboard-voip/switchboard/commands"
	"github.com/switchboard-voip/switchboard/scripting"
)

// State sizes: the call stack and the value stack start small and grow up
// to these bounds, so that a trivial script costs little and a runaway
// recursion ends with "stack overflow" rather than exhausting memory.
const (
	callStackSize   = 1000
	registrySize    = 1024
	registryMaxSize = 1 << 20
)

// runtime is one run: the interpreter state and the objects the script
// made, released when it ends.
type runtime struct {
	L   *lua.LState
	eng *Engine
	inv *scripting.Invocation
	env commands.Env
	ctx context.Context
	log *slog.Logger

	fns     map[string]*lua.LFunction // methods made so far, by "type.name"
	metas   map[string]*lua.LTable    // metatables made so far, by type
	cleanup []func()                  // run at the end, last first
	own     *luaSession               // the channel's session, or nil
}

// lib is a standard library.
type lib struct {
	name string
	open lua.LGFunction
}

// libs are the standard libraries every state opens at once; lazyLibs
// are opened the first time a script reads one of their fields (see
// openLazy), which keeps a script that does not use them cheap. Every
// standard library is there either way (gopher-lua's "channel" library
// is not Lua's, so it is left out).
var (
	libs = []lib{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
	}
	lazyLibs = []lib{
		{lua.IoLibName, lua.OpenIo},
		{lua.OsLibName, lua.OpenOs},
		{lua.MathLibName, lua.OpenMath},
		{lua.DebugLibName, lua.OpenDebug},
		{lua.CoroutineLibName, lua.OpenCoroutine},
	}
)

// newRuntime makes a fresh state with the standard libraries, the
// freeswitch module and the run's globals.
func newRuntime(ctx context.Context, e *Engine, inv *scripting.Invocation, env commands.Env) *runtime {
	L := lua.NewState(lua.Options{
		SkipOpenLibs:        true,
		CallStackSize:       callStackSize,
		RegistrySize:        registrySize,
		RegistryMaxSize:     registryMaxSize,
		MinimizeStackMemory: true,
	})
	if ctx.Done() != nil {
		L.SetContext(ctx)
	}
	log := inv.Logger
	if log == nil {
		log = slog.Default()
	}
	r := &runtime{L: L, eng: e, inv: inv, env: env, ctx: ctx, log: log,
		fns: make(map[string]*lua.LFunction), metas: make(map[string]*lua.LTable)}
	for _, lib := range libs {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	for _, lib := range lazyLibs {
		r.openLazy(lib)
	}
	r.patchLibs()
	r.openFreeswitch()
	if inv.Session != nil {
		r.own = r.bindSession(inv.Session)
		L.SetGlobal("session", r.own.ud)
	}
	if inv.Output != nil {
		L.SetGlobal("stream", r.newStream(inv.Output, false))
	}
	if inv.Params != nil {
		L.SetGlobal("env", r.newEvent(inv.Params, false))
	}
	return r
}

// close releases what the script made (sessions it created are hung up
// unless it said otherwise, consumers unsubscribe, database handles go
// back) and closes the state.
func (r *runtime) close() {
	for i := len(r.cleanup) - 1; i >= 0; i-- {
		func() {
			defer func() {
				if p := recover(); p != nil {
					r.log.Error(fmt.Sprintf("lua: releasing a script's object: %v", p))
				}
			}()
			r.cleanup[i]()
		}()
	}
	if r.own != nil {
		r.own.s.SetHooks(nil)
	}
	r.L.Close()
}

// atEnd registers f to run when the script ends.
func (r *runtime) atEnd(f func()) { r.cleanup = append(r.cleanup, f) }

// patchLibs replaces what must not be used as gopher-lua ships it
// (os.exit: see patchOS): string.rep would let a script allocate without bound, and dofile,
// loadfile and require read scripts through the configuration's file
// layer (and the chunk cache).
func (r *runtime) patchLibs() {
	L := r.L
	if s, ok := L.GetGlobal("string").(*lua.LTable); ok {
		s.RawSetString("rep", L.NewFunction(strRep))
	}
	L.SetGlobal("dofile", L.NewFunction(r.dofile))
	L.SetGlobal("loadfile", L.NewFunction(r.loadfile))
	if pkg, ok := L.GetGlobal("package").(*lua.LTable); ok {
		pkg.RawSetString("path", lua.LString(r.eng.config(r.env).path))
		if loaders, ok := pkg.RawGetString("loaders").(*lua.LTable); ok {
			loaders.RawSetInt(2, L.NewFunction(r.loaderLua))
		}
	}
}

// openLazy sets the global (and package.loaded entry) of lib to an
// empty table whose first read of a missing field opens the library into
// it: the table is the library from then on, so a script that kept a
// reference to it (local io = io) sees the library too.
func (r *runtime) openLazy(l lib) {
	L := r.L
	proxy := L.NewTable()
	mt := L.CreateTable(0, 1)
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		L.SetMetatable(proxy, lua.LNil)
		loaded, _ := L.GetField(L.Get(lua.RegistryIndex), "_LOADED").(*lua.LTable)
		if loaded != nil {
			loaded.RawSetString(l.name, lua.LNil)
		}
		if cur, ok := L.GetGlobal(l.name).(*lua.LTable); !ok || cur != proxy {
			// The script replaced the global: open into a table of its own.
			defer L.SetGlobal(l.name, L.GetGlobal(l.name))
			L.SetGlobal(l.name, proxy)
		}
		L.Push(L.NewFunction(l.open))
		L.Push(lua.LString(l.name))
		L.Call(1, 0)
		if loaded != nil {
			loaded.RawSetString(l.name, proxy)
		}
		if l.name == lua.OsLibName {
			r.patchOS(proxy)
		}
		L.Push(proxy.RawGet(L.Get(2)))
		return 1
	}))
	L.SetMetatable(proxy, mt)
	L.SetGlobal(l.name, proxy)
	if loaded, ok := L.GetField(L.Get(lua.RegistryIndex), "_LOADED").(*lua.LTable); ok {
		loaded.RawSetString(l.name, proxy)
	}
}

// patchOS replaces os.exit, which would end the switch, with mod_lua's
// complaint.
func (r *runtime) patchOS(os *lua.LTable) {
	os.RawSetString("exit", r.L.NewFunction(func(L *lua.LState) int {
		r.log.Error("Surely you jest! exiting is a bad plan....")
		return 0
	}))
}

// strRep is string.rep with the result's size bounded by MaxStringRep.
func strRep(L *lua.LState) int {
	s := L.CheckString(1)
	n := L.CheckInt(2)
	if n <= 0 || s == "" {
		L.Push(lua.LString(""))
		return 1
	}
	if n > MaxStringRep/len(s) {
		L.RaiseError("string.rep: resulting string too large (%d × %d bytes; at most %d)", n, len(s), MaxStringRep)
	}
	L.Push(lua.LString(strings.Repeat(s, n)))
	return 1
}

// loadPath compiles the script file at path (through the cache).
func (r *runtime) loadPath(path string) (*lua.LFunction, error) {
	proto, err := r.eng.load(r.env, path)
	if err != nil {
		return nil, err
	}
	return r.L.NewFunctionFromProto(proto), nil
}

func (r *runtime) dofile(L *lua.LState) int {
	path := L.CheckString(1)
	fn, err := r.loadPath(path)
	if err != nil {
		L.RaiseError("%s", err.Error())
	}
	top := L.GetTop()
	L.Push(fn)
	L.Call(0, lua.MultRet)
	return L.GetTop() - top
}

func (r *runtime) loadfile(L *lua.LState) int {
	path := L.CheckString(1)
	fn, err := r.loadPath(path)
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	L.Push(fn)
	return 1
}

// loaderLua is require's file loader: package.path's patterns, the
// module name's dots turned into slashes, looked up through the
// configuration's file layer.
func (r *runtime) loaderLua(L *lua.LState) int {
	name := L.CheckString(1)
	path := ""
	if pkg, ok := L.GetGlobal("package").(*lua.LTable); ok {
		path, _ = toString(pkg.RawGetString("path"))
	}
	file := strings.ReplaceAll(name, ".", "/")
	var tried []string
	for _, pattern := range strings.Split(path, ";") {
		if pattern == "" {
			continue
		}
		p := strings.ReplaceAll(pattern, "?", file)
		if _, err := scripting.StatFile(r.env, p); err != nil {
			tried = append(tried, "\n\tno file '"+p+"'")
			continue
		}
		fn, err := r.loadPath(p)
		if err != nil {
			L.RaiseError("error loading module '%s' from file '%s':\n\t%s", name, p, err.Error())
		}
		L.Push(fn)
		return 1
	}
	L.Push(lua.LString(strings.Join(tried, "")))
	return 1
}

// pcall calls the function under its arguments on the stack, protected;
// an error comes back with the script's position and a traceback.
func (r *runtime) pcall(nargs, nret int) error {
	err := r.L.PCall(nargs, nret, nil)
	if err == nil {
		return nil
	}
	var ae *lua.ApiError
	if errors.As(err, &ae) {
		msg := shortTraceback(strings.TrimSpace(ae.Error()))
		if ce := r.ctx.Err(); ce != nil && !strings.Contains(msg, ce.Error()) {
			msg += " (" + ce.Error() + ")"
		}
		return errors.New(msg)
	}
	return err
}

// Traceback levels kept, as Lua's own traceback keeps them: the first
// ones and the last ones, "..." between.
const (
	tracebackHead = 12
	tracebackTail = 10
)

// shortTraceback shortens the traceback of a runaway recursion.
func shortTraceback(msg string) string {
	head, tb, ok := strings.Cut(msg, "\nstack traceback:\n")
	if !ok {
		return msg
	}
	lines := strings.Split(tb, "\n")
	if len(lines) <= tracebackHead+tracebackTail+1 {
		return msg
	}
	kept := append(append(lines[:tracebackHead:tracebackHead], "\t..."), lines[len(lines)-tracebackTail:]...)
	return head + "\nstack traceback:\n" + strings.Join(kept, "\n")
}

// docall calls fn with args, protected, as mod_lua's docall does for
// callbacks: an error is logged with its traceback and reported as
// failed; otherwise the first result is returned.
func (r *runtime) docall(fn lua.LValue, args ...lua.LValue) (lua.LValue, bool) {
	L := r.L
	top := L.GetTop()
	L.Push(fn)
	for _, a := range args {
		L.Push(a)
	}
	if err := r.pcall(len(args), 1); err != nil {
		r.log.Error(err.Error())
		L.SetTop(top)
		return lua.LNil, false
	}
	ret := L.Get(-1)
	L.SetTop(top)
	return ret, true
}

// object is a userdata's value that knows its SWIG type name.
type object interface{ swigType() string }

// method is one method of a type: it gets the runtime and the state,
// with self at index 1.
type method func(r *runtime, L *lua.LState) int

// typeInfo is a userdata type: its methods, and its attributes (attr
// reports false for a key that is none).
type typeInfo struct {
	methods map[string]method
	attr    func(r *runtime, v any, key string) (lua.LValue, bool)
}

// types are the userdata types by SWIG name, filled by init functions.
var types = map[string]typeInfo{}

// newObject wraps v in a userdata of type typ.
func (r *runtime) newObject(typ string, v any) *lua.LUserData {
	ud := r.L.NewUserData()
	ud.Value = v
	r.L.SetMetatable(ud, r.meta(typ))
	return ud
}

// meta returns typ's metatable, made on first use: __index finds the
// method (made on first use too) or attribute.
func (r *runtime) meta(typ string) *lua.LTable {
	if mt, ok := r.metas[typ]; ok {
		return mt
	}
	L := r.L
	mt := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		ud, ok := L.Get(1).(*lua.LUserData)
		key, isStr := L.Get(2).(lua.LString)
		if !ok || !isStr {
			L.Push(lua.LNil)
			return 1
		}
		if fn := r.method(typ, string(key)); fn != nil {
			L.Push(fn)
			return 1
		}
		if t := types[typ]; t.attr != nil {
			if v, ok := t.attr(r, ud.Value, string(key)); ok {
				L.Push(v)
				return 1
			}
		}
		L.Push(lua.LNil)
		return 1
	}))
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(fmt.Sprintf("%s: %p", typ, L.Get(1))))
		return 1
	}))
	r.metas[typ] = mt
	return mt
}

// method returns typ's method name as a function of this state, or nil.
func (r *runtime) method(typ, name string) *lua.LFunction {
	k := typ + "." + name
	if fn, ok := r.fns[k]; ok {
		return fn
	}
	m, ok := types[typ].methods[name]
	if !ok {
		return nil
	}
	fn := r.L.NewFunction(func(L *lua.LState) int { return m(r, L) })
	r.fns[k] = fn
	return fn
}

// self returns argument 1 as a T, raising SWIG's error otherwise.
func self[T object](L *lua.LState, fn, typ string) T {
	if ud, ok := L.Get(1).(*lua.LUserData); ok {
		if v, ok := ud.Value.(T); ok {
			return v
		}
	}
	badArg(L, fn, 1, typ)
	var zero T
	return zero
}
