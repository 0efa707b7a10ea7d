package media

import (
	"testing"
)

// Reference G.711 after the ITU-T recommendation (the classic segment
// search), written independently of the codec under test.
var (
	refSegU = [8]int{0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF}
	refSegA = [8]int{0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF}
)

func refSeg(v int, ends [8]int) int {
	for i, e := range ends {
		if v <= e {
			return i
		}
	}
	return 8
}

func refUlawEncode(pcm int16) uint8 {
	v, mask := int(pcm)>>2, 0xFF
	if v < 0 {
		v, mask = -v, 0x7F
	}
	v = min(v, 8159) + 0x84>>2
	seg := refSeg(v, refSegU)
	if seg >= 8 {
		return uint8(0x7F ^ mask)
	}
	return uint8((seg<<4 | (v>>(seg+1))&0xF) ^ mask)
}

func refUlawDecode(u uint8) int16 {
	u = ^u
	t := (int(u&0x0F) << 3) + 0x84
	t <<= (u & 0x70) >> 4
	if u&0x80 != 0 {
		return int16(0x84 - t)
	}
	return int16(t - 0x84)
}

func refAlawEncode(pcm int16) uint8 {
	v, mask := int(pcm)>>3, 0xD5
	if v < 0 {
		v, mask = -v-1, 0x55
	}
	seg := refSeg(v, refSegA)
	if seg >= 8 {
		return uint8(0x7F ^ mask)
	}
	a := seg << 4
	if seg < 2 {
		a |= (v >> 1) & 0xF
	} else {
		a |= (v >> seg) & 0xF
	}
	return uint8(a ^ mask)
}

func refAlawDecode(a uint8) int16 {
	a ^= 0x55
	t := int(a&0x0F) << 4
	switch seg := int(a&0x70) >> 4; seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t += 0x108
		t <<= seg - 1
	}
	if a&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestG711GoldenSweep checks every code and every 16-bit sample against
// the reference: decoding exactly; A-law encoding exactly; µ-law encoding
// exactly or, where the codec breaks a tie differently, with a code that
// decodes at least as close to the input.
func TestG711GoldenSweep(t *testing.T) {
	var one [1]int16
	var b [1]byte
	for c := range 256 {
		b[0] = uint8(c)
		PCMU.Decode(one[:], b[:])
		if want := refUlawDecode(uint8(c)); one[0] != want {
			t.Errorf("PCMU decode %#02x = %d, want %d", c, one[0], want)
		}
		PCMA.Decode(one[:], b[:])
		if want := refAlawDecode(uint8(c)); one[0] != want {
			t.Errorf("PCMA decode %#02x = %d, want %d", c, one[0], want)
		}
	}
	ties := 0
	for x := -32768; x <= 32767; x++ {
		one[0] = int16(x)
		PCMA.Encode(b[:], one[:])
		if want := refAlawEncode(int16(x)); b[0] != want {
			t.Fatalf("PCMA encode %d = %#02x, want %#02x", x, b[0], want)
		}
		PCMU.Encode(b[:], one[:])
		if want := refUlawEncode(int16(x)); b[0] != want {
			got := abs(int(refUlawDecode(b[0])) - x)
			ref := abs(int(refUlawDecode(want)) - x)
			if got > ref {
				t.Fatalf("PCMU encode %d = %#02x (error %d), reference %#02x (error %d)", x, b[0], got, want, ref)
			}
			ties++
		}
	}
	if ties > 1024 {
		t.Errorf("PCMU differs from the reference on %d inputs", ties)
	}
}

// TestG711RoundTrip: every code survives decode+encode, except µ-law's
// negative zero, which encodes as positive zero.
func TestG711RoundTrip(t *testing.T) {
	for _, c := range []Codec{PCMU, PCMA} {
		payload := make([]byte, 256)
		for i := range payload {
			payload[i] = byte(i)
		}
		pcm := make([]int16, 256)
		if n := c.Decode(pcm, payload); n != 256 {
			t.Fatalf("%s: decoded %d", c, n)
		}
		again := make([]byte, 256)
		if n := c.Encode(again, pcm); n != 256 {
			t.Fatalf("%s: encoded %d", c, n)
		}
		for i := range payload {
			if again[i] != payload[i] && !(c.Name == "PCMU" && payload[i] == 0x7F && again[i] == 0xFF) {
				t.Errorf("%s: code %#02x -> %d -> %#02x", c, payload[i], pcm[i], again[i])
			}
		}
	}
}

func TestCodecLookup(t *testing.T) {
	tests := []struct {
		name string
		want Codec
		ok   bool
	}{
		{"PCMU", PCMU, true},
		{"pcma", PCMA, true},
		{"G722", Codec{}, false},
	}
	for _, tt := range tests {
		got, ok := CodecByName(tt.name)
		if got != tt.want || ok != tt.ok {
			t.Errorf("CodecByName(%q) = %v, %v", tt.name, got, ok)
		}
	}
	if !(Codec{Name: "PCMU", PayloadType: 0, ClockRate: 8000}).Supported() || (Codec{Name: "opus", ClockRate: 48000}).Supported() {
		t.Error("Supported is wrong")
	}
	if PCMU.FrameSamples() != 160 || PCMU.String() != "PCMU/8000" {
		t.Errorf("FrameSamples %d String %q", PCMU.FrameSamples(), PCMU.String())
	}
	// Short destinations bound the work.
	if n := PCMA.Encode(make([]byte, 3), make([]int16, 10)); n != 3 {
		t.Errorf("Encode into 3 bytes = %d", n)
	}
}

func BenchmarkEncodeFrame(b *testing.B) {
	pcm := sine(160, 8000, 440, 8000)
	out := make([]byte, 160)
	for _, c := range []Codec{PCMU, PCMA} {
		b.Run(c.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.Encode(out, pcm)
			}
		})
	}
}
