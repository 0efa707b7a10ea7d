package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/apps"
)

// routeConf is a small configuration whose dialplan uses only implemented
// applications, so check reports no warnings on it.
const routeConf = "testdata/route"

// TestExitCodes pins the exit code of every subcommand: 0 success, 1 a
// configuration or runtime error (file:line on stderr, nothing on stdout),
// 2 a usage error.
func TestExitCodes(t *testing.T) {
	broken := writeTree(t, map[string]string{
		"freeswitch.xml": rootXML,
		"dialplan/a.xml": "<include>\n  <context name=\"default\">\n    <extension name=\"a\">\n  </context>\n</include>\n",
	})
	brokenAt := filepath.Join(broken, "dialplan", "a.xml") + ":4: "
	brokenFile := filepath.Join(broken, "dialplan", "a.xml")
	missing := filepath.Join(t.TempDir(), "nothing-here")

	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     string // substring stdout must hold; "" means stdout must be empty
		stderr     string // substring stderr must hold
		stderrNone bool   // stderr must be empty
	}{
		{name: "no command means run (bad flag)", args: []string{"--no-such-flag"}, code: 2, stderr: "usage: switchboard run"},
		{name: "help", args: []string{"help"}, code: 0, stdout: "usage: switchboard <command>", stderrNone: true},
		{name: "--help", args: []string{"--help"}, code: 0, stdout: "commands:", stderrNone: true},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, stderr: `unknown command "frobnicate"`},

		{name: "check ok", args: []string{"check", "--conf", routeConf}, code: 0, stdout: "configuration OK", stderrNone: true},
		{name: "check embedded", args: []string{"check"}, code: 0, stdout: "configuration OK"},
		{name: "check bad flag", args: []string{"check", "--bogus"}, code: 2, stderr: "flag provided but not defined: -bogus"},
		{name: "check positional", args: []string{"check", "extra"}, code: 2, stderr: "usage: switchboard check"},
		{name: "check bad log level", args: []string{"check", "--log-level", "loud"}, code: 2, stderr: "-log-level"},
		{name: "check broken conf", args: []string{"check", "--conf", broken}, code: 1, stderr: brokenAt},
		{name: "check missing conf dir", args: []string{"check", "--conf", missing}, code: 1, stderr: "nothing-here"},
		{name: "check bad --set", args: []string{"check", "--set", "novalue"}, code: 2, stderr: "-set"},
		{name: "check --set bad name", args: []string{"check", "--set", "a}b=1"}, code: 2, stderr: "invalid variable name"},
		{name: "check --set empty name", args: []string{"check", "--set", "=1"}, code: 2, stderr: "-set"},

		{name: "route ok", args: []string{"route", "--conf", routeConf, "--json", "1000"}, code: 0, stdout: `"result": "route"`, stderrNone: true},
		{name: "route no route is success", args: []string{"route", "--conf", routeConf, "--json", "4321"}, code: 0, stdout: `"result": "no_route"`, stderrNone: true},
		{name: "route unknown context is success", args: []string{"route", "--conf", routeConf, "--context", "nosuch", "4321"}, code: 0, stdout: "no route"},
		{name: "route missing DEST", args: []string{"route", "--conf", routeConf, "--json"}, code: 2, stderr: "usage: switchboard route"},
		{name: "route two DESTs", args: []string{"route", "--conf", routeConf, "1000", "1001"}, code: 2, stderr: "usage: switchboard route"},
		{name: "route bad flag", args: []string{"route", "--jsn", "1000"}, code: 2, stderr: "-jsn"},
		{name: "route bad --time month", args: []string{"route", "--time", "2026-13-01T00:00:00", "1000"}, code: 2, stderr: "--time"},
		{name: "route bad --time words", args: []string{"route", "--time", "tomorrow", "1000"}, code: 2, stderr: "--time"},
		{name: "route bad --time offset", args: []string{"route", "--time", "2026-01-05T09:30:00+1", "1000"}, code: 2, stderr: "--time"},
		{name: "route bad --time date only", args: []string{"route", "--time", "2026-01-05", "1000"}, code: 2, stderr: "--time"},
		{name: "route bad --field", args: []string{"route", "--field", "caller_id_number", "1000"}, code: 2, stderr: "NAME=VALUE"},
		{name: "route bad --var", args: []string{"route", "--var", "=x", "1000"}, code: 2, stderr: "NAME=VALUE"},
		{name: "route bad --set", args: []string{"route", "--set", "x", "1000"}, code: 2, stderr: "-set"},
		{name: "route broken conf", args: []string{"route", "--conf", broken, "--json", "1000"}, code: 1, stderr: brokenAt},
		{name: "route --time checked before the conf", args: []string{"route", "--conf", broken, "--time", "noon", "1000"}, code: 2, stderr: "--time"},

		{name: "convert no args", args: []string{"convert"}, code: 2, stderr: "usage: switchboard convert"},
		{name: "convert without --to", args: []string{"convert", brokenFile}, code: 2, stderr: "usage: switchboard convert"},
		{name: "convert bad --to", args: []string{"convert", "--to", "json", brokenFile}, code: 2, stderr: "usage: switchboard convert"},
		{name: "convert two files", args: []string{"convert", "--to", "yaml", brokenFile, brokenFile}, code: 2, stderr: "usage: switchboard convert"},
		{name: "convert broken file", args: []string{"convert", "--to", "yaml", brokenFile}, code: 1, stderr: brokenAt},
		{name: "convert missing file", args: []string{"convert", "--to", "yaml", missing}, code: 1, stderr: "nothing-here"},
		{name: "convert a directory", args: []string{"convert", "--to", "xml", broken}, code: 1, stderr: "directory"},
		{name: "convert takes --set", args: []string{"convert", "--set", "a=b", "--to", "xml", filepath.Join(routeConf, "dialplan", "other.xml")}, code: 0, stdout: `<context name="chain">`, stderrNone: true},

		{name: "version", args: []string{"version"}, code: 0, stdout: "go:", stderrNone: true},
		{name: "version takes --set", args: []string{"version", "--set", "a=b"}, code: 0, stdout: "go:", stderrNone: true},
		{name: "version positional", args: []string{"version", "extra"}, code: 2, stderr: "usage: switchboard version"},
		{name: "version bad flag", args: []string{"version", "--json"}, code: 2, stderr: "-json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, tt.args...)
			if r.code != tt.code {
				t.Fatalf("switchboard %s: exit %d, want %d\n%s", strings.Join(tt.args, " "), r.code, tt.code, r)
			}
			if tt.stdout == "" && r.stdout != "" {
				t.Errorf("stdout should be empty:\n%s", r)
			}
			if !strings.Contains(r.stdout, tt.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, r)
			}
			if !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, r)
			}
			if tt.stderrNone && r.stderr != "" {
				t.Errorf("stderr should be empty:\n%s", r)
			}
		})
	}
}

