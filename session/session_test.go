package session

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/conf"
)

// Test-only applications: they record what ran, block, or panic.
var (
	ranMu sync.Mutex
	ran   = map[string][]string{} // uuid → "app(data)"
)

func record(ch apps.Channel, s string) {
	sess := ch.(*Session)
	ranMu.Lock()
	ran[sess.UUID()] = append(ran[sess.UUID()], s)
	ranMu.Unlock()
}

func ranFor(uuid string) []string {
	ranMu.Lock()
	defer ranMu.Unlock()
	return append([]string(nil), ran[uuid]...)
}

func init() {
	apps.Register(apps.App{Name: "test_note", Flags: apps.SupportNoMedia | apps.RoutingExec, Run: func(ctx context.Context, ch apps.Channel, data string) error {
		record(ch, "note("+data+")")
		return nil
	}})
	apps.Register(apps.App{Name: "test_panic", Flags: apps.SupportNoMedia, Run: func(ctx context.Context, ch apps.Channel, data string) error {
		panic("boom")
	}})
	apps.Register(apps.App{Name: "test_block", Flags: apps.SupportNoMedia, Run: func(ctx context.Context, ch apps.Channel, data string) error {
		record(ch, "block")
		<-ctx.Done()
		return nil
	}})
	apps.Register(apps.App{Name: "test_media", Run: func(ctx context.Context, ch apps.Channel, data string) error {
		record(ch, "media")
		return nil
	}})
	apps.Register(apps.App{Name: "test_transfer", Flags: apps.SupportNoMedia, Run: func(ctx context.Context, ch apps.Channel, data string) error {
		return ch.(apps.Session).Transfer(data, "", "")
	}})
	apps.Register(apps.App{Name: "test_exec_ext", Flags: apps.SupportNoMedia, Run: func(ctx context.Context, ch apps.Channel, data string) error {
		return ch.(apps.Session).ExecuteExtension(data, "", "")
	}})
	apps.Register(apps.App{Name: "test_hangup", Flags: apps.SupportNoMedia, Run: func(ctx context.Context, ch apps.Channel, data string) error {
		ch.(apps.Session).Hangup(cause.Parse(data))
		return nil
	}})
}

type fakeEndpoint struct {
	mu        sync.Mutex
	preAnswer int
	answer    int
	hangups   []cause.Cause
}

func (f *fakeEndpoint) Name() string { return "fake/test" }
func (f *fakeEndpoint) Answer(context.Context) error {
	f.mu.Lock()
	f.answer++
	f.mu.Unlock()
	return nil
}
func (f *fakeEndpoint) PreAnswer(context.Context) error {
	f.mu.Lock()
	f.preAnswer++
	f.mu.Unlock()
	return nil
}
func (f *fakeEndpoint) RingReady(context.Context, bool) error      { return nil }
func (f *fakeEndpoint) Respond(context.Context, int, string) error { return nil }
func (f *fakeEndpoint) Redirect(context.Context, string) error     { return nil }
func (f *fakeEndpoint) Media() Media                               { return nil }
func (f *fakeEndpoint) Hangup(c cause.Cause) {
	f.mu.Lock()
	f.hangups = append(f.hangups, c)
	f.mu.Unlock()
}

const testDialplan = `<include>
  <context name="default">
    <extension name="list">
      <condition field="destination_number" expression="^100$">
        <action application="test_note" data="a ${destination_number}"/>
        <action application="test_note" data="b"/>
      </condition>
    </extension>
    <extension name="unknown">
      <condition field="destination_number" expression="^101$">
        <action application="test_note" data="before"/>
        <action application="no_such_app"/>
        <action application="test_note" data="after"/>
      </condition>
    </extension>
    <extension name="panic">
      <condition field="destination_number" expression="^102$">
        <action application="test_panic"/>
        <action application="test_note" data="after"/>
      </condition>
    </extension>
    <extension name="transfer">
      <condition field="destination_number" expression="^103$">
        <action application="test_transfer" data="100"/>
        <action application="test_note" data="not reached"/>
      </condition>
    </extension>
    <extension name="loop">
      <condition field="destination_number" expression="^104$">
        <action application="test_transfer" data="104"/>
      </condition>
    </extension>
    <extension name="media">
      <condition field="destination_number" expression="^105$">
        <action application="test_media"/>
      </condition>
    </extension>
    <extension name="busy">
      <condition field="destination_number" expression="^106$">
        <action application="test_hangup" data="USER_BUSY"/>
        <action application="test_note" data="zombie skipped"/>
        <action application="set" data="zombie=ran"/>
      </condition>
    </extension>
    <extension name="nested">
      <condition field="destination_number" expression="^107$">
        <action application="test_exec_ext" data="100"/>
        <action application="test_note" data="outer ${destination_number}"/>
      </condition>
    </extension>
    <extension name="block">
      <condition field="destination_number" expression="^108$">
        <action application="test_block"/>
      </condition>
    </extension>
  </context>
</include>
`

func newTestManager(t *testing.T) *Manager {
	t.Helper()
	snap := loadDialplan(t, testDialplan)
	return NewManager(Config{Snapshot: func() *conf.Snapshot { return snap }, Logger: slog.New(slog.DiscardHandler)})
}

