package sip

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/session"
	"github.com/switchboard-voip/switchboard/vars"
)

func isMethod(method sip.RequestMethod) func(sip.Message) bool {
	return func(m sip.Message) bool {
		r, ok := m.(*sip.Request)
		return ok && r.Method == method
	}
}

func hdrValue(m interface{ GetHeader(string) sip.Header }, name string) string {
	if h := m.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

// TestOutboundRingingThenAnswer: 180 then 200 gives Ringing then Answered,
// the 2xx is ACKed, the INVITE is what sofia sends and the B-leg
// variables are set; our hangup then sends BYE with a Reason header.
func TestOutboundRingingThenAnswer(t *testing.T) {
	env := newEnv(t, envOpts{})
	uas := newFakeUAS(t, "udp")
	st := vars.NewStore()
	oc := outDial(t, env.ep, session.DialRequest{
		Target: uas.target("internal", "1000"), CallerIDName: "Alice Smith", CallerIDNumber: "+15551234",
		Vars: st, Codecs: []string{"PCMA"},
	})
	inv := uas.request(sip.INVITE)
	if got := inv.Recipient.String(); got != "sip:1000@"+uas.addr() {
		t.Errorf("Request-URI %s", got)
	}
	if mf := inv.MaxForwards(); mf == nil || int(*mf) != 70 {
		t.Errorf("Max-Forwards %v", mf)
	}
	from := inv.From()
	if from.DisplayName != "Alice Smith" || from.Address.User != "+15551234" || from.Address.Host != "127.0.0.1" {
		t.Errorf("From %s", from.Value())
	}
	if tag, _ := from.Params.Get("tag"); tag == "" {
		t.Error("From has no tag")
	}
	if _, ok := inv.To().Params.Get("tag"); ok {
		t.Error("To has a tag")
	}
	port := env.udp.Port
	if c := inv.Contact(); c == nil || c.Address.User != "mod_sofia" || c.Address.Port != port {
		t.Errorf("Contact %v", inv.Contact())
	}
	for _, h := range []string{"Allow", "User-Agent", "Remote-Party-ID"} {
		if hdrValue(inv, h) == "" {
			t.Errorf("no %s header", h)
		}
	}
	if rpid := hdrValue(inv, "Remote-Party-ID"); !strings.Contains(rpid, "<sip:+15551234@127.0.0.1>") || !strings.Contains(rpid, "party=calling") {
		t.Errorf("Remote-Party-ID %q", rpid)
	}
	body := string(inv.Body())
	if !strings.Contains(body, "m=audio ") || !strings.Contains(body, " RTP/AVP 8 0 101\r\n") {
		t.Errorf("offer does not list the A-leg's codec first, then the profile's:\n%s", body)
	}

	uas.respond(inv, 100, "")
	uas.respond(inv, 180, "")
	if p := nextProgress(t, oc); p.Kind != session.ProgressRinging || p.Code != 180 {
		t.Fatalf("progress %+v, want ringing 180", p)
	}
	if oc.Media() != nil {
		t.Error("media before any SDP answer")
	}
	uas.respond(inv, 200, uas.sdp("8 101"))
	ack := uas.request(sip.ACK)
	if ack.CSeq().SeqNo != inv.CSeq().SeqNo || ack.CallID().Value() != inv.CallID().Value() {
		t.Errorf("ACK CSeq/Call-ID %s %s", ack.CSeq().Value(), ack.CallID().Value())
	}
	if tag, _ := ack.To().Params.Get("tag"); tag != uas.tag {
		t.Errorf("ACK To tag %q, want %q", tag, uas.tag)
	}
	if ack.Via().Params.GetOr("branch", "") == inv.Via().Params.GetOr("branch", "") {
		t.Error("the ACK of a 2xx reuses the INVITE's branch")
	}
	p := nextProgress(t, oc)
	if p.Kind != session.ProgressAnswered || p.Code != 200 {
		t.Fatalf("progress %+v, want answered", p)
	}
	progressClosed(t, oc)
	if oc.Media() == nil {
		t.Error("no media after the answer")
	}
	for name, want := range map[string]string{
		"sip_call_id":       inv.CallID().Value(),
		"sip_to_user":       "1000",
		"sip_from_user":     "+15551234",
		"sip_req_uri":       "1000@" + uas.addr(),
		"sip_contact_user":  "uas",
		"sip_to_tag":        uas.tag,
		"read_codec":        "PCMA",
		"write_codec":       "PCMA",
		"remote_media_ip":   "127.0.0.1",
		"sip_profile_name":  "internal",
		"sip_term_status":   "200",
		"rtp_use_pt":        "8",
		"remote_media_port": strconv.Itoa(uas.rtp.LocalAddr().(*net.UDPAddr).Port),
	} {
		if got, _ := st.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if !strings.HasPrefix(oc.Name(), "sofia/internal/1000@") {
		t.Errorf("channel name %q", oc.Name())
	}

	oc.Hangup(cause.CNormalClearing)
	bye := uas.request(sip.BYE)
	if got := hdrValue(bye, "Reason"); got != `Q.850;cause=16;text="NORMAL_CLEARING"` {
		t.Errorf("BYE Reason %q", got)
	}
	if bye.CSeq().SeqNo <= inv.CSeq().SeqNo {
		t.Errorf("BYE CSeq %d not above the INVITE's %d", bye.CSeq().SeqNo, inv.CSeq().SeqNo)
	}
	if bye.Recipient.User != "uas" {
		t.Errorf("BYE goes to %s, not the remote target", bye.Recipient.String())
	}
	uas.respond(bye, 200, "")
	waitFor(t, "the leg to end", func() bool { return env.ep.Calls() == 0 })
	if v, _ := st.Get("sip_hangup_disposition"); v != "send_bye" {
		t.Errorf("sip_hangup_disposition %q", v)
	}
}

// TestOutboundEarlyMedia: a 183 with SDP opens early media; the 200
// without SDP keeps it.
func TestOutboundEarlyMedia(t *testing.T) {
	env := newEnv(t, envOpts{})
	uas := newFakeUAS(t, "udp")
	oc := outDial(t, env.ep, session.DialRequest{Target: uas.target("internal", "early"), CallerIDNumber: "1000"})
	inv := uas.request(sip.INVITE)
	uas.respond(inv, 183, uas.sdp("0 101"))
	p := nextProgress(t, oc)
	if p.Kind != session.ProgressEarlyMedia || p.Code != 183 {
		t.Fatalf("progress %+v, want early media", p)
	}
	if oc.Media() == nil {
		t.Fatal("no media with early media")
	}
	uas.respond(inv, 180, "") // ringing after early media says nothing new
	uas.respond(inv, 200, "")
	uas.request(sip.ACK)
	if p := nextProgress(t, oc); p.Kind != session.ProgressAnswered {
		t.Fatalf("progress %+v, want answered", p)
	}
	progressClosed(t, oc)
	hangupAnswered(t, oc, uas)
}

// hangupAnswered hangs an answered leg up and answers its BYE.
func hangupAnswered(t *testing.T, oc session.OutboundCall, uas *fakeUAS) {
	t.Helper()
	oc.Hangup(cause.CNormalClearing)
	uas.respond(uas.request(sip.BYE), 200, "")
}

// TestOutboundFailures: final error responses map to causes, a Q.850
// Reason header wins, and the failure is ACKed.
func TestOutboundFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		code   int
		reason string
		want   cause.Cause
	}{
		{"busy", 486, "", cause.CUserBusy},
		{"not found", 404, "", cause.CUnallocatedNumber},
		{"Q.850 reason", 503, "Q.850;cause=34;text=\"NORMAL_CIRCUIT_CONGESTION\"", cause.CNormalCircuitCongestion},
		{"decline", 603, "", cause.CCallRejected},
		{"unlisted code", 599, "", cause.CNormalUnspecified},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t, envOpts{})
			uas := newFakeUAS(t, "udp")
			st := vars.NewStore()
			oc := outDial(t, env.ep, session.DialRequest{Target: uas.target("internal", "1000"), Vars: st})
			inv := uas.request(sip.INVITE)
			var extra []sip.Header
			if tc.reason != "" {
				extra = append(extra, sip.NewHeader("Reason", tc.reason))
			}
			uas.respond(inv, tc.code, "", extra...)
			p := nextProgress(t, oc)
			if p.Kind != session.ProgressFailed || p.Code != tc.code || p.Cause != tc.want {
				t.Fatalf("progress %+v, want failed %d %s", p, tc.code, tc.want)
			}
			progressClosed(t, oc)
			ack := uas.request(sip.ACK)
			if ack.Via().Params.GetOr("branch", "") != inv.Via().Params.GetOr("branch", "") {
				t.Error("the ACK of a failure is not in the INVITE's transaction")
			}
			for name, want := range map[string]string{
				"sip_invite_failure_status": strconv.Itoa(tc.code),
				"sip_hangup_disposition":    "recv_refuse",
				"sip_term_status":           strconv.Itoa(tc.code),
			} {
				if got, _ := st.Get(name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			waitFor(t, "the leg to end", func() bool { return env.ep.Calls() == 0 })
		})
	}
}

