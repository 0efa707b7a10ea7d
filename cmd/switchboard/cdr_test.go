package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/session"
)

// nullEndpoint is a call leg's signalling side that accepts everything.
type nullEndpoint struct {
	mu      sync.Mutex
	hangups int
}

func (*nullEndpoint) Name() string                               { return "test/leg" }
func (*nullEndpoint) Answer(context.Context) error               { return nil }
func (*nullEndpoint) PreAnswer(context.Context) error            { return nil }
func (*nullEndpoint) RingReady(context.Context, bool) error      { return nil }
func (*nullEndpoint) Respond(context.Context, int, string) error { return nil }
func (*nullEndpoint) Redirect(context.Context, string) error     { return nil }
func (*nullEndpoint) Media() session.Media                       { return nil }
func (e *nullEndpoint) Hangup(cause.Cause)                       { e.mu.Lock(); e.hangups++; e.mu.Unlock() }

// TestCDRsOncePerLeg: every leg gets exactly one CSV line and one JSON
// object, with its cause: a busy refusal, an answered call, a number with
// no route, and a call still up when the switch shuts down.
func TestCDRsOncePerLeg(t *testing.T) {
	sw, _ := startTestSwitch(t, obsFlags{})
	want := map[string]string{} // uuid → hangup cause
	var parked *session.Session
	for _, c := range []struct{ dest, cause string }{
		{"1000", "USER_BUSY"},
		{"1001", "NORMAL_CLEARING"},
		{"9999", "NO_ROUTE_DESTINATION"},
		{"1002", "SYSTEM_SHUTDOWN"},
	} {
		s := sw.mgr.NewInbound(session.Inbound{Endpoint: &nullEndpoint{}, Profile: &caller.Profile{DestinationNumber: c.dest, Context: "default"}})
		want[s.UUID()] = c.cause
		s.Start()
		if c.dest == "1002" {
			parked = s
			continue
		}
		select {
		case <-s.Done():
		case <-time.After(10 * time.Second):
			t.Fatalf("call to %s did not end", c.dest)
		}
	}
	waitFor(t, "the parked call to be answered", func() bool { return parked.Answered() })
	logDir, _ := sw.current.Load().Global("log_dir")
	stopTestSwitch(t, sw) // hangs the parked call up

	b, err := os.ReadFile(filepath.Join(logDir, "cdr-csv", "Master.csv"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		// The built-in template: ...,"hangup_cause","uuid","bleg_uuid", "accountcode"
		f := strings.Split(line, `","`)
		if len(f) < 11 {
			t.Fatalf("CSV line %q", line)
		}
		uuid, c := f[10], f[9]
		if _, dup := got[uuid]; dup {
			t.Errorf("two CSV records for %s", uuid)
		}
		got[uuid] = c
	}
	if len(got) != len(want) {
		t.Errorf("%d CSV records, want %d:\n%s", len(got), len(want), b)
	}
	for uuid, c := range want {
		if got[uuid] != c {
			t.Errorf("CSV record of %s: cause %q, want %q", uuid, got[uuid], c)
		}
	}

	b, err = os.ReadFile(filepath.Join(logDir, "cdr-jsonl", "cdr.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		var r struct {
			UUID        string            `json:"uuid"`
			HangupCause string            `json:"hangup_cause"`
			Variables   map[string]string `json:"variables"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if seen[r.UUID] || want[r.UUID] != r.HangupCause || len(r.Variables) != 1 {
			t.Errorf("JSON record %s", line)
		}
		seen[r.UUID] = true
	}
	if len(seen) != len(want) {
		t.Errorf("%d JSON records, want %d", len(seen), len(want))
	}

	// The metrics counted the same legs.
	fams, err := sw.Metrics().Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	counted := map[string]float64{}
	for _, f := range fams {
		if f.GetName() == "switchboard_calls_total" {
			for _, m := range f.GetMetric() {
				counted[labelValue(m, "hangup_cause")] = m.GetCounter().GetValue()
			}
		}
	}
	for _, c := range want {
		if counted[c] != 1 {
			t.Errorf("switchboard_calls_total{hangup_cause=%q} = %v, want 1", c, counted[c])
		}
	}
}
