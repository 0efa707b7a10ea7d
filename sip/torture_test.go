package sip

import (
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// tortureFiles returns the RFC 4475 torture messages shipped in sipgo's
// module (sip/testdata/torture/{valid,invalid}/*.dat).
func tortureFiles(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/emiago/sipgo").Output()
	if err != nil {
		t.Skipf("cannot locate the sipgo module: %v", err)
	}
	dir := strings.TrimSpace(string(out))
	files, err := filepath.Glob(filepath.Join(dir, "sip", "testdata", "torture", "*", "*.dat"))
	if err != nil || len(files) < 40 {
		t.Fatalf("torture messages: %d files, err %v", len(files), err)
	}
	return files
}

// TestTortureMessages sends every RFC 4475 message to a running endpoint
// over UDP and TCP. Each is answered or dropped; none may crash the
// process, and the endpoint keeps answering OPTIONS and carrying a call.
func TestTortureMessages(t *testing.T) {
	t.Parallel()
	env := newEnv(t, envOpts{})
	u := newUAC(t, env, "udp")
	d := u.dialog("park")
	d.invite(d.offer("0"))
	d.expectAnswer()

	files := tortureFiles(t)
	udp, err := net.DialUDP("udp", nil, env.udp)
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := udp.Write(b); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		// Over TCP each message gets its own connection, kept open so
		// the answers go back on it (sipgo would otherwise dial the Via
		// address, here unroutable documentation addresses).
		tcp, err := net.DialTCP("tcp", nil, env.tcp)
		if err != nil {
			t.Fatal(err)
		}
		defer tcp.Close()
		go func() { _, _ = io.Copy(io.Discard, tcp) }()
		_, _ = tcp.Write(b)
	}

	probe := u.dialog("probe")
	probe.request("OPTIONS", "")
	probe.resp(sip.OPTIONS, 200)
	if s := env.sessionFor(d.callID); s == nil || !s.Ready() {
		t.Fatal("the call in progress did not survive the torture messages")
	}
	d.request("BYE", "")
	d.resp(sip.BYE, 200)
	// Calls the torture INVITEs started (routed nowhere, answered to
	// unreachable Via addresses) end on their own.
	waitFor(t, "torture calls to end", func() bool { return env.mgr.Count() == 0 })
}