// TestOutboundCancel: hanging up a ringing leg sends CANCEL (with a
// Reason); the 487 ends it with ORIGINATOR_CANCEL.
func TestOutboundCancel(t *testing.T) {
	env := newEnv(t, envOpts{})
	uas := newFakeUAS(t, "udp")
	st := vars.NewStore()
	oc := outDial(t, env.ep, session.DialRequest{Target: uas.target("internal", "1000"), Vars: st})
	inv := uas.request(sip.INVITE)
	uas.respond(inv, 180, "")
	if p := nextProgress(t, oc); p.Kind != session.ProgressRinging {
		t.Fatalf("progress %+v", p)
	}
	oc.Hangup(cause.CNoAnswer)
	cancel := uas.request(sip.CANCEL)
	if cancel.CSeq().SeqNo != inv.CSeq().SeqNo || cancel.Via().Params.GetOr("branch", "") != inv.Via().Params.GetOr("branch", "") {
		t.Errorf("CANCEL does not match the INVITE: %s / %s", cancel.CSeq().Value(), cancel.Via().Value())
	}
	if _, ok := cancel.To().Params.Get("tag"); ok {
		t.Error("CANCEL To has a tag")
	}
	if got := hdrValue(cancel, "Reason"); got != `Q.850;cause=19;text="NO_ANSWER"` {
		t.Errorf("CANCEL Reason %q", got)
	}
	uas.respond(cancel, 200, "")
	uas.respond(inv, 487, "")
	p := nextProgress(t, oc)
	if p.Kind != session.ProgressFailed || p.Cause != cause.COriginatorCancel || p.Code != 487 {
		t.Fatalf("progress %+v, want failed ORIGINATOR_CANCEL", p)
	}
	progressClosed(t, oc)
	uas.request(sip.ACK)
	if v, _ := st.Get("sip_hangup_disposition"); v != "send_cancel" {
		t.Errorf("sip_hangup_disposition %q", v)
	}
	waitFor(t, "the leg to end", func() bool { return env.ep.Calls() == 0 })
}

