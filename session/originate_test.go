package session

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/conf"
)

// fakeDialer places fake legs: the target names what the far end does.
//
//	answer        rings, then answers
//	busy          486 (USER_BUSY)
//	reject-<N>    fails with Q.850 cause N
//	ring          rings until hung up
type fakeDialer struct {
	mu    sync.Mutex
	calls []*fakeCall
}

func (d *fakeDialer) Dial(_ context.Context, r DialRequest) (OutboundCall, error) {
	c := &fakeCall{target: r.Target, req: r, progress: make(chan Progress, 8)}
	d.mu.Lock()
	d.calls = append(d.calls, c)
	d.mu.Unlock()
	switch {
	case r.Target == "answer":
		c.progress <- Progress{Kind: ProgressRinging, Code: 180}
		c.progress <- Progress{Kind: ProgressAnswered, Code: 200}
		c.closeProgress()
	case r.Target == "busy":
		c.progress <- Progress{Kind: ProgressFailed, Code: 486, Cause: cause.CUserBusy}
		c.closeProgress()
	case strings.HasPrefix(r.Target, "reject-"):
		c.progress <- Progress{Kind: ProgressFailed, Code: 503, Cause: cause.Parse(strings.TrimPrefix(r.Target, "reject-"))}
		c.closeProgress()
	case r.Target == "ring":
		c.progress <- Progress{Kind: ProgressRinging, Code: 180}
	default:
		return nil, &DialError{Cause: cause.CInvalidNumberFormat}
	}
	return c, nil
}

func (d *fakeDialer) placed() []*fakeCall {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]*fakeCall(nil), d.calls...)
}

type fakeCall struct {
	target   string
	req      DialRequest
	progress chan Progress
	mu       sync.Mutex
	closed   bool
	hangups  []cause.Cause
}

func (c *fakeCall) closeProgress() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		close(c.progress)
	}
}

func (c *fakeCall) Name() string                               { return "fake/" + c.target }
func (c *fakeCall) Answer(context.Context) error               { return nil }
func (c *fakeCall) PreAnswer(context.Context) error            { return nil }
func (c *fakeCall) RingReady(context.Context, bool) error      { return nil }
func (c *fakeCall) Respond(context.Context, int, string) error { return nil }
func (c *fakeCall) Redirect(context.Context, string) error     { return nil }
func (c *fakeCall) Media() Media                               { return nil }
func (c *fakeCall) Progress() <-chan Progress                  { return c.progress }
func (c *fakeCall) Bind(*Session)                              {}
func (c *fakeCall) Hangup(hc cause.Cause) {
	c.mu.Lock()
	c.hangups = append(c.hangups, hc)
	wasClosed := c.closed
	c.closed = true
	c.mu.Unlock()
	if !wasClosed {
		// A ringing call reports its cancellation as its end.
		c.progress <- Progress{Kind: ProgressFailed, Cause: hc}
		close(c.progress)
	}
}

func (c *fakeCall) hangupCauses() []cause.Cause {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]cause.Cause(nil), c.hangups...)
}

func newOriginateManager(t *testing.T) (*Manager, *fakeDialer) {
	t.Helper()
	m := NewManager(Config{Snapshot: func() *conf.Snapshot { return nil }, Logger: slog.New(slog.DiscardHandler)})
	d := &fakeDialer{}
	m.SetDialer("fake", d)
	return m, d
}

