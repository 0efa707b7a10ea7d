package lua

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/commands"
	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/events"
	"github.com/switchboard-voip/switchboard/media"
	"github.com/switchboard-voip/switchboard/session"
	"github.com/switchboard-voip/switchboard/vars"
)

// testEnv is a running switch for the tests: testdata/conf with
// script_dir a fresh directory the test writes its scripts into, a real
// session.Manager whose calls have fake media, an event bus, and a log
// the test can read.
type testEnv struct {
	*commands.Host
	t      testing.TB
	dir    string // script_dir
	mgr    *session.Manager
	dialer *fakeDialer // the "fake" technology's legs (originate_test.go)
	bus    *events.Bus
	logs   *syncBuffer
	log    *slog.Logger
}

// Logger is the switch's logger, which the API commands' scripts log to.
func (e *testEnv) Logger() *slog.Logger { return e.log }

func (e *testEnv) Sessions() *session.Manager           { return e.mgr }
func (e *testEnv) Started() time.Time                   { return time.Unix(0, 0) }
func (e *testEnv) IdleCPU() float64                     { return 100 }
func (e *testEnv) Shutdown(commands.ShutdownMode) error { return nil }
func (e *testEnv) ShutdownPending() bool                { return false }
func (e *testEnv) Events() *events.Bus                  { return e.bus }

