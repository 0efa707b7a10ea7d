package session

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/media"
)

// ctlGates hold the calls in ctl_gate until the test opens their gate.
var ctlGates sync.Map // uuid → chan struct{}

func init() {
	apps.Register(apps.App{Name: "ctl_gate", Flags: apps.SupportNoMedia, Run: func(ctx context.Context, ch apps.Channel, _ string) error {
		s := ch.(*Session)
		record(ch, "gate")
		g, _ := ctlGates.Load(s.UUID())
		if g == nil {
			return errors.New("no gate")
		}
		select {
		case <-g.(chan struct{}):
		case <-ctx.Done():
		}
		return nil
	}})
}

const controlDialplan = `<include>
  <context name="default">
    <extension name="gate">
      <condition field="destination_number" expression="^200$">
        <action application="test_note" data="a"/>
        <action application="ctl_gate"/>
        <action application="test_note" data="b"/>
      </condition>
    </extension>
    <extension name="park">
      <condition field="destination_number" expression="^201$">
        <action application="park"/>
      </condition>
    </extension>
    <extension name="play">
      <condition field="destination_number" expression="^202$">
        <action application="playback" data="silence_stream://1000"/>
        <action application="test_note" data="after ${current_application_response} ${playback_samples}"/>
      </condition>
    </extension>
    <extension name="echo">
      <condition field="destination_number" expression="^203$">
        <action application="echo"/>
        <action application="test_note" data="after echo"/>
      </condition>
    </extension>
    <extension name="target">
      <condition field="destination_number" expression="^210$">
        <action application="test_note" data="moved"/>
      </condition>
    </extension>
  </context>
</include>
`

func newControlManager(t *testing.T, cfg Config) *Manager {
	t.Helper()
	snap := loadDialplan(t, controlDialplan)
	cfg.Snapshot = func() *conf.Snapshot { return snap }
	cfg.Logger = slog.New(slog.DiscardHandler)
	return NewManager(cfg)
}

// ctlMedia is a Media whose Play reads one 20 ms frame of its source per
// token the test gives (frames), checking stop before each frame.
type ctlMedia struct {
	frames chan struct{}
	mu     sync.Mutex
	plays  []int64 // samples read by each Play call
	active int     // Play calls running
	echoes int
	dtmf   []string
}

func newCtlMedia() *ctlMedia { return &ctlMedia{frames: make(chan struct{}, 100000)} }

// allow lets n more frames play.
func (f *ctlMedia) allow(n int) {
	for range n {
		f.frames <- struct{}{}
	}
}

func (f *ctlMedia) playCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.plays)
}

// played returns the samples read by each Play call so far.
func (f *ctlMedia) played() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int64(nil), f.plays...)
}

func (f *ctlMedia) Play(ctx context.Context, src media.Source, stop func() bool) (media.PlayResult, error) {
	f.mu.Lock()
	i := len(f.plays)
	f.plays = append(f.plays, 0)
	f.active++
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.active--
		f.mu.Unlock()
	}()
	buf := make([]int16, 160)
	var n int64
	for {
		if stop != nil && stop() {
			return media.PlayResult{Samples: n, Stopped: true}, nil
		}
		select {
		case <-f.frames:
		case <-ctx.Done():
			return media.PlayResult{Samples: n, Stopped: true}, ctx.Err()
		case <-time.After(time.Millisecond):
			continue // check stop again
		}
		m, err := src.Read(buf)
		n += int64(m)
		f.mu.Lock()
		f.plays[i] += int64(m)
		f.mu.Unlock()
		if errors.Is(err, io.EOF) {
			return media.PlayResult{Samples: n}, nil
		}
		if err != nil {
			return media.PlayResult{Samples: n}, err
		}
	}
}

