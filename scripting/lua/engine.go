// Package lua is the Lua engine of package scripting, on
// github.com/yuin/gopher-lua (Lua 5.1): FreeSWITCH's mod_lua API — the
// `session` object, the `freeswitch` module (consoleLog, API, Event,
// EventConsumer, Dbh, JSON, Stream, Session, msleep, global variables),
// `argv`, and `stream` and `env` for the `lua` API command.
//
// It registers itself from init() as the "lua" language with the `lua`
// dialplan application and the `lua` and `luarun` API commands; a binary
// that imports it (for its side effects) has Lua.
//
// Every run gets a fresh interpreter state, closed at the end; compiled
// chunks are cached by path, modification time and size and shared
// between runs, and forgotten by Engine.Flush (scripting.Flush) and when
// the configuration in force changes (reloadxml).
package lua

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"

	"github.com/switchboard-voip/switchboard/commands"
	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/scripting"
	"github.com/switchboard-voip/switchboard/vars"
)

func init() {
	scripting.Register(New(), scripting.Names{App: "lua", API: "lua", RunAPI: "luarun"})
}

// Language is the name the engine registers under.
const Language = "lua"

// Defaults of lua.conf's settings.
const (
	// DefaultWarnAfterHangup is how long after its call hung up a script
	// that still runs is first reported (warn-after-hangup).
	DefaultWarnAfterHangup = 60 * time.Second
	// MaxStringRep is the longest string string.rep makes: beyond it the
	// script gets an error rather than the switch running out of memory.
	MaxStringRep = 64 << 20
)

var (
	_ scripting.Engine          = (*Engine)(nil)
	_ scripting.StartupScripter = (*Engine)(nil)
)

// Engine is the Lua engine. Its zero value is not usable; call New.
type Engine struct {
	chunks   sync.Map // path → *chunk
	settings atomic.Pointer[settingsFor]
	dbs      dbPool
	fallback commands.Env // for runs without a switch (tests)
}

// New returns a Lua engine.
func New() *Engine {
	return &Engine{fallback: &commands.Host{Runtime: vars.NewStore()}}
}

// chunk is a compiled script and the file state it was compiled from.
type chunk struct {
	proto *lua.FunctionProto
	mod   time.Time
	size  int64
}

// settings are lua.conf's, as far as the engine uses them.
type settings struct {
	path      string // package.path
	timeLimit time.Duration
	warnAfter time.Duration
	startup   []string // startup-script command lines, in order
}

// settingsFor caches the settings of one configuration snapshot.
type settingsFor struct {
	snap *conf.Snapshot
	s    settings
}

// Language returns "lua".
func (e *Engine) Language() string { return Language }

// Flush forgets the compiled scripts.
func (e *Engine) Flush() {
	e.chunks.Range(func(k, _ any) bool {
		e.chunks.Delete(k)
		return true
	})
}

// Limits returns lua.conf's time-limit and warn-after-hangup (seconds;
// 0 disables): by default no time limit, and a warning a minute after the
// call hung up.
func (e *Engine) Limits(env commands.Env) scripting.Limits {
	s := e.config(env)
	return scripting.Limits{TimeLimit: s.timeLimit, WarnAfterHangup: s.warnAfter}
}

// StartupScripts returns lua.conf's startup-script params ("file args"),
// in order: scripting.Startup runs them in the background, as luarun
// does, when the switch starts.
func (e *Engine) StartupScripts(env commands.Env) []string {
	return append([]string(nil), e.config(env).startup...)
}

// config returns the settings of env's configuration.
func (e *Engine) config(env commands.Env) settings {
	var snap *conf.Snapshot
	if env != nil {
		snap = env.Snapshot()
	}
	c := e.settings.Load()
	if c != nil && c.snap == snap {
		return c.s
	}
	s := readSettings(snap)
	if e.settings.CompareAndSwap(c, &settingsFor{snap: snap, s: s}) && c != nil {
		// A new configuration: reloadxml ran. Scripts are read again,
		// as they would be after scripting.Flush.
		e.Flush()
	}
	return s
}

