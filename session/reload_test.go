package session

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/conf/conftest"
)

// gates holds, per call UUID, a channel test_gate waits on.
var gates sync.Map // uuid → chan struct{}

func init() {
	apps.Register(apps.App{Name: "test_gate", Flags: apps.SupportNoMedia, Run: func(ctx context.Context, ch apps.Channel, data string) error {
		record(ch, "gate")
		g, _ := gates.Load(ch.(*Session).UUID())
		select {
		case <-g.(chan struct{}):
		case <-ctx.Done():
		}
		return nil
	}})
}

// loadDialplan loads a configuration whose default context is dp.
func loadDialplan(t *testing.T, dp string) *conf.Snapshot {
	t.Helper()
	dir := conftest.WriteTree(t, map[string]string{
		"freeswitch.xml": `<document type="freeswitch/xml">
  <section name="dialplan">
    <X-PRE-PROCESS cmd="include" data="dialplan/*.xml"/>
  </section>
</document>
`,
		"dialplan/default.xml": dp,
	})
	snap, err := conf.Load(conf.Options{Dir: dir, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

const reloadDialplan = `<include>
<context name="default">
  <extension name="wait">
    <condition field="destination_number" expression="^200$">
      <action application="test_note" data="routed ${destination_number}"/>
      <action application="test_gate"/>
      <action application="test_transfer" data="300"/>
    </condition>
  </extension>
  <extension name="target">
    <condition field="destination_number" expression="^300$">
      <action application="test_note" data="NOTE"/>
    </condition>
  </extension>
</context>
</include>
`

// TestTransferAfterReloadHuntsTheNewConfig: a call routed before a
// reload keeps running the actions it was given, and its transfer after
// the reload hunts the configuration in force then.
func TestTransferAfterReloadHuntsTheNewConfig(t *testing.T) {
	oldSnap := loadDialplan(t, replaceNote(reloadDialplan, "old config"))
	newSnap := loadDialplan(t, replaceNote(reloadDialplan, "new config"))
	var current atomic.Pointer[conf.Snapshot]
	current.Store(oldSnap)
	m := NewManager(Config{Snapshot: current.Load, Logger: slog.New(slog.DiscardHandler)})

	s := m.NewInbound(Inbound{Endpoint: &fakeEndpoint{}, Profile: &caller.Profile{DestinationNumber: "200", Context: "default"}})
	gate := make(chan struct{})
	gates.Store(s.UUID(), gate)
	defer gates.Delete(s.UUID())
	s.Start()
	waitRan(t, s.UUID(), "gate")

	current.Store(newSnap) // the reload
	close(gate)
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not finish")
	}
	want := []string{"note(routed 200)", "gate", "note(new config)"}
	if got := ranFor(s.UUID()); !slices.Equal(got, want) {
		t.Errorf("ran %q, want %q", got, want)
	}
}

func replaceNote(dp, note string) string { return strings.Replace(dp, "NOTE", note, 1) }

// waitRan waits until the call has run step.
func waitRan(t *testing.T, uuid, step string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !slices.Contains(ranFor(uuid), step) {
		if time.Now().After(deadline) {
			t.Fatalf("the call never ran %s: %q", step, ranFor(uuid))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type observed struct {
	mu    sync.Mutex
	hunts []bool
	apps  []string
}

func (o *observed) HuntDone(found bool, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if d < 0 {
		panic("negative duration")
	}
	o.hunts = append(o.hunts, found)
}

func (o *observed) AppDone(app string, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if d < 0 {
		panic("negative duration")
	}
	o.apps = append(o.apps, app)
}

func TestObserver(t *testing.T) {
	base := newTestManager(t)
	tests := []struct {
		dest  string
		hunts []bool
		apps  []string
	}{
		{"100", []bool{true}, []string{"test_note", "test_note"}},
		{"103", []bool{true, true}, []string{"test_transfer", "test_note", "test_note"}},
		{"107", []bool{true, true}, []string{"test_note", "test_note", "test_exec_ext", "test_note"}},
		{"999", []bool{false}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.dest, func(t *testing.T) {
			o := &observed{}
			cfg := base.cfg
			cfg.Observer = o
			m := NewManager(cfg)
			call(t, m, tt.dest)
			o.mu.Lock()
			defer o.mu.Unlock()
			if !slices.Equal(o.hunts, tt.hunts) || !slices.Equal(o.apps, tt.apps) {
				t.Errorf("hunts %v apps %q, want %v %q", o.hunts, o.apps, tt.hunts, tt.apps)
			}
		})
	}
}

func TestSetLimits(t *testing.T) {
	m := NewManager(Config{MaxSessions: 1, SessionsPerSecond: 0, Snapshot: func() *conf.Snapshot { return nil }})
	if got := m.Limits(); got != (Limits{MaxSessions: 1}) {
		t.Errorf("Limits() = %+v before SetLimits, want Config's", got)
	}
	m.NewInbound(Inbound{Endpoint: &fakeEndpoint{}})
	if err := m.Admit(); err != ErrOverloaded {
		t.Fatalf("Admit at max 1 = %v, want ErrOverloaded", err)
	}
	m.SetLimits(Limits{MaxSessions: 2})
	if err := m.Admit(); err != nil {
		t.Errorf("Admit after raising the limit = %v", err)
	}
	m.SetLimits(Limits{MaxSessions: 0, SessionsPerSecond: 1})
	if err := m.Admit(); err != nil {
		t.Errorf("first Admit under 1/s = %v", err)
	}
	if err := m.Admit(); err != ErrOverloaded {
		t.Errorf("second Admit within a second under 1/s = %v, want ErrOverloaded", err)
	}
	if got := m.Limits(); got != (Limits{SessionsPerSecond: 1}) {
		t.Errorf("Limits() = %+v", got)
	}
}
