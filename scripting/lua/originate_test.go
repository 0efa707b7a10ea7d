package lua

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/session"
)

// The tests' outbound calls go through the real call core
// (session.Manager.Originate) to the "fake" technology: fake/answer/<x>
// rings and answers, fake/busy/<x> is refused with 486, fake/ring/<x>
// rings until it is cancelled. testEnv implements scripting.Originator
// the way the switch does.

// Originate is the switch's scripting.Originator: the answered leg is
// left waiting for the script.
func (e *testEnv) Originate(ctx context.Context, aLeg apps.Session, dial string, timeout time.Duration) (apps.Session, cause.Cause) {
	o := session.OriginateOptions{Timeout: timeout}
	if a, ok := aLeg.(*session.Session); ok {
		o.Caller = a
	}
	res := e.mgr.Originate(ctx, dial, o)
	if res.Leg == nil {
		return nil, res.Cause
	}
	return res.Leg, cause.CSuccess
}

// fakeDialer places the fake/ legs and remembers them.
type fakeDialer struct {
	mu    sync.Mutex
	calls []*fakeCall
}

func (d *fakeDialer) Dial(_ context.Context, req session.DialRequest) (session.OutboundCall, error) {
	kind, _, _ := strings.Cut(req.Target, "/")
	c := &fakeCall{fakeEndpoint: fakeEndpoint{name: "fake/" + req.Target, media: &fakeMedia{}},
		uuid: req.UUID, progress: make(chan session.Progress, 4)}
	switch kind {
	case "answer":
		c.progress <- session.Progress{Kind: session.ProgressRinging, Code: 180}
		c.progress <- session.Progress{Kind: session.ProgressAnswered, Code: 200}
		c.closeProgress()
	case "busy":
		c.progress <- session.Progress{Kind: session.ProgressFailed, Code: 486, Reason: "Busy Here"}
		c.closeProgress()
	case "ring":
		c.progress <- session.Progress{Kind: session.ProgressRinging, Code: 180}
	default:
		return nil, &session.DialError{Cause: cause.CNoRouteDestination, Err: fmt.Errorf("no such fake target %q", req.Target)}
	}
	d.mu.Lock()
	d.calls = append(d.calls, c)
	d.mu.Unlock()
	return c, nil
}

// call returns the leg placed with UUID uuid, or nil.
func (d *fakeDialer) call(uuid string) *fakeCall {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.calls {
		if c.uuid == uuid {
			return c
		}
	}
	return nil
}

// count returns how many legs were placed.
func (d *fakeDialer) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.calls)
}

// only returns the one leg placed, failing the test otherwise.
func (d *fakeDialer) only(t *testing.T) *fakeCall {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.calls) != 1 {
		t.Fatalf("%d legs placed, want 1", len(d.calls))
	}
	return d.calls[0]
}

// fakeCall is a fake leg's signalling: it records how it was hung up.
type fakeCall struct {
	fakeEndpoint
	uuid     string
	progress chan session.Progress

	mu     sync.Mutex
	closed bool // progress is closed
	hungup []cause.Cause
}

func (c *fakeCall) closeProgress() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		close(c.progress)
	}
}

func (c *fakeCall) Progress() <-chan session.Progress     { return c.progress }
func (c *fakeCall) Bind(*session.Session)                 {}
func (c *fakeCall) Answer(context.Context) error          { return nil }
func (c *fakeCall) PreAnswer(context.Context) error       { return nil }
func (c *fakeCall) RingReady(context.Context, bool) error { return nil }

// Hangup records the cause; a ringing leg's CANCEL ends its attempt.
func (c *fakeCall) Hangup(hc cause.Cause) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hungup = append(c.hungup, hc)
	if c.closed {
		return
	}
	select {
	case c.progress <- session.Progress{Kind: session.ProgressFailed, Cause: hc}:
	default:
	}
	c.closed = true
	close(c.progress)
}

// causes returns the causes the leg was hung up with.
func (c *fakeCall) causes() []cause.Cause {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]cause.Cause(nil), c.hungup...)
}

// waitHungup waits until the leg's endpoint was told to hang up, and
// returns the cause.
func (c *fakeCall) waitHungup(t *testing.T) cause.Cause {
	t.Helper()
	waitFor(t, "the leg's hangup", func() bool { return len(c.causes()) > 0 })
	return c.causes()[0]
}

