package sipclient

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// dtmfDigits lists the RFC 4733 events 0 to 15 in order.
const dtmfDigits = "0123456789*#ABCD"

// DTMFEvent is the 4-byte payload of an RFC 4733 telephone-event packet.
type DTMFEvent struct {
	Event    uint8  // 0-9, 10 '*', 11 '#', 12-15 'A'-'D'
	End      bool   // the E bit: the last packets of the event
	Volume   uint8  // 0 to 63, in -dBm0
	Duration uint16 // in timestamp units since the event began
}

// Marshal encodes e as an RFC 4733 payload.
func (e DTMFEvent) Marshal() []byte {
	b := make([]byte, 4)
	b[0] = e.Event
	b[1] = e.Volume & 0x3f
	if e.End {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], e.Duration)
	return b
}

// UnmarshalDTMF decodes an RFC 4733 payload.
func UnmarshalDTMF(b []byte) (DTMFEvent, error) {
	if len(b) < 4 {
		return DTMFEvent{}, fmt.Errorf("telephone-event payload is %d bytes, want 4", len(b))
	}
	return DTMFEvent{
		Event:    b[0],
		End:      b[1]&0x80 != 0,
		Volume:   b[1] & 0x3f,
		Duration: binary.BigEndian.Uint16(b[2:]),
	}, nil
}

// Digit returns the character of e's event, or 0 for events that are not
// DTMF digits.
func (e DTMFEvent) Digit() byte {
	if int(e.Event) < len(dtmfDigits) {
		return dtmfDigits[e.Event]
	}
	return 0
}

// DigitEvent returns the RFC 4733 event code of a DTMF character.
func DigitEvent(d byte) (uint8, error) {
	i := strings.IndexByte(dtmfDigits, upper(d))
	if i < 0 {
		return 0, fmt.Errorf("%q is not a DTMF digit", d)
	}
	return uint8(i), nil
}

func upper(b byte) byte {
	if b >= 'a' && b <= 'z' {
		return b - 'a' + 'A'
	}
	return b
}

// dtmfReceiver turns a stream of telephone-event packets into digits. An
// event is identified by its RTP timestamp, so retransmitted end packets
// and the updates of a long event count once.
type dtmfReceiver struct {
	lastTS  uint32
	started bool
	digits  []byte
}

// packet feeds one telephone-event packet and returns the digit it starts,
// or 0.
func (r *dtmfReceiver) packet(ts uint32, payload []byte) byte {
	ev, err := UnmarshalDTMF(payload)
	if err != nil {
		return 0
	}
	if r.started && ts == r.lastTS {
		return 0
	}
	r.started, r.lastTS = true, ts
	d := ev.Digit()
	if d != 0 {
		r.digits = append(r.digits, d)
	}
	return d
}
