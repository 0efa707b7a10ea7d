package media

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
)

// Tone generation after FreeSWITCH's libteletone (tone_stream://).
const (
	maxToneFreqs      = 18    // frequencies mixed in one tone
	toneDefaultDur    = 2000  // samples, as libteletone (250 ms at 8 kHz)
	toneDefaultWait   = 500   // samples
	toneDefaultVolume = -7.0  // dBm0
	toneVolumeMin     = -63.0 // dBm0
	toneVolumeMax     = 0.0
	dbm0MaxPower      = 3.14 + 3.02 // dB: the µ-law maximum plus a doubling
	maxToneSpecLen    = 64 << 10
	maxToneSpecLines  = 1024
	maxToneMS         = 24 * 3600 * 1000 // bound per value, so sample counts cannot overflow
	toneCustom        = '%'              // key of a tone with its own frequencies
)

// dtmfKeyFreqs returns the row and column frequencies of a DTMF key
// (ITU-T Q.23). libteletone uses 859 Hz for the third row; we use the
// standard 852 Hz.
func dtmfKeyFreqs(key byte) ([]float64, bool) {
	const keys = "123A456B789C*0#D"
	i := strings.IndexByte(keys, key)
	if i < 0 {
		return nil, false
	}
	rows := [4]float64{697, 770, 852, 941}
	cols := [4]float64{1209, 1336, 1477, 1633}
	return []float64{rows[i/4], cols[i%4]}, true
}

// DTMFFreqs returns the two frequencies of a DTMF key (0-9, *, #, A-D).
func DTMFFreqs(key rune) (low, high float64, ok bool) {
	if key < 0 || key > 0x7f {
		return 0, 0, false
	}
	f, ok := dtmfKeyFreqs(byte(key))
	if !ok {
		return 0, 0, false
	}
	return f[0], f[1], true
}

// ToneSpec is a parsed tone_stream:// specification, FreeSWITCH's
// libteletone language: ';'-separated segments, each either a setting
// x=value or a run of tones.
//
// Tones:
//
//	%(on,off,f1[,f2...])  on ms of f1+f2+... mixed, then off ms of silence
//	                       (frequencies may also be joined with '+')
//	1 2 # A ...            a DTMF key with the current duration and wait
//	5(on,off)              a DTMF key with its own duration and wait
//
// Settings (they apply to the tones after them):
//
//	d=ms  default duration     w=ms  default wait      v=dB volume (-63..0, default -7)
//	l=n   play the next tone n times (-1: forever)
//	L=n   play the whole specification n times (the first L= counts)
//	>=ms  decrease the volume every ms by the +=dB factor (default 1)
//	<=ms  increase it likewise
//	c=, r= are accepted and ignored (mono, at the call's rate)
//
// A negative duration or wait means the default. A tone whose first
// frequency is 0 is skipped entirely, as in libteletone.
type ToneSpec struct {
	progs []toneProg
}

// toneProg is one line of a specification: its ops and pass count.
type toneProg struct {
	ops    []toneOp
	passes int
}

type toneOp struct {
	set   byte   // a setting's key, or 0 for a tone
	value string // a setting's value
	freqs []float64
	dur   int // ms; -1 = the current default
	wait  int // ms; -1 = the current default
}

// ParseToneSpec parses a tone_stream:// specification (without the
// scheme). Several lines (as in a path= file) are played one after the
// other.
func ParseToneSpec(spec string) (*ToneSpec, error) {
	if len(spec) > maxToneSpecLen {
		return nil, fmt.Errorf("tone_stream: specification longer than %d bytes", maxToneSpecLen)
	}
	ts := &ToneSpec{}
	lines := strings.FieldsFunc(spec, func(r rune) bool { return r == '\n' || r == '\r' })
	if len(lines) > maxToneSpecLines {
		return nil, fmt.Errorf("tone_stream: more than %d lines", maxToneSpecLines)
	}
	for _, line := range lines {
		p, err := parseToneLine(line)
		if err != nil {
			return nil, err
		}
		ts.progs = append(ts.progs, p)
	}
	return ts, nil
}