// TestOutboundCancelWaitsForProvisional: a hangup before any provisional
// response sends CANCEL only once one arrives (RFC 3261 §9.1).
func TestOutboundCancelWaitsForProvisional(t *testing.T) {
	env := newEnv(t, envOpts{})
	uas := newFakeUAS(t, "udp")
	oc := outDial(t, env.ep, session.DialRequest{Target: uas.target("internal", "1000")})
	inv := uas.request(sip.INVITE)
	oc.Hangup(cause.COriginatorCancel)
	uas.respond(inv, 100, "")
	uas.quiet(3*testTimers.T1, "CANCEL before a provisional response", isMethod(sip.CANCEL))
	uas.respond(inv, 183, "")
	cancel := uas.request(sip.CANCEL)
	uas.respond(cancel, 200, "")
	uas.respond(inv, 487, "")
	if p := nextProgress(t, oc); p.Kind != session.ProgressFailed || p.Cause != cause.COriginatorCancel {
		t.Fatalf("progress %+v", p)
	}
	progressClosed(t, oc)
	waitFor(t, "the leg to end", func() bool { return env.ep.Calls() == 0 })
}

// TestOutboundCancelNo487: a far end that never sends the 487 is given up
// on after 64*T1.
func TestOutboundCancelNo487(t *testing.T) {
	env := newEnv(t, envOpts{})
	uas := newFakeUAS(t, "udp")
	oc := outDial(t, env.ep, session.DialRequest{Target: uas.target("internal", "1000")})
	inv := uas.request(sip.INVITE)
	uas.respond(inv, 180, "")
	nextProgress(t, oc)
	oc.Hangup(cause.CNormalClearing)
	cancel := uas.request(sip.CANCEL)
	uas.respond(cancel, 200, "")
	if p := nextProgress(t, oc); p.Kind != session.ProgressFailed || p.Cause != cause.COriginatorCancel || p.Code != 0 {
		t.Fatalf("progress %+v", p)
	}
	waitFor(t, "the leg to end", func() bool { return env.ep.Calls() == 0 })
}

