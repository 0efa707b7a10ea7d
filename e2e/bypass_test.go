package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/e2e/sipclient"
)

// TestBridgeBypassMedia: with bypass_media=true (set on the caller, 3090,
// or in the dial string's {}, 3091) 1001's INVITE carries the caller's
// SDP and the caller's 183/200 carry 1001's, so the phones send RTP to
// each other: each hears the other's tone, the switch's media engine
// opens no port and handles no packet for the call, a re-INVITE is
// answered with the other phone's media, and hangups propagate.
func TestBridgeBypassMedia(t *testing.T) {
	for _, tc := range []struct {
		name, ext     string
		earlyMedia    bool // 1001 sends 183 with SDP before answering
		calleeHangsUp bool
	}{
		{"variable", "3090", false, false},
		{"dial string with early media", "3091", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sw := startBridgeSwitch(t)
			ctx := callCtx(t)
			caller := sw.phone(t, ctx, "1000")
			callee := sw.phone(t, ctx, "1001")
			c := sw.dialFrom(t, ctx, caller, tc.ext, sipclient.Options{DisplayName: "Extension 1000"})
			in := ringing(t, ctx, callee, c)

			// 1001 is offered the caller's own RTP address.
			offer := string(in.Invite().Body)
			checkSDPAddr(t, "1001's INVITE", offer, c.LocalRTP().Addr().String(), c.LocalRTP().Port())

			if tc.earlyMedia {
				if err := in.EarlyMedia(); err != nil {
					t.Fatal(err)
				}
				r, err := c.WaitResponse(ctx, 183)
				if err != nil {
					t.Fatalf("the caller got no 183: %v (%v)", err, c)
				}
				checkSDPAddr(t, "the caller's 183", string(r.SDP), in.LocalRTP().Addr().String(), in.LocalRTP().Port())
			} else if err := in.Ring(); err != nil {
				t.Fatal(err)
			}
			if err := in.Answer(ctx); err != nil {
				t.Fatalf("1001 answering: %v (%v)", err, in)
			}
			if err := c.Answer(ctx); err != nil {
				t.Fatalf("the caller was not answered: %v (%v)", err, c)
			}
			if got, want := c.RemoteRTP(), in.LocalRTP(); got != want {
				t.Errorf("the caller's 200 gives RTP at %v, want 1001's %v", got, want)
			}
			if got, want := in.RemoteRTP(), c.LocalRTP(); got != want {
				t.Errorf("1001 sends RTP to %v, want the caller's %v", got, want)
			}
			var ok200 sipclient.Response
			for _, r := range c.Responses() {
				if r.Code == 200 {
					ok200 = r
				}
			}
			checkSDPAddr(t, "the caller's 200", string(ok200.SDP), in.LocalRTP().Addr().String(), in.LocalRTP().Port())

			exchangeTones(t, ctx, c, in)

			// A re-INVITE of the caller's: the answer still points at 1001.
			if err := c.Reinvite(ctx, "sendrecv"); err != nil {
				t.Errorf("re-INVITE: %v", err)
			} else if got, want := c.RemoteRTP(), in.LocalRTP(); got != want {
				t.Errorf("after the re-INVITE the caller sends RTP to %v, want 1001's %v", got, want)
			}

			// The switch's media engine never saw the call.
			m := sw.mediaStats(t, ctx)
			if m.Streams != 0 || m.Packets.Sent != 0 || m.Packets.Received != 0 {
				t.Errorf("the switch's media engine took part: %d streams, %d packets sent, %d received",
					m.Streams, m.Packets.Sent, m.Packets.Received)
			}
			if v, err := sw.Vars(ctx); err != nil {
				t.Error(err)
			} else if v.RTPPortsOpen != 0 {
				t.Errorf("%d RTP ports open during a bypassed call", v.RTPPortsOpen)
			}

			normal := sipclient.Cause{Protocol: "Q.850", Code: 16, Text: "NORMAL_CLEARING"}
			if tc.calleeHangsUp {
				if err := in.HangupWithReason(ctx, `Q.850;cause=16;text="NORMAL_CLEARING"`); err != nil {
					t.Fatal(err)
				}
				if cause, err := c.WaitBye(ctx); err != nil || cause != normal {
					t.Errorf("the caller's BYE: %+v (%v), want %+v", cause, err, normal)
				}
			} else {
				if err := c.Hangup(ctx); err != nil {
					t.Fatal(err)
				}
				if cause, err := in.WaitBye(ctx); err != nil || cause != normal {
					t.Errorf("1001's BYE: %+v (%v), want %+v", cause, err, normal)
				}
			}
			a, b := sw.legCDRs(t, ctx)
			for _, r := range []cdrRecord{a, b} {
				if r.HangupCause != "NORMAL_CLEARING" {
					t.Errorf("%s leg %s ended with %s, want NORMAL_CLEARING", r.Leg, r.UUID, r.HangupCause)
				}
			}
			// The re-INVITE went on to 1001: its B-leg holds 1001's new
			// answer, not the one of the call's setup.
			if got := b.Variables["switch_r_sdp"]; got == "" || got == string(ok200.SDP) {
				t.Errorf("the re-INVITE was not relayed to 1001: its leg's switch_r_sdp is\n%s\nthe setup's answer was\n%s", got, ok200.SDP)
			}
		})
	}
}

// exchangeTones has the caller send 700 Hz and the callee 1200 Hz at
// once, and checks that each hears the other.
func exchangeTones(t *testing.T, ctx context.Context, c *sipclient.Call, in *sipclient.Incoming) {
	t.Helper()
	const sent = time.Second
	var wg sync.WaitGroup
	defer wg.Wait()
	errs := make(chan error, 2)
	wg.Go(func() { errs <- c.SendTone(ctx, 700, sent) })
	wg.Go(func() { errs <- in.SendTone(ctx, 1200, sent) })
	if _, err := in.WaitTone(ctx, 700, sent/2); err != nil {
		t.Fatalf("1001 does not hear 1000: %v", err)
	}
	if _, err := c.WaitTone(ctx, 1200, sent/2); err != nil {
		t.Fatalf("1000 does not hear 1001: %v", err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("sending a tone: %v", err)
		}
	}
}

// checkSDPAddr checks that an SDP body's connection address and audio
// port are ip and port.
func checkSDPAddr(t *testing.T, what, sdp, ip string, port uint16) {
	t.Helper()
	if !strings.Contains(sdp, "c=IN IP4 "+ip+"\r\n") && !strings.Contains(sdp, "c=IN IP6 "+ip+"\r\n") {
		t.Errorf("%s has no c= line for %s:\n%s", what, ip, sdp)
	}
	if !strings.Contains(sdp, "m=audio "+strconv.Itoa(int(port))+" ") {
		t.Errorf("%s has no m=audio line with port %d:\n%s", what, port, sdp)
	}
}

// mediaVars is the part of the switch's "media" debug variable (the
// media engine's stats) the bypass test reads.
type mediaVars struct {
	Streams int
	Packets struct {
		Sent, Received uint64
	}
}

// mediaStats reads the media engine's stats from /debug/vars.
func (s *bridgeSwitch) mediaStats(t *testing.T, ctx context.Context) mediaVars {
	t.Helper()
	v, err := s.Vars(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var m mediaVars
	raw, ok := v.All["media"]
	if !ok {
		t.Fatal("/debug/vars has no media")
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(fmt.Errorf("/debug/vars media: %w", err))
	}
	return m
}
