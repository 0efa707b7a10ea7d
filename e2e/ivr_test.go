package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/e2e/sipclient"
)

// TestIVRMenu calls 9300: play_and_get_digits with a 350 Hz prompt, a
// 480 Hz invalid prompt, the regex ^[12]$, two tries and a failure
// extension. Each outcome plays its own tone, so what the caller hears
// says which branch the switch took.
func TestIVRMenu(t *testing.T) {
	sw := startSwitch(t)
	tests := []struct {
		name  string
		steps func(ctx context.Context, t *testing.T, c *sipclient.Call)
		want  float64 // the outcome tone
	}{
		{"valid choice", func(ctx context.Context, t *testing.T, c *sipclient.Call) {
			waitTone(ctx, t, c, 350)
			sendDTMF(ctx, t, c, "2")
		}, 900},
		{"invalid then valid", func(ctx context.Context, t *testing.T, c *sipclient.Call) {
			waitTone(ctx, t, c, 350)
			sendDTMF(ctx, t, c, "9")
			waitTone(ctx, t, c, 480) // the invalid prompt is heard
			sendDTMF(ctx, t, c, "1")
		}, 700},
		{"no input: transfer on failure", func(ctx context.Context, t *testing.T, c *sipclient.Call) {
			waitTone(ctx, t, c, 350)
			waitTone(ctx, t, c, 480)
		}, 300},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := callCtx(t)
			c := sw.dial(t, ctx, "9300", sipclient.Options{})
			if err := c.Answer(ctx); err != nil {
				t.Fatal(err)
			}
			tt.steps(ctx, t, c)
			seg := waitTone(ctx, t, c, tt.want)
			for _, other := range []float64{700, 900, 300} {
				if other == tt.want {
					continue
				}
				if s, ok := sipclient.FindTone(c.Recording().Samples, sipclient.SampleRate, other); ok && s.Duration > 200*time.Millisecond {
					t.Errorf("also heard the %v Hz outcome at %v", other, s.Start)
				}
			}
			t.Logf("outcome %v Hz at %v", tt.want, seg.Start)
			_ = c.Hangup(ctx)
		})
	}
}

// TestIVRRead calls 9301: read 1-4 digits ended by # after a 350 Hz
// prompt; the switch then plays 100 Hz per unit of the first digit.
func TestIVRRead(t *testing.T) {
	sw := startSwitch(t)
	ctx := callCtx(t)
	c := sw.dial(t, ctx, "9301", sipclient.Options{})
	if err := c.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	waitTone(ctx, t, c, 350)
	sendDTMF(ctx, t, c, "73#")
	waitTone(ctx, t, c, 700)
	_ = c.Hangup(ctx)
}

func waitTone(ctx context.Context, t *testing.T, c *sipclient.Call, hz float64) sipclient.Segment {
	t.Helper()
	seg, err := c.WaitTone(ctx, hz, 200*time.Millisecond)
	if err != nil {
		t.Fatalf("%v (%v)", err, c)
	}
	return seg
}

func sendDTMF(ctx context.Context, t *testing.T, c *sipclient.Call, digits string) {
	t.Helper()
	if err := c.SendDTMF(ctx, digits); err != nil {
		t.Fatalf("SendDTMF %s: %v (%v)", digits, err, c)
	}
}

// TestIVRMenuInband calls 9303, the 9300 menu behind start_dtmf, and
// answers with DTMF tones in the audio instead of RFC 4733 events:
// first an invalid 9, then 2.
func TestIVRMenuInband(t *testing.T) {
	sw := startSwitch(t)
	ctx := callCtx(t)
	c := sw.dial(t, ctx, "9303", sipclient.Options{})
	if err := c.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	waitTone(ctx, t, c, 350)
	sendInband(ctx, t, c, 852, 1477) // 9
	waitTone(ctx, t, c, 480)         // invalid
	sendInband(ctx, t, c, 697, 1336) // 2
	waitTone(ctx, t, c, 900)
	_ = c.Hangup(ctx)
}

// sendInband sends one DTMF key as 100 ms of its two tones, then 100 ms
// of silence.
func sendInband(ctx context.Context, t *testing.T, c *sipclient.Call, row, col float64) {
	t.Helper()
	const rate = 8000
	a := sipclient.Tone(row, 100*time.Millisecond, 0.25, rate)
	b := sipclient.Tone(col, 100*time.Millisecond, 0.25, rate)
	for i := range a {
		a[i] += b[i]
	}
	a = append(a, sipclient.Silence(100*time.Millisecond, rate)...)
	if err := c.Send(ctx, a); err != nil {
		t.Fatalf("sending in-band DTMF: %v", err)
	}
}

// TestMusicOnHold calls 9304 twice at once: both callers hear the
// shared local stream (a 600 Hz file in a loop) for longer than the file
// lasts.
func TestMusicOnHold(t *testing.T) {
	sw := startSwitch(t)
	ctx := callCtx(t)
	var calls []*sipclient.Call
	for range 2 {
		c := sw.dial(t, ctx, "9304", sipclient.Options{})
		if err := c.Answer(ctx); err != nil {
			t.Fatal(err)
		}
		calls = append(calls, c)
	}
	for i, c := range calls {
		if err := c.WaitAudio(ctx, 2500*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		frames := sipclient.Segments(c.Recording().Samples, sipclient.SampleRate, []float64{600})
		var heard time.Duration
		for _, f := range frames {
			if f.Hz == 600 {
				heard += f.Duration
			}
		}
		if heard < 1500*time.Millisecond {
			t.Errorf("caller %d heard 600 Hz for %v of 2.5 s: the stream does not loop or is not shared", i, heard)
		}
		_ = c.Hangup(ctx)
	}
}
