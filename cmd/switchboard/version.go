package main

import (
	"fmt"
	"io"
	"runtime/debug"
)

func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", stderr, "")
	var set setFlags
	set.register(fs) // accepted, as by every subcommand; nothing to apply it to
	pos, err := parseArgs(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) != 0 {
		fs.Usage()
		return exitUsage
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		fmt.Fprintln(stdout, "switchboard (no build information)")
		return exitOK
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	rev := settings["vcs.revision"]
	if rev == "" {
		rev = "unknown"
	}
	if settings["vcs.modified"] == "true" {
		rev += "-dirty"
	}
	fmt.Fprintf(stdout, "switchboard %s\n", info.Main.Version)
	fmt.Fprintf(stdout, "module:   %s\n", info.Main.Path)
	fmt.Fprintf(stdout, "revision: %s\n", rev)
	if t := settings["vcs.time"]; t != "" {
		fmt.Fprintf(stdout, "commit time: %s\n", t)
	}
	fmt.Fprintf(stdout, "go:       %s\n", info.GoVersion)
	return exitOK
}
