package dsp

import "math"

// DTMF detection in the audio itself ("in-band"), for callers whose
// phones or gateways send digits as tones instead of RFC 4733 events.

var (
	dtmfRows = [4]float64{697, 770, 852, 941}
	dtmfCols = [4]float64{1209, 1336, 1477, 1633}
	dtmfKeys = [4][4]rune{
		{'1', '2', '3', 'A'},
		{'4', '5', '6', 'B'},
		{'7', '8', '9', 'C'},
		{'*', '0', '#', 'D'},
	}
)

// Thresholds of the detector. A window counts as a digit when one row
// and one column tone stand out: loud enough, not too unequal (twist),
// well above the other tones of their group, and carrying most of the
// window's energy (speech and music spread theirs).
const (
	dtmfMinPower     = 2e-5 // each tone: about -47 dBFS
	dtmfNormalTwist  = 6.3  // row louder than column: up to 8 dB
	dtmfReverseTwist = 2.5  // column louder than row: up to 4 dB
	dtmfRelPeak      = 6.3  // each tone 8 dB above the others of its group
	dtmfMinShare     = 0.6  // share of the window's energy in the two tones
)

// DTMFDetector finds DTMF digits in a stream of PCM audio. It analyses
// windows of about 25 ms every half window, reports a digit once it is
// seen in two windows in a row (about 40 ms of tone), and reports it
// again only after a pause. Not safe for concurrent use.
type DTMFDetector struct {
	rate   int
	coeff  [8]float64 // Goertzel coefficients: the rows, then the columns
	cos    [8]float64
	sin    [8]float64
	window int
	hop    int
	buf    []int16
	prev   rune // digit seen in the previous window, or 0
	held   rune // digit reported and still sounding, or 0
	quiet  int  // windows in a row without held
}

// NewDTMFDetector returns a detector for audio at rate Hz.
func NewDTMFDetector(rate int) *DTMFDetector {
	if rate <= 0 {
		rate = 8000
	}
	w := rate * 205 / 8000
	d := &DTMFDetector{rate: rate, window: w, hop: w / 2}
	for i, f := range append(dtmfRows[:], dtmfCols[:]...) {
		x := 2 * math.Pi * f / float64(rate)
		d.coeff[i], d.cos[i], d.sin[i] = 2*math.Cos(x), math.Cos(x), math.Sin(x)
	}
	return d
}

// Write feeds samples and returns the digits that began in them, in
// order.
func (d *DTMFDetector) Write(pcm []int16) []rune {
	var out []rune
	d.buf = append(d.buf, pcm...)
	for len(d.buf) >= d.window {
		if r, ok := d.step(d.buf[:d.window]); ok {
			out = append(out, r)
		}
		n := copy(d.buf, d.buf[d.hop:])
		d.buf = d.buf[:n]
	}
	return out
}

// step analyses one window and reports a digit that has just started.
func (d *DTMFDetector) step(w []int16) (rune, bool) {
	digit := d.classify(w)
	if d.held != 0 {
		if digit == d.held {
			d.quiet = 0
		} else if d.quiet++; d.quiet >= 2 {
			d.held = 0 // released: the same digit may come again
		}
	}
	report := digit != 0 && digit == d.prev && d.held == 0
	d.prev = digit
	if report {
		d.held, d.quiet = digit, 0
		return digit, true
	}
	return 0, false
}

// classify returns the digit one window holds, or 0.
func (d *DTMFDetector) classify(w []int16) rune {
	// One pass runs the eight Goertzel filters and sums the energy; the
	// powers are scaled as Power scales them.
	var s1, s2 [8]float64
	var energy float64
	for _, v := range w {
		x := float64(v) / fullScale
		energy += x * x
		for i := range 8 {
			s0 := x + d.coeff[i]*s1[i] - s2[i]
			s2[i], s1[i] = s1[i], s0
		}
	}
	if energy == 0 {
		return 0
	}
	n := float64(len(w))
	ms := energy / n
	var rows, cols [4]float64
	for i := range 8 {
		re := s1[i] - s2[i]*d.cos[i]
		im := s2[i] * d.sin[i]
		p := 4 * (re*re + im*im) / n / n
		if i < 4 {
			rows[i] = p
		} else {
			cols[i-4] = p
		}
	}
	ri, rp := peak(rows[:])
	ci, cp := peak(cols[:])
	switch {
	case rp < dtmfMinPower || cp < dtmfMinPower:
		return 0
	case rp > cp*dtmfNormalTwist || cp > rp*dtmfReverseTwist:
		return 0
	case !standsOut(rows[:], ri) || !standsOut(cols[:], ci):
		return 0
	case (rp+cp)/2/ms < dtmfMinShare:
		return 0
	}
	return dtmfKeys[ri][ci]
}

func peak(p []float64) (int, float64) {
	best := 0
	for i := range p {
		if p[i] > p[best] {
			best = i
		}
	}
	return best, p[best]
}

// standsOut reports whether p[i] is dtmfRelPeak times every other value.
func standsOut(p []float64, i int) bool {
	for j := range p {
		if j != i && p[j]*dtmfRelPeak > p[i] {
			return false
		}
	}
	return true
}
