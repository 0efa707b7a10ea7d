package media

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/switchboard-voip/switchboard/media/dsp"
)

// farEnd is a peer that sends audio into a stream as one RTP source.
type farEnd struct {
	*peer
	t     testing.TB
	to    netip.AddrPort // the stream it sends to
	codec Codec
	ssrc  uint32
	seq   uint16
	ts    uint32
	sent  [][]byte // payloads sent, in order
	// lenient ignores send errors (a goroutine sending to a stream that
	// closes).
	lenient bool
}

func newFarEnd(t testing.TB, codec Codec, ssrc uint32) *farEnd {
	return &farEnd{peer: newPeer(t), t: t, codec: codec, ssrc: ssrc, seq: uint16(ssrc), ts: ssrc * 7}
}

// tone sends n packets of freq, each 20 ms of audio, as fast as it can.
func (f *farEnd) tone(freq float64, n int) {
	f.t.Helper()
	pcm := sine(n*160, 8000, freq, 8000)
	for i := range n {
		payload := make([]byte, 160)
		f.codec.Encode(payload, pcm[i*160:(i+1)*160])
		f.packet(f.codec.PayloadType, payload, false)
		f.ts += 160
	}
}

// packet sends one packet with the far end's next sequence number and its
// current timestamp.
func (f *farEnd) packet(pt uint8, payload []byte, marker bool) {
	f.t.Helper()
	f.seq++
	if pt == f.codec.PayloadType {
		f.sent = append(f.sent, payload)
	}
	b := rtpBytes(f.t, pt, f.seq, f.ts, f.ssrc, marker, payload)
	if _, err := f.conn.WriteToUDPAddrPort(b, f.to); err != nil && !f.lenient {
		f.t.Fatal(err)
	}
}

// event sends a whole RFC 4733 event: packets every 20 ms of duration
// (without waiting), the end three times.
func (f *farEnd) event(pt uint8, code uint8, packets int) {
	f.t.Helper()
	for i := 1; i <= packets; i++ {
		f.packet(pt, dtmfPayload(code, false, uint16(160*i)), i == 1)
	}
	for range 3 {
		f.packet(pt, dtmfPayload(code, true, uint16(160*packets)), false)
	}
	f.ts += uint32(160 * packets)
}

// leg is a stream with its far end.
type leg struct {
	s   *Stream
	far *farEnd
}

func newLeg(t testing.TB, e *Engine, codec Codec, dtmfPT uint8, ssrc uint32) leg {
	t.Helper()
	s := openStream(t, e)
	far := newFarEnd(t, codec, ssrc)
	far.to = s.LocalAddr()
	if err := s.SetRemote(RemoteParams{Addr: far.addr(), Codec: codec, DTMFPayloadType: dtmfPT}); err != nil {
		t.Fatal(err)
	}
	s.Start()
	return leg{s, far}
}

func inBridge(s *Stream) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.br != nil
}

// startBridge runs Bridge on its own goroutine, returns once both streams
// are in it, and gives a function that ends it and returns its result.
func startBridge(t testing.TB, a, b *Stream, o BridgeOptions) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var err error
	go func() { err = Bridge(ctx, a, b, o); close(done) }()
	result := func() error { cancel(); <-done; return err }
	t.Cleanup(func() { _ = result() })
	deadline := time.Now().Add(10 * time.Second)
	for !inBridge(a) || !inBridge(b) {
		select {
		case <-done:
			t.Fatalf("Bridge returned at once: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the streams never joined the bridge")
		}
		time.Sleep(time.Millisecond)
	}
	return result
}

// audio keeps the packets with payload type pt.
func audio(pkts []rtp.Packet, pt uint8) []rtp.Packet {
	var out []rtp.Packet
	for _, p := range pkts {
		if p.PayloadType == pt {
			out = append(out, p)
		}
	}
	return out
}

// checkContinuity checks that pkts read as one sender's stream: one SSRC,
// consecutive sequence numbers, timestamps that never go back, 160 apart
// within a run; the marker exactly on the packets listed in starts
// (where a run begins).
func checkContinuity(t *testing.T, pkts []rtp.Packet, ssrc uint32, starts ...int) {
	t.Helper()
	checkContinuityStarved(t, pkts, ssrc, false, starts...)
}