// TestCheckSummary checks the success output: one summary line on stdout,
// with the counts of the configuration.
func TestCheckSummary(t *testing.T) {
	r := runCLI(t, "check", "--conf", routeConf)
	want := "configuration OK: 4 contexts, 12 extensions, 0 directory users, 0 warnings\n"
	if r.code != 0 || r.stdout != want || r.stderr != "" {
		t.Fatalf("check --conf %s:\n%s\nwant stdout %q", routeConf, r, want)
	}
	if s := runCLI(t, "check", "--conf", routeConf, "--strict"); s.code != 0 || s.stdout != want {
		t.Errorf("--strict on a configuration without warnings:\n%s", s)
	}

	// The embedded default: a single summary line, whatever it holds.
	r = runCLI(t, "check")
	line := regexp.MustCompile(`^configuration OK: [1-9]\d* contexts, [1-9]\d* extensions, \d+ directory users, \d+ warnings\n$`)
	if r.code != 0 || !line.MatchString(r.stdout) {
		t.Fatalf("check on the embedded default:\n%s", r)
	}
	for _, l := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if l != "" && !strings.HasPrefix(l, "warning: ") {
			t.Errorf("check on the embedded default: stderr line is not a warning: %q", l)
		}
	}
}

// notImplemented returns an application FreeSWITCH ships that is not
// registered yet, and whether one exists.
func notImplemented(inline bool) (string, bool) {
	for _, info := range apps.Catalogue() {
		if _, ok := apps.Lookup(info.Name); ok {
			continue
		}
		if inline && info.Flags&apps.RoutingExec == 0 {
			continue
		}
		return info.Name, true
	}
	return "", false
}

// notInline returns a catalogued application that may not run inline.
func notInline() (string, bool) {
	for _, info := range apps.Catalogue() {
		if info.Flags&apps.RoutingExec == 0 {
			return info.Name, true
		}
	}
	return "", false
}