// TestOutbound200CrossesCancel: a 200 that crosses our CANCEL is ACKed
// and ended with BYE.
func TestOutbound200CrossesCancel(t *testing.T) {
	env := newEnv(t, envOpts{})
	uas := newFakeUAS(t, "udp")
	oc := outDial(t, env.ep, session.DialRequest{Target: uas.target("internal", "1000")})
	inv := uas.request(sip.INVITE)
	uas.respond(inv, 180, "")
	nextProgress(t, oc)
	oc.Hangup(cause.CLoseRace)
	cancel := uas.request(sip.CANCEL)
	if got := hdrValue(cancel, "Reason"); got != `SIP;cause=200;text="Call completed elsewhere"` {
		t.Errorf("CANCEL Reason after a lost race %q", got)
	}
	uas.respond(inv, 200, uas.sdp("0 101")) // the far end answered before it read the CANCEL
	uas.respond(cancel, 200, "")
	ack := uas.request(sip.ACK)
	if tag, _ := ack.To().Params.Get("tag"); tag != uas.tag {
		t.Errorf("ACK To tag %q", tag)
	}
	bye := uas.request(sip.BYE)
	if tag, _ := bye.To().Params.Get("tag"); tag != uas.tag {
		t.Errorf("BYE To tag %q", tag)
	}
	uas.respond(bye, 200, "")
	if p := nextProgress(t, oc); p.Kind != session.ProgressFailed || p.Cause != cause.COriginatorCancel {
		t.Fatalf("progress %+v, want failed", p)
	}
	progressClosed(t, oc)
	waitFor(t, "the leg to end", func() bool { return env.ep.Calls() == 0 })
}

// TestOutboundRetransmitted200: every retransmitted 2xx is ACKed again.
func TestOutboundRetransmitted200(t *testing.T) {
	env := newEnv(t, envOpts{})
	uas := newFakeUAS(t, "udp")
	oc := outDial(t, env.ep, session.DialRequest{Target: uas.target("internal", "1000")})
	inv := uas.request(sip.INVITE)
	ok := uas.respond(inv, 200, uas.sdp("0"))
	first := uas.request(sip.ACK)
	if p := nextProgress(t, oc); p.Kind != session.ProgressAnswered {
		t.Fatalf("progress %+v", p)
	}
	for i := 0; i < 2; i++ {
		uas.write(ok)
		again := uas.request(sip.ACK)
		if again.CSeq().SeqNo != first.CSeq().SeqNo || again.Recipient.String() != first.Recipient.String() {
			t.Errorf("re-ACK %s differs from the ACK %s", again.StartLine(), first.StartLine())
		}
	}
	hangupAnswered(t, oc, uas)
}

// TestOutboundFarEndBye: the far end's BYE after the answer hangs the
// session up with its Reason's cause; our hangup then sends nothing.
// The far end's INFO and RFC 2833 digits reach the session, and its
// re-INVITE is answered.
func TestOutboundFarEndBye(t *testing.T) {
	env := newEnv(t, envOpts{})
	uas := newFakeUAS(t, "udp")
	st := vars.NewStore()
	oc := outDial(t, env.ep, session.DialRequest{Target: uas.target("internal", "1000"), Vars: st})
	s := env.mgr.NewInbound(session.Inbound{Endpoint: oc, Store: st, Profile: &caller.Profile{DestinationNumber: "park", Context: "default"}})
	oc.Bind(s)
	s.Start()
	inv := uas.request(sip.INVITE)
	uas.respond(inv, 200, uas.sdp("0 101"))
	uas.request(sip.ACK)
	if p := nextProgress(t, oc); p.Kind != session.ProgressAnswered {
		t.Fatalf("progress %+v", p)
	}

	// INFO with a digit.
	uas.writeRaw(uas.inDialog(inv, sip.INFO, 1, "Signal=5\r\nDuration=160\r\n", "Content-Type: application/dtmf-relay"))
	uas.response(sip.INFO, 200)
	waitFor(t, "the INFO digit", func() bool { return s.DTMF().Len() > 0 })

	// A re-INVITE putting the call on hold.
	hold := strings.Replace(uas.sdp("0 101"), "a=sendrecv", "a=sendonly", 1)
	uas.writeRaw(uas.inDialog(inv, sip.INVITE, 2, hold))
	res := uas.response(sip.INVITE, 200)
	if !strings.Contains(string(res.Body()), "a=recvonly") {
		t.Errorf("hold answer:\n%s", res.Body())
	}
	uas.writeRaw(uas.inDialog(inv, sip.ACK, 2, ""))

	// A stale CSeq is refused.
	uas.writeRaw(uas.inDialog(inv, sip.BYE, 1, ""))
	uas.response(sip.BYE, 500)

	uas.writeRaw(uas.inDialog(inv, sip.BYE, 3, "", `Reason: Q.850;cause=17;text="USER_BUSY"`))
	uas.response(sip.BYE, 200)
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the session did not end")
	}
	if c := s.HangupCause(); c != cause.CUserBusy {
		t.Errorf("hangup cause %s, want USER_BUSY", c)
	}
	if v, _ := st.Get("sip_hangup_disposition"); v != "recv_bye" {
		t.Errorf("sip_hangup_disposition %q", v)
	}
	uas.quiet(3*testTimers.T1, "BYE after the far end's BYE", isMethod(sip.BYE))
	waitFor(t, "the leg to end", func() bool { return env.ep.Calls() == 0 })
}