// checkContinuityStarved is checkContinuity for packets partly sent by a
// pacer that was starved (it skipped periods, or a producer ran late):
// then a packet may also follow a gap, with the marker.
func checkContinuityStarved(t *testing.T, pkts []rtp.Packet, ssrc uint32, starved bool, starts ...int) {
	t.Helper()
	isStart := map[int]bool{}
	for _, i := range starts {
		isStart[i] = true
	}
	for i, p := range pkts {
		if p.SSRC != ssrc {
			t.Errorf("packet %d: SSRC %x, want %x", i, p.SSRC, ssrc)
		}
		var d int32
		if i > 0 {
			d = int32(p.Timestamp - pkts[i-1].Timestamp)
		}
		gap := starved && i > 0 && !isStart[i] && p.Marker && d > 160
		if gap {
			t.Logf("packet %d follows a gap of %d samples: the pacer was starved", i, d-160)
		}
		if p.Marker != isStart[i] && !gap {
			t.Errorf("packet %d: marker %v, want %v", i, p.Marker, isStart[i])
		}
		if i == 0 {
			continue
		}
		prev := pkts[i-1]
		if p.SequenceNumber != prev.SequenceNumber+1 {
			t.Errorf("packet %d: seq %d after %d", i, p.SequenceNumber, prev.SequenceNumber)
		}
		switch {
		case gap:
		case isStart[i] && d < 160:
			t.Errorf("packet %d starts a run at ts %d, %d after the previous packet", i, p.Timestamp, d)
		case !isStart[i] && d != 160:
			t.Errorf("packet %d: ts %d after %d", i, p.Timestamp, prev.Timestamp)
		}
	}
}

// readTap reads n samples from a tap.
func readTap(t *testing.T, tap *Tap, n int) []int16 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out := make([]int16, 0, n)
	buf := make([]int16, 800)
	for len(out) < n {
		m, err := tap.Read(ctx, buf[:min(len(buf), n-len(out))])
		if err != nil {
			t.Fatalf("read tap: %v (%d of %d samples)", err, len(out), n)
		}
		out = append(out, buf[:m]...)
	}
	return out
}

func TestBridgeAudio(t *testing.T) {
	t.Parallel()
	pcmuDyn := Codec{Name: "pcmu", PayloadType: 0, ClockRate: 8000}
	tests := []struct {
		name   string
		ca, cb Codec
	}{
		{"PCMU to PCMU", PCMU, PCMU},
		{"PCMA to PCMA", PCMA, PCMA},
		{"PCMU to PCMA", PCMU, PCMA},
		{"PCMA to PCMU", PCMA, PCMU},
		{"lower-case name", pcmuDyn, PCMA},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEngine(t)
			a, b := newLeg(t, e, tc.ca, 0, 0x1111), newLeg(t, e, tc.cb, 0, 0x2222)
			heardA, sentA := a.s.Tap(5*time.Second), a.s.TapSent(5*time.Second)
			heardB, sentB := b.s.Tap(5*time.Second), b.s.TapSent(5*time.Second)
			defer heardA.Close()
			defer sentA.Close()
			defer heardB.Close()
			defer sentB.Close()
			stop := startBridge(t, a.s, b.s, BridgeOptions{})

			const n = 25
			a.far.tone(440, n)
			b.far.tone(1000, n)
			for _, dir := range []struct {
				name     string
				from, to leg
				freq     float64
			}{{"a to b", a, b, 440}, {"b to a", b, a, 1000}} {
				pkts := dir.to.far.waitPackets(t, n)
				if len(pkts) != n {
					t.Fatalf("%s: %d packets, want %d", dir.name, len(pkts), n)
				}
				out := audio(pkts, dir.to.s.Codec().PayloadType)
				if len(out) != n {
					t.Fatalf("%s: %d packets with payload type %d", dir.name, len(out), dir.to.s.Codec().PayloadType)
				}
				checkContinuity(t, out, dir.to.s.Stats().SSRC, 0)
				// One packet out per packet in, the payload passed through
				// or converted from one law to the other.
				from, to := dir.from.s.Codec(), dir.to.s.Codec()
				for i, p := range out {
					in := dir.from.far.sent[i]
					want := in
					if from.isAlaw() != to.isAlaw() {
						pcm := make([]int16, len(in))
						from.Decode(pcm, in)
						want = make([]byte, len(in))
						to.Encode(want, pcm)
					}
					if !bytes.Equal(p.Payload, want) {
						t.Fatalf("%s: packet %d payload differs from what was sent", dir.name, i)
					}
				}
				if f, share := dsp.Dominant(decodeAll(to, out), 8000, toneCandidates); f != dir.freq || share < 0.9 {
					t.Errorf("%s: heard %v Hz (share %.2f), want %v", dir.name, f, share, dir.freq)
				}
				st := dir.to.s.Stats().Packets
				if st.Relayed != n || st.Sent != n || st.RelayDropped != 0 || dir.from.s.Stats().Packets.AudioIn != n {
					t.Errorf("%s: stats %+v", dir.name, st)
				}
			}
			// The taps see the bridged audio in and out of each stream.
			for _, tp := range []struct {
				name string
				tap  *Tap
				freq float64
			}{{"a heard", heardA, 440}, {"a sent", sentA, 1000}, {"b heard", heardB, 1000}, {"b sent", sentB, 440}} {
				pcm := readTap(t, tp.tap, n*160)
				if f, share := dsp.Dominant(pcm, 8000, toneCandidates); f != tp.freq || share < 0.9 {
					t.Errorf("tap %s: %v Hz (share %.2f), want %v", tp.name, f, share, tp.freq)
				}
			}
			if err := stop(); err != nil {
				t.Errorf("Bridge returned %v after cancel", err)
			}
			if inBridge(a.s) || inBridge(b.s) {
				t.Error("a stream is still bridged after Bridge returned")
			}
			if es := e.Stats().Packets; es.Relayed != 2*n {
				t.Errorf("engine counts %d relayed packets", es.Relayed)
			}
		})
	}
}

