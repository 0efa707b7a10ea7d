package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/cause"
	apicmd "github.com/switchboard-voip/switchboard/commands"
	"github.com/switchboard-voip/switchboard/session"
)

// `switchboard api status` runs without a switch: it answers in
// FreeSWITCH's layout, "not ready", with switch.conf's limits.
func TestAPIStatusOffline(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"freeswitch.xml": `<document type="freeswitch/xml">
  <section name="configuration">
    <configuration name="switch.conf">
      <settings><param name="max-sessions" value="77"/><param name="sessions-per-second" value="9"/></settings>
    </configuration>
  </section>
</document>
`,
	})
	r := runAPICLI(t, "--conf", dir, "--state-dir", t.TempDir(), "status")
	if r.code != exitOK || r.stderr != "" {
		t.Fatalf("switchboard api status: %s", r)
	}
	lines := strings.Split(r.stdout, "\n")
	for i, re := range []string{
		`^UP 0 years, 0 days, 0 hours, 0 minutes, \d+ seconds?, \d+ milliseconds?, \d+ microseconds?$`,
		`^Switchboard \(Version .+\) is not ready$`,
		`^0 session\(s\) since startup$`,
		`^0 session\(s\) - peak 0, last 5min 0 $`,
		`^0 session\(s\) per Sec out of max 9, peak 0, last 5min 0 $`,
		`^77 session\(s\) max$`,
		`^min idle cpu 0\.00/\d+\.\d\d$`,
	} {
		if i >= len(lines) || !regexp.MustCompile(re).MatchString(lines[i]) {
			t.Errorf("line %d does not match %s:\n%s", i+1, re, r.stdout)
		}
	}
	for _, c := range [][]string{{"uuid_kill", "x"}, {"show", "channels"}, {"db", "select/a/b"}} {
		r := runAPICLI(t, append([]string{"--conf", dir, "--state-dir", t.TempDir()}, c...)...)
		if r.code != exitError || !strings.HasSuffix(r.stdout, " needs a running switch\n") {
			t.Errorf("switchboard api %s: %s", strings.Join(c, " "), r)
		}
	}
}

// ctlEndpoint is a call leg with no signalling and no media.
type ctlEndpoint struct{}

func (ctlEndpoint) Name() string                               { return "sofia/internal/1000@127.0.0.1" }
func (ctlEndpoint) Answer(context.Context) error               { return nil }
func (ctlEndpoint) PreAnswer(context.Context) error            { return nil }
func (ctlEndpoint) RingReady(context.Context, bool) error      { return nil }
func (ctlEndpoint) Respond(context.Context, int, string) error { return nil }
func (ctlEndpoint) Redirect(context.Context, string) error     { return nil }
func (ctlEndpoint) Media() session.Media                       { return nil }
func (ctlEndpoint) Hangup(cause.Cause)                         {}

// The running switch provides every capability the commands look for.
func TestSwitchCommands(t *testing.T) {
	sw, _ := startTestSwitch(t, obsFlags{})
	api := func(cmd, args string) string { return apicmd.Execute(context.Background(), sw, cmd, args) }
	eventually := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	quit := func() apicmd.ShutdownMode {
		t.Helper()
		select {
		case m := <-sw.ctl.quit:
			return m
		case <-time.After(10 * time.Second):
			t.Fatal("no stop was requested")
		}
		return ""
	}

	if got := api("status", ""); !strings.Contains(got, ") is ready\n0 session(s) since startup\n") || !strings.Contains(got, "\n10 session(s) max\n") {
		t.Errorf("status =\n%s", got)
	}
	s := sw.mgr.NewInbound(session.Inbound{Endpoint: ctlEndpoint{}, Profile: &caller.Profile{DestinationNumber: "1002", Context: "default"}})
	s.Start()
	eventually("the parked call", func() bool { return s.State() == session.CSPark })
	for _, c := range []struct{ cmd, args, want string }{
		{"uuid_exists", s.UUID(), "true"},
		{"show", "channels count", "\n1 total.\n"},
		{"uuid_setvar", s.UUID() + " team blue", "+OK\n"},
		{"eval", "${uuid_getvar " + s.UUID() + " team}", "blue"},
		{"hash", "insert/r/k/v", "+OK\n"},
		{"hash", "select/r/k", "v"},
		{"db", "insert/r/k/v", "+OK"},
		{"db", "select/r/k", "v"},
		{"fsctl", "loglevel warning", "+OK log level: WARNING [4]\n"},
		{"sched_api", "+0 now global_setvar scheduled=yes", "+OK Added: 1\n"},
		{"fsctl", "shutdown elegant", "+OK\n"},
		{"fsctl", "shutdown_check", "true"},
		{"fsctl", "shutdown cancel", "+OK\n"},
		{"fsctl", "shutdown_check", "false"},
		{"fsctl", "shutdown asap", "+OK\n"},
		{"fsctl", "pause_check", "true"},
	} {
		if got := api(c.cmd, c.args); got != c.want {
			t.Errorf("%s %s = %q, want %q", c.cmd, c.args, got, c.want)
		}
	}
	eventually("the scheduled command", func() bool { v, _ := sw.globals.Get("scheduled"); return v == "yes" })
	if got := api("status", ""); !strings.Contains(got, "is not ready") {
		t.Errorf("status while shutting down asap =\n%s", got)
	}
	select {
	case m := <-sw.ctl.quit:
		t.Fatalf("stop %q requested with a call up", m)
	default:
	}
	if got := api("uuid_kill", s.UUID()); got != "+OK\n" {
		t.Errorf("uuid_kill = %q", got)
	}
	if m := quit(); m != apicmd.ShutdownASAP {
		t.Errorf("stop requested as %q, want asap", m)
	}
	if got := api("fsctl", "shutdown now"); got != "+OK\n" || quit() != apicmd.ShutdownNow || sw.ctl.stopTimeout(time.Minute) != time.Second {
		t.Errorf("fsctl shutdown now = %q", got)
	}
}
