package media

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"
)

// TestToneReadEncoded: readEncoded gives the same samples as Read, and
// whenever it also returns the frame encoded, that is exactly the
// encoding of those samples. Periodic tones and their silences come
// encoded; tones without a short period, ramps and frames across a
// boundary do not.
func TestToneReadEncoded(t *testing.T) {
	tests := []struct {
		spec     string
		wantEnc  bool // at least one frame comes encoded
		wantNone bool // no frame comes encoded
	}{
		{spec: "%(1000,500,440)", wantEnc: true},
		{spec: "%(300,100,350+440);L=3", wantEnc: true},
		{spec: "%(200,0,1004)", wantEnc: true},
		{spec: "%(170,30,697,1209)", wantEnc: true},    // period 8000 > maxToneCycle: only the silence
		{spec: "%(200,0,440.5)", wantNone: true},       // no whole-number period
		{spec: ">=5;+=1;%(200,0,440)", wantNone: true}, // a ramp
		{spec: "l=3;%(50,10,1000);%(30,0,480)", wantEnc: true},
		{spec: "v=-20;%(400,0,2000)", wantEnc: true},
	}
	for _, tt := range tests {
		for _, alaw := range []bool{false, true} {
			codec := PCMU
			if alaw {
				codec = PCMA
			}
			t.Run(tt.spec+"/"+codec.Name, func(t *testing.T) {
				spec, err := ParseToneSpec(tt.spec)
				if err != nil {
					t.Fatal(err)
				}
				plain := readAll(t, NewToneSource(spec, 8000, 1), 1<<20)
				src := NewToneSource(spec, 8000, 1).(*toneSource)
				var got []int16
				encoded, frames := 0, 0
				buf := make([]int16, 160)
				out := make([]byte, 160)
				for {
					n, enc, err := src.readEncoded(buf, alaw)
					got = append(got, buf[:n]...)
					if enc != nil {
						encoded++
						if n != len(buf) {
							t.Fatalf("frame %d: encoded a partial frame (%d samples)", frames, n)
						}
						codec.Encode(out, buf)
						if !bytes.Equal(enc, out) {
							t.Fatalf("frame %d: encoded frame differs from the encoding of its samples", frames)
						}
					}
					frames++
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
				}
				if !slices.Equal(got, plain) {
					t.Fatalf("readEncoded gave %d samples differing from Read's %d", len(got), len(plain))
				}
				if tt.wantEnc && encoded == 0 {
					t.Errorf("no frame of %d came encoded", frames)
				}
				if tt.wantNone && encoded != 0 {
					t.Errorf("%d frames of %d came encoded, want none", encoded, frames)
				}
			})
		}
	}
}

// TestToneCycleMatchesOscillator: a tone rendered from its cycle has the
// level and frequency of the oscillator's (the tables differ by rounding
// only).
func TestToneCycleMatchesOscillator(t *testing.T) {
	for _, freqs := range [][]float64{{440}, {350, 440}, {1004}} {
		op := &toneOp{freqs: freqs, dur: -1, wait: -1}
		scale := toneScale(toneDefaultVolume)
		c := newToneCycle(op, 8000, scale)
		if c == nil {
			t.Fatalf("%v: no cycle", freqs)
		}
		osc := &toneSource{spec: &ToneSpec{}, rate: 8000, sine: sineTable()}
		osc.reset()
		osc.duration = 1 << 20
		osc.begin(op)
		osc.cyc = nil // force the oscillator
		ref := make([]int16, 4*c.n)
		osc.render(ref)
		for k := range ref {
			d := int(ref[k]) - int(c.pcm[k%c.n])
			if d < -40 || d > 40 {
				t.Fatalf("%v: sample %d: oscillator %d, cycle %d", freqs, k, ref[k], c.pcm[k%c.n])
			}
		}
	}
}
