package commands

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/session"
)

func TestStatus(t *testing.T) {
	env := newLive(t)
	env.started = testNow.Add(-(366*24*time.Hour + 3*time.Hour + 4*time.Minute + 5*time.Second + 6*time.Millisecond + 7*time.Microsecond))
	env.idle = 97.375
	startCall(t, env, "park", "1000", session.CSPark)
	startCall(t, env, "park", "2000", session.CSPark)
	out := run(env, "status", "")
	lines := strings.Split(out, "\n")
	want := []string{
		"UP 1 year, 1 day, 3 hours, 4 minutes, 5 seconds, 6 milliseconds, 7 microseconds",
		"", // checked below
		"2 session(s) since startup",
		"2 session(s) - peak 2, last 5min 2 ",
		"", // the per-second line depends on the wall clock's seconds
		"200 session(s) max",
		"min idle cpu 12.50/97.38",
	}
	if len(lines) < len(want) {
		t.Fatalf("status =\n%s", out)
	}
	for i, w := range want {
		if w != "" && lines[i] != w {
			t.Errorf("line %d = %q, want %q", i+1, lines[i], w)
		}
	}
	if !regexp.MustCompile(`^Switchboard \(Version \S+ .*64bit\) is ready$`).MatchString(lines[1]) {
		t.Errorf("line 2 = %q", lines[1])
	}
	if !regexp.MustCompile(`^\d+ session\(s\) per Sec out of max 1000, peak \d+, last 5min \d+ $`).MatchString(lines[4]) {
		t.Errorf("line 5 = %q", lines[4])
	}
	if stack := lines[7]; stack != "" && !regexp.MustCompile(`^Current Stack Size/Max \d+K/\d+K$`).MatchString(stack) {
		t.Errorf("line 8 = %q", stack)
	}
	if !strings.HasSuffix(out, "\n") {
		t.Error("status does not end with a newline")
	}

	env.mgr.Pause(session.AllTraffic, true)
	if l := strings.Split(run(env, "status", ""), "\n")[1]; !strings.HasSuffix(l, " is not ready") {
		t.Errorf("paused: %q", l)
	}
	if got := run(env, "show", "status"); !strings.HasPrefix(got, "UP 1 year, 1 day") {
		t.Errorf("show status = %q", got)
	}
}

func TestStatusOffline(t *testing.T) {
	env := newEnv(t)
	lines := strings.Split(run(env, "status", ""), "\n")
	checks := []struct {
		line int
		re   string
	}{
		{0, `^UP \d+ years?, \d+ days?, \d+ hours?, \d+ minutes?, \d+ seconds?, \d+ milliseconds?, \d+ microseconds?$`},
		{1, `^Switchboard \(Version .*\) is not ready$`},
		{2, `^0 session\(s\) since startup$`},
		{3, `^0 session\(s\) - peak 0, last 5min 0 $`},
		{4, `^0 session\(s\) per Sec out of max 30, peak 0, last 5min 0 $`},
		{5, `^1000 session\(s\) max$`},
		{6, `^min idle cpu 0\.00/\d+\.\d\d$`},
	}
	for _, c := range checks {
		if c.line >= len(lines) || !regexp.MustCompile(c.re).MatchString(lines[c.line]) {
			t.Errorf("line %d of the offline status does not match %s:\n%s", c.line+1, c.re, strings.Join(lines, "\n"))
		}
	}
}

func TestUptimeText(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0 years, 0 days, 0 hours, 0 minutes, 0 seconds, 0 milliseconds, 0 microseconds"},
		{time.Hour + time.Minute + time.Second + time.Millisecond + time.Microsecond, "0 years, 0 days, 1 hour, 1 minute, 1 second, 1 millisecond, 1 microsecond"},
		{365*24*time.Hour + 2*24*time.Hour + 23*time.Hour + 59*time.Minute, "1 year, 2 days, 23 hours, 59 minutes, 0 seconds, 0 milliseconds, 0 microseconds"},
		{-time.Second, "0 years, 0 days, 0 hours, 0 minutes, 0 seconds, 0 milliseconds, 0 microseconds"},
	}
	for _, tt := range tests {
		if got := uptimeText(tt.d); got != tt.want {
			t.Errorf("uptimeText(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestUptime(t *testing.T) {
	env := newLive(t)
	env.started = testNow.Add(-(49*time.Hour + 30*time.Minute + 1500*time.Millisecond))
	tests := []struct{ args, want string }{
		{"", "178201\n"},
		{"s", "178201\n"},
		{"ms", "178201500\n"},
		{"microseconds", "178201500000\n"},
		{"m", "2970\n"},
		{"HOURS", "49\n"},
		{"d", "2\n"},
		{"weeks", "-USAGE: " + uptimeUsage + "\n"},
	}
	for _, tt := range tests {
		if got := run(env, "uptime", tt.args); got != tt.want {
			t.Errorf("uptime %s = %q, want %q", tt.args, got, tt.want)
		}
	}
}

func TestCPUTimes(t *testing.T) {
	stat := "cpu  100 10 50 800 20 5 5 10 0 0\ncpu0 1 2 3 4 5 6 7 8\nintr 1\n"
	got, err := ParseCPUTimes([]byte(stat))
	if err != nil || got != (CPUTimes{100, 10, 50, 800, 20, 5, 5, 10}) {
		t.Fatalf("ParseCPUTimes = %+v, %v", got, err)
	}
	old, err := ParseCPUTimes([]byte("cpu 100 10 50 600 20 5 5\n")) // no steal column
	if err != nil {
		t.Fatal(err)
	}
	// 200 idle ticks and 10 steal ticks since old.
	if idle, ok := got.IdleSince(old); !ok || idle < 95.23 || idle > 95.24 {
		t.Errorf("IdleSince = %v, %v; want 200/210", idle, ok)
	}
	if _, ok := got.IdleSince(got); ok {
		t.Error("IdleSince with no ticks reported a figure")
	}
	for _, bad := range []string{"", "intr 1\n", "cpu 1 2 x 4 5 6 7\n"} {
		if _, err := ParseCPUTimes([]byte(bad)); err == nil {
			t.Errorf("ParseCPUTimes(%q) did not fail", bad)
		}
	}
}

func TestIdleMeter(t *testing.T) {
	samples := []CPUTimes{
		{User: 100, Idle: 100},
		{User: 150, Idle: 150}, // 50% idle since the first
		{User: 150, Idle: 150}, // no tick: the previous figure
		{User: 160, Idle: 240}, // 90%
	}
	i := 0
	var fail bool
	m := NewIdleMeter(func() (CPUTimes, error) {
		if fail {
			return CPUTimes{}, errors.New("no /proc")
		}
		s := samples[i]
		i++
		return s, nil
	})
	for _, want := range []float64{50, 50, 90} {
		if got := m.Idle(); got != want {
			t.Errorf("Idle() = %v, want %v", got, want)
		}
	}
	fail = true
	if got := m.Idle(); got != 100 {
		t.Errorf("Idle() without counters = %v, want 100", got)
	}
}
