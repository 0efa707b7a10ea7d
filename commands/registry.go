// Package commands holds Switchboard's API commands — what fs_cli, the
// event socket's `api`/`bgapi`, Lua's freeswitch.API and ${cmd(args)}
// expansion run — in a registry that commands join from init(), the way
// the apps package holds dialplan applications. One family of commands per
// file: show.go (show, help), vars.go (eval, expand, global_getvar,
// global_setvar), time.go (strftime, strepoch), text.go (echo, md5, regex,
// cond), system.go (create_uuid, hostname, module_exists, version),
// status.go (status, uptime), channels.go (show channels, show calls),
// calls.go (the uuid_* commands, hupall), fsctl.go (fsctl, console),
// sched.go (sched_api, sched_del, sched_hangup, sched_transfer, show
// tasks), hash.go and db.go (the data stores).
//
// Commands that act on the running switch find its capabilities as
// optional interfaces of their Env (core.go: Core, LogLevels, Stores,
// Scheduling; events.go: EventSource).
//
// A command's output keeps FreeSWITCH's shape byte for byte (the "+OK",
// "-ERR ..." and "-USAGE: ..." texts, tables ending in "N total."), since
// scripts and tools parse it.
package commands

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Func runs an API command; Command.Run has this type.
//
// The contract every command follows:
//
//   - args arrive with leading and trailing white space removed and
//     otherwise as the caller gave them: they are not ${}-expanded (from the
//     event socket they never are; within ${cmd(args)} the expansion has
//     already happened). A command that expands (eval, expand) does so
//     itself.
//   - The returned string is the command's whole output, exactly what
//     fs_cli prints. Outcomes a user should see — bad arguments, "no such
//     thing" — are output too, in FreeSWITCH's words ("-USAGE: ...\n",
//     "-ERR ...\n"), with a nil error, as FreeSWITCH's commands report
//     them.
//   - A non-nil error means the command itself failed (FreeSWITCH's
//     SWITCH_STATUS_FALSE): Execute turns it into "-ERR <error>\n" and a
//     ${cmd(args)} expansion into "". Errors are for failures, not for
//     answers.
//   - ctx is cancelled when the caller gives up (the event-socket
//     connection closes, the switch shuts down); a command that waits must
//     return promptly then.
//   - A command may run on any goroutine, several at once.
type Func func(ctx context.Context, env Env, args string) (string, error)

// Command is a registered API command.
type Command struct {
	// Name is what users type. Lookup ignores case, as FreeSWITCH's API
	// table does.
	Name string
	// Usage is the argument syntax shown by `show api` and `help`,
	// FreeSWITCH's registered syntax string for the same command.
	Usage string
	// Description is a one-line summary. A command without one is left out
	// of `show api` (but not of `help`), as in FreeSWITCH.
	Description string
	// Module is the FreeSWITCH module that provides the command, shown as
	// the ikey column of `show api` (e.g. "mod_dptools"); empty means
	// "mod_commands".
	Module string
	// Run is the implementation.
	Run Func
}

// DefaultModule is the module of a Command registered without one.
const DefaultModule = "mod_commands"

// registry is a set of commands keyed by lower-case name.
type registry struct {
	mu sync.RWMutex
	m  map[string]*Command
}

func newRegistry() *registry { return &registry{m: make(map[string]*Command)} }

// std is the process-wide registry that init() functions fill.
var std = newRegistry()

// Register adds a command to the registry. It is meant to be called from
// init(). It panics when the name is empty or contains white space, when
// Run is nil, or when a command of the same name (ignoring case) is
// already registered: all of these are programming errors that must stop
// the program at start-up.
func Register(c Command) { std.register(c) }

// Lookup returns the registered command called name, ignoring case. The
// returned Command must not be modified.
func Lookup(name string) (*Command, bool) { return std.lookup(name) }

// List returns every registered command sorted by name (byte order, as
// `show api` sorts). The Commands must not be modified.
func List() []*Command { return std.list() }

func (r *registry) register(c Command) {
	switch {
	case c.Name == "":
		panic("commands: Register with an empty command name")
	case strings.ContainsAny(c.Name, " \t\r\n\v"):
		panic(fmt.Sprintf("commands: Register(%q): command names cannot contain white space", c.Name))
	case c.Run == nil:
		panic(fmt.Sprintf("commands: Register(%q) with a nil Run function", c.Name))
	}
	if c.Module == "" {
		c.Module = DefaultModule
	}
	k := strings.ToLower(c.Name)
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, dup := r.m[k]; dup {
		panic(fmt.Sprintf("commands: command %q registered twice (already registered as %q)", c.Name, old.Name))
	}
	r.m[k] = &c
}

func (r *registry) lookup(name string) (*Command, bool) {
	r.mu.RLock()
	c, ok := r.m[strings.ToLower(name)]
	r.mu.RUnlock()
	return c, ok
}

func (r *registry) list() []*Command {
	r.mu.RLock()
	out := make([]*Command, 0, len(r.m))
	for _, c := range r.m {
		out = append(out, c)
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
