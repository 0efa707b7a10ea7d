package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/e2e/harness"
	"github.com/switchboard-voip/switchboard/e2e/sipclient"
)

// What phones do to a bridged call: hold (a re-INVITE with a=sendonly)
// and blind transfer (REFER), on the default configuration with the
// bridge tests' overlay and testdata/bridge_features/conf: 1000 calls
// 1001 through Local_Extension; 9197 (the default milliwatt, 1004 Hz)
// is where transfers send the other party.

// startFeatureSwitch is startBridgeSwitchWith with this file's overlay.
func startFeatureSwitch(t *testing.T, set map[string]string) *bridgeSwitch {
	t.Helper()
	requireRun(t)
	conf := filepath.Join(t.TempDir(), "conf")
	if err := harness.CopyTree(filepath.Join(build.root, "conf", "default"), conf); err != nil {
		t.Fatalf("copying the default configuration: %v", err)
	}
	for _, o := range []string{"bridge", "bridge_features"} {
		if err := overlay(filepath.Join("testdata", o, "conf"), conf); err != nil {
			t.Fatalf("laying testdata/%s/conf over it: %v", o, err)
		}
	}
	cdrDir := t.TempDir()
	m := map[string]string{"e2e_cdr_dir": cdrDir, "event_socket_port": "0"}
	for k, v := range set {
		m[k] = v
	}
	sw := harness.Start(t, harness.Options{Binary: build.bin, ConfDir: conf, Set: m})
	ts := &testSwitch{Switch: sw}
	var err error
	ts.base, err = sw.Vars(t.Context())
	if err != nil {
		t.Fatalf("debug variables: %v", err)
	}
	t.Cleanup(func() { sw.CheckSettled(t, ts.base, perTestSlack, 15*time.Second) })
	return &bridgeSwitch{testSwitch: ts, cdrFile: filepath.Join(cdrDir, "cdr.jsonl")}
}

// answeredBridge places a call from 1000 to ext and answers it at 1001.
func answeredBridge(t *testing.T, ctx context.Context, sw *bridgeSwitch, ext string) (*sipclient.Phone, *sipclient.Call, *sipclient.Phone, *sipclient.Incoming) {
	t.Helper()
	caller := sw.phone(t, ctx, "1000")
	callee := sw.phone(t, ctx, "1001")
	c := sw.dialFrom(t, ctx, caller, ext, sipclient.Options{DisplayName: "Extension 1000"})
	in := ringing(t, ctx, callee, c)
	if err := in.Answer(ctx); err != nil {
		t.Fatalf("1001 answering: %v (%v)", err, in)
	}
	if err := c.Answer(ctx); err != nil {
		t.Fatalf("the caller was not answered: %v (%v)", err, c)
	}
	return caller, c, callee, in
}

// requestsOf returns the requests of method p received in call callID.
func requestsOf(p *sipclient.Phone, callID, method string) []sipclient.Request {
	var out []sipclient.Request
	for _, r := range p.Requests() {
		if r.Method == method && r.CallID == callID {
			out = append(out, r)
		}
	}
	return out
}

