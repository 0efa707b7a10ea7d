// Command switchboard is a call-routing engine that speaks FreeSWITCH's
// configuration language.
//
// Usage:
//
//	switchboard [run]   [--conf DIR] [--watch] [--admin-addr ADDR] [--debug-addr ADDR]
//	switchboard cli     [-H HOST] [-P PORT] [-p PASSWORD] [-x COMMAND]
//	switchboard check   [--conf DIR] [--strict]
//	switchboard route   [--conf DIR] [--context NAME] [--field N=V]... [--var N=V]... [--time T] [--json] DEST
//	switchboard convert --to yaml|xml FILE
//	switchboard api     [--conf DIR] COMMAND [ARGS...]
//	switchboard version
//
// Every subcommand accepts --set NAME=VALUE (repeatable) to set a global
// variable that wins over the configuration's own X-PRE-PROCESS set.
// Exit codes: 0 success (warnings go to stderr), 1 a configuration or
// runtime error (file:line: message on stderr), 2 a usage error.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// command is one subcommand of the binary.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"run", "start the switch (the default command)", runRun},
		{"check", "load and validate the configuration", runCheck},
		{"route", "dry-run the dialplan hunt for a destination", runRoute},
		{"convert", "convert a dialplan file between XML and YAML", runConvert},
		{"api", "run one API command against the configuration (offline)", runAPI},
		{"cli", "console for a running switch over its event socket (like fs_cli)", runConsole},
		{"version", "print version and build information", runVersion},
	}
}

// run dispatches to a subcommand and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") && args[0] != "-h" && args[0] != "--help" {
		return runRun(args, stdout, stderr)
	}
	switch args[0] {
	case "-h", "--help", "help":
		usage(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "switchboard: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: switchboard <command> [flags]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'switchboard <command> -h' for a command's flags.")
}

// exit codes
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)