func TestBridgeRefuses(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	far := netip.MustParseAddrPort("127.0.0.1:9")
	open := func() *Stream {
		s := openStream(t, e)
		if err := s.SetRemote(RemoteParams{Addr: far, Codec: PCMU}); err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b, c := open(), open(), open()
	closed := open()
	closed.Close()
	stop := startBridge(t, a, b, BridgeOptions{})
	defer stop()
	ctx := context.Background()
	tests := []struct {
		name string
		a, b *Stream
		want error // nil: any error
	}{
		{"the same stream twice", c, c, nil},
		{"a nil stream", c, nil, nil},
		{"first already bridged", a, c, ErrBridged},
		{"second already bridged", c, b, ErrBridged},
		{"closed", c, closed, ErrClosed},
	}
	for _, tc := range tests {
		err := Bridge(ctx, tc.a, tc.b, BridgeOptions{})
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: Bridge = %v, want %v", tc.name, err, tc.want)
		}
	}
	// A refused bridge leaves the free stream free.
	if inBridge(c) {
		t.Error("c was left in a bridge")
	}
}

func TestCheckRelay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		from, to Codec
		ok       bool
	}{
		{PCMU, PCMU, true},
		{PCMU, PCMA, true},
		{PCMA, Codec{Name: "PCMU", PayloadType: 96, ClockRate: 8000}, true},
		{PCMU, Codec{Name: "G722", PayloadType: 9, ClockRate: 8000}, false},
		{Codec{Name: "L16", PayloadType: 11, ClockRate: 44100}, PCMU, false},
		{PCMU, Codec{Name: "PCMU", PayloadType: 0, ClockRate: 16000}, false},
	}
	for _, tc := range tests {
		if err := checkRelay(tc.from, tc.to); (err == nil) != tc.ok {
			t.Errorf("checkRelay(%s, %s) = %v, want ok=%v", tc.from, tc.to, err, tc.ok)
		}
	}
}

func TestTranscodeTables(t *testing.T) {
	t.Parallel()
	in := make([]byte, 256)
	for i := range in {
		in[i] = byte(i)
	}
	for _, tc := range []struct {
		from, to Codec
	}{{PCMU, PCMA}, {PCMA, PCMU}} {
		got := make([]byte, 256)
		if n := transcodeG711(got, in, tc.from.isAlaw()); n != 256 {
			t.Fatalf("%s->%s: %d bytes", tc.from, tc.to, n)
		}
		pcm := make([]int16, 256)
		tc.from.Decode(pcm, in)
		for i := range in {
			back := make([]int16, 1)
			tc.to.Decode(back, got[i:i+1])
			// Both laws are 8-bit logarithmic: a sample survives the
			// trip within the coarser step of the two.
			if d := int(back[0]) - int(pcm[i]); d < -1100 || d > 1100 || (pcm[i] > 64 && back[0] <= 0) || (pcm[i] < -64 && back[0] >= 0) {
				t.Errorf("%s->%s code %#x: %d became %d", tc.from, tc.to, i, pcm[i], back[0])
			}
		}
	}
}

