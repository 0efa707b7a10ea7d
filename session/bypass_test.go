package session

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/cause"
)

// proxyEndpoint is a caller whose endpoint can hand its offer on and
// answer with another leg's SDP.
type proxyEndpoint struct {
	fakeEndpoint
	offer []byte
	media Media // nil: none (given up for another leg's SDP)
	mu    sync.Mutex
	pre   [][]byte // PreAnswerSDP bodies
	ans   [][]byte // AnswerSDP bodies
}

func (p *proxyEndpoint) OfferSDP() []byte { return p.offer }
func (p *proxyEndpoint) Media() Media {
	if p.media == nil {
		return nil
	}
	return p.media
}
func (p *proxyEndpoint) PreAnswerSDP(_ context.Context, sdp []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pre = append(p.pre, sdp)
	return nil
}
func (p *proxyEndpoint) AnswerSDP(_ context.Context, sdp []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ans = append(p.ans, sdp)
	return nil
}
func (p *proxyEndpoint) answers() (pre, ans [][]byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([][]byte(nil), p.pre...), append([][]byte(nil), p.ans...)
}

// sdpCall is a fake leg that answers an offer it was dialed with by
// echoing it with a prefix (its "SDP answer").
type sdpCall struct {
	*fakeCall
}

func (c sdpCall) RemoteSDP() []byte {
	if c.req.SDP == nil {
		return nil
	}
	return append([]byte("answer:"), c.req.SDP...)
}

// sdpDialer dials fake legs that support SDPAnswerer.
type sdpDialer struct{ fakeDialer }

func (d *sdpDialer) Dial(ctx context.Context, r DialRequest) (OutboundCall, error) {
	c, err := d.fakeDialer.Dial(ctx, r)
	if err != nil {
		return nil, err
	}
	return sdpCall{c.(*fakeCall)}, nil
}

// TestBypassOffer: the caller's offer goes to the new leg when
// bypass_media is true on the caller or in the dial string, and not when
// it is off, overridden for the leg, the caller has media already, its
// INVITE had no offer, or its endpoint cannot hand the offer on.
func TestBypassOffer(t *testing.T) {
	offer := []byte("v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\n")
	tests := []struct {
		name      string
		proxy     bool   // the caller's endpoint is a ProxyAnswerer
		late      bool   // the caller's INVITE had no SDP
		callerVar string // bypass_media on the caller ("" unset)
		preAnswer bool   // the caller has early media already
		ownMedia  bool   // the caller's endpoint has media of ours
		dial      string
		want      bool // the leg gets the offer
	}{
		{name: "off", proxy: true, dial: "fake/answer"},
		{name: "caller variable", proxy: true, callerVar: "true", dial: "fake/answer", want: true},
		{name: "dial string", proxy: true, dial: "{bypass_media=true}fake/answer", want: true},
		{name: "leg variable overrides the caller's", proxy: true, callerVar: "true", dial: "[bypass_media=false]fake/answer"},
		{name: "late offer", proxy: true, late: true, callerVar: "true", dial: "fake/answer"},
		{name: "caller has media", proxy: true, preAnswer: true, ownMedia: true, callerVar: "true", dial: "fake/answer"},
		{name: "caller pre-answered with an earlier leg's SDP", proxy: true, preAnswer: true, callerVar: "true", dial: "fake/answer", want: true},
		{name: "endpoint without SDP passing", callerVar: "true", dial: "fake/answer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, d := newOriginateManager(t)
			var ep Endpoint = &fakeEndpoint{}
			if tc.proxy {
				pe := &proxyEndpoint{offer: offer}
				if tc.late {
					pe.offer = nil
				}
				if tc.ownMedia {
					pe.media = &ctlMedia{}
				}
				ep = pe
			}
			a := m.NewInbound(Inbound{Endpoint: ep})
			defer a.Hangup(cause.CNormalClearing)
			if tc.callerVar != "" {
				a.Vars().Set("bypass_media", tc.callerVar)
			}
			if tc.preAnswer {
				if err := a.PreAnswer(); err != nil {
					t.Fatal(err)
				}
			}
			res := m.Originate(context.Background(), tc.dial, OriginateOptions{Caller: a})
			if res.Leg == nil {
				t.Fatalf("no answer: %s", res.Cause)
			}
			defer res.Leg.Hangup(cause.CNormalClearing)
			got := d.placed()[0].req.SDP
			if tc.want && !bytes.Equal(got, offer) {
				t.Errorf("the leg was dialed with SDP %q, want the caller's %q", got, offer)
			}
			if !tc.want && got != nil {
				t.Errorf("the leg was dialed with SDP %q, want none", got)
			}
		})
	}
}

// TestBridgeBypass: with bypass_media the caller is answered with the
// B-leg's SDP (no Answer of its own), the bridge holds until the B-leg
// hangs up, and the caller follows hangup_after_bridge.
func TestBridgeBypass(t *testing.T) {
	m, _ := newOriginateManager(t)
	d := &sdpDialer{}
	m.SetDialer("sdp", d)
	offer := []byte("v=0\r\nm=audio 4000 RTP/AVP 0\r\n")
	pe := &proxyEndpoint{offer: offer}
	a := m.NewInbound(Inbound{Endpoint: pe})
	a.Vars().Set("bypass_media", "true")
	a.Vars().Set("hangup_after_bridge", "true")
	done := make(chan error, 1)
	go func() { done <- a.Bridge(context.Background(), "sdp/answer") }()
	var b *Session
	deadline := time.After(5 * time.Second)
	for b == nil {
		b = a.Partner()
		if b != nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the bridge ended at once: %v", err)
		case <-deadline:
			t.Fatal("the legs were never bridged")
		case <-time.After(5 * time.Millisecond):
		}
	}
	pre, ans := pe.answers()
	if len(pre) != 0 || len(ans) != 1 || string(ans[0]) != "answer:"+string(offer) {
		t.Errorf("caller pre-answered with %q and answered with %q, want one answer with the B-leg's SDP", pre, ans)
	}
	pe.mu.Lock()
	own := pe.answer
	pe.mu.Unlock()
	if own != 0 {
		t.Errorf("the caller was answered with media of its own %d times", own)
	}
	if !a.Answered() {
		t.Error("the caller is not marked answered")
	}
	b.Hangup(cause.CUserBusy)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the bridge did not end with the B-leg")
	}
	if !a.Ready() && a.HangupCause() != cause.CUserBusy {
		t.Errorf("caller hung up with %s, want the B-leg's USER_BUSY", a.HangupCause())
	}
	if a.Ready() {
		t.Error("hangup_after_bridge did not hang the caller up")
	}
}
