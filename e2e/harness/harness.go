// Package harness starts the real switchboard binary for end-to-end tests:
// on a temporary copy of a configuration tree, with its SIP port and a
// loopback debug endpoint on free ports, and waits until it says it is
// ready. It hands back the SIP address, a reader for the debug variables
// the leak checks use, and the process's logs, and stops it with SIGTERM
// at the end of the test, failing the test unless it exits 0.
//
// The flags it passes to `switchboard run`:
//
//	run --conf DIR --state-dir DIR --log-level LEVEL
//	    --set <SIPPortVar>=PORT [--set NAME=VALUE]...
//	    --debug-addr 127.0.0.1:PORT --admin-addr off [Options.Args...]
//
// and what it expects back: a line containing the word "ready" on stderr
// (or stdout) once the SIP profiles listen, and, on the debug address,
// expvar's JSON at /debug/vars with the integer variables goroutines,
// rtp_ports_open and sessions (pprof under /debug/pprof/ is used for
// diagnostics when a leak check fails).
package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// StrictEnv names the environment variable that turns a missing external
// tool from a skipped test into a failed one. CI sets it to 1.
const StrictEnv = "SWITCHBOARD_E2E_STRICT"

// Strict reports whether SWITCHBOARD_E2E_STRICT=1.
func Strict() bool { return os.Getenv(StrictEnv) == "1" }

// RequireTool returns the path of the external program name (sipp, ...).
// When it is not installed the test is skipped, or fails when
// SWITCHBOARD_E2E_STRICT=1, so that CI cannot pass by skipping.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if Strict() {
		t.Fatalf("required tool %s is not installed (%v); %s=1 makes this a failure", name, err, StrictEnv)
	}
	t.Skipf("skipping: tool %s is not installed (%v); set %s=1 to fail instead", name, err, StrictEnv)
	return ""
}

// ModuleRoot returns the directory holding the main module's go.mod.
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("go env GOMOD: not inside a module (%q)", gomod)
	}
	return filepath.Dir(gomod), nil
}

// Build compiles the package pkg (e.g. "./cmd/switchboard") of the module
// at root into dir as a static binary (CGO_ENABLED=0) and returns its
// path.
func Build(ctx context.Context, root, pkg, dir string) (string, error) {
	bin := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
	}
	return bin, nil
}

// HasRun reports whether the binary at bin has the run subcommand, by
// asking for its help: an unknown command is a usage error naming it.
func HasRun(bin string) (bool, error) {
	out, err := exec.Command(bin, "run", "--help").CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return false, fmt.Errorf("%s run --help: %w", bin, err)
	}
	if bytes.Contains(out, []byte(`unknown command "run"`)) {
		return false, nil
	}
	return err == nil || bytes.Contains(out, []byte("run")), nil
}

// FreePort returns a port on 127.0.0.1 that is free for both UDP and TCP
// (a SIP profile listens on both) at the time of the call.
func FreePort() (int, error) {
	for range 50 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("free port: %w", err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		pc.Close()
		if err != nil {
			continue
		}
		l.Close()
		return port, nil
	}
	return 0, errors.New("free port: no port free for both UDP and TCP")
}

// Options describe one start of the switch.
type Options struct {
	// Binary is the switchboard executable (required).
	Binary string
	// ConfDir is a configuration tree to copy into a temporary directory
	// and pass as --conf. Empty runs the embedded default configuration.
	ConfDir string
	// Set holds extra --set NAME=VALUE globals.
	Set map[string]string
	// SIPPortVar is the global the configuration's sip-port reads
	// (default "internal_sip_port", as in the default tree).
	SIPPortVar string
	// LogLevel is passed as --log-level (default "info").
	LogLevel string
	// Args are appended to the command line.
	Args []string
	// Env is added to the environment ("NAME=value").
	Env []string
	// ReadyTimeout bounds the wait for the ready line (default 20 s);
	// StopTimeout the wait for exit after SIGTERM (default 10 s).
	ReadyTimeout, StopTimeout time.Duration
}

// Switch is a running switchboard process.
type Switch struct {
	// SIPAddr is where the SIP profile listens (UDP and TCP).
	SIPAddr netip.AddrPort
	// DebugAddr is the expvar/pprof address.
	DebugAddr string
	// ConfDir is the temporary configuration copy ("" for the embedded
	// default); StateDir the state directory.
	ConfDir, StateDir string
	// Args is the full command line after the binary.
	Args []string

	opts   Options
	cmd    *exec.Cmd
	logs   *logBuffer
	exited chan struct{}
	err    error // Wait's result, valid once exited is closed
	stop   sync.Once
	http   *http.Client
}

// readyLine matches the line a started switch prints.
var readyLine = regexp.MustCompile(`(?i)\bready\b`)

