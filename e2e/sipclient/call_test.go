package sipclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// testCtx bounds a test; none of these calls should take more than a few
// seconds on loopback.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func dial(t *testing.T, ctx context.Context, opts Options) *Call {
	t.Helper()
	c, err := Dial(ctx, opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// sameTone checks that rec holds one hz segment of want length, give or
// take 20 ms (one frame).
func sameTone(t *testing.T, rec Recording, hz float64, want time.Duration) {
	t.Helper()
	seg, ok := FindTone(rec.Samples, rec.Rate, hz)
	if !ok {
		t.Fatalf("no %v Hz tone in %v of audio", hz, time.Duration(len(rec.Samples))*time.Second/SampleRate)
	}
	if d := seg.Duration - want; d < -FrameDuration || d > FrameDuration {
		t.Errorf("%v Hz tone lasted %v, want %v ± %v", hz, seg.Duration, want, FrameDuration)
	}
}

func TestEchoCall(t *testing.T) {
	for _, tc := range []struct {
		transport string
		codecs    []Codec
		want      Codec
	}{
		{"udp", nil, PCMU},
		{"udp", []Codec{PCMA, PCMU}, PCMA},
		{"tcp", []Codec{PCMU}, PCMU},
	} {
		t.Run(fmt.Sprintf("%s/%s", tc.transport, tc.want), func(t *testing.T) {
			ctx := testCtx(t)
			uas := startUAS(t, tc.transport, uasPlan{ring: true})
			c := dial(t, ctx, Options{Target: uas.target("9196"), Transport: tc.transport, Codecs: tc.codecs})
			if err := c.Answer(ctx); err != nil {
				t.Fatalf("Answer: %v", err)
			}
			if c.Codec() != tc.want {
				t.Errorf("codec %q, want %q", c.Codec(), tc.want)
			}
			if !c.RemoteRTP().IsValid() || c.RemoteRTP().Port() == 0 {
				t.Errorf("remote RTP address %v", c.RemoteRTP())
			}
			var codes []int
			for _, r := range c.Responses() {
				codes = append(codes, r.Code)
			}
			if fmt.Sprint(codes) != "[180 200]" && fmt.Sprint(codes) != "[100 180 200]" {
				t.Errorf("responses %v, want 180 then 200", codes)
			}

			if err := c.SendTone(ctx, 440, 600*time.Millisecond); err != nil {
				t.Fatalf("SendTone: %v", err)
			}
			if _, err := c.WaitTone(ctx, 440, 560*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			sameTone(t, c.Recording(), 440, 600*time.Millisecond)

			if err := c.SendDTMF(ctx, "19#*"); err != nil {
				t.Fatalf("SendDTMF: %v", err)
			}
			got, err := c.WaitDigits(ctx, 4)
			if err != nil {
				t.Fatal(err)
			}
			if got != "19#*" {
				t.Errorf("echoed digits %q, want %q", got, "19#*")
			}

			if err := c.Hangup(ctx); err != nil {
				t.Fatalf("Hangup: %v", err)
			}
			select {
			case <-c.Done():
			default:
				t.Error("Done not closed after Hangup")
			}
			if _, remote := c.RemoteBye(); remote {
				t.Error("RemoteBye after our own hangup")
			}
			if err := c.SendTone(ctx, 440, 40*time.Millisecond); !errors.Is(err, ErrEnded) {
				t.Errorf("SendTone after hangup: %v, want ErrEnded", err)
			}
			if got := strings.Join(uas.seen(), " "); got != "INVITE ACK BYE" {
				t.Errorf("UAS saw %q, want INVITE ACK BYE", got)
			}
		})
	}
}

func TestRemoteHangupReason(t *testing.T) {
	ctx := testCtx(t)
	uas := startUAS(t, "udp", uasPlan{byeAfter: 50 * time.Millisecond, reason: `Q.850;cause=16;text="NORMAL_CLEARING"`})
	c := dial(t, ctx, Options{Target: uas.target("bye")})
	if err := c.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	cause, err := c.WaitBye(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := Cause{Protocol: "Q.850", Code: 16, Text: "NORMAL_CLEARING"}
	if cause != want {
		t.Errorf("cause %+v, want %+v", cause, want)
	}
	if err := c.Hangup(ctx); err != nil {
		t.Errorf("Hangup after remote BYE: %v", err)
	}
}

func TestRejected(t *testing.T) {
	ctx := testCtx(t)
	uas := startUAS(t, "udp", uasPlan{reject: 486, reason: `Q.850;cause=17;text="USER_BUSY"`})
	c := dial(t, ctx, Options{Target: uas.target("busy"), From: "1001", DisplayName: "Tester",
		Headers: []Header{{"X-E2E-Case", "busy"}, {"Subject", "test call"}}})
	err := c.Answer(ctx)
	var se *StatusError
	if !errors.As(err, &se) {
		t.Fatalf("Answer: %v, want a StatusError", err)
	}
	if se.Response.Code != 486 {
		t.Errorf("code %d, want 486", se.Response.Code)
	}
	cause, ok := se.Response.Cause()
	if !ok || cause.Text != "USER_BUSY" || cause.Code != 17 {
		t.Errorf("cause %+v (%v), want USER_BUSY/17", cause, ok)
	}
	uas.mu.Lock()
	inv := uas.invites[0]
	uas.mu.Unlock()
	if h := inv.GetHeader("X-E2E-Case"); h == nil || h.Value() != "busy" {
		t.Errorf("INVITE header X-E2E-Case = %v, want busy", h)
	}
	if h := inv.GetHeader("Subject"); h == nil || h.Value() != "test call" {
		t.Errorf("INVITE header Subject = %v", h)
	}
	if f := inv.From(); f.Address.User != "1001" || f.DisplayName != "Tester" {
		t.Errorf("From %s, want Tester <sip:1001@...>", f.Value())
	}
	if _, err := c.WaitBye(ctx); !errors.As(err, &se) {
		t.Errorf("WaitBye on a refused call: %v, want the StatusError", err)
	}
}

func TestCancelBeforeAnswer(t *testing.T) {
	ctx := testCtx(t)
	uas := startUAS(t, "udp", uasPlan{noAnswer: true})
	c := dial(t, ctx, Options{Target: uas.target("ring")})
	if _, err := c.WaitResponse(ctx, 180); err != nil {
		t.Fatal(err)
	}
	if err := c.Hangup(ctx); err != nil {
		t.Fatalf("Hangup: %v", err)
	}
	final, err := c.Final(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if final.Code != 487 {
		t.Errorf("final %v, want 487", final)
	}
	if c.Answered() {
		t.Error("cancelled call reports answered")
	}
}

func TestEarlyMedia(t *testing.T) {
	ctx := testCtx(t)
	uas := startUAS(t, "udp", uasPlan{early: Tone(1000, 300*time.Millisecond, 0.3, SampleRate)})
	c := dial(t, ctx, Options{Target: uas.target("early")})
	r, err := c.WaitResponse(ctx, 183)
	if err != nil {
		t.Fatal(err)
	}
	if !r.EarlyMedia() {
		t.Errorf("183 without SDP: %q", r.SDP)
	}
	seg, err := c.WaitTone(ctx, 1000, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	ok, _ := c.Final(ctx)
	heard := c.Recording().TimeOf(seg.Start)
	if heard.IsZero() || !heard.Before(ok.At) {
		t.Errorf("early tone heard at %v, 200 OK at %v: want the tone first", heard, ok.At)
	}
	sameTone(t, c.Recording(), 1000, 300*time.Millisecond)
}

func TestLateOffer(t *testing.T) {
	ctx := testCtx(t)
	offer := []format{{PT: 8, Codec: PCMA, Rate: 8000}, {PT: 0, Codec: PCMU, Rate: 8000}, {PT: 101, Codec: TelephoneEvent, Rate: 8000}}
	uas := startUAS(t, "udp", uasPlan{lateOffer: offer})
	c := dial(t, ctx, Options{Target: uas.target("late"), NoSDP: true})
	if err := c.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	if c.Codec() != PCMA {
		t.Errorf("codec %q, want PCMA (the offer's first)", c.Codec())
	}
	uas.mu.Lock()
	inviteBody := uas.invites[0].Body()
	uas.mu.Unlock()
	if len(inviteBody) != 0 {
		t.Errorf("late-offer INVITE has a body: %q", inviteBody)
	}
	// The ACK reaches the UAS just after the client sends it.
	var ackBody []byte
	deadline := time.Now().Add(5 * time.Second)
	for ackBody == nil && time.Now().Before(deadline) {
		uas.mu.Lock()
		if len(uas.acks) > 0 {
			ackBody = uas.acks[0].Body()
		}
		uas.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	md, err := parseSDP(ackBody)
	if err != nil {
		t.Fatalf("ACK SDP: %v (%q)", err, ackBody)
	}
	if len(md.Formats) != 2 || md.Formats[0].PT != 8 || md.Formats[1].Codec != TelephoneEvent {
		t.Errorf("answer formats %v, want PCMA and telephone-event", md.Formats)
	}
	if md.Addr != c.LocalRTP() {
		t.Errorf("answer address %v, want %v", md.Addr, c.LocalRTP())
	}
	if err := c.SendTone(ctx, 700, 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitTone(ctx, 700, 160*time.Millisecond); err != nil {
		t.Fatal(err)
	}
}

func TestOfferOtherCodec(t *testing.T) {
	ctx := testCtx(t)
	uas := startUAS(t, "udp", uasPlan{})
	c := dial(t, ctx, Options{Target: uas.target("g729"), Codecs: []Codec{G729}})
	var se *StatusError
	if err := c.Answer(ctx); !errors.As(err, &se) || se.Response.Code != 488 {
		t.Fatalf("Answer: %v, want 488", err)
	}
	uas.mu.Lock()
	body := string(uas.invites[0].Body())
	uas.mu.Unlock()
	if !strings.Contains(body, "m=audio ") || !strings.Contains(body, " RTP/AVP 18 101\r\n") || !strings.Contains(body, "a=rtpmap:18 G729/8000") {
		t.Errorf("offer does not list G729 alone:\n%s", body)
	}
}

func TestParallelCalls(t *testing.T) {
	ctx := testCtx(t)
	uas := startUAS(t, "udp", uasPlan{})
	tones := []float64{400, 700, 1000, 1300}
	var wg sync.WaitGroup
	for _, hz := range tones {
		wg.Go(func() {
			c, err := Dial(ctx, Options{Target: uas.target("9196")})
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			if err := c.Answer(ctx); err != nil {
				t.Error(err)
				return
			}
			if err := c.SendTone(ctx, hz, 300*time.Millisecond); err != nil {
				t.Error(err)
				return
			}
			if _, err := c.WaitTone(ctx, hz, 260*time.Millisecond); err != nil {
				t.Error(err)
				return
			}
			for _, other := range tones {
				if other == hz {
					continue
				}
				if s, ok := FindTone(c.Recording().Samples, SampleRate, other, tones...); ok {
					t.Errorf("call at %v Hz heard %v Hz: %+v", hz, other, s)
				}
			}
			if err := c.Hangup(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

// rawUAS answers one INVITE over plain UDP so a test can misbehave like a
// UAS whose ACKs get lost: it retransmits its 200 OK at will.
type rawUAS struct {
	conn *net.UDPConn
	msgs chan sip.Message
	from chan netip.AddrPort
}

func startRawUAS(t *testing.T) *rawUAS {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	u := &rawUAS{conn: conn, msgs: make(chan sip.Message, 16), from: make(chan netip.AddrPort, 16)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65535)
		for {
			n, from, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			msg, err := sip.ParseMessage(append([]byte(nil), buf[:n]...))
			if err != nil {
				continue
			}
			u.msgs <- msg
			u.from <- from
		}
	}()
	t.Cleanup(func() { conn.Close(); <-done })
	return u
}

// next returns the next request with the given method, skipping others.
func (u *rawUAS) next(t *testing.T, ctx context.Context, method sip.RequestMethod) (*sip.Request, netip.AddrPort) {
	t.Helper()
	for {
		select {
		case m := <-u.msgs:
			from := <-u.from
			if req, ok := m.(*sip.Request); ok && req.Method == method {
				return req, from
			}
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", method, ctx.Err())
		}
	}
}

func (u *rawUAS) send(t *testing.T, msg sip.Message, to netip.AddrPort) {
	t.Helper()
	if _, err := u.conn.WriteToUDPAddrPort([]byte(msg.String()), to); err != nil {
		t.Fatal(err)
	}
}

func TestReAckRetransmitted2xx(t *testing.T) {
	ctx := testCtx(t)
	u := startRawUAS(t)
	addr := u.conn.LocalAddr().(*net.UDPAddr).AddrPort()
	c := dial(t, ctx, Options{Target: fmt.Sprintf("sip:9196@%s", addr)})

	inv, from := u.next(t, ctx, sip.INVITE)
	if !inv.From().Params.Has("tag") || inv.CallID() == nil || string(*inv.CallID()) != c.CallID() {
		t.Fatalf("INVITE lacks a From tag or our Call-ID:\n%s", inv)
	}
	if from.Port() != uint16(inv.Contact().Address.Port) {
		t.Errorf("INVITE came from %v but Contact says port %d: requests should leave from the listener", from, inv.Contact().Address.Port)
	}
	ok := sip.NewResponseFromRequest(inv, 200, "OK", buildSDP(9, 1, netip.MustParseAddrPort("127.0.0.1:40000"), []format{{PT: 0, Codec: PCMU, Rate: 8000}}))
	ok.To().Params.Add("tag", "uas-tag")
	ok.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	ok.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "uas", Host: "127.0.0.1", Port: int(addr.Port())}})
	u.send(t, ok, from)

	ack1, _ := u.next(t, ctx, sip.ACK)
	if err := c.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	// Our ACK "got lost": the 200 comes again, while the INVITE
	// transaction still exists.
	u.send(t, ok, from)
	ack2, _ := u.next(t, ctx, sip.ACK)
	if ack2.CSeq().SeqNo != ack1.CSeq().SeqNo || ack2.To().Params.GetOr("tag", "") != "uas-tag" {
		t.Errorf("re-sent ACK differs:\n%s\nvs\n%s", ack2, ack1)
	}

	// Hang up, which ends the INVITE transaction; a late retransmission
	// of the 200 must still be acknowledged.
	hungUp := make(chan error, 1)
	go func() { hungUp <- c.Hangup(ctx) }()
	bye, byeFrom := u.next(t, ctx, sip.BYE)
	if bye.Recipient.Port != int(addr.Port()) || bye.To().Params.GetOr("tag", "") != "uas-tag" || bye.CSeq().SeqNo <= inv.CSeq().SeqNo {
		t.Errorf("BYE not in the dialog:\n%s", bye)
	}
	u.send(t, sip.NewResponseFromRequest(bye, 200, "OK", nil), byeFrom)
	if err := <-hungUp; err != nil {
		t.Fatalf("Hangup: %v", err)
	}
	u.send(t, ok, from)
	ack3, _ := u.next(t, ctx, sip.ACK)
	if !bytes.Equal([]byte(ack3.CallID().Value()), []byte(c.CallID())) {
		t.Errorf("ACK after hangup for another call: %s", ack3)
	}
}

func TestParseCause(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Cause
		wantErr bool
	}{
		{`Q.850;cause=17;text="USER_BUSY"`, Cause{"Q.850", 17, "USER_BUSY"}, false},
		{`SIP ; cause=804 ; text="MEDIA_TIMEOUT"`, Cause{"SIP", 804, "MEDIA_TIMEOUT"}, false},
		{`Q.850;cause=16`, Cause{"Q.850", 16, ""}, false},
		{`Q.850;cause=x`, Cause{}, true},
		{``, Cause{}, true},
	} {
		got, err := ParseCause(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParseCause(%q) error %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if !tc.wantErr && got != tc.want {
			t.Errorf("ParseCause(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}