// TestCheckStrict checks that application warnings go to stderr with
// file:line, leave the exit code at 0, and become errors (exit 1, nothing
// on stdout) with --strict.
func TestCheckStrict(t *testing.T) {
	dialplan := func(app, attrs string) string {
		return fmt.Sprintf(`<include>
  <context name="default">
    <extension name="a">
      <condition field="destination_number" expression="^1$">
        <action application="%s" data="x"%s/>
      </condition>
    </extension>
  </context>
</include>
`, app, attrs)
	}
	type tcase struct {
		name, app, attrs, msg string
	}
	cases := []tcase{{"unknown application", "frobnicate", "", `unknown application "frobnicate"`}}
	if app, ok := notImplemented(false); ok {
		cases = append(cases, tcase{"not implemented yet", app, "", fmt.Sprintf("application %q is not implemented yet", app)})
	} else {
		t.Log("every catalogued application is implemented; skipping that case")
	}
	if app, ok := notInline(); ok {
		cases = append(cases, tcase{"not allowed inline", app, ` inline="true"`, fmt.Sprintf("application %q cannot be executed inline", app)})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeTree(t, map[string]string{"freeswitch.xml": rootXML, "dialplan/a.xml": dialplan(tc.app, tc.attrs)})
			want := filepath.Join(dir, "dialplan", "a.xml") + ":5: " + tc.msg

			r := runCLI(t, "check", "--conf", dir)
			if r.code != 0 {
				t.Fatalf("without --strict a warning must not fail:\n%s", r)
			}
			if !strings.Contains(r.stderr, "warning: "+want) {
				t.Errorf("stderr lacks %q:\n%s", "warning: "+want, r)
			}
			if !regexp.MustCompile(`, [1-9]\d* warnings\n$`).MatchString(r.stdout) {
				t.Errorf("summary does not count the warning:\n%s", r)
			}

			r = runCLI(t, "check", "--conf", dir, "--strict")
			if r.code != 1 {
				t.Fatalf("--strict: exit %d, want 1\n%s", r.code, r)
			}
			if r.stdout != "" {
				t.Errorf("--strict failure printed on stdout:\n%s", r)
			}
			if !strings.Contains(r.stderr, want) {
				t.Errorf("--strict: stderr lacks %q:\n%s", want, r)
			}
		})
	}
}