func parseToneLine(line string) (toneProg, error) {
	p := toneProg{passes: 1}
	looping := false
	for _, seg := range strings.Split(line, ";") {
		seg = strings.TrimLeft(seg, " \t")
		if seg == "" {
			continue
		}
		if len(seg) >= 2 && seg[1] == '=' {
			key, val := seg[0], seg[2:]
			if key == 'L' {
				if n := cAtoi(val); !looping && n > 0 {
					p.passes = n
					looping = true
				}
				continue
			}
			p.ops = append(p.ops, toneOp{set: key, value: val})
			continue
		}
		for i := 0; i < len(seg); {
			c := seg[i]
			if c == ' ' || c == '\t' {
				i++
				continue
			}
			if i+1 < len(seg) && seg[i+1] == '(' {
				end := strings.IndexByte(seg[i+2:], ')')
				if end < 0 {
					return p, fmt.Errorf("tone_stream: %q: missing ')'", seg[i:])
				}
				op, err := parseToneGroup(c, seg[i+2:i+2+end])
				if err != nil {
					return p, err
				}
				if op.freqs != nil {
					p.ops = append(p.ops, op)
				}
				i += 2 + end + 1
				continue
			}
			if f, ok := dtmfKeyFreqs(c); ok {
				p.ops = append(p.ops, toneOp{freqs: f, dur: -1, wait: -1})
			}
			// other characters name no tone: ignored, as in libteletone
			i++
		}
	}
	return p, nil
}

// parseToneGroup parses the inside of key(on,off[,freqs]).
func parseToneGroup(key byte, inner string) (toneOp, error) {
	fields := strings.Split(inner, ",")
	if len(fields) > 2+maxToneFreqs {
		return toneOp{}, fmt.Errorf("tone_stream: %c(%s): more than %d frequencies", key, inner, maxToneFreqs)
	}
	op := toneOp{dur: -1, wait: -1}
	if len(fields) >= 1 {
		op.dur = toneMS(fields[0])
	}
	if len(fields) >= 2 {
		op.wait = toneMS(fields[1])
	}
	var freqs []float64
	for _, f := range fields[min(2, len(fields)):] {
		for _, part := range strings.Split(f, "+") {
			freqs = append(freqs, cAtof(part))
		}
	}
	if len(freqs) > maxToneFreqs {
		return toneOp{}, fmt.Errorf("tone_stream: %c(%s): more than %d frequencies", key, inner, maxToneFreqs)
	}
	switch {
	case key == toneCustom && len(freqs) > 0:
		// a tone of its own
	case key != toneCustom && len(fields) == 2:
		f, ok := dtmfKeyFreqs(key)
		if !ok {
			return toneOp{}, nil // a key with no tone: ignored
		}
		freqs = f
	default:
		return toneOp{}, fmt.Errorf("tone_stream: %c(%s): syntax error (expected %%(on,off,freq...) or key(on,off))", key, inner)
	}
	// libteletone stops at the first frequency that is not positive; a
	// tone with none is skipped.
	for i, f := range freqs {
		if !(f > 0) || math.IsInf(f, 0) {
			freqs = freqs[:i]
			break
		}
	}
	if len(freqs) == 0 {
		return toneOp{}, nil
	}
	op.freqs = freqs
	return op, nil
}

// toneMS parses a duration in ms; negative means "the default" (-1).
func toneMS(s string) int {
	n := cAtoi(s)
	if n < 0 {
		return -1
	}
	return min(n, maxToneMS)
}

// cAtoi parses like C's atoi: leading blanks, a sign, digits, anything
// after ignored; 0 when there are no digits. Values saturate.
func cAtoi(s string) int {
	s = strings.TrimLeft(s, " \t\n\r")
	end := 0
	if end < len(s) && (s[end] == '-' || s[end] == '+') {
		end++
	}
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	n, err := strconv.ParseInt(s[:end], 10, 32)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return int(n) // saturated
		}
		return 0
	}
	return int(n)
}

// cAtof parses like C's atof (decimal forms only).
func cAtof(s string) float64 {
	s = strings.TrimSpace(s)
	end := 0
	if end < len(s) && (s[end] == '-' || s[end] == '+') {
		end++
	}
	digits := false
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
		digits = true
	}
	if end < len(s) && s[end] == '.' {
		end++
		for end < len(s) && s[end] >= '0' && s[end] <= '9' {
			end++
			digits = true
		}
	}
	if !digits {
		return 0
	}
	f, err := strconv.ParseFloat(s[:end], 64)
	if err != nil {
		return 0
	}
	return f
}

