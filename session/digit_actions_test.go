package session

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/events"
)

// echoAPI is an API whose commands answer "ran <cmd> <args>".
type echoAPI struct{}

func (echoAPI) Execute(cmd, args string) (string, error) { return "ran " + cmd + " " + args, nil }

// bindAction binds digits to action on the call's own digit machine.
func bindAction(t *testing.T, s *Session, realm, digits, action, value string, timeout time.Duration) {
	t.Helper()
	if err := s.BindDigitAction(apps.DigitAction{Realm: realm, Digits: digits, Action: action, Value: value, DigitTimeout: timeout}); err != nil {
		t.Fatal(err)
	}
}

// sendDigits hands digits to the call as an endpoint does.
func sendDigits(s *Session, digits string) {
	for _, d := range digits {
		s.QueueDTMF(d)
	}
}

func varIs(s *Session, name, want string) func() bool {
	return func() bool { v, _ := s.vars.Get(name); return v == want }
}

func TestDigitActionExecConsumesDigits(t *testing.T) {
	m := newControlManager(t, Config{})
	s, _, _ := startCall(t, m, "201") // parked
	bindAction(t, s, "demo", "1", "exec:test_note", "one", 1500*time.Millisecond)
	sendDigits(s, "1")
	waitFor(t, "the action", ranIs(s.UUID(), "note(one)"))
	if v, _ := s.vars.Get("last_matching_digits"); v != "1" {
		t.Errorf("last_matching_digits = %q, want 1", v)
	}
	if n := s.DTMF().Len(); n != 0 {
		t.Errorf("%d digits queued for applications, want 0: the machine consumes them", n)
	}
	// A digit no binding can match is queued afterwards.
	sendDigits(s, "9")
	waitFor(t, "the digit to come back", func() bool { return s.DTMF().Len() == 1 })
	if d, _ := s.DTMF().Pop(); d != '9' {
		t.Errorf("queued %q, want 9", d)
	}
	if v, _ := s.vars.Get("last_non_matching_digits"); v != "9" {
		t.Errorf("last_non_matching_digits = %q, want 9", v)
	}
}

func TestDigitActionTimeoutFiresPendingMatch(t *testing.T) {
	m := newControlManager(t, Config{})
	s, _, _ := startCall(t, m, "201")
	bindAction(t, s, "demo", "1", "exec:test_note", "one", 20*time.Millisecond)
	bindAction(t, s, "demo", "12", "exec:test_note", "twelve", 20*time.Millisecond)
	sendDigits(s, "1") // "12" may follow: the digit timeout decides
	waitFor(t, "the timed-out match", ranIs(s.UUID(), "note(one)"))
	sendDigits(s, "12")
	waitFor(t, "the longer match", ranIs(s.UUID(), "note(one)", "note(twelve)"))
}

func TestDigitActionRegexTransfer(t *testing.T) {
	m := newControlManager(t, Config{})
	s, _, _ := startCall(t, m, "201")
	bindAction(t, s, "demo", "1", "exec:test_note", "one", 20*time.Millisecond)
	bindAction(t, s, "demo", `~^2(\d)$`, "exec:transfer", "210", 20*time.Millisecond)
	sendDigits(s, "23")
	waitFor(t, "the transferred extension", ranIs(s.UUID(), "note(moved)"))
	if v, _ := s.vars.Get("last_matching_digits"); v != "23" {
		t.Errorf("last_matching_digits = %q, want 23", v)
	}
}

func TestDigitActionAPI(t *testing.T) {
	m := newControlManager(t, Config{API: echoAPI{}})
	s, _, _ := startCall(t, m, "201")
	bindAction(t, s, "demo", "5", "api:uuid_foo", "bar baz", 0)
	sendDigits(s, "5")
	waitFor(t, "the API result", varIs(s, "bind_digit_action_api_result", "ran uuid_foo bar baz"))
}

func TestDigitActionInlineRunsFirst(t *testing.T) {
	m := newControlManager(t, Config{})
	s, _, gate := startCall(t, m, "200")
	waitFor(t, "the gate", ranIs(s.UUID(), "note(a)", "gate"))
	if err := s.Enqueue("test_note", "queued"); err != nil {
		t.Fatal(err)
	}
	bindAction(t, s, "demo", "1", "exec[i]:test_note", "inline", 0)
	sendDigits(s, "1")
	waitFor(t, "the inline action in the queue", func() bool { return s.QueueLen() == 2 })
	close(gate)
	waitFor(t, "the list", ranIs(s.UUID(), "note(a)", "gate", "note(inline)", "note(queued)", "note(b)"))
}

