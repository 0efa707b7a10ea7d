package media

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zaf/g711"
)

// Codec is an audio codec as SDP names it: the encoding name, the RTP
// payload type and the clock rate. The package codes PCMU and PCMA
// (G.711, 8 kHz, one byte per sample).
type Codec struct {
	Name        string // encoding name as in a=rtpmap, e.g. "PCMU"
	PayloadType uint8  // RTP payload type
	ClockRate   int    // samples per second
}

// The codecs the package can code, with their static payload types
// (RFC 3551).
var (
	PCMU = Codec{Name: "PCMU", PayloadType: 0, ClockRate: 8000}
	PCMA = Codec{Name: "PCMA", PayloadType: 8, ClockRate: 8000}
)

// Ptime is the packetisation interval of every stream.
const Ptime = 20 * time.Millisecond

// CodecByName returns the supported codec with the given encoding name
// (case-insensitive), with its static payload type.
func CodecByName(name string) (Codec, bool) {
	switch strings.ToUpper(name) {
	case "PCMU":
		return PCMU, true
	case "PCMA":
		return PCMA, true
	}
	return Codec{}, false
}

// Supported reports whether the package can code c: PCMU or PCMA at
// 8000 Hz, under any payload type.
func (c Codec) Supported() bool {
	n := strings.ToUpper(c.Name)
	return (n == "PCMU" || n == "PCMA") && c.ClockRate == 8000 && c.PayloadType < 128
}

// FrameSamples is the number of samples in one packet (Ptime) of c.
func (c Codec) FrameSamples() int {
	return c.ClockRate * int(Ptime/time.Millisecond) / 1000
}

func (c Codec) isAlaw() bool { return strings.EqualFold(c.Name, "PCMA") }

// encodeTable maps every 16-bit sample to its G.711 code: one load per
// sample instead of a segment search, on the pacer's hot path.
type encodeTable [1 << 16]uint8

func newEncodeTable(enc func(int16) uint8) func() *encodeTable {
	return sync.OnceValue(func() *encodeTable {
		var t encodeTable
		for i := range t {
			t[i] = enc(int16(uint16(i)))
		}
		return &t
	})
}

var (
	ulawTable = newEncodeTable(g711.EncodeUlawFrame)
	alawTable = newEncodeTable(g711.EncodeAlawFrame)
)

// Encode codes pcm into dst (one byte per sample) and returns the number
// of bytes written: min(len(dst), len(pcm)).
func (c Codec) Encode(dst []byte, pcm []int16) int {
	n := min(len(dst), len(pcm))
	t := ulawTable()
	if c.isAlaw() {
		t = alawTable()
	}
	for i, v := range pcm[:n] {
		dst[i] = t[uint16(v)]
	}
	return n
}

// Decode decodes payload into dst and returns the number of samples
// written: min(len(dst), len(payload)).
func (c Codec) Decode(dst []int16, payload []byte) int {
	n := min(len(dst), len(payload))
	if c.isAlaw() {
		for i := range n {
			dst[i] = g711.DecodeAlawFrame(payload[i])
		}
	} else {
		for i := range n {
			dst[i] = g711.DecodeUlawFrame(payload[i])
		}
	}
	return n
}

// String returns "PCMU/8000".
func (c Codec) String() string {
	return c.Name + "/" + strconv.Itoa(c.ClockRate)
}
