package scripting

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-voip/switchboard/commands"
	"github.com/switchboard-voip/switchboard/vars"
)

// startEngine is a language with start-up scripts: its configuration is
// the lines field; "hold" runs until release is closed, "fail" fails,
// anything else returns at once. Every run is recorded.
type startEngine struct {
	mu      sync.Mutex
	lines   []string
	runs    []*Invocation
	release chan struct{}
}

func (e *startEngine) Language() string           { return "startecho" }
func (e *startEngine) Limits(commands.Env) Limits { return Limits{} }
func (e *startEngine) Flush()                     {}

func (e *startEngine) StartupScripts(commands.Env) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.lines...)
}

func (e *startEngine) Run(ctx context.Context, inv *Invocation) error {
	e.mu.Lock()
	e.runs = append(e.runs, inv)
	release := e.release
	e.mu.Unlock()
	switch inv.Script.File {
	case "hold":
		select {
		case <-release:
		case <-ctx.Done():
		}
	case "fail":
		return errors.New("startecho: failed on purpose")
	}
	return nil
}

func (e *startEngine) ran() []*Invocation {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]*Invocation(nil), e.runs...)
}

var theStart = &startEngine{}

func init() {
	Register(theStart, Names{RunAPI: "startechorun"})
}

// Startup runs every start-up script in the background as the background
// command runs one: argv only (no session, no output stream), script_dir
// resolution, errors logged; blank lines are skipped, engines without
// start-up scripts (echo) are left alone.
func TestStartup(t *testing.T) {
	release := make(chan struct{})
	theStart.mu.Lock()
	theStart.lines = []string{"hold first 'second arg'", "  ", "fail", "/abs/ok.x"}
	theStart.release = release
	theStart.mu.Unlock()
	logs := &syncBuffer{}
	env := &loggingEnv{Host: &commands.Host{Runtime: vars.NewStore()}, log: slog.New(slog.NewTextHandler(logs, nil))}
	env.Runtime.Set("script_dir", "/scripts")
	echoRuns := theEcho.count()
	before := Background()

	if n := Startup(env); n != 3 {
		t.Fatalf("Startup started %d scripts, want 3", n)
	}
	waitUntil(t, func() bool { return len(theStart.ran()) == 3 })
	if got := Background() - before; got != 1 {
		t.Errorf("%d scripts still running in the background, want 1 (hold)", got)
	}
	paths := map[string]*Invocation{}
	for _, inv := range theStart.ran() {
		paths[inv.Path] = inv
		if inv.Session != nil || inv.Output != nil || inv.Params != nil {
			t.Errorf("%s got a session, an output or params: %+v", inv.Path, inv)
		}
	}
	hold := paths["/scripts/hold"]
	if hold == nil || strings.Join(hold.Script.Args, "|") != "first|second arg" {
		t.Errorf("runs by path: %v; want /scripts/hold with args first, second arg", paths)
	}
	if paths["/abs/ok.x"] == nil || paths["/scripts/fail"] == nil {
		t.Errorf("runs by path: %v", paths)
	}
	waitUntil(t, func() bool { return strings.Contains(logs.String(), "failed on purpose") })
	if !strings.Contains(logs.String(), "startecho: running start-up script hold first 'second arg'") {
		t.Errorf("log:\n%s", logs)
	}
	if theEcho.count() != echoRuns {
		t.Error("an engine without start-up scripts ran something")
	}
	close(release)
	waitUntil(t, func() bool { return Background() == before })
	theStart.mu.Lock()
	theStart.lines, theStart.runs = nil, nil
	theStart.mu.Unlock()
}

// loggingEnv is a switch with a logger of its own (the background
// scripts log there).
type loggingEnv struct {
	*commands.Host
	log *slog.Logger
}

func (e *loggingEnv) Logger() *slog.Logger { return e.log }

func (e *echoEngine) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.runs)
}
