package e2e

import (
	"debug/buildinfo"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestBuildIsStatic checks the binary TestMain built the way it ships:
// CGO_ENABLED=0 in its build information and, on Linux, an executable
// with no dynamic loader and no shared libraries.
func TestBuildIsStatic(t *testing.T) {
	info, err := buildinfo.ReadFile(build.bin)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if settings["CGO_ENABLED"] != "0" {
		t.Errorf("build setting CGO_ENABLED = %q, want 0", settings["CGO_ENABLED"])
	}
	if info.Main.Path != "github.com/switchboard-voip/switchboard" {
		t.Errorf("main module = %q", info.Main.Path)
	}
	if runtime.GOOS != "linux" {
		return
	}
	f, err := elf.Open(build.bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("the binary asks for a dynamic loader (PT_INTERP): not static")
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil {
		t.Fatal(err)
	} else if len(libs) != 0 {
		t.Errorf("the binary links shared libraries %v", libs)
	}
}

// TestVersion checks `switchboard version`: the module path, the Go
// version the binary was built with and the VCS revision it was stamped
// with, or "unknown" when the build had none.
func TestVersion(t *testing.T) {
	r := runSwitchboard(t, nil, "version")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("version:\n%s", r)
	}
	info, err := buildinfo.ReadFile(build.bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"module:   github.com/switchboard-voip/switchboard\n",
		"go:       " + info.GoVersion + "\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("version output lacks %q:\n%s", want, r.stdout)
		}
	}
	if !regexp.MustCompile(`^go\d+\.\d+`).MatchString(info.GoVersion) {
		t.Errorf("Go version %q does not look like one", info.GoVersion)
	}

	m := regexp.MustCompile(`(?m)^revision: (\S+)$`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("version output has no revision line:\n%s", r.stdout)
	}
	got := m[1]
	var stamped, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			stamped = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if stamped == "" {
		if got != "unknown" {
			t.Errorf("revision = %q, want unknown for a build without VCS information", got)
		}
		t.Log("the build carries no VCS information (no git, or not a repository): revision unknown")
		return
	}
	want := stamped
	if modified == "true" {
		want += "-dirty"
	}
	if got != want {
		t.Errorf("revision = %q, want %q from the build information", got, want)
	}
	// The stamp is the checkout's HEAD.
	if out, err := exec.Command("git", "-C", build.root, "rev-parse", "HEAD").Output(); err == nil {
		if head := strings.TrimSpace(string(out)); head != stamped {
			t.Errorf("stamped revision %s, but HEAD is %s", stamped, head)
		}
	}
}

// routeReport is the JSON `route --json` prints.
type routeReport struct {
	Context   string            `json:"context"`
	Extension *string           `json:"extension"`
	Result    string            `json:"result"`
	Actions   []routeAction     `json:"actions"`
	Inline    []routeInline     `json:"inline"`
	Variables map[string]string `json:"variables"`
}

type routeAction struct {
	App  string `json:"app"`
	Data string `json:"data"`
}

type routeInline struct {
	App     string `json:"app"`
	Data    string `json:"data"`
	Skipped bool   `json:"skipped"`
}

// decodeRoute decodes the single JSON object of `route --json` strictly.
func decodeRoute(t *testing.T, out string) routeReport {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	var rep routeReport
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("route --json: %v\n%s", err, out)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		t.Fatalf("route --json printed more than one JSON value:\n%s", out)
	}
	return rep
}

