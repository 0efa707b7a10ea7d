package conf

import (
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// RootFile is the file every configuration tree starts from.
const RootFile = "freeswitch.xml"

// EmbeddedConfDir is the value of conf_dir (and the prefix of the file names
// in positions) when the embedded default tree is loaded. It is not a path
// on disk: files under it are opened through Snapshot.Open.
const EmbeddedConfDir = "(embedded)"

// Options says what Load reads and how.
type Options struct {
	// Dir is the configuration directory holding freeswitch.xml (--conf).
	// Empty means the embedded default tree.
	Dir string
	// FS, when not nil, is read instead of Dir (tests, tools); Dir then only
	// names it in positions and in conf_dir.
	FS fs.FS

	// Set holds --set NAME=VALUE overrides. They are global variables that
	// win over the configuration's own X-PRE-PROCESS set directives and over
	// the built-ins.
	Set map[string]string

	// StateDir is the root of the writable directories (db_dir, log_dir,
	// recordings_dir, ...). Empty means DefaultStateDir.
	StateDir string

	// AllowExec lets the exec and exec-set directives run shell commands;
	// without it they are load errors.
	AllowExec bool
	// AllowStun permits stun-set directives (FreeSWITCH's vanilla vars.xml
	// has two); without it they are load errors. Even when allowed, no
	// request leaves the machine: a stun: value resolves to local_ip_v4.
	AllowStun bool

	// Host gives hostname and local addresses; nil means DetectHost.
	Host *Host
	// CoreUUID is the process's core_uuid; empty means a fresh random one.
	// A long-running process passes the same value to every Load.
	CoreUUID string

	// LookupEnv reads the environment (env-set, XDG_STATE_HOME, HOME); nil
	// means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Logger receives load-time notes (an include matching no file, an
	// ignored set); nil discards them.
	Logger *slog.Logger
}

func (o *Options) lookupEnv() func(string) (string, bool) {
	if o.LookupEnv != nil {
		return o.LookupEnv
	}
	return os.LookupEnv
}

// DefaultStateDir returns where writable files go when no state directory
// is given: $XDG_STATE_HOME/switchboard, else ~/.local/state/switchboard
// (an XDG_STATE_HOME that is not absolute is ignored, as the XDG spec asks).
// Without a home directory it falls back to switchboard-state under the
// system temporary directory. It never depends on the working directory, so
// running from a source checkout writes nothing into it.
//
// lookupEnv reads the environment; nil means os.LookupEnv.
func DefaultStateDir(lookupEnv func(string) (string, bool)) string {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	if x, _ := lookupEnv("XDG_STATE_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "switchboard")
	}
	if home, _ := lookupEnv("HOME"); home != "" && filepath.IsAbs(home) {
		return filepath.Join(home, ".local", "state", "switchboard")
	}
	return filepath.Join(os.TempDir(), "switchboard-state")
}

// source is a resolved configuration tree: where to read and how to name it.
type source struct {
	fsys    fs.FS
	confDir string // conf_dir: an absolute path, or EmbeddedConfDir
	onDisk  bool   // confDir is a real directory
}

func (o *Options) source() (source, error) {
	switch {
	case o.Dir == "" && o.FS == nil:
		return source{fsys: DefaultFS(), confDir: EmbeddedConfDir}, nil
	case o.Dir == "":
		return source{fsys: o.FS, confDir: EmbeddedConfDir}, nil
	}
	abs, err := filepath.Abs(o.Dir)
	if err != nil {
		return source{}, fmt.Errorf("conf directory %s: %w", o.Dir, err)
	}
	if o.FS != nil {
		return source{fsys: o.FS, confDir: abs}, nil
	}
	st, err := os.Stat(abs)
	if err != nil {
		return source{}, fmt.Errorf("conf directory: %w", err)
	}
	if !st.IsDir() {
		return source{}, fmt.Errorf("conf directory %s: not a directory", abs)
	}
	return source{fsys: os.DirFS(abs), confDir: abs, onDisk: true}, nil
}

// displayName turns a slash-separated name inside the tree into the name
// positions and conf_dir-based variables use.
func (s source) displayName(name string) string {
	if s.confDir == EmbeddedConfDir {
		return path.Join(EmbeddedConfDir, name)
	}
	return filepath.Join(s.confDir, filepath.FromSlash(name))
}

// builtinGlobals returns the variables that exist before vars.xml is read,
// in the spirit of switch_core.c: directories, host identity, core_uuid.
// Read-only trees (sounds, scripts, ...) are under conf_dir, so they resolve
// through the configuration's file system; writable ones under stateDir.
func builtinGlobals(src source, stateDir string, host Host, coreUUID string, set map[string]string) [][2]string {
	confDir := src.confDir
	under := func(base, sub string) string {
		if base == EmbeddedConfDir {
			return path.Join(base, sub)
		}
		return filepath.Join(base, sub)
	}
	sounds := under(confDir, "sounds")
	if v, ok := lookupFold(set, "sounds_dir"); ok {
		sounds = v
	}
	return [][2]string{
		{"hostname", host.Hostname},
		{"local_ip_v4", host.IPv4},
		{"local_mask_v4", host.MaskV4},
		{"local_ip_v6", host.IPv6},
		{"core_uuid", coreUUID},
		{"base_dir", confDir},
		{"conf_dir", confDir},
		{"sounds_dir", sounds},
		{"sound_prefix", sounds},
		{"script_dir", under(confDir, "scripts")},
		{"mod_dir", under(confDir, "mod")},
		{"htdocs_dir", under(confDir, "htdocs")},
		{"grammar_dir", under(confDir, "grammar")},
		{"fonts_dir", under(confDir, "fonts")},
		{"images_dir", under(confDir, "images")},
		{"data_dir", confDir},
		{"localstate_dir", stateDir},
		{"log_dir", filepath.Join(stateDir, "log")},
		{"run_dir", filepath.Join(stateDir, "run")},
		{"db_dir", filepath.Join(stateDir, "db")},
		{"recordings_dir", filepath.Join(stateDir, "recordings")},
		{"storage_dir", filepath.Join(stateDir, "storage")},
		{"cache_dir", filepath.Join(stateDir, "cache")},
		{"certs_dir", filepath.Join(stateDir, "certs")},
		{"temp_dir", os.TempDir()},
	}
}

// stateDirNames lists the built-in globals that name writable directories;
// Snapshot.StateDirs returns their values.
var stateDirNames = []string{"log_dir", "run_dir", "db_dir", "recordings_dir", "storage_dir", "cache_dir", "certs_dir"}

func lookupFold(m map[string]string, name string) (string, bool) {
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// sortedKeys returns m's keys in order, so --set values apply
// deterministically.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
