package sipclient

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

func startPhone(t *testing.T, opts PhoneOptions) *Phone {
	t.Helper()
	p, err := NewPhone(opts)
	if err != nil {
		t.Fatalf("NewPhone: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// nextCall takes the phone's next incoming call.
func nextCall(t *testing.T, p *Phone) *Incoming {
	t.Helper()
	ctx := testCtx(t)
	in, err := p.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func toTag(r Response) string {
	var to sip.ToHeader
	if _, err := sip.ParseAddressValue(r.Header("To"), &to.Address, &to.Params); err != nil {
		return ""
	}
	return to.Params.GetOr("tag", "")
}

// TestPhoneCall calls a phone directly: the INVITE as the phone saw it,
// ringing, answer, a tone and DTMF each way, and a hangup from either
// side.
func TestPhoneCall(t *testing.T) {
	for _, tc := range []struct {
		name         string
		transport    string
		phoneHangsUp bool
	}{
		{"udp/caller hangs up", "udp", false},
		{"udp/phone hangs up", "udp", true},
		{"tcp/phone hangs up", "tcp", true},
		{"tcp/caller hangs up", "tcp", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			p := startPhone(t, PhoneOptions{User: "1001", TCP: tc.transport == "tcp"})
			c := dial(t, ctx, Options{
				Target: p.URI("1001", tc.transport), Transport: tc.transport,
				From: "1000", DisplayName: "Extension 1000",
				Codecs:  []Codec{PCMA, PCMU},
				Headers: []Header{{"X-Case", tc.name}},
			})
			in := nextCall(t, p)
			inv := in.Invite()
			if f := in.From(); f.User != "1000" || f.DisplayName != "Extension 1000" || f.Tag == "" {
				t.Errorf("From %+v, want Extension 1000 <sip:1000@...> with a tag", f)
			}
			if to := in.To(); to.User != "1001" || to.Tag != "" {
				t.Errorf("To %+v, want sip:1001@... without a tag", to)
			}
			if inv.Header("X-Case") != tc.name || in.CallID() != c.CallID() || !strings.EqualFold(inv.Transport, tc.transport) {
				t.Errorf("INVITE: X-Case %q, Call-ID %q (want %q), transport %q", inv.Header("X-Case"), in.CallID(), c.CallID(), inv.Transport)
			}
			if !in.Offered() {
				t.Error("the INVITE's offer was not seen")
			}

			if err := in.Ring(); err != nil {
				t.Fatalf("Ring: %v", err)
			}
			ringing, err := c.WaitResponse(ctx, 180)
			if err != nil {
				t.Fatal(err)
			}
			if err := in.Answer(ctx); err != nil {
				t.Fatalf("Answer: %v", err)
			}
			if err := c.Answer(ctx); err != nil {
				t.Fatalf("caller: %v", err)
			}
			ok, _ := c.Final(ctx)
			if tag := toTag(ringing); tag == "" || tag != toTag(ok) {
				t.Errorf("To tags: 180 %q, 200 %q; want one tag", toTag(ringing), toTag(ok))
			}
			if in.Codec() != PCMA || c.Codec() != PCMA {
				t.Errorf("codecs: phone %q, caller %q; want PCMA (first in the offer)", in.Codec(), c.Codec())
			}
			if in.DTMFPayloadType() != 101 {
				t.Errorf("phone's telephone-event type %d, want 101", in.DTMFPayloadType())
			}
			if !in.Answered() || !in.Acked() {
				t.Errorf("answered %v, acked %v", in.Answered(), in.Acked())
			}

			// A tone each way at the same time.
			const dur = 600 * time.Millisecond
			var wg sync.WaitGroup
			errs := make(chan error, 2)
			wg.Go(func() { errs <- c.SendTone(ctx, 700, dur) })
			wg.Go(func() { errs <- in.SendTone(ctx, 1200, dur) })
			if _, err := in.WaitTone(ctx, 700, dur-40*time.Millisecond); err != nil {
				t.Fatalf("phone: %v", err)
			}
			if _, err := c.WaitTone(ctx, 1200, dur-40*time.Millisecond); err != nil {
				t.Fatalf("caller: %v", err)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatalf("sending: %v", err)
				}
			}
			sameTone(t, in.Recording(), 700, dur)
			sameTone(t, c.Recording(), 1200, dur)
			if s, found := FindTone(in.Recording().Samples, SampleRate, 1200, 700); found {
				t.Errorf("the phone heard its own tone: %+v", s)
			}
			if s, found := FindTone(c.Recording().Samples, SampleRate, 700, 1200); found {
				t.Errorf("the caller heard its own tone: %+v", s)
			}

			// DTMF each way.
			if err := c.SendDTMF(ctx, "19#"); err != nil {
				t.Fatal(err)
			}
			if got, err := in.WaitDigits(ctx, 3); err != nil || got != "19#" {
				t.Errorf("phone got digits %q (%v), want 19#", got, err)
			}
			if err := in.SendDTMF(ctx, "*0"); err != nil {
				t.Fatal(err)
			}
			if got, err := c.WaitDigits(ctx, 2); err != nil || got != "*0" {
				t.Errorf("caller got digits %q (%v), want *0", got, err)
			}

			wantMethods := "INVITE ACK"
			if tc.phoneHangsUp {
				if err := in.HangupWithReason(ctx, `Q.850;cause=16;text="NORMAL_CLEARING"`); err != nil {
					t.Fatalf("Hangup: %v", err)
				}
				cause, err := c.WaitBye(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if want := (Cause{"Q.850", 16, "NORMAL_CLEARING"}); cause != want {
					t.Errorf("caller saw cause %+v, want %+v", cause, want)
				}
				if _, remote := in.RemoteBye(); remote {
					t.Error("RemoteBye after the phone's own hangup")
				}
			} else {
				wantMethods += " BYE"
				if err := c.Hangup(ctx); err != nil {
					t.Fatalf("caller hangup: %v", err)
				}
				cause, err := in.WaitBye(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if cause != (Cause{}) {
					t.Errorf("BYE without Reason gave cause %+v", cause)
				}
			}
			select {
			case <-in.Done():
			default:
				t.Error("Done not closed after the hangup")
			}
			if err := in.SendTone(ctx, 700, 40*time.Millisecond); !errors.Is(err, ErrEnded) {
				t.Errorf("SendTone after the hangup: %v, want ErrEnded", err)
			}
			if got := p.Methods(); got != wantMethods {
				t.Errorf("phone received %q, want %q", got, wantMethods)
			}
		})
	}
}

func TestPhoneReject(t *testing.T) {
	ctx := testCtx(t)
	p := startPhone(t, PhoneOptions{User: "1001"})
	c := dial(t, ctx, Options{Target: p.URI("1001", "udp")})
	in := nextCall(t, p)
	if err := in.Ring(); err != nil {
		t.Fatal(err)
	}
	if err := in.Reject(486, "Busy Here", Header{"Reason", `Q.850;cause=17;text="USER_BUSY"`}); err != nil {
		t.Fatalf("Reject: %v", err)
	}
	err := c.Answer(ctx)
	var se *StatusError
	if !errors.As(err, &se) || se.Response.Code != 486 {
		t.Fatalf("caller: %v, want 486", err)
	}
	if cause, ok := se.Response.Cause(); !ok || cause != (Cause{"Q.850", 17, "USER_BUSY"}) {
		t.Errorf("486 Reason %+v (%v), want Q.850 17 USER_BUSY", cause, ok)
	}
	select {
	case <-in.Done():
	default:
		t.Error("Done not closed after the rejection")
	}
	if err := in.Answer(ctx); err == nil {
		t.Error("Answer after Reject succeeded")
	}
	if err := in.Reject(603, "Decline"); err == nil {
		t.Error("a second Reject succeeded")
	}
	if err := in.Reject(200, "OK"); err == nil {
		t.Error("Reject with 200 succeeded")
	}
	if got := in.Sent(); !slices.Equal(got, []int{180, 486}) {
		t.Errorf("sent %v, want [180 486]", got)
	}
	if _, err := in.WaitBye(ctx); err == nil {
		t.Error("WaitBye on a rejected call succeeded")
	}
}

func TestPhoneCancel(t *testing.T) {
	ctx := testCtx(t)
	p := startPhone(t, PhoneOptions{User: "1001"})
	c := dial(t, ctx, Options{Target: p.URI("1001", "udp")})
	in := nextCall(t, p)
	if err := in.Ring(); err != nil {
		t.Fatal(err)
	}
	ringing, err := c.WaitResponse(ctx, 180)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Hangup(ctx); err != nil {
		t.Fatalf("caller hangup: %v", err)
	}
	if _, err := in.WaitCancel(ctx); err != nil {
		t.Fatal(err)
	}
	final, err := c.Final(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if final.Code != 487 || toTag(final) != toTag(ringing) {
		t.Errorf("final %v with To tag %q; want 487 with the 180's tag %q", final, toTag(final), toTag(ringing))
	}
	if err := in.Answer(ctx); !errors.Is(err, ErrEnded) {
		t.Errorf("Answer after CANCEL: %v, want ErrEnded", err)
	}
	if got := in.Sent(); !slices.Equal(got, []int{180, 487}) {
		t.Errorf("sent %v, want [180 487]", got)
	}
	if got := p.Methods(); got != "INVITE CANCEL" {
		t.Errorf("phone received %q, want INVITE CANCEL", got)
	}
}

func TestPhoneEarlyMedia(t *testing.T) {
	ctx := testCtx(t)
	p := startPhone(t, PhoneOptions{User: "1001"})
	c := dial(t, ctx, Options{Target: p.URI("1001", "udp")})
	in := nextCall(t, p)
	if err := in.EarlyMedia(); err != nil {
		t.Fatal(err)
	}
	r, err := c.WaitResponse(ctx, 183)
	if err != nil {
		t.Fatal(err)
	}
	if !r.EarlyMedia() {
		t.Fatal("183 without SDP")
	}
	if err := in.SendTone(ctx, 1000, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	seg, err := c.WaitTone(ctx, 1000, 260*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	ok, _ := c.Final(ctx)
	if heard := c.Recording().TimeOf(seg.Start); heard.IsZero() || !heard.Before(ok.At) {
		t.Errorf("early tone heard at %v, 200 at %v: want the tone first", heard, ok.At)
	}
	if !slices.Equal(r.SDP, ok.SDP) {
		t.Errorf("the 200's SDP differs from the 183's:\n%s\nvs\n%s", ok.SDP, r.SDP)
	}
}

func TestPhoneLateOffer(t *testing.T) {
	ctx := testCtx(t)
	p := startPhone(t, PhoneOptions{User: "1001"})
	c := dial(t, ctx, Options{Target: p.URI("1001", "udp"), NoSDP: true, Codecs: []Codec{PCMA, PCMU}})
	in := nextCall(t, p)
	if in.Offered() {
		t.Fatal("an INVITE without SDP counts as an offer")
	}
	if err := in.EarlyMedia(); err == nil {
		t.Error("early media without an offer succeeded")
	}
	if err := in.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	// The phone offered PCMU first; the caller answered with it.
	if in.Codec() != PCMU || c.Codec() != PCMU {
		t.Errorf("codecs: phone %q, caller %q; want PCMU", in.Codec(), c.Codec())
	}
	if err := c.SendTone(ctx, 700, 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if _, err := in.WaitTone(ctx, 700, 160*time.Millisecond); err != nil {
		t.Fatal(err)
	}
}

// TestPhoneNoCommonCodec: an offer the phone cannot take is refused
// with 488 when the test answers.
func TestPhoneNoCommonCodec(t *testing.T) {
	ctx := testCtx(t)
	p := startPhone(t, PhoneOptions{User: "1001"})
	c := dial(t, ctx, Options{Target: p.URI("1001", "udp"), Codecs: []Codec{G729}})
	in := nextCall(t, p)
	if err := in.Answer(ctx); err == nil {
		t.Fatal("Answer accepted an offer of G729 alone")
	}
	var se *StatusError
	if err := c.Answer(ctx); !errors.As(err, &se) || se.Response.Code != 488 {
		t.Errorf("caller: %v, want 488", err)
	}
}

// TestPhoneQueue: calls are handed out once each, in order, and Close
// answers the ones still ringing.
func TestPhoneQueue(t *testing.T) {
	ctx := testCtx(t)
	p, err := NewPhone(PhoneOptions{User: "1001"})
	if err != nil {
		t.Fatal(err)
	}
	first := dial(t, ctx, Options{Target: p.URI("1001", "udp"), From: "first"})
	a := nextCall(t, p)
	second := dial(t, ctx, Options{Target: p.URI("1001", "udp"), From: "second"})
	b := nextCall(t, p)
	if a.From().User != "first" || b.From().User != "second" || a.CallID() != first.CallID() || b.CallID() != second.CallID() {
		t.Errorf("calls out of order: %v, %v", a, b)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if in, err := p.Next(short); err == nil {
		t.Errorf("a third call appeared: %v", in)
	}
	if err := b.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	if err := second.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if r, err := first.Final(ctx); err != nil || r.Code != 480 {
		t.Errorf("ringing call at Close: %v %v, want 480", r, err)
	}
	if _, err := second.WaitBye(ctx); err != nil {
		t.Errorf("answered call at Close: %v", err)
	}
	if _, err := p.Next(ctx); err == nil {
		t.Error("Next on a closed phone succeeded")
	}
}

// fakeRegistrar answers REGISTER with a digest challenge (RFC 2617,
// without qop) and 200 once the credentials are right.
type fakeRegistrar struct {
	addr string
	mu   sync.Mutex
	regs []*sip.Request
	bad  []string
}

const registrarRealm, registrarNonce = "test.example", "0123456789abcdef"

func startRegistrar(t *testing.T, password string) *fakeRegistrar {
	t.Helper()
	r := &fakeRegistrar{}
	ua, err := sipgo.NewUA(sipgo.WithUserAgentHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	srv.OnRegister(func(req *sip.Request, tx sip.ServerTransaction) {
		r.mu.Lock()
		r.regs = append(r.regs, req)
		r.mu.Unlock()
		h := req.GetHeader("Authorization")
		if h == nil {
			res := sip.NewResponseFromRequest(req, 401, "Unauthorized", nil)
			res.AppendHeader(sip.NewHeader("WWW-Authenticate",
				fmt.Sprintf(`Digest realm="%s", nonce="%s", algorithm=MD5`, registrarRealm, registrarNonce)))
			tx.Respond(res)
			return
		}
		params := map[string]string{}
		for _, kv := range strings.Split(strings.TrimPrefix(h.Value(), "Digest "), ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
			params[k] = strings.Trim(v, `"`)
		}
		md := func(s string) string { sum := md5.Sum([]byte(s)); return hex.EncodeToString(sum[:]) }
		want := md(md(params["username"]+":"+registrarRealm+":"+password) + ":" + registrarNonce + ":" + md("REGISTER:"+params["uri"]))
		if params["response"] != want {
			r.mu.Lock()
			r.bad = append(r.bad, h.Value())
			r.mu.Unlock()
			tx.Respond(sip.NewResponseFromRequest(req, 403, "Forbidden", nil))
			return
		}
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		res.AppendHeader(sip.HeaderClone(req.Contact()))
		tx.Respond(res)
	})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = pc.LocalAddr().String()
	go srv.ServeUDP(pc)
	t.Cleanup(func() { pc.Close(); ua.Close() })
	return r
}

func TestPhoneRegister(t *testing.T) {
	ctx := testCtx(t)
	reg := startRegistrar(t, "secret")
	p := startPhone(t, PhoneOptions{User: "1001"})
	res, err := p.Register(ctx, "udp", RegisterOptions{Server: reg.addr, Password: "wrong", Expires: 60})
	if err != nil {
		t.Fatal(err)
	}
	if res.Code != 403 {
		t.Errorf("wrong password: %v, want 403", res)
	}
	res, err = p.Register(ctx, "udp", RegisterOptions{Server: reg.addr, Password: "secret", Expires: 60})
	if err != nil {
		t.Fatal(err)
	}
	if res.Code != 200 {
		t.Fatalf("register: %v", res)
	}
	reg.mu.Lock()
	regs := append([]*sip.Request(nil), reg.regs...)
	reg.mu.Unlock()
	if len(regs) != 4 {
		t.Fatalf("registrar saw %d REGISTERs, want 4 (two challenged)", len(regs))
	}
	last := regs[3]
	if got, want := last.Contact().Address.String(), p.Contact("udp"); got != want {
		t.Errorf("Contact %s, want %s", got, want)
	}
	if src, err := netip.ParseAddrPort(last.Source()); err != nil || src != p.Addr() {
		t.Errorf("REGISTER came from %s, want the phone's socket %s", last.Source(), p.Addr())
	}
	if to := last.To().Address; to.User != "1001" || to.Host != "127.0.0.1" {
		t.Errorf("address of record %s, want sip:1001@127.0.0.1", to.String())
	}

	// Calls from the phone are from its user.
	callee := startPhone(t, PhoneOptions{User: "callee"})
	c, err := p.Dial(ctx, Options{Target: callee.URI("callee", "udp")})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	in := nextCall(t, callee)
	if in.From().User != "1001" {
		t.Errorf("call from %v, want user 1001", in.From())
	}
	if err := in.Reject(603, "Decline"); err != nil {
		t.Fatal(err)
	}
}
