package commands

import (
	"context"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-voip/switchboard/events"
)

// DefaultHeartbeat is how often the core fires HEARTBEAT when switch.conf
// does not say (FreeSWITCH's event-heartbeat-interval default).
const DefaultHeartbeat = 20 * time.Second

// Heartbeat returns the HEARTBEAT event FreeSWITCH's core fires every
// interval: "System Ready", the uptime, the version, the session counts,
// rates and peaks, the idle CPU and the interval itself. env must offer
// Core (the running switch).
func Heartbeat(env Env, interval time.Duration) (*events.Event, bool) {
	c, ok := env.(Core)
	if !ok {
		return nil, false
	}
	info, _ := debug.ReadBuildInfo()
	full, human := versionParts(info)
	up := time.Since(c.Started())
	st := c.Sessions().Stats()
	e := events.New("HEARTBEAT")
	e.Add("Event-Info", "System Ready")
	e.Add("Up-Time", uptimeText(up))
	e.Add("FreeSWITCH-Version", full+" ("+strings.Join(human, " ")+")")
	e.Add("Uptime-msec", strconv.FormatInt(up.Milliseconds(), 10))
	e.Add("Session-Count", strconv.Itoa(st.Sessions))
	e.Add("Max-Sessions", strconv.Itoa(st.MaxSessions))
	e.Add("Session-Per-Sec", strconv.Itoa(st.LastSPS))
	e.Add("Session-Per-Sec-Last", strconv.Itoa(st.LastSPS))
	e.Add("Session-Per-Sec-Max", strconv.Itoa(st.PeakSPS))
	e.Add("Session-Per-Sec-FiveMin", strconv.Itoa(st.PeakSPS5Min))
	e.Add("Session-Since-Startup", strconv.FormatUint(st.Created, 10))
	e.Add("Session-Peak-Max", strconv.Itoa(st.Peak))
	e.Add("Session-Peak-FiveMin", strconv.Itoa(st.Peak5Min))
	e.Add("Idle-CPU", strconv.FormatFloat(c.IdleCPU(), 'f', 6, 64))
	e.Add("Heartbeat-Interval", strconv.Itoa(int(interval/time.Second)))
	return e, true
}

// RunHeartbeat fires a HEARTBEAT on bus every interval until ctx ends,
// building it only when somebody listens.
func RunHeartbeat(ctx context.Context, env Env, bus *events.Bus, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultHeartbeat
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !bus.Wants("HEARTBEAT", "") {
			continue
		}
		if e, ok := Heartbeat(env, interval); ok {
			bus.Fire(e)
		}
	}
}
