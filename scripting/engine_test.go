package scripting

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/commands"
	"github.com/switchboard-voip/switchboard/vars"
)

// echoEngine is the test double of a second language: its "scripts" are
// the command line itself. It proves the seam: registered beside Lua
// under its own names, it gets the parsed script, the resolved path, the
// channel's Session, the API stream and the limits, with nothing
// Lua-specific in between.
//
// Script (the file name) says what to do: "ok" sets the channel variable
// echo to the arguments and writes them to the API output; "fail"
// returns an error; "panic" panics; "block" waits for its context;
// "nest" runs the dialplan application again on the channel; "answer"
// answers through the Session; "stay" waits until release is closed.
type echoEngine struct {
	mu      sync.Mutex
	runs    []*Invocation
	flushed atomic.Int32
	limits  Limits
	release chan struct{}
}

func (e *echoEngine) Language() string           { return "echo" }
func (e *echoEngine) Limits(commands.Env) Limits { return e.limits }
func (e *echoEngine) Flush()                     { e.flushed.Add(1) }

func (e *echoEngine) Run(ctx context.Context, inv *Invocation) error {
	e.mu.Lock()
	e.runs = append(e.runs, inv)
	e.mu.Unlock()
	args := strings.Join(inv.Script.Args, ",")
	switch inv.Script.File {
	case "ok":
		if inv.Session != nil {
			inv.Session.SetVariable("echo", args)
		}
		if inv.Output != nil {
			io.WriteString(inv.Output, "echo "+args)
		}
		return nil
	case "fail":
		if inv.Output != nil {
			io.WriteString(inv.Output, "partial\n")
		}
		return errors.New("echo: failed on purpose")
	case "panic":
		panic("echo: panicking on purpose")
	case "block":
		<-ctx.Done()
		return ctx.Err()
	case "nest":
		a, _ := apps.Lookup("echoscript")
		return a.Run(ctx, inv.Session.Channel(), "nest")
	case "answer":
		inv.Session.SetVariable("answer", fmt.Sprint(inv.Session.Answer()))
		return nil
	case "stay":
		<-e.release
		return nil
	}
	if inv.Script.Inline {
		if inv.Output != nil {
			io.WriteString(inv.Output, "inline "+inv.Script.Code)
		}
		return nil
	}
	return fmt.Errorf("echo: no script %s", inv.Path)
}

func (e *echoEngine) last() *Invocation {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.runs[len(e.runs)-1]
}

// theEcho is registered once for the package's tests.
var theEcho = &echoEngine{release: make(chan struct{})}

func init() {
	Register(theEcho, Names{App: "echoscript", API: "echoapi", RunAPI: "echorun"})
}

// Registration: the language is found in any case, the application and
// commands exist with the flags a script application needs, duplicates
// and empty names panic.
func TestRegister(t *testing.T) {
	if e, ok := Lookup("ECHO"); !ok || e != Engine(theEcho) {
		t.Errorf("Lookup(ECHO) = %v, %v", e, ok)
	}
	if _, ok := Lookup("nope"); ok {
		t.Error("Lookup(nope) found something")
	}
	found := false
	for _, l := range Languages() {
		found = found || l == "echo"
	}
	if !found {
		t.Errorf("Languages() = %v", Languages())
	}
	a, ok := apps.Lookup("echoscript")
	if !ok || a.Flags != apps.SupportNoMedia|apps.RoutingExec|apps.ZombieExec|apps.SupportTextOnly || a.Usage != "<script>" {
		t.Errorf("app: %+v %v", a, ok)
	}
	for _, name := range []string{"echoapi", "echorun"} {
		if c, ok := commands.Lookup(name); !ok || c.Module != "mod_echo" {
			t.Errorf("command %s: %+v %v", name, c, ok)
		}
	}
	for _, bad := range []Engine{&echoEngine{}, &named{name: "  "}, &named{name: ""}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%q) did not panic", bad.Language())
				}
			}()
			Register(bad, Names{})
		}()
	}
	before := theEcho.flushed.Load()
	Flush()
	if theEcho.flushed.Load() != before+1 {
		t.Error("Flush did not reach the engine")
	}
}

type named struct {
	echoEngine
	name string
}

func (n *named) Language() string { return n.name }

