package e2e

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/e2e/sipclient"
	"github.com/switchboard-voip/switchboard/media"
)

// TestRecord calls 9302, which records the caller until 1 s of silence
// or *, then plays 1000 Hz. The caller sends 700 Hz; the test reads the
// WAV back and finds the tone for as long as it was sent.
func TestRecord(t *testing.T) {
	sw := startSwitch(t)
	tests := []struct {
		name string
		from string
		tone time.Duration
		end  func(ctx context.Context, c *sipclient.Call) error
	}{
		{"ended by silence", "rec1", 2 * time.Second, func(ctx context.Context, c *sipclient.Call) error {
			return c.SendSilence(ctx, 1500*time.Millisecond)
		}},
		{"ended by *", "rec2", time.Second, func(ctx context.Context, c *sipclient.Call) error {
			return c.SendDTMF(ctx, "*")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := callCtx(t)
			c := sw.dial(t, ctx, "9302", sipclient.Options{From: tt.from})
			if err := c.Answer(ctx); err != nil {
				t.Fatal(err)
			}
			if err := c.SendTone(ctx, 700, tt.tone); err != nil {
				t.Fatal(err)
			}
			if err := tt.end(ctx, c); err != nil {
				t.Fatal(err)
			}
			waitTone(ctx, t, c, 1000) // the recording has ended
			_ = c.Hangup(ctx)
			pcm := readWAV(t, filepath.Join(sw.StateDir, "recordings", "rec-"+tt.from+".wav"))
			seg, ok := sipclient.FindTone(pcm, 8000, 700)
			if !ok {
				t.Fatalf("no 700 Hz in the recording (%d samples)", len(pcm))
			}
			if d := seg.Duration - tt.tone; d < -40*time.Millisecond || d > 40*time.Millisecond {
				t.Errorf("recorded 700 Hz for %v, sent %v (± 40 ms)", seg.Duration, tt.tone)
			}
		})
	}
}

func readWAV(t *testing.T, path string) []int16 {
	t.Helper()
	src, err := media.OpenSource(path, media.SourceOptions{Rate: 8000})
	if err != nil {
		t.Fatalf("recording: %v", err)
	}
	defer src.Close()
	var pcm []int16
	buf := make([]int16, 1600)
	for {
		n, err := src.Read(buf)
		pcm = append(pcm, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return pcm
		}
		if err != nil {
			t.Fatalf("reading %s: %v", path, err)
		}
	}
}

// TestRecordSessionStereo calls 9306, which records the call in stereo
// while it plays 1000 Hz for 1 s; the caller says 700 Hz for 1 s after
// hearing the tone. The left channel must hold the caller's tone and the
// right the switch's, each about as long as it lasted.
func TestRecordSessionStereo(t *testing.T) {
	sw := startSwitch(t)
	ctx := callCtx(t)
	c := sw.dial(t, ctx, "9306", sipclient.Options{From: "stereo1"})
	if err := c.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	waitTone(ctx, t, c, 1000)
	if err := c.SendTone(ctx, 700, time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitBye(ctx); err != nil {
		t.Fatal(err)
	}
	// The file is complete once the switch has let the call go.
	if _, err := sw.WaitSettled(ctx, sw.base, perTestSlack); err != nil {
		t.Fatal(err)
	}
	left, right := readStereoWAV(t, filepath.Join(sw.StateDir, "recordings", "callrec-stereo1.wav"))
	check := func(side string, pcm []int16, hz float64, want time.Duration) {
		seg, ok := sipclient.FindTone(pcm, 8000, hz)
		if !ok {
			t.Errorf("%s: no %v Hz", side, hz)
			return
		}
		if d := seg.Duration - want; d < -60*time.Millisecond || d > 60*time.Millisecond {
			t.Errorf("%s: %v Hz for %v, want %v", side, hz, seg.Duration, want)
		}
	}
	check("left (caller)", left, 700, time.Second)
	check("right (switch)", right, 1000, time.Second)
	if seg, ok := sipclient.FindTone(left, 8000, 1000); ok && seg.Duration > 100*time.Millisecond {
		t.Errorf("the switch's tone is on the caller's channel for %v", seg.Duration)
	}
}

// readStereoWAV splits a 16-bit stereo WAV written by the switch into its
// channels.
func readStereoWAV(t *testing.T, path string) (left, right []int16) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 44 || string(b[0:4]) != "RIFF" || b[22] != 2 {
		t.Fatalf("%s is not a stereo WAV", path)
	}
	data := b[44:]
	for i := 0; i+3 < len(data); i += 4 {
		left = append(left, int16(uint16(data[i])|uint16(data[i+1])<<8))
		right = append(right, int16(uint16(data[i+2])|uint16(data[i+3])<<8))
	}
	return left, right
}
