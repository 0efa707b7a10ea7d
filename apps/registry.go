// Package apps holds Switchboard's dialplan applications: a registry that
// applications join from init() (the way CoreDNS plugins and Caddy modules
// do), a static catalogue of the applications FreeSWITCH ships, and the
// dptools applications themselves, one family per file.
//
// A registered application is the one implementation of its name: the
// executor runs it for a call's action list, the dialplan hunt runs it for
// inline="true" actions, and scripts reach it through session:execute.
package apps

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Flags describe how and when an application may run. The values are
// FreeSWITCH's switch_application_flag_enum_t bits (SAF_*), so they print
// and compare the same way.
type Flags uint

// Application flags, as in FreeSWITCH.
const (
	// SupportNoMedia (N, SAF_SUPPORT_NOMEDIA): the application does not
	// need media, so running it does not pre-answer the call. Applications
	// without it are media applications.
	SupportNoMedia Flags = 1 << 0
	// RoutingExec (R, SAF_ROUTING_EXEC): the application may run while the
	// dialplan is being hunted (inline="true").
	RoutingExec Flags = 1 << 1
	// MediaTap (T, SAF_MEDIA_TAP): the application attaches to the media
	// stream (recording, eavesdropping, tone detection).
	MediaTap Flags = 1 << 2
	// ZombieExec (Z, SAF_ZOMBIE_EXEC): the application still runs after
	// the call has hung up; others are skipped then.
	ZombieExec Flags = 1 << 3
	// NoLoopback (L, SAF_NO_LOOPBACK): the application refuses to run on a
	// loopback channel.
	NoLoopback Flags = 1 << 4
	// SupportTextOnly (X, SAF_SUPPORT_TEXT_ONLY): the application also
	// works on a text-only (real-time text) channel.
	SupportTextOnly Flags = 1 << 5
)

// flagLetters maps each flag to its letter, in the order String prints
// them.
var flagLetters = [...]struct {
	f Flags
	c byte
}{
	{SupportNoMedia, 'N'},
	{RoutingExec, 'R'},
	{ZombieExec, 'Z'},
	{MediaTap, 'T'},
	{NoLoopback, 'L'},
	{SupportTextOnly, 'X'},
}

// String returns the flags as letters in the order N R Z T L X (for
// example "NRZ"), or "-" when none is set. Unknown bits print as "?".
func (f Flags) String() string {
	if f == 0 {
		return "-"
	}
	var b []byte
	for _, l := range flagLetters {
		if f&l.f != 0 {
			b = append(b, l.c)
			f &^= l.f
		}
	}
	if f != 0 {
		b = append(b, '?')
	}
	return string(b)
}

// Func runs an application on a channel; App.Run has this type.
//
// The contract every application follows:
//
//   - data arrives already ${}-expanded by the caller (the executor, the
//     hunt for inline actions, or session:execute), with $N captures
//     substituted. An application that expands again (set does) calls
//     ch.Expand itself.
//   - A nil error means the application did its work, or had nothing to do.
//   - A non-nil error means the application failed. The caller logs it
//     (at error level, with the application name and data) and carries on
//     with the next action: an error does not stop the action list or hang
//     up the call. An application that must end the call hangs it up itself
//     before returning. Malformed data is reported as a *UsageError.
//   - ctx is cancelled when the call hangs up. Applications that wait
//     (for media, digits, time, another leg) must return promptly once it
//     is done. Applications flagged ZombieExec are also run after hangup,
//     with ctx already cancelled, and must still do their work (set, log,
//     export, ...), so they must not treat a cancelled ctx as failure.
//   - An application runs on the call's own goroutine and blocks it until
//     it returns; it must not keep ch after returning.
type Func func(ctx context.Context, ch Channel, data string) error

// App is a registered application.
type App struct {
	// Name is the application name used in dialplans and scripts. Lookup
	// ignores case, as FreeSWITCH does.
	Name string
	// Usage is the argument syntax shown by `show application`, FreeSWITCH's
	// registered syntax string for the same application.
	Usage string
	// Description is a one-line summary.
	Description string
	// Flags say when the application may run (inline, after hangup) and
	// whether it needs media.
	Flags Flags
	// Run is the implementation.
	Run Func
}

// UsageError reports application data an application cannot use, such as
// `set` without a variable name.
type UsageError struct {
	App    string // application name
	Usage  string // its syntax
	Reason string // what is wrong
}

// Error formats the error as "<app>: <reason> (usage: <app> <usage>)".
func (e *UsageError) Error() string {
	if e.Usage == "" {
		return e.App + ": " + e.Reason
	}
	return fmt.Sprintf("%s: %s (usage: %s %s)", e.App, e.Reason, e.App, e.Usage)
}

// registry is a set of applications keyed by lower-case name.
type registry struct {
	mu sync.RWMutex
	m  map[string]*App
}

func newRegistry() *registry { return &registry{m: make(map[string]*App)} }

// std is the process-wide registry that init() functions fill.
var std = newRegistry()

// Register adds an application to the registry. It is meant to be called
// from init(). It panics when the name is empty or contains white space,
// when Run is nil, or when an application of the same name (ignoring case)
// is already registered: all of these are programming errors that must
// stop the program at start-up.
func Register(a App) { std.register(a) }

// Lookup returns the registered application called name, ignoring case as
// FreeSWITCH's application table does. The returned App must not be
// modified.
func Lookup(name string) (*App, bool) { return std.lookup(name) }

// List returns every registered application sorted by name (byte order,
// as `show application` sorts). The Apps must not be modified.
func List() []*App { return std.list() }

// FlagsOf returns the flags of the application called name: those it was
// registered with, or else those the catalogue records for it. ok is false
// for a name that is neither registered nor catalogued.
func FlagsOf(name string) (f Flags, ok bool) { return std.flagsOf(name) }

func (r *registry) register(a App) {
	switch {
	case a.Name == "":
		panic("apps: Register with an empty application name")
	case strings.ContainsAny(a.Name, " \t\r\n"):
		panic(fmt.Sprintf("apps: Register(%q): application names cannot contain white space", a.Name))
	case a.Run == nil:
		panic(fmt.Sprintf("apps: Register(%q) with a nil Run function", a.Name))
	}
	k := strings.ToLower(a.Name)
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, dup := r.m[k]; dup {
		panic(fmt.Sprintf("apps: application %q registered twice (already registered as %q)", a.Name, old.Name))
	}
	r.m[k] = &a
}

func (r *registry) lookup(name string) (*App, bool) {
	r.mu.RLock()
	a, ok := r.m[strings.ToLower(name)]
	r.mu.RUnlock()
	return a, ok
}

func (r *registry) list() []*App {
	r.mu.RLock()
	out := make([]*App, 0, len(r.m))
	for _, a := range r.m {
		out = append(out, a)
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (r *registry) flagsOf(name string) (Flags, bool) {
	if a, ok := r.lookup(name); ok {
		return a.Flags, true
	}
	return Known(name)
}

// ErrNoSession is returned by applications that need a live call when they
// run without one (for example inline under `switchboard route`).
var ErrNoSession = fmt.Errorf("this application needs a live call")
