package media

import "testing"

// FuzzRFC4733 feeds arbitrary telephone-event payloads and timestamps to
// the receiver: it must never panic, report only DTMF characters (and
// F, flash), and
// report an event (one timestamp) at most once.
func FuzzRFC4733(f *testing.F) {
	f.Add([]byte{0, 0x8a, 0x03, 0x20}, uint32(160))
	f.Add([]byte{11, 0x0a, 0x00, 0xa0, 1, 2}, uint32(0))
	f.Add([]byte{255, 0xff, 0xff, 0xff}, uint32(1<<31))
	f.Fuzz(func(t *testing.T, payload []byte, ts uint32) {
		var r dtmfReceiver
		seen := map[uint32]int{}
		// The same packet three times (RFC 4733's repeated end), then
		// with the next timestamp.
		for i, stamp := range []uint32{ts, ts, ts, ts + 800} {
			d, ok := r.packet(stamp, payload, 8000)
			if !ok {
				continue
			}
			seen[stamp]++
			if seen[stamp] > 1 {
				t.Fatalf("packet %d: event at timestamp %d reported twice", i, stamp)
			}
			if !isDTMFChar(d.Digit) {
				t.Fatalf("reported %q", d.Digit)
			}
			if len(payload) >= 4 && d.Duration < 0 {
				t.Fatalf("negative duration %v", d.Duration)
			}
		}
	})
}

func isDTMFChar(r rune) bool {
	for _, c := range "0123456789*#ABCDF" { // F: event 16, flash
		if r == c {
			return true
		}
	}
	return false
}
