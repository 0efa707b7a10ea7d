package media

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/media/dsp"
)

// readStereo reads a stereo WAV back as its two channels.
func readStereo(t *testing.T, path string) (left, right []int16) {
	t.Helper()
	_, ch, _ := readBack(t, path)
	if ch != 2 {
		t.Fatalf("%d channels", ch)
	}
	raw := readRawPCM(t, path)
	for i := 0; i+1 < len(raw); i += 2 {
		left = append(left, raw[i])
		right = append(right, raw[i+1])
	}
	return left, right
}

func TestRecordCall(t *testing.T) {
	t.Parallel()
	for _, stereo := range []bool{true, false} {
		t.Run(map[bool]string{true: "stereo", false: "mono"}[stereo], func(t *testing.T) {
			t.Parallel()
			caller, sw := recordPair(t) // sw is the switch's leg; caller plays to it
			path := filepath.Join(t.TempDir(), "call.wav")
			ch := 1
			if stereo {
				ch = 2
			}
			w, err := CreateWAV(path, 8000, ch, false)
			if err != nil {
				t.Fatal(err)
			}
			rec, err := sw.RecordCall(w, CallRecordOptions{Stereo: stereo})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			// The caller speaks 700 Hz for 1 s while the switch plays
			// 1000 Hz for 1 s to the caller, at the same time.
			errc := make(chan error, 1)
			go func() { _, err := caller.Play(ctx, openURI(t, "tone_stream://%(1000,0,700)"), nil); errc <- err }()
			if _, err := sw.Play(ctx, openURI(t, "tone_stream://%(1000,0,1000)"), nil); err != nil {
				t.Fatal(err)
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond)
			res, err := rec.Stop()
			if err != nil || res.Reason != "stopped" {
				t.Fatalf("Stop = %+v, %v", res, err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			within := func(what string, got, want time.Duration) {
				if d := got - want; d < -60*time.Millisecond || d > 60*time.Millisecond {
					t.Errorf("%s: %v, want %v", what, got, want)
				}
			}
			if stereo {
				l, r := readStereo(t, path)
				within("caller 700 Hz on the left", dsp.ToneDuration(l, 8000, 700, []float64{700, 1000}), time.Second)
				within("switch 1000 Hz on the right", dsp.ToneDuration(r, 8000, 1000, []float64{700, 1000}), time.Second)
				if d := dsp.ToneDuration(l, 8000, 1000, []float64{700, 1000}); d > 100*time.Millisecond {
					t.Errorf("1000 Hz leaked onto the left channel for %v", d)
				}
				return
			}
			_, _, pcm := readBack(t, path)
			// Mixed: both tones present at once.
			mid := pcm[len(pcm)/4 : len(pcm)/4+1600]
			if dsp.Share(mid, 8000, 700) < 0.2 || dsp.Share(mid, 8000, 1000) < 0.2 {
				t.Errorf("mono mix lacks a side: 700 Hz share %.2f, 1000 Hz share %.2f", dsp.Share(mid, 8000, 700), dsp.Share(mid, 8000, 1000))
			}
		})
	}
}

func TestRecordCallLimitAndHangup(t *testing.T) {
	t.Parallel()
	_, sw := recordPair(t)
	w, _ := CreateWAV(filepath.Join(t.TempDir(), "a.wav"), 8000, 1, false)
	defer w.Close()
	rec, err := sw.RecordCall(w, CallRecordOptions{Limit: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-rec.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the limit did not end the recording")
	}
	if res, _ := rec.Stop(); res.Reason != "limit" || res.Samples != 2400 {
		t.Errorf("result %+v, want limit after 2400 samples", res)
	}
	w2, _ := CreateWAV(filepath.Join(t.TempDir(), "b.wav"), 8000, 1, false)
	defer w2.Close()
	rec2, _ := sw.RecordCall(w2, CallRecordOptions{})
	sw.Close()
	select {
	case <-rec2.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("closing the stream did not end the recording")
	}
	if res, _ := rec2.Stop(); res.Reason != "hangup" {
		t.Errorf("result %+v, want hangup", res)
	}
	if _, err := sw.RecordCall(w2, CallRecordOptions{Stereo: true}); err == nil {
		t.Error("a mono file accepted for a stereo recording")
	}
}