// sineTable holds one period of a sine, for the oscillators.
const sineBits = 12

var sineTable = sync.OnceValue(func() *[1 << sineBits]float32 {
	var t [1 << sineBits]float32
	for i := range t {
		t[i] = float32(math.Sin(2 * math.Pi * float64(i) / float64(len(t))))
	}
	return &t
})

// toneSource renders a ToneSpec lazily at the call's rate.
type toneSource struct {
	spec  *ToneSpec
	rate  int
	sine  *[1 << sineBits]float32
	plays int // remaining plays of the whole spec; <0 forever

	// libteletone session state
	duration, wait int // samples
	volume         float64
	decayStep      int
	decayDir       int
	decayFactor    float64
	loops          int // l=: repetitions of the next tone

	// position
	prog, pass, op int
	repeat         int // repetitions of the current tone left (<0 forever)
	runSamples     int64
	passStart      int64 // runSamples when the current pass began

	// the tone being rendered
	active    bool
	toneLeft  int
	waitLeft  int
	phase     [maxToneFreqs]uint32
	step      [maxToneFreqs]uint32
	nf        int
	vol       float64
	scale     float32
	decayTick int
	cur       *toneOp

	// cyc is one period of the tone being rendered, when it has one
	// short enough (see toneCycle); cycPos is the position in it.
	cyc    *toneCycle
	cycPos int
	silent [2][]byte // a frame of encoded silence per law (µ, A), made on demand
}

// maxToneCycle bounds the period, in samples, of a tone rendered from a
// precomputed cycle (a quarter of a second at 8 kHz); tones with a longer
// period (or none: non-integer frequencies, a volume ramp) are rendered
// sample by sample.
const maxToneCycle = 2000

// maxEncodedFrame is the longest frame readEncoded serves from a cycle
// (40 ms at 8 kHz): the cycle's tables run this far past one period, so
// every frame is one contiguous window.
const maxEncodedFrame = 320

// toneCycle is one period of a periodic tone: the samples of a tone whose
// frequencies are all whole numbers repeat every rate/gcd(rate, f1, f2,
// ...) samples. The tables are never modified once built, so frames may
// point into them after the source has moved on.
type toneCycle struct {
	op    *toneOp
	scale float32
	n     int       // period in samples
	pcm   []int16   // n + maxEncodedFrame samples: the period, then its start again
	enc   [2][]byte // pcm encoded, µ-law and A-law, built on demand
}

// newToneCycle renders one period of op's frequencies at rate and
// scale, or returns nil when the tone has no short period.
func newToneCycle(op *toneOp, rate int, scale float32) *toneCycle {
	g := rate
	for _, f := range op.freqs {
		if f != math.Trunc(f) || f >= float64(rate) {
			return nil
		}
		g = int(gcd(int64(g), int64(f)))
	}
	n := rate / g
	if n > maxToneCycle {
		return nil
	}
	c := &toneCycle{op: op, scale: scale, n: n, pcm: make([]int16, n+maxEncodedFrame)}
	gain := float64(scale) / float64(len(op.freqs))
	for k := range c.pcm {
		var sum float64
		for _, f := range op.freqs {
			sum += math.Sin(2 * math.Pi * f * float64(k%n) / float64(rate))
		}
		c.pcm[k] = int16(sum * gain)
	}
	return c
}

// encoded returns the cycle's samples encoded with the G.711 law (alaw
// or µ-law), building the table on first use.
func (c *toneCycle) encoded(alaw bool) []byte {
	i := 0
	codec := PCMU
	if alaw {
		i, codec = 1, PCMA
	}
	if c.enc[i] == nil {
		b := make([]byte, len(c.pcm))
		codec.Encode(b, c.pcm)
		c.enc[i] = b
	}
	return c.enc[i]
}

// NewToneSource renders spec at rate (samples per second). plays is the
// number of times the whole specification plays ({loops=N}); 0 means
// once, a negative number forever.
func NewToneSource(spec *ToneSpec, rate int, plays int) Source {
	if plays == 0 {
		plays = 1
	}
	t := &toneSource{spec: spec, rate: max(rate, 1), sine: sineTable(), plays: plays}
	t.reset()
	return t
}

