package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	apicmd "github.com/switchboard-voip/switchboard/commands"
	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/dryrun"
	"github.com/switchboard-voip/switchboard/vars"
)

func runRoute(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("route", stderr, "[flags] DEST")
	var cf confFlags
	cf.register(fs)
	contextName := fs.String("context", "default", "context to hunt")
	var fields, chanVars keyValues
	fs.Var(&fields, "field", "caller-profile field NAME=VALUE, e.g. caller_id_number=1000 (repeatable)")
	fs.Var(&chanVars, "var", "channel variable NAME=VALUE (repeatable)")
	at := fs.String("time", "", "clock for time conditions: YYYY-MM-DDTHH:MM:SS[±hh:mm|Z] (no offset: server local time)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the trace")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) != 1 {
		fs.Usage()
		return exitUsage
	}
	var now time.Time
	if *at != "" {
		now, err = parseTime(*at)
		if err != nil {
			fmt.Fprintf(stderr, "switchboard route: --time: %v\n", err)
			return exitUsage
		}
	}
	snap, err := cf.load(stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitError
	}
	call := dryrun.Call{
		Destination: pos[0],
		Context:     *contextName,
		Fields:      fields.m,
		Time:        now,
	}
	for _, n := range chanVars.order {
		call.Vars = append(call.Vars, [2]string{n, chanVars.m[n]})
	}
	// ${api(args)} in conditions and inline data runs the API commands,
	// against a private copy of the runtime globals.
	host := &apicmd.Host{Runtime: vars.NewStore(), Config: func() *conf.Snapshot { return snap }}
	if !call.Time.IsZero() {
		host.Clock = func() time.Time { return call.Time }
	}
	rep := dryrun.Run(snap.Dialplan, snap, apicmd.AsAPI(context.Background(), host), call)
	for _, w := range rep.Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintln(stderr, err)
			return exitError
		}
		return exitOK
	}
	for _, l := range rep.Trace {
		fmt.Fprintln(stdout, l)
	}
	if rep.Result == "route" {
		fmt.Fprintf(stdout, "\nroute: context %s, extension %s\n", rep.Context, *rep.Extension)
		for i, s := range rep.Steps {
			fmt.Fprintf(stdout, "  %2d. %s(%s)    [%s]\n", i+1, s.App, s.Data, s.Pos)
		}
		if len(rep.Steps) == 0 {
			fmt.Fprintln(stdout, "  (no actions: the call would end with NORMAL_CLEARING)")
		}
	} else {
		fmt.Fprintf(stdout, "\nno route: context %s\n", rep.Context)
	}
	if rep.HangupCause != "" {
		fmt.Fprintf(stdout, "the channel was hung up during the hunt: %s\n", rep.HangupCause)
	}
	return exitOK
}

// parseTime reads --time. With an offset (or Z) it is an instant; without
// one it is wall-clock time in the server's local zone (honouring TZ).
func parseTime(s string) (time.Time, error) {
	layouts := []string{"2006-01-02T15:04:05Z07:00", "2006-01-02T15:04Z07:00"}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	if strings.ContainsAny(s[min(len(s), 10):], "Z+-") {
		return time.Time{}, fmt.Errorf("invalid time %q (want YYYY-MM-DDTHH:MM:SS[±hh:mm])", s)
	}
	for _, l := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(l, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid time %q (want YYYY-MM-DDTHH:MM:SS[±hh:mm])", s)
}