func TestBridgeDTMF(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    BridgeOptions
		send    string // digits the far end of a sends, in order
		relayed string // digits b's far end must receive
		ownSend string // what the test sends itself on b (as a session forwarding digits)
	}{
		{"relayed", BridgeOptions{}, "5#", "5#", ""},
		{"filtered", BridgeOptions{RelayDTMF: func(_ *Stream, d Digit) bool { return d.Digit != '#' }}, "#1", "1", ""},
		{"not relayed; the session forwards", BridgeOptions{NoDTMFRelay: true}, "#1", "7", "7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEngine(t)
			a, b := newLeg(t, e, PCMU, 101, 0x3333), newLeg(t, e, PCMA, 96, 0x4444)
			var mu sync.Mutex
			var got []rune
			var durs []time.Duration
			a.s.OnDTMF(func(d Digit) {
				mu.Lock()
				got = append(got, d.Digit)
				durs = append(durs, d.Duration)
				mu.Unlock()
			})
			stop := startBridge(t, a.s, b.s, tc.opts)
			for _, r := range tc.send {
				code, _ := DTMFCode(r)
				a.far.event(101, code, 5) // 100 ms
			}
			eventually(t, "a's OnDTMF", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(got) == len(tc.send)
			})
			mu.Lock()
			if string(got) != tc.send || durs[0] != 100*time.Millisecond {
				t.Errorf("a's OnDTMF got %q %v, want %q of 100ms", string(got), durs, tc.send)
			}
			mu.Unlock()
			if tc.ownSend != "" {
				if err := b.s.SendDTMF(context.Background(), tc.ownSend, 100*time.Millisecond); err != nil {
					t.Fatal(err)
				}
			}
			// Each digit: 5 packets of 20 ms, the end three times.
			want := 7 * len(tc.relayed)
			pkts := b.far.waitPackets(t, want)
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			pkts = b.far.packets()
			if len(pkts) != want {
				t.Fatalf("b's far end got %d packets, want %d", len(pkts), want)
			}
			var heard []rune
			for i, p := range pkts {
				if p.PayloadType != 96 || len(p.Payload) != 4 {
					t.Fatalf("packet %d: payload type %d, %d bytes: not an event with b's payload type", i, p.PayloadType, len(p.Payload))
				}
				if p.Marker {
					heard = append(heard, rune(dtmfChars[p.Payload[0]]))
				}
				if end := p.Payload[1]&0x80 != 0; end {
					if dur := int(p.Payload[2])<<8 | int(p.Payload[3]); dur != 800 {
						t.Errorf("packet %d: event lasts %d samples, want 800", i, dur)
					}
				}
			}
			if string(heard) != tc.relayed {
				t.Errorf("b's far end heard %q, want %q", string(heard), tc.relayed)
			}
			if st := b.s.Stats().Packets; st.DTMFOut != uint64(len(tc.relayed)) || st.Relayed != 0 {
				t.Errorf("b's stats %+v", st)
			}
		})
	}
}

