package e2e

import (
	"context"
	"errors"
	"io"
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
