package apps

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/switchboard-voip/switchboard/vars"
)

// The variables family: set, push, unshift, multiset, unset, multiunset,
// set_global, export and bridge_export. All may run inline and after
// hangup.

// Variable names the export applications maintain.
const (
	// ExportVars lists, comma-separated, the variables `export` copies to
	// legs originated from this channel.
	ExportVars = "export_vars"
	// BridgeExportVars lists the variables `bridge_export` copies to the
	// leg this channel is bridged to.
	BridgeExportVars = "bridge_export_vars"
)

// maxMultiItems is how many items multiset and multiunset split their
// data into; the last keeps the rest (FreeSWITCH's 256-slot array).
const maxMultiItems = 256

const routingSafe = SupportNoMedia | RoutingExec | ZombieExec

func init() {
	for _, a := range []App{
		{Name: "set", Usage: "<varname>=<value>", Description: "Set a channel variable", Run: setApp},
		{Name: "push", Usage: "<varname>=<value>", Description: "Append a value to an array variable", Run: pushApp},
		{Name: "unshift", Usage: "<varname>=<value>", Description: "Prepend a value to an array variable", Run: unshiftApp},
		{Name: "multiset", Usage: "[^^<delim>]<varname>=<value> <var2>=<val2>", Description: "Set several channel variables", Run: multisetApp},
		{Name: "unset", Usage: "<varname>", Description: "Remove a channel variable", Run: unsetApp},
		{Name: "multiunset", Usage: "[^^<delim>]<varname> <var2> <var3>", Description: "Remove several channel variables", Run: multiunsetApp},
		{Name: "set_global", Usage: "<varname>=<value>", Description: "Set a global variable", Run: setGlobalApp},
		{Name: "export", Usage: "<varname>=<value>", Description: "Set a variable here and on legs originated from this one", Run: exportApp},
		{Name: "bridge_export", Usage: "<varname>=<value>", Description: "Set a variable here and on the bridged leg", Run: bridgeExportApp},
	} {
		a.Flags = routingSafe
		Register(a)
	}
}

// setOp says how baseSet stores the value.
type setOp int

const (
	opSet setOp = iota
	opPush
	opUnshift
)

var opVerb = [...]string{opSet: "SET", opPush: "PUSH", opUnshift: "UNSHIFT"}

func setApp(_ context.Context, ch Channel, data string) error {
	return baseSet(ch, "set", data, opSet)
}

func pushApp(_ context.Context, ch Channel, data string) error {
	return baseSet(ch, "push", data, opPush)
}

func unshiftApp(_ context.Context, ch Channel, data string) error {
	return baseSet(ch, "unshift", data, opUnshift)
}

// baseSet is FreeSWITCH's base_set, shared by set, push, unshift and
// multiset. The name ends at the first "=", or, when there is none, at the
// first ",". The value is expanded again in the channel's scope (so an
// escaped \${x} in the dialplan is resolved now). An empty or missing
// value removes the variable, for push and unshift too. A value starting
// with "ARRAY::" makes set create an array.
func baseSet(ch Channel, app, data string, op setOp) error {
	if data == "" {
		return noName(app, "<varname>=<value>")
	}
	name, val, found := strings.Cut(data, "=")
	if !found {
		name, val, _ = strings.Cut(data, ",")
	}
	shown := "UNDEF"
	if val != "" {
		val = ch.Expand(val)
		shown = val
	}
	ch.Log(slog.LevelDebug, opVerb[op]+chanPrefix(ch)+" ["+name+"]=["+shown+"]")
	if name == "" {
		return noName(app, "<varname>=<value>")
	}
	v := ch.Vars()
	switch {
	case val == "":
		v.Unset(name)
	case op == opPush:
		v.Push(name, val)
	case op == opUnshift:
		v.Unshift(name, val)
	default:
		v.Set(name, val)
	}
	return nil
}

