package conf

import (
	"log/slog"
	"strings"

	"github.com/switchboard-voip/switchboard/vars"
)

// Globals is the table of global variables one Load builds and the
// preprocessor reads and writes: the values of $${name} references and of
// X-PRE-PROCESS set directives.
//
// Names are case-insensitive, as FreeSWITCH's global variable table is:
// $${Domain} and $${domain} are the same variable. Every Set stores the value
// the way switch_core_set_variable does, with each "${" turned into "%{", so
// a global can never smuggle a runtime variable reference into the places it
// is expanded into.
//
// Names given on the command line (--set) are locked: a later Set from the
// configuration leaves them alone, so the command line wins over vars.xml.
//
// FreeSWITCH keeps one process-wide table, so the sets of a reload that
// fails stay in force. Here each Load starts from a fresh table and a failed
// load leaves nothing behind.
//
// A Globals is not safe for concurrent use; a loaded Snapshot holds a frozen
// copy.
type Globals struct {
	vals   map[string]global // lower-case name → entry
	locked map[string]bool   // lower-case names set from the command line
	logger *slog.Logger
}

type global struct {
	name  string // as first written
	value string
}

// NewGlobals returns an empty table that logs ignored sets to logger (nil
// discards them).
func NewGlobals(logger *slog.Logger) *Globals {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Globals{
		vals:   make(map[string]global),
		locked: make(map[string]bool),
		logger: logger,
	}
}

// Get returns the value of name and whether it is set.
func (g *Globals) Get(name string) (string, bool) {
	v, ok := g.vals[strings.ToLower(name)]
	return v.value, ok
}

// Set gives name a value unless name is locked by the command line; an
// ignored set is logged at debug level.
func (g *Globals) Set(name, value string) {
	key := strings.ToLower(name)
	if g.locked[key] {
		g.logger.Debug("global variable kept from the command line", "name", name, "ignored", value)
		return
	}
	g.store(key, name, value)
}

// Lock sets name to value and locks it against later sets (--set).
func (g *Globals) Lock(name, value string) {
	key := strings.ToLower(name)
	g.store(key, name, value)
	g.locked[key] = true
}

// Locked reports whether name was set from the command line.
func (g *Globals) Locked(name string) bool { return g.locked[strings.ToLower(name)] }

func (g *Globals) store(key, name, value string) {
	if old, ok := g.vals[key]; ok {
		name = old.name
	}
	g.vals[key] = global{name: name, value: vars.Defuse(value)}
}

// Map returns a copy of the table, keyed by each name as first written.
func (g *Globals) Map() map[string]string {
	m := make(map[string]string, len(g.vals))
	for _, v := range g.vals {
		m[v.name] = v.value
	}
	return m
}
