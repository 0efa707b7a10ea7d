package esl

import (
	"bufio"
	"context"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/events"
)

// BenchmarkAPIStatus is `api status` round trips over one connection to
// an in-process server (docs/PERFORMANCE.md, "Event socket").
func BenchmarkAPIStatus(b *testing.B) { benchAPI(b, "status") }

// BenchmarkAPIEcho is the same with a command that does nearly nothing:
// the protocol's own cost.
func BenchmarkAPIEcho(b *testing.B) { benchAPI(b, "echo x") }

func benchAPI(b *testing.B, cmd string) {
	ts := startServer(b, nil)
	ctx := context.Background()
	cl, err := Dial(ctx, ts.addr, "secret")
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if _, err := cl.API(ctx, cmd); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "round-trips/s")
}

// channelEventLike is an event the size of a real CHANNEL_ANSWER: the
// channel data, the caller profile and ~80 variables.
func channelEventLike(i int) *events.Event {
	e := events.New("CHANNEL_ANSWER")
	uuid := "0c7d1f9e-2b6a-4c1e-9f3d-" + strconv.Itoa(100000000000+i)
	for _, h := range [][2]string{
		{"Channel-State", "CS_EXECUTE"}, {"Channel-Call-State", "ACTIVE"}, {"Channel-State-Number", "4"},
		{"Channel-Name", "sofia/internal/1000@192.0.2.10"}, {"Unique-ID", uuid}, {"Call-Direction", "inbound"},
		{"Presence-Call-Direction", "inbound"}, {"Channel-HIT-Dialplan", "true"}, {"Channel-Call-UUID", uuid},
		{"Answer-State", "answered"}, {"Caller-Direction", "inbound"}, {"Caller-Username", "1000"},
		{"Caller-Dialplan", "XML"}, {"Caller-Caller-ID-Name", "Alice Example"}, {"Caller-Caller-ID-Number", "1000"},
		{"Caller-Network-Addr", "192.0.2.10"}, {"Caller-Destination-Number", "9196"}, {"Caller-Unique-ID", uuid},
		{"Caller-Source", "mod_sofia"}, {"Caller-Context", "default"},
	} {
		e.Add(h[0], h[1])
	}
	for v := range 80 {
		e.Add("variable_sip_h_X-Var-"+strconv.Itoa(v), "value with spaces, colons: and <sip:1000@192.0.2.10>")
	}
	return e
}

// BenchmarkFireNoSubscriber is the cost a call pays to fire an event no
// one listens to.
func BenchmarkFireNoSubscriber(b *testing.B) {
	bus := events.NewBus(events.BusConfig{CoreUUID: "c"})
	e := channelEventLike(0)
	b.ReportAllocs()
	for range b.N {
		bus.Fire(e)
	}
}

// BenchmarkFanOut10 fires channel-sized events to ten connected clients
// that read everything: ns/op is the firing goroutine's cost per event
// (what a call pays), events/s the whole pipeline's throughput.
func BenchmarkFanOut10(b *testing.B) {
	ts := startServer(b, nil)
	const subs = 10
	var wg sync.WaitGroup
	counts := make([]atomic.Int64, subs)
	for i := range subs {
		nc, err := net.Dial("tcp", ts.addr)
		if err != nil {
			b.Fatal(err)
		}
		defer nc.Close()
		r := bufio.NewReaderSize(nc, 64<<10)
		nc.Write([]byte("auth secret\n\nevent plain CHANNEL_ANSWER\n\n"))
		for range 3 { // auth/request, two replies
			if _, err := ReadFrame(r, 1<<20); err != nil {
				b.Fatal(err)
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				p, err := ReadFrame(r, 1<<20)
				if err != nil {
					return
				}
				if p.ContentType() == "text/event-plain" && counts[i].Add(1) == int64(b.N) {
					io.Copy(io.Discard, r) // until closed
					return
				}
			}
		}()
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var fire time.Duration
	lowest := func() int64 {
		m := int64(b.N)
		for i := range counts {
			m = min(m, counts[i].Load())
		}
		return m
	}
	for i := range b.N {
		// Stay within the subscribers' buffers: this measures sustained
		// delivery, not the drop of a subscriber that falls behind.
		for int64(i)-lowest() > 5000 {
			time.Sleep(100 * time.Microsecond)
		}
		e := channelEventLike(i)
		t0 := time.Now()
		ts.bus.Fire(e)
		fire += time.Since(t0)
	}
	waitFor(b, "delivery", func() bool { return lowest() == int64(b.N) || ts.bus.Subscribers() < subs })
	elapsed := time.Since(start)
	b.StopTimer()
	if ts.bus.Subscribers() < subs {
		b.Fatalf("a subscriber was dropped (%d left)", ts.bus.Subscribers())
	}
	b.ReportMetric(float64(fire.Nanoseconds())/float64(b.N), "ns-fire/op")
	b.ReportMetric(float64(b.N*subs)/elapsed.Seconds(), "events/s")
	for _, c := range ts.openConns() {
		c.nc.Close()
	}
	wg.Wait()
}

// openConns returns the open connections.
func (s *Server) openConns() []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, c)
	}
	return out
}