// readSettings reads lua.conf: each script-directory param is prepended
// to package.path (before LUA_PATH, or Lua's default path), as mod_lua
// prepends them to LUA_PATH; startup-script params are kept in order.
func readSettings(snap *conf.Snapshot) settings {
	s := settings{warnAfter: DefaultWarnAfterHangup}
	var dirs []string
	if snap != nil {
		if el := snap.Configuration("lua.conf"); el != nil {
			for _, p := range el.FindElements("settings/param") {
				name, val := p.SelectAttrValue("name", ""), p.SelectAttrValue("value", "")
				switch name {
				case "script-directory":
					if val != "" {
						dirs = append(dirs, val)
					}
				case "time-limit":
					s.timeLimit = seconds(val)
				case "warn-after-hangup":
					s.warnAfter = seconds(val)
				case "startup-script":
					if strings.TrimSpace(val) != "" {
						s.startup = append(s.startup, val)
					}
				}
			}
		}
	}
	def := os.Getenv(lua.LuaPath)
	if def == "" {
		def = lua.LuaPathDefault
	} else {
		def = strings.ReplaceAll(def, ";;", ";"+lua.LuaPathDefault+";")
	}
	s.path = strings.Join(append(dirs, def), ";")
	return s
}

func seconds(v string) time.Duration {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f <= 0 {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}

// Run runs one script in a fresh state.
func (e *Engine) Run(ctx context.Context, inv *scripting.Invocation) error {
	env := inv.Env
	if env == nil {
		env = e.fallback
	}
	r := newRuntime(ctx, e, inv, env)
	defer r.close()
	L := r.L

	var fn *lua.LFunction
	if inv.Script.Inline {
		proto, err := compile([]byte(inv.Script.Code), "line")
		if err != nil {
			return err
		}
		fn = L.NewFunctionFromProto(proto)
	} else {
		argv := L.CreateTable(len(inv.Script.Args), 1)
		argv.RawSetInt(0, lua.LString(inv.Script.File))
		for i, a := range inv.Script.Args {
			argv.RawSetInt(i+1, lua.LString(a))
		}
		L.SetGlobal("argv", argv)
		proto, err := e.load(env, inv.Path)
		if err != nil {
			return err
		}
		fn = L.NewFunctionFromProto(proto)
	}
	L.Push(fn)
	return r.pcall(0, 0)
}

// load returns the compiled chunk of the file at path, from the cache
// when the file's modification time and size are those it was compiled
// from.
func (e *Engine) load(env commands.Env, path string) (*lua.FunctionProto, error) {
	st, err := scripting.StatFile(env, path)
	if err != nil {
		return nil, fmt.Errorf("cannot open %s: %w", path, unwrapPath(err))
	}
	if c, ok := e.chunks.Load(path); ok {
		c := c.(*chunk)
		if c.mod.Equal(st.ModTime()) && c.size == st.Size() {
			return c.proto, nil
		}
	}
	src, err := scripting.ReadFile(env, path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, unwrapPath(err))
	}
	proto, err := compile(src, path)
	if err != nil {
		return nil, err
	}
	e.chunks.Store(path, &chunk{proto: proto, mod: st.ModTime(), size: st.Size()})
	return proto, nil
}

// unwrapPath drops the *fs.PathError wrapper, whose text repeats the
// path.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// SyntaxError is a script that does not compile: where and why.
type SyntaxError struct {
	File   string
	Line   int // 0 at the end of the file
	Near   string
	Reason string
}

// Error formats the error as Lua does: "file:line: reason near 'x'",
// with a hint when the token is one of Lua 5.3's operators.
func (e *SyntaxError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:", e.Line)
	} else {
		b.WriteString(": at the end of the file:")
	}
	b.WriteString(" " + e.Reason)
	if e.Near != "" {
		fmt.Fprintf(&b, " near '%s'", e.Near)
	}
	switch e.Near {
	case "/", "&", "|", "~", "<<", ">>", "<", ">", ":", "::", "goto":
		b.WriteString(" (this is Lua 5.1: Lua 5.3's // and bitwise operators, goto and labels are not supported)")
	}
	return b.String()
}

// compile parses and compiles a chunk named name.
func compile(src []byte, name string) (*lua.FunctionProto, error) {
	if len(src) > 0 && src[0] == '#' {
		// A first line starting with # (a shebang) is skipped, as
		// luaL_loadfile does; the line stays so that line numbers hold.
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			src = append([]byte("--"), src[i:]...)
		} else {
			src = nil
		}
	}
	stmts, err := parse.Parse(bytes.NewReader(src), name)
	if err != nil {
		var pe *parse.Error
		if errors.As(err, &pe) {
			line := pe.Pos.Line
			if line == parse.EOF {
				line = 0
			}
			return nil, &SyntaxError{File: name, Line: line, Near: pe.Token, Reason: strings.TrimSpace(pe.Message)}
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	proto, err := lua.Compile(stmts, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return proto, nil
}

// logger returns the run's logger.
func (r *runtime) logger() *slog.Logger { return r.log }