// TestBridgeSendDTMFWhileBridged: the events a session sends on a bridged
// stream go out whole; the peer's audio stops for them and resumes after.
func TestBridgeSendDTMFWhileBridged(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	a, b := newLeg(t, e, PCMU, 101, 0x5555), newLeg(t, e, PCMU, 101, 0x6666)
	stop := startBridge(t, a.s, b.s, BridgeOptions{})
	a.far.tone(440, 5)
	b.far.waitPackets(t, 5)

	// Audio keeps coming from a's far end while b sends a digit.
	done := make(chan error, 1)
	go func() { done <- b.s.SendDTMF(context.Background(), "9", 60*time.Millisecond) }()
	var err error
	for sending := true; sending; {
		select {
		case err = <-done:
			sending = false
		default:
			a.far.tone(440, 1)
			time.Sleep(5 * time.Millisecond)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	a.far.tone(440, 5)
	// Let everything sent arrive before ending the bridge.
	eventually(t, "a's packets", func() bool { return a.s.Stats().Packets.AudioIn == uint64(len(a.far.sent)) })
	eventually(t, "b's packets", func() bool { return uint64(len(b.far.packets())) == 5+b.s.Stats().Packets.Relayed })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	pkts := b.far.packets()

	// audio, then the event (3 packets, the end three times), then audio.
	first, last := -1, -1
	for i, p := range pkts {
		if p.PayloadType == 101 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 5 || last-first != 4 {
		t.Fatalf("event packets from %d to %d of %d", first, last, len(pkts))
	}
	for i := first; i <= last; i++ {
		if pkts[i].PayloadType != 101 {
			t.Fatalf("packet %d (payload type %d) inside the event", i, pkts[i].PayloadType)
		}
	}
	if len(pkts) < last+6 {
		t.Fatalf("audio did not resume after the event: %d packets", len(pkts))
	}
	ssrc := b.s.Stats().SSRC
	checkContinuity(t, pkts[:first], ssrc, 0)
	ev := pkts[first]
	if !ev.Marker || int32(ev.Timestamp-pkts[first-1].Timestamp) < 160 || pkts[first-1].SequenceNumber+1 != ev.SequenceNumber {
		t.Errorf("event starts with marker %v ts %d seq %d after ts %d seq %d", ev.Marker, ev.Timestamp, ev.SequenceNumber,
			pkts[first-1].Timestamp, pkts[first-1].SequenceNumber)
	}
	after := pkts[last+1:]
	checkContinuity(t, after, ssrc, 0)
	if after[0].SequenceNumber != pkts[last].SequenceNumber+1 || int32(after[0].Timestamp-ev.Timestamp) < 480 {
		t.Errorf("audio resumes at seq %d ts %d after the event's seq %d ts %d (480 samples long)",
			after[0].SequenceNumber, after[0].Timestamp, pkts[last].SequenceNumber, ev.Timestamp)
	}
	// Every packet a accepted was relayed or dropped for the event.
	as, bs := a.s.Stats().Packets, b.s.Stats().Packets
	if as.AudioIn != bs.Relayed+bs.RelayDropped || bs.Relayed != uint64(len(pkts)-5) || len(pkts)-5 < 10 {
		t.Errorf("a accepted %d, b relayed %d and dropped %d; b's far end got %d audio packets",
			as.AudioIn, bs.Relayed, bs.RelayDropped, len(pkts)-5)
	}
}

// TestBridgeThenPlay: the far end of b hears one RTP stream across a Play
// before the bridge, the bridge (early media, say) and a Play after it
// (hangup_after_bridge=false, then playback), and across a restart with
// another peer.
func TestBridgeThenPlay(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	a, b, c := newLeg(t, e, PCMA, 0, 0x7777), newLeg(t, e, PCMU, 0, 0x8888), newLeg(t, e, PCMA, 0, 0x9999)
	ctx := context.Background()
	play := func() { // 100 ms of 1000 Hz: 5 packets
		t.Helper()
		res, err := a.s.Play(ctx, openURI(t, "tone_stream://%(100,0,1000)"), nil)
		if err != nil || res.Samples != 800 {
			t.Fatalf("Play: %+v, %v", res, err)
		}
	}
	// a's far end hears: 5 packets played, 30 from b (in a burst, so
	// b's clock runs ahead of a's), 5 played, 10 from c, 5 played.
	play()
	stop := startBridge(t, a.s, b.s, BridgeOptions{})
	b.far.tone(480, 30)
	a.far.waitPackets(t, 35)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	play()
	// b is out of the bridge: what its far end sends goes nowhere.
	b.far.tone(480, 3)
	eventually(t, "b's packets", func() bool { return b.s.Stats().Packets.AudioIn == 33 })
	stop = startBridge(t, a.s, c.s, BridgeOptions{})
	c.far.tone(620, 10)
	a.far.waitPackets(t, 50)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	play()
	pkts := a.far.waitPackets(t, 55)
	if len(pkts) != 55 {
		t.Fatalf("a's far end got %d packets, want 55", len(pkts))
	}
	for i, p := range pkts {
		if p.PayloadType != PCMA.PayloadType {
			t.Fatalf("packet %d: payload type %d", i, p.PayloadType)
		}
	}
	// The Plays' packets follow the pacer, which a loaded machine may
	// starve.
	starved := e.Stats().PacerSkips > 0 || a.s.Stats().Packets.Underruns > 0
	checkContinuityStarved(t, pkts, a.s.Stats().SSRC, starved, 0, 5, 35, 40, 50)
	for _, seg := range []struct {
		from, to int
		freq     float64
	}{{5, 35, 480}, {40, 50, 620}} {
		if f, _ := dsp.Dominant(decodeAll(PCMA, pkts[seg.from:seg.to]), 8000, []float64{480, 620, 1000}); f != seg.freq {
			t.Errorf("packets %d-%d carry %v Hz, want %v", seg.from, seg.to, f, seg.freq)
		}
	}
	if st := a.s.Stats().Packets; st.Relayed != 40 || st.Sent != 55 {
		t.Errorf("a's stats %+v", st)
	}
}

// TestBridgeSenderChanges: what the far end does to its own numbering
// shows in the relayed stream only as a marker, never as a timestamp that
// goes back or leaps.
func TestBridgeSenderChanges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*farEnd)
		marker bool // the far end marks its first packet after the change
		lost   int  // packets the receiving stream drops (a new SSRC's probation)
		// the relayed timestamp step at the change: exactly want, or at
		// least 160 and less than 10 s when want is 0
		want int32
	}{
		{"talkspurt after silence", func(f *farEnd) { f.ts += 8000 }, true, 0, 8160},
		{"new SSRC", func(f *farEnd) { f.ssrc++ }, false, 1, 0},
		{"timestamps leap", func(f *farEnd) { f.ts += 1 << 30 }, false, 0, 0},
		{"timestamps go back", func(f *farEnd) { f.ts -= 5 * 8000 }, false, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEngine(t)
			a, b := newLeg(t, e, PCMU, 0, 0x1357), newLeg(t, e, PCMU, 0, 0x2468)
			stop := startBridge(t, a.s, b.s, BridgeOptions{})
			// A burst: the far end's clock runs ahead of the stream's.
			a.far.tone(440, 30)
			b.far.waitPackets(t, 30)
			tc.change(a.far)
			if tc.marker {
				a.far.packet(0, make([]byte, 160), true)
				a.far.ts += 160
				a.far.tone(440, 9)
			} else {
				a.far.tone(440, 10)
			}
			pkts := b.far.waitPackets(t, 40-tc.lost)
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			if len(pkts) != 40-tc.lost {
				t.Fatalf("%d packets, want %d", len(pkts), 40-tc.lost)
			}
			d := int32(pkts[30].Timestamp - pkts[29].Timestamp)
			if (tc.want != 0 && d != tc.want) || (tc.want == 0 && (d < 160 || d >= 80000)) {
				t.Errorf("timestamp step %d at the change, want %d", d, tc.want)
			}
			checkContinuity(t, pkts, b.s.Stats().SSRC, 0, 30)
		})
	}
}