// waitRequests waits until p has received n requests of method in the
// call.
func waitRequests(t *testing.T, ctx context.Context, p *sipclient.Phone, callID, method string, n int) []sipclient.Request {
	t.Helper()
	for {
		if got := requestsOf(p, callID, method); len(got) >= n {
			return got
		}
		select {
		case <-ctx.Done():
			t.Fatalf("phone %s: %d %s, want %d (received: %s)", p.User(), len(requestsOf(p, callID, method)), method, n, p.Methods())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestBridgeHoldMusic: 1000 puts the call on hold; 1001 hears the hold
// music (hold_music) instead, and its phone gets no re-INVITE. After the
// resume the bridge carries 1000's voice again.
func TestBridgeHoldMusic(t *testing.T) {
	sw := startFeatureSwitch(t, map[string]string{"hold_music": "tone_stream://%(1000,0,523)"})
	ctx := callCtx(t)
	_, c, callee, in := answeredBridge(t, ctx, sw, "1001")

	if err := c.Reinvite(ctx, "sendonly"); err != nil {
		t.Fatalf("hold: %v", err)
	}
	if _, err := in.WaitTone(ctx, 523, 500*time.Millisecond); err != nil {
		t.Fatalf("1001 does not hear the hold music: %v", err)
	}
	if err := c.Reinvite(ctx, "sendrecv"); err != nil {
		t.Fatalf("resume: %v", err)
	}
	mark := len(in.Recording().Samples)
	if err := c.SendTone(ctx, 700, time.Second); err != nil {
		t.Fatal(err)
	}
	rec := in.Recording()
	if seg, ok := sipclient.FindTone(rec.Samples[mark:], rec.Rate, 700, 523); !ok || seg.Duration < 500*time.Millisecond {
		t.Errorf("after the resume 1001 heard 700 Hz for %v; heard %+v", seg.Duration, sipclient.Segments(rec.Samples[mark:], rec.Rate, []float64{700, 523}))
	}
	if n := len(requestsOf(callee, in.CallID(), "INVITE")); n != 1 {
		t.Errorf("1001 got %d INVITEs: the hold music should need no re-INVITE", n)
	}
	if err := c.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := in.WaitBye(ctx); err != nil {
		t.Fatal(err)
	}
	a, _ := sw.legCDRs(t, ctx)
	if a.Variables["hold_accum_ms"] == "" {
		t.Errorf("the A leg has no hold_accum_ms: %v", a.Variables)
	}
}

// TestBridgeHoldRelayed: with hold_music=indicate_hold the hold is passed
// on: 1001's phone gets a re-INVITE with a=sendonly, then a=sendrecv.
func TestBridgeHoldRelayed(t *testing.T) {
	sw := startFeatureSwitch(t, map[string]string{"hold_music": "indicate_hold"})
	ctx := callCtx(t)
	_, c, callee, in := answeredBridge(t, ctx, sw, "1001")
	for i, dir := range []string{"sendonly", "sendrecv"} {
		if err := c.Reinvite(ctx, dir); err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		invites := waitRequests(t, ctx, callee, in.CallID(), "INVITE", i+2)
		if body := string(invites[i+1].Body); !strings.Contains(body, "a="+dir) {
			t.Errorf("re-INVITE %d to 1001 is not %s:\n%s", i+1, dir, body)
		}
	}
	waitRequests(t, ctx, callee, in.CallID(), "ACK", 3)
	// The bridge carries audio again.
	if err := c.SendTone(ctx, 700, 600*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if _, err := in.WaitTone(ctx, 700, 300*time.Millisecond); err != nil {
		t.Errorf("1001 does not hear 1000 after the resume: %v", err)
	}
	_ = c.Hangup(ctx)
	_, _ = in.WaitBye(ctx)
}

// blindTransfer is the Reason of the BYE a referring phone gets.
var blindTransfer = sipclient.Cause{Protocol: "SIP", Code: 800, Text: "BLIND_TRANSFER"}

// TestBridgeReferFromCallee: 1001 transfers the caller to 9197: 202,
// NOTIFYs with 100 Trying and 200 OK, then BYE for 1001; the caller
// hears the milliwatt.
func TestBridgeReferFromCallee(t *testing.T) {
	sw := startFeatureSwitch(t, nil)
	ctx := callCtx(t)
	_, c, callee, in := answeredBridge(t, ctx, sw, "1001")
	res, err := in.Refer(ctx, "<"+sw.SIPURI("9197")+">", sipclient.Header{Name: "Referred-By", Value: "<sip:1001@127.0.0.1>"})
	if err != nil || res.Code != 202 {
		t.Fatalf("REFER: %v %v", res, err)
	}
	cause, err := in.WaitBye(ctx)
	if err != nil {
		t.Fatalf("1001 after the transfer: %v", err)
	}
	if cause != blindTransfer {
		t.Errorf("1001's BYE gave cause %+v, want %+v", cause, blindTransfer)
	}
	notifies := requestsOf(callee, in.CallID(), "NOTIFY")
	if len(notifies) != 2 {
		t.Fatalf("1001 got %d NOTIFYs, want 2 (received: %s)", len(notifies), callee.Methods())
	}
	for i, want := range []string{"SIP/2.0 100 Trying", "SIP/2.0 200 OK"} {
		n := notifies[i]
		if got := strings.TrimSpace(string(n.Body)); got != want || !strings.HasPrefix(n.Header("Event"), "refer") || !strings.HasPrefix(n.Header("Content-Type"), "message/sipfrag") {
			t.Errorf("NOTIFY %d: %q, Event %q, Content-Type %q", i, got, n.Header("Event"), n.Header("Content-Type"))
		}
	}
	if _, err := c.WaitTone(ctx, 1004, 500*time.Millisecond); err != nil {
		t.Fatalf("the caller does not hear 9197: %v", err)
	}
	if err := c.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	a, b := sw.legCDRs(t, ctx)
	if b.HangupCause != "BLIND_TRANSFER" || a.HangupCause != "NORMAL_CLEARING" {
		t.Errorf("causes: A %s, B %s", a.HangupCause, b.HangupCause)
	}
	if a.CallerProfile["destination_number"] != "9197" || a.Variables["sip_refer_to"] == "" {
		t.Errorf("A ended at %q, sip_refer_to %q", a.CallerProfile["destination_number"], a.Variables["sip_refer_to"])
	}
	if b.Variables["transfer_destination"] != "blind:9197" {
		t.Errorf("B transfer_destination %q", b.Variables["transfer_destination"])
	}
}

// TestBridgeReferFromCaller: 1000 transfers 1001 to 9197; 1000 gets BYE
// and 1001 hears the milliwatt.
func TestBridgeReferFromCaller(t *testing.T) {
	sw := startFeatureSwitch(t, nil)
	ctx := callCtx(t)
	_, c, _, in := answeredBridge(t, ctx, sw, "1001")
	res, err := c.Refer(ctx, "<"+sw.SIPURI("9197")+">")
	if err != nil || res.Code != 202 {
		t.Fatalf("REFER: %v %v", res, err)
	}
	cause, err := c.WaitBye(ctx)
	if err != nil {
		t.Fatalf("1000 after the transfer: %v", err)
	}
	if cause != blindTransfer {
		t.Errorf("1000's BYE gave cause %+v, want %+v", cause, blindTransfer)
	}
	if _, err := in.WaitTone(ctx, 1004, 500*time.Millisecond); err != nil {
		t.Fatalf("1001 does not hear 9197: %v", err)
	}
	if err := in.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	a, b := sw.legCDRs(t, ctx)
	if a.HangupCause != "BLIND_TRANSFER" || b.HangupCause != "NORMAL_CLEARING" {
		t.Errorf("causes: A %s, B %s", a.HangupCause, b.HangupCause)
	}
	if b.CallerProfile["destination_number"] != "9197" {
		t.Errorf("B ended at %q", b.CallerProfile["destination_number"])
	}
}

// TestBridgeReferUntrusted: a caller the switch does not trust (routed
// in through context public) may not transfer: 403, and the call goes
// on. 1001, a directory user the switch called, may: the caller is sent
// to 9197.
func TestBridgeReferUntrusted(t *testing.T) {
	sw := startFeatureSwitch(t, map[string]string{
		"internal_inbound_acl": "rfc1918.auto:default:public",
		"internal_auth_calls":  "false",
	})
	ctx := callCtx(t)
	_, c, _, in := answeredBridge(t, ctx, sw, "3901")
	res, err := c.Refer(ctx, "<"+sw.SIPURI("9197")+">")
	if err != nil || res.Code != 403 {
		t.Fatalf("REFER from the untrusted caller: %v %v", res, err)
	}
	// Still bridged: 1001 hears the caller.
	if err := c.SendTone(ctx, 700, 600*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if _, err := in.WaitTone(ctx, 700, 300*time.Millisecond); err != nil {
		t.Fatalf("1001 does not hear the caller after the refused REFER: %v", err)
	}
	if !strings.Contains(sw.Logs(), "REFER refused") {
		t.Error("the refusal is not logged")
	}
	res, err = in.Refer(ctx, "<"+sw.SIPURI("9197")+">")
	if err != nil || res.Code != 202 {
		t.Fatalf("REFER from 1001: %v %v", res, err)
	}
	if _, err := c.WaitTone(ctx, 1004, 500*time.Millisecond); err != nil {
		t.Fatalf("the caller does not hear 9197: %v", err)
	}
	if _, err := in.WaitBye(ctx); err != nil {
		t.Fatal(err)
	}
	_ = c.Hangup(ctx)
}

// TestSessionTimerInvite: an INVITE's Session-Expires below Min-SE
// (120) gets 422 with Min-SE; an acceptable one is answered with the
// interval and the refresher.
func TestSessionTimerInvite(t *testing.T) {
	sw := startFeatureSwitch(t, nil)
	ctx := callCtx(t)
	c := sw.dial(t, ctx, "9196", sipclient.Options{Headers: []sipclient.Header{{Name: "Session-Expires", Value: "60"}, {Name: "Supported", Value: "timer"}}})
	res, err := c.Final(ctx)
	if err != nil || res.Code != 422 || res.Header("Min-SE") != "120" {
		t.Fatalf("too brief a session: %v (Min-SE %q) %v", res, res.Header("Min-SE"), err)
	}
	c = sw.dial(t, ctx, "9196", sipclient.Options{Headers: []sipclient.Header{{Name: "Session-Expires", Value: "1800"}, {Name: "Supported", Value: "timer"}}})
	res, err = c.Final(ctx)
	if err != nil || res.Code != 200 {
		t.Fatalf("INVITE: %v %v", res, err)
	}
	if se, req := res.Header("Session-Expires"), res.Header("Require"); se != "1800;refresher=uac" || req != "timer" {
		t.Errorf("200: Session-Expires %q, Require %q", se, req)
	}
	if err := c.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	_ = c.Hangup(ctx)
}