// TestEmbeddedDefault runs check and route on the configuration built
// into the binary: it loads, and 9196 is the echo test.
func TestEmbeddedDefault(t *testing.T) {
	r := runSwitchboard(t, nil, "check")
	if r.code != 0 || !regexp.MustCompile(`^configuration OK: .*\n$`).MatchString(r.stdout) {
		t.Errorf("check on the embedded default:\n%s", r)
	}

	r = runSwitchboard(t, nil, "route", "--json", "9196")
	if r.code != 0 {
		t.Fatalf("route --json 9196:\n%s", r)
	}
	rep := decodeRoute(t, r.stdout)
	if rep.Result != "route" || rep.Context != "default" || rep.Extension == nil || *rep.Extension != "echo" {
		t.Errorf("9196 did not route to default/echo:\n%s", r.stdout)
	}
	var apps []string
	for _, a := range rep.Actions {
		apps = append(apps, a.App)
	}
	if len(apps) == 0 || apps[len(apps)-1] != "echo" {
		t.Errorf("9196 actions %v, want them to end with echo", apps)
	}

	// Flags after DEST, and the readable trace.
	r = runSwitchboard(t, nil, "route", "9196")
	if r.code != 0 || !strings.Contains(r.stdout, "Regex (PASS) [echo] destination_number(9196) =~ /^9196$/") {
		t.Errorf("route 9196 trace:\n%s", r)
	}
}

// TestBadConfiguration checks that a broken configuration makes check and
// route exit 1 with the file and line on stderr and nothing on stdout.
func TestBadConfiguration(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"freeswitch.xml": `<?xml version="1.0"?>
<document type="freeswitch/xml">
  <section name="dialplan">
    <X-PRE-PROCESS cmd="include" data="dialplan/*.xml"/>
  </section>
</document>
`,
		"dialplan/default.xml": `<include>
  <context name="default">
    <extension name="broken">
      <condition field="destination_number" expression="^1$" break="sometimes">
        <action application="log" data="INFO never"/>
      </condition>
    </extension>
  </context>
</include>
`,
	})
	want := filepath.Join(dir, "dialplan", "default.xml") + ":4: "
	for _, args := range [][]string{
		{"check", "--conf", dir},
		{"check", "--conf", dir, "--strict"},
		{"route", "--conf", dir, "--json", "1"},
	} {
		r := runSwitchboard(t, nil, args...)
		if r.code != 1 {
			t.Errorf("switchboard %s: exit %d, want 1\n%s", strings.Join(args, " "), r.code, r)
		}
		if r.stdout != "" {
			t.Errorf("switchboard %s printed on stdout:\n%s", strings.Join(args, " "), r)
		}
		if !strings.HasPrefix(r.stderr, want) || !strings.Contains(r.stderr, "break") {
			t.Errorf("switchboard %s: stderr does not start with %s:\n%s", strings.Join(args, " "), want, r)
		}
	}
}

// TestUsageErrors checks exit status 2 through the real process exit.
func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--no-such-flag"}, // no command means run
		{"run", "extra"},
		{"frobnicate"},
		{"route"},
		{"route", "--time", "yesterday", "1"},
		{"check", "--no-such-flag"},
		{"convert", "--to", "json", "x.xml"},
	} {
		r := runSwitchboard(t, nil, args...)
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "usage") && !strings.Contains(r.stderr, "--time") {
			t.Errorf("switchboard %s: want exit 2 with a message on stderr only\n%s", strings.Join(args, " "), r)
		}
	}
}

// clockDialplan routes 5001 to "yes" at 03:30 on the clock the rules choose,
// and to "no" at any other time.
const clockDialplan = `<include>
  <context name="default">
    <extension name="clock">
      <condition field="destination_number" expression="^5001$"/>
      <condition hour="3" minute="30">
        <action application="set" data="clock=yes"/>
        <anti-action application="set" data="clock=no"/>
      </condition>
    </extension>
  </context>
</include>
`