// TestRouteJSON runs route --json on testdata/route and checks the one
// JSON object it prints.
func TestRouteJSON(t *testing.T) {
	tests := []struct {
		name      string
		args      []string // without --conf and --json
		context   string
		extension string // "<null>" for no route
		actions   []string
		inline    []string
		vars      map[string]string // must be among the variables
	}{
		{
			name: "capture and load-time global", args: []string{"1000"},
			context: "default", extension: "local",
			actions: []string{"set(target=1000@conf.example)", "export(dial=user/1000@${domain_name})"},
			vars:    map[string]string{"DP_MATCH": "ARRAY::1000|:1000"},
		},
		{
			name: "--set wins over the conf's own set", args: []string{"--set", "domain=cli.example", "1019"},
			context: "default", extension: "local",
			actions: []string{"set(target=1019@cli.example)", "export(dial=user/1019@${domain_name})"},
		},
		{
			name: "--set names are case-insensitive and the last wins", args: []string{"--set", "domain=first.example", "--set", "DOMAIN=last.example", "1001"},
			context: "default", extension: "local",
			actions: []string{"set(target=1001@last.example)", "export(dial=user/1001@${domain_name})"},
		},
		{
			name: "--field sets a caller-profile field", args: []string{"--field", "caller_id_number=555", "2000"},
			context: "default", extension: "vip", actions: []string{"set(vip=yes)"},
		},
		{
			name: "without the field there is no route", args: []string{"--field", "caller_id_number=556", "2000"},
			context: "default", extension: "<null>",
		},
		{
			name: "--var sets a channel variable", args: []string{"--var", "team=sales", "3000"},
			context: "default", extension: "team", actions: []string{"set(queue=sales)"},
			vars: map[string]string{"team": "sales"},
		},
		{
			name: "--var other value", args: []string{"--var", "team=support", "3000"},
			context: "default", extension: "<null>", vars: map[string]string{"team": "support"},
		},
		{
			name: "--context", args: []string{"--context", "public", "--field", "network_addr=203.0.113.9", "1000"},
			context: "public", extension: "trusted_did", actions: []string{"set(from=carrier)"},
		},
		{
			name: "--context names compare case-insensitively", args: []string{"--context", "PUBLIC", "--field", "network_addr=203.0.113.9", "1000"},
			context: "public", extension: "trusted_did", actions: []string{"set(from=carrier)"},
		},
		{
			name: "--context without the field", args: []string{"--context", "public", "1000"},
			context: "public", extension: "<null>",
		},
		{
			name: "unknown context falls back to global", args: []string{"--context", "nosuch", "8000"},
			context: "global", extension: "fallback", actions: []string{"set(via=global)"},
		},
		{
			name: "unknown context, nothing matches in global", args: []string{"--context", "nosuch", "1000"},
			context: "global", extension: "<null>",
		},
		{
			name: "the first extension that appended names the route", args: []string{"--context", "chain", "1"},
			context: "chain", extension: "first", actions: []string{"set(seen=first)", "set(seen=second)"},
		},
		{
			name: "a match without actions is no route", args: []string{"7000"},
			context: "default", extension: "<null>",
		},
		{
			name: "inline actions run during the hunt", args: []string{"6000"},
			context: "default", extension: "inline",
			actions: []string{"log(INFO greeted)"}, inline: []string{"set(greeting=hello)"},
			vars: map[string]string{"greeting": "hello"},
		},
		{
			name: "nothing matches", args: []string{"4321"},
			context: "default", extension: "<null>",
		},
		{
			name: "--time without offset is server local time: open", args: []string{"--time", "2026-01-05T09:30:00", "5000"},
			context: "default", extension: "office", actions: []string{"set(office=open)"},
		},
		{
			name: "--time without seconds", args: []string{"--time", "2026-01-05T17:59", "5000"},
			context: "default", extension: "office", actions: []string{"set(office=open)"},
		},
		{
			name: "--time on a Sunday: closed", args: []string{"--time", "2026-01-04T09:30:00", "5000"},
			context: "default", extension: "office", actions: []string{"set(office=closed)"},
		},
		{
			name: "--time after hours: closed", args: []string{"--time", "2026-01-05T18:00:00", "5000"},
			context: "default", extension: "office", actions: []string{"set(office=closed)"},
		},
		{
			name: "offset instant with tod_tz_offset", args: []string{"--time", "2026-01-05T09:30:00+01:00", "--var", "tod_tz_offset=-5", "5001"},
			context: "default", extension: "clock", actions: []string{"set(clock=03:30)"},
		},
		{
			name: "the same instant written in Z", args: []string{"--time", "2026-01-05T08:30:00Z", "--var", "tod_tz_offset=-5", "5001"},
			context: "default", extension: "clock", actions: []string{"set(clock=03:30)"},
		},
		{
			name: "tod_tz_offset shifts the clock", args: []string{"--time", "2026-01-05T09:30:00+01:00", "--var", "tod_tz_offset=-4", "5001"},
			context: "default", extension: "clock", actions: []string{"set(clock=other)"},
		},
		{
			name: "timezone in winter", args: []string{"--time", "2026-01-05T08:30:00Z", "--var", "timezone=America/New_York", "5001"},
			context: "default", extension: "clock", actions: []string{"set(clock=03:30)"},
		},
		{
			name: "timezone in summer (DST)", args: []string{"--time", "2026-07-01T07:30:00Z", "--var", "timezone=America/New_York", "5001"},
			context: "default", extension: "clock", actions: []string{"set(clock=03:30)"},
		},
		{
			name: "timezone is a zone, not a fixed offset", args: []string{"--time", "2026-07-01T08:30:00Z", "--var", "timezone=America/New_York", "5001"},
			context: "default", extension: "clock", actions: []string{"set(clock=other)"},
		},
		{
			name: "tod_tz_offset wins over timezone", args: []string{"--time", "2026-01-05T08:30:00Z", "--var", "timezone=Asia/Tokyo", "--var", "tod_tz_offset=-5", "5001"},
			context: "default", extension: "clock", actions: []string{"set(clock=03:30)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"route", "--conf", routeConf, "--json"}, tt.args...)
			r := runCLI(t, args...)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r)
			}
			if r.stderr != "" {
				t.Errorf("unexpected stderr:\n%s", r)
			}
			rep := decodeRoute(t, r.stdout)
			if rep.Context != tt.context {
				t.Errorf("context = %q, want %q", rep.Context, tt.context)
			}
			if got := ext(rep.Extension); got != tt.extension {
				t.Errorf("extension = %s, want %s", got, tt.extension)
			}
			wantResult := "route"
			if tt.extension == "<null>" {
				wantResult = "no_route"
			}
			if rep.Result != wantResult {
				t.Errorf("result = %q, want %q", rep.Result, wantResult)
			}
			var actions, inline []string
			for _, a := range rep.Actions {
				actions = append(actions, a.App+"("+a.Data+")")
			}
			for _, a := range rep.Inline {
				inline = append(inline, a.App+"("+a.Data+")")
			}
			if !slices.Equal(actions, tt.actions) {
				t.Errorf("actions = %q, want %q", actions, tt.actions)
			}
			if !slices.Equal(inline, tt.inline) {
				t.Errorf("inline = %q, want %q", inline, tt.inline)
			}
			for k, v := range tt.vars {
				if got, ok := rep.Variables[k]; !ok || got != v {
					t.Errorf("variables[%q] = %q (set %v), want %q; all: %v", k, got, ok, v, rep.Variables)
				}
			}
		})
	}
}

