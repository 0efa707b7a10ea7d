package sipclient

import (
	"math"
	"time"
)

// Tone returns dur of a sine wave at hz, with peak amplitude amp (a
// fraction of full scale, 0 to 1), sampled at rate.
func Tone(hz float64, dur time.Duration, amp float64, rate int) []int16 {
	n := samplesIn(dur, rate)
	out := make([]int16, n)
	peak := amp * math.MaxInt16
	for i := range out {
		out[i] = int16(math.Round(peak * math.Sin(2*math.Pi*hz*float64(i)/float64(rate))))
	}
	return out
}

// Silence returns dur of zero samples at rate.
func Silence(dur time.Duration, rate int) []int16 {
	return make([]int16, samplesIn(dur, rate))
}

func samplesIn(dur time.Duration, rate int) int {
	return int(dur * time.Duration(rate) / time.Second)
}

// Share returns the part of x's energy that lies at frequency hz, from 0
// to about 1, using the Goertzel algorithm (which evaluates the discrete
// Fourier transform at one frequency). A pure tone at hz gives about 1;
// a frame that is tone for a fraction f of its length and silent for the
// rest gives about f; silence gives 0.
func Share(x []int16, rate int, hz float64) float64 {
	if len(x) == 0 {
		return 0
	}
	coeff := 2 * math.Cos(2*math.Pi*hz/float64(rate))
	var s1, s2, energy float64
	for _, v := range x {
		f := float64(v)
		energy += f * f
		s0 := f + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	if energy == 0 {
		return 0
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * power / (float64(len(x)) * energy)
}

// Dominant returns the candidate frequency that holds the largest share
// of frame's energy, and that share (see [Share]).
func Dominant(frame []int16, rate int, candidates []float64) (hz, share float64) {
	for _, c := range candidates {
		if s := Share(frame, rate, c); s > share {
			hz, share = c, s
		}
	}
	return hz, share
}

// Level returns the RMS level of x as a fraction of full scale.
func Level(x []int16) float64 {
	if len(x) == 0 {
		return 0
	}
	var sum float64
	for _, v := range x {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum/float64(len(x))) / math.MaxInt16
}

// Analysis settings shared by the tone finders.
const (
	// FrameDuration is the analysis frame: one 20 ms packet.
	FrameDuration = 20 * time.Millisecond
	// toneShare is the share of a frame's energy a frequency needs for the
	// frame to count as that tone: at least half of it.
	toneShare = 0.5
	// minLevel is the RMS level (-50 dBFS) below which a frame is silence,
	// whatever its spectrum.
	minLevel = 0.003
)

// Segment is a stretch of a recording in which one frequency dominates.
type Segment struct {
	Hz       float64
	Start    time.Duration // from the first sample of the recording
	Duration time.Duration
}

// End returns the end of s.
func (s Segment) End() time.Duration { return s.Start + s.Duration }

// Segments cuts samples into 20 ms frames, labels each frame with the
// candidate frequency that holds at least half of its energy (frames
// quieter than -50 dBFS are silence), and merges runs of equal labels.
// Each boundary is then refined inside the frames around it from the
// tone's share of their energy, so Start and Duration are accurate to a
// few milliseconds for tones that begin or end in silence, and to one
// frame otherwise.
func Segments(samples []int16, rate int, candidates []float64) []Segment {
	n := rate * int(FrameDuration) / int(time.Second)
	if n == 0 {
		return nil
	}
	frames := len(samples) / n
	labels := make([]float64, frames)
	for i := range frames {
		f := samples[i*n : (i+1)*n]
		if Level(f) < minLevel {
			continue
		}
		if hz, share := Dominant(f, rate, candidates); share >= toneShare {
			labels[i] = hz
		}
	}
	frameAt := func(i int) []int16 { return samples[i*n : (i+1)*n] }
	var out []Segment
	for i := 0; i < frames; {
		hz := labels[i]
		j := i
		for j < frames && labels[j] == hz {
			j++
		}
		if hz != 0 {
			// Refine: the run's first frame may hold the tone only at its
			// end, the frame before may hold its beginning; likewise at
			// the other end.
			start := float64(i * n)
			if i > 0 {
				start -= Share(frameAt(i-1), rate, hz) * float64(n)
			}
			start += (1 - clamp01(Share(frameAt(i), rate, hz))) * float64(n)
			end := float64(j * n)
			if j < frames {
				end += Share(frameAt(j), rate, hz) * float64(n)
			}
			end -= (1 - clamp01(Share(frameAt(j-1), rate, hz))) * float64(n)
			if j-i == 1 || end < start {
				// Too short to refine both ends from one frame.
				start, end = float64(i*n), float64(j*n)
			}
			out = append(out, Segment{
				Hz:       hz,
				Start:    sampleTime(start, rate),
				Duration: sampleTime(end-start, rate),
			})
		}
		i = j
	}
	return out
}

// clamp01 limits a share to [0, 1]; leakage can push it slightly above.
func clamp01(v float64) float64 {
	return math.Max(0, math.Min(1, v))
}

func sampleTime(samples float64, rate int) time.Duration {
	return time.Duration(samples / float64(rate) * float64(time.Second)).Round(time.Millisecond)
}

// FindTone returns the longest segment of samples at hz (see [Segments];
// the other candidates only compete for frames) and whether there is one.
func FindTone(samples []int16, rate int, hz float64, others ...float64) (Segment, bool) {
	var best Segment
	found := false
	for _, s := range Segments(samples, rate, append([]float64{hz}, others...)) {
		if s.Hz == hz && (!found || s.Duration > best.Duration) {
			best, found = s, true
		}
	}
	return best, found
}
