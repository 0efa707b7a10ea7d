package sip

import (
	"fmt"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/session"
	"github.com/switchboard-voip/switchboard/vars"
)

func TestParseReferTo(t *testing.T) {
	tests := []struct {
		name  string
		hdrs  []string
		code  int
		exten string
		rep   bool
		param string
	}{
		{"plain", []string{"<sip:5000@example.com>"}, 0, "5000", false, ""},
		{"no brackets", []string{"sip:5000@example.com"}, 0, "5000", false, ""},
		{"display name and params", []string{`"Sales" <sip:5000@example.com;user=phone>`}, 0, "5000", false, "user=phone"},
		{"escaped user", []string{"<sip:%2B15551234@example.com>"}, 0, "+15551234", false, ""},
		{"replaces", []string{"<sip:5000@example.com?Replaces=abc%40host%3Bto-tag%3D1%3Bfrom-tag%3D2>"}, 0, "5000", true, ""},
		{"missing", nil, 400, "", false, ""},
		{"twice", []string{"<sip:1@a>", "<sip:2@a>"}, 400, "", false, ""},
		{"no user", []string{"<sip:example.com>"}, 400, "", false, ""},
		{"tel", []string{"<tel:+15551234>"}, 416, "", false, ""},
		{"garbage", []string{"<<>>"}, 400, "", false, ""},
		{"expander reference defused", []string{"<sip:%24%7Bsystem(id)%7D@example.com>"}, 0, cleanField("${system(id)}"), false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := sip.NewRequest(sip.REFER, sip.Uri{Scheme: "sip", Host: "example.com"})
			for _, h := range tt.hdrs {
				req.AppendHeader(sip.NewHeader("Refer-To", h))
			}
			rt, code := parseReferTo(req)
			if code != tt.code {
				t.Fatalf("code %d, want %d", code, tt.code)
			}
			if code != 0 {
				return
			}
			if rt.exten != tt.exten || rt.replaces != tt.rep || rt.params != tt.param {
				t.Errorf("got %+v", rt)
			}
			if vars.HasReference(rt.exten) {
				t.Errorf("target %q holds a ${} reference", rt.exten)
			}
		})
	}
}

// bridgedCall is a call from the hand-driven caller (A) parked at the
// switch and then bridged to the fake UAS (B).
type bridgedCall struct {
	env    *testEnv
	u      *uac
	d      *dialog
	uas    *fakeUAS
	inv    *sip.Request // the INVITE the fake UAS received
	a, b   *session.Session
	uasSeq uint32 // the fake UAS's last CSeq in its dialog
}

func newBridgedCall(t *testing.T, o envOpts) *bridgedCall {
	t.Helper()
	env := newEnv(t, o)
	env.mgr.SetDialer("sofia", env.ep)
	bc := &bridgedCall{env: env, u: newUAC(t, env, "udp"), uas: newFakeUAS(t, "udp")}
	bc.d = bc.u.dialog("park")
	bc.d.invite(bc.d.offer("0 8"))
	bc.d.expectAnswer()
	bc.a = env.sessionFor(bc.d.callID)
	if bc.a == nil {
		t.Fatal("no session for the call")
	}
	waitFor(t, "A parked", func() bool { return bc.a.State() == session.CSPark })
	if err := bc.a.Enqueue("bridge", "sofia/"+bc.uas.target("internal", "bob")); err != nil {
		t.Fatal(err)
	}
	bc.inv = bc.uas.request(sip.INVITE)
	bc.uas.respond(bc.inv, 200, bc.uas.sdp("0 101"))
	bc.uas.request(sip.ACK)
	waitFor(t, "the bridge", func() bool { return bc.a.Partner() != nil })
	bc.b = bc.a.Partner()
	return bc
}

// uasRequest sends a request of the fake UAS in B's dialog.
func (bc *bridgedCall) uasRequest(method sip.RequestMethod, body string, extra ...string) {
	bc.uasSeq++
	bc.uas.writeRaw(bc.uas.inDialog(bc.inv, method, bc.uasSeq, body, extra...))
}

// answerNotify answers the switch's next NOTIFY to the caller and
// returns it.
func answerNotify(t *testing.T, u *uac, callID string) *sip.Request {
	t.Helper()
	n := u.request(callID, sip.NOTIFY)
	u.answerRequest(n, 200)
	return n
}