// freeswitch.Session(dial) places a call through the call core: the
// object holds the answered leg (SUCCESS, its UUID, its variables) and
// hangs it up when the script ends, unless setAutoHangup(false) said
// otherwise; a refused call leaves an object that is not ready, with the
// cause.
func TestSessionOriginates(t *testing.T) {
	tests := []struct {
		name      string
		code      string
		want      map[string]string
		endCause  cause.Cause // the leg's cause after the script; 0: still up
		noLegMade bool
	}{
		{
			name: "answered, hung up at the end",
			code: `local leg = freeswitch.Session("fake/answer/1001")
put("ready", leg:ready())
put("answered", leg:answered())
put("cause", leg:hangupCause())
put("uuid_ok", leg.uuid ~= nil and leg.uuid ~= session.uuid and leg:get_uuid() == leg.uuid)
put("uuid_var", leg:getVariable("uuid") == leg.uuid)
put("global", _G[leg.uuid] == leg)
put("direction", leg:getVariable("direction"))
put("leg_disposition", leg:getVariable("originate_disposition"))
put("a_disposition", session:getVariable("originate_disposition"))
put("bridged", leg:bridged())
leg:setVariable("set_by_script", "yes")
put("readback", leg:getVariable("set_by_script"))
`,
			want: map[string]string{"ready": "true", "answered": "true", "cause": "SUCCESS", "uuid_ok": "true",
				"uuid_var": "true", "global": "true", "direction": "outbound", "leg_disposition": "nil",
				"a_disposition": "nil", "bridged": "false", "readback": "yes"},
			endCause: cause.CNormalClearing,
		},
		{
			name: "with the script's channel as the A-leg",
			code: `local leg = freeswitch.Session("fake/answer/1001", session)
put("ready", leg:ready())
put("originator", leg:getVariable("originating_leg_uuid") == session.uuid)
put("a_disposition", session:getVariable("originate_disposition"))
put("a_dialstatus", session:getVariable("DIALSTATUS"))
put("a_legs", session:getVariable("originated_legs"):sub(1, #leg.uuid) == leg.uuid)
`,
			// FreeSWITCH's results, its inverted DIALSTATUS test included.
			want: map[string]string{"ready": "true", "originator": "true", "a_disposition": "call accepted",
				"a_dialstatus": "EARLY", "a_legs": "true"},
			endCause: cause.CNormalClearing,
		},
		{
			name: "setAutoHangup(false) keeps the leg",
			code: `local leg = freeswitch.Session("fake/answer/1001")
put("auto", leg:setAutoHangup(false))
put("leg_uuid", leg.uuid)
`,
			want: map[string]string{"auto": "0"},
		},
		{
			name: "destroy hangs up at once",
			code: `local leg = freeswitch.Session("fake/answer/1001")
local uuid = leg.uuid
leg:destroy()
put("after_destroy", leg:ready())
put("uuid_after", leg.uuid)
local api, gone = freeswitch.API(), false
for i = 1, 400 do -- the hangup completes on the leg's own goroutine
  if api:executeString("uuid_exists " .. uuid) == "false" then gone = true break end
  freeswitch.msleep(5)
end
put("gone_before_end", gone)
`,
			want:     map[string]string{"after_destroy": "false", "uuid_after": "nil", "gone_before_end": "true"},
			endCause: cause.CNormalClearing,
		},
		{
			name: "busy",
			code: `local leg = freeswitch.Session("fake/busy/1001", session)
put("ready", leg:ready())
put("cause", leg:hangupCause())
put("uuid", leg.uuid)
put("state", leg:getState())
put("a_disposition", session:getVariable("originate_disposition"))
put("a_dialstatus", session:getVariable("DIALSTATUS"))
`,
			want: map[string]string{"ready": "false", "cause": "USER_BUSY", "uuid": "nil", "state": "ERROR",
				"a_disposition": "USER_BUSY", "a_dialstatus": "BUSY"},
			endCause: cause.CUserBusy,
		},
		{
			name: "no such endpoint",
			code: `local leg = freeswitch.Session("nosuchtech/1001")
put("ready", leg:ready())
put("cause", leg:hangupCause())
`,
			want:      map[string]string{"ready": "false", "cause": "CHAN_NOT_IMPLEMENTED"},
			noLegMade: true,
		},
		{
			name: "a bad dial string",
			code: `local leg = freeswitch.Session("{unterminated=1fake/answer/1")
put("ready", leg:ready())
put("cause", leg:hangupCause())
`,
			want:      map[string]string{"ready": "false", "cause": "INVALID_NUMBER_FORMAT"},
			noLegMade: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			c := e.run(put + tt.code)
			wantVars(t, c, tt.want)
			if tt.noLegMade {
				if n := e.dialer.count(); n != 0 {
					t.Errorf("%d legs placed, want none", n)
				}
				return
			}
			leg := e.dialer.only(t)
			if tt.endCause == 0 {
				time.Sleep(50 * time.Millisecond) // what a hangup at the end would take
				if got := leg.causes(); len(got) != 0 {
					t.Fatalf("the leg was hung up (%v); setAutoHangup(false) should keep it", got)
				}
				if s := e.mgr.Get(c.v("leg_uuid")); s == nil || !s.Ready() {
					t.Fatal("the leg is gone")
				}
				return
			}
			if got := leg.waitHungup(t); got != tt.endCause {
				t.Errorf("the leg ended with %v, want %v", got, tt.endCause)
			}
			if !c.Ready() {
				t.Error("the script's own channel was hung up")
			}
		})
	}
}

