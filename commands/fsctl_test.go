package commands

import (
	"strings"
	"testing"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/events"
	"github.com/switchboard-voip/switchboard/session"
)

// busEnv is a liveEnv with an event bus.
type busEnv struct {
	*liveEnv
	bus *events.Bus
}

func (e *busEnv) Events() *events.Bus { return e.bus }

func TestFsctl(t *testing.T) {
	live := newLive(t)
	env := &busEnv{liveEnv: live, bus: events.NewBus(events.BusConfig{CoreUUID: "core"})}
	sub := env.bus.Subscribe(10)
	if err := sub.Add("SHUTDOWN_REQUESTED"); err != nil {
		t.Fatal(err)
	}
	invalid := "-ERR Invalid command\nUSAGE: fsctl " + fsctlUsage + "\n"
	steps := []struct{ args, want string }{
		{"", "-USAGE: " + fsctlUsage + "\n"},
		{"bogus", invalid},
		{"debug_level 5", "-ERR fsctl debug_level is not supported\n"},
		{"ready_check", "true"},
		{"pause inbound", "+OK\n"},
		{"pause_check inbound", "true"},
		{"pause_check", "false"},
		{"ready_check", "true"},
		{"resume inbound", "+OK\n"},
		{"pause_check inbound", "false"},
		{"PAUSE", "+OK\n"},
		{"pause_check", "true"},
		{"ready_check", "false"},
		{"resume", "+OK\n"},
		{"ready_check", "true"},
		{"pause outbound", "+OK\n"},
		{"pause_check outbound", "true"},
		{"max_sessions", "+OK max sessions: 200\n"},
		{"max_sessions 5", "+OK max sessions: 5\n"},
		{"max_sessions 0", "+OK max sessions: 5\n"},
		{"sps", "+OK sessions per second: 1000\n"},
		{"sps 40", "+OK sessions per second: 40\n"},
		{"last_sps", "+OK last sessions per second: 0\n"},
		{"sps_peak_reset", "+OK max sessions per second counter reset\n"},
		{"loglevel", "+OK log level: INFO [6]\n"},
		{"loglevel debug", "+OK log level: DEBUG [7]\n"},
		{"loglevel 9", "+OK log level: DEBUG [7]\n"},
		{"loglevel 3", "+OK log level: ERR [3]\n"},
		{"loglevel nosuch", "-ERR syntax error, log level not set!\n"},
		{"reclaim_mem", "+OK\n"},
		{"shutdown_check", "false"},
		{"shutdown elegant", "+OK\n"},
		{"shutdown_check", "true"},
		{"shutdown cancel elegant", "+OK\n"},
		{"shutdown_check", "false"},
		{"shutdown elegant asap", "+OK\n"},
		{"shutdown restart", "-ERR fsctl shutdown restart is not supported: restart the service instead\n"},
		{"shutdown reincarnate now", "-ERR fsctl shutdown reincarnate is not supported: restart the service instead\n"},
		{"shutdown now", "+OK\n"},
		{"shutdown", "+OK\n"},
	}
	for _, st := range steps {
		if got := run(env, "fsctl", st.args); got != st.want {
			t.Errorf("fsctl %s = %q, want %q", st.args, got, st.want)
		}
	}
	want := []ShutdownMode{ShutdownElegant, ShutdownCancel, ShutdownASAP, ShutdownNow, ShutdownNormal}
	if strings.Join(modes(live.shutdowns), ",") != strings.Join(modes(want), ",") {
		t.Errorf("shutdowns %q, want %q", live.shutdowns, want)
	}
	if lim := live.mgr.Limits(); lim != (session.Limits{MaxSessions: 5, SessionsPerSecond: 40}) {
		t.Errorf("limits %+v", lim)
	}
	var infos []string
	for len(sub.C()) > 0 {
		infos = append(infos, (<-sub.C()).Get("Event-Info"))
	}
	if strings.Join(infos, ",") != "elegant,ASAP" {
		t.Errorf("SHUTDOWN_REQUESTED events %q", infos)
	}

	s, _ := startCall(t, live, "park", "1000", session.CSPark)
	if got := run(env, "fsctl", "hupall"); got != "+OK\n" {
		t.Errorf("fsctl hupall = %q", got)
	}
	waitEnded(t, s)
}

func modes(m []ShutdownMode) []string {
	out := make([]string, len(m))
	for i, x := range m {
		out[i] = "[" + string(x) + "]"
	}
	return out
}

func TestConsole(t *testing.T) {
	env := newLive(t)
	steps := []struct {
		args, want string
		level      apps.LogLevel
	}{
		{"", consoleUsage, apps.LogInfo},
		{"help", consoleUsage, apps.LogInfo},
		{"loglevel", "+OK console log level set to INFO\n", apps.LogInfo},
		{"loglevel help", consoleLevelUsage, apps.LogInfo},
		{"loglevel debug", "+OK console log level set to DEBUG\n", apps.LogDebug},
		{"LOGLEVEL 4", "+OK console log level set to WARNING\n", apps.LogWarning},
		{"loglevel warn", "-ERR Invalid console loglevel (warn)!\n\n", apps.LogWarning},
		{"loglevel err", "+OK console log level set to ERR\n", apps.LogErr},
		{"colorize on", "-ERR console colorize is not supported\n", apps.LogErr},
	}
	for _, st := range steps {
		if got := run(env, "console", st.args); got != st.want {
			t.Errorf("console %s = %q, want %q", st.args, got, st.want)
		}
		if got := env.LogLevel().Level(); got != st.level.Slog() {
			t.Errorf("after console %s: slog level %v, want %v", st.args, got, st.level.Slog())
		}
	}
}
