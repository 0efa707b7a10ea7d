package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/e2e/harness"
	"github.com/switchboard-voip/switchboard/e2e/sipclient"
)

// The bridge application end to end (spec §7): phones register with the
// switch as directory users and call each other through it. The switch
// runs the embedded default configuration (its directory, password
// 1234, and its Local_Extension) with testdata/bridge/conf laid over it:
// JSON-lines CDRs of both legs, and extensions 3001-3006 that bridge to
// user 1001 with the variables each test needs.

// bridgeSwitch is a switch on the default configuration plus the bridge
// tests' overlay.
type bridgeSwitch struct {
	*testSwitch
	cdrFile string
}

// startBridgeSwitch copies conf/default, lays testdata/bridge/conf over
// it and starts the switch on the result.
func startBridgeSwitch(t *testing.T) *bridgeSwitch {
	t.Helper()
	return startBridgeSwitchWith(t, nil)
}

// startBridgeSwitchWith is startBridgeSwitch with more --set variables.
func startBridgeSwitchWith(t *testing.T, set map[string]string) *bridgeSwitch {
	t.Helper()
	requireRun(t)
	conf := filepath.Join(t.TempDir(), "conf")
	if err := harness.CopyTree(filepath.Join(build.root, "conf", "default"), conf); err != nil {
		t.Fatalf("copying the default configuration: %v", err)
	}
	if err := overlay(filepath.Join("testdata", "bridge", "conf"), conf); err != nil {
		t.Fatalf("laying testdata/bridge/conf over it: %v", err)
	}
	cdrDir := t.TempDir()
	sw := harness.Start(t, harness.Options{
		Binary:  build.bin,
		ConfDir: conf,
		Set: func() map[string]string {
			m := map[string]string{
				"e2e_cdr_dir": cdrDir,
				// Not the default 8021: switches run side by side.
				"event_socket_port": "0",
			}
			for k, v := range set {
				m[k] = v
			}
			return m
		}(),
	})
	ts := &testSwitch{Switch: sw}
	var err error
	ts.base, err = sw.Vars(t.Context())
	if err != nil {
		t.Fatalf("debug variables: %v", err)
	}
	t.Cleanup(func() { sw.CheckSettled(t, ts.base, perTestSlack, 15*time.Second) })
	return &bridgeSwitch{testSwitch: ts, cdrFile: filepath.Join(cdrDir, "cdr.jsonl")}
}

// overlay copies every file under src to the same place under dst,
// replacing what is there.
func overlay(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}

// defaultPassword is default_password of the default vars.xml.
const defaultPassword = "1234"

// phone starts a phone registered with the switch as user.
func (s *bridgeSwitch) phone(t *testing.T, ctx context.Context, user string) *sipclient.Phone {
	t.Helper()
	p, err := sipclient.NewPhone(sipclient.PhoneOptions{User: user})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	res, err := p.Register(ctx, "udp", sipclient.RegisterOptions{Server: s.SIPAddr.String(), Password: defaultPassword, Expires: 300})
	if err != nil {
		t.Fatalf("register %s: %v", user, err)
	}
	if res.Code != 200 {
		t.Fatalf("register %s: %v", user, res)
	}
	return p
}

