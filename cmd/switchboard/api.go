package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	apicmd "github.com/switchboard-voip/switchboard/commands"
	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/vars"
)

// runAPI is `switchboard api [flags] COMMAND [ARGS...]`: it loads the
// configuration and runs one API command in this process, as fs_cli -x
// would against a running switch, with the configuration's global
// variables and no live calls. The output is printed as it is, plus a
// newline when it lacks one. Exit 1 when the command answers -ERR or
// -USAGE (or the configuration does not load), 2 for a usage error.
//
// Flags come before COMMAND: everything after it, dashes included, is the
// command's arguments ("switchboard api cond -1 < 0 ? a : b").
func runAPI(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("api", stderr, "[flags] COMMAND [ARGS...]")
	var cf confFlags
	cf.register(fs)
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	pos := fs.Args()
	if len(pos) == 0 {
		fs.Usage()
		return exitUsage
	}
	snap, err := cf.load(stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitError
	}
	env := &apicmd.Host{
		Runtime: vars.NewStore(),
		Config:  func() *conf.Snapshot { return snap },
	}
	out := apicmd.Execute(context.Background(), env, pos[0], strings.Join(pos[1:], " "))
	if out != "" && !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	if _, err := io.WriteString(stdout, out); err != nil {
		fmt.Fprintf(stderr, "switchboard api: %v\n", err)
		return exitError
	}
	if strings.HasPrefix(out, "-ERR") || strings.HasPrefix(out, "-USAGE") {
		return exitError
	}
	return exitOK
}