// TestRouteTimeHonoursTZ checks the clock of --time in a process whose
// zone is set by TZ: a time without an offset is wall-clock time there, an
// instant with an offset is shown on that clock unless tod_tz_offset or
// timezone pick another.
func TestRouteTimeHonoursTZ(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"freeswitch.xml": `<?xml version="1.0"?>
<document type="freeswitch/xml">
  <section name="dialplan">
    <X-PRE-PROCESS cmd="include" data="dialplan/*.xml"/>
  </section>
</document>
`,
		"dialplan/default.xml": clockDialplan,
	})
	tests := []struct {
		name string
		tz   string
		args []string
		want string // clock=yes or clock=no
	}{
		{"local time is wall clock", "Asia/Tokyo", []string{"--time", "2026-01-05T03:30:00"}, "clock=yes"},
		{"local time is wall clock in any zone", "America/New_York", []string{"--time", "2026-01-05T03:30:00"}, "clock=yes"},
		{"an instant on the TZ clock", "America/New_York", []string{"--time", "2026-01-05T08:30:00Z"}, "clock=yes"},
		{"an instant on another TZ clock", "Asia/Tokyo", []string{"--time", "2026-01-05T08:30:00Z"}, "clock=no"},
		{"an instant on the TZ clock in summer", "America/New_York", []string{"--time", "2026-07-01T07:30:00Z"}, "clock=yes"},
		{"an instant with an offset on the TZ clock", "America/New_York", []string{"--time", "2026-01-05T03:30:00-05:00"}, "clock=yes"},
		{"an instant with an offset is not wall-clock time", "Asia/Tokyo", []string{"--time", "2026-01-05T03:30:00-05:00"}, "clock=no"},
		{"TZ local time converted by tod_tz_offset", "Asia/Tokyo", []string{"--time", "2026-01-05T12:30:00", "--var", "tod_tz_offset=0"}, "clock=yes"},
		{"UTC local time with tod_tz_offset", "UTC", []string{"--time", "2026-01-05T12:30:00", "--var", "tod_tz_offset=0"}, "clock=no"},
		{"timezone variable wins over TZ", "Asia/Tokyo", []string{"--time", "2026-01-05T08:30:00Z", "--var", "timezone=America/New_York"}, "clock=yes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"route", "--conf", dir, "--json"}, tt.args...)
			r := runSwitchboard(t, []string{"TZ=" + tt.tz}, append(args, "5001")...)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r)
			}
			rep := decodeRoute(t, r.stdout)
			if len(rep.Actions) != 1 || rep.Actions[0].App+"("+rep.Actions[0].Data+")" != "set("+tt.want+")" {
				t.Errorf("TZ=%s %v: actions %+v, want set(%s)", tt.tz, tt.args, rep.Actions, tt.want)
			}
		})
	}
}

// TestRequireTool checks the helper later tests use to find external
// tools: the go command is found; a missing tool skips, or fails under
// SWITCHBOARD_E2E_STRICT=1.
func TestRequireTool(t *testing.T) {
	if p := requireTool(t, "go"); p == "" {
		t.Fatal("requireTool did not find go")
	}
	const missing = "switchboard-e2e-no-such-tool"
	for _, strict := range []string{"", "0", "1"} {
		t.Run("strict="+strict, func(t *testing.T) {
			t.Setenv(strictEnv, strict)
			rec := &recordingTB{TB: t}
			if p := requireTool(rec, missing); p != "" {
				t.Errorf("requireTool(%s) = %q", missing, p)
			}
			if strict == "1" {
				if rec.fatal == "" || rec.skip != "" {
					t.Errorf("strict: fatal %q, skip %q; want a failure", rec.fatal, rec.skip)
				}
			} else if rec.skip == "" || rec.fatal != "" {
				t.Errorf("not strict: fatal %q, skip %q; want a skip", rec.fatal, rec.skip)
			}
			if msg := rec.fatal + rec.skip; !strings.Contains(msg, missing) || !strings.Contains(msg, strictEnv) {
				t.Errorf("message %q does not name the tool and %s", msg, strictEnv)
			}
		})
	}
}

// recordingTB records Fatalf and Skipf instead of stopping the test.
type recordingTB struct {
	testing.TB
	fatal, skip string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Fatalf(format string, args ...any) { r.fatal = fmt.Sprintf(format, args...) }

func (r *recordingTB) Skipf(format string, args ...any) { r.skip = fmt.Sprintf(format, args...) }