// The dialplan application runs the script with the channel's Session,
// the path under script_dir, and goes on after errors and panics, which
// are logged; the channel is not hung up.
func TestApp(t *testing.T) {
	a, _ := apps.Lookup("echoscript")
	tests := []struct {
		data, log string
		check     func(t *testing.T, f *fakeSession, inv *Invocation)
	}{
		{"ok one 'two three'", "", func(t *testing.T, f *fakeSession, inv *Invocation) {
			if v, _ := f.vars.Get("echo"); v != "one,two three" {
				t.Errorf("echo = %q", v)
			}
			if inv.Path != "/scripts/ok" || inv.Session == nil || inv.Session.UUID() != f.uuid || inv.Output != nil {
				t.Errorf("invocation %+v", inv)
			}
		}},
		{"fail", "echo: failed on purpose", nil},
		{"panic", "panicking on purpose", nil},
		{"nosuch.x", "no script /scripts/nosuch.x", nil},
		{"  ", "no args specified!", nil},
		{"answer", "", func(t *testing.T, f *fakeSession, inv *Invocation) {
			if v, _ := f.vars.Get("answer"); v != "1" || !f.Answered() {
				t.Errorf("answer = %q", v)
			}
		}},
		{"nest", "nested more than 16 deep", nil},
	}
	for _, tt := range tests {
		t.Run(tt.data, func(t *testing.T) {
			f := newFakeSession()
			f.globals.Set("script_dir", "/scripts")
			if err := a.Run(context.Background(), f, tt.data); err != nil {
				t.Fatal(err)
			}
			if !f.Ready() {
				t.Error("the channel was hung up")
			}
			if tt.log != "" && !strings.Contains(f.logs.String(), tt.log) {
				t.Errorf("log lacks %q:\n%s", tt.log, f.logs)
			}
			if tt.check != nil {
				tt.check(t, f, theEcho.last())
			}
		})
	}
	if err := a.Run(context.Background(), channelOnly{vars.NewStore()}, "ok"); !errors.Is(err, apps.ErrNoSession) {
		t.Errorf("without a session: %v", err)
	}
}

// A Channel that is only a variable store is not a session.
var _ apps.Channel = channelOnly{}

type channelOnly struct{ v *vars.Store }

func (c channelOnly) Vars() *vars.Store        { return c.v }
func (c channelOnly) Expand(s string) string   { return s }
func (c channelOnly) SetGlobal(string, string) {}
func (c channelOnly) Log(slog.Level, string)   {}

// The API command answers the script's output, with "-ERR Cannot execute
// script" after a failure; the background command answers +OK at once.
func TestAPICommands(t *testing.T) {
	env := &commands.Host{Runtime: vars.NewStore()}
	env.Runtime.Set("script_dir", "/s")
	ctx := context.Background()
	for _, tt := range []struct{ cmd, args, want string }{
		{"echoapi", "ok a b", "echo a,b"},
		{"echoapi", "fail", "partial\n-ERR Cannot execute script\n"},
		{"echoapi", "panic", "-ERR Cannot execute script\n"},
		{"echoapi", "~code here", "inline code here"},
		{"echoapi", "", ""},
		{"echorun", "", "-ERR no args specified!\n"},
	} {
		if got := commands.Execute(ctx, env, tt.cmd, tt.args); got != tt.want {
			t.Errorf("%s %s = %q, want %q", tt.cmd, tt.args, got, tt.want)
		}
	}
	inv := theEcho.last()
	if inv.Params == nil || inv.Params.Get("API-Command-Argument") != "~code here" || inv.Session != nil {
		t.Errorf("the API invocation: %+v", inv)
	}
	if got := commands.Execute(ctx, env, "echorun", "stay"); got != "+OK\n" {
		t.Errorf("echorun = %q", got)
	}
	waitUntil(t, func() bool { return Background() == 1 })
	theEcho.release <- struct{}{}
	waitUntil(t, func() bool { return Background() == 0 })
}

// The time limit ends a run through its context; a script still running
// after its call hung up is reported.
func TestLimits(t *testing.T) {
	theEcho.limits = Limits{TimeLimit: 20 * time.Millisecond, WarnAfterHangup: 5 * time.Millisecond}
	defer func() { theEcho.limits = Limits{} }()
	a, _ := apps.Lookup("echoscript")
	f := newFakeSession()
	go func() {
		time.Sleep(time.Millisecond)
		f.Hangup(0)
	}()
	if err := a.Run(context.Background(), f, "block"); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"stopped after its time limit of 20ms", "still running"} {
		if !strings.Contains(f.logs.String(), w) {
			t.Errorf("log lacks %q:\n%s", w, f.logs)
		}
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}
