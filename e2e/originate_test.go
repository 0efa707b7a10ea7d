package e2e

import (
	"context"
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/e2e/harness"
	"github.com/switchboard-voip/switchboard/e2e/sipclient"
	"github.com/switchboard-voip/switchboard/esl"
)

// The call-placing commands and applications end to end: originate from
// the event socket, uuid_bridge, eavesdrop. The switch is the bridge
// tests' one (default configuration plus testdata/bridge/conf) with its
// event socket on a free port.

// startOriginateSwitch starts a bridge switch and connects an event
// socket client to it.
func startOriginateSwitch(t *testing.T, ctx context.Context) (*bridgeSwitch, *esl.Client) {
	t.Helper()
	port, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	sw := startBridgeSwitchWith(t, map[string]string{"event_socket_port": strconv.Itoa(port)})
	return sw, eslClient(t, ctx, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
}

// TestOriginateCommand: `originate` places a call to a registered phone
// and, once it answers, sends the new leg to an extension or runs an
// application on it; failures answer -ERR <CAUSE>.
func TestOriginateCommand(t *testing.T) {
	ctx := callCtx(t)
	sw, cl := startOriginateSwitch(t, ctx)
	phone := sw.phone(t, ctx, "1001")

	for _, tc := range []struct {
		name, cmd string
		hz        float64
	}{
		{"extension", "originate user/1001 3011 XML default", 850},
		{"application", "originate {origination_caller_id_number=4242}user/1001 &playback(tone_stream://%(1000,0,650))", 650},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reply := make(chan string, 1)
			go func() {
				r, err := cl.API(ctx, tc.cmd)
				if err != nil {
					r = "error: " + err.Error()
				}
				reply <- r
			}()
			in, err := phone.Next(ctx)
			if err != nil {
				t.Fatalf("1001 got no INVITE: %v", err)
			}
			if tc.name == "application" && in.From().User != "4242" {
				t.Errorf("INVITE from %v, want origination_caller_id_number 4242", in.From())
			}
			if err := in.Answer(ctx); err != nil {
				t.Fatalf("answering: %v", err)
			}
			r := <-reply
			uuid, ok := strings.CutPrefix(strings.TrimSpace(r), "+OK ")
			if !ok || len(uuid) != 36 {
				t.Fatalf("originate answered %q, want +OK <uuid>", r)
			}
			if _, err := in.WaitTone(ctx, tc.hz, 900*time.Millisecond); err != nil {
				t.Fatalf("the phone did not hear %v Hz: %v", tc.hz, err)
			}
			// The application or extension ends, and the leg with it.
			if _, err := in.WaitBye(ctx); err != nil {
				t.Fatalf("no BYE after the originated leg's work: %v", err)
			}
		})
	}

	for _, tc := range []struct{ cmd, want string }{
		{"originate error/USER_BUSY &park", "-ERR USER_BUSY"},
		{"originate user/1019 &park", "-ERR USER_NOT_REGISTERED"},
		{"originate nosuch/1000 &park", "-ERR CHAN_NOT_IMPLEMENTED"},
		{"originate user/1001", "-USAGE: "},
	} {
		r, err := cl.API(ctx, tc.cmd)
		if err != nil || !strings.HasPrefix(r, tc.want) {
			t.Errorf("%s: %q (%v), want %s", tc.cmd, r, err, tc.want)
		}
	}
}

// channelUUIDs returns the UUIDs of the live inbound channels by caller
// id number, from `show channels as json` (a B-leg carries its caller's
// number too, so outbound legs are left out).
func channelUUIDs(t *testing.T, ctx context.Context, cl *esl.Client) map[string]string {
	t.Helper()
	r, err := cl.API(ctx, "show channels as json")
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Rows []map[string]string `json:"rows"`
	}
	if err := json.Unmarshal([]byte(r), &out); err != nil {
		t.Fatalf("show channels as json: %v\n%s", err, r)
	}
	m := map[string]string{}
	for _, row := range out.Rows {
		if row["direction"] == "inbound" {
			m[row["cid_num"]] = row["uuid"]
		}
	}
	return m
}

