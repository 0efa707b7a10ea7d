package sip

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/session"
)

// callerOffer is an SDP offer of a phone elsewhere: a bypassed leg must
// carry it byte for byte (o= line, c= address and m= port included).
const callerOffer = "v=0\r\no=alice 4242 17 IN IP4 192.0.2.10\r\ns=call\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n" +
	"m=audio 40000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"

// TestOutboundBypassSendsGivenSDP: a leg dialed with DialRequest.SDP
// opens no RTP stream, sends the SDP as it is, hands back the far end's
// early and final SDP verbatim and has no Media; a leg dialed without it
// negotiates as usual and has no RemoteSDP.
func TestOutboundBypassSendsGivenSDP(t *testing.T) {
	env := newEnv(t, envOpts{})
	uas := newFakeUAS(t, "udp")
	eng := env.ep.cfg.Media
	oc := outDial(t, env.ep, session.DialRequest{Target: uas.target("internal", "1000"), CallerIDNumber: "1000", SDP: []byte(callerOffer)})
	inv := uas.request(sip.INVITE)
	if got := string(inv.Body()); got != callerOffer {
		t.Errorf("INVITE SDP:\n%s\nwant the caller's:\n%s", got, callerOffer)
	}
	if n := eng.Stats().Streams; n != 0 {
		t.Errorf("%d RTP streams open for a bypassed leg", n)
	}
	sa, ok := oc.(session.SDPAnswerer)
	if !ok {
		t.Fatal("the outbound leg is no SDPAnswerer")
	}
	if sa.RemoteSDP() != nil {
		t.Error("RemoteSDP before any answer")
	}
	early := uas.sdp("0 101")
	uas.respond(inv, 183, early)
	if p := nextProgress(t, oc); p.Kind != session.ProgressEarlyMedia {
		t.Fatalf("progress %+v, want early media", p)
	}
	if got := string(sa.RemoteSDP()); got != early {
		t.Errorf("RemoteSDP after 183:\n%s\nwant:\n%s", got, early)
	}
	final := strings.Replace(uas.sdp("0"), "o=uas 1 1", "o=uas 1 2", 1)
	uas.respond(inv, 200, final)
	uas.request(sip.ACK)
	if p := nextProgress(t, oc); p.Kind != session.ProgressAnswered {
		t.Fatalf("progress %+v, want answered", p)
	}
	if got := string(sa.RemoteSDP()); got != final {
		t.Errorf("RemoteSDP after 200:\n%s\nwant:\n%s", got, final)
	}
	if oc.Media() != nil {
		t.Error("a bypassed leg has media")
	}
	if n := eng.Stats().Streams; n != 0 {
		t.Errorf("%d RTP streams open after the answer", n)
	}
	hangupAnswered(t, oc, uas)
	waitFor(t, "the leg to end", func() bool { return env.ep.Calls() == 0 })

	// Without SDP: our own offer, our own stream, no RemoteSDP.
	oc = outDial(t, env.ep, session.DialRequest{Target: uas.target("internal", "1001"), CallerIDNumber: "1000"})
	inv = uas.request(sip.INVITE)
	if bytes.Contains(inv.Body(), []byte("192.0.2.10")) {
		t.Error("a normal leg sent the caller's SDP")
	}
	if n := eng.Stats().Streams; n != 1 {
		t.Errorf("%d RTP streams for a normal leg, want 1", n)
	}
	uas.respond(inv, 200, uas.sdp("0"))
	uas.request(sip.ACK)
	if p := nextProgress(t, oc); p.Kind != session.ProgressAnswered {
		t.Fatalf("progress %+v, want answered", p)
	}
	if got := oc.(session.SDPAnswerer).RemoteSDP(); got != nil {
		t.Errorf("RemoteSDP of a normal leg: %q", got)
	}
	if oc.Media() == nil {
		t.Error("a normal leg has no media")
	}
	hangupAnswered(t, oc, uas)
}

// TestInboundAnswerSDP: an inbound call pre-answers and answers with the
// SDP it is given, gives its stream up (Media nil, media apps refused)
// and still hangs up with BYE; OfferSDP is the INVITE's offer, nil for a
// late offer.
func TestInboundAnswerSDP(t *testing.T) {
	early := strings.Replace(callerOffer, "alice", "bob", 1)
	final := strings.Replace(early, "bob 4242 17", "bob 4242 18", 1)
	for _, tt := range []struct {
		name  string
		offer bool
	}{
		{"offer", true},
		{"late offer", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, envOpts{})
			u := newUAC(t, env, "udp")
			d := u.dialog("slow")
			body := ""
			if tt.offer {
				body = d.offer("0")
			}
			d.invite(body)
			var s *session.Session
			waitFor(t, "session", func() bool { s = env.sessionFor(d.callID); return s != nil })
			pa, ok := s.Endpoint().(session.ProxyAnswerer)
			if !ok {
				t.Fatal("the inbound call is no ProxyAnswerer")
			}
			if got := string(pa.OfferSDP()); got != body {
				t.Errorf("OfferSDP %q, want %q", got, body)
			}
			if !tt.offer {
				s.Hangup(cause.CNormalClearing)
				u.final(d.callID, sip.INVITE)
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := pa.PreAnswerSDP(ctx, []byte(early)); err != nil {
				t.Fatalf("PreAnswerSDP: %v", err)
			}
			if got := string(u.response(d.callID, sip.INVITE, 183).Body()); got != early {
				t.Errorf("183 SDP:\n%s\nwant:\n%s", got, early)
			}
			if s.Endpoint().Media() != nil {
				t.Error("media after a bypassed pre-answer")
			}
			if n := env.ep.cfg.Media.Stats().Streams; n != 0 {
				t.Errorf("%d RTP streams open after a bypassed pre-answer", n)
			}
			if _, err := s.Media(); err == nil || !strings.Contains(err.Error(), "no media") {
				t.Errorf("session Media error %v, want no media", err)
			}
			if err := pa.AnswerSDP(ctx, []byte(final)); err != nil {
				t.Fatalf("AnswerSDP: %v", err)
			}
			if got := string(d.expectAnswer().Body()); got != final {
				t.Errorf("200 SDP:\n%s\nwant:\n%s", got, final)
			}
			s.Hangup(cause.CNormalClearing)
			bye := u.request(d.callID, sip.BYE)
			u.answerRequest(bye, 200)
			waitFor(t, "the call to end", func() bool { return env.ep.Calls() == 0 })
		})
	}
}
