package media

import (
	"errors"
	"io"
	"math"
)

const (
	// resampleZeros is how many zero crossings of the sinc the filter
	// keeps on each side, at the lower of the two rates.
	resampleZeros = 10
	// resamplePhases bounds the coefficient table: finer fractional
	// positions are rounded to one of this many.
	resamplePhases = 256
	resampleCutoff = 0.94 // of the lower Nyquist frequency
)

// resampler converts a Source from one rate to another with a windowed
// sinc (Blackman) polyphase filter, low-passing below the lower of the
// two Nyquist frequencies so nothing aliases.
type resampler struct {
	src   Source
	l, m  int64 // out/in = l/m, reduced
	half  int   // taps on each side of the centre
	nph   int64 // phases in the table
	table []float32

	buf      []float32 // input; buf[0] is input sample bufStart
	bufStart int64
	ipos     int64 // input position of the next output (integer part)
	frac     int64 // and its fractional part, in 1/l
	inEOF    bool
	inTotal  int64
	err      error
	tmp      []int16
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func newResampler(src Source, inRate, outRate int) *resampler {
	g := gcd(int64(inRate), int64(outRate))
	r := &resampler{src: src, l: int64(outRate) / g, m: int64(inRate) / g, tmp: make([]int16, 1024)}
	ratio := min(1, float64(outRate)/float64(inRate)) // cutoff relative to the input Nyquist
	fc := ratio * resampleCutoff
	r.half = int(math.Ceil(resampleZeros / ratio))
	r.nph = min(r.l, resamplePhases)
	taps := 2 * r.half
	r.table = make([]float32, int(r.nph)*taps)
	for p := range r.nph {
		frac := float64(p) / float64(r.nph)
		for k := range taps {
			j := k - r.half + 1 // input offset from ipos
			d := frac - float64(j)
			r.table[int(p)*taps+k] = float32(fc * sinc(fc*d) * blackman(d/float64(r.half)))
		}
	}
	return r
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// blackman is the Blackman window on [-1, 1].
func blackman(x float64) float64 {
	if x <= -1 || x >= 1 {
		return 0
	}
	return 0.42 + 0.5*math.Cos(math.Pi*x) + 0.08*math.Cos(2*math.Pi*x)
}

// fill reads more input.
func (r *resampler) fill() {
	n, err := r.src.Read(r.tmp)
	for _, v := range r.tmp[:n] {
		r.buf = append(r.buf, float32(v))
	}
	if err != nil {
		if !errors.Is(err, io.EOF) {
			r.err = err
		}
		r.inEOF = true
		r.inTotal = r.bufStart + int64(len(r.buf))
	}
}

func (r *resampler) Read(pcm []int16) (int, error) {
	taps := 2 * r.half
	i := 0
	for i < len(pcm) {
		need := r.ipos + int64(r.half) // last input index the filter reads
		for !r.inEOF && r.bufStart+int64(len(r.buf)) <= need {
			r.fill()
		}
		if r.err != nil {
			return i, r.err
		}
		if r.inEOF && r.ipos >= r.inTotal {
			break
		}
		// Drop input the filter no longer needs.
		if keep := r.ipos - int64(r.half) + 1 - r.bufStart; keep > 4096 {
			r.buf = append(r.buf[:0], r.buf[keep:]...)
			r.bufStart += keep
		}
		coef := r.table[int(r.frac*r.nph/r.l)*taps:][:taps]
		first := r.ipos - int64(r.half) + 1
		var acc float32
		for k, c := range coef {
			idx := first + int64(k) - r.bufStart
			if idx >= 0 && idx < int64(len(r.buf)) {
				acc += r.buf[idx] * c
			}
		}
		pcm[i] = clamp16(acc)
		i++
		r.frac += r.m
		r.ipos += r.frac / r.l
		r.frac %= r.l
	}
	if i == 0 && len(pcm) > 0 {
		return 0, io.EOF
	}
	return i, nil
}

func clamp16(v float32) int16 {
	switch {
	case v >= math.MaxInt16:
		return math.MaxInt16
	case v <= math.MinInt16:
		return math.MinInt16
	}
	return int16(math.Round(float64(v)))
}

func (r *resampler) Close() error { return r.src.Close() }