// TestUUIDBridge: two callers each sit in music on hold; uuid_bridge
// takes both out of it and they hear each other; when one hangs up the
// other's action list is over and it is hung up too.
func TestUUIDBridge(t *testing.T) {
	ctx := callCtx(t)
	sw, cl := startOriginateSwitch(t, ctx)
	x := sw.dial(t, ctx, "9664", sipclient.Options{From: "5001"})
	y := sw.dial(t, ctx, "9664", sipclient.Options{From: "5002"})
	for _, c := range []*sipclient.Call{x, y} {
		if err := c.Answer(ctx); err != nil {
			t.Fatal(err)
		}
	}
	ids := channelUUIDs(t, ctx, cl)
	if ids["5001"] == "" || ids["5002"] == "" {
		t.Fatalf("channels: %v", ids)
	}
	r, err := cl.API(ctx, "uuid_bridge "+ids["5001"]+" "+ids["5002"])
	if err != nil || strings.TrimSpace(r) != "+OK "+ids["5002"] {
		t.Fatalf("uuid_bridge: %q (%v)", r, err)
	}
	// Wait for the bridge: show calls lists the pair as one call.
	deadline := time.Now().Add(5 * time.Second)
	for {
		r, _ := cl.API(ctx, "show calls as json")
		if strings.Contains(r, `"b_uuid":"`+ids["5002"]+`"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no bridged call in show calls:\n%s", r)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = x.SendTone(ctx, 700, time.Second) })
	wg.Go(func() { _ = y.SendTone(ctx, 1200, time.Second) })
	if _, err := y.WaitTone(ctx, 700, 500*time.Millisecond); err != nil {
		t.Errorf("5002 does not hear 5001: %v", err)
	}
	if _, err := x.WaitTone(ctx, 1200, 500*time.Millisecond); err != nil {
		t.Errorf("5001 does not hear 5002: %v", err)
	}
	wg.Wait()
	if err := y.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := x.WaitBye(ctx); err != nil {
		t.Errorf("5001 stays up after its partner hung up: %v", err)
	}
}

// TestEavesdrop: while 1000 and 1001 talk, a third caller dials an
// eavesdrop extension and hears both of them.
func TestEavesdrop(t *testing.T) {
	ctx := callCtx(t)
	sw := startBridgeSwitch(t)
	caller := sw.phone(t, ctx, "1000")
	callee := sw.phone(t, ctx, "1001")
	c := sw.dialFrom(t, ctx, caller, "1001", sipclient.Options{})
	in := ringing(t, ctx, callee, c)
	if err := in.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	spy := sw.dial(t, ctx, "3010", sipclient.Options{From: "spy"})
	if err := spy.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wg.Go(func() { _ = c.SendTone(tctx, 700, 3*time.Second) })
	wg.Go(func() { _ = in.SendTone(tctx, 1200, 3*time.Second) })
	// The eavesdropper hears the two tones mixed: a second of its audio,
	// taken once both are flowing, holds each with a good share of the
	// power.
	if _, err := c.WaitTone(ctx, 1200, 500*time.Millisecond); err != nil {
		t.Fatalf("1000 does not hear 1001: %v", err)
	}
	if err := spy.WaitAudio(ctx, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	rec := spy.Recording().Samples
	win := rec[len(rec)-sipclient.SampleRate:]
	for _, tone := range []struct {
		who string
		hz  float64
	}{{"1000", 700}, {"1001", 1200}} {
		if sh := sipclient.Share(win, sipclient.SampleRate, tone.hz); sh < 0.25 {
			t.Errorf("the eavesdropper hears %s's %v Hz with %.0f%% of the power, want both parties", tone.who, tone.hz, 100*sh)
		}
	}
	cancel()
	wg.Wait()
	if err := c.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	// The eavesdropped call is over: so is listening to it.
	if _, err := spy.WaitBye(ctx); err != nil {
		t.Errorf("the eavesdropper stays up after the call ended: %v", err)
	}
}

// TestBridgeGroup: group/sales rings every member of the directory group
// at once (1002 is not registered, so its leg fails at once); the first
// to answer gets the call and the other is cancelled with "Call
// completed elsewhere" (LOSE_RACE).
func TestBridgeGroup(t *testing.T) {
	ctx := callCtx(t)
	sw := startBridgeSwitch(t)
	p1000 := sw.phone(t, ctx, "1000")
	p1001 := sw.phone(t, ctx, "1001")
	c := sw.dial(t, ctx, "3013", sipclient.Options{From: "5555"})
	in1000 := ringing(t, ctx, p1000, c)
	in1001 := ringing(t, ctx, p1001, c)
	for _, in := range []*sipclient.Incoming{in1000, in1001} {
		if err := in.Ring(); err != nil {
			t.Fatal(err)
		}
	}
	if err := in1001.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	cause, err := in1000.WaitCancel(ctx)
	if err != nil {
		t.Fatalf("1000 was not cancelled when 1001 answered: %v", err)
	}
	if want := (sipclient.Cause{Protocol: "SIP", Code: 200, Text: "Call completed elsewhere"}); cause != want {
		t.Errorf("1000's CANCEL gave %+v, want %+v", cause, want)
	}
	if err := c.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	go func() { _ = in1001.SendTone(ctx, 1200, 600*time.Millisecond) }()
	if _, err := c.WaitTone(ctx, 1200, 400*time.Millisecond); err != nil {
		t.Errorf("the caller does not hear 1001: %v", err)
	}
}

// TestBridgeTranscoding: 1000 speaks only PCMA, 1001 only PCMU; the
// switch bridges them and transcodes both ways.
func TestBridgeTranscoding(t *testing.T) {
	ctx := callCtx(t)
	sw := startBridgeSwitch(t)
	caller := sw.phone(t, ctx, "1000")
	p1001, err := sipclient.NewPhone(sipclient.PhoneOptions{User: "1001", Codecs: []sipclient.Codec{sipclient.PCMU}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p1001.Close() })
	if res, err := p1001.Register(ctx, "udp", sipclient.RegisterOptions{Server: sw.SIPAddr.String(), Password: defaultPassword, Expires: 300}); err != nil || res.Code != 200 {
		t.Fatalf("register 1001: %v %v", res, err)
	}
	c := sw.dialFrom(t, ctx, caller, "1001", sipclient.Options{Codecs: []sipclient.Codec{sipclient.PCMA}})
	in := ringing(t, ctx, p1001, c)
	if err := in.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	if c.Codec() != sipclient.PCMA || in.Codec() != sipclient.PCMU {
		t.Fatalf("codecs: caller %s, callee %s; want PCMA and PCMU", c.Codec(), in.Codec())
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = c.SendTone(ctx, 700, time.Second) })
	wg.Go(func() { _ = in.SendTone(ctx, 1200, time.Second) })
	if _, err := in.WaitTone(ctx, 700, 500*time.Millisecond); err != nil {
		t.Errorf("1001 (PCMU) does not hear 1000 (PCMA): %v", err)
	}
	if _, err := c.WaitTone(ctx, 1200, 500*time.Millisecond); err != nil {
		t.Errorf("1000 (PCMA) does not hear 1001 (PCMU): %v", err)
	}
	wg.Wait()
}

// TestIntercept: while 1000 and 1001 talk, a third caller intercepts
// 1000's leg: 1001 is hung up (PICKED_OFF) and the interceptor talks with
// 1000.
func TestIntercept(t *testing.T) {
	ctx := callCtx(t)
	sw, cl := startOriginateSwitch(t, ctx)
	caller := sw.phone(t, ctx, "1000")
	callee := sw.phone(t, ctx, "1001")
	c := sw.dialFrom(t, ctx, caller, "1001", sipclient.Options{})
	in := ringing(t, ctx, callee, c)
	if err := in.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	target := channelUUIDs(t, ctx, cl)["1000"]
	if target == "" {
		t.Fatal("no channel for 1000")
	}
	x := sw.dial(t, ctx, "3012", sipclient.Options{From: "5003", Headers: []sipclient.Header{{Name: "X-Target", Value: target}}})
	if err := x.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	cause, err := in.WaitBye(ctx)
	if err != nil {
		t.Fatalf("1001 was not hung up: %v", err)
	}
	// PICKED_OFF, said as mod_sofia says it for a pickup.
	if want := (sipclient.Cause{Protocol: "SIP", Code: 200, Text: "Call completed elsewhere"}); cause != want {
		t.Errorf("1001's BYE gave %+v, want %+v", cause, want)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { _ = c.SendTone(ctx, 700, time.Second) })
	wg.Go(func() { _ = x.SendTone(ctx, 1200, time.Second) })
	if _, err := x.WaitTone(ctx, 700, 500*time.Millisecond); err != nil {
		t.Errorf("the interceptor does not hear 1000: %v", err)
	}
	if _, err := c.WaitTone(ctx, 1200, 500*time.Millisecond); err != nil {
		t.Errorf("1000 does not hear the interceptor: %v", err)
	}
}
