package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/e2e/sipclient"
)

// Frequencies of testdata/conf/dialplan/default.xml's 9320 and 9321.
const (
	daPrompt   = 350 // the 10 s prompt
	daAction   = 700 // the bound playback
	daNext     = 480 // the action after the prompt
	daTransfer = 900 // the transfer target
)

var daTones = []float64{daPrompt, daAction, daNext, daTransfer}

// heardAfter waits until the caller has heard hz for at least 200 ms
// starting after from, and returns that segment.
func heardAfter(ctx context.Context, t *testing.T, c *sipclient.Call, hz float64, from time.Duration) sipclient.Segment {
	t.Helper()
	for {
		for _, s := range sipclient.Segments(c.Recording().Samples, sipclient.SampleRate, daTones) {
			if s.Hz == hz && s.Start >= from && s.Duration >= 200*time.Millisecond {
				return s
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("never heard %v Hz after %v (%v)", hz, from, c)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// notHeard fails when the caller heard hz for more than 200 ms.
func notHeard(t *testing.T, c *sipclient.Call, hz float64) {
	t.Helper()
	for _, s := range sipclient.Segments(c.Recording().Samples, sipclient.SampleRate, daTones) {
		if s.Hz == hz && s.Duration > 200*time.Millisecond {
			t.Errorf("heard %v Hz at %v", hz, s.Start)
		}
	}
}

// resumedAfter checks that the bound 1 s playback is heard whole, then
// the prompt again: the digits did not end the prompt.
func resumedAfter(ctx context.Context, t *testing.T, c *sipclient.Call) {
	t.Helper()
	start := waitTone(ctx, t, c, daAction).Start
	prompt := heardAfter(ctx, t, c, daPrompt, start)
	action, _ := sipclient.FindTone(c.Recording().Samples, sipclient.SampleRate, daAction, daTones...)
	if action.Duration < 900*time.Millisecond {
		t.Errorf("the bound playback lasted %v of 1 s", action.Duration)
	}
	if prompt.Start < action.End()-40*time.Millisecond {
		t.Errorf("the prompt came back at %v, before the bound playback ended at %v", prompt.Start, action.End())
	}
	notHeard(t, c, daNext)
}

// TestDigitAction calls 9320: bind_digit_action bindings over a long
// prompt, answered with RFC 4733 digits.
func TestDigitAction(t *testing.T) {
	sw := startSwitch(t)
	tests := []struct {
		name  string
		steps func(ctx context.Context, t *testing.T, c *sipclient.Call)
	}{
		{"1 plays inside the prompt", func(ctx context.Context, t *testing.T, c *sipclient.Call) {
			sendDTMF(ctx, t, c, "1")
			resumedAfter(ctx, t, c)
		}},
		{"2 then 3 transfers", func(ctx context.Context, t *testing.T, c *sipclient.Call) {
			sendDTMF(ctx, t, c, "23")
			waitTone(ctx, t, c, daTransfer)
			notHeard(t, c, daAction)
			notHeard(t, c, daNext)
		}},
		{"an unbound digit reaches the playback", func(ctx context.Context, t *testing.T, c *sipclient.Call) {
			sendDTMF(ctx, t, c, "*") // playback's default terminator
			waitTone(ctx, t, c, daNext)
			notHeard(t, c, daAction)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := callCtx(t)
			c := sw.dial(t, ctx, "9320", sipclient.Options{})
			if err := c.Answer(ctx); err != nil {
				t.Fatal(err)
			}
			waitTone(ctx, t, c, daPrompt)
			tt.steps(ctx, t, c)
			_ = c.Hangup(ctx)
		})
	}
}

// TestMetaApp calls 9321: *1 runs the bound playback inside the prompt,
// and the * does not end the prompt as a playback terminator would.
func TestMetaApp(t *testing.T) {
	sw := startSwitch(t)
	ctx := callCtx(t)
	c := sw.dial(t, ctx, "9321", sipclient.Options{})
	if err := c.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	waitTone(ctx, t, c, daPrompt)
	sendDTMF(ctx, t, c, "*1")
	resumedAfter(ctx, t, c)
	_ = c.Hangup(ctx)
}
