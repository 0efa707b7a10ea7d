package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/vars"
)

// Env is what a command sees of the running switch. The caller supplies
// it: the switch's session manager, the event socket, or `switchboard api`
// (which uses a Host).
//
// An Env may also implement Clock; commands that read the time
// (strftime, strepoch) use it when it does, and time.Now otherwise.
type Env interface {
	// Globals returns the runtime global variables: those set since
	// start-up by global_setvar and set_global. They are looked up before
	// the configuration's own. Never nil.
	Globals() *vars.Store
	// Snapshot returns the configuration in force, or nil when there is
	// none. Its global variables ($${...}, X-PRE-PROCESS set) are the
	// fallback for the runtime ones.
	Snapshot() *conf.Snapshot
}

// Clock is an optional interface of an Env that supplies the current time
// (in the location the time commands should use, normally time.Local).
type Clock interface {
	Now() time.Time
}

// Host is a ready-made Env over a store of runtime globals and a
// configuration source.
type Host struct {
	// Runtime holds the runtime global variables; it must not be nil.
	Runtime *vars.Store
	// Config returns the configuration in force; nil means none.
	Config func() *conf.Snapshot
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
}

// Globals returns h.Runtime.
func (h *Host) Globals() *vars.Store { return h.Runtime }

// Snapshot returns h.Config(), or nil when Config is nil.
func (h *Host) Snapshot() *conf.Snapshot {
	if h.Config == nil {
		return nil
	}
	return h.Config()
}

// Now returns h.Clock(), or time.Now() when Clock is nil.
func (h *Host) Now() time.Time {
	if h.Clock == nil {
		return time.Now()
	}
	return h.Clock()
}

// now is the time the time commands use.
func now(env Env) time.Time {
	if c, ok := env.(Clock); ok {
		return c.Now()
	}
	return time.Now()
}

// GlobalLookup returns the lookup of global variables in env: the runtime
// ones, then the configuration's. It is the scope of `eval` and `expand`.
func GlobalLookup(env Env) vars.Lookup {
	chain := vars.Chain{env.Globals()}
	if snap := env.Snapshot(); snap != nil {
		chain = append(chain, snap)
	}
	return chain
}

// GlobalVar returns the global variable name (case-insensitive): the
// runtime value if there is one, else the configuration's.
func GlobalVar(env Env, name string) (string, bool) {
	return GlobalLookup(env).Get(name)
}

// NotFoundError reports an API command that is not registered.
type NotFoundError struct {
	Name string
}

// Error returns "<name>: command not found".
func (e *NotFoundError) Error() string { return e.Name + ": command not found" }

// ErrTooDeep is returned for an API command run by nested commands (eval,
// expand, ${cmd(args)} inside them) beyond MaxDepth levels, or beyond
// MaxCalls commands in all under one outer command: a value that expands
// into a call of itself, say. The outer command still answers.
var ErrTooDeep = errors.New("API commands nested too deeply")

// Limits on commands that run commands.
const (
	// MaxDepth is how deeply API commands may run one another.
	MaxDepth = 64
	// MaxCalls is how many commands one outer command may run in all,
	// itself included.
	MaxCalls = 10000
)

// frame is what a running command passes to the commands it runs.
type frame struct {
	depth int           // 1 for the outer command
	calls *atomic.Int64 // commands run so far under the outer one
}

type frameKey struct{}

// Call runs the command cmd with args and returns its output. Like
// FreeSWITCH's switch_api_execute it first removes leading and trailing
// white space (space, tab, CR, LF, VT) from both. An unregistered command
// gives a *NotFoundError; a command that fails gives its error, wrapped,
// with whatever output it produced.
func Call(ctx context.Context, env Env, cmd, args string) (string, error) {
	cmd, args = stripSpace(cmd), stripSpace(args)
	c, ok := Lookup(cmd)
	if !ok {
		return "", &NotFoundError{Name: cmd}
	}
	f, nested := ctx.Value(frameKey{}).(frame)
	if !nested {
		f.calls = new(atomic.Int64)
	}
	f.depth++
	if f.depth > MaxDepth || f.calls.Add(1) > MaxCalls {
		return "", fmt.Errorf("%s: %w", c.Name, ErrTooDeep)
	}
	out, err := c.Run(context.WithValue(ctx, frameKey{}, f), env, args)
	if err != nil {
		return out, fmt.Errorf("%s: %w", c.Name, err)
	}
	return out, nil
}

// Execute runs cmd with args and returns the reply the event socket's
// `api` and fs_cli show: the command's output; "-ERR <cmd> Command not
// found!\n" (FreeSWITCH's text) for an unregistered command; and
// "-ERR <error>\n" for a command that failed, where FreeSWITCH would also
// say "Command not found!".
//
// An empty output is returned as it is; the event socket replies
// "-ERR no reply\n" for it.
func Execute(ctx context.Context, env Env, cmd, args string) string {
	out, err := Call(ctx, env, cmd, args)
	var nf *NotFoundError
	switch {
	case errors.As(err, &nf):
		return "-ERR " + nf.Name + " Command not found!\n"
	case err != nil:
		return "-ERR " + err.Error() + "\n"
	}
	return out
}

// ExecuteStream runs cmd with args and returns what FreeSWITCH's output
// stream holds after switch_api_execute, for the callers that show it
// as it is (the expand command, Lua's api:execute): the output, then
// "COMMAND RETURNED ERROR!\n" when the command failed, or just
// "INVALID COMMAND!\n" for an unregistered command. ok is false in those
// two cases.
func ExecuteStream(ctx context.Context, env Env, cmd, args string) (out string, ok bool) {
	out, err := Call(ctx, env, cmd, args)
	var nf *NotFoundError
	switch {
	case errors.As(err, &nf):
		return "INVALID COMMAND!\n", false
	case err != nil:
		return out + "COMMAND RETURNED ERROR!\n", false
	}
	return out, true
}

// AsAPI returns env's commands as the vars.API that ${cmd(args)} and
// ${cmd args} expansion calls. An unregistered or failing command is an
// error, which the expansion turns into ""; any other output, "-ERR ..."
// texts included, is inserted as it is, as in FreeSWITCH. ctx is passed to
// every command the expansion runs.
func AsAPI(ctx context.Context, env Env) vars.API { return api{ctx: ctx, env: env} }

type api struct {
	ctx context.Context
	env Env
}

func (a api) Execute(cmd, args string) (string, error) { return Call(a.ctx, a.env, cmd, args) }

// expandGlobal expands s in the global scope (runtime globals, then the
// configuration's), running API commands with ctx: the scope FreeSWITCH's
// eval and expand use when no channel is named.
func expandGlobal(ctx context.Context, env Env, s string) string {
	return vars.Expand(s, GlobalLookup(env), AsAPI(ctx, env))
}

// stripSpace removes the white space switch_strip_whitespace removes
// from both ends of s.
func stripSpace(s string) string {
	return strings.Trim(s, " \t\r\n\v")
}
