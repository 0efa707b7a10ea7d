package media

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/switchboard-voip/switchboard/media/dsp"
)

func openURI(t testing.TB, uri string) Source {
	t.Helper()
	src, err := OpenSource(uri, SourceOptions{Rate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.Close() })
	return src
}

// checkRTPStream checks the header invariants of an uninterrupted
// talkspurt: one SSRC, contiguous sequence numbers, timestamps 160
// apart, the marker on the first packet only.
func checkRTPStream(t *testing.T, pkts []rtp.Packet, pt uint8) {
	t.Helper()
	for i, p := range pkts {
		if p.PayloadType != pt || p.SSRC != pkts[0].SSRC || p.Version != 2 {
			t.Fatalf("packet %d: pt %d ssrc %x version %d", i, p.PayloadType, p.SSRC, p.Version)
		}
		if p.Marker != (i == 0) {
			t.Errorf("packet %d: marker %v", i, p.Marker)
		}
		if i == 0 {
			continue
		}
		if p.SequenceNumber != pkts[i-1].SequenceNumber+1 {
			t.Errorf("packet %d: seq %d after %d", i, p.SequenceNumber, pkts[i-1].SequenceNumber)
		}
		if p.Timestamp != pkts[i-1].Timestamp+160 {
			t.Errorf("packet %d: ts %d after %d", i, p.Timestamp, pkts[i-1].Timestamp)
		}
	}
}