// TestBridgeProducerFirst: a Play or Echo running on a stream when the
// bridge starts keeps the stream until it ends; the peer's audio follows.
func TestBridgeProducerFirst(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		run  func(context.Context, *Stream) error
		// freq is what the producer sends meanwhile (0: nothing; Echo
		// has nothing to echo).
		freq float64
	}{
		{"Play", func(ctx context.Context, s *Stream) error {
			_, err := s.Play(ctx, openURI(t, "{loops=-1}tone_stream://%(1000,0,1000)"), nil)
			return err
		}, 1000},
		{"Echo", func(ctx context.Context, s *Stream) error { return s.Echo(ctx, 0, nil) }, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEngine(t)
			a, b := newLeg(t, e, PCMU, 0, 0xaaaa), newLeg(t, e, PCMU, 0, 0xbbbb)
			ctx, cancel := context.WithCancel(context.Background())
			produced := make(chan error, 1)
			go func() { produced <- tc.run(ctx, b.s) }()
			eventually(t, "the producer", func() bool {
				b.s.mu.Lock()
				defer b.s.mu.Unlock()
				return b.s.owned
			})
			if tc.freq != 0 {
				b.far.waitPackets(t, 3)
			}
			stop := startBridge(t, a.s, b.s, BridgeOptions{})
			a.far.tone(440, 10)
			eventually(t, "dropped packets", func() bool { return b.s.Stats().Packets.RelayDropped == 10 })
			cancel()
			if err := <-produced; !errors.Is(err, context.Canceled) {
				t.Fatalf("the producer returned %v", err)
			}
			// Everything the producer sent has arrived before the
			// bridge's audio.
			eventually(t, "the producer's packets", func() bool { return uint64(len(b.far.packets())) == b.s.Stats().Packets.Sent })
			n := len(b.far.packets())
			if (n > 0) != (tc.freq != 0) {
				t.Fatalf("the producer sent %d packets", n)
			}
			a.far.tone(440, 10)
			pkts := b.far.waitPackets(t, n+10)
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			if f, _ := dsp.Dominant(decodeAll(PCMU, pkts[:n]), 8000, toneCandidates); f != tc.freq {
				t.Errorf("the producer sent %v Hz", f)
			}
			if f, _ := dsp.Dominant(decodeAll(PCMU, pkts[n:]), 8000, toneCandidates); f != 440 {
				t.Errorf("the bridge carried %v Hz", f)
			}
			checkContinuity(t, pkts[n:], b.s.Stats().SSRC, 0)
			if st := b.s.Stats().Packets; st.Relayed != 10 || st.RelayDropped != 10 {
				t.Errorf("b's stats %+v", st)
			}
		})
	}
}

