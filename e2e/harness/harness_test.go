package harness

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fake builds the stand-in switch once per test binary run.
var fake struct {
	once sync.Once
	bin  string
	err  error
}

func fakeSwitch(t *testing.T) string {
	t.Helper()
	fake.once.Do(func() {
		root, err := ModuleRoot()
		if err != nil {
			fake.err = err
			return
		}
		dir, err := os.MkdirTemp("", "harness-fake-")
		if err != nil {
			fake.err = err
			return
		}
		fake.bin, fake.err = Build(context.Background(), root, "./e2e/harness/testdata/fakeswitch", dir)
	})
	if fake.err != nil {
		t.Fatal(fake.err)
	}
	return fake.bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fake.bin != "" {
		os.RemoveAll(filepath.Dir(fake.bin))
	}
	os.Exit(code)
}

// recorder is a testing.TB that collects failures instead of failing, and
// ends the goroutine on Fatal and Skip like the real one.
type recorder struct {
	*testing.T
	mu      sync.Mutex
	errors  []string
	skipped bool
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Skipf(format string, args ...any) {
	r.mu.Lock()
	r.skipped = true
	r.mu.Unlock()
	runtime.Goexit()
}

// inGoroutine runs f the way the testing package runs a test, so that
// Goexit from Fatal or Skip ends only f.
func inGoroutine(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}

func TestStartVarsSettleStop(t *testing.T) {
	src := filepath.Join("testdata", "conf")
	s := Start(t, Options{
		Binary:  fakeSwitch(t),
		ConfDir: src,
		Set:     map[string]string{"zeta": "1", "alpha": "2"},
	})
	if s.ConfDir == "" || s.ConfDir == src {
		t.Errorf("ConfDir %q: want a fresh copy", s.ConfDir)
	}
	if _, err := os.Stat(filepath.Join(s.ConfDir, "freeswitch.xml")); err != nil {
		t.Errorf("copied tree: %v", err)
	}
	args := strings.Join(s.Args, " ")
	for _, want := range []string{
		"run --conf " + s.ConfDir,
		"--state-dir " + s.StateDir,
		"--set internal_sip_port=" + strconv.Itoa(int(s.SIPAddr.Port())),
		"--set alpha=2 --set zeta=1",
		"--debug-addr " + s.DebugAddr,
	} {
		if !strings.Contains(args, want) {
			t.Errorf("command line %q lacks %q", args, want)
		}
	}
	// The switch holds its SIP port.
	if pc, err := net.ListenPacket("udp", s.SIPAddr.String()); err == nil {
		pc.Close()
		t.Errorf("SIP port %v is not in use", s.SIPAddr)
	}
	if got, want := s.SIPURI("9196"), "sip:9196@"+s.SIPAddr.String(); got != want {
		t.Errorf("SIPURI = %q, want %q", got, want)
	}

	ctx := t.Context()
	base, err := s.Vars(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if base.Goroutines <= 0 || base.RTPPortsOpen != 0 || base.Sessions != 0 {
		t.Errorf("baseline %+v", base)
	}
	conn, err := net.Dial("udp", s.SIPAddr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	send := func(msg string) {
		if _, err := conn.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	// Two ports "leak": the switch does not settle. Wait until the fake
	// switch reports them, so the check below cannot see the state from
	// before the message arrived.
	send("open 2")
	for deadline := time.Now().Add(10 * time.Second); ; {
		v, err := s.Vars(ctx)
		if err == nil && v.RTPPortsOpen == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the fake switch never reported the two ports: %+v, %v", v, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if v, err := s.WaitSettled(short, base, 5); err == nil || !strings.Contains(err.Error(), "rtp_ports_open 2") {
		t.Errorf("WaitSettled with two ports open: %+v, %v", v, err)
	}
	rec := &recorder{T: t}
	inGoroutine(func() { s.CheckSettled(rec, base, 5, 200*time.Millisecond) })
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "leak check") || !strings.Contains(rec.errors[0], "goroutine") {
		t.Errorf("CheckSettled on a leak reported %q, want a failure with a goroutine dump", rec.errors)
	}
	// They are released: it settles.
	send("close 2")
	s.CheckSettled(t, base, 5, 5*time.Second)

	s.Stop(t)
	select {
	case <-s.Exited():
	default:
		t.Error("Exited not closed after Stop")
	}
	if !strings.Contains(s.Logs(), "shutting down") {
		t.Errorf("logs lack the shutdown line:\n%s", s.Logs())
	}
}

func TestEmbeddedConfAndPortVar(t *testing.T) {
	s := Start(t, Options{Binary: fakeSwitch(t), SIPPortVar: "test_sip_port", Set: map[string]string{"internal_sip_port": "0"}})
	if s.ConfDir != "" || slices.Contains(s.Args, "--conf") {
		t.Errorf("no ConfDir given, yet %q / %q", s.ConfDir, s.Args)
	}
	if !slices.Contains(s.Args, "test_sip_port="+strconv.Itoa(int(s.SIPAddr.Port()))) {
		t.Errorf("args %q do not set test_sip_port", s.Args)
	}
}

func TestStopWantsExitZero(t *testing.T) {
	rec := &recorder{T: t}
	var s *Switch
	inGoroutine(func() {
		s = Start(rec, Options{Binary: fakeSwitch(t), Env: []string{"FAKE_TERM_EXIT=4"}})
		s.Stop(rec)
	})
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "exit status 4") {
		t.Errorf("Stop of a switch exiting 4 reported %q", rec.errors)
	}
}

func TestExitBeforeReady(t *testing.T) {
	_, err := start(t, Options{Binary: fakeSwitch(t), Env: []string{"FAKE_DIE=1"}})
	if err == nil || !strings.Contains(err.Error(), "exited before it was ready") || !strings.Contains(err.Error(), "cannot load configuration") {
		t.Errorf("start of a dying switch: %v", err)
	}
	if _, err := start(t, Options{}); err == nil {
		t.Error("start without a binary succeeded")
	}
}

func TestHasRun(t *testing.T) {
	ok, err := HasRun(fakeSwitch(t))
	if err != nil || !ok {
		t.Errorf("HasRun(fake) = %v, %v; want true", ok, err)
	}
	dir := t.TempDir()
	old := filepath.Join(dir, "old")
	script := "#!/bin/sh\necho 'switchboard: unknown command \"run\"' >&2\nexit 2\n"
	if err := os.WriteFile(old, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	ok, err = HasRun(old)
	if err != nil || ok {
		t.Errorf("HasRun(binary without run) = %v, %v; want false", ok, err)
	}
	if _, err := HasRun(filepath.Join(dir, "missing")); err == nil {
		t.Error("HasRun of a missing binary gave no error")
	}
}

func TestRequireTool(t *testing.T) {
	if p := RequireTool(t, "go"); p == "" {
		t.Error("RequireTool(go) returned no path")
	}
	for _, strict := range []string{"", "1"} {
		t.Setenv(StrictEnv, strict)
		rec := &recorder{T: t}
		inGoroutine(func() { RequireTool(rec, "no-such-tool-switchboard-e2e") })
		if strict == "1" && (len(rec.errors) != 1 || rec.skipped) {
			t.Errorf("strict: errors %q, skipped %v; want a failure", rec.errors, rec.skipped)
		}
		if strict == "" && (len(rec.errors) != 0 || !rec.skipped) {
			t.Errorf("not strict: errors %q, skipped %v; want a skip", rec.errors, rec.skipped)
		}
	}
}

func TestFreePort(t *testing.T) {
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatalf("UDP %s: %v", addr, err)
	}
	defer pc.Close()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("TCP %s: %v", addr, err)
	}
	l.Close()
}

func TestReadyLine(t *testing.T) {
	for _, tc := range []struct {
		writes []string
		ready  bool
	}{
		{[]string{"level=INFO msg=\"switchboard ready\"\n"}, true},
		{[]string{"starting\nRea", "dy on 127.0.0.1:5060\n"}, true},
		{[]string{"already listening\n"}, false},
		{[]string{"ready"}, false}, // the line is not finished yet
	} {
		b := &logBuffer{ready: make(chan struct{})}
		for _, w := range tc.writes {
			b.Write([]byte(w))
		}
		select {
		case <-b.ready:
			if !tc.ready {
				t.Errorf("%q: ready, want not", tc.writes)
			}
		default:
			if tc.ready {
				t.Errorf("%q: not ready, want ready", tc.writes)
			}
		}
		if b.String() != strings.Join(tc.writes, "") {
			t.Errorf("%q: logs %q", tc.writes, b.String())
		}
	}
}

func TestCopyTree(t *testing.T) {
	src := t.TempDir()
	for name, text := range map[string]string{"a.xml": "A", "d/b.xml": "B", "d/e/c.yaml": "C"} {
		p := filepath.Join(src, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dst := filepath.Join(t.TempDir(), "copy")
	if err := CopyTree(src, dst); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"a.xml": "A", "d/b.xml": "B", "d/e/c.yaml": "C"} {
		got, err := os.ReadFile(filepath.Join(dst, filepath.FromSlash(name)))
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, %v", name, got, err)
		}
	}
	if err := CopyTree(filepath.Join(src, "missing"), filepath.Join(t.TempDir(), "x")); err == nil {
		t.Error("copying a missing tree succeeded")
	}
}