func TestPlayToneToPeer(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	s := openStream(t, e)
	p := newPeer(t)
	if err := s.SetRemote(RemoteParams{Addr: p.addr(), Codec: PCMU}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Play(context.Background(), openURI(t, "tone_stream://%(400,0,440)"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Samples != 3200 || res.Duration != 400*time.Millisecond || res.Stopped {
		t.Errorf("result %+v", res)
	}
	pkts := p.waitPackets(t, 20)
	if len(pkts) != 20 {
		t.Fatalf("%d packets, want 20", len(pkts))
	}
	checkRTPStream(t, pkts, PCMU.PayloadType)
	pcm := decodeAll(PCMU, pkts)
	if d := time.Duration(len(pcm)) * time.Second / 8000; d < 360*time.Millisecond || d > 440*time.Millisecond {
		t.Errorf("heard %v of audio, want 400ms ± 40ms", d)
	}
	if f, share := dsp.Dominant(pcm, 8000, toneCandidates); f != 440 || share < 0.9 {
		t.Errorf("heard %v Hz (share %.2f), want 440", f, share)
	}
	st := s.Stats()
	if st.Packets.Sent != 20 || st.Local != s.LocalAddr() || st.Remote != p.addr() {
		t.Errorf("stats %+v", st)
	}
	es := e.Stats()
	if es.SendLateness.Count < 20 || es.Streams != 1 || es.Packets.Sent < 20 {
		t.Errorf("engine stats %+v", es)
	}

	// A second Play continues the same stream: the sequence goes on and,
	// after the idle gap, the marker is set again.
	if _, err := s.Play(context.Background(), openURI(t, "tone_stream://%(100,0,1000)"), nil); err != nil {
		t.Fatal(err)
	}
	more := p.waitPackets(t, 25)[20:]
	if more[0].SequenceNumber != pkts[19].SequenceNumber+1 || more[0].SSRC != pkts[0].SSRC {
		t.Errorf("second play starts with seq %d ssrc %x", more[0].SequenceNumber, more[0].SSRC)
	}
	if more[0].Timestamp-pkts[19].Timestamp < 160 || (more[0].Timestamp-pkts[19].Timestamp)%160 != 0 {
		t.Errorf("timestamp after the gap: %d then %d", pkts[19].Timestamp, more[0].Timestamp)
	}
	if more[0].Timestamp-pkts[19].Timestamp > 160 && !more[0].Marker {
		t.Error("no marker after a gap")
	}
}

func TestStreamsTalkAndEcho(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	a, b := openStream(t, e), openStream(t, e)
	for _, pair := range [][2]*Stream{{a, b}, {b, a}} {
		if err := pair[0].SetRemote(RemoteParams{Addr: pair[1].LocalAddr(), Codec: PCMA}); err != nil {
			t.Fatal(err)
		}
		pair[0].Start()
	}
	heardByA := a.Tap(5 * time.Second)
	defer heardByA.Close()
	heardByB := b.Tap(5 * time.Second)
	defer heardByB.Close()

	ctx, cancel := context.WithCancel(context.Background())
	echoDone := make(chan error, 1)
	go func() { echoDone <- b.Echo(ctx, 0, nil) }()

	if _, err := a.Play(context.Background(), openURI(t, "tone_stream://%(600,0,1000)"), nil); err != nil {
		t.Fatal(err)
	}
	// B heard A's tone, and A hears it back through B's echo.
	for _, tc := range []struct {
		who string
		tap *Tap
	}{{"B", heardByB}, {"A (echo)", heardByA}} {
		var pcm []int16
		buf := make([]int16, 800)
		rctx, rcancel := context.WithTimeout(context.Background(), 10*time.Second)
		for len(pcm) < 3200 {
			n, err := tc.tap.Read(rctx, buf)
			if err != nil {
				t.Fatalf("%s: read tap: %v (%d samples)", tc.who, err, len(pcm))
			}
			pcm = append(pcm, buf[:n]...)
		}
		rcancel()
		if f, share := dsp.Dominant(pcm[800:], 8000, toneCandidates); f != 1000 || share < 0.8 {
			t.Errorf("%s heard %v Hz (share %.2f), want 1000", tc.who, f, share)
		}
	}
	cancel()
	if err := <-echoDone; !errors.Is(err, context.Canceled) {
		t.Errorf("Echo returned %v", err)
	}
	// The echo is B's own RTP stream, not A's packets reflected.
	if as, bs := a.Stats(), b.Stats(); as.RemoteSSRC != bs.SSRC || bs.RemoteSSRC != as.SSRC || as.SSRC == bs.SSRC {
		t.Errorf("SSRCs: a %x sees %x, b %x sees %x", as.SSRC, as.RemoteSSRC, bs.SSRC, bs.RemoteSSRC)
	}
}

func TestEchoDelay(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	s := openStream(t, e)
	p := newPeer(t)
	if err := s.SetRemote(RemoteParams{Addr: p.addr(), Codec: PCMU}); err != nil {
		t.Fatal(err)
	}
	s.Start()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Echo(ctx, 200*time.Millisecond, nil) }()
	// Send 30 packets of a tone; the echo must not start before 200 ms of
	// audio (10 packets) were buffered.
	tone := sine(30*160, 8000, 440, 8000)
	payload := make([]byte, 160)
	for i := range 30 {
		PCMU.Encode(payload, tone[i*160:(i+1)*160])
		p.send(t, s.LocalAddr(), rtpBytes(t, 0, uint16(i), uint32(i*160), 7, i == 0, payload))
		if i == 5 {
			time.Sleep(20 * time.Millisecond)
			if n := len(p.packets()); n != 0 {
				t.Errorf("echo started after %d of 10 delay packets", 6)
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	pkts := p.waitPackets(t, 30-10)
	if f, _ := dsp.Dominant(decodeAll(PCMU, pkts), 8000, toneCandidates); f != 440 {
		t.Errorf("echo carries %v Hz", f)
	}
	cancel()
	<-done
}

func TestDTMFEndToEnd(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	a, b := openStream(t, e), openStream(t, e)
	for _, pair := range [][2]*Stream{{a, b}, {b, a}} {
		if err := pair[0].SetRemote(RemoteParams{Addr: pair[1].LocalAddr(), Codec: PCMU, DTMFPayloadType: 101}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var got []Digit
	b.OnDTMF(func(d Digit) {
		mu.Lock()
		got = append(got, d)
		mu.Unlock()
	})
	b.Start()
	const digits = "123#*0ABCD"
	if err := a.SendDTMF(context.Background(), "1x2 3#*0abcd", 60*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	eventually(t, "all digits", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= len(digits)
	})
	time.Sleep(50 * time.Millisecond) // a duplicate would arrive now
	mu.Lock()
	defer mu.Unlock()
	var s string
	for _, d := range got {
		s += string(d.Digit)
		if d.Duration != 60*time.Millisecond {
			t.Errorf("digit %c lasted %v, want 60ms", d.Digit, d.Duration)
		}
	}
	if s != digits {
		t.Errorf("received %q, want %q", s, digits)
	}
	if st := a.Stats(); st.Packets.DTMFOut != uint64(len(digits)) {
		t.Errorf("DTMFOut = %d", st.Packets.DTMFOut)
	}
}

func TestDTMFPacketFormat(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	s := openStream(t, e)
	p := newPeer(t)
	if err := s.SetRemote(RemoteParams{Addr: p.addr(), Codec: PCMU, DTMFPayloadType: 96}); err != nil {
		t.Fatal(err)
	}
	// 100 ms: 5 packets, durations 160..800, the last sent three times.
	if err := s.SendDTMF(context.Background(), "5", 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	pkts := p.waitPackets(t, 7)
	if len(pkts) != 7 {
		t.Fatalf("%d packets", len(pkts))
	}
	for i, pk := range pkts {
		pl := pk.Payload
		end := pl[1]&0x80 != 0
		dur := int(pl[2])<<8 | int(pl[3])
		wantDur := min(i+1, 5) * 160
		if pk.PayloadType != 96 || pl[0] != 5 || len(pl) != 4 || dur != wantDur || end != (i >= 4) ||
			pk.Marker != (i == 0) || pk.Timestamp != pkts[0].Timestamp || (i > 0 && pk.SequenceNumber != pkts[i-1].SequenceNumber+1) {
			t.Errorf("packet %d: pt %d payload %x marker %v ts %d seq %d", i, pk.PayloadType, pl, pk.Marker, pk.Timestamp, pk.SequenceNumber)
		}
	}
	// Without a negotiated telephone-event there is nothing to send with.
	if err := s.SetRemote(RemoteParams{Addr: p.addr(), Codec: PCMU}); err != nil {
		t.Fatal(err)
	}
	if err := s.SendDTMF(context.Background(), "1", 0); !errors.Is(err, ErrNoDTMF) {
		t.Errorf("SendDTMF without PT: %v", err)
	}
}

func TestSendDTMFCancelEndsEvent(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	s := openStream(t, e)
	p := newPeer(t)
	if err := s.SetRemote(RemoteParams{Addr: p.addr(), Codec: PCMU, DTMFPayloadType: 101}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.SendDTMF(ctx, "9", 2*time.Second) }()
	p.waitPackets(t, 3)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("SendDTMF returned %v", err)
	}
	// The event is closed with end packets, not left hanging.
	eventually(t, "end packets", func() bool {
		pk := p.packets()
		return len(pk) > 0 && pk[len(pk)-1].Payload[1]&0x80 != 0
	})
	pk := p.packets()
	if n := len(pk); n < 6 || pk[n-3].Payload[1]&0x80 == 0 || pk[n-3].Timestamp != pk[0].Timestamp {
		t.Errorf("%d packets, last three not the event's end", n)
	}
}

// receiveDigits feeds a stream packets straight into its receive path.
func TestDTMFReceiveDedupe(t *testing.T) {
	e := newTestEngine(t)
	s := openStream(t, e)
	from := netip.MustParseAddrPort("127.0.0.1:40000")
	if err := s.SetRemote(RemoteParams{Addr: from, Codec: PCMU, DTMFPayloadType: 101}); err != nil {
		t.Fatal(err)
	}
	var got []Digit
	s.OnDTMF(func(d Digit) { got = append(got, d) })
	seq := uint16(100)
	send := func(ts uint32, code uint8, end bool, dur uint16) {
		seq++
		s.receive(rtpBytes(t, 101, seq, ts, 1, false, dtmfPayload(code, end, dur)), from)
	}
	// '4': start, continue, end three times.
	send(1000, 4, false, 160)
	send(1000, 4, false, 320)
	send(1000, 4, true, 480)
	send(1000, 4, true, 480)
	send(1000, 4, true, 480)
	// '#': the start packets were lost; only ends arrive.
	send(3000, 11, true, 800)
	send(3000, 11, true, 800)
	// '4' again at a new timestamp is a new digit.
	send(5000, 4, true, 400)
	// no end packet yet: not reported
	send(7000, 7, false, 160)
	// events beyond 16 (other tones) and short payloads are ignored
	send(9000, 40, true, 160)
	seq++
	s.receive(rtpBytes(t, 101, seq, 9500, 1, false, []byte{1, 0x80}), from)
	want := []Digit{{'4', 60 * time.Millisecond}, {'#', 100 * time.Millisecond}, {'4', 50 * time.Millisecond}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("digit %d = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestLatching(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	real, other := newPeer(t), newPeer(t)
	tone := make([]byte, 160)

	t.Run("latch onto the first valid packet, never move", func(t *testing.T) {
		s := openStream(t, e)
		sdp := netip.MustParseAddrPort("192.168.1.20:4000") // a private address nobody can reach
		var latchedTo atomic.Value
		s.OnLatch(func(a netip.AddrPort) { latchedTo.Store(a) })
		if err := s.SetRemote(RemoteParams{Addr: sdp, Codec: PCMU, DTMFPayloadType: 101, Latch: true}); err != nil {
			t.Fatal(err)
		}
		var digits atomic.Int32
		s.OnDTMF(func(Digit) { digits.Add(1) })
		s.Start()
		// Garbage does not latch.
		other.send(t, s.LocalAddr(), []byte("not rtp at all"))
		eventually(t, "garbage counted", func() bool { return s.Stats().Packets.Malformed == 1 })
		if s.Remote() != sdp {
			t.Fatalf("latched onto garbage: %v", s.Remote())
		}
		real.send(t, s.LocalAddr(), rtpBytes(t, 0, 1, 160, 42, true, tone))
		eventually(t, "latch", func() bool { return s.Remote() == real.addr() })
		if v, _ := latchedTo.Load().(netip.AddrPort); v != real.addr() {
			t.Errorf("OnLatch got %v", v)
		}
		// Another source is ignored from now on: its DTMF is not heard.
		other.send(t, s.LocalAddr(), rtpBytes(t, 0, 1, 160, 43, true, tone))
		other.send(t, s.LocalAddr(), rtpBytes(t, 101, 2, 320, 43, true, dtmfPayload(1, true, 800)))
		eventually(t, "foreign packets counted", func() bool { return s.Stats().Packets.Foreign == 2 })
		if s.Remote() != real.addr() || digits.Load() != 0 {
			t.Errorf("moved to %v or heard its digits (%d)", s.Remote(), digits.Load())
		}
		// The latched source is heard, and our audio goes there.
		real.send(t, s.LocalAddr(), rtpBytes(t, 101, 2, 320, 42, true, dtmfPayload(1, true, 800)))
		eventually(t, "digit from the latched source", func() bool { return digits.Load() == 1 })
		if _, err := s.Play(context.Background(), openURI(t, "tone_stream://%(60,0,440)"), nil); err != nil {
			t.Fatal(err)
		}
		real.waitPackets(t, 3)
		if n := len(other.packets()); n != 0 {
			t.Errorf("the other source got %d packets", n)
		}
		if !s.Stats().Latched {
			t.Error("Stats().Latched is false")
		}
	})

	t.Run("without latch only the SDP address", func(t *testing.T) {
		s := openStream(t, e)
		if err := s.SetRemote(RemoteParams{Addr: real.addr(), Codec: PCMU}); err != nil {
			t.Fatal(err)
		}
		s.Start()
		other.send(t, s.LocalAddr(), rtpBytes(t, 0, 1, 160, 43, true, tone))
		real.send(t, s.LocalAddr(), rtpBytes(t, 0, 1, 160, 42, true, tone))
		eventually(t, "both counted", func() bool { st := s.Stats().Packets; return st.Foreign == 1 && st.Accepted == 1 })
		if s.Remote() != real.addr() || s.Stats().RemoteSSRC != 42 {
			t.Errorf("remote %v ssrc %x", s.Remote(), s.Stats().RemoteSSRC)
		}
	})
}

func TestBadInputDoesNotDisturbPlayback(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	s := openStream(t, e)
	p, attacker := newPeer(t), newPeer(t)
	if err := s.SetRemote(RemoteParams{Addr: p.addr(), Codec: PCMU, DTMFPayloadType: 101}); err != nil {
		t.Fatal(err)
	}
	var digits atomic.Int32
	s.OnDTMF(func(Digit) { digits.Add(1) })
	s.Start()
	// Establish the peer's SSRC.
	p.send(t, s.LocalAddr(), rtpBytes(t, 0, 10, 1600, 0xabc, true, make([]byte, 160)))
	eventually(t, "first packet", func() bool { return s.Stats().Packets.Accepted == 1 })

	playDone := make(chan error, 1)
	go func() {
		_, err := s.Play(context.Background(), openURI(t, "tone_stream://%(1000,0,440)"), nil)
		playDone <- err
	}()
	valid := rtpBytes(t, 0, 11, 1760, 0xabc, false, make([]byte, 160))
	bad := [][]byte{
		rtpBytes(t, 0, 12, 1920, 0x666, false, make([]byte, 160)),   // wrong SSRC
		rtpBytes(t, 0, 5000, 1920, 0xabc, false, make([]byte, 160)), // sequence jump
		rtpBytes(t, 97, 13, 1920, 0xabc, false, make([]byte, 160)),  // unknown payload type
		valid[:7], // truncated header
		{0x90, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0, 9}, // extension longer than the packet
		{0xa0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xff},             // padding longer than the packet
		{0x8f, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1},                   // 15 CSRCs announced, none present
		{0x00, 0x01, 0x00, 0x08, 0x21, 0x12, 0xa4, 0x42},          // a STUN header
		rtpBytes(t, 101, 14, 1920, 0xabc, false, []byte{1}),       // short telephone-event
	}
	for range 20 {
		for _, b := range bad {
			p.send(t, s.LocalAddr(), b)
		}
		for range 20 { // a flood from elsewhere
			attacker.send(t, s.LocalAddr(), valid)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The real peer's DTMF still gets through.
	p.send(t, s.LocalAddr(), rtpBytes(t, 101, 12, 1920, 0xabc, true, dtmfPayload(3, true, 480)))
	if err := <-playDone; err != nil {
		t.Fatal(err)
	}
	pkts := p.waitPackets(t, 50)
	if len(pkts) != 50 {
		t.Fatalf("peer got %d packets, want 50", len(pkts))
	}
	checkRTPStream(t, pkts, 0)
	eventually(t, "digit", func() bool { return digits.Load() == 1 })
	st := s.Stats().Packets
	if st.Foreign < 400 || st.Malformed < 80 || st.UnknownPT < 20 || st.BadSSRC < 1 || st.BadSeq < 1 {
		t.Errorf("drop counters %+v", st)
	}
	if s.Stats().RemoteSSRC != 0xabc {
		t.Errorf("remote SSRC moved to %x", s.Stats().RemoteSSRC)
	}
}

func TestMediaTimeout(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	s := openStream(t, e)
	if err := s.SetRemote(RemoteParams{Addr: netip.MustParseAddrPort("127.0.0.1:9"), Codec: PCMU}); err != nil {
		t.Fatal(err)
	}
	var fired atomic.Int32
	ch := make(chan struct{}, 10)
	s.SetMediaTimeout(60*time.Millisecond, func() { fired.Add(1); ch <- struct{}{} })
	time.Sleep(150 * time.Millisecond)
	if fired.Load() != 0 {
		t.Fatal("fired before Start")
	}
	s.Start()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("media timeout never fired")
	}
	time.Sleep(150 * time.Millisecond)
	if n := fired.Load(); n != 1 {
		t.Errorf("fired %d times", n)
	}
	// Re-arming with 0 disables it.
	s.SetMediaTimeout(0, func() { fired.Add(1) })
	time.Sleep(150 * time.Millisecond)
	if n := fired.Load(); n != 1 {
		t.Errorf("disabled timeout fired (%d)", n)
	}
}

// TestMediaTimeoutRestartsOnPackets drives the check with the stream's
// own clock: an accepted packet moves the deadline.
func TestMediaTimeoutRestartsOnPackets(t *testing.T) {
	e := newTestEngine(t)
	s := openStream(t, e)
	from := netip.MustParseAddrPort("127.0.0.1:40000")
	if err := s.SetRemote(RemoteParams{Addr: from, Codec: PCMU}); err != nil {
		t.Fatal(err)
	}
	s.SetMediaTimeout(time.Hour, func() {})
	s.mu.Lock()
	s.started = true // as Start, without the receive goroutine
	s.lastRecv -= 2 * time.Hour
	before := s.lastRecv
	s.mu.Unlock()
	s.receive(rtpBytes(t, 0, 1, 160, 5, true, make([]byte, 160)), from)
	s.receive(rtpBytes(t, 0, 1, 160, 5, true, make([]byte, 160)), netip.MustParseAddrPort("127.0.0.1:40001"))
	s.mu.Lock()
	after := s.lastRecv
	s.mu.Unlock()
	if after-before < 2*time.Hour {
		t.Errorf("an accepted packet did not restart the clock (%v -> %v)", before, after)
	}
}

func TestPortRangeAndReuse(t *testing.T) {
	t.Parallel()
	lo := freeEvenPorts(t, 2)
	e, err := NewEngine(Config{IP: netip.MustParseAddr("127.0.0.1"), PortMin: lo, PortMax: lo + 3, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	a, err := e.Open()
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.Open()
	if err != nil {
		t.Fatal(err)
	}
	ports := map[uint16]bool{a.LocalAddr().Port(): true, b.LocalAddr().Port(): true}
	if !ports[uint16(lo)] || !ports[uint16(lo+2)] {
		t.Fatalf("ports %v, want %d and %d", ports, lo, lo+2)
	}
	if _, err := e.Open(); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("third Open: %v", err)
	}
	if st := e.Stats(); st.PortsInUse != 2 || st.PortsTotal != 2 || st.Streams != 2 {
		t.Errorf("stats %+v", st)
	}
	freed := a.LocalAddr().Port()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
	c, err := e.Open()
	if err != nil {
		t.Fatal(err)
	}
	if c.LocalAddr().Port() != freed {
		t.Errorf("reopened on %d, want the freed %d", c.LocalAddr().Port(), freed)
	}
	if st := e.Stats(); st.PortsInUse != 2 || st.Streams != 2 {
		t.Errorf("stats after reuse %+v", st)
	}
	// Operations on a closed stream fail cleanly.
	if _, err := a.Play(context.Background(), openURI(t, "silence_stream://100"), nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Play on a closed stream: %v", err)
	}
	if err := a.SetRemote(RemoteParams{Addr: netip.MustParseAddrPort("127.0.0.1:9"), Codec: PCMU}); !errors.Is(err, ErrClosed) {
		t.Errorf("SetRemote on a closed stream: %v", err)
	}
	e.Close()
	if _, err := e.Open(); !errors.Is(err, ErrClosed) {
		t.Errorf("Open after Close: %v", err)
	}
	if st := e.Stats(); st.PortsInUse != 0 || st.Streams != 0 {
		t.Errorf("stats after Close %+v", st)
	}
}

// freeEvenPorts finds n consecutive even ports (with their odd
// neighbours) that are free right now.
func freeEvenPorts(t *testing.T, n int) int {
	t.Helper()
	for try := 0; try < 50; try++ {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		base := c.LocalAddr().(*net.UDPAddr).Port
		c.Close()
		base -= base % 2
		if base+2*n > 65535 {
			continue
		}
		ok := true
		var held []*net.UDPConn
		for i := range 2 * n {
			c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: base + i})
			if err != nil {
				ok = false
				break
			}
			held = append(held, c)
		}
		for _, c := range held {
			c.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free port range")
	return 0
}

func TestPlayStopAndCancel(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	s := openStream(t, e)
	p := newPeer(t)
	if err := s.SetRemote(RemoteParams{Addr: p.addr(), Codec: PCMU}); err != nil {
		t.Fatal(err)
	}
	// stop after ten frames were queued
	calls := 0
	res, err := s.Play(context.Background(), openURI(t, "{loops=-1}tone_stream://%(1000,0,440)"), func() bool {
		calls++
		return calls > 10
	})
	if err != nil || !res.Stopped || res.Samples > 10*160 || res.Samples%160 != 0 {
		t.Errorf("stopped play: %+v, %v", res, err)
	}
	// cancel while playing forever
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var perr error
	go func() {
		res, perr = s.Play(ctx, openURI(t, "{loops=-1}tone_stream://%(1000,0,440)"), nil)
		close(done)
	}()
	sent := s.Stats().Packets.Sent
	eventually(t, "playing", func() bool { return s.Stats().Packets.Sent > sent+3 })
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Play did not return after cancel")
	}
	if !errors.Is(perr, context.Canceled) || !res.Stopped {
		t.Errorf("cancelled play: %+v, %v", res, perr)
	}
	// Close while playing
	done = make(chan struct{})
	go func() {
		_, perr = s.Play(context.Background(), openURI(t, "{loops=-1}tone_stream://%(1000,0,440)"), nil)
		close(done)
	}()
	eventually(t, "playing again", func() bool { return s.queued() > 0 })
	s.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Play did not return after Close")
	}
	if !errors.Is(perr, ErrClosed) {
		t.Errorf("play on closing stream: %v", perr)
	}
}

func TestPlayWithoutRemoteIsPaced(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	s := openStream(t, e)
	res, err := s.Play(context.Background(), openURI(t, "silence_stream://100"), nil)
	if err != nil || res.Samples != 800 {
		t.Fatalf("%+v %v", res, err)
	}
	if st := s.Stats().Packets; st.Sent != 0 || st.Discarded != 5 {
		t.Errorf("stats %+v", st)
	}
}

func TestSetRemoteValidation(t *testing.T) {
	e := newTestEngine(t)
	s := openStream(t, e)
	addr := netip.MustParseAddrPort("127.0.0.1:5000")
	for _, p := range []RemoteParams{
		{Addr: addr, Codec: Codec{Name: "G722", PayloadType: 9, ClockRate: 8000}},
		{Addr: addr, Codec: PCMU, DTMFPayloadType: 0x80},
		{Addr: addr, Codec: PCMA, DTMFPayloadType: 8},
	} {
		if err := s.SetRemote(p); err == nil {
			t.Errorf("SetRemote(%+v) succeeded", p)
		}
	}
}

func FuzzRTPPacket(f *testing.F) {
	f.Add(rtpBytes(f, 0, 1, 160, 1, true, make([]byte, 160)))
	f.Add(rtpBytes(f, 101, 2, 320, 1, false, dtmfPayload(5, true, 800)))
	f.Add([]byte{0x90, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0, 1, 0x10, 0xff, 0, 0})
	f.Add([]byte{0xa0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 2, 3, 3})
	f.Add([]byte{0x8f, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1})
	e, err := NewEngine(Config{IP: netip.MustParseAddr("127.0.0.1"), Pacers: 1, Logger: quiet})
	if err != nil {
		f.Fatal(err)
	}
	defer e.Close()
	peerAddr := netip.MustParseAddrPort("127.0.0.1:40000")
	other := netip.MustParseAddrPort("127.0.0.1:40002")
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, latch := range []bool{false, true} {
			s, err := e.Open()
			if err != nil {
				t.Fatal(err)
			}
			if err := s.SetRemote(RemoteParams{Addr: peerAddr, Codec: PCMU, DTMFPayloadType: 101, Latch: latch}); err != nil {
				t.Fatal(err)
			}
			s.OnDTMF(func(Digit) {})
			tap := s.Tap(time.Second)
			s.receive(b, other)
			s.receive(b, peerAddr)
			s.receive(b, peerAddr)
			if len(b) > 3 {
				b[3]++ // the next sequence number
				s.receive(b, peerAddr)
			}
			st := s.Stats().Packets
			if st.Received != st.Accepted+st.Foreign+st.Malformed+st.UnknownPT+st.BadSSRC+st.BadSeq {
				t.Fatalf("counters do not add up: %+v", st)
			}
			tap.Close()
			s.Close()
		}
	})
}
