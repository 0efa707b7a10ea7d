package media

import (
	"context"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestLoadManyStreams plays a tone on many streams at once and reports
// what the pacers achieved. It is a measurement rather than a unit test:
// it runs only when SWITCHBOARD_MEDIA_LOAD is set to the number of
// streams (e.g. 1500), and then checks the load target — at least 99.9%
// of the expected packets sent and a p99 send lateness of at most 5 ms.
// Run it on a quiet machine: other processes competing for the CPUs show
// up as wake lateness.
func TestLoadManyStreams(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("SWITCHBOARD_MEDIA_LOAD"))
	if n <= 0 {
		t.Skip("set SWITCHBOARD_MEDIA_LOAD=<streams> to run")
	}
	const seconds = 5
	e := newTestEngine(t)
	sink := newSink(t)
	streams := make([]*Stream, n)
	for i := range streams {
		streams[i] = openStream(t, e)
		if err := streams[i].SetRemote(RemoteParams{Addr: sink, Codec: PCMU}); err != nil {
			t.Fatal(err)
		}
	}
	uri := "tone_stream://%(" + strconv.Itoa(seconds*1000) + ",0,440)"
	var wg sync.WaitGroup
	start := time.Now()
	for _, s := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			src, err := OpenSource(uri, SourceOptions{})
			if err != nil {
				t.Error(err)
				return
			}
			defer src.Close()
			if _, err := s.Play(context.Background(), src, nil); err != nil {
				t.Error(err)
			}
		}()
	}
	// The steady state, after every stream's start-up burst.
	time.Sleep(seconds * time.Second / 2)
	mid := e.Stats().SendLateness
	wg.Wait()
	st := e.Stats()
	steady := st.SendLateness
	for i := range steady.Counts {
		steady.Counts[i] -= mid.Counts[i]
	}
	steady.Count -= mid.Count

	expected := uint64(n * seconds * 50)
	t.Logf("%d streams, %v: sent %d of %d packets (%.3f%%), underruns %d, skipped slots %d, send errors %d",
		n, time.Since(start).Round(time.Millisecond), st.Packets.Sent, expected,
		100*float64(st.Packets.Sent)/float64(expected), st.Packets.Underruns, st.PacerSkips, st.Packets.SendErrors)
	t.Logf("send lateness: %v", st.SendLateness)
	t.Logf("second half only: p50 <= %v, p99 <= %v", steady.Quantile(0.5), steady.Quantile(0.99))
	t.Logf("pacer wake lateness: %v", st.WakeLateness)
	if float64(st.Packets.Sent) < 0.999*float64(expected) {
		t.Errorf("sent %d packets, want at least 99.9%% of %d", st.Packets.Sent, expected)
	}
	if st.SendLateness.P99 > 5*time.Millisecond {
		t.Errorf("p99 send lateness %v, want <= 5ms", st.SendLateness.P99)
	}
}