func TestOriginate(t *testing.T) {
	tests := []struct {
		name      string
		dial      string
		winner    string // target of the answered leg, "" for none
		cause     cause.Cause
		legCauses map[string]cause.Cause // target → how its leg ended
	}{
		{name: "answer", dial: "fake/answer", winner: "answer", cause: cause.CSuccess},
		{name: "busy", dial: "fake/busy", cause: cause.CUserBusy},
		{name: "failover", dial: "fake/busy|fake/answer", winner: "answer", cause: cause.CSuccess},
		{name: "failover exhausted keeps the last cause", dial: "fake/busy|fake/reject-34", cause: cause.CNormalCircuitCongestion},
		{name: "simultaneous: the answer wins, the ringing leg loses the race", dial: "fake/ring,fake/answer", winner: "answer", cause: cause.CSuccess,
			legCauses: map[string]cause.Cause{"ring": cause.CLoseRace}},
		{name: "simultaneous all fail: the last leg's cause", dial: "fake/reject-34,fake/busy", cause: cause.CUserBusy},
		{name: "error endpoint", dial: "error/USER_NOT_REGISTERED", cause: cause.CUserNotRegistered},
		{name: "error endpoint then a working leg", dial: "error/NO_ROUTE_DESTINATION|fake/answer", winner: "answer", cause: cause.CSuccess},
		{name: "unknown technology", dial: "nosuch/1000", cause: cause.CChanNotImplemented},
		{name: "dialer refuses the target", dial: "fake/garbage", cause: cause.CInvalidNumberFormat},
		{name: "timeout", dial: "{originate_timeout=1}fake/ring", cause: cause.CNoAnswer,
			legCauses: map[string]cause.Cause{"ring": cause.CNoAnswer}},
		{name: "leg timeout ends one leg only", dial: "[leg_timeout=1]fake/ring|fake/answer", winner: "answer", cause: cause.CSuccess,
			legCauses: map[string]cause.Cause{"ring": cause.CNoAnswer}},
		{name: "enterprise: one group answers", dial: "fake/busy:_:fake/answer", winner: "answer", cause: cause.CSuccess},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, d := newOriginateManager(t)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			res := m.Originate(ctx, tc.dial, OriginateOptions{})
			if res.Cause != tc.cause {
				t.Errorf("cause %s, want %s", res.Cause, tc.cause)
			}
			switch {
			case tc.winner == "" && res.Leg != nil:
				t.Errorf("got leg %s, want none", res.Leg.Profile().ChanName)
			case tc.winner != "" && res.Leg == nil:
				t.Fatalf("no leg answered, want %s", tc.winner)
			case tc.winner != "":
				if got := res.Leg.Profile().ChanName; got != "fake/"+tc.winner {
					t.Errorf("winner %s, want fake/%s", got, tc.winner)
				}
				if !res.Leg.Answered() || res.Leg.State() != CSConsumeMedia && res.Leg.State() != CSInit {
					t.Errorf("winner answered=%v state=%s", res.Leg.Answered(), res.Leg.State())
				}
				if v, _ := res.Leg.Vars().Get("direction"); v != "outbound" {
					t.Errorf("direction %q", v)
				}
				res.Leg.Hangup(cause.CNormalClearing)
				<-res.Leg.Done()
			}
			// Every placed leg's session ends.
			waitSessions(t, m)
			for _, c := range d.placed() {
				want, ok := tc.legCauses[c.target]
				if !ok {
					continue
				}
				got := c.hangupCauses()
				if len(got) == 0 || got[0] != want {
					t.Errorf("leg %s hung up with %v, want %s", c.target, got, want)
				}
			}
		})
	}
}

// waitSessions waits until every session of m has ended.
func waitSessions(t *testing.T, m *Manager) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for m.Count() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := m.Count(); n != 0 {
		t.Errorf("%d sessions left", n)
	}
}

func TestOriginateCancelledByCaller(t *testing.T) {
	m, d := newOriginateManager(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan OriginateResult, 1)
	go func() { done <- m.Originate(ctx, "fake/ring,fake/ring", OriginateOptions{}) }()
	for len(d.placed()) < 2 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	res := <-done
	if res.Cause != cause.COriginatorCancel || res.Leg != nil {
		t.Fatalf("got %s %v, want ORIGINATOR_CANCEL", res.Cause, res.Leg)
	}
	waitSessions(t, m)
	for _, c := range d.placed() {
		if got := c.hangupCauses(); len(got) == 0 || got[0] != cause.COriginatorCancel {
			t.Errorf("leg hung up with %v", got)
		}
	}
}

func TestOriginateLegVariables(t *testing.T) {
	m, d := newOriginateManager(t)
	a := m.NewInbound(Inbound{Endpoint: &fakeEndpoint{}, Profile: &caller.Profile{CallerIDName: "Alice", CallerIDNumber: "1000", DestinationNumber: "1001"}})
	a.Vars().Set("export_vars", "exported_one, missing")
	a.Vars().Set("exported_one", "yes")
	a.Vars().Set("not_exported", "no")
	a.Vars().Set("effective_caller_id_number", "5551000")
	res := m.Originate(context.Background(), "{origination_caller_id_name=Bob,x=1}[y=2]fake/answer", OriginateOptions{Caller: a})
	if res.Leg == nil {
		t.Fatalf("no answer: %s", res.Cause)
	}
	req := d.placed()[0].req
	if req.CallerIDName != "Bob" || req.CallerIDNumber != "5551000" {
		t.Errorf("caller id %q <%s>", req.CallerIDName, req.CallerIDNumber)
	}
	for name, want := range map[string]string{"exported_one": "yes", "x": "1", "y": "2", "originator": a.UUID()} {
		if got, _ := res.Leg.Vars().Get(name); got != want {
			t.Errorf("B-leg %s=%q, want %q", name, got, want)
		}
	}
	if _, ok := res.Leg.Vars().Get("not_exported"); ok {
		t.Error("a variable that was not exported reached the B-leg")
	}
	for name, want := range map[string]string{"originate_disposition": "call accepted", "DIALSTATUS": "EARLY"} {
		if got, _ := a.Vars().Get(name); got != want {
			t.Errorf("A-leg %s=%q, want %q", name, got, want)
		}
	}
	if got, _ := a.Vars().Get("originated_legs"); got != res.Leg.UUID()+";;" {
		t.Errorf("originated_legs %q", got)
	}
	res.Leg.Hangup(cause.CNormalClearing)
	a.Hangup(cause.CNormalClearing)
}