func openTone(arg string, vars map[string]string, o SourceOptions) (Source, error) {
	plays := 0
	if i := strings.Index(strings.ToLower(arg), ";loops="); i >= 0 {
		plays = cAtoi(arg[i+len(";loops="):])
		arg = arg[:i]
	}
	if v, ok := vars["loops"]; ok {
		plays = cAtoi(v)
	}
	specText := arg
	if strings.HasPrefix(strings.ToLower(arg), "path=") {
		name := arg[len("path="):]
		f, err := o.Open(name)
		if err != nil {
			return nil, fmt.Errorf("tone_stream: %w", err)
		}
		b, err := io.ReadAll(io.LimitReader(bufio.NewReader(f), maxToneSpecLen+1))
		_ = f.Close()
		if err != nil {
			return nil, fmt.Errorf("tone_stream: read %s: %w", name, err)
		}
		specText = string(b)
	}
	spec, err := ParseToneSpec(specText)
	if err != nil {
		return nil, err
	}
	return NewToneSource(spec, o.Rate, plays), nil
}

// reset returns to the start of the specification with a fresh session,
// so every play renders the same audio.
func (t *toneSource) reset() {
	t.duration, t.wait = toneDefaultDur, toneDefaultWait
	t.volume = toneDefaultVolume
	t.decayStep, t.decayDir, t.decayFactor = 0, 0, 1
	t.loops = 0
	t.prog, t.pass, t.op = 0, 0, 0
	t.repeat = 0
	t.active = false
	t.runSamples = 0
	t.passStart = 0
}

func (t *toneSource) ms(n int) int { return int(int64(n) * int64(t.rate) / 1000) }

// apply runs a setting.
func (t *toneSource) apply(op *toneOp) {
	switch op.set {
	case 'd':
		t.duration = t.ms(cAtoi(op.value))
	case 'w':
		t.wait = t.ms(cAtoi(op.value))
	case 'v':
		if v := cAtof(op.value); v >= toneVolumeMin && v <= toneVolumeMax {
			t.volume = v
		}
	case '>':
		t.decayStep, t.decayDir = t.ms(cAtoi(op.value)), -1
	case '<':
		t.decayStep, t.decayDir = t.ms(cAtoi(op.value)), 1
	case '+':
		t.decayFactor = cAtof(op.value)
	case 'l':
		t.loops = cAtoi(op.value)
	}
}

func toneScale(vol float64) float32 {
	return float32(math.Pow(10, (vol-dbm0MaxPower)/20) * 32767 * math.Sqrt2)
}

// begin starts rendering one repetition of a tone.
func (t *toneSource) begin(op *toneOp) {
	t.cur = op
	t.active = true
	t.toneLeft = t.duration
	if op.dur >= 0 {
		t.toneLeft = t.ms(op.dur)
	}
	t.waitLeft = t.wait
	if op.wait >= 0 {
		t.waitLeft = t.ms(op.wait)
	}
	t.toneLeft, t.waitLeft = max(t.toneLeft, 0), max(t.waitLeft, 0)
	if t.toneLeft+t.waitLeft == 0 {
		t.repeat = 0 // repeating nothing, even forever, is nothing
	}
	t.nf = len(op.freqs)
	for i, f := range op.freqs {
		t.phase[i] = 0
		t.step[i] = uint32(uint64(f/float64(t.rate)*(1<<32)) & 0xffffffff)
	}
	t.vol = t.volume
	t.scale = toneScale(t.vol)
	t.decayTick = 0
	t.cycPos = 0
	switch {
	case t.decayDir != 0:
		t.cyc = nil // the level changes as it plays: no fixed period
	case t.cyc != nil && t.cyc.op == op && t.cyc.scale == t.scale:
		// the same tone again (l=, L=, loops): the same cycle
	default:
		t.cyc = newToneCycle(op, t.rate, t.scale)
	}
}

