package scripting

import (
	"reflect"
	"strings"
	"testing"

	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/events"
)

// The Session's methods against a fake channel: what a binding for any
// language gets.

func newTestSession() (*Session, *fakeSession, *fakeHooks) {
	f := newFakeSession()
	s := NewSession(f, nil, f.log)
	h := &fakeHooks{results: map[rune]string{}}
	s.SetHooks(h)
	return s, f, h
}

func TestSessionVariablesAndState(t *testing.T) {
	s, f, _ := newTestSession()
	f.globals.Set("g", "global")
	s.SetVariable("a", "1")
	if v, ok := s.GetVariable("a"); v != "1" || !ok {
		t.Errorf("a = %q %v", v, ok)
	}
	if v, ok := s.GetVariable("g"); v != "global" || !ok {
		t.Errorf("the lookup does not reach the globals: %q %v", v, ok)
	}
	s.SetVariable("a", "")
	if _, ok := s.GetVariable("a"); ok {
		t.Error("an empty value does not unset")
	}
	if s.Answer() != 1 || !s.Answered() || s.HangupCause() != "NONE" || s.GetState() != "CS_EXECUTE" || !s.Ready() {
		t.Error("a live channel")
	}
	s.Hangup("USER_BUSY")
	if f.cause != cause.CUserBusy || s.Ready() || s.GetState() != "CS_HANGUP" || s.Answer() != 0 {
		t.Errorf("after hangup: cause %v", f.cause)
	}
	s.Destroy()
	if s.Answer() != -1 || s.Ready() || s.GetState() != "ERROR" || s.FlushDigits() != -1 {
		t.Error("after destroy")
	}
	if !strings.Contains(f.logs.String(), "session is not initalized") {
		t.Error("no sanity error logged")
	}
	if v, ok := s.GetVariable("g"); v != "" || !ok {
		t.Errorf("getVariable after destroy = %q, %v; FreeSWITCH returns \"\"", v, ok)
	}
}

// Destroy hangs up only with auto-hangup on, and not a channel being
// transferred.
func TestSessionDestroy(t *testing.T) {
	for _, auto := range []bool{false, true} {
		s, f, _ := newTestSession()
		s.SetAutoHangup(auto)
		s.Destroy()
		if f.Ready() == auto {
			t.Errorf("auto-hangup %v: ready %v after destroy", auto, f.Ready())
		}
		if auto && f.cause != cause.CNormalClearing {
			t.Errorf("cause %v", f.cause)
		}
	}
}

func TestSessionGetDigits(t *testing.T) {
	tests := []struct {
		queued string
		max    int
		terms  string
		want   string
		rest   int
	}{
		{"123", 2, "", "12", 1},
		{"1#2", 5, "#", "1", 1},
		{"", 3, "#", "", 0},
		{"9", 0, "#", "", 1},
	}
	for _, tt := range tests {
		s, f, _ := newTestSession()
		f.dtmf.push(tt.queued)
		if got := s.GetDigits(tt.max, tt.terms, 10, 0, 0); got != tt.want || f.dtmf.Len() != tt.rest {
			t.Errorf("GetDigits(%d, %q) with %q queued = %q, %d left; want %q, %d", tt.max, tt.terms, tt.queued, got, f.dtmf.Len(), tt.want, tt.rest)
		}
	}
}

// With a callback set, digits and events reach it and its result drives
// the media; without one they stay queued.
func TestSessionStreamFileCallback(t *testing.T) {
	s, f, h := newTestSession()
	f.dtmf.push("12")
	if got := s.StreamFile("silence_stream://5", 0); got != 1 || f.dtmf.Len() != 2 {
		t.Errorf("without a callback: %d, %d digits left", got, f.dtmf.Len())
	}
	s.SetInputCallback(true)
	h.results['1'] = "true"
	h.results['2'] = "break"
	if got := s.StreamFile("silence_stream://5000", 0); got != 0 {
		t.Errorf("broken playback returned %d", got)
	}
	if want := []string{"dtmf:1", "dtmf:2"}; !reflect.DeepEqual(h.inputs, want) {
		t.Errorf("inputs %v, want %v", h.inputs, want)
	}
	h.inputs = nil
	s.SendEvent(events.New("CUSTOM"))
	h.results['e'] = "stop"
	if got := s.Sleep(5000, 0); got != 0 || !reflect.DeepEqual(h.inputs, []string{"event:CUSTOM"}) {
		t.Errorf("sleep: %d, inputs %v", got, h.inputs)
	}
	h.inputs = nil
	f.dtmf.push("7#")
	h.results['#'] = "break"
	if got := s.CollectDigits(0, 5000); got != 0 || !reflect.DeepEqual(h.inputs, []string{"dtmf:7", "dtmf:#"}) {
		t.Errorf("collectDigits: %d, inputs %v", got, h.inputs)
	}
}

// The hangup hook runs once, at the next blocking method or Ready after
// the hangup, never when it was armed after it.
func TestSessionHangupHook(t *testing.T) {
	s, f, h := newTestSession()
	s.SetHangupHook(true)
	s.GetVariable("x")
	f.Hangup(cause.CNormalClearing)
	if len(h.hook) != 0 {
		t.Error("the hook ran before a session call")
	}
	s.SetVariable("y", "1")
	if len(h.hook) != 0 {
		t.Error("setVariable ran the hook; FreeSWITCH only runs it around blocking calls")
	}
	s.Ready()
	s.Ready()
	s.Sleep(1, 0)
	if !reflect.DeepEqual(h.hook, []string{"hangup"}) {
		t.Errorf("hook ran %v", h.hook)
	}

	s, f, h = newTestSession()
	f.Hangup(cause.CNormalClearing)
	s.SetHangupHook(true)
	s.Ready()
	if len(h.hook) != 0 {
		t.Error("a hook armed after the hangup ran")
	}
}

// Execute on a channel that is not the call core's applies the
// dialplan's rules itself.
func TestExecuteFallback(t *testing.T) {
	s, f, _ := newTestSession()
	f.vars.Set("b", "B")
	s.Execute("set", "a=${b}")
	if v, _ := f.vars.Get("a"); v != "B" {
		t.Errorf("a = %q", v)
	}
	s.ExecuteString("set c=yes")
	if v, _ := f.vars.Get("c"); v != "yes" {
		t.Errorf("c = %q", v)
	}
	f.Hangup(cause.CNormalClearing)
	s.Execute("set", "after=zombie")
	if v, _ := f.vars.Get("after"); v != "zombie" {
		t.Error("a zombie application did not run after hangup")
	}
	s2, f2, _ := newTestSession()
	s2.Execute("no_such_app", "")
	if f2.Ready() || f2.cause != cause.CDestinationOutOfOrder {
		t.Errorf("unknown application: ready %v cause %v", f2.Ready(), f2.cause)
	}
}

// Without an Originator every originate fails as FreeSWITCH fails for a
// channel type it does not know.
func TestOriginateWithoutOriginator(t *testing.T) {
	s := NewEmptySession(nil, nil)
	if s.Originate(nil, "", 10) != 0 || s.Originate(nil, "sofia/x/y", 10) != 1 || s.HangupCause() != "CHAN_NOT_IMPLEMENTED" || s.Ready() {
		t.Error("originate")
	}
}
