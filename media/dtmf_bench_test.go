package media

import (
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/media/dsp"
)

// BenchmarkDTMFDetectionLatency measures how long an RFC 4733 end packet
// takes from the caller's socket to the stream's digit callback (the
// call's digit queue is one channel send further). Reported as
// µs/digit; loopback UDP included.
func BenchmarkDTMFDetectionLatency(b *testing.B) {
	e := newTestEngine(b)
	s := openStream(b, e)
	p := newPeer(b)
	if err := s.SetRemote(RemoteParams{Addr: p.addr(), Codec: PCMU, DTMFPayloadType: 101}); err != nil {
		b.Fatal(err)
	}
	got := make(chan struct{}, 1)
	s.OnDTMF(func(Digit) { got <- struct{}{} })
	s.Start()
	var total time.Duration
	for i := 0; b.Loop(); i++ {
		pkt := rtpBytes(b, 101, uint16(i), uint32(i)*1600, 0x1234, false, dtmfPayload(uint8(i%16), true, 800))
		start := time.Now()
		p.send(b, s.LocalAddr(), pkt)
		<-got
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N), "µs/digit")
}

// BenchmarkInbandDTMFPerCallSecond is the CPU the in-band detector costs
// for one second of a call's audio (8 kHz).
func BenchmarkInbandDTMFPerCallSecond(b *testing.B) {
	pcm := make([]int16, 8000)
	for i := range pcm {
		pcm[i] = int16((i * 7919) % 2000) // not silence, not DTMF
	}
	frames := len(pcm) / 160
	for b.Loop() {
		d := dsp.NewDTMFDetector(8000)
		for f := range frames {
			d.Write(pcm[f*160 : (f+1)*160])
		}
	}
}