// next positions on the next tone to render; false at the end of a play.
func (t *toneSource) next() bool {
	for {
		if t.repeat != 0 && t.cur != nil {
			if t.repeat > 0 {
				t.repeat--
			}
			t.begin(t.cur)
			return true
		}
		if t.prog >= len(t.spec.progs) {
			return false
		}
		p := &t.spec.progs[t.prog]
		if t.op >= len(p.ops) {
			t.op = 0
			t.pass++
			// A pass that made no sound would make none again: stop
			// rather than spin through L= passes of nothing.
			if t.pass >= p.passes || t.runSamples == t.passStart {
				t.pass = 0
				t.prog++
			}
			t.passStart = t.runSamples
			continue
		}
		op := &p.ops[t.op]
		t.op++
		if op.set != 0 {
			t.apply(op)
			continue
		}
		// libteletone plays a tone once, or l= times (then l= is used up);
		// a negative l= never ends.
		switch {
		case t.loops < 0:
			t.repeat = -1
		case t.loops > 1:
			t.repeat = t.loops - 1
		default:
			t.repeat = 0
		}
		if t.loops > 0 {
			t.loops = 0
		}
		t.begin(op)
		return true
	}
}

func (t *toneSource) Read(pcm []int16) (int, error) {
	n := 0
	for n < len(pcm) {
		if !t.active {
			if t.next() {
				continue
			}
			// end of one play of the specification
			if t.runSamples == 0 || t.plays == 1 {
				t.plays = 1
				break
			}
			if t.plays > 0 {
				t.plays--
			}
			t.reset()
			continue
		}
		m := t.render(pcm[n:])
		n += m
		t.runSamples += int64(m)
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// readEncoded is Read for a caller that sends G.711 (alaw or µ-law):
// when the whole of pcm comes from one period of a periodic tone, or from
// its silence, it also returns those samples already encoded — a window
// of a table that is never modified — so they need not be encoded per
// packet. Otherwise enc is nil.
func (t *toneSource) readEncoded(pcm []int16, alaw bool) (n int, enc []byte, err error) {
	if !t.active || len(pcm) > maxEncodedFrame {
		n, err = t.Read(pcm)
		return n, nil, err
	}
	switch {
	case t.cyc != nil && t.toneLeft >= len(pcm):
		pos := t.cycPos
		enc = t.cyc.encoded(alaw)[pos : pos+len(pcm)]
	case t.toneLeft == 0 && t.waitLeft >= len(pcm):
		law := 0
		codec := PCMU
		if alaw {
			law, codec = 1, PCMA
		}
		if t.silent[law] == nil {
			t.silent[law] = make([]byte, maxEncodedFrame)
			codec.Encode(t.silent[law], make([]int16, maxEncodedFrame))
		}
		enc = t.silent[law][:len(pcm)]
	}
	n, err = t.Read(pcm)
	if n != len(pcm) {
		enc = nil
	}
	return n, enc, err
}

// render writes the current tone (then its wait) into out.
func (t *toneSource) render(out []int16) int {
	n := 0
	if c := t.cyc; c != nil {
		for n < len(out) && t.toneLeft > 0 {
			m := min(len(out)-n, t.toneLeft, c.n-t.cycPos)
			copy(out[n:n+m], c.pcm[t.cycPos:t.cycPos+m])
			n += m
			t.toneLeft -= m
			if t.cycPos += m; t.cycPos == c.n {
				t.cycPos = 0
			}
		}
	}
	sine := t.sine
	const shift = 32 - sineBits
	// The level never exceeds 0 dBm0 (about 0.7 of full scale), so the
	// mix cannot overflow 16 bits.
	gain := t.scale / float32(t.nf)
	for n < len(out) && t.toneLeft > 0 {
		if t.decayDir != 0 {
			if t.decayTick++; t.decayTick >= t.decayStep {
				if v := t.vol + float64(t.decayDir)*t.decayFactor; v >= toneVolumeMin && v <= toneVolumeMax {
					t.vol = v
					t.scale = toneScale(v)
					gain = t.scale / float32(t.nf)
					t.decayTick = 0
				}
			}
		}
		var sum float32
		for i := range t.nf {
			sum += sine[t.phase[i]>>shift]
			t.phase[i] += t.step[i]
		}
		out[n] = int16(sum * gain)
		n++
		t.toneLeft--
	}
	for n < len(out) && t.toneLeft == 0 && t.waitLeft > 0 {
		w := min(t.waitLeft, len(out)-n)
		clear(out[n : n+w])
		n += w
		t.waitLeft -= w
	}
	if t.toneLeft == 0 && t.waitLeft == 0 {
		t.active = false
	}
	return n
}

func (t *toneSource) Close() error { return nil }
