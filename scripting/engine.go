// Package scripting is the seam between the switch and its script
// languages: an Engine interface that a language implements, a registry of
// engines keyed by language, and everything that is the same whatever the
// language — the dialplan application and the two API commands each
// engine is reached through (FreeSWITCH's `lua` app, `lua` and `luarun`),
// the parsing of a script's command line (`file args`, `~inline code`),
// the resolution of a script's name under script_dir, one goroutine per
// run with an optional time limit and a watchdog for scripts that outlive
// their call, and Session: FreeSWITCH's CoreSession (the object behind a
// script's `session`), its methods written once in Go for every binding.
//
// A language registers from init() with Register; package scripting/lua
// is the Lua one. docs/scripting.md explains how to add another.
package scripting

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-voip/switchboard/commands"
	"github.com/switchboard-voip/switchboard/events"
)

// Engine runs the scripts of one language. An implementation is safe for
// concurrent use: several calls run scripts at once, each Run on its own
// goroutine with its own interpreter state.
type Engine interface {
	// Language is the name the engine registers under, e.g. "lua".
	Language() string
	// Run runs one script to its end on the calling goroutine and returns
	// its load or run error; the caller logs it. Run must return when ctx
	// is done (the time limit) and must not keep inv after returning. A
	// panic in Run is recovered by the caller and reported as an error.
	Run(ctx context.Context, inv *Invocation) error
	// Limits returns the engine's run limits under the configuration env
	// holds (env may be nil: use the defaults).
	Limits(env commands.Env) Limits
	// Flush forgets every compiled script the engine has cached, so that
	// the next run reads its file again (reloadxml).
	Flush()
}

// Limits bound a script run.
type Limits struct {
	// TimeLimit ends a run that lasts longer (the engine aborts the
	// script with an error); 0 means no limit, FreeSWITCH's behaviour.
	TimeLimit time.Duration
	// WarnAfterHangup logs a warning when a script is still running this
	// long after its call hung up, and again each time as long after
	// that; 0 means never.
	WarnAfterHangup time.Duration
}

// Invocation is one run of a script.
type Invocation struct {
	// Script is the parsed command line.
	Script Script
	// Path is the script file Script.File resolves to (empty for inline
	// code); see ResolvePath.
	Path string
	// Session is the script's `session`: the channel that runs the
	// dialplan application, or nil for the API commands.
	Session *Session
	// Env is the switch the script runs in: API commands, the event bus,
	// the data stores, the configuration. It may be nil (unit tests).
	Env commands.Env
	// Output is the API command's output stream (the `stream` global); nil
	// for the dialplan application and for background runs.
	Output io.Writer
	// Params is the API request (the `env` global); nil when there is
	// none.
	Params *events.Event
	// Logger receives the script's logs: its console logs and its errors.
	Logger *slog.Logger
}

// Names say how an engine is reached: the dialplan application, the API
// command that runs a script and returns its output, and the API command
// that starts one in the background. An empty name registers nothing.
type Names struct {
	App    string // e.g. "lua"
	API    string // e.g. "lua"
	RunAPI string // e.g. "luarun"
}

// entry is a registered engine and its bookkeeping.
type entry struct {
	engine Engine
	names  Names
	runner *runner
}

// registry holds the engines by lower-case language.
type registry struct {
	mu sync.RWMutex
	m  map[string]*entry
}

// std is the process-wide registry that init() functions fill.
var std = &registry{m: make(map[string]*entry)}

// Register adds an engine under its language and registers the dialplan
// application and API commands names gives (see RegisterApp and
// RegisterCommands). It is meant to be called from init(); it panics on
// an empty or duplicate language, as the other registries do.
func Register(e Engine, names Names) {
	en := std.add(e, names)
	if names.App != "" {
		registerApp(names.App, en)
	}
	registerCommands(names.API, names.RunAPI, en)
}

func (r *registry) add(e Engine, names Names) *entry {
	lang := e.Language()
	if lang == "" || strings.ContainsAny(lang, " \t\r\n") {
		panic(fmt.Sprintf("scripting: Register with a bad language name %q", lang))
	}
	k := strings.ToLower(lang)
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.m[k]; dup {
		panic(fmt.Sprintf("scripting: language %q registered twice", lang))
	}
	en := &entry{engine: e, names: names, runner: newRunner(e)}
	r.m[k] = en
	return en
}

// Lookup returns the engine registered for language (ignoring case).
func Lookup(language string) (Engine, bool) {
	std.mu.RLock()
	defer std.mu.RUnlock()
	en, ok := std.m[strings.ToLower(language)]
	if !ok {
		return nil, false
	}
	return en.engine, true
}

// Languages returns the registered languages, sorted.
func Languages() []string {
	std.mu.RLock()
	defer std.mu.RUnlock()
	out := make([]string, 0, len(std.m))
	for _, en := range std.m {
		out = append(out, en.engine.Language())
	}
	sort.Strings(out)
	return out
}

// Flush makes every registered engine forget its compiled scripts. The
// switch calls it after a successful reloadxml, so that edited scripts
// are read again even when their modification time did not change.
func Flush() {
	std.mu.RLock()
	defer std.mu.RUnlock()
	for _, en := range std.m {
		en.engine.Flush()
	}
}

// Background returns how many scripts started by a RunAPI command
// (luarun) are still running, in every language.
func Background() int {
	std.mu.RLock()
	defer std.mu.RUnlock()
	n := 0
	for _, en := range std.m {
		n += int(en.runner.background.Load())
	}
	return n
}
