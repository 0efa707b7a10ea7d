package apps

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/switchboard-voip/switchboard/vars"
)

// logLine is one line a fakeChannel logged.
type logLine struct {
	level slog.Level
	msg   string
}

// fakeChannel is a Channel over two variable stores: the channel's and the
// globals, with the real vars.Expand and a one-command API.
type fakeChannel struct {
	vars    *vars.Store
	globals *vars.Store
	logs    []logLine
}

// newFake returns a channel whose variables are set from name, value
// pairs.
func newFake(kv ...string) *fakeChannel {
	f := &fakeChannel{vars: vars.NewStore(), globals: vars.NewStore()}
	for i := 0; i+1 < len(kv); i += 2 {
		f.vars.Set(kv[i], kv[i+1])
	}
	return f
}

func (f *fakeChannel) Vars() *vars.Store { return f.vars }

func (f *fakeChannel) Expand(s string) string {
	return vars.Expand(s, vars.Chain{f.vars, f.globals}, fakeAPI{})
}

func (f *fakeChannel) SetGlobal(name, value string) { f.globals.Set(name, value) }

func (f *fakeChannel) Log(level slog.Level, msg string) {
	f.logs = append(f.logs, logLine{level, msg})
}

// fakeAPI knows one command, upper, for ${upper(x)}.
type fakeAPI struct{}

func (fakeAPI) Execute(cmd, args string) (string, error) {
	if cmd == "upper" {
		return strings.ToUpper(args), nil
	}
	return "", errors.New("no such command")
}

// run executes the registered application name on ch.
func run(t *testing.T, ch Channel, name, data string) error {
	t.Helper()
	a, ok := Lookup(name)
	if !ok {
		t.Fatalf("application %q is not registered", name)
	}
	return a.Run(context.Background(), ch, data)
}
