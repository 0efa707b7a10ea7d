package sipclient

import (
	"fmt"
	"strings"

	"github.com/zaf/g711"
)

// Codec names an audio codec as it appears in an SDP rtpmap line, e.g.
// "PCMU". Only PCMU and PCMA are decoded; other names can be offered (to
// test a codec mismatch) but their audio is ignored.
type Codec string

// Codecs with a static payload type, and the RFC 4733 event "codec".
const (
	PCMU           Codec = "PCMU"
	PCMA           Codec = "PCMA"
	G722           Codec = "G722"
	G729           Codec = "G729"
	TelephoneEvent Codec = "telephone-event"
)

// SampleRate is the audio clock rate of every codec this client decodes.
const SampleRate = 8000

// FrameSamples is the number of samples in one 20 ms packet at SampleRate.
const FrameSamples = SampleRate / 50

// staticPT returns the static RTP payload type of c (RFC 3551) and whether
// it has one.
func (c Codec) staticPT() (uint8, bool) {
	switch Codec(strings.ToUpper(string(c))) {
	case PCMU:
		return 0, true
	case PCMA:
		return 8, true
	case G722:
		return 9, true
	case G729:
		return 18, true
	}
	return 0, false
}

// decodable reports whether the client can turn c's payload into PCM.
func (c Codec) decodable() bool {
	switch Codec(strings.ToUpper(string(c))) {
	case PCMU, PCMA:
		return true
	}
	return false
}

// Encode converts 16-bit linear samples to c's G.711 payload.
func (c Codec) Encode(pcm []int16) ([]byte, error) {
	out := make([]byte, len(pcm))
	switch Codec(strings.ToUpper(string(c))) {
	case PCMU:
		for i, s := range pcm {
			out[i] = g711.EncodeUlawFrame(s)
		}
	case PCMA:
		for i, s := range pcm {
			out[i] = g711.EncodeAlawFrame(s)
		}
	default:
		return nil, fmt.Errorf("encode: codec %q is not G.711", c)
	}
	return out, nil
}

// Decode converts c's G.711 payload to 16-bit linear samples.
func (c Codec) Decode(payload []byte) ([]int16, error) {
	out := make([]int16, len(payload))
	switch Codec(strings.ToUpper(string(c))) {
	case PCMU:
		for i, b := range payload {
			out[i] = g711.DecodeUlawFrame(b)
		}
	case PCMA:
		for i, b := range payload {
			out[i] = g711.DecodeAlawFrame(b)
		}
	default:
		return nil, fmt.Errorf("decode: codec %q is not G.711", c)
	}
	return out, nil
}
