package main

import (
	"fmt"
	"io"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/xmltree"
)

func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("check", stderr, "[flags]")
	var cf confFlags
	cf.register(fs)
	strict := fs.Bool("strict", false, "treat warnings (e.g. unknown applications) as errors")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) != 0 {
		fs.Usage()
		return exitUsage
	}
	snap, err := cf.load(stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitError
	}
	warnings := append(appWarnings(snap), snap.Warnings()...)
	for _, w := range warnings {
		if *strict {
			fmt.Fprintln(stderr, w)
		} else {
			fmt.Fprintf(stderr, "warning: %s\n", w)
		}
	}
	if *strict && len(warnings) > 0 {
		return exitError
	}
	exts := 0
	for _, c := range snap.Dialplan.Contexts {
		exts += len(c.Extensions)
	}
	users := 0
	for _, d := range snap.Domains() {
		users += len(d.Users)
	}
	fmt.Fprintf(stdout, "configuration OK: %d contexts, %d extensions, %d directory users, %d warnings\n",
		len(snap.Dialplan.Contexts), exts, users, len(warnings))
	return exitOK
}

// appWarnings names every dialplan action whose application is not
// registered, and inline actions whose application may not run inline.
func appWarnings(snap *conf.Snapshot) []string {
	var out []string
	for _, ref := range snap.Dialplan.Actions() {
		_, registered := apps.Lookup(ref.App)
		flags, known := apps.FlagsOf(ref.App)
		switch {
		case !known:
			out = append(out, xmltree.Errorf(ref.Pos, "unknown application %q", ref.App).Error())
		case !registered:
			out = append(out, xmltree.Errorf(ref.Pos, "application %q is not implemented yet", ref.App).Error())
		}
		if known && ref.Inline && flags&apps.RoutingExec == 0 {
			out = append(out, xmltree.Errorf(ref.Pos, "application %q cannot be executed inline (FreeSWITCH drops it)", ref.App).Error())
		}
	}
	return out
}
