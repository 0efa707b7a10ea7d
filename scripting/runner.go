package scripting

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/commands"
	"github.com/switchboard-voip/switchboard/events"
	"github.com/switchboard-voip/switchboard/vars"
)

// MaxDepth is how deeply scripts may start scripts on one channel (a
// script running the lua application through session:execute, which runs
// another...). FreeSWITCH has no such bound and eventually crashes.
const MaxDepth = 16

// runner runs one engine's scripts: the dialplan application, the API
// commands and the goroutine, limits and watchdog of each run.
type runner struct {
	engine     Engine
	background atomic.Int64 // RunAPI scripts still running

	mu    sync.Mutex
	depth map[string]int // channel UUID → scripts running on it
}

func newRunner(e Engine) *runner { return &runner{engine: e, depth: make(map[string]int)} }

// registerApp registers the dialplan application called name that runs
// en's scripts on the channel. Its flags and usage are those the
// application catalogue records for the name (FreeSWITCH's lua: N, R, Z,
// X and "<script>"): it runs inline, after hangup, and without media.
func registerApp(name string, en *entry) {
	a := apps.App{Name: name, Usage: "<script>", Description: "Run a " + en.engine.Language() + " script on the channel",
		Flags: apps.SupportNoMedia | apps.RoutingExec | apps.ZombieExec | apps.SupportTextOnly, Run: en.runner.app}
	if info, ok := apps.KnownApp(name); ok {
		a.Name, a.Usage, a.Flags = info.Name, info.Usage, info.Flags
	}
	apps.Register(a)
}

// RegisterApp registers the dialplan application name for the engine
// registered under language; Register does it for Names.App. It panics
// when the language is not registered.
func RegisterApp(name, language string) { registerApp(name, mustEntry(language)) }

// RegisterCommands registers the API commands api (run a script, answer
// its output) and runAPI (start one in the background, answer +OK) for
// the engine registered under language; an empty name is skipped. It
// panics when the language is not registered.
func RegisterCommands(api, runAPI, language string) {
	registerCommands(api, runAPI, mustEntry(language))
}

func mustEntry(language string) *entry {
	std.mu.RLock()
	defer std.mu.RUnlock()
	en, ok := std.m[strings.ToLower(language)]
	if !ok {
		panic(fmt.Sprintf("scripting: language %q is not registered", language))
	}
	return en
}

func registerCommands(api, runAPI string, en *entry) {
	module := "mod_" + strings.ToLower(en.engine.Language())
	if api != "" {
		commands.Register(commands.Command{Name: api, Usage: "<script>", Description: "run a script as an api function", Module: module, Run: en.runner.api})
	}
	if runAPI != "" {
		commands.Register(commands.Command{Name: runAPI, Usage: "<script>", Description: "run a script", Module: module, Run: en.runner.runAPI})
	}
}

// EnvOf returns the switch behind a channel: the commands.Env its ${api}
// expansion runs commands with, or nil when the channel has none.
func EnvOf(ch apps.Channel) commands.Env {
	if a, ok := ch.(interface{ API() vars.API }); ok {
		if env, ok := commands.EnvOf(a.API()); ok {
			return env
		}
	}
	if e, ok := ch.(interface{ Env() commands.Env }); ok {
		return e.Env()
	}
	return nil
}

// app is the dialplan application: it runs the script with `session`
// bound to the channel and returns when the script ends. A script error
// is logged and the dialplan goes on; the channel is not hung up.
func (r *runner) app(_ context.Context, ch apps.Channel, data string) error {
	s, ok := ch.(apps.Session)
	if !ok {
		return fmt.Errorf("%s: %w", r.engine.Language(), apps.ErrNoSession)
	}
	log := channelLogger(s)
	if strings.TrimSpace(data) == "" {
		log.Error("no args specified!")
		return nil
	}
	uuid := s.UUID()
	if !r.enter(uuid) {
		log.Error(fmt.Sprintf("%s: scripts nested more than %d deep on this channel; not running %s", r.engine.Language(), MaxDepth, data))
		return nil
	}
	defer r.leave(uuid)
	env := EnvOf(s)
	obj := NewSession(s, env, log)
	defer obj.Destroy()
	inv := &Invocation{Session: obj, Env: env, Logger: log}
	if err := r.prepare(inv, data, s); err != nil {
		log.Error(err.Error())
		return nil
	}
	if err := r.run(s.Context(), inv); err != nil {
		log.Error(err.Error())
	}
	return nil
}

// api is the API command: the script's output is what it writes to its
// stream, followed by "-ERR Cannot execute script\n" when it failed.
func (r *runner) api(_ context.Context, env commands.Env, args string) (string, error) {
	if args == "" {
		return "", nil
	}
	var out bytes.Buffer
	params := events.New("API")
	params.Add("API-Command", "lua")
	params.Add("API-Command-Argument", args)
	inv := &Invocation{Env: env, Output: &lockedWriter{w: &out}, Params: params, Logger: envLogger(env)}
	err := r.prepare(inv, args, nil)
	if err == nil {
		err = r.run(nil, inv)
	}
	if err != nil {
		inv.Logger.Error(err.Error())
		inv.Output.(*lockedWriter).WriteString("-ERR Cannot execute script\n")
	}
	return inv.Output.(*lockedWriter).String(), nil
}

