package sipclient

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
)

// waitBound waits until something holds the UDP port on 127.0.0.1.
func waitBound(t *testing.T, ctx context.Context, port int) {
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

// TestAgainstSIPp calls SIPp answering with RTP echo
// (testdata/sipp/uas_echo.xml): a third-party implementation answers,
// echoes the tone, and takes the BYE.
func TestAgainstSIPp(t *testing.T) {
	sipp := harness.RequireTool(t, "sipp")
	ctx := testCtx(t)
	sipPort, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	rtpPort, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	scenario, err := filepath.Abs(filepath.Join("..", "testdata", "sipp", "uas_echo.xml"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, sipp, "-sf", scenario, "-i", "127.0.0.1", "-p", strconv.Itoa(sipPort),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(rtpPort), "-rtp_echo",
		"-m", "1", "-nostdin", "-timeout", "15s", "-timeout_error")
	cmd.Dir = t.TempDir()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	waitBound(t, ctx, sipPort)

	c := dial(t, ctx, Options{Target: "sip:service@127.0.0.1:" + strconv.Itoa(sipPort)})
	if err := c.Answer(ctx); err != nil {
		t.Fatalf("Answer: %v\n%s", err, out.String())
	}
	if c.Codec() != PCMU || c.RemoteRTP().Port() != uint16(rtpPort) {
		t.Errorf("negotiated %s at %v, want PCMU at port %d", c.Codec(), c.RemoteRTP(), rtpPort)
	}
	go c.SendTone(ctx, 440, 500*time.Millisecond)
	if _, err := c.WaitTone(ctx, 440, 400*time.Millisecond); err != nil {
		t.Error(err)
	}
	if err := c.Hangup(ctx); err != nil {
		t.Errorf("Hangup: %v", err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("sipp: %v\n%s", err, out.String())
		}
	case <-ctx.Done():
		t.Fatalf("sipp did not finish its one call\n%s", out.String())
	}
}

// TestSIPpScenario runs e2e's SIPp scenario (the one the suite points at
// the switch) against the test UAS, so a broken scenario shows here
// rather than as a switch failure.
func TestSIPpScenario(t *testing.T) {
	sipp := harness.RequireTool(t, "sipp")
	ctx := testCtx(t)
	uas := startUAS(t, "udp", uasPlan{ring: true})
	port, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	scenario, err := filepath.Abs(filepath.Join("..", "testdata", "sipp", "uac_bye.xml"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, sipp, "-sf", scenario, "-s", "9196", "-i", "127.0.0.1", "-p", strconv.Itoa(port),
		"-m", "1", "-nostdin", "-timeout", "15s", "-timeout_error", uas.addr)
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sipp: %v\n%s", err, out)
	}
	if got := strings.Join(uas.seen(), " "); got != "INVITE ACK BYE" {
		t.Errorf("UAS saw %q, want INVITE ACK BYE", got)
	}
}
