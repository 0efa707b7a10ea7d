package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	apicmd "github.com/switchboard-voip/switchboard/commands"
	"github.com/switchboard-voip/switchboard/conf/conftest"
	"github.com/switchboard-voip/switchboard/esl"
	"github.com/switchboard-voip/switchboard/events"
	"github.com/switchboard-voip/switchboard/vars"
)

// startESLServer serves the event socket in-process with password pw and
// returns its port; HOME and XDG_STATE_HOME point at empty directories so
// that no real ~/.fs_cli_conf or history is read.
func startESLServer(t *testing.T, pw string) (int, *slog.Logger) {
	t.Helper()
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	tee := esl.NewLogTee(slog.DiscardHandler)
	srv := esl.NewServer(esl.Config{
		Settings: esl.Settings{Enabled: true, ListenIP: "127.0.0.1", Password: pw, InboundACL: []string{esl.DefaultInboundACL}},
		Env:      &apicmd.Host{Runtime: vars.NewStore()},
		Events:   events.NewBus(events.BusConfig{CoreUUID: "c"}),
		Logs:     tee,
		Logger:   slog.New(slog.DiscardHandler),
	})
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return srv.Addr().(*net.TCPAddr).Port, slog.New(tee)
}

// console runs `switchboard cli args` with input on stdin. readline
// writes from goroutines of its own, hence the synchronised buffers.
func console(t *testing.T, input string, args ...string) result {
	t.Helper()
	var stdout, stderr syncBuffer
	code := runConsoleWith(args, strings.NewReader(input), &stdout, &stderr)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func TestConsoleExecute(t *testing.T) {
	port, _ := startESLServer(t, "pw")
	p := strconv.Itoa(port)
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"status", []string{"-P", p, "-p", "pw", "-x", "status"}, 0, "UP 0 years", ""},
		{"output gets a newline", []string{"-P", p, "-p", "pw", "-x", "echo a b"}, 0, "a b\n", ""},
		{"unknown command", []string{"-P", p, "-p", "pw", "-x", "nosuch arg"}, 1, "-ERR nosuch Command not found!\n", ""},
		{"wrong password", []string{"-P", p, "-p", "nope", "-x", "status"}, 1, "", "authentication failed: -ERR invalid"},
		{"default password refused", []string{"-P", p, "-x", "status"}, 1, "", "-ERR invalid"},
		{"no server", []string{"-H", "127.0.0.1", "-P", strconv.Itoa(freePort(t)), "-p", "pw", "-x", "status"}, 1, "", "cannot connect to 127.0.0.1:"},
		{"usage", []string{"a", "b"}, 2, "", "usage: switchboard cli"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := console(t, "", tc.args...)
			if r.code != tc.code || !strings.Contains(r.stdout, tc.stdout) || !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("want exit %d, stdout with %q, stderr with %q\n%s", tc.code, tc.stdout, tc.stderr, r)
			}
		})
	}
}

// freePort returns a TCP port nothing listens on.
func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestConsoleInteractive(t *testing.T) {
	port, _ := startESLServer(t, "pw")
	in := "echo hello console\n\n/log info\n/event plain CUSTOM x::y\n/frob\nnosuch\n/help\n/quit\necho not reached\n"
	r := console(t, in, "-P", strconv.Itoa(port), "-p", "pw", "-q", "--history", "off")
	for _, want := range []string{
		"Connected to 127.0.0.1:" + strconv.Itoa(port),
		"hello console\n",
		"+OK log level info [6]\n",
		"+OK event listener enabled plain\n",
		"Unknown command [frob]\n",
		"-ERR nosuch Command not found!\n",
		"/exit, /quit, /bye",
		"Goodbye!\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q\n%s", want, r)
		}
	}
	if r.code != 0 || strings.Contains(r.stdout, "not reached") {
		t.Errorf("after /quit:\n%s", r)
	}
}