// TestOutboundBindAfterFarEndEnded: Bind hangs a session up at once when
// the leg already failed.
func TestOutboundBindAfterFailure(t *testing.T) {
	env := newEnv(t, envOpts{})
	uas := newFakeUAS(t, "udp")
	st := vars.NewStore()
	oc := outDial(t, env.ep, session.DialRequest{Target: uas.target("internal", "1000"), Vars: st})
	inv := uas.request(sip.INVITE)
	uas.respond(inv, 486, "")
	if p := nextProgress(t, oc); p.Cause != cause.CUserBusy {
		t.Fatalf("progress %+v", p)
	}
	s := env.mgr.NewInbound(session.Inbound{Endpoint: oc, Store: st, Profile: &caller.Profile{DestinationNumber: "park", Context: "default"}})
	oc.Bind(s)
	s.Start()
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the session did not end")
	}
	if c := s.HangupCause(); c != cause.CUserBusy {
		t.Errorf("hangup cause %s", c)
	}
}

// TestOutboundTCP: ;transport=tcp places the call over TCP; ACK and BYE
// follow on the connection.
func TestOutboundTCP(t *testing.T) {
	env := newEnv(t, envOpts{})
	uas := newFakeUAS(t, "tcp")
	oc := outDial(t, env.ep, session.DialRequest{Target: uas.target("internal", "1000")})
	inv := uas.request(sip.INVITE)
	if v := inv.Via(); v.Transport != "TCP" {
		t.Errorf("Via transport %s", v.Transport)
	}
	if c := inv.Contact(); c == nil || c.Address.UriParams.GetOr("transport", "") != "tcp" {
		t.Errorf("Contact %v", inv.Contact())
	}
	uas.respond(inv, 180, "")
	if p := nextProgress(t, oc); p.Kind != session.ProgressRinging {
		t.Fatalf("progress %+v", p)
	}
	uas.respond(inv, 200, uas.sdp("0"))
	uas.request(sip.ACK)
	if p := nextProgress(t, oc); p.Kind != session.ProgressAnswered {
		t.Fatalf("progress %+v", p)
	}
	oc.Hangup(cause.CNormalClearing)
	bye := uas.request(sip.BYE)
	uas.respond(bye, 200, "")
	waitFor(t, "the leg to end", func() bool { return env.ep.Calls() == 0 })
}