func (f *ctlMedia) Echo(ctx context.Context, _ time.Duration, stop func() bool) error {
	f.mu.Lock()
	f.echoes++
	f.mu.Unlock()
	for {
		if stop != nil && stop() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

func (f *ctlMedia) SendDTMF(_ context.Context, digits string, _ time.Duration) error {
	f.mu.Lock()
	f.dtmf = append(f.dtmf, digits)
	f.mu.Unlock()
	return nil
}

// mediaEndpoint is a fakeEndpoint with media.
type mediaEndpoint struct {
	fakeEndpoint
	m *ctlMedia
}

func (e *mediaEndpoint) Media() Media { return e.m }

// startCall creates a call to dest with a gate and media, starts it and
// returns it.
func startCall(t *testing.T, m *Manager, dest string) (*Session, *ctlMedia, chan struct{}) {
	t.Helper()
	med := newCtlMedia()
	s := m.NewInbound(Inbound{Endpoint: &mediaEndpoint{m: med}, Profile: &caller.Profile{DestinationNumber: dest, Context: "default"}})
	gate := make(chan struct{})
	ctlGates.Store(s.UUID(), gate)
	t.Cleanup(func() {
		ctlGates.Delete(s.UUID())
		s.Hangup(cause.CNormalClearing)
		select {
		case <-s.Done():
		case <-time.After(10 * time.Second):
			t.Error("the call did not end")
		}
	})
	s.Start()
	return s, med, gate
}

// waitFor polls cond until it holds; the deadline only stops a test that
// would otherwise hang.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func waitDone(t *testing.T, s *Session) {
	t.Helper()
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not end")
	}
}

func ranIs(uuid string, want ...string) func() bool {
	return func() bool { return strings.Join(ranFor(uuid), "|") == strings.Join(want, "|") }
}

func TestEnqueueRunsBetweenApplications(t *testing.T) {
	m := newControlManager(t, Config{})
	s, _, gate := startCall(t, m, "200")
	waitFor(t, "the gate", ranIs(s.UUID(), "note(a)", "gate"))
	if err := s.Enqueue("test_note", "q1 ${destination_number}"); err != nil {
		t.Fatal(err)
	}
	if err := s.EnqueueLoops("test_note", "q2", 2); err != nil {
		t.Fatal(err)
	}
	if n := s.QueueLen(); n != 2 {
		t.Errorf("QueueLen = %d, want 2", n)
	}
	close(gate)
	waitDone(t, s)
	want := []string{"note(a)", "gate", "note(q1 200)", "note(q2)", "note(q2)", "note(b)"}
	if got := ranFor(s.UUID()); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("ran %q, want %q", got, want)
	}
}

func TestEnqueueAfterLastApplication(t *testing.T) {
	m := newControlManager(t, Config{})
	s, _, gate := startCall(t, m, "200")
	waitFor(t, "the gate", ranIs(s.UUID(), "note(a)", "gate"))
	// Queued during the last-but-one application, a park keeps the call
	// up after its list ends; the hangup queued next ends it.
	if err := s.Enqueue("park", ""); err != nil {
		t.Fatal(err)
	}
	close(gate)
	waitFor(t, "the park", func() bool { return s.State() == CSPark })
	if err := s.Enqueue("hangup", "USER_BUSY"); err != nil {
		t.Fatal(err)
	}
	waitDone(t, s)
	if c := s.HangupCause(); c != cause.CUserBusy {
		t.Errorf("hangup cause %v, want USER_BUSY", c)
	}
}

