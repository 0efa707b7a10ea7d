package sipclient

import (
	"bytes"
	"testing"
)

func TestDTMFEventRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		ev   DTMFEvent
		wire []byte
	}{
		{DTMFEvent{Event: 5, Volume: 10, Duration: 160}, []byte{5, 10, 0, 160}},
		{DTMFEvent{Event: 11, End: true, Volume: 10, Duration: 800}, []byte{11, 0x8a, 3, 32}},
		{DTMFEvent{Event: 15, End: true, Volume: 63, Duration: 65535}, []byte{15, 0xbf, 255, 255}},
	} {
		if got := tc.ev.Marshal(); !bytes.Equal(got, tc.wire) {
			t.Errorf("Marshal(%+v) = %v, want %v", tc.ev, got, tc.wire)
		}
		got, err := UnmarshalDTMF(tc.wire)
		if err != nil || got != tc.ev {
			t.Errorf("UnmarshalDTMF(%v) = %+v, %v; want %+v", tc.wire, got, err, tc.ev)
		}
	}
	if _, err := UnmarshalDTMF([]byte{1, 2, 3}); err == nil {
		t.Error("UnmarshalDTMF accepted 3 bytes")
	}
}

func TestDigitEvent(t *testing.T) {
	for i, d := range []byte("0123456789*#ABCD") {
		ev, err := DigitEvent(d)
		if err != nil || int(ev) != i {
			t.Errorf("DigitEvent(%q) = %d, %v; want %d", d, ev, err, i)
		}
		if got := (DTMFEvent{Event: ev}).Digit(); got != d {
			t.Errorf("Digit(%d) = %q, want %q", ev, got, d)
		}
	}
	if ev, err := DigitEvent('b'); err != nil || ev != 13 {
		t.Errorf("DigitEvent('b') = %d, %v; want 13", ev, err)
	}
	for _, d := range []byte("xE!") {
		if _, err := DigitEvent(d); err == nil {
			t.Errorf("DigitEvent(%q) accepted", d)
		}
	}
	if d := (DTMFEvent{Event: 16}).Digit(); d != 0 {
		t.Errorf("event 16 (flash) gives digit %q, want none", d)
	}
}

func TestDTMFReceiverDedupes(t *testing.T) {
	var r dtmfReceiver
	ev := func(e uint8, end bool, dur uint16) []byte {
		return DTMFEvent{Event: e, End: end, Volume: 10, Duration: dur}.Marshal()
	}
	// A '5' with updates and three end packets, a '5' again (new
	// timestamp), then '#'.
	feed := []struct {
		ts      uint32
		payload []byte
	}{
		{1000, ev(5, false, 160)}, {1000, ev(5, false, 320)}, {1000, ev(5, true, 480)}, {1000, ev(5, true, 480)}, {1000, ev(5, true, 480)},
		{2000, ev(5, false, 160)}, {2000, ev(5, true, 320)},
		{3000, ev(11, true, 160)}, {3000, ev(11, true, 160)},
		{3000, []byte{1}}, // truncated: ignored
	}
	for _, f := range feed {
		r.packet(f.ts, f.payload)
	}
	if got := string(r.digits); got != "55#" {
		t.Errorf("digits %q, want %q", got, "55#")
	}
}
