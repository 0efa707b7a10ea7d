// Package dryrun hunts the dialplan for a made-up call, without SIP or
// media, the way `switchboard route` shows it: the queued actions, the
// inline applications that ran, and the channel variables afterwards.
//
// Inline applications run through the same apps registry real calls use,
// on a channel that has variables but no media. Routing-safe applications
// that need a live call, or that are not implemented yet, are reported as
// skipped.
package dryrun

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/dialplan"
	"github.com/switchboard-voip/switchboard/vars"
)

// NullUUID is the channel UUID of every dry-run call, so output is
// reproducible.
const NullUUID = "00000000-0000-0000-0000-000000000000"

// Call describes the made-up call.
type Call struct {
	Destination string
	Context     string            // "" means "default"
	Fields      map[string]string // caller-profile fields (caller_id_number, network_addr, ...)
	Vars        [][2]string       // channel variables, in order
	Time        time.Time         // the instant time conditions test; zero = now
}

// Action is one queued application.
type Action struct {
	App  string `json:"app"`
	Data string `json:"data"`
}

// InlineRun is one inline application the hunt reached.
type InlineRun struct {
	App     string `json:"app"`
	Data    string `json:"data"`
	Skipped bool   `json:"skipped,omitempty"`
}

// Report is the outcome, shaped for `switchboard route --json`.
type Report struct {
	Context   string            `json:"context"`
	Extension *string           `json:"extension"`
	Result    string            `json:"result"` // "route" or "no_route"
	Actions   []Action          `json:"actions"`
	Inline    []InlineRun       `json:"inline"`
	Variables map[string]string `json:"variables"`

	// Trace holds FreeSWITCH-style dialplan trace lines.
	Trace []string `json:"-"`
	// Warnings are problems the hunt ran into (an inline application
	// refused, unknown, or failing).
	Warnings []string `json:"-"`
	// HangupCause is set when an inline application hung the channel up
	// (e.g. DESTINATION_OUT_OF_ORDER for an unknown one).
	HangupCause string `json:"-"`
	// Steps are the queued actions with their source positions.
	Steps []dialplan.Step `json:"-"`
}

// Run hunts dp for call. globals are the configuration's global
// variables; api runs ${api(args)} (nil: every API call expands to "").
func Run(dp *dialplan.Dialplan, globals vars.Lookup, api vars.API, call Call) *Report {
	p := &caller.Profile{
		DestinationNumber: call.Destination,
		Context:           call.Context,
		Dialplan:          "XML",
		Source:            "switchboard",
		UUID:              NullUUID,
		ChanName:          "route/" + call.Destination,
	}
	if p.Context == "" {
		p.Context = "default"
	}
	for name, v := range call.Fields {
		p.Set(name, v)
	}
	store := vars.NewStore()
	for _, kv := range call.Vars {
		store.Set(kv[0], kv[1])
	}
	rep := &Report{Actions: []Action{}, Inline: []InlineRun{}}
	ch := &channel{
		store:   store,
		profile: p,
		globals: vars.NewStore(),
		base:    globals,
		api:     api,
		rep:     rep,
	}
	env := &dialplan.Env{
		Profile:     p,
		Vars:        store,
		Globals:     ch.globalLookup(),
		API:         api,
		Now:         call.Time,
		Inline:      ch.inline,
		ChannelName: p.ChanName,
		Trace:       func(line string) { rep.Trace = append(rep.Trace, line) },
	}
	res := dp.Hunt(env)
	rep.Context = res.Context
	if res.Found {
		rep.Result = "route"
		name := res.Extension
		rep.Extension = &name
	} else {
		rep.Result = "no_route"
		rep.Trace = append(rep.Trace, "No Route, Aborting")
	}
	for _, s := range res.Actions {
		rep.Actions = append(rep.Actions, Action{App: s.App, Data: s.Data})
	}
	rep.Steps = res.Actions
	rep.Variables = store.Map()
	return rep
}

// channel is the dry-run channel inline applications see.
type channel struct {
	store   *vars.Store
	profile *caller.Profile
	globals *vars.Store // set_global during this run, layered over base
	base    vars.Lookup
	api     vars.API
	rep     *Report
}

var _ apps.Channel = (*channel)(nil)

func (c *channel) Vars() *vars.Store { return c.store }

func (c *channel) globalLookup() vars.Lookup {
	return vars.Chain{c.globals, c.base}
}

// Get resolves a name as the executor does: channel variables, caller
// profile, globals.
func (c *channel) Get(name string) (string, bool) {
	if v, ok := c.store.Get(name); ok {
		return v, true
	}
	if v, ok := c.profile.Get(name); ok {
		return v, true
	}
	return c.globalLookup().Get(name)
}

func (c *channel) Expand(s string) string { return vars.Expand(s, c, c.api) }

func (c *channel) SetGlobal(name, value string) { c.globals.Set(name, value) }

func (c *channel) Log(level slog.Level, msg string) {
	c.rep.Trace = append(c.rep.Trace, fmt.Sprintf("[%s] %s", strings.ToUpper(level.String()), msg))
}

// inline runs one inline="true" action as FreeSWITCH's exec_app would.
func (c *channel) inline(app, data string) {
	flags, known := apps.FlagsOf(app)
	if !known {
		c.rep.Warnings = append(c.rep.Warnings, fmt.Sprintf("Invalid Application %s", app))
		if c.rep.HangupCause == "" {
			c.rep.HangupCause = "DESTINATION_OUT_OF_ORDER"
		}
		return
	}
	if flags&apps.RoutingExec == 0 {
		c.rep.Warnings = append(c.rep.Warnings, fmt.Sprintf("%s: this application cannot be executed inline", app))
		return
	}
	expanded := data
	if v, _ := c.store.Get("app_disable_expand_variables"); !caller.True(v) {
		expanded = c.Expand(data)
	}
	a, ok := apps.Lookup(app)
	if !ok {
		c.rep.Inline = append(c.rep.Inline, InlineRun{App: app, Data: expanded, Skipped: true})
		return
	}
	c.store.Set("current_application", app)
	c.store.Set("current_application_data", expanded)
	if err := a.Run(context.Background(), c, expanded); err != nil {
		c.rep.Warnings = append(c.rep.Warnings, fmt.Sprintf("%s(%s): %v", app, expanded, err))
	}
	c.rep.Inline = append(c.rep.Inline, InlineRun{App: app, Data: expanded})
}