// call runs a session for dest to completion and returns it.
func call(t *testing.T, m *Manager, dest string) (*Session, *fakeEndpoint) {
	t.Helper()
	ep := &fakeEndpoint{}
	s := m.NewInbound(Inbound{Endpoint: ep, Profile: &caller.Profile{DestinationNumber: dest, Context: "default"}})
	s.Start()
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("session for %s did not finish", dest)
	}
	return s, ep
}

func TestExecuteLoop(t *testing.T) {
	tests := []struct {
		dest      string
		ran       []string
		cause     cause.Cause
		preAnswer int
	}{
		{"100", []string{"note(a 100)", "note(b)"}, cause.CNormalClearing, 0},
		{"101", []string{"note(before)"}, cause.CDestinationOutOfOrder, 0},
		{"102", nil, cause.CCrash, 0},
		{"103", []string{"note(a 100)", "note(b)"}, cause.CNormalClearing, 0},
		{"104", nil, cause.CExchangeRoutingError, 0},
		{"105", []string{"media"}, cause.CNormalClearing, 1},
		{"106", nil, cause.CUserBusy, 0},
		{"107", []string{"note(a 100)", "note(b)", "note(outer 107)"}, cause.CNormalClearing, 0},
		{"999", nil, cause.CNoRouteDestination, 0},
	}
	for _, tt := range tests {
		t.Run(tt.dest, func(t *testing.T) {
			m := newTestManager(t)
			s, ep := call(t, m, tt.dest)
			if got := ranFor(s.UUID()); strings.Join(got, "|") != strings.Join(tt.ran, "|") {
				t.Errorf("ran %q, want %q", got, tt.ran)
			}
			if len(ep.hangups) != 1 || ep.hangups[0] != tt.cause {
				t.Errorf("endpoint hangups %v, want exactly [%v]", ep.hangups, tt.cause)
			}
			if ep.preAnswer != tt.preAnswer {
				t.Errorf("pre-answers %d, want %d", ep.preAnswer, tt.preAnswer)
			}
			if v, _ := s.Vars().Get("hangup_cause"); v != tt.cause.String() {
				t.Errorf("hangup_cause = %q", v)
			}
			if m.Count() != 0 {
				t.Errorf("%d sessions left", m.Count())
			}
		})
	}
}

func TestZombieAppsRunAfterHangup(t *testing.T) {
	m := newTestManager(t)
	s, _ := call(t, m, "106")
	// The action list stops at the hangup, as FreeSWITCH's execute loop
	// leaves CS_EXECUTE: nothing after test_hangup ran.
	if v, ok := s.Vars().Get("zombie"); ok {
		t.Errorf("zombie = %q: the list went on after the hangup", v)
	}
	// Executed after the hangup (as a script's session:execute would),
	// only applications flagged ZombieExec (set is) still run.
	s.exec("set", "zombie=ran")
	s.exec("test_note", "late")
	if v, _ := s.Vars().Get("zombie"); v != "ran" {
		t.Errorf("zombie = %q, want ran", v)
	}
	if got := ranFor(s.UUID()); len(got) != 0 {
		t.Errorf("non-zombie app ran after hangup: %q", got)
	}
}

func TestTransferLoopGuard(t *testing.T) {
	m := newTestManager(t)
	s, _ := call(t, m, "104")
	if v, _ := s.Vars().Get("max_session_transfers"); v != "1" {
		t.Errorf("max_session_transfers = %q, want 1 after counting down from 70", v)
	}
	if h := s.Vars().Array("transfer_history"); len(h) != 69 {
		t.Errorf("transfer_history has %d entries, want 69", len(h))
	}
}

func TestHangupFromOutsideEndsBlockingApp(t *testing.T) {
	m := newTestManager(t)
	ep := &fakeEndpoint{}
	s := m.NewInbound(Inbound{Endpoint: ep, Profile: &caller.Profile{DestinationNumber: "108"}})
	s.Start()
	deadline := time.Now().Add(5 * time.Second)
	for len(ranFor(s.UUID())) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	s.Hangup(cause.CNormalClearing) // e.g. the far end's BYE
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := m.Shutdown(ctx); err != nil {
		t.Fatal("blocking app did not return after hangup")
	}
	if s.State() != CSDestroy {
		t.Errorf("state %v, want CS_DESTROY", s.State())
	}
}

func TestAdmitLimits(t *testing.T) {
	m := NewManager(Config{MaxSessions: 1, Snapshot: func() *conf.Snapshot { return nil }})
	if err := m.Admit(); err != nil {
		t.Fatal(err)
	}
	m.NewInbound(Inbound{Endpoint: &fakeEndpoint{}})
	if err := m.Admit(); err != ErrOverloaded {
		t.Errorf("Admit with one live session and max 1 = %v, want ErrOverloaded", err)
	}
	r := NewManager(Config{SessionsPerSecond: 2, Snapshot: func() *conf.Snapshot { return nil }})
	if r.Admit() != nil || r.Admit() != nil {
		t.Fatal("first two admits must pass")
	}
	if err := r.Admit(); err != ErrOverloaded {
		t.Errorf("third admit within a second = %v, want ErrOverloaded", err)
	}
}

func TestUUID(t *testing.T) {
	a, b := NewUUID(), NewUUID()
	if a == b || len(a) != 36 || a[14] != '4' {
		t.Errorf("bad UUIDs %q %q", a, b)
	}
}