// TestOutboundHeaders: sip_h_ variables become headers; one whose value
// would inject headers, or holds a ${ reference, is refused.
func TestOutboundHeaders(t *testing.T) {
	env := newEnv(t, envOpts{})
	uas := newFakeUAS(t, "udp")
	st := vars.NewStore()
	st.Set("sip_h_X-Account", "acct-42")
	st.Set("sip_h_X-Evil", "a\r\nInjected: yes")
	st.Set("sip_h_X-Ref", "${uuid}")
	st.Set("sip_h_Via", "SIP/2.0/UDP 192.0.2.1")
	st.Set("sip_invite_domain", "sb.example")
	st.Set("sip_invite_params", "intercom=true")
	st.Set("max_forwards", "12")
	oc := outDial(t, env.ep, session.DialRequest{Target: uas.target("internal", "1000"), CallerIDNumber: "2000", Vars: st})
	inv := uas.request(sip.INVITE)
	if got := hdrValue(inv, "X-Account"); got != "acct-42" {
		t.Errorf("X-Account %q", got)
	}
	for _, h := range []string{"X-Evil", "Injected", "X-Ref"} {
		if inv.GetHeader(h) != nil {
			t.Errorf("header %s was sent", h)
		}
	}
	if n := len(inv.GetHeaders("Via")); n != 1 {
		t.Errorf("%d Via headers", n)
	}
	if inv.From().Address.Host != "sb.example" {
		t.Errorf("From %s", inv.From().Value())
	}
	if inv.Recipient.UriParams.GetOr("intercom", "") != "true" {
		t.Errorf("Request-URI %s", inv.Recipient.String())
	}
	if mf := inv.MaxForwards(); mf == nil || int(*mf) != 11 {
		t.Errorf("Max-Forwards %v, want 11", mf)
	}
	uas.respond(inv, 480, "")
	nextProgress(t, oc)
}

// TestOutboundIncompatibleAnswer: a 200 whose SDP has no codec we offered
// is ACKed and ended with BYE (INCOMPATIBLE_DESTINATION).
func TestOutboundIncompatibleAnswer(t *testing.T) {
	env := newEnv(t, envOpts{})
	uas := newFakeUAS(t, "udp")
	oc := outDial(t, env.ep, session.DialRequest{Target: uas.target("internal", "1000")})
	inv := uas.request(sip.INVITE)
	uas.respond(inv, 200, uas.sdp("18"))
	uas.request(sip.ACK)
	bye := uas.request(sip.BYE)
	if got := hdrValue(bye, "Reason"); !strings.Contains(got, "cause=88") {
		t.Errorf("BYE Reason %q", got)
	}
	uas.respond(bye, 200, "")
	if p := nextProgress(t, oc); p.Kind != session.ProgressFailed || p.Cause != cause.CIncompatibleDestination {
		t.Fatalf("progress %+v", p)
	}
	waitFor(t, "the leg to end", func() bool { return env.ep.Calls() == 0 })
}

// TestOutboundNoResponse: an INVITE nobody answers fails after Timer B
// with RECOVERY_ON_TIMER_EXPIRE.
func TestOutboundNoResponse(t *testing.T) {
	env := newEnv(t, envOpts{})
	uas := newFakeUAS(t, "udp")
	st := vars.NewStore()
	oc := outDial(t, env.ep, session.DialRequest{Target: uas.target("internal", "1000"), Vars: st})
	uas.request(sip.INVITE)
	select {
	case p := <-oc.Progress():
		if p.Kind != session.ProgressFailed || p.Cause != cause.CRecoveryOnTimerExpire || p.Code != 0 {
			t.Fatalf("progress %+v", p)
		}
	case <-time.After(64*testTimers.T1 + 5*time.Second):
		t.Fatal("no failure after Timer B")
	}
	if v, _ := st.Get("sip_invite_failure_status"); v != "408" {
		t.Errorf("sip_invite_failure_status %q", v)
	}
	waitFor(t, "the leg to end", func() bool { return env.ep.Calls() == 0 })
}

// TestOutboundDialErrors: targets Dial refuses, with FreeSWITCH's causes.
func TestOutboundDialErrors(t *testing.T) {
	env := newEnv(t, envOpts{})
	for _, tc := range []struct {
		target string
		vars   map[string]string
		want   cause.Cause
	}{
		{"nosuch/1000@127.0.0.1", nil, cause.CInvalidProfile},
		{"internal", nil, cause.CInvalidUrl},
		{"internal/", nil, cause.CInvalidUrl},
		{"internal/1000@", nil, cause.CInvalidNumberFormat},
		{"internal/10 00@127.0.0.1", nil, cause.CInvalidNumberFormat},
		{"internal/1000@127.0.0.1\r\nX-Evil: 1", nil, cause.CInvalidNumberFormat},
		{"internal/sips:1000@127.0.0.1", nil, cause.CInvalidUrl},
		{"internal/1000@127.0.0.1;transport=tls", nil, cause.CDestinationOutOfOrder},
		{"internal/1000", nil, cause.CUserNotRegistered},
		{"internal/1000%example.com", nil, cause.CUserNotRegistered},
		{"gateway/nosuch/1000", nil, cause.CInvalidGateway},
		{"gateway/nosuch", nil, cause.CInvalidUrl},
		{"internal/1000@127.0.0.1", map[string]string{"max_forwards": "1"}, cause.CExchangeRoutingError},
		{"internal/1000@127.0.0.1", map[string]string{"sip_invite_req_uri": "sip:a@b\r\nX: y"}, cause.CInvalidUrl},
	} {
		t.Run(tc.target, func(t *testing.T) {
			st := vars.NewStore()
			for k, v := range tc.vars {
				st.Set(k, v)
			}
			oc, err := env.ep.Dial(context.Background(), session.DialRequest{Target: tc.target, Vars: st})
			if err == nil {
				oc.Hangup(cause.CNormalClearing)
				t.Fatal("Dial succeeded")
			}
			if got := cause.Cause(dialCause(err)); got != tc.want {
				t.Errorf("cause %s (%v), want %s", got, err, tc.want)
			}
		})
	}
	if n := env.ep.Calls(); n != 0 {
		t.Errorf("%d calls after refused dials", n)
	}
}

