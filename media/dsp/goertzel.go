// Package dsp measures tones in 16-bit PCM: the Goertzel algorithm for
// the power of one frequency, and helpers that find which of a few
// candidate frequencies sounds in each 20 ms frame and for how long. Tests
// use it to check what a caller hears.
package dsp

import (
	"math"
	"time"
)

const fullScale = 32768.0

// Power returns the power of freq in samples (taken at rate) as the
// squared amplitude of a sine relative to full scale: a full-scale sine
// at freq gives about 1, one at half amplitude 0.25, silence 0. Energy
// between the bins of len(samples) leaks, so use frames of a few hundred
// samples or more.
func Power(samples []int16, rate int, freq float64) float64 {
	n := len(samples)
	if n == 0 || rate <= 0 {
		return 0
	}
	w := 2 * math.Pi * freq / float64(rate)
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range samples {
		s0 := float64(v)/fullScale + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	// |X(w)|^2 for the frequency, scaled so a sine of amplitude A gives A².
	re := s1 - s2*math.Cos(w)
	im := s2 * math.Sin(w)
	mag2 := re*re + im*im
	return 4 * mag2 / float64(n) / float64(n)
}

// MeanSquare is the mean of the squared samples relative to full scale
// (a full-scale sine gives 0.5).
func MeanSquare(samples []int16) float64 {
	if len(samples) == 0 {
		return 0
	}
	var sum float64
	for _, v := range samples {
		f := float64(v) / fullScale
		sum += f * f
	}
	return sum / float64(len(samples))
}

// Share is the fraction of the energy of samples that lies at freq: 1 for
// a pure tone at freq, about 0.5 for each of two equal tones, near 0 when
// freq is absent; 0 for silence.
func Share(samples []int16, rate int, freq float64) float64 {
	ms := MeanSquare(samples)
	if ms == 0 {
		return 0
	}
	return Power(samples, rate, freq) / 2 / ms
}

// Dominant returns the candidate frequency with the largest power in
// samples and its Share. It returns 0, 0 for no candidates or silence.
func Dominant(samples []int16, rate int, candidates []float64) (freq, share float64) {
	best := -1.0
	for _, f := range candidates {
		if p := Power(samples, rate, f); p > best {
			best, freq = p, f
		}
	}
	if best <= 0 {
		return 0, 0
	}
	return freq, Share(samples, rate, freq)
}

// FrameDuration is the analysis frame of Frames and Segments.
const FrameDuration = 20 * time.Millisecond

// Detection thresholds of Frames.
const (
	// MinLevel is the mean square below which a frame is silence
	// (about -50 dBFS).
	MinLevel = 1e-5
	// MinShare is the share a candidate needs to be heard in a frame.
	MinShare = 0.3
)

// Frames splits samples into FrameDuration frames and returns, for each,
// the dominant candidate frequency, or 0 when the frame is silent or no
// candidate reaches MinShare. A trailing partial frame is ignored.
func Frames(samples []int16, rate int, candidates []float64) []float64 {
	size := rate * int(FrameDuration/time.Millisecond) / 1000
	if size <= 0 {
		return nil
	}
	out := make([]float64, 0, len(samples)/size)
	for off := 0; off+size <= len(samples); off += size {
		frame := samples[off : off+size]
		f := 0.0
		if MeanSquare(frame) >= MinLevel {
			if d, share := Dominant(frame, rate, candidates); share >= MinShare {
				f = d
			}
		}
		out = append(out, f)
	}
	return out
}

// Segment is a run of consecutive frames with the same dominant
// frequency (0: silence or none of the candidates).
type Segment struct {
	Freq     float64
	Start    time.Duration
	Duration time.Duration
}

// Segments groups Frames into runs.
func Segments(samples []int16, rate int, candidates []float64) []Segment {
	var out []Segment
	for i, f := range Frames(samples, rate, candidates) {
		at := time.Duration(i) * FrameDuration
		if n := len(out); n > 0 && out[n-1].Freq == f {
			out[n-1].Duration += FrameDuration
			continue
		}
		out = append(out, Segment{Freq: f, Start: at, Duration: FrameDuration})
	}
	return out
}

// ToneDuration is how long freq is the dominant candidate in samples, in
// whole frames.
func ToneDuration(samples []int16, rate int, freq float64, candidates []float64) time.Duration {
	var d time.Duration
	for _, f := range Frames(samples, rate, candidates) {
		if f == freq {
			d += FrameDuration
		}
	}
	return d
}