func checkNotify(t *testing.T, n *sip.Request, referSeq uint32, frag string, final bool) {
	t.Helper()
	if ev := header(n, "Event"); ev != fmt.Sprintf("refer;id=%d", referSeq) {
		t.Errorf("NOTIFY Event %q", ev)
	}
	state := header(n, "Subscription-State")
	if final != strings.HasPrefix(state, "terminated") {
		t.Errorf("NOTIFY Subscription-State %q (final %v)", state, final)
	}
	if ct := header(n, "Content-Type"); !strings.HasPrefix(ct, "message/sipfrag") {
		t.Errorf("NOTIFY Content-Type %q", ct)
	}
	if body := strings.TrimSpace(string(n.Body())); body != frag {
		t.Errorf("NOTIFY body %q, want %q", body, frag)
	}
	if header(n, "Contact") == "" {
		t.Error("NOTIFY without Contact")
	}
}

// TestReferFromCaller: the caller's phone transfers the leg it is bridged
// to (the B-leg, bridged by A's goroutine) to "park": 202, NOTIFY 100
// and 200, BYE with BLIND_TRANSFER; B goes on, routed to park.
func TestReferFromCaller(t *testing.T) {
	bc := newBridgedCall(t, envOpts{})
	d, u := bc.d, bc.u
	d.request("REFER", "", "Refer-To: <sip:park@127.0.0.1;foo=bar>", "Referred-By: <sip:1000@127.0.0.1>")
	r := d.resp(sip.REFER, 202)
	if header(r, "Contact") == "" {
		t.Error("202 without Contact")
	}
	seq := uint32(d.cseq)
	checkNotify(t, answerNotify(t, u, d.callID), seq, "SIP/2.0 100 Trying", false)
	checkNotify(t, answerNotify(t, u, d.callID), seq, "SIP/2.0 200 OK", true)
	bye := u.request(d.callID, sip.BYE)
	if r := header(bye, "Reason"); !strings.Contains(r, "BLIND_TRANSFER") {
		t.Errorf("BYE Reason %q", r)
	}
	u.answerRequest(bye, 200)
	waitEnded(t, bc.a)
	if c := bc.a.HangupCause(); c != cause.CBlindTransfer {
		t.Errorf("A's cause %s", c)
	}
	for name, want := range map[string]string{
		"transfer_destination":        "blind:park",
		"transfer_to":                 "blind:" + bc.b.UUID(),
		"transfer_fallback_extension": "1000",
		"endpoint_disposition":        "BLIND_TRANSFER",
		"sip_refer_to_params":         "foo=bar",
	} {
		if got, _ := bc.a.Vars().Get(name); got != want {
			t.Errorf("A %s = %q, want %q", name, got, want)
		}
	}
	waitFor(t, "B routed to park", func() bool { return bc.b.State() == session.CSPark })
	if p := bc.b.Profile(); p.DestinationNumber != "park" || p.Context != "default" {
		t.Errorf("B routed to %s@%s", p.DestinationNumber, p.Context)
	}
	for name, want := range map[string]string{
		"sip_refer_to":            "<sip:park@127.0.0.1;foo=bar>",
		"sip_h_Referred-By":       "<sip:1000@127.0.0.1>",
		"sip_h_X-FS-Refer-Params": "foo=bar",
	} {
		if got, _ := bc.b.Vars().Get(name); got != want {
			t.Errorf("B %s = %q, want %q", name, got, want)
		}
	}
	bc.uas.quiet(5*testTimers.T1, "BYE to the transferee", isMethod(sip.BYE))
	bc.b.Hangup(cause.CNormalClearing)
	bc.uas.respond(bc.uas.request(sip.BYE), 200, "")
}

// TestReferFromCallee: the far end of the B-leg transfers the caller.
func TestReferFromCallee(t *testing.T) {
	bc := newBridgedCall(t, envOpts{})
	bc.uasRequest(sip.REFER, "", "Refer-To: <sip:park@127.0.0.1>")
	bc.uas.response(sip.REFER, 202)
	for _, want := range []string{"SIP/2.0 100 Trying", "SIP/2.0 200 OK"} {
		n := bc.uas.request(sip.NOTIFY)
		checkNotify(t, n, bc.uasSeq, want, want != "SIP/2.0 100 Trying")
		bc.uas.respond(n, 200, "")
	}
	bye := bc.uas.request(sip.BYE)
	if r := header(bye, "Reason"); !strings.Contains(r, "BLIND_TRANSFER") {
		t.Errorf("BYE Reason %q", r)
	}
	bc.uas.respond(bye, 200, "")
	waitEnded(t, bc.b)
	if c := bc.b.HangupCause(); c != cause.CBlindTransfer {
		t.Errorf("B's cause %s", c)
	}
	waitFor(t, "A routed to park again", func() bool {
		_, ok := bc.a.Vars().Get("transfer_source")
		return ok && bc.a.State() == session.CSPark
	})
	if !bc.a.Ready() {
		t.Fatal("A hung up")
	}
	bc.u.quiet(5*testTimers.T1, func(m sip.Message) bool { r, ok := m.(*sip.Request); return ok && r.Method == sip.BYE })
	bc.d.request("BYE", "")
	bc.d.resp(sip.BYE, 200)
}