// TestOutboundMediaAndTimeout: RFC 2833 digits from the far end reach the
// bound session; when the media stops, media_timeout hangs it up with
// MEDIA_TIMEOUT and a BYE.
func TestOutboundMediaAndTimeout(t *testing.T) {
	env := newEnv(t, envOpts{})
	uas := newFakeUAS(t, "udp")
	st := vars.NewStore()
	st.Set("media_timeout", "300")
	oc := outDial(t, env.ep, session.DialRequest{Target: uas.target("internal", "1000"), Vars: st})
	s := env.mgr.NewInbound(session.Inbound{Endpoint: oc, Store: st, Profile: &caller.Profile{DestinationNumber: "park", Context: "default"}})
	oc.Bind(s)
	s.Start()
	inv := uas.request(sip.INVITE)
	to := rtpTarget(t, inv.Body())
	uas.respond(inv, 200, uas.sdp("0 101"))
	uas.request(sip.ACK)
	if p := nextProgress(t, oc); p.Kind != session.ProgressAnswered {
		t.Fatalf("progress %+v", p)
	}
	hdr := rtp.Header{Version: 2, PayloadType: 101, SSRC: 0x4321, Timestamp: 8000, Marker: true}
	for i, end := range []bool{false, true, true, true} {
		hdr.SequenceNumber = uint16(10 + i)
		flags := byte(10)
		if end {
			flags |= 0x80
		}
		dur := uint16(160 * (i + 1))
		sendRTP(t, uas.rtp, to, &rtp.Packet{Header: hdr, Payload: []byte{7, flags, byte(dur >> 8), byte(dur)}})
		hdr.Marker = false
	}
	waitFor(t, "the digit", func() bool { return s.DTMF().Len() > 0 })
	if d, _ := s.DTMF().Pop(); d != '7' {
		t.Errorf("digit %q", d)
	}
	bye := uas.request(sip.BYE)
	if r := hdrValue(bye, "Reason"); r != `SIP;cause=804;text="MEDIA_TIMEOUT"` {
		t.Errorf("Reason %q", r)
	}
	uas.respond(bye, 200, "")
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the session did not end")
	}
	if c := s.HangupCause(); c != cause.CMediaTimeout {
		t.Errorf("hangup cause %s", c)
	}
	waitFor(t, "the leg to end", func() bool { return env.ep.Calls() == 0 })
}

