package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-voip/switchboard/session"
)

func init() {
	Register(Command{Name: "status", Usage: "", Description: "Show current status", Run: status})
	Register(Command{Name: "uptime", Usage: uptimeUsage, Description: "Show uptime", Run: uptime})
}

const uptimeUsage = "[us|ms|s|m|h|d|microseconds|milliseconds|seconds|minutes|hours|days]"

// processStart is when this process loaded the package: the start of
// the uptime `switchboard api` reports, which runs no switch. Set once.
var processStart = time.Now()

// status is `status`, in FreeSWITCH's layout line for line (tools match
// it with regular expressions), with Switchboard's name and version in
// the second line:
//
//	UP 0 years, 0 days, 5 hours, 39 minutes, 32 seconds, 931 milliseconds, 598 microseconds
//	Switchboard (Version 1.2.0 git abc1234 go1.26.8 64bit) is ready
//	3 session(s) since startup
//	1 session(s) - peak 2, last 5min 2
//	0 session(s) per Sec out of max 30, peak 1, last 5min 1
//	1000 session(s) max
//	min idle cpu 0.00/97.62
//	Current Stack Size/Max 8192K/18014398509481983K
//
// The fourth and fifth lines end in a space, as FreeSWITCH's do. "ready"
// becomes "not ready" while new calls are refused (fsctl pause, a
// shutdown) and under `switchboard api`, which runs no switch: there the
// uptime is the command's own process's, the session figures are 0 and
// the limits are switch.conf's. The idle CPU is the machine's, from
// /proc/stat, since the previous status (since boot offline); the first
// figure is switch.conf's min-idle-cpu, which Switchboard shows but does
// not enforce. The last line is the process's stack rlimit (omitted where
// there is none).
func status(_ context.Context, env Env, _ string) (string, error) {
	var (
		started = processStart
		st      session.Stats
		ready   bool
		idle    float64
	)
	if c, ok := coreOf(env); ok {
		started = c.Started()
		st = c.Sessions().Stats()
		ready = c.Sessions().Ready()
		idle = c.IdleCPU()
	} else {
		settings := switchSettings(env)
		st.MaxSessions = atoiOr(settings["max-sessions"], 1000)
		st.MaxSPS = atoiOr(settings["sessions-per-second"], 30)
		idle = idleSinceBoot()
	}
	var b strings.Builder
	b.WriteString("UP " + uptimeText(now(env).Sub(started)) + "\n")
	state := "ready"
	if !ready {
		state = "not ready"
	}
	info, _ := debug.ReadBuildInfo()
	full, human := versionParts(info)
	fmt.Fprintf(&b, "Switchboard (Version %s %s) is %s\n", full, strings.Join(human, " "), state)
	fmt.Fprintf(&b, "%d session(s) since startup\n", st.Created)
	fmt.Fprintf(&b, "%d session(s) - peak %d, last 5min %d \n", st.Sessions, st.Peak, st.Peak5Min)
	fmt.Fprintf(&b, "%d session(s) per Sec out of max %d, peak %d, last 5min %d \n", st.LastSPS, st.MaxSPS, st.PeakSPS, st.PeakSPS5Min)
	fmt.Fprintf(&b, "%d session(s) max\n", st.MaxSessions)
	fmt.Fprintf(&b, "min idle cpu %0.2f/%0.2f\n", minIdleCPU(env), idle)
	if soft, hard, ok := stackSizes(); ok {
		fmt.Fprintf(&b, "Current Stack Size/Max %dK/%dK\n", soft/1024, hard/1024)
	}
	return b.String(), nil
}

// uptimeText spells d as status's UP line does: years of 365 days, days,
// hours, minutes, seconds, milliseconds and microseconds, each with an
// "s" unless it is 1.
func uptimeText(d time.Duration) string {
	us := max(d.Microseconds(), 0)
	parts := []struct {
		n    int64
		unit string
	}{
		{us / 1e6 / 86400 / 365, "year"},
		{us / 1e6 / 86400 % 365, "day"},
		{us / 1e6 / 3600 % 24, "hour"},
		{us / 1e6 / 60 % 60, "minute"},
		{us / 1e6 % 60, "second"},
		{us / 1000 % 1000, "millisecond"},
		{us % 1000, "microsecond"},
	}
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = strconv.FormatInt(p.n, 10) + " " + p.unit
		if p.n != 1 {
			out[i] += "s"
		}
	}
	return strings.Join(out, ", ")
}