// session:originate on an empty object: FreeSWITCH's inverted result (0
// success, 1 failure), the timeout in seconds, no auto-hangup and no
// UUID global (as LUA::Session::originate).
func TestSessionMethodOriginate(t *testing.T) {
	e := newEnv(t, nil)
	c := e.run(put + `
local leg = freeswitch.Session()
put("ok", leg:originate(session, "fake/answer/1001", 10))
put("ready", leg:ready())
put("cause", leg:hangupCause())
put("global", _G[leg.uuid] ~= nil)
put("leg_uuid", leg.uuid)
local busy = freeswitch.Session()
put("busy", busy:originate(nil, "fake/busy/1002"))
put("busy_cause", busy:hangupCause())
local late = freeswitch.Session()
put("timeout", late:originate(nil, "fake/ring/1003", 1))
put("timeout_cause", late:hangupCause())
`)
	wantVars(t, c, map[string]string{"ok": "0", "ready": "true", "cause": "SUCCESS", "global": "false",
		"busy": "1", "busy_cause": "USER_BUSY", "timeout": "1", "timeout_cause": "NO_ANSWER"})
	leg := e.dialer.call(c.v("leg_uuid"))
	if leg == nil {
		t.Fatal("no leg for the originated UUID")
	}
	time.Sleep(50 * time.Millisecond) // what a hangup at the end would take
	if got := leg.causes(); len(got) != 0 {
		t.Errorf("the leg was hung up at the script's end (%v): session:originate sets no auto-hangup", got)
	}
	if s := e.mgr.Get(c.v("leg_uuid")); s == nil || !s.Ready() {
		t.Fatal("the originated leg is gone")
	}
}

// The A-leg's hangup cancels the originate (ORIGINATOR_CANCEL); the
// script goes on with a failed object.
func TestOriginateCancelledByALeg(t *testing.T) {
	e := newEnv(t, nil)
	e.write("t.lua", put+`
session:setVariable("phase", "calling")
local leg = freeswitch.Session("fake/ring/1001", session)
freeswitch.setGlobalVariable("cancel_ready", tostring(leg:ready()))
freeswitch.setGlobalVariable("cancel_cause", leg:hangupCause())
`)
	c := e.dial("answered", "t.lua")
	c.waitVar("phase", "calling")
	waitFor(t, "the leg to be placed", func() bool { return e.dialer.count() == 1 })
	c.Hangup(cause.CNormalClearing)
	waitFor(t, "the script's end", func() bool { _, ok := e.Runtime.Get("cancel_cause"); return ok })
	if v, _ := e.Runtime.Get("cancel_cause"); v != "ORIGINATOR_CANCEL" {
		t.Errorf("cause %q, want ORIGINATOR_CANCEL", v)
	}
	if v, _ := e.Runtime.Get("cancel_ready"); v != "false" {
		t.Errorf("ready %q, want false", v)
	}
	if got := e.dialer.only(t).waitHungup(t); got != cause.COriginatorCancel {
		t.Errorf("the ringing leg ended with %v, want ORIGINATOR_CANCEL", got)
	}
}

// freeswitch.bridge needs two ready channels ("Channels not ready"
// otherwise). With them it bridges (bridge variables on both legs) until
// the bridge ends — at once here, the fake legs having no RTP — and the
// other leg is hung up then; the script's channel goes on.
func TestFreeswitchBridge(t *testing.T) {
	e := newEnv(t, nil)
	c := e.run(put + `
local failed = freeswitch.Session("fake/busy/1")
freeswitch.bridge(session, failed)
local leg = freeswitch.Session("fake/answer/1001")
put("leg_uuid", leg.uuid)
freeswitch.bridge(session, leg)
put("bridged_after", session:bridged())
put("last_bridge_to", session:getVariable("last_bridge_to") == leg.uuid)
put("leg_last_bridge_to", leg:getVariable("last_bridge_to") == session.uuid)
put("leg_ready", leg:ready())
put("ready", session:ready())
`)
	wantVars(t, c, map[string]string{"bridged_after": "false", "last_bridge_to": "true",
		"leg_last_bridge_to": "true", "leg_ready": "false", "ready": "true"})
	if !e.logHas("Channels not ready") {
		t.Errorf("no \"Channels not ready\" for the failed leg:\n%s", e.logs)
	}
	if got := e.dialer.call(c.v("leg_uuid")).waitHungup(t); got != cause.CNormalClearing {
		t.Errorf("the bridged leg ended with %v, want NORMAL_CLEARING", got)
	}
}