func TestOriginateFailureVariables(t *testing.T) {
	tests := []struct {
		dial, disposition, dialstatus string
	}{
		{"fake/busy", "USER_BUSY", "BUSY"},
		{"error/CALL_REJECTED", "CALL_REJECTED", "DONTCALL"},
		{"error/NO_ANSWER", "NO_ANSWER", "NOANSWER"},
		{"error/NORMAL_TEMPORARY_FAILURE", "NORMAL_TEMPORARY_FAILURE", "NORMAL_TEMPORARY_FAILURE"},
	}
	for _, tc := range tests {
		m, _ := newOriginateManager(t)
		a := m.NewInbound(Inbound{Endpoint: &fakeEndpoint{}})
		m.Originate(context.Background(), tc.dial, OriginateOptions{Caller: a})
		got, _ := a.Vars().Get("originate_disposition")
		ds, _ := a.Vars().Get("DIALSTATUS")
		fc, _ := a.Vars().Get("originate_failed_cause")
		if got != tc.disposition || ds != tc.dialstatus || fc != tc.disposition {
			t.Errorf("%s: disposition %q DIALSTATUS %q failed_cause %q, want %q %q", tc.dial, got, ds, fc, tc.disposition, tc.dialstatus)
		}
	}
}

func TestHandleCause(t *testing.T) {
	tests := []struct {
		name      string
		vars      map[string]string
		c         cause.Cause
		continues bool
	}{
		{"no answer continues by default", nil, cause.CNoAnswer, true},
		{"no user response continues by default", nil, cause.CNoUserResponse, true},
		{"originator cancel continues by default", nil, cause.COriginatorCancel, true},
		{"busy hangs up by default", nil, cause.CUserBusy, false},
		{"continue_on_fail=true", map[string]string{"continue_on_fail": "true"}, cause.CUserBusy, true},
		{"continue_on_fail=false", map[string]string{"continue_on_fail": "false"}, cause.CUserBusy, false},
		{"continue_on_fail=false hangs up on no answer too", map[string]string{"continue_on_fail": "false"}, cause.CNoAnswer, false},
		{"continue_on_fail list by name", map[string]string{"continue_on_fail": "NORMAL_TEMPORARY_FAILURE,user_busy"}, cause.CUserBusy, true},
		{"continue_on_fail list by number", map[string]string{"continue_on_fail": "17"}, cause.CUserBusy, true},
		{"continue_on_fail list misses", map[string]string{"continue_on_fail": "NO_ANSWER"}, cause.CUserBusy, false},
		{"failure_causes lists it", map[string]string{"failure_causes": "USER_BUSY"}, cause.CUserBusy, false},
		{"failure_causes does not list it", map[string]string{"failure_causes": "USER_BUSY"}, cause.CNoRouteDestination, true},
		{"attended transfer never continues", map[string]string{"continue_on_fail": "true"}, cause.CAttendedTransfer, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewManager(Config{Snapshot: func() *conf.Snapshot { return nil }, Logger: slog.New(slog.DiscardHandler)})
			s := m.NewInbound(Inbound{Endpoint: &fakeEndpoint{}})
			for k, v := range tc.vars {
				s.Vars().Set(k, v)
			}
			s.handleCause(tc.c)
			if s.Ready() != tc.continues {
				t.Errorf("continues=%v, want %v", s.Ready(), tc.continues)
			}
			if !tc.continues && s.HangupCause() != tc.c {
				t.Errorf("hung up with %s, want %s", s.HangupCause(), tc.c)
			}
		})
	}
}

func TestAfterBridge(t *testing.T) {
	tests := []struct {
		name   string
		vars   map[string]string
		bCause cause.Cause
		want   string // "continue", "hangup", "park", "transfer"
	}{
		{"default continues", nil, cause.CNormalClearing, "continue"},
		{"hangup_after_bridge", map[string]string{"hangup_after_bridge": "true"}, cause.CNormalClearing, "hangup"},
		{"park_after_bridge wins", map[string]string{"hangup_after_bridge": "true", "park_after_bridge": "true"}, cause.CNormalClearing, "park"},
		{"transfer_after_bridge", map[string]string{"transfer_after_bridge": "9999:XML:default"}, cause.CNormalClearing, "transfer"},
		{"explicit", map[string]string{"hangup_after_bridge": "explicit", "park_after_bridge": "true"}, cause.CUserBusy, "hangup"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := newOriginateManager(t)
			a := m.NewInbound(Inbound{Endpoint: &fakeEndpoint{}})
			b := m.NewInbound(Inbound{Endpoint: &fakeEndpoint{}})
			for k, v := range tc.vars {
				a.Vars().Set(k, v)
			}
			b.Hangup(tc.bCause)
			a.afterBridge(b)
			got := "continue"
			switch {
			case !a.Ready():
				got = "hangup"
				if a.HangupCause() != tc.bCause {
					t.Errorf("hung up with %s, want the B-leg's %s", a.HangupCause(), tc.bCause)
				}
			case a.takePark():
				got = "park"
			case a.takeTransfer():
				got = "transfer"
			}
			if got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
			if v, _ := a.Vars().Get("bridge_hangup_cause"); v != tc.bCause.String() {
				t.Errorf("bridge_hangup_cause %q", v)
			}
		})
	}
}