// uptime is `uptime [unit]`: the switch's uptime as a whole number of
// microseconds, milliseconds, seconds (the default), minutes, hours or
// days.
func uptime(_ context.Context, env Env, args string) (string, error) {
	started := processStart
	if c, ok := coreOf(env); ok {
		started = c.Started()
	}
	var unit time.Duration
	switch strings.ToLower(args) {
	case "", "seconds", "s":
		unit = time.Second
	case "microseconds", "us":
		unit = time.Microsecond
	case "milliseconds", "ms":
		unit = time.Millisecond
	case "minutes", "m":
		unit = time.Minute
	case "hours", "h":
		unit = time.Hour
	case "days", "d":
		unit = 24 * time.Hour
	default:
		return "-USAGE: " + uptimeUsage + "\n", nil
	}
	return strconv.FormatInt(int64(max(now(env).Sub(started), 0)/unit), 10) + "\n", nil
}

// switchSettings returns the configuration's switch.conf settings (nil
// without a configuration).
func switchSettings(env Env) map[string]string {
	if snap := env.Snapshot(); snap != nil {
		return snap.Settings("switch.conf")
	}
	return nil
}

// minIdleCPU is switch.conf's min-idle-cpu (0 when unset).
func minIdleCPU(env Env) float64 {
	f, err := strconv.ParseFloat(strings.TrimSpace(switchSettings(env)["min-idle-cpu"]), 64)
	if err != nil || f < 0 {
		return 0
	}
	return f
}

// atoiOr reads s as a number, or returns def.
func atoiOr(s string, def int) int {
	if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
		return n
	}
	return def
}

// CPUTimes are the machine's CPU counters: the first ("cpu") line of
// /proc/stat, in clock ticks.
type CPUTimes struct {
	User, Nice, System, Idle, IOWait, IRQ, SoftIRQ, Steal uint64
}

// ParseCPUTimes reads the "cpu" line of a /proc/stat text.
func ParseCPUTimes(procStat []byte) (CPUTimes, error) {
	line, _, _ := bytes.Cut(procStat, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 8 || f[0] != "cpu" {
		return CPUTimes{}, errors.New("no cpu line in /proc/stat")
	}
	var v [8]uint64
	for i := range v {
		if i+1 >= len(f) {
			break // kernels before 2.6.11 have no steal column
		}
		n, err := strconv.ParseUint(f[i+1], 10, 64)
		if err != nil {
			return CPUTimes{}, fmt.Errorf("/proc/stat cpu line: %w", err)
		}
		v[i] = n
	}
	return CPUTimes{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]}, nil
}

// ReadCPUTimes reads the machine's counters from /proc/stat.
func ReadCPUTimes() (CPUTimes, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return CPUTimes{}, fmt.Errorf("reading CPU times: %w", err)
	}
	return ParseCPUTimes(b)
}

// IdleSince returns the share of idle time, in percent, between the
// counters prev and t, counted as FreeSWITCH counts it: I/O wait and
// steal time are busy time. ok is false when no tick passed in between.
func (t CPUTimes) IdleSince(prev CPUTimes) (idle float64, ok bool) {
	busy := (t.User - prev.User) + (t.Nice - prev.Nice) + (t.System - prev.System) +
		(t.IRQ - prev.IRQ) + (t.SoftIRQ - prev.SoftIRQ) + (t.IOWait - prev.IOWait) + (t.Steal - prev.Steal)
	idleTicks := t.Idle - prev.Idle
	total := busy + idleTicks
	if total == 0 {
		return 0, false
	}
	return 100 * float64(idleTicks) / float64(total), true
}

// idleSinceBoot is the machine's idle share since boot, or 100 (what
// FreeSWITCH shows when it cannot read the counters) when /proc/stat is
// not readable.
func idleSinceBoot() float64 {
	t, err := ReadCPUTimes()
	if err != nil {
		return 100
	}
	if idle, ok := t.IdleSince(CPUTimes{}); ok {
		return idle
	}
	return 100
}

// IdleMeter measures the machine's idle CPU between successive calls of
// Idle. It is safe for concurrent use.
type IdleMeter struct {
	read func() (CPUTimes, error)

	mu    sync.Mutex
	last  CPUTimes
	value float64
	ok    bool // read works
}

// NewIdleMeter returns a meter reading the counters with read (nil:
// ReadCPUTimes) and takes its first sample.
func NewIdleMeter(read func() (CPUTimes, error)) *IdleMeter {
	if read == nil {
		read = ReadCPUTimes
	}
	m := &IdleMeter{read: read, value: 100}
	if t, err := read(); err == nil {
		m.last, m.ok = t, true
	}
	return m
}

// Idle returns the idle share, in percent, since the previous call (since
// NewIdleMeter for the first). When no clock tick passed it returns the
// previous figure; when the counters cannot be read, 100, as FreeSWITCH
// does.
func (m *IdleMeter) Idle() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, err := m.read()
	if err != nil {
		m.ok = false
		return 100
	}
	if !m.ok {
		m.last, m.ok = t, true
		return m.value
	}
	if idle, ok := t.IdleSince(m.last); ok {
		m.value, m.last = idle, t
	}
	return m.value
}