// Start starts the switch per opts and waits until it reports ready. The
// test fails (Fatal) if it does not. When the test ends the switch is
// stopped with SIGTERM and must exit 0; its logs are printed if the test
// failed.
func Start(t testing.TB, opts Options) *Switch {
	t.Helper()
	var s *Switch
	var err error
	// Another process may take the free port between the check and the
	// switch binding it; try again on that error only.
	for attempt := 0; attempt < 3; attempt++ {
		s, err = start(t, opts)
		if err == nil || !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	if err != nil {
		t.Fatalf("starting switchboard: %v", err)
	}
	t.Cleanup(func() {
		s.Stop(t)
		if t.Failed() {
			t.Logf("switchboard %s\n--- logs:\n%s", strings.Join(s.Args, " "), s.Logs())
		}
	})
	return s
}

func start(t testing.TB, opts Options) (*Switch, error) {
	if opts.Binary == "" {
		return nil, errors.New("no binary given")
	}
	if opts.SIPPortVar == "" {
		opts.SIPPortVar = "internal_sip_port"
	}
	if opts.LogLevel == "" {
		opts.LogLevel = "info"
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 20 * time.Second
	}
	if opts.StopTimeout == 0 {
		opts.StopTimeout = 10 * time.Second
	}
	s := &Switch{
		opts:     opts,
		StateDir: t.TempDir(),
		logs:     &logBuffer{ready: make(chan struct{})},
		exited:   make(chan struct{}),
		http:     &http.Client{Timeout: 5 * time.Second},
	}
	if opts.ConfDir != "" {
		s.ConfDir = filepath.Join(t.TempDir(), "conf")
		if err := CopyTree(opts.ConfDir, s.ConfDir); err != nil {
			return nil, err
		}
	}
	sipPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	debugPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	s.SIPAddr = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(sipPort))
	s.DebugAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(debugPort))

	args := []string{"run"}
	if s.ConfDir != "" {
		args = append(args, "--conf", s.ConfDir)
	}
	args = append(args, "--state-dir", s.StateDir, "--log-level", opts.LogLevel,
		"--set", opts.SIPPortVar+"="+strconv.Itoa(sipPort))
	names := make([]string, 0, len(opts.Set))
	for k := range opts.Set {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		args = append(args, "--set", k+"="+opts.Set[k])
	}
	// No admin HTTP server unless a test asks for one in Args (the
	// later flag wins): switches started side by side would otherwise
	// compete for the default 127.0.0.1:8080.
	args = append(args, "--debug-addr", s.DebugAddr, "--admin-addr", "off")
	args = append(args, opts.Args...)
	s.Args = args

	s.cmd = exec.Command(opts.Binary, args...)
	s.cmd.Dir = s.StateDir
	env := []string{"XDG_STATE_HOME=" + s.StateDir}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if name != "XDG_STATE_HOME" && name != StrictEnv {
			env = append(env, kv)
		}
	}
	s.cmd.Env = append(env, opts.Env...)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", opts.Binary, err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()

	timer := time.NewTimer(opts.ReadyTimeout)
	defer timer.Stop()
	select {
	case <-s.logs.ready:
		return s, nil
	case <-s.exited:
		return nil, fmt.Errorf("switchboard %s exited before it was ready (%v):\n%s", strings.Join(args, " "), s.err, s.Logs())
	case <-timer.C:
		s.kill()
		return nil, fmt.Errorf("switchboard %s: no ready line after %v:\n%s", strings.Join(args, " "), opts.ReadyTimeout, s.Logs())
	}
}

// kill ends the process without ceremony and waits for it.
func (s *Switch) kill() {
	s.cmd.Process.Kill()
	<-s.exited
}

// SIPURI returns the request URI for user at the switch, e.g.
// "sip:9196@127.0.0.1:5090".
func (s *Switch) SIPURI(user string) string {
	return "sip:" + user + "@" + s.SIPAddr.String()
}

// Logs returns everything the process wrote to stdout and stderr so far.
func (s *Switch) Logs() string { return s.logs.String() }

// Exited is closed when the process has exited.
func (s *Switch) Exited() <-chan struct{} { return s.exited }

// Stop sends SIGTERM and waits for the process to exit; the test fails
// unless it exits 0 within StopTimeout (it is then sent SIGQUIT, for a
// goroutine dump in the logs, and killed). Stop may be called more than
// once; only the first call acts.
func (s *Switch) Stop(t testing.TB) {
	t.Helper()
	s.stop.Do(func() {
		select {
		case <-s.exited:
			t.Errorf("switchboard exited by itself before the test ended (%v)", s.err)
			return
		default:
		}
		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Errorf("SIGTERM: %v", err)
		}
		timer := time.NewTimer(s.opts.StopTimeout)
		defer timer.Stop()
		select {
		case <-s.exited:
		case <-timer.C:
			s.cmd.Process.Signal(syscall.SIGQUIT)
			select {
			case <-s.exited:
			case <-time.After(2 * time.Second):
				s.kill()
			}
			t.Errorf("switchboard did not exit within %v of SIGTERM", s.opts.StopTimeout)
			return
		}
		if s.err != nil {
			t.Errorf("switchboard exited with %v after SIGTERM, want exit 0", s.err)
		}
	})
}