// TestReferRefused: what may not transfer gets a final error and
// nothing happens.
func TestReferRefused(t *testing.T) {
	tests := []struct {
		name  string
		opts  envOpts
		extra []string
		code  int
	}{
		{"untrusted caller in public", envOpts{settings: `<param name="apply-inbound-acl" value="rfc1918.auto:default:public"/><param name="auth-calls" value="false"/>`}, []string{"Refer-To: <sip:park@127.0.0.1>"}, 403},
		{"disable-transfer", envOpts{settings: `<param name="disable-transfer" value="true"/>`}, []string{"Refer-To: <sip:park@127.0.0.1>"}, 403},
		{"attended transfer", envOpts{}, []string{"Refer-To: <sip:park@127.0.0.1?Replaces=x%40y%3Bto-tag%3D1%3Bfrom-tag%3D2>"}, 501},
		{"no Refer-To", envOpts{}, nil, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, tt.opts)
			u := newUAC(t, env, "udp")
			d := u.dialog("park")
			d.invite(d.offer("0"))
			d.expectAnswer()
			s := env.sessionFor(d.callID)
			d.request("REFER", "", tt.extra...)
			if r := d.final(sip.REFER); r.StatusCode != tt.code {
				t.Fatalf("REFER answered %d, want %d", r.StatusCode, tt.code)
			}
			u.quiet(5*testTimers.T1, func(m sip.Message) bool { _, ok := m.(*sip.Request); return ok })
			if !s.Ready() {
				t.Fatal("the call hung up")
			}
			d.request("BYE", "")
			d.resp(sip.BYE, 200)
		})
	}
}

// TestReferOutsideDialog: a REFER that starts no dialog gets 403, one
// naming a dialog we do not have 481.
func TestReferOutsideDialog(t *testing.T) {
	env := newEnv(t, envOpts{})
	u := newUAC(t, env, "udp")
	d := u.dialog("park")
	d.cseq = 0
	d.request("REFER", "", "Refer-To: <sip:park@127.0.0.1>")
	if r := d.final(sip.REFER); r.StatusCode != 403 {
		t.Errorf("out-of-dialog REFER: %d", r.StatusCode)
	}
	d.toTag = "nosuchtag"
	d.request("REFER", "", "Refer-To: <sip:park@127.0.0.1>")
	if r := d.final(sip.REFER); r.StatusCode != 481 {
		t.Errorf("REFER in an unknown dialog: %d", r.StatusCode)
	}
}

// TestReferNotBridged: a one-legged call is not transferred: the REFER is
// accepted and its NOTIFY reports 403, as FreeSWITCH's does.
func TestReferNotBridged(t *testing.T) {
	env := newEnv(t, envOpts{})
	u := newUAC(t, env, "udp")
	d := u.dialog("park")
	d.invite(d.offer("0"))
	d.expectAnswer()
	s := env.sessionFor(d.callID)
	d.request("REFER", "", "Refer-To: <sip:park@127.0.0.1>")
	d.resp(sip.REFER, 202)
	seq := uint32(d.cseq)
	checkNotify(t, answerNotify(t, u, d.callID), seq, "SIP/2.0 100 Trying", false)
	checkNotify(t, answerNotify(t, u, d.callID), seq, "SIP/2.0 403 Forbidden", true)
	if !s.Ready() {
		t.Fatal("the call hung up")
	}
	if v, _ := s.Vars().Get("endpoint_disposition"); v != "ATTENDED_TRANSFER_ERROR" {
		t.Errorf("endpoint_disposition %q", v)
	}
	d.request("BYE", "")
	d.resp(sip.BYE, 200)
}

