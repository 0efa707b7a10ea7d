package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/switchboard-voip/switchboard/conf"
)

// keyValues is a repeatable NAME=VALUE flag.
type keyValues struct {
	order []string
	m     map[string]string
}

func (kv *keyValues) String() string { return strings.Join(kv.order, ",") }

func (kv *keyValues) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return fmt.Errorf("want NAME=VALUE, got %q", s)
	}
	if kv.m == nil {
		kv.m = make(map[string]string)
	}
	if _, seen := kv.m[name]; !seen {
		kv.order = append(kv.order, name)
	}
	kv.m[name] = value
	return nil
}

// setFlags is the repeatable --set NAME=VALUE flag every subcommand takes.
// Each argument is checked as it is parsed, so a bad name is a usage
// error; Map applies conf.ParseSet's rules (names are case-insensitive and
// the last one given wins; spaces around the '=' are trimmed).
type setFlags struct {
	args []string
}

func (s *setFlags) String() string { return strings.Join(s.args, ",") }

func (s *setFlags) Set(arg string) error {
	if _, err := conf.ParseSet([]string{arg}); err != nil {
		return err
	}
	s.args = append(s.args, arg)
	return nil
}

// Map returns the --set values for conf.Options.Set.
func (s *setFlags) Map() (map[string]string, error) { return conf.ParseSet(s.args) }

func (s *setFlags) register(fs *flag.FlagSet) {
	fs.Var(s, "set", "set a global variable NAME=VALUE, winning over the configuration's own (repeatable)")
}

// confFlags are the flags every subcommand that loads configuration takes.
type confFlags struct {
	dir       string
	set       setFlags
	stateDir  string
	allowExec bool
	allowStun bool
	logLevel  slog.Level
}

func (c *confFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.dir, "conf", "", "configuration directory holding freeswitch.xml (default: the embedded default configuration)")
	c.set.register(fs)
	fs.StringVar(&c.stateDir, "state-dir", "", "directory for writable state: db, recordings, logs (default: $XDG_STATE_HOME/switchboard)")
	fs.BoolVar(&c.allowExec, "allow-exec", false, "allow X-PRE-PROCESS exec-set/exec, which run shell commands")
	fs.BoolVar(&c.allowStun, "allow-stun", false, "allow X-PRE-PROCESS stun-set (resolved locally, never over the network)")
	fs.TextVar(&c.logLevel, "log-level", slog.LevelWarn, "log level: debug, info, warn, error")
}

func (c *confFlags) logger(stderr io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: c.logLevel}))
}

func (c *confFlags) load(stderr io.Writer) (*conf.Snapshot, error) {
	set, err := c.set.Map()
	if err != nil {
		return nil, err
	}
	return conf.Load(conf.Options{
		Dir:       c.dir,
		Set:       set,
		StateDir:  c.stateDir,
		AllowExec: c.allowExec,
		AllowStun: c.allowStun,
		Logger:    c.logger(stderr),
	})
}

// parseArgs parses flags that may appear before or after positional
// arguments ("route 9196 --json" and "route --json 9196" both work); "--"
// ends flag parsing.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(args) > 0 && len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// newFlagSet returns a FlagSet that reports errors to stderr and does not
// exit the process.
func newFlagSet(name string, stderr io.Writer, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, strings.TrimSpace("usage: switchboard "+name+" "+usage))
		fs.PrintDefaults()
	}
	return fs
}