// TestBridgeNoRemote: without a usable remote address (not yet known, or
// hold) nothing is sent; once it is known the audio flows.
func TestBridgeNoRemote(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(*Stream) error
	}{
		{"no SetRemote yet", func(*Stream) error { return nil }},
		{"on hold", func(s *Stream) error {
			return s.SetRemote(RemoteParams{Addr: netip.MustParseAddrPort("0.0.0.0:0"), Codec: PCMU})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEngine(t)
			a := newLeg(t, e, PCMU, 0, 0xcccc)
			b := openStream(t, e)
			if err := tc.setup(b); err != nil {
				t.Fatal(err)
			}
			bFar := newPeer(t)
			stop := startBridge(t, a.s, b, BridgeOptions{})
			a.far.tone(440, 5)
			eventually(t, "dropped", func() bool { return b.Stats().Packets.RelayDropped == 5 })
			if err := b.SetRemote(RemoteParams{Addr: bFar.addr(), Codec: PCMU}); err != nil {
				t.Fatal(err)
			}
			a.far.tone(440, 5)
			pkts := bFar.waitPackets(t, 5)
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			checkContinuity(t, pkts, b.Stats().SSRC, 0)
			if st := b.Stats().Packets; st.Sent != 5 || st.Relayed != 5 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestBridgeCloseWhileBridged(t *testing.T) {
	t.Parallel()
	for _, which := range []string{"a", "b"} {
		t.Run("close "+which, func(t *testing.T) {
			t.Parallel()
			e := newTestEngine(t)
			a, b := newLeg(t, e, PCMU, 101, 0xdddd), newLeg(t, e, PCMA, 101, 0xeeee)
			ctx := context.Background()
			done := make(chan error, 1)
			go func() { done <- Bridge(ctx, a.s, b.s, BridgeOptions{}) }()
			eventually(t, "bridged", func() bool { return inBridge(a.s) && inBridge(b.s) })
			// A digit being relayed, traffic both ways, and Close from
			// another goroutine in the middle of it.
			a.far.event(101, 1, 3)
			a.far.tone(440, 5)
			b.far.waitPackets(t, 5)
			var stopTraffic atomic.Bool
			var wg sync.WaitGroup
			for _, far := range []*farEnd{a.far, b.far} {
				far.lenient = true
				wg.Go(func() { // the far end is this goroutine's from now on
					for !stopTraffic.Load() {
						far.tone(440, 1)
						time.Sleep(time.Millisecond)
					}
				})
			}
			victim, survivor := a.s, b.s
			if which == "b" {
				victim, survivor = b.s, a.s
			}
			if err := victim.Close(); err != nil {
				t.Fatal(err)
			}
			if err := <-done; !errors.Is(err, ErrClosed) {
				t.Errorf("Bridge returned %v, want ErrClosed", err)
			}
			stopTraffic.Store(true)
			wg.Wait()
			if inBridge(survivor) {
				t.Error("the survivor is still bridged")
			}
			// The survivor can play at once.
			res, err := survivor.Play(ctx, openURI(t, "tone_stream://%(60,0,440)"), nil)
			if err != nil || res.Samples != 480 {
				t.Errorf("Play after the bridge: %+v, %v", res, err)
			}
		})
	}
}

// TestBridgeRecordCall: record_session on a bridged leg records what its
// caller says and what the other leg relays to it.
func TestBridgeRecordCall(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	a, b := newLeg(t, e, PCMU, 0, 0x1234), newLeg(t, e, PCMA, 0, 0x5678)
	path := filepath.Join(t.TempDir(), "bridged.wav")
	w, err := CreateWAV(path, 8000, 2, false)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := a.s.RecordCall(w, CallRecordOptions{Stereo: true, Limit: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	stop := startBridge(t, a.s, b.s, BridgeOptions{})
	a.far.tone(440, 20)
	b.far.tone(1000, 20)
	select {
	case <-rec.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the recording did not reach its limit")
	}
	if res, err := rec.Stop(); err != nil || res.Reason != "limit" {
		t.Fatalf("recording: %+v, %v", res, err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	l, r := readStereo(t, path)
	cands := []float64{440, 1000}
	// 400 ms of each tone, somewhere in the second recorded (wherever
	// the packets arrived on the recording's timeline).
	if d := dsp.ToneDuration(l, 8000, 440, cands); d < 360*time.Millisecond || d > 420*time.Millisecond {
		t.Errorf("caller's 440 Hz on the left for %v, want 400ms", d)
	}
	if d := dsp.ToneDuration(r, 8000, 1000, cands); d < 360*time.Millisecond || d > 420*time.Millisecond {
		t.Errorf("the other leg's 1000 Hz on the right for %v, want 400ms", d)
	}
	if d := dsp.ToneDuration(l, 8000, 1000, cands); d > 0 {
		t.Errorf("the other leg's 1000 Hz leaked onto the left for %v", d)
	}
}

// TestBridgeNoLeak: a bridge, its DTMF relays and its end leave no
// goroutine behind. Not parallel, so the count is this test's.
func TestBridgeNoLeak(t *testing.T) {
	e := newTestEngine(t)
	a, b := newLeg(t, e, PCMU, 101, 0x1111), newLeg(t, e, PCMU, 101, 0x2222)
	a.s.output()
	b.s.output()
	base := runtime.NumGoroutine()
	for i := range 3 {
		stop := startBridge(t, a.s, b.s, BridgeOptions{})
		a.far.tone(440, 3)
		b.far.tone(440, 3)
		// A two-second digit is being relayed when the bridge ends.
		a.far.event(101, 4, 100)
		eventually(t, "relayed", func() bool { return b.s.Stats().Packets.DTMFOut == uint64(i+1) })
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		// The relay has let go of b's output by the time Bridge returns.
		b.s.mu.Lock()
		owned := b.s.owned
		b.s.mu.Unlock()
		if owned {
			t.Fatal("a DTMF relay still holds b's output after Bridge returned")
		}
	}
	eventually(t, "goroutines back to the start", func() bool { return runtime.NumGoroutine() <= base })
}

// BenchmarkBridge is the cost of relaying one packet. "receive" feeds
// a's receive path directly (the checks, the relay, the UDP write to a
// sink); "udp" sends each packet from a far-end socket, so it also pays
// the far end's write and the stream's read. cpu-ns/packet is the
// process's CPU time (every goroutine, the sink's reads included) per
// packet relayed.
func BenchmarkBridge(b *testing.B) {
	for _, bc := range []struct {
		name   string
		cb     Codec
		viaUDP bool
	}{
		{"receive/PCMU-PCMU", PCMU, false},
		{"receive/PCMU-PCMA", PCMA, false},
		{"udp/PCMU-PCMU", PCMU, true},
		{"udp/PCMU-PCMA", PCMA, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := newTestEngine(b)
			far := newPeer(b)
			sa, sb := openStream(b, e), openStream(b, e)
			if err := sa.SetRemote(RemoteParams{Addr: far.addr(), Codec: PCMU, DTMFPayloadType: 101}); err != nil {
				b.Fatal(err)
			}
			if err := sb.SetRemote(RemoteParams{Addr: newSink(b), Codec: bc.cb, DTMFPayloadType: 101}); err != nil {
				b.Fatal(err)
			}
			stop := startBridge(b, sa, sb, BridgeOptions{})
			payload := make([]byte, 160)
			PCMU.Encode(payload, sine(160, 8000, 440, 8000))
			pkt := rtpBytes(b, 0, 0, 0, 0xfeed, false, payload)
			seq, ts := uint16(0), uint32(0)
			next := func() {
				seq++
				ts += 160
				pkt[2], pkt[3] = byte(seq>>8), byte(seq)
				pkt[4], pkt[5], pkt[6], pkt[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
			}
			from := far.addr()
			var sent uint64
			b.ReportAllocs()
			cpu0 := processCPU()
			for b.Loop() {
				next()
				sent++
				if !bc.viaUDP {
					sa.receive(pkt, from)
					continue
				}
				if _, err := far.conn.WriteToUDPAddrPort(pkt, sa.LocalAddr()); err != nil {
					b.Fatal(err)
				}
				// Keep the socket buffer from overflowing.
				if sent%32 == 0 {
					for sa.Stats().Packets.Received+64 < sent {
						time.Sleep(20 * time.Microsecond)
					}
				}
			}
			if bc.viaUDP {
				eventually(b, "the last packets", func() bool { return sa.Stats().Packets.Received >= sent })
			}
			cpu := processCPU() - cpu0
			_ = stop()
			relayed := sb.Stats().Packets.Relayed
			if relayed != sent {
				b.Fatalf("relayed %d of %d packets", relayed, sent)
			}
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(relayed), "cpu-ns/packet")
		})
	}
}
