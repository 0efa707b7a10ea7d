package commands

import (
	"log/slog"
	"time"

	"github.com/switchboard-voip/switchboard/session"
)

// The capabilities of a running switch that commands look for in their
// Env with a type assertion. The running switch implements them all;
// `switchboard api` (a Host) implements none, so the commands that need
// one answer "-ERR <command> needs a running switch" there.

// Core is the optional interface of an Env that runs calls: status, show
// channels and calls, the uuid_* commands, hupall, fsctl and the
// scheduled hangups and transfers use it.
type Core interface {
	// Sessions returns the call core.
	Sessions() *session.Manager
	// Started returns when the switch started (status's UP line).
	Started() time.Time
	// IdleCPU returns the machine's idle CPU in percent, measured since
	// the previous call (status's "min idle cpu" line).
	IdleCPU() float64
	// Shutdown asks the switch to stop as mode says; see ShutdownMode.
	// It returns at once: the switch stops on its own goroutine.
	Shutdown(mode ShutdownMode) error
	// ShutdownPending reports whether an elegant or asap shutdown is
	// waiting for the calls to end (fsctl shutdown_check).
	ShutdownPending() bool
}

// ShutdownMode is how fsctl shutdown stops the switch.
type ShutdownMode string

// Shutdown modes, as fsctl shutdown names them.
const (
	// ShutdownNormal hangs up the calls in progress and stops, as SIGTERM
	// does (fsctl shutdown).
	ShutdownNormal ShutdownMode = ""
	// ShutdownElegant waits until no call is left, still taking new ones,
	// then stops.
	ShutdownElegant ShutdownMode = "elegant"
	// ShutdownASAP refuses new calls and stops once the calls in progress
	// have ended.
	ShutdownASAP ShutdownMode = "asap"
	// ShutdownNow stops at once: the calls are hung up and given at most
	// a second to finish (FreeSWITCH exits without hanging them up).
	ShutdownNow ShutdownMode = "now"
	// ShutdownCancel cancels a pending elegant or asap shutdown and takes
	// new calls again.
	ShutdownCancel ShutdownMode = "cancel"
)

// LogLevels is the optional interface of an Env whose log level can be
// read and changed at run time (console loglevel, fsctl loglevel).
type LogLevels interface {
	// LogLevel returns the variable holding the switch's slog level;
	// the commands read and set it through apps.LogLevel's Slog and
	// apps.LogLevelOf.
	LogLevel() *slog.LevelVar
}

// Stores is the optional interface of an Env that keeps the db and hash
// data stores (one of each per running switch).
type Stores interface {
	// DB returns the persistent store, or nil when it could not be
	// opened.
	DB() *DB
	// Hash returns the in-memory store.
	Hash() *Hash
}

// Scheduling is the optional interface of an Env with a task scheduler
// (sched_api, sched_hangup, sched_transfer, sched_del, show tasks).
type Scheduling interface {
	// Scheduler returns the switch's scheduler.
	Scheduler() *Scheduler
}

// needs is the reply of a command whose capability env lacks.
func needs(name string) string {
	return "-ERR " + name + " needs a running switch\n"
}

// coreOf returns env's Core, if it has one.
func coreOf(env Env) (Core, bool) {
	c, ok := env.(Core)
	if !ok || c.Sessions() == nil {
		return nil, false
	}
	return c, true
}

// locate returns the live session called uuid, or nil.
func locate(c Core, uuid string) *session.Session {
	if uuid == "" {
		return nil
	}
	return c.Sessions().Get(uuid)
}