// dialFrom calls ext at the switch from p (with p's credentials, should
// the switch ask for them).
func (s *bridgeSwitch) dialFrom(t *testing.T, ctx context.Context, p *sipclient.Phone, ext string, o sipclient.Options) *sipclient.Call {
	t.Helper()
	o.Target = s.SIPURI(ext)
	c, err := p.Dial(ctx, o)
	if err != nil {
		t.Fatalf("dial %s from %s: %v", ext, p.User(), err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// ringing waits for the INVITE the switch sends p for c's call; it
// gives up as soon as the caller's call ends.
func ringing(t *testing.T, ctx context.Context, p *sipclient.Phone, c *sipclient.Call) *sipclient.Incoming {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-c.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	in, err := p.Next(ctx)
	if err != nil {
		t.Fatalf("phone %s got no INVITE: %v\n(caller: %v)", p.User(), err, c)
	}
	return in
}

// checkCallerID checks that the B-leg INVITE presents user 1000.
func checkCallerID(t *testing.T, in *sipclient.Incoming, callee string) {
	t.Helper()
	inv := in.Invite()
	if f := in.From(); f.User != "1000" || f.DisplayName != "Extension 1000" {
		t.Errorf("1001's INVITE is from %v, want \"Extension 1000\" <sip:1000@...>", f)
	}
	if !strings.HasPrefix(inv.URI, "sip:"+callee+"@") {
		t.Errorf("1001's INVITE is for %s, want its registered contact sip:%s@...", inv.URI, callee)
	}
	if in.CallID() == "" || !in.Offered() {
		t.Errorf("1001's INVITE has no Call-ID or no SDP offer:\n%s %v", inv, inv.Body)
	}
}

// checkTone checks that rec holds hz for sent, give or take a frame and
// a half (jitter at either end), listing what it heard otherwise.
func checkTone(t *testing.T, who string, rec sipclient.Recording, hz float64, sent time.Duration, others ...float64) {
	t.Helper()
	seg, ok := sipclient.FindTone(rec.Samples, rec.Rate, hz, others...)
	if d := seg.Duration - sent; !ok || d < -40*time.Millisecond || d > 40*time.Millisecond {
		t.Errorf("%s heard %v Hz for %v, want %v ± 40 ms; heard %+v", who, hz, seg.Duration, sent,
			sipclient.Segments(rec.Samples, rec.Rate, append([]float64{hz}, others...)))
	}
}

// TestBridgeLocalExtension: 1000 dials 1001 through the default
// dialplan's Local_Extension (bridge user/$1@${domain_name}). 1001's
// phone rings and answers; audio and RFC 4733 DTMF pass both ways; a
// hangup on either side ends the other leg with NORMAL_CLEARING; each leg
// leaves one CDR.
func TestBridgeLocalExtension(t *testing.T) {
	for _, tc := range []struct {
		name          string
		calleeHangsUp bool
	}{
		{"caller hangs up", false},
		{"callee hangs up", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sw := startBridgeSwitch(t)
			ctx := callCtx(t)
			caller := sw.phone(t, ctx, "1000")
			callee := sw.phone(t, ctx, "1001")
			c := sw.dialFrom(t, ctx, caller, "1001", sipclient.Options{DisplayName: "Extension 1000"})
			in := ringing(t, ctx, callee, c)
			checkCallerID(t, in, "1001")
			if err := in.Ring(); err != nil {
				t.Fatal(err)
			}
			if err := in.Answer(ctx); err != nil {
				t.Fatalf("1001 answering: %v (%v)", err, in)
			}
			if err := c.Answer(ctx); err != nil {
				t.Fatalf("the caller was not answered: %v (%v)", err, c)
			}

			// 1000 says 700 Hz, 1001 says 1200 Hz, at the same time.
			const sent = time.Second
			var wg sync.WaitGroup
			defer wg.Wait()
			sendErrs := make(chan error, 2)
			wg.Go(func() { sendErrs <- c.SendTone(ctx, 700, sent) })
			wg.Go(func() { sendErrs <- in.SendTone(ctx, 1200, sent) })
			others := []float64{700, 1200, 440, 480}
			if _, err := in.WaitTone(ctx, 700, sent/2); err != nil {
				t.Fatalf("1001 does not hear 1000: %v", err)
			}
			if _, err := c.WaitTone(ctx, 1200, sent/2); err != nil {
				t.Fatalf("1000 does not hear 1001: %v", err)
			}
			wg.Wait()
			close(sendErrs)
			for err := range sendErrs {
				if err != nil {
					t.Fatalf("sending a tone: %v", err)
				}
			}
			// Both tones are sent; the last packets may still be in the
			// switch's hands for a moment.
			settle, cancel := context.WithTimeout(ctx, time.Second)
			_, _ = in.WaitTone(settle, 700, sent-40*time.Millisecond)
			_, _ = c.WaitTone(settle, 1200, sent-40*time.Millisecond)
			cancel()
			checkTone(t, "1001", in.Recording(), 700, sent, others...)
			checkTone(t, "1000", c.Recording(), 1200, sent, others...)
			if s, ok := sipclient.FindTone(c.Recording().Samples, sipclient.SampleRate, 700, others...); ok {
				t.Errorf("1000 hears itself: 700 Hz for %v", s.Duration)
			}
			if s, ok := sipclient.FindTone(in.Recording().Samples, sipclient.SampleRate, 1200, others...); ok {
				t.Errorf("1001 hears itself: 1200 Hz for %v", s.Duration)
			}

			// RFC 4733 events each way.
			if err := c.SendDTMF(ctx, "1234#"); err != nil {
				t.Fatal(err)
			}
			if got, err := in.WaitDigits(ctx, 5); err != nil || got != "1234#" {
				t.Errorf("1001 received digits %q (%v), want 1234#", got, err)
			}
			if err := in.SendDTMF(ctx, "*0"); err != nil {
				t.Fatal(err)
			}
			if got, err := c.WaitDigits(ctx, 2); err != nil || got != "*0" {
				t.Errorf("1000 received digits %q (%v), want *0", got, err)
			}

			normal := sipclient.Cause{Protocol: "Q.850", Code: 16, Text: "NORMAL_CLEARING"}
			if tc.calleeHangsUp {
				if err := in.HangupWithReason(ctx, `Q.850;cause=16;text="NORMAL_CLEARING"`); err != nil {
					t.Fatal(err)
				}
				cause, err := c.WaitBye(ctx)
				if err != nil {
					t.Fatalf("1000 after 1001 hung up: %v (%v)", err, c)
				}
				if cause != normal {
					t.Errorf("1000's BYE gave cause %+v, want %+v", cause, normal)
				}
			} else {
				if err := c.Hangup(ctx); err != nil {
					t.Fatal(err)
				}
				cause, err := in.WaitBye(ctx)
				if err != nil {
					t.Fatalf("1001 after 1000 hung up: %v", err)
				}
				if cause != normal {
					t.Errorf("1001's BYE gave cause %+v, want %+v", cause, normal)
				}
			}

			a, b := sw.legCDRs(t, ctx)
			for _, r := range []cdrRecord{a, b} {
				if r.HangupCause != "NORMAL_CLEARING" {
					t.Errorf("%s leg %s ended with %s, want NORMAL_CLEARING", r.Leg, r.UUID, r.HangupCause)
				}
				if r.Answer == nil {
					t.Errorf("%s leg %s has no answer time", r.Leg, r.UUID)
				}
			}
			if got := b.CallerProfile["caller_id_number"]; got != "1000" {
				t.Errorf("B leg caller_id_number %q, want 1000", got)
			}
			if a.Variables["last_bridge_to"] != b.UUID || b.Variables["last_bridge_to"] != a.UUID {
				t.Errorf("last_bridge_to: A %q, B %q; want each other's UUID (A %s, B %s)",
					a.Variables["last_bridge_to"], b.Variables["last_bridge_to"], a.UUID, b.UUID)
			}
		})
	}
}

// TestBridgeBusy: 1001's phone refuses the call with 486. With
// continue_on_fail=true (3001) the dialplan goes on: the caller is
// answered and hears a 900 Hz tone. Without it (3002) the caller is hung
// up with the B-leg's cause, USER_BUSY, so it gets 486 too (§7.3), and
// the actions after the bridge do not run.
func TestBridgeBusy(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ext    string
		goesOn bool
	}{
		{"continue_on_fail", "3001", true},
		{"hangup", "3002", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sw := startBridgeSwitch(t)
			ctx := callCtx(t)
			caller := sw.phone(t, ctx, "1000")
			callee := sw.phone(t, ctx, "1001")
			c := sw.dialFrom(t, ctx, caller, tc.ext, sipclient.Options{DisplayName: "Extension 1000"})
			in := ringing(t, ctx, callee, c)
			if err := in.Ring(); err != nil {
				t.Fatal(err)
			}
			if err := in.Reject(486, "Busy Here"); err != nil {
				t.Fatal(err)
			}
			if tc.goesOn {
				if err := c.Answer(ctx); err != nil {
					t.Fatalf("after the failed bridge, the next actions should answer: %v (%v)", err, c)
				}
				cause, err := c.WaitBye(ctx)
				if err != nil {
					t.Fatalf("waiting for the hangup after the tone: %v (%v)", err, c)
				}
				if cause.Text != "NORMAL_CLEARING" {
					t.Errorf("BYE cause %+v, want NORMAL_CLEARING", cause)
				}
				checkTone(t, "the caller", c.Recording(), 900, time.Second, 440, 480)
			} else {
				final, err := c.Final(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if final.Code != 486 {
					t.Errorf("the caller got %v, want 486 (USER_BUSY passed through)", final)
				}
				if cause, ok := final.Cause(); !ok || cause != (sipclient.Cause{Protocol: "Q.850", Code: 17, Text: "USER_BUSY"}) {
					t.Errorf("the 486's Reason is %q, want Q.850;cause=17;text=\"USER_BUSY\"", final.Header("Reason"))
				}
				if c.Answered() {
					t.Error("the actions after the failed bridge ran: the caller was answered")
				}
			}

			a, b := sw.legCDRs(t, ctx)
			if b.HangupCause != "USER_BUSY" {
				t.Errorf("B leg ended with %s, want USER_BUSY", b.HangupCause)
			}
			wantA := "USER_BUSY"
			if tc.goesOn {
				wantA = "NORMAL_CLEARING"
			}
			if a.HangupCause != wantA {
				t.Errorf("A leg ended with %s, want %s", a.HangupCause, wantA)
			}
			checkVars(t, "A leg", a, map[string]string{
				"originate_disposition":  "USER_BUSY",
				"DIALSTATUS":             "BUSY",
				"originate_failed_cause": "USER_BUSY",
			})
		})
	}
}

// TestBridgeNoAnswer: 3003 bridges with call_timeout=2 to a phone that
// rings and never answers. The originate cancels the ringing leg
// (NO_ANSWER); NO_ANSWER continues the dialplan (§7.3), which has nothing
// left, so the caller is refused with 480 and NORMAL_CLEARING.
func TestBridgeNoAnswer(t *testing.T) {
	sw := startBridgeSwitch(t)
	ctx := callCtx(t)
	caller := sw.phone(t, ctx, "1000")
	callee := sw.phone(t, ctx, "1001")
	c := sw.dialFrom(t, ctx, caller, "3003", sipclient.Options{DisplayName: "Extension 1000"})
	in := ringing(t, ctx, callee, c)
	if err := in.Ring(); err != nil {
		t.Fatal(err)
	}
	cancelCause, err := in.WaitCancel(ctx)
	if err != nil {
		t.Fatalf("1001 was not cancelled: %v (caller: %v)", err, c)
	}
	if want := (sipclient.Cause{Protocol: "Q.850", Code: 19, Text: "NO_ANSWER"}); cancelCause != want {
		t.Errorf("CANCEL Reason %+v, want %+v", cancelCause, want)
	}
	final, err := c.Final(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if final.Code != 480 {
		t.Errorf("the caller got %v, want 480", final)
	}
	// The caller heard 1001 ring before it was refused. (The CANCEL and
	// the 480 leave the switch at nearly the same time on different
	// transactions: their arrival order proves nothing.)
	if rs := c.Responses(); len(rs) < 2 || rs[len(rs)-1].Code != 480 || !slices.ContainsFunc(rs[:len(rs)-1], func(r sipclient.Response) bool {
		return r.Code == 180 || r.Code == 183
	}) {
		t.Errorf("the caller's responses %v: want 180 or 183 before the 480", rs)
	}
	if cause, ok := final.Cause(); !ok || cause != (sipclient.Cause{Protocol: "Q.850", Code: 16, Text: "NORMAL_CLEARING"}) {
		t.Errorf("the 480's Reason is %q, want NORMAL_CLEARING (cause 16): the dialplan ran out after NO_ANSWER", final.Header("Reason"))
	}
	a, b := sw.legCDRs(t, ctx)
	if b.HangupCause != "NO_ANSWER" || b.Answer != nil {
		t.Errorf("B leg ended with %s (answered %v), want NO_ANSWER unanswered", b.HangupCause, b.Answer)
	}
	if a.HangupCause != "NORMAL_CLEARING" {
		t.Errorf("A leg ended with %s, want NORMAL_CLEARING (NO_ANSWER continues the dialplan)", a.HangupCause)
	}
	checkVars(t, "A leg", a, map[string]string{"originate_disposition": "NO_ANSWER", "DIALSTATUS": "NOANSWER"})
}

// TestBridgeUnregistered: Local_Extension bridges to user/1005, a user
// of the default directory that nobody registered. Its dial-string's
// sofia_contact gives error/user_not_registered; the error endpoint fails
// with USER_NOT_REGISTERED, which hangs up the caller: 480, with the
// cause in a SIP Reason (causes above 127 are not Q.850).
func TestBridgeUnregistered(t *testing.T) {
	sw := startBridgeSwitch(t)
	ctx := callCtx(t)
	caller := sw.phone(t, ctx, "1000")
	c := sw.dialFrom(t, ctx, caller, "1005", sipclient.Options{DisplayName: "Extension 1000"})
	final, err := c.Final(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if final.Code != 480 {
		t.Errorf("the caller got %v, want 480 (USER_NOT_REGISTERED)", final)
	}
	if cause, ok := final.Cause(); !ok || cause != (sipclient.Cause{Protocol: "SIP", Code: 806, Text: "USER_NOT_REGISTERED"}) {
		t.Errorf("the 480's Reason is %q, want SIP;cause=806;text=\"USER_NOT_REGISTERED\"", final.Header("Reason"))
	}
	recs := sw.cdrs(t, ctx)
	if len(recs) != 1 {
		t.Fatalf("%d CDRs, want 1 (no B leg is created for error/): %+v", len(recs), recs)
	}
	a := recs[0]
	if a.HangupCause != "USER_NOT_REGISTERED" || a.Direction != "inbound" {
		t.Errorf("the caller's leg: %s %s, want inbound USER_NOT_REGISTERED", a.Direction, a.HangupCause)
	}
	checkVars(t, "A leg", a, map[string]string{"originate_disposition": "USER_NOT_REGISTERED"})
}

// TestBridgeRingback: what the caller hears while 1001 rings. With
// ringback=%(2000,4000,440,480) (3005) and a phone that sends 180, the
// caller gets 183 with SDP and hears 440+480 Hz until the answer. With
// ignore_early_media=false (3006) and a phone that sends 183 and a tone
// of its own, the caller hears that tone and no ring-back.
func TestBridgeRingback(t *testing.T) {
	t.Run("ringback", func(t *testing.T) {
		sw := startBridgeSwitch(t)
		ctx := callCtx(t)
		caller := sw.phone(t, ctx, "1000")
		callee := sw.phone(t, ctx, "1001")
		c := sw.dialFrom(t, ctx, caller, "3005", sipclient.Options{DisplayName: "Extension 1000"})
		in := ringing(t, ctx, callee, c)
		if err := in.Ring(); err != nil {
			t.Fatal(err)
		}
		progress, err := c.WaitResponse(ctx, 183)
		if err != nil {
			t.Fatalf("no 183 to the caller while 1001 rings: %v (%v)", err, c)
		}
		if !progress.EarlyMedia() {
			t.Fatal("183 without SDP: the caller cannot hear the ring-back")
		}
		// Wait for a second of ring-back, then answer.
		if err := waitFor(ctx, func() bool {
			_, total := ringbackIn(c.Recording())
			return total >= time.Second
		}); err != nil {
			_, total := ringbackIn(c.Recording())
			t.Fatalf("the caller heard %v of 440+480 Hz, want 1 s: %v (%v)", total, err, c)
		}
		if err := in.Answer(ctx); err != nil {
			t.Fatal(err)
		}
		if err := c.Answer(ctx); err != nil {
			t.Fatal(err)
		}
		ok, _ := c.Final(ctx)
		if err := in.SendTone(ctx, 1200, 500*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		seg, err := c.WaitTone(ctx, 1200, 300*time.Millisecond)
		if err != nil {
			t.Fatalf("after the answer: %v", err)
		}
		rec := c.Recording()
		first, _ := ringbackIn(rec)
		if at := rec.TimeOf(first); at.IsZero() || !at.Before(ok.At) {
			t.Errorf("ring-back heard at %v, 200 at %v: want it before the answer", at, ok.At)
		}
		if at := rec.TimeOf(seg.Start); at.IsZero() || at.Before(ok.At) {
			t.Errorf("1001's tone heard at %v, 200 at %v: want it after the answer", at, ok.At)
		}
		if err := c.Hangup(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := in.WaitBye(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("early media", func(t *testing.T) {
		sw := startBridgeSwitch(t)
		ctx := callCtx(t)
		caller := sw.phone(t, ctx, "1000")
		callee := sw.phone(t, ctx, "1001")
		c := sw.dialFrom(t, ctx, caller, "3006", sipclient.Options{DisplayName: "Extension 1000"})
		in := ringing(t, ctx, callee, c)
		if err := in.EarlyMedia(); err != nil {
			t.Fatal(err)
		}
		progress, err := c.WaitResponse(ctx, 183)
		if err != nil {
			t.Fatalf("1001's 183 did not reach the caller: %v (%v)", err, c)
		}
		if !progress.EarlyMedia() {
			t.Fatal("183 to the caller without SDP")
		}
		// 1001 plays its own 1000 Hz "ring-back" until the caller hears it.
		toneCtx, stopTone := context.WithCancel(ctx)
		sending := make(chan error, 1)
		go func() { sending <- in.SendTone(toneCtx, 1000, 5*time.Second) }()
		if _, err := c.WaitTone(ctx, 1000, 600*time.Millisecond); err != nil {
			stopTone()
			t.Fatalf("the caller did not hear 1001's early media: %v (%v)", err, c)
		}
		stopTone()
		if err := <-sending; err != nil && !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
		if err := in.Answer(ctx); err != nil {
			t.Fatal(err)
		}
		if err := c.Answer(ctx); err != nil {
			t.Fatal(err)
		}
		ok, _ := c.Final(ctx)
		rec := c.Recording()
		seg, _ := sipclient.FindTone(rec.Samples, rec.Rate, 1000, 440, 480)
		if at := rec.TimeOf(seg.Start); at.IsZero() || !at.Before(ok.At) {
			t.Errorf("1001's early media heard at %v, 200 at %v: want it before the answer", at, ok.At)
		}
		if _, total := ringbackIn(rec); total > 0 {
			t.Errorf("the caller heard %v of the ring-back although 1001 sent early media", total)
		}
		if err := c.Hangup(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := in.WaitBye(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// ringbackWindow is the analysis window for the US ring-back: 440 and
// 480 Hz are 40 Hz apart, closer than a 20 ms frame resolves (50 Hz), so
// the shares are taken over 100 ms (10 Hz bins, four beats).
const ringbackWindow = 100 * time.Millisecond

// ringbackIn returns where the recording first holds 440 and 480 Hz
// together (each at least 30 % of a window's energy, together 80 %) and
// for how long in all.
func ringbackIn(rec sipclient.Recording) (first, total time.Duration) {
	n := int(ringbackWindow * time.Duration(rec.Rate) / time.Second)
	found := false
	for i := 0; n > 0 && (i+1)*n <= len(rec.Samples); i++ {
		w := rec.Samples[i*n : (i+1)*n]
		if sipclient.Level(w) < 0.003 {
			continue
		}
		a, b := sipclient.Share(w, rec.Rate, 440), sipclient.Share(w, rec.Rate, 480)
		if a < 0.3 || b < 0.3 || a+b < 0.8 {
			continue
		}
		if !found {
			first, found = time.Duration(i)*ringbackWindow, true
		}
		total += ringbackWindow
	}
	return first, total
}

// waitFor polls cond every 20 ms until it holds or ctx ends.
func waitFor(ctx context.Context, cond func() bool) error {
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// cdrRecord is one line of the JSON-lines CDR file: the fields these
// tests read.
type cdrRecord struct {
	UUID          string            `json:"uuid"`
	Leg           string            `json:"leg"`
	Direction     string            `json:"direction"`
	Answer        *time.Time        `json:"answer"`
	HangupCause   string            `json:"hangup_cause"`
	CallerProfile map[string]string `json:"caller_profile"`
	Variables     map[string]string `json:"variables"`
}

// cdrs waits until the switch has no session left (every leg has
// written its record), then reads the CDR file.
func (s *bridgeSwitch) cdrs(t *testing.T, ctx context.Context) []cdrRecord {
	t.Helper()
	if _, err := s.WaitSettled(ctx, s.base, perTestSlack); err != nil {
		t.Fatalf("waiting for the legs to end: %v", err)
	}
	b, err := os.ReadFile(s.cdrFile)
	if err != nil {
		t.Fatalf("CDRs: %v", err)
	}
	var out []cdrRecord
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var r cdrRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("CDR line %q: %v", sc.Bytes(), err)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("CDRs: %v", err)
	}
	return out
}

// legCDRs reads the CDRs of a bridged call: exactly one per leg, the A
// leg inbound, the B leg outbound, originated by A.
func (s *bridgeSwitch) legCDRs(t *testing.T, ctx context.Context) (a, b cdrRecord) {
	t.Helper()
	recs := s.cdrs(t, ctx)
	if len(recs) != 2 {
		t.Fatalf("%d CDRs, want one per leg:\n%s", len(recs), describeCDRs(recs))
	}
	a, b = recs[0], recs[1]
	if a.Direction == "outbound" {
		a, b = b, a
	}
	if a.Direction != "inbound" || b.Direction != "outbound" || a.Leg != "a" || b.Leg != "b" {
		t.Errorf("CDR legs, directions: want a inbound and b outbound:\n%s", describeCDRs(recs))
	}
	if a.UUID == "" || a.UUID == b.UUID {
		t.Errorf("CDR UUIDs %q and %q, want two distinct ones", a.UUID, b.UUID)
	}
	if got := b.Variables["originating_leg_uuid"]; got != a.UUID {
		t.Errorf("B leg originating_leg_uuid %q, want the A leg's %s", got, a.UUID)
	}
	return a, b
}

func describeCDRs(recs []cdrRecord) string {
	var sb strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&sb, "  leg %q %s %s cause %s\n", r.Leg, r.Direction, r.UUID, r.HangupCause)
	}
	return sb.String()
}

// checkVars checks channel variables of a CDR.
func checkVars(t *testing.T, what string, r cdrRecord, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := r.Variables[k]; got != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
}
