package apps

import (
	"log/slog"

	"github.com/switchboard-voip/switchboard/vars"
)

// Channel is what an application sees of the call it runs on. It is kept
// small on purpose: the routing-safe applications need only variables,
// expansion and logging. Implementations: the call session in core, and the
// dry-run channel `switchboard route` uses for inline actions.
//
// Methods are called from the call's goroutine only.
type Channel interface {
	// Vars returns this channel's variables.
	Vars() *vars.Store
	// Expand performs ${} expansion in this channel's scope: its
	// variables, then its caller-profile fields, then global variables,
	// with ${api args} running API commands.
	Expand(s string) string
	// SetGlobal sets a global variable (what set_global and global_setvar
	// change); an empty value removes it.
	SetGlobal(name, value string)
	// Log writes msg to the channel's log at level (a FreeSWITCH level
	// mapped with LogLevel.Slog). The implementation adds the channel's
	// identity (name, UUID).
	Log(level slog.Level, msg string)
}
