package dsp

import (
	"math"
	"math/rand"
	"testing"
)

// keyTone is the tone pair of key at 8 kHz: n samples, each tone at amp
// (full scale 1), the column attenuated by twistDB.
func keyTone(key rune, n int, amp, twistDB float64) []int16 {
	var row, col float64
	for r := range 4 {
		for c := range 4 {
			if dtmfKeys[r][c] == key {
				row, col = dtmfRows[r], dtmfCols[c]
			}
		}
	}
	colAmp := amp * math.Pow(10, -twistDB/20)
	return toneMix(n, [2]float64{row, amp}, [2]float64{col, colAmp})
}

// toneMix sums sines given as {frequency, amplitude (full scale 1)}.
func toneMix(n int, parts ...[2]float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		var v float64
		for _, p := range parts {
			v += p[1] * math.Sin(2*math.Pi*p[0]*float64(i)/8000)
		}
		out[i] = int16(v * 32767)
	}
	return out
}

func silence(n int) []int16 { return make([]int16, n) }

// sequence builds digits of onMS separated by offMS of silence.
func sequence(digits string, onMS, offMS int, amp float64) []int16 {
	var pcm []int16
	for _, d := range digits {
		pcm = append(pcm, keyTone(d, onMS*8, amp, 0)...)
		pcm = append(pcm, silence(offMS*8)...)
	}
	return pcm
}

func detect(pcm []int16, chunk int) string {
	d := NewDTMFDetector(8000)
	var out []rune
	for len(pcm) > 0 {
		n := min(chunk, len(pcm))
		out = append(out, d.Write(pcm[:n])...)
		pcm = pcm[n:]
	}
	return string(out)
}

func TestDTMFDetector(t *testing.T) {
	noise := make([]int16, 16000)
	rng := rand.New(rand.NewSource(1))
	for i := range noise {
		noise[i] = int16(rng.NormFloat64() * 3000)
	}
	speechLike := toneMix(16000, [2]float64{220, 0.3}, [2]float64{440, 0.2}, [2]float64{660, 0.15}, [2]float64{880, 0.1}, [2]float64{1100, 0.08})
	noisy := sequence("147", 80, 60, 0.2)
	for i := range noisy {
		noisy[i] += int16(rng.NormFloat64() * 800)
	}
	tests := []struct {
		name string
		pcm  []int16
		want string
	}{
		{"digits in noise", noisy, "147"},
		{"all keys", sequence("123A456B789C*0#D", 70, 50, 0.3), "123A456B789C*0#D"},
		{"repeated digits", sequence("1111", 60, 50, 0.3), "1111"},
		{"long digit counts once", sequence("5", 2000, 50, 0.3), "5"},
		{"quiet digits", sequence("90", 80, 60, 0.01), "90"},
		{"normal twist 6 dB", append(keyTone('3', 800, 0.3, 6), silence(400)...), "3"},
		{"too short (20 ms)", sequence("7", 20, 100, 0.3), ""},
		{"one tone alone", toneMix(4000, [2]float64{697, 0.4}), ""},
		{"440 Hz dial tone", toneMix(8000, [2]float64{350, 0.3}, [2]float64{440, 0.3}), ""},
		{"white noise", noise, ""},
		{"harmonic speech-like sound", speechLike, ""},
		{"twist 12 dB", append(keyTone('3', 800, 0.3, 12), silence(400)...), ""},
		{"silence", silence(8000), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, chunk := range []int{160, 37, 4000} {
				if got := detect(tt.pcm, chunk); got != tt.want {
					t.Errorf("chunks of %d: detected %q, want %q", chunk, got, tt.want)
				}
			}
		})
	}
}

func FuzzDTMFDetector(f *testing.F) {
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		pcm := make([]int16, len(b)/2)
		for i := range pcm {
			pcm[i] = int16(uint16(b[2*i]) | uint16(b[2*i+1])<<8)
		}
		d := NewDTMFDetector(8000)
		for _, r := range d.Write(pcm) {
			if r == 0 {
				t.Fatal("reported digit 0 rune")
			}
		}
	})
}

func BenchmarkDTMFDetector(b *testing.B) {
	pcm := sequence("1234567890", 100, 100, 0.3)
	b.SetBytes(int64(len(pcm) * 2))
	for b.Loop() {
		d := NewDTMFDetector(8000)
		d.Write(pcm)
	}
}
