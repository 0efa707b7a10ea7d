package media

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/media/dsp"
)

// recordPair returns a stream that plays and one that records it.
func recordPair(t *testing.T) (player, recorder *Stream) {
	t.Helper()
	e := newTestEngine(t)
	a, b := openStream(t, e), openStream(t, e)
	for _, pair := range [][2]*Stream{{a, b}, {b, a}} {
		if err := pair[0].SetRemote(RemoteParams{Addr: pair[1].LocalAddr(), Codec: PCMU}); err != nil {
			t.Fatal(err)
		}
		pair[0].Start()
	}
	return a, b
}

func TestRecord(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		play       string
		opts       RecordOptions
		stopAfter  int // Stop returns true from this call on (0: never)
		wantReason string
		wantTone   time.Duration // 700 Hz in the file
		wantLen    time.Duration // exact length of the file, when > 0
	}{
		{"ends on silence", "tone_stream://%(1000,0,700)", RecordOptions{Limit: 10 * time.Second, SilenceThreshold: 200, SilenceHits: 400 * time.Millisecond}, 0, "silence", time.Second, 0},
		{"ends at the limit", "tone_stream://%(2000,0,700)", RecordOptions{Limit: 500 * time.Millisecond}, 0, "limit", 500 * time.Millisecond, 500 * time.Millisecond},
		{"stopped", "tone_stream://%(3000,0,700)", RecordOptions{}, 30, "stopped", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, b := recordPair(t)
			path := filepath.Join(t.TempDir(), "rec.wav")
			w, err := CreateWAV(path, 8000, 1, false)
			if err != nil {
				t.Fatal(err)
			}
			calls := 0
			if tt.stopAfter > 0 {
				tt.opts.Stop = func() bool { calls++; return calls >= tt.stopAfter }
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			done := make(chan RecordResult, 1)
			go func() {
				res, err := b.Record(ctx, w, tt.opts)
				if err != nil {
					t.Error(err)
				}
				done <- res
			}()
			go func() { _, _ = a.Play(ctx, openURI(t, tt.play), nil) }()
			res := <-done
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if res.Reason != tt.wantReason {
				t.Errorf("reason %q, want %q (%+v)", res.Reason, tt.wantReason, res)
			}
			_, _, pcm := readBack(t, path)
			if int64(len(pcm)) != res.Samples {
				t.Errorf("file has %d samples, result says %d", len(pcm), res.Samples)
			}
			if tt.wantLen > 0 && res.Duration != tt.wantLen {
				t.Errorf("recorded %v, want exactly %v", res.Duration, tt.wantLen)
			}
			if tt.wantTone > 0 {
				got := dsp.ToneDuration(pcm, 8000, 700, []float64{700, 440})
				if diff := got - tt.wantTone; diff < -40*time.Millisecond || diff > 40*time.Millisecond {
					t.Errorf("700 Hz for %v in the file, want %v ± 40 ms", got, tt.wantTone)
				}
			}
		})
	}
}

func TestRecordEndsWhenTheStreamCloses(t *testing.T) {
	t.Parallel()
	_, b := recordPair(t)
	w, err := CreateWAV(filepath.Join(t.TempDir(), "rec.wav"), 8000, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	time.AfterFunc(200*time.Millisecond, func() { _ = b.Close() })
	res, err := b.Record(context.Background(), w, RecordOptions{})
	if err != nil || res.Reason != "hangup" {
		t.Errorf("Record = %+v, %v; want it to end with hangup", res, err)
	}
	if _, err := b.Record(context.Background(), w16k(t), RecordOptions{}); err == nil {
		t.Error("a 16 kHz file was accepted for an 8 kHz call")
	}
}

func w16k(t *testing.T) *WAVWriter {
	w, err := CreateWAV(filepath.Join(t.TempDir(), "x.wav"), 16000, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}