// runAPI is the background API command: it answers +OK at once and runs
// the script on its own goroutine, with argv only.
func (r *runner) runAPI(_ context.Context, env commands.Env, args string) (string, error) {
	if args == "" {
		return "-ERR no args specified!\n", nil
	}
	if err := r.startBackground(env, args); err != nil {
		envLogger(env).Error(err.Error())
	}
	return "+OK\n", nil
}

// prepare parses the command line and resolves the script's file.
func (r *runner) prepare(inv *Invocation, line string, ch apps.Channel) error {
	sc, err := ParseScript(line)
	if err != nil {
		return err
	}
	inv.Script = sc
	if !sc.Inline {
		inv.Path = ResolvePath(sc.File, scriptDir(inv.Env, ch))
	}
	return nil
}

// scriptDir is the script_dir global as env or the channel sees it.
func scriptDir(env commands.Env, ch apps.Channel) string {
	if env != nil {
		if v, ok := commands.GlobalVar(env, "script_dir"); ok {
			return v
		}
	}
	if g, ok := ch.(interface{ Get(string) (string, bool) }); ok {
		if v, ok := g.Get("script_dir"); ok {
			return v
		}
	}
	return ""
}

// run runs inv on a goroutine of its own under the engine's limits and
// waits for it. call is the context of the channel the script runs on
// (nil for none): once it is done the watchdog starts counting.
func (r *runner) run(call context.Context, inv *Invocation) error {
	lim := r.engine.Limits(inv.Env)
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if lim.TimeLimit > 0 {
		ctx, cancel = context.WithTimeout(ctx, lim.TimeLimit)
	}
	defer cancel()
	if inv.Session != nil {
		inv.Session.SetContext(ctx)
	}
	if inv.Logger == nil {
		inv.Logger = slog.Default()
	}
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("%s: script %s panicked: %v\n%s", r.engine.Language(), scriptName(inv), p, debug.Stack())
			}
		}()
		done <- r.engine.Run(ctx, inv)
	}()
	var hungup <-chan struct{}
	if call != nil && lim.WarnAfterHangup > 0 {
		hungup = call.Done()
	}
	var warn <-chan time.Time
	var since time.Time
	for {
		select {
		case err := <-done:
			if errors.Is(ctx.Err(), context.DeadlineExceeded) && err != nil {
				return fmt.Errorf("%s: script %s stopped after its time limit of %v: %w", r.engine.Language(), scriptName(inv), lim.TimeLimit, err)
			}
			return err
		case <-hungup:
			hungup = nil
			since = time.Now()
			t := time.NewTicker(lim.WarnAfterHangup)
			defer t.Stop()
			warn = t.C
		case <-warn:
			inv.Logger.Warn(fmt.Sprintf("%s: script %s is still running %v after its call hung up", r.engine.Language(), scriptName(inv), time.Since(since).Round(time.Second)))
		}
	}
}

func scriptName(inv *Invocation) string {
	if inv.Script.Inline {
		return "(inline code)"
	}
	if inv.Path != "" {
		return inv.Path
	}
	return inv.Script.File
}

// enter counts one more script on the channel; false when too deep.
func (r *runner) enter(uuid string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.depth[uuid] >= MaxDepth {
		return false
	}
	r.depth[uuid]++
	return true
}

func (r *runner) leave(uuid string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.depth[uuid]--; r.depth[uuid] <= 0 {
		delete(r.depth, uuid)
	}
}

// envLogger is the switch's logger when env has one (a Logger method).
func envLogger(env commands.Env) *slog.Logger {
	if l, ok := env.(interface{ Logger() *slog.Logger }); ok && l.Logger() != nil {
		return l.Logger()
	}
	return slog.Default()
}

// channelLogger is the channel's logger when it has one.
func channelLogger(ch apps.Channel) *slog.Logger {
	if l, ok := ch.(interface{ Logger() *slog.Logger }); ok && l.Logger() != nil {
		return l.Logger()
	}
	return slog.Default()
}

// lockedWriter is an API command's output: the script writes it from its
// goroutine, the command reads it when the script has ended.
type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) WriteString(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.w.WriteString(s)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}

// ReadFile reads a script file: through the configuration's file layer
// when env has one (so scripts under an embedded script_dir are found),
// else from the disk.
func ReadFile(env commands.Env, name string) ([]byte, error) {
	if env != nil {
		if snap := env.Snapshot(); snap != nil {
			return snap.ReadFile(name)
		}
	}
	return os.ReadFile(name)
}

// StatFile describes a script file, resolved as ReadFile resolves it.
func StatFile(env commands.Env, name string) (fs.FileInfo, error) {
	if env != nil {
		if snap := env.Snapshot(); snap != nil {
			return snap.Stat(name)
		}
	}
	return os.Stat(name)
}
