package dsp

import (
	"math"
	"testing"
	"time"
)

func tone(n, rate int, amp float64, freqs ...float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		var v float64
		for _, f := range freqs {
			v += amp * math.Sin(2*math.Pi*f*float64(i)/float64(rate))
		}
		out[i] = int16(math.Round(v))
	}
	return out
}

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

func TestPowerAndShare(t *testing.T) {
	const rate = 8000
	tests := []struct {
		name      string
		samples   []int16
		freq      float64
		power     float64
		share     float64
		tolerance float64
	}{
		{"full-scale sine", tone(800, rate, 32767, 1000), 1000, 1, 1, 0.01},
		{"half amplitude", tone(800, rate, 16384, 440), 440, 0.25, 1, 0.02},
		{"absent frequency", tone(800, rate, 16384, 440), 1000, 0, 0, 0.01},
		{"one of two tones", tone(800, rate, 8000, 350, 440), 350, math.Pow(8000.0/32768, 2), 0.5, 0.02},
		{"silence", make([]int16, 800), 440, 0, 0, 1e-12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if p := Power(tt.samples, rate, tt.freq); !near(p, tt.power, tt.tolerance) {
				t.Errorf("Power = %v, want %v", p, tt.power)
			}
			if s := Share(tt.samples, rate, tt.freq); !near(s, tt.share, 2*tt.tolerance+0.01) {
				t.Errorf("Share = %v, want %v", s, tt.share)
			}
		})
	}
	if Power(nil, rate, 440) != 0 || Power(tone(10, rate, 1, 1), 0, 440) != 0 {
		t.Error("degenerate input should give 0")
	}
}

func TestDominant(t *testing.T) {
	cands := []float64{350, 440, 480, 620, 1000}
	f, share := Dominant(tone(1600, 8000, 10000, 480), 8000, cands)
	if f != 480 || share < 0.9 {
		t.Errorf("Dominant = %v, %v", f, share)
	}
	if f, _ := Dominant(make([]int16, 160), 8000, cands); f != 0 {
		t.Errorf("silence: Dominant = %v", f)
	}
}

func TestSegments(t *testing.T) {
	// 200 ms of 440, 100 ms of silence, 300 ms of 1000 Hz, at 8 kHz.
	var s []int16
	s = append(s, tone(1600, 8000, 8000, 440)...)
	s = append(s, make([]int16, 800)...)
	s = append(s, tone(2400, 8000, 8000, 1000)...)
	got := Segments(s, 8000, []float64{440, 1000})
	want := []Segment{
		{440, 0, 200 * time.Millisecond},
		{0, 200 * time.Millisecond, 100 * time.Millisecond},
		{1000, 300 * time.Millisecond, 300 * time.Millisecond},
	}
	if len(got) != len(want) {
		t.Fatalf("Segments = %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("segment %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if d := ToneDuration(s, 8000, 1000, []float64{440, 1000}); d != 300*time.Millisecond {
		t.Errorf("ToneDuration = %v", d)
	}
}