// Vars are the debug variables the leak checks read.
type Vars struct {
	Goroutines   int
	RTPPortsOpen int
	Sessions     int
	// All holds every variable expvar published, raw.
	All map[string]json.RawMessage
}

// Vars reads /debug/vars from the debug address.
func (s *Switch) Vars(ctx context.Context) (Vars, error) {
	body, err := s.DebugGet(ctx, "/debug/vars")
	if err != nil {
		return Vars{}, err
	}
	var v Vars
	if err := json.Unmarshal(body, &v.All); err != nil {
		return Vars{}, fmt.Errorf("/debug/vars: %w", err)
	}
	for name, dst := range map[string]*int{"goroutines": &v.Goroutines, "rtp_ports_open": &v.RTPPortsOpen, "sessions": &v.Sessions} {
		raw, ok := v.All[name]
		if !ok {
			keys := make([]string, 0, len(v.All))
			for k := range v.All {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			return v, fmt.Errorf("/debug/vars has no %q (has %s)", name, strings.Join(keys, ", "))
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return v, fmt.Errorf("/debug/vars %s = %s: %w", name, raw, err)
		}
	}
	return v, nil
}

// DebugGet fetches a path (e.g. "/debug/pprof/goroutine?debug=1") from
// the debug address.
func (s *Switch) DebugGet(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.DebugAddr+path, nil)
	if err != nil {
		return nil, err
	}
	res, err := s.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("debug endpoint: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, fmt.Errorf("debug endpoint %s: %w", path, err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("debug endpoint %s: %s", path, res.Status)
	}
	return body, nil
}

// WaitSettled polls the debug variables until the switch is back at base:
// no more goroutines than base plus slack, the same number of open RTP
// ports and sessions. It returns the last reading, and an error naming
// what did not return when ctx ends first.
func (s *Switch) WaitSettled(ctx context.Context, base Vars, slack int) (Vars, error) {
	var last Vars
	var lastErr error
	for {
		v, err := s.Vars(ctx)
		if err == nil {
			last = v
			if v.Goroutines <= base.Goroutines+slack && v.RTPPortsOpen == base.RTPPortsOpen && v.Sessions == base.Sessions {
				return v, nil
			}
			lastErr = fmt.Errorf("not back to baseline: goroutines %d (baseline %d + %d), rtp_ports_open %d (baseline %d), sessions %d (baseline %d)",
				v.Goroutines, base.Goroutines, slack, v.RTPPortsOpen, base.RTPPortsOpen, v.Sessions, base.Sessions)
		} else {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			return last, lastErr
		case <-s.exited:
			return last, fmt.Errorf("switchboard exited (%v); last reading: %w", s.err, lastErr)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// CheckSettled is WaitSettled for tests: it fails t, with a goroutine
// dump from pprof, unless the switch settles within timeout.
func (s *Switch) CheckSettled(t testing.TB, base Vars, slack int, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if _, err := s.WaitSettled(ctx, base, slack); err != nil {
		dumpCtx, done := context.WithTimeout(context.Background(), 5*time.Second)
		defer done()
		dump, derr := s.DebugGet(dumpCtx, "/debug/pprof/goroutine?debug=1")
		if derr != nil {
			dump = []byte(derr.Error())
		}
		t.Errorf("leak check: %v\n--- goroutines:\n%s", err, dump)
	}
}

// CopyTree copies the directory src to dst (which must not exist yet),
// files and directories only.
func CopyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(target, b, 0o644)
		default:
			return nil
		}
	})
}

// logBuffer collects the process's output and notices the ready line.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	partial []byte // the unfinished last line
	ready   chan struct{}
	seen    bool
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if b.seen {
		return len(p), nil
	}
	b.partial = append(b.partial, p...)
	for {
		i := bytes.IndexByte(b.partial, '\n')
		if i < 0 {
			break
		}
		line := b.partial[:i]
		b.partial = b.partial[i+1:]
		if readyLine.Match(line) {
			b.seen = true
			b.partial = nil
			close(b.ready)
			break
		}
	}
	return len(p), nil
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// PID is the switch process's id.
func (s *Switch) PID() int { return s.cmd.Process.Pid }

// Signal sends sig to the switch process (e.g. syscall.SIGHUP to reload).
func (s *Switch) Signal(sig os.Signal) error { return s.cmd.Process.Signal(sig) }
