package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/media"
)

// TestBoundsMatchEngine keeps the baseline comparable: its buckets must
// be the media engine's.
func TestBoundsMatchEngine(t *testing.T) {
	e, err := media.NewEngine(media.Config{
		IP:     netip.MustParseAddr("127.0.0.1"),
		Pacers: 1,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if got := e.Stats().SendLateness.Bounds; !slices.Equal(got, latenessBounds) {
		t.Fatalf("engine bounds %v, barepacer %v", got, latenessBounds)
	}
}

func TestLatenessQuantiles(t *testing.T) {
	us := time.Microsecond
	for _, tc := range []struct {
		name               string
		samples            []time.Duration
		wantP99, wantExact time.Duration
	}{
		{"empty", nil, 0, 0},
		{"negative counts as zero", []time.Duration{-5 * us}, 0, 0},
		{"one sample", []time.Duration{1234 * us}, 1234 * us, 1234 * us},
		// 99 samples of 40 µs and one of 4 ms: the 99th is 40 µs.
		{"tail above p99", append(repeat(40*us, 99), 4000*us), 100 * us, 50 * us},
		// 98 of 40 µs, two of 4 ms: the 99th is in the 5 ms bucket.
		{"tail at p99", append(repeat(40*us, 98), 4000*us, 4000*us), 4000 * us, 4000 * us},
		{"beyond the fine range", []time.Duration{time.Second}, time.Second, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLateness()
			for _, d := range tc.samples {
				l.observe(d)
			}
			if got := l.coarse.Quantile(0.99); got != tc.wantP99 {
				t.Errorf("coarse p99 = %v, want %v", got, tc.wantP99)
			}
			if got := l.exact(0.99); got != tc.wantExact {
				t.Errorf("exact p99 = %v, want %v", got, tc.wantExact)
			}
			if l.coarse.Count != uint64(len(tc.samples)) {
				t.Errorf("count = %d, want %d", l.coarse.Count, len(tc.samples))
			}
		})
	}
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

// TestRunSends paces a few streams briefly and checks the accounting:
// every expected packet is sent and received on loopback.
func TestRunSends(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"-streams", "3", "-duration", "100ms"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	line := out.String()
	for _, want := range []string{"streams=3 ", "expected=15 ", "sent=15 ", "send_errors=0 ", "received=15 "} {
		if !strings.Contains(line, want) {
			t.Errorf("output lacks %q: %s", want, line)
		}
	}
}

func TestRunRefuses(t *testing.T) {
	for _, args := range [][]string{
		{"-streams", "0"},
		{"-slots", "0"},
		{"-duration", "1ms"},
		{"-ip", "192.0.2.1"},
		{"-nosuchflag"},
	} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
