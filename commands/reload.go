package commands

import (
	"context"
	"errors"
	"strings"
)

func init() {
	Register(Command{Name: "reloadxml", Usage: "", Description: "Reload XML", Run: reloadXML})
}

// Reloader is an optional interface of an Env: the running switch, whose
// configuration can be loaded again. `switchboard api` has none (it loads
// the configuration for every command anyway).
type Reloader interface {
	// Reload loads the whole configuration again, checks it and, only when
	// all of it is good, puts it in force; otherwise nothing changes.
	// Reloads are serialised. notes names the settings that changed but
	// take effect only after a restart, one per line ("" when there are
	// none). A refused configuration is an error whose text starts with
	// the file and line of the problem ("file:line: reason").
	Reload(ctx context.Context) (notes string, err error)
}

// ErrNoReload is the reason reloadxml gives when its Env cannot reload.
var ErrNoReload = errors.New("no running switch to reload here (switchboard api loads the configuration for each command; send the switch SIGHUP or use switchboard cli)")

// reloadXML is `reloadxml`: "+OK [Success]\n" once the reloaded
// configuration is in force, followed by one "restart needed: <setting>"
// line per setting that waits for a restart. A refused configuration
// answers "-ERR <file>:<line>: <reason>\n" and the running one stays in
// force: FreeSWITCH answers "+OK [<parser message>]" even then, which
// scripts cannot tell from success (docs/COMPATIBILITY.md).
func reloadXML(ctx context.Context, env Env, _ string) (string, error) {
	r, ok := env.(Reloader)
	if !ok {
		return "-ERR " + ErrNoReload.Error() + "\n", nil
	}
	notes, err := r.Reload(ctx)
	if err != nil {
		return "-ERR " + strings.TrimRight(err.Error(), "\n") + "\n", nil
	}
	var b strings.Builder
	b.WriteString("+OK [Success]\n")
	for _, n := range strings.Split(notes, "\n") {
		if n = strings.TrimSpace(n); n != "" {
			b.WriteString("restart needed: " + n + "\n")
		}
	}
	return b.String(), nil
}
