package commands

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"

	"github.com/switchboard-voip/switchboard/apps"
)

func init() {
	Register(Command{Name: "create_uuid", Usage: "<uuid> <other_uuid>", Description: "Create a uuid", Run: createUUID})
	Register(Command{Name: "hostname", Usage: "", Description: "Return the system hostname", Run: hostname})
	Register(Command{Name: "module_exists", Usage: "<module>", Description: "Check if module exists", Run: moduleExists})
	Register(Command{Name: "version", Usage: "[short]", Description: "Version", Run: version})
}

// createUUID is `create_uuid`: a new random (version 4) UUID in the
// lower-case 8-4-4-4-12 form. Arguments are ignored, as in FreeSWITCH
// (whose registered syntax string nonetheless names two).
func createUUID(context.Context, Env, string) (string, error) {
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		return "", fmt.Errorf("reading random bytes: %w", err)
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:]), nil
}

// hostname is `hostname`: the machine's host name, as the configuration's
// built-in "hostname" global records it (so --set hostname=... changes it
// too), or else as the operating system reports it.
func hostname(_ context.Context, env Env, _ string) (string, error) {
	if snap := env.Snapshot(); snap != nil {
		if h, ok := snap.Global("hostname"); ok && h != "" {
			return h, nil
		}
	}
	h, err := os.Hostname()
	if err != nil {
		return "", fmt.Errorf("reading the host name: %w", err)
	}
	return h, nil
}

// builtinModules are the FreeSWITCH modules Switchboard always provides
// the equivalent of: the dialplan applications, the API commands, the SIP
// endpoint and the XML dialplan.
var builtinModules = []string{"mod_commands", "mod_dialplan_xml", "mod_dptools", "mod_sofia"}

// Modules returns the FreeSWITCH modules Switchboard provides, sorted:
// the built-in ones, those of the registered API commands, and those the
// catalogue names for the registered applications (so mod_lua appears
// once the lua application is registered).
func Modules() []string {
	set := make(map[string]bool)
	for _, m := range builtinModules {
		set[m] = true
	}
	for _, c := range List() {
		set[c.Module] = true
	}
	for _, a := range apps.List() {
		if i, ok := apps.KnownApp(a.Name); ok {
			set[i.Module] = true
		}
	}
	out := make([]string, 0, len(set))
	for m := range set {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// moduleExists is `module_exists <module>`: "true" if Switchboard provides
// the module (see Modules; names are compared exactly, as FreeSWITCH's
// module table does), else "false"; nothing without a name.
func moduleExists(_ context.Context, _ Env, args string) (string, error) {
	if args == "" {
		return "", nil
	}
	for _, m := range Modules() {
		if m == args {
			return "true", nil
		}
	}
	return "false", nil
}

// version is `version [short]`: "Switchboard Version <version>
// (<revision>)\n" in the shape of FreeSWITCH's first line, or with an
// argument containing "short" (any case) just "<major>.<minor>.<patch>\n".
// The values come from the binary's build information.
func version(_ context.Context, _ Env, args string) (string, error) {
	info, _ := debug.ReadBuildInfo()
	short := args != "" && strings.Contains(strings.ToLower(strings.Fields(args)[0]), "short")
	return versionText(info, short), nil
}

// versionText formats the version reply from build information (nil when
// the binary has none).
func versionText(info *debug.BuildInfo, short bool) string {
	if short {
		v := "(devel)"
		if info != nil && info.Main.Version != "" {
			v = info.Main.Version
		}
		return semverCore(v) + "\n"
	}
	full, human := versionParts(info)
	return "Switchboard Version " + full + " (" + strings.Join(human, " ") + ")\n"
}

// versionParts returns the version of the binary (without its "v") and
// the human-readable details the version and status commands print: the
// git revision, the commit time, the Go version and the word size.
func versionParts(info *debug.BuildInfo) (full string, human []string) {
	v := "(devel)"
	settings := map[string]string{}
	goVersion := ""
	if info != nil {
		if info.Main.Version != "" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			settings[s.Key] = s.Value
		}
		goVersion = info.GoVersion
	}
	full = strings.TrimPrefix(v, "v")
	if full == "(devel)" {
		full = "devel"
	}
	if rev := settings["vcs.revision"]; rev != "" {
		if len(rev) > 7 {
			rev = rev[:7]
		}
		if settings["vcs.modified"] == "true" {
			rev += "-dirty"
		}
		human = append(human, "git "+rev)
	}
	if t := settings["vcs.time"]; t != "" {
		human = append(human, t)
	}
	if goVersion != "" {
		human = append(human, goVersion)
	}
	human = append(human, strconv.Itoa(strconv.IntSize)+"bit")
	return full, human
}

// semverCore returns "major.minor.patch" of a Go module version such as
// "v1.2.3-rc.1+meta", or "0.0.0" when v is not one.
func semverCore(v string) string {
	core, _, _ := strings.Cut(strings.TrimPrefix(v, "v"), "-")
	core, _, _ = strings.Cut(core, "+")
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return "0.0.0"
	}
	for _, p := range parts {
		if _, err := strconv.Atoi(p); err != nil {
			return "0.0.0"
		}
	}
	return core
}
