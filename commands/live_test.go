package commands

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/media"
	"github.com/switchboard-voip/switchboard/session"
	"github.com/switchboard-voip/switchboard/vars"
)

// liveEnv is the Env of a running switch for the tests: a Host over
// testdata/live with the fixed clock, a real session.Manager, and fakes
// for what the switch measures and controls.
type liveEnv struct {
	*Host
	mgr     *session.Manager
	started time.Time
	idle    float64

	mu        sync.Mutex
	shutdowns []ShutdownMode
	pending   bool
	level     *slog.LevelVar

	hash  *Hash
	db    *DB
	sched *Scheduler
}

func (e *liveEnv) Sessions() *session.Manager { return e.mgr }
func (e *liveEnv) Started() time.Time         { return e.started }
func (e *liveEnv) IdleCPU() float64           { return e.idle }
func (e *liveEnv) ShutdownPending() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.pending
}
func (e *liveEnv) Shutdown(mode ShutdownMode) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.shutdowns = append(e.shutdowns, mode)
	e.pending = mode == ShutdownElegant || mode == ShutdownASAP
	return nil
}
func (e *liveEnv) LogLevel() *slog.LevelVar { return e.level }
func (e *liveEnv) Hash() *Hash              { return e.hash }
func (e *liveEnv) DB() *DB                  { return e.db }
func (e *liveEnv) Scheduler() *Scheduler    { return e.sched }
func (e *liveEnv) DataStore(name string) apps.DataStore {
	switch name {
	case apps.StoreHash:
		return e.hash
	case apps.StoreDB:
		if e.db != nil {
			return e.db
		}
	}
	return nil
}

var (
	_ Core       = (*liveEnv)(nil)
	_ LogLevels  = (*liveEnv)(nil)
	_ Stores     = (*liveEnv)(nil)
	_ Scheduling = (*liveEnv)(nil)
)

// newLive returns a liveEnv whose calls route in testdata/live.
func newLive(t *testing.T) *liveEnv {
	t.Helper()
	snap, err := conf.Load(conf.Options{
		Dir:       "testdata/live",
		StateDir:  t.TempDir(),
		Host:      &conf.Host{Hostname: "sb-test", IPv4: "192.0.2.1", MaskV4: "255.255.255.0", IPv6: "::1"},
		CoreUUID:  "00000000-0000-4000-8000-000000000000",
		LookupEnv: func(string) (string, bool) { return "", false },
	})
	if err != nil {
		t.Fatalf("loading testdata/live: %v", err)
	}
	e := &liveEnv{
		Host:    &Host{Runtime: vars.NewStore(), Config: func() *conf.Snapshot { return snap }, Clock: func() time.Time { return testNow }},
		started: testNow.Add(-time.Hour),
		idle:    97.5,
		level:   new(slog.LevelVar),
		hash:    NewHash(),
		sched:   NewScheduler(SchedulerConfig{Now: func() time.Time { return testNow }, Logger: slog.New(slog.DiscardHandler)}),
	}
	e.mgr = session.NewManager(session.Config{
		Snapshot:          e.Snapshot,
		Globals:           e.Runtime,
		API:               AsAPI(context.Background(), e),
		MaxSessions:       200,
		SessionsPerSecond: 1000,
		Stores:            e,
		Logger:            slog.New(slog.DiscardHandler),
	})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.mgr.Shutdown(ctx); err != nil {
			t.Errorf("calls still up at the end of the test: %v", err)
		}
	})
	return e
}

// testMedia is a call's media: Play reads its source one 20 ms frame per
// millisecond, checking stop before each; SendDTMF records the digits.
type testMedia struct {
	mu      sync.Mutex
	playing int
	plays   int
	dtmf    []string
}

func (m *testMedia) Play(ctx context.Context, src media.Source, stop func() bool) (media.PlayResult, error) {
	m.mu.Lock()
	m.playing++
	m.plays++
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.playing--
		m.mu.Unlock()
	}()
	buf := make([]int16, 160)
	var n int64
	for {
		if stop != nil && stop() {
			return media.PlayResult{Samples: n, Stopped: true}, nil
		}
		select {
		case <-ctx.Done():
			return media.PlayResult{Samples: n, Stopped: true}, ctx.Err()
		case <-time.After(time.Millisecond):
		}
		k, err := src.Read(buf)
		n += int64(k)
		if errors.Is(err, io.EOF) {
			return media.PlayResult{Samples: n}, nil
		}
		if err != nil {
			return media.PlayResult{Samples: n}, err
		}
	}
}

func (m *testMedia) Echo(ctx context.Context, _ time.Duration, stop func() bool) error {
	for stop == nil || !stop() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	return nil
}

func (m *testMedia) SendDTMF(_ context.Context, digits string, _ time.Duration) error {
	m.mu.Lock()
	m.dtmf = append(m.dtmf, digits)
	m.mu.Unlock()
	return nil
}

func (m *testMedia) isPlaying() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.playing > 0
}

// testEndpoint is a call leg's signalling.
type testEndpoint struct {
	name  string
	media *testMedia
}

func (e *testEndpoint) Name() string                               { return e.name }
func (e *testEndpoint) Answer(context.Context) error               { return nil }
func (e *testEndpoint) PreAnswer(context.Context) error            { return nil }
func (e *testEndpoint) RingReady(context.Context, bool) error      { return nil }
func (e *testEndpoint) Respond(context.Context, int, string) error { return nil }
func (e *testEndpoint) Redirect(context.Context, string) error     { return nil }
func (e *testEndpoint) Media() session.Media                       { return e.media }
func (e *testEndpoint) Hangup(cause.Cause)                         {}

// startCall places a call to dest from cid and returns it with its
// media once it has reached want.
func startCall(t *testing.T, e *liveEnv, dest, cid string, want session.State) (*session.Session, *testMedia) {
	t.Helper()
	m := &testMedia{}
	s := e.mgr.NewInbound(session.Inbound{
		Endpoint: &testEndpoint{name: "sofia/internal/" + cid + "@192.0.2.9", media: m},
		Profile:  &caller.Profile{DestinationNumber: dest, CallerIDNumber: cid, CallerIDName: "Caller " + cid, NetworkAddr: "192.0.2.9", Context: "default"},
	})
	s.Start()
	waitFor(t, "the call to reach "+want.String(), func() bool { return s.State() == want })
	return s, m
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

// eventually polls cond until it holds and reports whether it did before
// a deadline that only stops a test that would otherwise hang.
func eventually(cond func() bool) bool {
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// waitEnded waits until s has hung up and left the manager.
func waitEnded(t *testing.T, s *session.Session) {
	t.Helper()
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not end")
	}
}