// TestRouteArgumentOrder checks that flags may follow DEST, and that "--"
// ends the flags.
func TestRouteArgumentOrder(t *testing.T) {
	want := runCLI(t, "route", "--conf", routeConf, "--json", "--field", "caller_id_number=555", "2000")
	if want.code != 0 {
		t.Fatalf("flags first:\n%s", want)
	}
	if ext(decodeRoute(t, want.stdout).Extension) != "vip" {
		t.Fatalf("flags first did not route to vip:\n%s", want)
	}
	for _, args := range [][]string{
		{"route", "2000", "--json", "--conf", routeConf, "--field", "caller_id_number=555"},
		{"route", "--conf", routeConf, "2000", "--field=caller_id_number=555", "--json"},
		{"route", "--conf", routeConf, "--field", "caller_id_number=555", "--json", "--", "2000"},
	} {
		r := runCLI(t, args...)
		if r.code != 0 || r.stdout != want.stdout {
			t.Errorf("switchboard %s:\n%s\nwant the same output as with the flags first:\n%s", strings.Join(args, " "), r, want.stdout)
		}
	}

	// After "--" a DEST may start with a dash.
	r := runCLI(t, "route", "--conf", routeConf, "--json", "--", "-1")
	if r.code != 0 {
		t.Fatalf("DEST after --:\n%s", r)
	}
	if rep := decodeRoute(t, r.stdout); rep.Result != "no_route" {
		t.Errorf("DEST -1 routed: %+v", rep)
	}
}

// TestRouteTrace checks the readable output: FreeSWITCH-style dialplan
// lines, then the route with each action's source position.
func TestRouteTrace(t *testing.T) {
	abs, err := filepath.Abs(filepath.Join(routeConf, "dialplan", "default.xml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		lines []string // each must be a whole line of stdout, in this order
	}{
		{
			name: "route", args: []string{"1000"},
			lines: []string{
				"Dialplan: route/1000 parsing [default->local] continue=false",
				"Dialplan: route/1000 Regex (PASS) [local] destination_number(1000) =~ /^(10[01][0-9])$/ break=on-false",
				"route: context default, extension local",
				"   1. set(target=1000@conf.example)    [" + abs + ":8]",
				"   2. export(dial=user/1000@${domain_name})    [" + abs + ":9]",
			},
		},
		{
			name: "failing conditions before the match", args: []string{"9196"},
			lines: []string{
				"Dialplan: route/9196 parsing [default->local] continue=false",
				"Dialplan: route/9196 Regex (FAIL) [local] destination_number(9196) =~ /^(10[01][0-9])$/ break=on-false",
				"Dialplan: route/9196 parsing [default->echo] continue=false",
				"Dialplan: route/9196 Regex (PASS) [echo] destination_number(9196) =~ /^9196$/ break=on-false",
				"route: context default, extension echo",
			},
		},
		{
			name: "no route", args: []string{"4321"},
			lines: []string{
				"Dialplan: route/4321 Regex (FAIL) [echo] destination_number(4321) =~ /^9196$/ break=on-false",
				"No Route, Aborting",
				"no route: context default",
			},
		},
		{
			name: "unknown context", args: []string{"--context", "nosuch", "8000"},
			lines: []string{
				"Dialplan: route/8000 parsing [nosuch->fallback] continue=false",
				"route: context global, extension fallback",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, append([]string{"route", "--conf", routeConf}, tt.args...)...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d\n%s", r.code, r)
			}
			lines := strings.Split(r.stdout, "\n")
			for i := range lines {
				lines[i] = strings.TrimRight(lines[i], " ")
			}
			at := 0
			for _, want := range tt.lines {
				i := slices.Index(lines[at:], want)
				if i < 0 {
					t.Fatalf("stdout lacks the line %q (after line %d):\n%s", want, at, r.stdout)
				}
				at += i + 1
			}
			if strings.HasPrefix(strings.TrimSpace(r.stdout), "{") {
				t.Errorf("the trace must not be JSON:\n%s", r.stdout)
			}
		})
	}
}