func TestEnqueueWhileParked(t *testing.T) {
	m := newControlManager(t, Config{})
	s, _, _ := startCall(t, m, "201")
	waitFor(t, "the park", func() bool { return s.State() == CSPark })
	for _, note := range []string{"one", "two"} {
		if err := s.Enqueue("test_note", note); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the queued notes", ranIs(s.UUID(), "note(one)", "note(two)"))
	if s.State() != CSPark {
		t.Errorf("state %v after the queued apps, want still parked", s.State())
	}
	// A queued transfer takes the call out of the park.
	if err := s.Enqueue("transfer", "210"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the transfer", ranIs(s.UUID(), "note(one)", "note(two)", "note(moved)"))
	waitDone(t, s)
}

func TestEnqueueDuringPlaybackResumesIt(t *testing.T) {
	m := newControlManager(t, Config{})
	s, med, _ := startCall(t, m, "202")
	waitFor(t, "the playback", func() bool { return med.playCount() == 1 })
	med.allow(10) // 1600 of the 8000 samples
	waitFor(t, "ten frames", func() bool { return med.played()[0] == 1600 })
	if err := s.Enqueue("test_note", "nested"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the nested app", ranIs(s.UUID(), "note(nested)"))
	med.allow(1000)
	waitDone(t, s)
	if got := med.played(); len(got) != 2 || got[0] != 1600 || got[1] != 6400 {
		t.Errorf("Play calls read %v samples, want [1600 6400]: the playback resumes where it was", got)
	}
	want := []string{"note(nested)", "note(after FILE PLAYED 8000)"}
	if got := ranFor(s.UUID()); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("ran %q, want %q", got, want)
	}
}

func TestBreak(t *testing.T) {
	t.Run("playback", func(t *testing.T) {
		m := newControlManager(t, Config{})
		s, med, _ := startCall(t, m, "202")
		waitFor(t, "the playback", func() bool { return med.playCount() == 1 })
		med.allow(5)
		waitFor(t, "five frames", func() bool { return med.played()[0] == 800 })
		s.Break(false)
		waitFor(t, "the next app", func() bool { return len(ranFor(s.UUID())) == 1 })
		if got := ranFor(s.UUID())[0]; got != "note(after FILE PLAYED 800)" {
			t.Errorf("after the break: %q, want the playback stopped at 800 samples as FILE PLAYED", got)
		}
		if n := med.playCount(); n != 1 {
			t.Errorf("%d Play calls, want 1: a break does not resume", n)
		}
	})
	t.Run("echo", func(t *testing.T) {
		m := newControlManager(t, Config{})
		s, med, _ := startCall(t, m, "203")
		waitFor(t, "the echo", func() bool { med.mu.Lock(); defer med.mu.Unlock(); return med.echoes == 1 })
		s.Break(false)
		waitFor(t, "the next app", ranIs(s.UUID(), "note(after echo)"))
	})
	t.Run("all flushes the queue", func(t *testing.T) {
		m := newControlManager(t, Config{})
		s, _, gate := startCall(t, m, "200")
		waitFor(t, "the gate", ranIs(s.UUID(), "note(a)", "gate"))
		_ = s.Enqueue("test_note", "dropped")
		_ = s.EnqueueLoops("test_note", "dropped too", -1)
		s.Break(true)
		if n := s.QueueLen(); n != 0 {
			t.Errorf("QueueLen = %d after Break(true)", n)
		}
		close(gate)
		waitDone(t, s)
		if got := ranFor(s.UUID()); strings.Join(got, "|") != "note(a)|gate|note(b)" {
			t.Errorf("ran %q", got)
		}
	})
	t.Run("ends an endless queued loop", func(t *testing.T) {
		m := newControlManager(t, Config{})
		s, med, _ := startCall(t, m, "201")
		waitFor(t, "the park", func() bool { return s.State() == CSPark })
		if err := s.EnqueueLoops("playback", "silence_stream://20", -1); err != nil {
			t.Fatal(err)
		}
		med.allow(6) // a one-frame source takes two reads: the frame and EOF
		waitFor(t, "three loops", func() bool { return med.playCount() >= 4 })
		s.Break(false)
		n := med.playCount()
		med.allow(10)
		if err := s.Enqueue("test_note", "next"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the next queued app", ranIs(s.UUID(), "note(next)"))
		if got := med.playCount(); got != n {
			t.Errorf("Play ran %d times after the break, want the loop ended", got-n)
		}
	})
}

func TestHold(t *testing.T) {
	m := newControlManager(t, Config{})
	s, med, _ := startCall(t, m, "202")
	waitFor(t, "the playback", func() bool { return med.playCount() == 1 })
	med.allow(4)
	waitFor(t, "four frames", func() bool { return med.played()[0] == 640 })
	if err := s.Hold(); err != nil {
		t.Fatal(err)
	}
	if err := s.Hold(); !errors.Is(err, ErrAlreadyHeld) {
		t.Errorf("second Hold = %v, want ErrAlreadyHeld", err)
	}
	if st := s.Info().CallState; st != "HELD" {
		t.Errorf("callstate %q on hold", st)
	}
	// The playback stops; frames given while held are not played (a
	// Play started on hold would take them and show as a third call).
	waitFor(t, "the playback to stop", func() bool { med.mu.Lock(); defer med.mu.Unlock(); return med.active == 0 })
	med.allow(20)
	if err := s.Unhold(); err != nil {
		t.Fatal(err)
	}
	if st := s.Info().CallState; st != "UNHELD" {
		t.Errorf("callstate %q after unhold", st)
	}
	if err := s.Unhold(); !errors.Is(err, ErrNotHeld) {
		t.Errorf("second Unhold = %v, want ErrNotHeld", err)
	}
	med.allow(1000)
	waitFor(t, "the rest", func() bool { return len(ranFor(s.UUID())) == 1 })
	if got := med.played(); len(got) != 2 || got[0]+got[1] != 8000 || got[0] != 640 {
		t.Errorf("Play calls read %v samples, want 640 then the remaining 7360", got)
	}
	if _, ok := s.Vars().Get("hold_accum_usec"); !ok {
		t.Error("hold_accum_usec not set")
	}
	waitDone(t, s)
	if err := s.Hold(); !errors.Is(err, ErrHungUp) {
		t.Errorf("Hold after hangup = %v, want ErrHungUp", err)
	}
}

func TestDTMFWaitsForUnhold(t *testing.T) {
	m := newControlManager(t, Config{})
	s, med, _ := startCall(t, m, "201")
	waitFor(t, "the park", func() bool { return s.State() == CSPark })
	if err := s.Hold(); err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue("send_dtmf", "123"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "send_dtmf to start", func() bool { return s.QueueLen() == 0 })
	med.mu.Lock()
	early := len(med.dtmf)
	med.mu.Unlock()
	if early != 0 {
		t.Error("digits sent while on hold")
	}
	if err := s.Enqueue("test_note", "sent"); err != nil {
		t.Fatal(err)
	}
	if err := s.Unhold(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the note", ranIs(s.UUID(), "note(sent)"))
	med.mu.Lock()
	defer med.mu.Unlock()
	if strings.Join(med.dtmf, ",") != "123" {
		t.Errorf("sent %q", med.dtmf)
	}
}

func TestTransferFromOutsideStopsMedia(t *testing.T) {
	m := newControlManager(t, Config{})
	s, med, _ := startCall(t, m, "203")
	waitFor(t, "the echo", func() bool { med.mu.Lock(); defer med.mu.Unlock(); return med.echoes == 1 })
	if err := s.Transfer("210", "", ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new extension", ranIs(s.UUID(), "note(moved)"))
	info := s.Info()
	if info.Dest != "210" || info.InitialDest != "203" {
		t.Errorf("dest %q, initial dest %q", info.Dest, info.InitialDest)
	}
}

func TestEnqueueErrors(t *testing.T) {
	m := newControlManager(t, Config{})
	s, _, gate := startCall(t, m, "200")
	waitFor(t, "the gate", ranIs(s.UUID(), "note(a)", "gate"))
	if err := s.Enqueue("no_such_app", ""); !errors.Is(err, ErrUnknownApp) {
		t.Errorf("unknown app: %v", err)
	}
	for i := range MaxQueued {
		if err := s.Enqueue("test_note", "x"); err != nil {
			t.Fatalf("enqueue %d: %v", i, err)
		}
	}
	if err := s.Enqueue("test_note", "x"); !errors.Is(err, ErrQueueFull) {
		t.Errorf("enqueue beyond MaxQueued: %v", err)
	}
	s.Break(true)
	close(gate)
	waitDone(t, s)
	if err := s.Enqueue("test_note", "x"); !errors.Is(err, ErrHungUp) {
		t.Errorf("enqueue after hangup: %v", err)
	}
}

// fakeClock is a settable clock for the manager's statistics.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestStats(t *testing.T) {
	m := NewManager(Config{MaxSessions: 50, SessionsPerSecond: 20, Snapshot: func() *conf.Snapshot { return nil }})
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	m.ctl.now = clk.now
	newLegs := func(n int) []*Session {
		var out []*Session
		for range n {
			out = append(out, m.NewInbound(Inbound{Endpoint: &fakeEndpoint{}}))
		}
		return out
	}
	a := newLegs(3) // second 0: 3 created, 3 alive
	clk.add(time.Second)
	b := newLegs(5) // second 1: 5 created, 8 alive
	for _, s := range append(a, b[:4]...) {
		m.remove(s)
	}
	clk.add(time.Second) // second 2: 1 alive
	tests := []struct {
		name  string
		after time.Duration
		want  Stats
	}{
		{"now", 0, Stats{Created: 8, Sessions: 1, Peak: 8, Peak5Min: 8, LastSPS: 5, PeakSPS: 5, PeakSPS5Min: 5, MaxSPS: 20, MaxSessions: 50}},
		{"a second later", time.Second, Stats{Created: 8, Sessions: 1, Peak: 8, Peak5Min: 8, LastSPS: 0, PeakSPS: 5, PeakSPS5Min: 5, MaxSPS: 20, MaxSessions: 50}},
		{"five minutes on", 300 * time.Second, Stats{Created: 8, Sessions: 1, Peak: 8, Peak5Min: 1, LastSPS: 0, PeakSPS: 5, PeakSPS5Min: 0, MaxSPS: 20, MaxSessions: 50}},
	}
	for _, tt := range tests {
		clk.add(tt.after)
		if got := m.Stats(); got != tt.want {
			t.Errorf("%s: Stats() = %+v, want %+v", tt.name, got, tt.want)
		}
	}
	m.ResetPeakSPS()
	if got := m.Stats().PeakSPS; got != 0 {
		t.Errorf("PeakSPS after reset = %d", got)
	}
	m.SetLimits(Limits{MaxSessions: 7})
	if got := m.Stats(); got.MaxSessions != 7 || got.MaxSPS != 0 {
		t.Errorf("limits after SetLimits: %+v", got)
	}
}

func TestPause(t *testing.T) {
	m := NewManager(Config{Snapshot: func() *conf.Snapshot { return nil }})
	tests := []struct {
		pause   Traffic
		admit   error
		ready   bool
		checked Traffic
	}{
		{InboundTraffic, ErrPaused, true, InboundTraffic},
		{OutboundTraffic, nil, true, OutboundTraffic},
		{AllTraffic, ErrPaused, false, AllTraffic},
	}
	for _, tt := range tests {
		m.Pause(tt.pause, true)
		if err := m.Admit(); !errors.Is(err, tt.admit) || (tt.admit == nil) != (err == nil) {
			t.Errorf("pause %d: Admit = %v, want %v", tt.pause, err, tt.admit)
		}
		if tt.admit != nil && !errors.Is(m.Admit(), ErrOverloaded) {
			t.Errorf("pause %d: ErrPaused does not wrap ErrOverloaded", tt.pause)
		}
		if m.Ready() != tt.ready || !m.Paused(tt.checked) {
			t.Errorf("pause %d: Ready %v Paused %v", tt.pause, m.Ready(), m.Paused(tt.checked))
		}
		m.Pause(tt.pause, false)
		if err := m.Admit(); err != nil || !m.Ready() || m.Paused(tt.checked) {
			t.Errorf("resume %d: Admit = %v, Ready %v", tt.pause, err, m.Ready())
		}
	}
}

// memStore is an apps.DataStore over a map.
type memStore struct {
	mu sync.Mutex
	m  map[string]string
}

func (s *memStore) Insert(realm, key, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[realm+"/"+key] = value
	return nil
}
func (s *memStore) InsertIfEmpty(string, string, string) (bool, error) { return false, nil }
func (s *memStore) Delete(string, string) (bool, error)                { return false, nil }
func (s *memStore) DeleteIfMatch(string, string, string) (bool, error) { return false, nil }

type memStores map[string]apps.DataStore

func (m memStores) DataStore(name string) apps.DataStore { return m[name] }

func TestDataStore(t *testing.T) {
	st := &memStore{m: map[string]string{}}
	m := newControlManager(t, Config{Stores: memStores{apps.StoreHash: st}})
	s, _, _ := startCall(t, m, "201")
	waitFor(t, "the park", func() bool { return s.State() == CSPark })
	if err := s.Enqueue("hash", "insert/r/k/v"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the hash app", func() bool { st.mu.Lock(); defer st.mu.Unlock(); return st.m["r/k"] == "v" })
	if s.DataStore(apps.StoreDB) != nil {
		t.Error("a db store that was not configured")
	}
	if NewManager(Config{}).NewInbound(Inbound{Endpoint: &fakeEndpoint{}}).DataStore(apps.StoreHash) != nil {
		t.Error("a store without Config.Stores")
	}
}

func TestInfo(t *testing.T) {
	m := newControlManager(t, Config{})
	s, _, _ := startCall(t, m, "201")
	waitFor(t, "the park", func() bool { return s.State() == CSPark })
	s.Vars().Set("accountcode", "acct1")
	s.Vars().Set("read_codec", "PCMA")
	s.Vars().Set("read_rate", "8000")
	info := s.Info()
	want := ChannelInfo{
		UUID: s.UUID(), Direction: "inbound", Created: info.Created, Name: "fake/test", State: CSPark,
		CallState: "DOWN", Dest: "201", Dialplan: "XML", Context: "default",
		Application: "park", Accountcode: "acct1", CallUUID: s.UUID(),
		ReadCodec: "PCMA", ReadRate: 8000, ReadBitRate: 64000,
		InitialDest: "201", InitialDialplan: "XML", InitialContext: "default",
	}
	if info != want {
		t.Errorf("Info() =\n%+v\nwant\n%+v", info, want)
	}
}
