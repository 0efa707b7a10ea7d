package media

import (
	"net"
	"net/netip"
	"testing"
	"time"
)

// newSink returns the address of a socket that reads and discards.
func newSink(tb testing.TB) netip.AddrPort {
	tb.Helper()
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, err := sink.Read(buf); err != nil {
				return
			}
		}
	}()
	tb.Cleanup(func() { _ = sink.Close() })
	return sink.LocalAddr().(*net.UDPAddr).AddrPort()
}

// manualPacer returns an engine whose single pacer is stopped, so a test
// can serve its slots by hand, and n streams sending to a sink socket.
func manualPacer(tb testing.TB, n int) (*Engine, *pacer, []*Stream) {
	tb.Helper()
	e, err := NewEngine(Config{IP: netip.MustParseAddr("127.0.0.1"), Pacers: 1, Logger: quiet})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = e.Close() })
	p := e.pacers[0]
	p.shutdown()
	sink := newSink(tb)
	streams := make([]*Stream, n)
	for i := range streams {
		s, err := e.Open()
		if err != nil {
			tb.Fatal(err)
		}
		if err := s.SetRemote(RemoteParams{Addr: sink, Codec: PCMU, DTMFPayloadType: 101}); err != nil {
			tb.Fatal(err)
		}
		s.output() // as a producer would: the queue and a place on the pacer
		streams[i] = s
	}
	return e, p, streams
}

func queueAudio(s *Stream, pcm []int16) bool {
	ok, _ := s.push(func(f *frame) {
		f.kind = frameAudio
		f.n = copy(f.pcm, pcm)
	})
	return ok
}

// servePeriod runs every slot of one period.
func servePeriod(e *Engine, p *pacer, period uint64) {
	for slot := range slotsPerPeriod {
		p.serve(slot, period, e.mono())
	}
}

func TestPacerSpreadsStreamsOverSlots(t *testing.T) {
	_, p, streams := manualPacer(t, 25)
	counts := map[int]int{}
	for _, s := range streams {
		counts[s.slot]++
	}
	for slot := range slotsPerPeriod {
		if c := counts[slot]; c < 2 || c > 3 {
			t.Errorf("slot %d has %d streams", slot, c)
		}
	}
	streams[3].Close()
	if p.size() != 24 {
		t.Errorf("pacer holds %d streams after a Close", p.size())
	}
}

// TestPacerOneFramePerPeriod: each visit sends exactly one frame, and
// timestamps follow the period, not the number of packets.
func TestPacerOneFramePerPeriod(t *testing.T) {
	e, p, streams := manualPacer(t, 1)
	s := streams[0]
	pcm := make([]int16, 160)
	for range 3 {
		if !queueAudio(s, pcm) {
			t.Fatal("queue full")
		}
	}
	ts0 := s.timestamp(0)
	servePeriod(e, p, 0)
	if s.queued() != 2 {
		t.Fatalf("%d frames left after one period", s.queued())
	}
	servePeriod(e, p, 1)
	servePeriod(e, p, 5) // idle periods in between: the timestamp jumps
	if s.queued() != 0 || s.Stats().Packets.Sent != 3 {
		t.Fatalf("queued %d sent %d", s.queued(), s.Stats().Packets.Sent)
	}
	if got, want := s.hdr.Timestamp, ts0+5*160; got != want {
		t.Errorf("timestamp %d, want %d", got, want)
	}
	if !s.hdr.Marker {
		t.Error("no marker after idle periods")
	}
	// An empty queue while a producer runs is an underrun.
	s.setProducing(true)
	servePeriod(e, p, 6)
	s.setProducing(false)
	if u := s.Stats().Packets.Underruns; u != 1 {
		t.Errorf("underruns = %d", u)
	}
}

// TestSendPathDoesNotAllocate: queueing and sending a frame, audio or
// telephone event, allocates nothing.
func TestSendPathDoesNotAllocate(t *testing.T) {
	e, p, streams := manualPacer(t, 20)
	pcm := sine(160, 8000, 440, 8000)
	period := uint64(0)
	allocs := testing.AllocsPerRun(50, func() {
		for _, s := range streams {
			queueAudio(s, pcm)
		}
		servePeriod(e, p, period)
		period++
	})
	if allocs != 0 {
		t.Errorf("%v allocations per period for %d audio packets", allocs, len(streams))
	}
	ev := dtmfEvent{code: 5, duration: 160, start: true}
	allocs = testing.AllocsPerRun(50, func() {
		for _, s := range streams {
			_, _ = s.push(func(f *frame) { f.kind, f.ev = frameDTMF, ev })
		}
		servePeriod(e, p, period)
		period++
	})
	if allocs != 0 {
		t.Errorf("%v allocations per period for %d DTMF packets", allocs, len(streams))
	}
}

// TestReceivePathDoesNotAllocate: checking and dispatching a packet —
// accepted or dropped — allocates nothing.
func TestReceivePathDoesNotAllocate(t *testing.T) {
	e := newTestEngine(t)
	s := openStream(t, e)
	from := netip.MustParseAddrPort("127.0.0.1:40000")
	if err := s.SetRemote(RemoteParams{Addr: from, Codec: PCMU, DTMFPayloadType: 101}); err != nil {
		t.Fatal(err)
	}
	tap := s.Tap(time.Second)
	defer tap.Close()
	audio := rtpBytes(t, 0, 1, 160, 7, false, make([]byte, 160))
	garbage := []byte("definitely not an RTP packet")
	foreign := netip.MustParseAddrPort("127.0.0.1:40002")
	seq := uint16(1)
	allocs := testing.AllocsPerRun(100, func() {
		seq++
		audio[2], audio[3] = byte(seq>>8), byte(seq)
		s.receive(audio, from)
		s.receive(garbage, from)
		s.receive(audio, foreign)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per round", allocs)
	}
}

func TestHistogram(t *testing.T) {
	var h histogram
	for range 98 {
		h.observe(200 * time.Microsecond)
	}
	h.observe(4 * time.Millisecond)
	h.observe(300 * time.Millisecond)
	s := h.snapshot()
	if s.Count != 100 || s.Max != 300*time.Millisecond {
		t.Fatalf("count %d max %v", s.Count, s.Max)
	}
	if s.P50 != 250*time.Microsecond || s.P99 != 5*time.Millisecond || s.Quantile(1) != 300*time.Millisecond {
		t.Errorf("p50 %v p99 %v p100 %v", s.P50, s.P99, s.Quantile(1))
	}
	if (Histogram{}).Quantile(0.5) != 0 {
		t.Error("empty histogram quantile")
	}
	s.Bounds[0] = time.Hour // a snapshot is the caller's to keep
	if latenessBounds[0] == time.Hour {
		t.Error("snapshot shares the bounds table")
	}
	if s.String() == "" {
		t.Error("empty String")
	}
}

// BenchmarkPacerTick1000 measures one period of 1,000 streams: a frame
// queued for each, then the ten slots served, one UDP write per stream.
func BenchmarkPacerTick1000(b *testing.B) {
	e, p, streams := manualPacer(b, 1000)
	pcm := sine(160, 8000, 440, 8000)
	period := uint64(0)
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range streams {
			queueAudio(s, pcm)
		}
		servePeriod(e, p, period)
		period++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(streams)), "ns/packet")
}