var (
	_ commands.Core        = (*testEnv)(nil)
	_ commands.EventSource = (*testEnv)(nil)
)

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newEnv starts a test switch; set overrides globals (lua_time_limit,
// lua_warn_after).
func newEnv(t testing.TB, set map[string]string) *testEnv {
	t.Helper()
	dir := t.TempDir()
	s := map[string]string{"script_dir": dir}
	for k, v := range set {
		s[k] = v
	}
	return newEnvFrom(t, "testdata/conf", dir, s)
}

// newEnvFrom starts a test switch on the configuration in confDir (""
// for the embedded default) with the --set globals set.
func newEnvFrom(t testing.TB, confDir, dir string, s map[string]string) *testEnv {
	t.Helper()
	state := t.TempDir()
	snap, err := conf.Load(conf.Options{
		Dir:       confDir,
		StateDir:  state,
		Set:       s,
		Host:      &conf.Host{Hostname: "sb-test", IPv4: "192.0.2.1", MaskV4: "255.255.255.0", IPv6: "::1"},
		CoreUUID:  "00000000-0000-4000-8000-000000000000",
		LookupEnv: func(string) (string, bool) { return "", false },
	})
	if err != nil {
		t.Fatalf("loading %q: %v", confDir, err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := &testEnv{
		Host: &commands.Host{Runtime: vars.NewStore(), Config: func() *conf.Snapshot { return snap }},
		t:    t, dir: dir, logs: logs, log: log,
		bus: events.NewBus(events.BusConfig{CoreUUID: "00000000-0000-4000-8000-000000000000"}),
	}
	e.mgr = session.NewManager(session.Config{
		Snapshot:          e.Snapshot,
		Globals:           e.Runtime,
		API:               commands.AsAPI(context.Background(), e),
		MaxSessions:       1000,
		SessionsPerSecond: 10000,
		Logger:            log,
		Events:            e.bus,
	})
	e.dialer = &fakeDialer{}
	e.mgr.SetDialer("fake", e.dialer)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		e.mgr.HangupAll(cause.CNormalClearing)
		if err := e.mgr.Shutdown(ctx); err != nil {
			t.Errorf("calls still up at the end of the test: %v", err)
		}
	})
	return e
}

// write puts a script into script_dir.
func (e *testEnv) write(name, code string) {
	e.t.Helper()
	p := filepath.Join(e.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(code), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// call is a test call: the session and its fake media.
type call struct {
	*session.Session
	media *fakeMedia
	env   *testEnv
}

// dial routes a call to dest with the channel variable script set to
// script (a command line: "name.lua args").
func (e *testEnv) dial(dest, script string) *call {
	e.t.Helper()
	m := &fakeMedia{}
	s := e.mgr.NewInbound(session.Inbound{
		Endpoint: &fakeEndpoint{name: "sofia/internal/1000@192.0.2.9", media: m},
		Profile:  &caller.Profile{DestinationNumber: dest, CallerIDNumber: "1000", CallerIDName: "Caller", NetworkAddr: "192.0.2.9", Context: "default"},
		Vars:     [][2]string{{"script", script}},
	})
	s.Start()
	return &call{Session: s, media: m, env: e}
}

// run writes code as t.lua, calls it on an answered call, and waits for
// the script to end (the dialplan's next action runs).
func (e *testEnv) run(code string) *call {
	e.t.Helper()
	e.write("t.lua", code)
	c := e.dial("answered", "t.lua")
	c.waitScript()
	return c
}

// waitScript waits until the dialplan went on after the script.
func (c *call) waitScript() {
	c.env.t.Helper()
	waitFor(c.env.t, "the script to end", func() bool {
		v, _ := c.Vars().Get("after_script")
		return v == "done" || !c.Ready() && c.State() >= session.CSHangup
	})
}

// v returns a channel variable.
func (c *call) v(name string) string {
	v, _ := c.Vars().Get(name)
	return v
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// fakeMedia plays a source at one 20 ms frame per millisecond, checking
// stop before each frame, and records what it played.
type fakeMedia struct {
	mu     sync.Mutex
	played []int64 // samples of each Play
	dtmf   []string
	delay  time.Duration // per frame; 0 means 1 ms
}

func (m *fakeMedia) Play(ctx context.Context, src media.Source, stop func() bool) (media.PlayResult, error) {
	buf := make([]int16, 160)
	var n int64
	defer func() {
		m.mu.Lock()
		m.played = append(m.played, n)
		m.mu.Unlock()
	}()
	d := m.delay
	if d == 0 {
		d = time.Millisecond
	}
	for {
		if stop != nil && stop() {
			return media.PlayResult{Samples: n, Stopped: true}, nil
		}
		select {
		case <-ctx.Done():
			return media.PlayResult{Samples: n, Stopped: true}, ctx.Err()
		case <-time.After(d):
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

func (m *fakeMedia) Echo(ctx context.Context, _ time.Duration, stop func() bool) error {
	<-ctx.Done()
	return ctx.Err()
}

func (m *fakeMedia) SendDTMF(_ context.Context, digits string, _ time.Duration) error {
	m.mu.Lock()
	m.dtmf = append(m.dtmf, digits)
	m.mu.Unlock()
	return nil
}

// Codec is G.711 µ-law, for the recorder.
func (m *fakeMedia) Codec() media.Codec { return media.PCMU }

// Record writes 20 ms of silence per millisecond until the limit, Stop or
// ctx ends it.
func (m *fakeMedia) Record(ctx context.Context, w *media.WAVWriter, o media.RecordOptions) (media.RecordResult, error) {
	frame := make([]int16, 160)
	var n int64
	res := func(reason string) (media.RecordResult, error) {
		return media.RecordResult{Samples: n, Duration: time.Duration(n) * time.Second / 8000, Reason: reason}, nil
	}
	for {
		if o.Limit > 0 && time.Duration(n)*time.Second/8000 >= o.Limit {
			return res("limit")
		}
		if o.Stop != nil && o.Stop() {
			return res("stopped")
		}
		select {
		case <-ctx.Done():
			return res("hangup")
		case <-time.After(time.Millisecond):
		}
		if err := w.Write(frame); err != nil {
			return media.RecordResult{}, err
		}
		n += int64(len(frame))
	}
}

func (m *fakeMedia) plays() []int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]int64(nil), m.played...)
}

// fakeEndpoint is a call leg's signalling.
type fakeEndpoint struct {
	name  string
	media *fakeMedia
}

func (e *fakeEndpoint) Name() string                               { return e.name }
func (e *fakeEndpoint) Answer(context.Context) error               { return nil }
func (e *fakeEndpoint) PreAnswer(context.Context) error            { return nil }
func (e *fakeEndpoint) RingReady(context.Context, bool) error      { return nil }
func (e *fakeEndpoint) Respond(context.Context, int, string) error { return nil }
func (e *fakeEndpoint) Redirect(context.Context, string) error     { return nil }
func (e *fakeEndpoint) Media() session.Media                       { return e.media }
func (e *fakeEndpoint) Hangup(cause.Cause)                         {}

var _ apps.Session = (*session.Session)(nil)

// logHas reports whether the log contains all of parts.
func (e *testEnv) logHas(parts ...string) bool {
	l := e.logs.String()
	for _, p := range parts {
		if !strings.Contains(l, p) {
			return false
		}
	}
	return true
}
