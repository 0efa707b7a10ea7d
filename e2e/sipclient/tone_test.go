package sipclient

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// throughG711 encodes and decodes pcm as the far end would hear it.
func throughG711(t *testing.T, c Codec, pcm []int16) []int16 {
	t.Helper()
	enc, err := c.Encode(pcm)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := c.Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	return dec
}

func TestShare(t *testing.T) {
	frame := func(hz float64) []int16 { return Tone(hz, FrameDuration, 0.3, SampleRate) }
	half := append(Tone(1000, FrameDuration/2, 0.3, SampleRate), Silence(FrameDuration/2, SampleRate)...)
	for _, tc := range []struct {
		name     string
		x        []int16
		hz       float64
		min, max float64
	}{
		{"pure 440 at 440", frame(440), 440, 0.95, 1.05},
		{"pure 1000 at 1000", frame(1000), 1000, 0.95, 1.05},
		{"pure 350 at 350", frame(350), 350, 0.95, 1.05},
		{"pure 440 at 620", frame(440), 620, 0, 0.05},
		{"pure 1000 at 1400", frame(1000), 1400, 0, 0.05},
		{"half frame of 1000", half, 1000, 0.4, 0.6},
		{"silence", Silence(FrameDuration, SampleRate), 440, 0, 0},
		{"empty", nil, 440, 0, 0},
	} {
		got := Share(tc.x, SampleRate, tc.hz)
		if got < tc.min || got > tc.max {
			t.Errorf("%s: Share = %.3f, want %.2f..%.2f", tc.name, got, tc.min, tc.max)
		}
	}
}

func TestDominantThroughG711(t *testing.T) {
	candidates := []float64{350, 440, 480, 620, 1000, 1400, 2000}
	for _, codec := range []Codec{PCMU, PCMA} {
		for _, hz := range candidates {
			for _, amp := range []float64{0.02, 0.3, 0.9} {
				x := throughG711(t, codec, Tone(hz, FrameDuration, amp, SampleRate))
				got, share := Dominant(x, SampleRate, candidates)
				if got != hz || share < 0.9 {
					t.Errorf("%s %v Hz at %v: Dominant = %v Hz (share %.2f)", codec, hz, amp, got, share)
				}
			}
		}
	}
}

func TestSegments(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	type part struct {
		hz  float64
		dur time.Duration
	}
	for _, tc := range []struct {
		name  string
		rate  int
		parts []part
	}{
		{"two tones between silences", 8000, []part{{0, ms(213)}, {440, ms(500)}, {0, ms(107)}, {1000, ms(300)}, {0, ms(131)}}},
		{"tone from the first sample", 8000, []part{{620, ms(250)}, {0, ms(100)}}},
		{"adjacent tones", 8000, []part{{0, ms(60)}, {440, ms(400)}, {1400, ms(200)}, {0, ms(60)}}},
		{"16 kHz", 16000, []part{{0, ms(90)}, {1000, ms(600)}, {0, ms(90)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			var pcm []int16
			var want []Segment
			at := time.Duration(0)
			for _, p := range tc.parts {
				if p.hz == 0 {
					pcm = append(pcm, Silence(p.dur, tc.rate)...)
				} else {
					pcm = append(pcm, Tone(p.hz, p.dur, 0.3, tc.rate)...)
					want = append(want, Segment{Hz: p.hz, Start: at, Duration: p.dur})
				}
				at += p.dur
			}
			// Line noise at -50 dBFS must not disturb the result.
			for i := range pcm {
				pcm[i] += int16(rng.NormFloat64() * 0.003 * math.MaxInt16 / math.Sqrt2)
			}
			if tc.rate == SampleRate {
				pcm = throughG711(t, PCMU, pcm)
			}
			got := Segments(pcm, tc.rate, []float64{440, 620, 1000, 1400})
			if len(got) != len(want) {
				t.Fatalf("Segments = %+v, want %+v", got, want)
			}
			// Edges between a tone and silence are refined to a few
			// milliseconds; between two tones, to one frame.
			for i := range want {
				tol := 5 * time.Millisecond
				if tc.name == "adjacent tones" {
					tol = FrameDuration
				}
				if got[i].Hz != want[i].Hz || absDur(got[i].Start-want[i].Start) > tol || absDur(got[i].Duration-want[i].Duration) > tol {
					t.Errorf("segment %d = %+v, want %+v ± %v", i, got[i], want[i], tol)
				}
			}
		})
	}
}

func TestFindToneLongest(t *testing.T) {
	var pcm []int16
	pcm = append(pcm, Tone(440, 100*time.Millisecond, 0.3, SampleRate)...)
	pcm = append(pcm, Silence(100*time.Millisecond, SampleRate)...)
	pcm = append(pcm, Tone(440, 300*time.Millisecond, 0.3, SampleRate)...)
	seg, ok := FindTone(pcm, SampleRate, 440)
	if !ok || absDur(seg.Start-200*time.Millisecond) > 5*time.Millisecond || absDur(seg.Duration-300*time.Millisecond) > 5*time.Millisecond {
		t.Errorf("FindTone = %+v, %v; want the 300 ms tone at 200 ms", seg, ok)
	}
	if _, ok := FindTone(pcm, SampleRate, 1000); ok {
		t.Error("FindTone found 1000 Hz in a 440 Hz signal")
	}
	if _, ok := FindTone(Silence(time.Second, SampleRate), SampleRate, 440); ok {
		t.Error("FindTone found a tone in silence")
	}
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