// TestOutboundRegisteredUser: "internal/<user>" calls the user's
// registered contact, sent where the registration came from, as does a
// contact URI with fs_path.
func TestOutboundRegisteredUser(t *testing.T) {
	env := newEnv(t, envOpts{})
	uas := newFakeUAS(t, "udp")
	port := uas.udp.LocalAddr().(*net.UDPAddr).Port
	err := env.ep.Registrar().Register(context.Background(), Contact{
		User: "1000", Realm: "internal", URI: "sip:1000@10.99.0.7:5060", CallID: "reg-1",
		Expires: time.Now().Add(time.Hour), Profile: "internal", NetworkIP: "127.0.0.1", NetworkPort: port, Transport: "udp",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ target, name string }{
		{"internal/1000", "sofia/internal/1000@internal"},
		// sofia_contact's form for a phone behind NAT.
		{"internal/sip:1000@10.99.0.7:5060;fs_nat=yes;fs_path=%3Csip%3A127.0.0.1%3A" + strconv.Itoa(port) + "%3E", "sofia/internal/sip:1000@10.99.0.7:5060"},
	} {
		oc := outDial(t, env.ep, session.DialRequest{Target: tc.target})
		inv := uas.request(sip.INVITE)
		if got := inv.Recipient.String(); got != "sip:1000@10.99.0.7:5060" {
			t.Errorf("%s: Request-URI %s", tc.target, got)
		}
		if oc.Name() != tc.name {
			t.Errorf("%s: channel name %q", tc.target, oc.Name())
		}
		uas.respond(inv, 486, "")
		if p := nextProgress(t, oc); p.Cause != cause.CUserBusy {
			t.Fatalf("%s: progress %+v", tc.target, p)
		}
		uas.request(sip.ACK)
	}
}

// TestOutboundGateway: calls through a gateway use its address, From and
// Contact, and answer its digest challenge once — only for its realm
// (CVE-2021-41158).
func TestOutboundGateway(t *testing.T) {
	proxyAuth := `Digest realm="sb.test", nonce="n1", algorithm=MD5, qop="auth"`
	for _, tc := range []struct {
		name       string
		challenges []string // realms of the 407s the far end sends, in turn
		answered   bool
	}{
		{"challenge answered", []string{"sb.test"}, true},
		{"second challenge fails", []string{"sb.test", "sb.test"}, false},
		{"foreign realm refused", []string{"evil.test"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uas := newFakeUAS(t, "udp")
			env := newGwEnv(t, gatewayXML("gw1", map[string]string{
				"proxy": uas.addr(), "register": "false", "realm": "sb.test", "username": "acct", "password": "secret",
			}))
			st := vars.NewStore()
			oc := outDial(t, env.ep, session.DialRequest{Target: "gateway/gw1/18005551212", CallerIDNumber: "2000", Vars: st})
			inv := uas.request(sip.INVITE)
			if got := inv.Recipient.String(); got != "sip:18005551212@"+uas.addr() {
				t.Errorf("Request-URI %s", got)
			}
			if c := inv.Contact(); c == nil || c.Address.UriParams.GetOr("gw", "") != "gw1" {
				t.Errorf("Contact %v", inv.Contact())
			}
			if v, _ := st.Get("sip_gateway_name"); v != "gw1" {
				t.Errorf("sip_gateway_name %q", v)
			}
			first := inv
			for i, realm := range tc.challenges {
				uas.respond(inv, 407, "", sip.NewHeader("Proxy-Authenticate", strings.Replace(proxyAuth, "sb.test", realm, 1)))
				uas.request(sip.ACK)
				if realm != "sb.test" || i == 1 {
					break
				}
				inv = uas.request(sip.INVITE)
				auth := hdrValue(inv, "Proxy-Authorization")
				if !strings.Contains(auth, `username="acct"`) || !strings.Contains(auth, `realm="sb.test"`) {
					t.Errorf("Proxy-Authorization %q", auth)
				}
				if inv.CallID().Value() != first.CallID().Value() || inv.CSeq().SeqNo != first.CSeq().SeqNo+1 {
					t.Errorf("the retry is %s %s, want Call-ID %s CSeq %d", inv.CallID().Value(), inv.CSeq().Value(), first.CallID().Value(), first.CSeq().SeqNo+1)
				}
				if inv.Via().Params.GetOr("branch", "") == first.Via().Params.GetOr("branch", "") {
					t.Error("the retry reuses the branch")
				}
			}
			if tc.answered {
				uas.respond(inv, 200, uas.sdp("0"))
				ack := uas.request(sip.ACK)
				if ack.CSeq().SeqNo != inv.CSeq().SeqNo {
					t.Errorf("ACK CSeq %d, want %d", ack.CSeq().SeqNo, inv.CSeq().SeqNo)
				}
				if p := nextProgress(t, oc); p.Kind != session.ProgressAnswered {
					t.Fatalf("progress %+v", p)
				}
				hangupAnswered(t, oc, uas)
				return
			}
			p := nextProgress(t, oc)
			if p.Kind != session.ProgressFailed || p.Code != 407 || p.Cause != cause.CCallRejected {
				t.Fatalf("progress %+v, want failed 407 CALL_REJECTED", p)
			}
			uas.quiet(3*testTimers.T1, "another INVITE", isMethod(sip.INVITE))
		})
	}
}