// TestRouteEmbedded routes 9196 on the embedded default configuration.
func TestRouteEmbedded(t *testing.T) {
	r := runCLI(t, "route", "--json", "9196")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r)
	}
	rep := decodeRoute(t, r.stdout)
	if rep.Context != "default" || ext(rep.Extension) != "echo" {
		t.Errorf("9196 routed to %s/%s, want default/echo", rep.Context, ext(rep.Extension))
	}
	if !slices.ContainsFunc(rep.Actions, func(a jsonAction) bool { return a.App == "echo" }) {
		t.Errorf("9196 has no echo action: %+v", rep.Actions)
	}
}

// TestVersion checks that version prints the module path and the Go
// version from the build information.
func TestVersion(t *testing.T) {
	r := runCLI(t, "version")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("version:\n%s", r)
	}
	for _, want := range []string{
		"module:   github.com/switchboard-voip/switchboard\n",
		"go:       " + runtime.Version() + "\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("version output lacks %q:\n%s", want, r.stdout)
		}
	}
	if !regexp.MustCompile(`(?m)^revision: (unknown|[0-9a-f]{7,64})(-dirty)?$`).MatchString(r.stdout) {
		t.Errorf("version output has no revision line:\n%s", r.stdout)
	}
}

// TestParseTime checks the --time forms: with an offset an instant, without
// one the wall clock in time.Local.
func TestParseTime(t *testing.T) {
	tests := []struct {
		in     string
		ok     bool
		offset bool   // the result carries the written offset
		unix   int64  // when offset: the instant
		wall   string // when !offset: the local wall clock, 2006-01-02T15:04:05
	}{
		{in: "2026-01-05T09:30:00+01:00", ok: true, offset: true, unix: 1767601800},
		{in: "2026-01-05T08:30:00Z", ok: true, offset: true, unix: 1767601800},
		{in: "2026-01-05T03:30:00-05:00", ok: true, offset: true, unix: 1767601800},
		{in: "2026-01-05T09:30+01:00", ok: true, offset: true, unix: 1767601800},
		{in: "2026-01-05T09:30:00", ok: true, wall: "2026-01-05T09:30:00"},
		{in: "2026-01-05T09:30", ok: true, wall: "2026-01-05T09:30:00"},
		{in: "2026-02-30T09:30:00"},
		{in: "2026-01-05T24:00:00"},
		{in: "2026-01-05 09:30:00"},
		{in: "2026-01-05T09:30:00+0100"},
		{in: "2026-01-05T09:30:00 +01:00"},
		{in: "2026-01-05T09:30:00EST"},
		{in: "09:30"},
		{in: "1767601800"},
		{in: ""},
		{in: "-"},
	}
	for _, tt := range tests {
		got, err := parseTime(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("parseTime(%q) error %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if !tt.ok {
			continue
		}
		if tt.offset {
			if got.Unix() != tt.unix {
				t.Errorf("parseTime(%q) = %v (unix %d), want unix %d", tt.in, got, got.Unix(), tt.unix)
			}
			continue
		}
		if got.Location() != time.Local || got.Format("2006-01-02T15:04:05") != tt.wall {
			t.Errorf("parseTime(%q) = %v in %v, want %s local", tt.in, got, got.Location(), tt.wall)
		}
	}
}

// FuzzParseTime checks that parseTime never panics and that every time it
// accepts, written back with its offset, reads as the same instant.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-01-05T09:30:00+01:00", "2026-01-05T09:30:00", "2026-01-05T09:30Z", "2026-01-05T09:30:00.25", "2026-13-01T00:00:00", "", "-", "2026-01-05T09:30:00+"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseTime(s)
		if err != nil {
			return
		}
		again, err := parseTime(got.Format(time.RFC3339Nano))
		if err != nil || !again.Equal(got) {
			t.Errorf("parseTime(%q) = %v; written back it reads %v, %v", s, got, again, err)
		}
	})
}
