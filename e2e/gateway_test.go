package e2e

import (
	"bytes"
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/e2e/harness"
	"github.com/switchboard-voip/switchboard/e2e/sipclient"
)

// Outbound calls through a SIP gateway, with SIPp playing the provider.
// The switch runs the default configuration with testdata/gateway/conf
// laid over it: the gateway "provider" in the internal profile
// (register=false, realm provider.example, proxy = SIPp's port) and an
// extension in context default that bridges 011... to
// sofia/gateway/provider/<number>. The caller is on 127.0.0.1, which the
// default configuration trusts into context default.

// providerNumber is a number the overlay's extension sends to the
// gateway.
const providerNumber = "01144201234567"

// startOverlaySwitch copies conf/default, lays the overlay directory
// over it and starts the switch with the extra globals, checking for
// leaks when the test ends.
func startOverlaySwitch(t *testing.T, overlayDir string, set map[string]string) *testSwitch {
	t.Helper()
	requireRun(t)
	conf := filepath.Join(t.TempDir(), "conf")
	if err := harness.CopyTree(filepath.Join(build.root, "conf", "default"), conf); err != nil {
		t.Fatalf("copying the default configuration: %v", err)
	}
	if err := overlay(overlayDir, conf); err != nil {
		t.Fatalf("laying %s over it: %v", overlayDir, err)
	}
	// Not the default 8021: switches run side by side.
	all := map[string]string{"event_socket_port": "0"}
	for k, v := range set {
		all[k] = v
	}
	sw := harness.Start(t, harness.Options{Binary: build.bin, ConfDir: conf, Set: all})
	ts := &testSwitch{Switch: sw}
	var err error
	ts.base, err = sw.Vars(t.Context())
	if err != nil {
		t.Fatalf("debug variables: %v", err)
	}
	t.Cleanup(func() { sw.CheckSettled(t, ts.base, perTestSlack, 15*time.Second) })
	return ts
}

// sippRun is a SIPp process a test started.
type sippRun struct {
	out    *bytes.Buffer
	exited chan error
}

// wait returns SIPp's exit error once it has run its one call, failing
// the test when ctx ends first.
func (r *sippRun) wait(t *testing.T, ctx context.Context) error {
	t.Helper()
	select {
	case err := <-r.exited:
		return err
	case <-ctx.Done():
		t.Fatalf("sipp did not finish its call: %v\n%s", ctx.Err(), r.out)
		return nil
	}
}

// startSIPpUAS starts SIPp with a UAS scenario of testdata/gateway on
// 127.0.0.1:port for one call, with RTP echo on rtpPort, and waits until
// it listens. It is killed when the test ends.
func startSIPpUAS(t *testing.T, ctx context.Context, scenario string, port, rtpPort int) *sippRun {
	t.Helper()
	sipp := requireTool(t, "sipp")
	sf, err := filepath.Abs(filepath.Join("testdata", "gateway", scenario))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, sipp, "-sf", sf, "-i", "127.0.0.1", "-p", strconv.Itoa(port),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(rtpPort), "-rtp_echo",
		"-m", "1", "-nostdin", "-timeout", "20s", "-timeout_error")
	cmd.Dir = t.TempDir()
	r := &sippRun{out: &bytes.Buffer{}, exited: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = r.out, r.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("sipp: %v", err)
	}
	go func() { r.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	waitUDPBound(t, ctx, port)
	return r
}

// waitUDPBound waits until something holds the UDP port on 127.0.0.1.
func waitUDPBound(t *testing.T, ctx context.Context, port int) {
	t.Helper()
	for {
		pc, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			return
		}
		pc.Close()
		select {
		case <-ctx.Done():
			t.Fatalf("nothing listens on UDP %d: %v", port, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// freePorts returns n ports free for UDP and TCP on 127.0.0.1.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	out := make([]int, 0, n)
	for range n {
		p, err := harness.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// TestGatewayDigest: the provider answers the switch's INVITE with 401
// for realm provider.example; the switch sends the INVITE again with the
// gateway's credentials (SIPp checks them with verifyauth), the provider
// answers, and the caller talks through the bridge to SIPp's RTP echo.
func TestGatewayDigest(t *testing.T) {
	ctx := callCtx(t)
	ports := freePorts(t, 2)
	uas := startSIPpUAS(t, ctx, "uas_auth.xml", ports[0], ports[1])
	sw := startOverlaySwitch(t, filepath.Join("testdata", "gateway", "conf"),
		map[string]string{"e2e_provider_port": strconv.Itoa(ports[0])})

	c := sw.dial(t, ctx, providerNumber, sipclient.Options{From: "1000"})
	if err := c.Answer(ctx); err != nil {
		t.Fatalf("the call through the gateway was not answered: %v (%v)\nsipp:\n%s", err, c, uas.out)
	}
	hearsEcho(t, ctx, c)
	if err := c.Hangup(ctx); err != nil {
		t.Errorf("hangup: %v", err)
	}
	if err := uas.wait(t, ctx); err != nil {
		t.Errorf("sipp: %v (its scenario checks the Authorization header)\n%s", err, uas.out)
	}
	if logs := sw.Logs(); strings.Contains(logs, "invalid digest request") {
		t.Errorf("the switch refused the provider's own challenge:\n%s", logs)
	}
}

// TestGatewayForeignRealm: a peer that challenges the gateway's INVITE
// for a realm that is not the gateway's gets no answer (CVE-2021-41158):
// SIPp sees no second INVITE within 3 seconds, the caller's call fails,
// and the switch logs the refusal.
func TestGatewayForeignRealm(t *testing.T) {
	ctx := callCtx(t)
	ports := freePorts(t, 2)
	uas := startSIPpUAS(t, ctx, "uas_foreign_realm.xml", ports[0], ports[1])
	sw := startOverlaySwitch(t, filepath.Join("testdata", "gateway", "conf"),
		map[string]string{"e2e_provider_port": strconv.Itoa(ports[0])})

	c := sw.dial(t, ctx, providerNumber, sipclient.Options{From: "1000"})
	final, err := c.Final(ctx)
	if err != nil {
		t.Fatalf("no final response: %v (%v)", err, c)
	}
	if final.Code < 400 {
		t.Errorf("the caller got %v, want a failure: the only answer was a foreign challenge", final)
	}
	if c.Answered() {
		t.Error("the caller was answered")
	}
	if err := uas.wait(t, ctx); err != nil {
		t.Errorf("sipp: %v (a second INVITE fails its scenario)\n%s", err, uas.out)
	}
	logs := logsWith(sw, "invalid digest request")
	if !strings.Contains(logs, "invalid digest request") || !strings.Contains(logs, "elsewhere.example") {
		t.Errorf("no log of the refused challenge for elsewhere.example:\n%s", logs)
	}
}