func TestDigitActionPriorityFlag(t *testing.T) {
	m := newControlManager(t, Config{})
	s, _, _ := startCall(t, m, "201")
	// Without P, "1" would wait for "12" (no digit timeout: for ever).
	bindAction(t, s, "demo", "1", "exec[P]:test_note", "one", 0)
	bindAction(t, s, "demo", "12", "exec:test_note", "twelve", 0)
	sendDigits(s, "1")
	waitFor(t, "the priority match", ranIs(s.UUID(), "note(one)"))
}

func TestClearDigitActionsAndRealms(t *testing.T) {
	m := newControlManager(t, Config{})
	s, _, _ := startCall(t, m, "201")
	bindAction(t, s, "demo", "1", "exec:test_note", "one", 0)
	bindAction(t, s, "other", "2", "exec:test_note", "two", 0)

	// Clearing the active realm leaves none: "1" fails and is queued.
	s.ClearDigitActions("other", apps.DigitTargetSelf)
	sendDigits(s, "1")
	waitFor(t, "the unmatched digit", func() bool { return s.DTMF().Len() == 1 })
	s.DTMF().Flush()

	if err := s.SetDigitActionRealm("demo", apps.DigitTargetSelf); err != nil {
		t.Fatal(err)
	}
	sendDigits(s, "1")
	waitFor(t, "the action", ranIs(s.UUID(), "note(one)"))

	if err := s.SetDigitActionRealm("demo", apps.DigitTargetBoth); !errors.Is(err, apps.ErrNoDigitMachine) {
		t.Errorf("set realm on both: %v, want ErrNoDigitMachine", err)
	}
	if err := s.SetDigitActionRealm("demo", apps.DigitTargetPeer); !errors.Is(err, apps.ErrNoDigitMachine) {
		t.Errorf("set realm on peer: %v, want ErrNoDigitMachine", err)
	}
	if err := s.SetDigitActionRealm("nope", apps.DigitTargetSelf); !errors.Is(err, ErrNoRealm) {
		t.Errorf("set an unknown realm: %v, want ErrNoRealm", err)
	}

	// "all" removes the machine: digits are queued at once.
	s.ClearDigitActions("all", apps.DigitTargetSelf)
	sendDigits(s, "1")
	if n := s.DTMF().Len(); n != 1 {
		t.Errorf("%d digits queued after clearing all, want 1", n)
	}
}