// TestHoldRelayed: with no hold music, a hold from one phone is relayed
// to the other leg's phone as a re-INVITE with a=sendonly, and the
// resume as a=sendrecv, both ways; a re-INVITE crossing ours gets 491.
func TestHoldRelayed(t *testing.T) {
	bc := newBridgedCall(t, envOpts{})
	d, u, uas := bc.d, bc.u, bc.uas
	hold := strings.Replace(d.offer("0 8"), "a=sendrecv", "a=sendonly", 1)

	// A holds: B's phone gets a=sendonly.
	d.request("INVITE", hold)
	r := d.resp(sip.INVITE, 200)
	d.ack(r, "")
	re := uas.request(sip.INVITE)
	if !strings.Contains(string(re.Body()), "a=sendonly") {
		t.Fatalf("relayed hold:\n%s", re.Body())
	}
	uas.respond(re, 200, strings.Replace(uas.sdp("0 101"), "a=sendrecv", "a=recvonly", 1))
	if ack := uas.request(sip.ACK); ack.CSeq().SeqNo != re.CSeq().SeqNo {
		t.Errorf("ACK CSeq %d, re-INVITE %d", ack.CSeq().SeqNo, re.CSeq().SeqNo)
	}
	waitFor(t, "A held", func() bool { return bc.a.CallState() == "HELD" })

	// A resumes: B's phone gets a=sendrecv.
	d.request("INVITE", d.offer("0 8"))
	r = d.resp(sip.INVITE, 200)
	d.ack(r, "")
	re = uas.request(sip.INVITE)
	if !strings.Contains(string(re.Body()), "a=sendrecv") {
		t.Fatalf("relayed resume:\n%s", re.Body())
	}
	uas.respond(re, 200, uas.sdp("0 101"))
	uas.request(sip.ACK)
	waitFor(t, "A unheld", func() bool { return bc.a.CallState() == "UNHELD" })

	// B holds: A's phone gets a=sendonly from the switch; a re-INVITE of
	// A crossing it gets 491.
	bc.uasRequest(sip.INVITE, strings.Replace(uas.sdp("0 101"), "a=sendrecv", "a=sendonly", 1))
	res := uas.response(sip.INVITE, 200)
	uas.writeRaw(uas.inDialog(bc.inv, sip.ACK, bc.uasSeq, ""))
	if !strings.Contains(string(res.Body()), "a=recvonly") {
		t.Errorf("hold answer to B:\n%s", res.Body())
	}
	toA := u.request(d.callID, sip.INVITE)
	if !strings.Contains(string(toA.Body()), "a=sendonly") {
		t.Fatalf("relayed hold to A:\n%s", toA.Body())
	}
	d.request("INVITE", d.offer("0 8"))
	if r := d.final(sip.INVITE); r.StatusCode != 491 {
		t.Errorf("crossing re-INVITE: %d, want 491", r.StatusCode)
	} else {
		d.ack(r, "")
	}
	ok := sip.NewResponseFromRequest(toA, 200, "OK", []byte(strings.Replace(d.offer("0 8"), "a=sendrecv", "a=recvonly", 1)))
	ok.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	ok.AppendHeader(sip.NewHeader("Contact", "<sip:1000@"+u.local.String()+">"))
	u.rawSend([]byte(ok.String()))
	if ack := u.request(d.callID, sip.ACK); ack.CSeq().SeqNo != toA.CSeq().SeqNo {
		t.Errorf("ACK CSeq %d, re-INVITE %d", ack.CSeq().SeqNo, toA.CSeq().SeqNo)
	}
	waitFor(t, "B held", func() bool { return bc.b.CallState() == "HELD" })

	d.request("BYE", "")
	d.resp(sip.BYE, 200)
	uas.respond(uas.request(sip.BYE), 200, "")
}

// TestHoldMusicNotRelayed: with hold music the other leg hears it and its
// phone gets no re-INVITE.
func TestHoldMusicNotRelayed(t *testing.T) {
	bc := newBridgedCall(t, envOpts{settings: `<param name="hold-music" value="tone_stream://%(100,0,440)"/>`})
	d, uas := bc.d, bc.uas
	d.request("INVITE", strings.Replace(d.offer("0 8"), "a=sendrecv", "a=inactive", 1))
	r := d.resp(sip.INVITE, 200)
	d.ack(r, "")
	waitFor(t, "A held", func() bool { return bc.a.CallState() == "HELD" })
	uas.quiet(5*testTimers.T1, "re-INVITE to B", isMethod(sip.INVITE))
	d.request("INVITE", d.offer("0 8"))
	r = d.resp(sip.INVITE, 200)
	d.ack(r, "")
	waitFor(t, "A unheld", func() bool { return bc.a.CallState() == "UNHELD" })
	uas.quiet(5*testTimers.T1, "re-INVITE to B", isMethod(sip.INVITE))
	if bc.a.Partner() != bc.b {
		t.Error("the bridge did not survive the hold")
	}
	d.request("BYE", "")
	d.resp(sip.BYE, 200)
	uas.respond(uas.request(sip.BYE), 200, "")
}
