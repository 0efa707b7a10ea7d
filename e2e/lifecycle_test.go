package e2e

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/e2e/harness"
	"github.com/switchboard-voip/switchboard/e2e/sipclient"
)

// refusal dials user and returns the final response code of a refused
// call (0 if it was answered).
func refusal(t *testing.T, sw *testSwitch, user string) int {
	t.Helper()
	ctx := callCtx(t)
	c := sw.dial(t, ctx, user, sipclient.Options{})
	err := c.Answer(ctx)
	var se *sipclient.StatusError
	if errors.As(err, &se) {
		return se.Response.Code
	}
	if err != nil {
		t.Fatalf("call %s: %v", user, err)
	}
	_ = c.Hangup(ctx)
	return 0
}

// waitLog waits until the switch's logs contain s.
func waitLog(t *testing.T, sw *testSwitch, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(sw.Logs(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the logs:\n%s", s, sw.Logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestReloadOnSIGHUP: SIGHUP reloads the configuration atomically without
// stopping the process. A good file changes routing for new calls; a
// broken one is refused with file:line and the previous configuration
// keeps routing; a call in progress keeps the configuration it was routed
// with.
func TestReloadOnSIGHUP(t *testing.T) {
	sw := startSwitch(t)
	dp := filepath.Join(sw.ConfDir, "dialplan", "default.xml")
	orig, err := os.ReadFile(dp)
	if err != nil {
		t.Fatal(err)
	}
	if code := refusal(t, sw, "9196"); code != 0 {
		t.Fatalf("9196 refused with %d before the reload", code)
	}

	// A call answered under the old configuration...
	ctx := callCtx(t)
	inProgress := sw.dial(t, ctx, "9196", sipclient.Options{})
	if err := inProgress.Answer(ctx); err != nil {
		t.Fatal(err)
	}

	// ...then 9196 becomes "busy" and the switch is told to reload.
	busy := strings.Replace(string(orig), `<action application="answer"/>
        <action application="echo"/>`, `<action application="hangup" data="USER_BUSY"/>`, 1)
	if busy == string(orig) {
		t.Fatal("test dialplan changed: cannot find 9196's actions")
	}
	if err := os.WriteFile(dp, []byte(busy), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := sw.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog(t, sw, "reloadxml: configuration reloaded")
	if code := refusal(t, sw, "9196"); code != 486 {
		t.Errorf("9196 after the reload: got %d, want 486 (USER_BUSY)", code)
	}
	// The call routed before the reload still echoes.
	hearsEcho(t, ctx, inProgress)

	// A broken file: refused with its file:line, the old routing stays.
	broken := strings.Replace(busy, "</extension>", "</extensio>", 1)
	if err := os.WriteFile(dp, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := sw.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog(t, sw, "reloadxml failed")
	if !strings.Contains(sw.Logs(), "default.xml:") {
		t.Errorf("the failed reload does not name the file and line:\n%s", sw.Logs())
	}
	if code := refusal(t, sw, "9196"); code != 486 {
		t.Errorf("9196 after a failed reload: got %d, want 486 from the configuration still in force", code)
	}
	select {
	case <-sw.Exited():
		t.Fatal("the switch exited on SIGHUP")
	default:
	}
	if err := inProgress.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestShutdownHangsUpCalls: SIGTERM ends calls in progress with a BYE
// (the harness then checks the exit status is 0).
func TestShutdownHangsUpCalls(t *testing.T) {
	requireRun(t)
	// No leak check here: the switch is stopped inside the test.
	sw := &testSwitch{Switch: harness.Start(t, harness.Options{Binary: build.bin, ConfDir: filepath.Join("testdata", "conf")})}
	ctx := callCtx(t)
	c := sw.dial(t, ctx, "9196", sipclient.Options{})
	if err := c.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	sw.Stop(t)
	cause, err := c.WaitBye(ctx)
	if err != nil {
		t.Fatalf("no BYE on shutdown: %v (%v)", err, c)
	}
	if cause.Text != "SYSTEM_SHUTDOWN" {
		t.Errorf("BYE reason %+v, want SYSTEM_SHUTDOWN", cause)
	}
}

// TestRunPortInUse: a SIP port that cannot be bound makes run exit 1
// with the reason.
func TestRunPortInUse(t *testing.T) {
	requireRun(t)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	port := pc.LocalAddr().(*net.UDPAddr).Port
	r := runSwitchboard(t, nil, "run", "--set", "internal_sip_port="+strconv.Itoa(port))
	if r.code != 1 || !strings.Contains(r.stderr, "address already in use") {
		t.Errorf("run on a taken port: want exit 1 naming the address in use\n%s", r)
	}
}

// TestRunBrokenConfig: a broken configuration makes run exit 1 with
// file:line, before binding anything.
func TestRunBrokenConfig(t *testing.T) {
	requireRun(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "freeswitch.xml"), []byte("<document>\n<section name=\"dialplan\">\n</document>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runSwitchboard(t, nil, "run", "--conf", dir)
	if r.code != 1 || !strings.Contains(r.stderr, "freeswitch.xml:") || r.stdout != "" {
		t.Errorf("run on a broken configuration: want exit 1 with file:line on stderr\n%s", r)
	}
}