// multisetApp runs baseSet on each item of the data, split on spaces, or
// on <d> when the data starts with "^^<d>". Quoting follows
// vars.Separate, so `multiset a='x y' b=2` sets a to "x y". Every item is
// set even when another fails.
func multisetApp(_ context.Context, ch Channel, data string) error {
	items, err := splitMulti("multiset", "[^^<delim>]<varname>=<value> <var2>=<val2>", data)
	if err != nil {
		return err
	}
	var errs []error
	for _, it := range items {
		if err := baseSet(ch, "multiset", it, opSet); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// unsetApp removes the variable named by the data, taken as it is.
func unsetApp(_ context.Context, ch Channel, data string) error {
	if data == "" {
		return noName("unset", "<varname>")
	}
	ch.Log(slog.LevelDebug, "UNSET ["+data+"]")
	ch.Vars().Unset(data)
	return nil
}

// multiunsetApp removes each variable the data names, split like
// multiset's. Empty data does nothing.
func multiunsetApp(_ context.Context, ch Channel, data string) error {
	items, err := splitMulti("multiunset", "[^^<delim>]<varname> <var2> <var3>", data)
	if err != nil {
		return err
	}
	v := ch.Vars()
	for _, it := range items {
		v.Unset(it)
	}
	return nil
}

// splitMulti splits multiset/multiunset data: "^^<d>" first selects the
// delimiter <d> (default a space), then vars.Separate splits the rest.
func splitMulti(app, usage, data string) ([]string, error) {
	delim := byte(' ')
	if strings.HasPrefix(data, "^^") {
		if len(data) < 3 {
			return nil, &UsageError{App: app, Usage: usage, Reason: "no delimiter after ^^"}
		}
		delim, data = data[2], data[3:]
	}
	return vars.Separate(data, delim, maxMultiItems), nil
}

// setGlobalApp sets a global variable. Unlike set, the value is not
// expanded again and "," does not separate the name.
func setGlobalApp(_ context.Context, ch Channel, data string) error {
	const usage = "<varname>=<value>"
	if data == "" {
		return noName("set_global", usage)
	}
	name, val, _ := strings.Cut(data, "=")
	ch.Log(slog.LevelDebug, "SET GLOBAL ["+name+"]=["+undef(val)+"]")
	if name == "" {
		return noName("set_global", usage)
	}
	ch.SetGlobal(name, val)
	return nil
}

// exportApp is `export [nolocal:|_nolocal_]<var>=<value>`.
func exportApp(_ context.Context, ch Channel, data string) error {
	return export(ch, "export", data, ExportVars, false)
}

// bridgeExportApp is export for bridge_export_vars. As in FreeSWITCH, a
// value that still holds a ${...} reference is not stored (it is logged at
// crit), though the name is still added to the list.
func bridgeExportApp(_ context.Context, ch Channel, data string) error {
	return export(ch, "bridge_export", data, BridgeExportVars, true)
}

// export is switch_channel_export_variable_var_check. The variable is set
// on this channel under the name as given, prefix included: with
// "nolocal:" or "_nolocal_" (remote only) that is a different variable
// from the one new legs receive, which is named without the prefix. The
// value is not expanded again. When the value is not empty the name,
// prefix included, is appended to the list variable listVar with a comma;
// FreeSWITCH does not check for duplicates and neither does this. An empty
// value removes the variable and leaves the list alone.
func export(ch Channel, app, data, listVar string, varCheck bool) error {
	const usage = "<varname>=<value>"
	if data == "" {
		return noName(app, usage)
	}
	name, val, _ := strings.Cut(data, "=")
	shown, remote := name, ""
	for _, p := range [...]string{"nolocal:", "_nolocal_"} {
		if len(name) >= len(p) && strings.EqualFold(name[:len(p)], p) {
			shown, remote = name[len(p):], "(REMOTE ONLY) "
			break
		}
	}
	ch.Log(slog.LevelDebug, "EXPORT ("+listVar+") "+remote+"["+shown+"]=["+undef(val)+"]")
	if name == "" {
		return noName(app, usage)
	}
	v := ch.Vars()
	switch {
	case val == "":
		v.Unset(name)
		return nil
	case varCheck && vars.HasReference(val):
		ch.Log(SlogCrit, "Invalid data (${"+name+"} contains a variable)")
	default:
		v.Set(name, val)
	}
	list := name
	if old, ok := v.Get(listVar); ok && old != "" {
		list = old + "," + name
	}
	v.Set(listVar, list)
	return nil
}

// chanPrefix returns " <channel name>" for log lines, or "" when the
// channel has no channel_name variable.
func chanPrefix(ch Channel) string {
	if name, ok := ch.Vars().Get("channel_name"); ok && name != "" {
		return " " + name
	}
	return ""
}

// undef is how FreeSWITCH shows a missing value in its SET/EXPORT lines.
func undef(v string) string {
	if v == "" {
		return "UNDEF"
	}
	return v
}

func noName(app, usage string) error {
	return &UsageError{App: app, Usage: usage, Reason: "no variable name specified"}
}
