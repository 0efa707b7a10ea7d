package media

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
)

// silenceSource is silence_stream://: zeros, or comfort noise whose
// level falls as the divisor grows.
type silenceSource struct {
	left    int64 // samples left; <0 forever
	divisor int   // 0: digital silence
	rng     uint32
}

// openSilence parses silence_stream://<ms>[,<divisor>]. As in FreeSWITCH
// a duration of 0 (or one that is not a number) is an error, and a
// negative one lasts forever.
func openSilence(arg string, rate int) (Source, error) {
	msText, noiseText, hasNoise := strings.Cut(arg, ",")
	ms := cAtoi(msText)
	if ms == 0 {
		return nil, fmt.Errorf("silence_stream://%s: expected <ms>[,<noise>]", arg)
	}
	s := &silenceSource{left: -1, rng: rand.Uint32() | 1}
	if ms > 0 {
		s.left = int64(ms) * int64(rate) / 1000
	}
	if hasNoise {
		if d := cAtoi(noiseText); d > 0 {
			s.divisor = d
		}
	}
	return s, nil
}

func (s *silenceSource) Read(pcm []int16) (int, error) {
	n := len(pcm)
	if s.left >= 0 {
		if s.left == 0 {
			return 0, io.EOF
		}
		n = int(min(int64(n), s.left))
		s.left -= int64(n)
	}
	if s.divisor == 0 {
		clear(pcm[:n])
		return n, nil
	}
	for i := range pcm[:n] {
		// As FreeSWITCH: a sum of six pseudo-random values, wrapped to
		// 16 bits, divided by the divisor.
		var sum int16
		for range 6 {
			s.rng = s.rng*1664525 + 1013904223
			sum += int16(s.rng >> 16)
		}
		pcm[i] = int16(int32(sum) / int32(s.divisor))
	}
	return n, nil
}

func (s *silenceSource) Close() error { return nil }
