package media

import (
	"context"
	"net/netip"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BenchmarkStreamLifecycle is what a signalling-only call does with its
// media: open a stream (an RTP port), set the far end from the SDP, start
// receiving, arm the media timeout at answer, and close it at hangup,
// without a packet either way.
func BenchmarkStreamLifecycle(b *testing.B) {
	e := newTestEngine(b)
	far := netip.MustParseAddrPort("127.0.0.1:9")
	b.ReportAllocs()
	for b.Loop() {
		s, err := e.Open()
		if err != nil {
			b.Fatal(err)
		}
		if err := s.SetRemote(RemoteParams{Addr: far, Codec: PCMU, DTMFPayloadType: 101}); err != nil {
			b.Fatal(err)
		}
		s.OnDTMF(func(Digit) {})
		s.Start()
		s.SetMediaTimeout(time.Minute, func() {})
		_ = s.Close()
	}
}

// BenchmarkPlayTonePerPacket is the media load per packet: streams play a
// tone (tone_stream://, as the load test's extension 7001 does) through a
// pacer served by hand as fast as the producers keep up, one UDP write
// per packet to a sink. cpu-ns/packet is the process's CPU time (pacer,
// producers, tone rendering, wake-ups, the sink's reads) per packet sent.
func BenchmarkPlayTonePerPacket(b *testing.B) {
	const streams = 50
	e, p, ss := manualPacer(b, streams)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, s := range ss {
		src, err := OpenSource("tone_stream://%(3600000,0,440)", SourceOptions{})
		if err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer src.Close()
			_, _ = s.Play(ctx, src, nil)
		}()
	}
	// Let every producer fill its queue before measuring.
	eventually(b, "full queues", func() bool {
		for _, s := range ss {
			if s.queued() < queueDepth {
				return false
			}
		}
		return true
	})
	sent0 := e.Stats().Packets.Sent
	period := uint64(0)
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		servePeriod(e, p, period)
		period++
		// Wait (briefly) for the producers to refill what the period
		// took, so the benchmark measures packets, not underruns.
		for i := 0; i < 1000 && !allAbove(ss, queueLowWater); i++ {
			runtime.Gosched()
		}
	}
	cpu := processCPU() - cpu0
	st := e.Stats().Packets
	sent := st.Sent - sent0
	cancel()
	wg.Wait()
	if sent == 0 {
		b.Fatal("nothing sent")
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(sent), "cpu-ns/packet")
	b.ReportMetric(float64(st.Underruns)/float64(sent), "underruns/packet")
}

func allAbove(ss []*Stream, n int) bool {
	for _, s := range ss {
		if s.queued() <= n {
			return false
		}
	}
	return true
}

// processCPU is the process's user+system CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
