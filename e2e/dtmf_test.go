package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/e2e/sipclient"
)

// TestDTMFEdgeCases calls 9305, which reads digits up to # and sends
// back what it collected: the cases that FreeSWITCH users have reported
// going wrong with RFC 4733 (repeated digits, the end packet sent three
// times, long presses, a telephone-event payload type other than 101).
func TestDTMFEdgeCases(t *testing.T) {
	sw := startSwitch(t)
	tests := []struct {
		name string
		opts sipclient.Options
		send func(ctx context.Context, c *sipclient.Call) error
		want string
	}{
		{"repeated digits, three end packets each", sipclient.Options{}, func(ctx context.Context, c *sipclient.Call) error {
			return c.SendDTMF(ctx, "1111#")
		}, "1111"},
		{"a 3 s press counts once", sipclient.Options{}, func(ctx context.Context, c *sipclient.Call) error {
			if err := c.SendDTMFFor(ctx, "5", 3*time.Second); err != nil {
				return err
			}
			return c.SendDTMF(ctx, "5#")
		}, "55"},
		{"telephone-event on payload type 96", sipclient.Options{DTMFPayloadType: 96}, func(ctx context.Context, c *sipclient.Call) error {
			return c.SendDTMF(ctx, "*0A#")
		}, "*0A"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := callCtx(t)
			c := sw.dial(t, ctx, "9305", tt.opts)
			if err := c.Answer(ctx); err != nil {
				t.Fatal(err)
			}
			if tt.opts.DTMFPayloadType != 0 && c.DTMFPayloadType() != tt.opts.DTMFPayloadType {
				t.Fatalf("negotiated telephone-event PT %d, offered %d", c.DTMFPayloadType(), tt.opts.DTMFPayloadType)
			}
			if err := tt.send(ctx, c); err != nil {
				t.Fatal(err)
			}
			got, err := c.WaitDigits(ctx, len(tt.want))
			if err != nil {
				t.Fatalf("%v (%v)", err, c)
			}
			time.Sleep(300 * time.Millisecond) // an extra digit would arrive now
			if got = c.Digits(); got != tt.want {
				t.Errorf("the switch received %q, want %q", got, tt.want)
			}
			_ = c.Hangup(ctx)
		})
	}
}

// TestDTMFOverSIPInfo sends the digits as SIP INFO requests, in both body
// formats, to the 9305 mirror.
func TestDTMFOverSIPInfo(t *testing.T) {
	sw := startSwitch(t)
	for _, plain := range []bool{false, true} {
		ctx := callCtx(t)
		c := sw.dial(t, ctx, "9305", sipclient.Options{})
		if err := c.Answer(ctx); err != nil {
			t.Fatal(err)
		}
		if err := c.SendInfoDTMF(ctx, "7#", plain); err != nil {
			t.Fatal(err)
		}
		got, err := c.WaitDigits(ctx, 1)
		if err != nil || got != "7" {
			t.Errorf("plain %v: the switch received %q (%v), want 7", plain, got, err)
		}
		_ = c.Hangup(ctx)
	}
}

// TestIVRMenuSIPInfo answers the 9300 menu with a SIP INFO digit.
func TestIVRMenuSIPInfo(t *testing.T) {
	sw := startSwitch(t)
	ctx := callCtx(t)
	c := sw.dial(t, ctx, "9300", sipclient.Options{})
	if err := c.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	waitTone(ctx, t, c, 350)
	if err := c.SendInfoDTMF(ctx, "2", false); err != nil {
		t.Fatal(err)
	}
	waitTone(ctx, t, c, 900)
	_ = c.Hangup(ctx)
}

// TestDTMFAcrossReinvite sends a digit, puts the switch on hold and
// takes it off again with re-INVITEs, then sends more digits: read must
// see all of them, once each.
func TestDTMFAcrossReinvite(t *testing.T) {
	sw := startSwitch(t)
	ctx := callCtx(t)
	c := sw.dial(t, ctx, "9305", sipclient.Options{})
	if err := c.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.SendDTMF(ctx, "1"); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"sendonly", "sendrecv"} {
		if err := c.Reinvite(ctx, dir); err != nil {
			t.Fatalf("re-INVITE %s: %v", dir, err)
		}
	}
	if err := c.SendDTMF(ctx, "23#"); err != nil {
		t.Fatal(err)
	}
	got, err := c.WaitDigits(ctx, 3)
	if err != nil {
		t.Fatalf("%v (%v)", err, c)
	}
	time.Sleep(300 * time.Millisecond)
	if got = c.Digits(); got != "123" {
		t.Errorf("the switch received %q, want 123", got)
	}
	_ = c.Hangup(ctx)
}