func TestPeerDigitMachineGetsNoDigits(t *testing.T) {
	m := newControlManager(t, Config{})
	s, _, _ := startCall(t, m, "201")
	if err := s.BindDigitAction(apps.DigitAction{Realm: "demo", Digits: "1", Action: "exec:test_note", Value: "one", Target: apps.DigitTargetPeer}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDigitActionRealm("demo", apps.DigitTargetPeer); err != nil {
		t.Errorf("the peer machine is missing: %v", err)
	}
	sendDigits(s, "1")
	if n := s.DTMF().Len(); n != 1 {
		t.Errorf("%d digits queued, want 1: received digits do not reach the peer machine", n)
	}
}

func TestBroadcastHangupCause(t *testing.T) {
	m := newControlManager(t, Config{})
	s, _, _ := startCall(t, m, "201")
	bindAction(t, s, "demo", "1", "exec:test_note!user_busy", "bye", 0)
	sendDigits(s, "1")
	waitDone(t, s)
	if got := ranFor(s.UUID()); strings.Join(got, "|") != "note(bye)" {
		t.Errorf("ran %q, want note(bye) then the hangup", got)
	}
	if c := s.HangupCause(); c != cause.CUserBusy {
		t.Errorf("hangup cause %v, want USER_BUSY", c)
	}
}

// lockedClock is a settable clock safe to read from several goroutines.
type lockedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *lockedClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *lockedClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestMetaApp(t *testing.T) {
	m := newControlManager(t, Config{})
	s, _, _ := startCall(t, m, "201")
	clk := &lockedClock{t: time.Unix(1700000000, 0)}
	s.dm.mu.Lock()
	s.dm.now = clk.now
	s.dm.mu.Unlock()
	bind := func(key int, flags apps.MetaFlags, app string) {
		t.Helper()
		if err := s.BindMetaApp(apps.MetaBinding{Key: key, Meta: '*', Flags: apps.MetaDialA | flags, App: app}); err != nil {
			t.Fatal(err)
		}
	}
	bind(1, apps.MetaExecSame, "test_note::one")
	bind(2, apps.MetaOnce, "test_note::once")
	bind(3, apps.MetaExecB, "test_note::on the b leg")
	bind(4, apps.MetaExecOpposite, "test_note::opposite")

	steps := []struct {
		digits string
		queued string // digits left for applications
		ran    []string
	}{
		{"*1", "", []string{"note(one)"}},
		{"**", "*", []string{"note(one)"}}, // the meta key twice: one gets through
		{"*2", "", []string{"note(one)", "note(once)"}},
		{"*2", "", []string{"note(one)", "note(once)"}},   // used once
		{"*3*4", "", []string{"note(one)", "note(once)"}}, // no B leg
		{"*5", "", []string{"note(one)", "note(once)"}},   // not mapped: consumed
		{"5", "5", []string{"note(one)", "note(once)"}},
		{"*1", "", []string{"note(one)", "note(once)", "note(one)"}},
	}
	for i, st := range steps {
		sendDigits(s, st.digits)
		var got []rune
		for d, ok := s.DTMF().Pop(); ok; d, ok = s.DTMF().Pop() {
			got = append(got, d)
		}
		if string(got) != st.queued {
			t.Errorf("step %d (%s): queued %q, want %q", i, st.digits, string(got), st.queued)
		}
		waitFor(t, "the meta applications", ranIs(s.UUID(), st.ran...))
	}

	// More than five seconds between the meta key and the next: the
	// sequence is dropped and the key gets through.
	sendDigits(s, "*")
	clk.advance(6 * time.Second)
	sendDigits(s, "1")
	if d, _ := s.DTMF().Pop(); d != '1' || s.DTMF().Len() != 0 {
		t.Errorf("after the meta timeout: got %q, want the 1 alone", d)
	}

	if err := s.UnbindMetaApp(1); err != nil {
		t.Fatal(err)
	}
	sendDigits(s, "*1")
	if n := s.DTMF().Len(); n != 0 {
		t.Errorf("%d digits queued for an unbound key, want 0 (still meta)", n)
	}
	if err := s.UnbindMetaApp(0); err != nil {
		t.Fatal(err)
	}
	sendDigits(s, "*1")
	if n := s.DTMF().Len(); n != 2 {
		t.Errorf("%d digits queued with no meta bindings, want 2", n)
	}
	if err := s.UnbindMetaApp(1); err == nil {
		t.Error("unbinding a key with no bindings at all succeeded")
	}
	// Nothing else ran.
	if got := ranFor(s.UUID()); len(got) != 3 {
		t.Errorf("ran %q, want only the three meta applications", got)
	}
}

func TestConsumedDigitsFireNoDTMFEvent(t *testing.T) {
	bus := events.NewBus(events.BusConfig{CoreUUID: "core", Hostname: "h"})
	sub := bus.Subscribe(100)
	if err := sub.Add("DTMF"); err != nil {
		t.Fatal(err)
	}
	m := newControlManager(t, Config{Events: bus})
	s, _, _ := startCall(t, m, "201")
	bindAction(t, s, "demo", "1", "exec:test_note", "one", 0)
	sendDigits(s, "19")
	waitFor(t, "the unmatched digit", func() bool { return s.DTMF().Len() == 1 })
	waitFor(t, "the action", ranIs(s.UUID(), "note(one)"))
	select {
	case e := <-sub.C():
		if d, src := e.Get("DTMF-Digit"), e.Get("DTMF-Source"); d != "9" || src != "APP" {
			t.Errorf("DTMF event for %q from %q, want 9 from APP", d, src)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no DTMF event for the digit that came back")
	}
	sub.Close()
	for e := range sub.C() {
		t.Errorf("another DTMF event: %s from %s; the bound digit was consumed", e.Get("DTMF-Digit"), e.Get("DTMF-Source"))
	}
}