// TestConsoleHistory: lines go to the history file in the state
// directory.
func TestConsoleHistory(t *testing.T) {
	port, _ := startESLServer(t, "pw")
	r := console(t, "echo one\n/exit\n", "-P", strconv.Itoa(port), "-p", "pw", "-q")
	if r.code != 0 {
		t.Fatal(r)
	}
	b, err := os.ReadFile(filepath.Join(os.Getenv("XDG_STATE_HOME"), "switchboard", "cli_history"))
	if err != nil || !strings.Contains(string(b), "echo one") {
		t.Errorf("history %q, %v", b, err)
	}
}

func TestConsoleProfiles(t *testing.T) {
	port, _ := startESLServer(t, "from-file")
	home := os.Getenv("HOME")
	conffile := fmt.Sprintf("[default]\nhost => 127.0.0.1\nport => %d\npassword => from-file\n\n[other]\n# a comment\nport = 1\npassword = x\n", port)
	if err := os.WriteFile(filepath.Join(home, ".fs_cli_conf"), []byte(conffile), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := console(t, "", "-x", "echo via profile"); r.code != 0 || r.stdout != "via profile\n" {
		t.Errorf("the [default] profile:\n%s", r)
	}
	if r := console(t, "", "-x", "echo x", "other"); r.code != 1 || !strings.Contains(r.stderr, "cannot connect to 127.0.0.1:1") {
		t.Errorf("the [other] profile:\n%s", r)
	}
	if r := console(t, "", "-x", "echo x", "missing"); r.code != 2 || !strings.Contains(r.stderr, `no profile "missing"`) {
		t.Errorf("a missing profile:\n%s", r)
	}

	// --conf takes the switch configuration's address and password.
	dir := conftest.WriteTree(t, map[string]string{
		"freeswitch.xml": fmt.Sprintf(`<document type="freeswitch/xml"><section name="configuration">
<configuration name="event_socket.conf"><settings>
<param name="listen-ip" value="0.0.0.0"/><param name="listen-port" value="%d"/><param name="password" value="from-file"/>
</settings></configuration></section></document>`, port),
	})
	if err := os.Remove(filepath.Join(home, ".fs_cli_conf")); err != nil {
		t.Fatal(err)
	}
	if r := console(t, "", "--conf", dir, "-x", "echo via conf"); r.code != 0 || r.stdout != "via conf\n" {
		t.Errorf("--conf:\n%s", r)
	}
}

func TestConsoleStreamsLogs(t *testing.T) {
	port, log := startESLServer(t, "pw")
	pr, pw := io.Pipe()
	var stderr syncBuffer
	done := make(chan int, 1)
	out := &syncBuffer{}
	go func() {
		done <- runConsoleWith([]string{"-P", strconv.Itoa(port), "-p", "pw", "-l", "warning", "--history", "off"}, pr, out, &stderr)
	}()
	waitUntil(t, func() bool { return strings.Contains(out.String(), "Connected") })
	// The log subscription is made before "Connected" is printed.
	log.Info("an info line")
	log.Warn("a warning line")
	waitUntil(t, func() bool { return strings.Contains(out.String(), "a warning line") })
	pw.Write([]byte("/exit\n"))
	pw.Close()
	if code := <-done; code != 0 {
		t.Errorf("exit %d: %s %s", code, out.String(), stderr.String())
	}
	if strings.Contains(out.String(), "an info line") {
		t.Errorf("an info line at log level warning:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "[WARNING]") {
		t.Errorf("log line without its level:\n%s", out.String())
	}
}

func TestCompleter(t *testing.T) {
	c := &cliCompleter{names: []string{"/help", "show", "shutdown", "status", "uuid_kill"}}
	for _, tc := range []struct {
		line string
		want []string
	}{
		{"sh", []string{"ow ", "utdown "}},
		{"st", []string{"atus "}},
		{"/", []string{"help "}},
		{"show ch", nil},
		{"x", nil},
	} {
		got, n := c.Do([]rune(tc.line), len(tc.line))
		var s []string
		for _, g := range got {
			s = append(s, string(g))
		}
		if fmt.Sprint(s) != fmt.Sprint(tc.want) || (tc.want != nil && n != len(tc.line)) {
			t.Errorf("Do(%q) = %q, %d; want %q", tc.line, s, n, tc.want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
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

// waitUntil polls cond for up to 5 s.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
