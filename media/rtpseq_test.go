package media

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"testing"
	"time"
)

func TestSourceGate(t *testing.T) {
	type pkt struct {
		ssrc uint32
		seq  uint16
		want gateResult
	}
	tests := []struct {
		name string
		pkts []pkt
	}{
		{"in order", []pkt{{1, 10, gateOK}, {1, 11, gateOK}, {1, 12, gateOK}}},
		{"wrap", []pkt{{1, 65534, gateOK}, {1, 65535, gateOK}, {1, 0, gateOK}, {1, 1, gateOK}}},
		{"small gap (loss)", []pkt{{1, 10, gateOK}, {1, 15, gateOK}, {1, 16, gateOK}}},
		{"duplicate and reordered are accepted", []pkt{{1, 10, gateOK}, {1, 12, gateOK}, {1, 11, gateOK}, {1, 12, gateOK}, {1, 13, gateOK}}},
		{"jump confirmed by the next packet", []pkt{{1, 10, gateOK}, {1, 5010, gateBadSeq}, {1, 5011, gateOK}, {1, 5012, gateOK}}},
		{"lone jump ignored", []pkt{{1, 10, gateOK}, {1, 5010, gateBadSeq}, {1, 11, gateOK}, {1, 30000, gateBadSeq}, {1, 12, gateOK}}},
		{"far in the past ignored", []pkt{{1, 1000, gateOK}, {1, 500, gateBadSeq}, {1, 1001, gateOK}}},
		{"new SSRC after two in sequence", []pkt{{1, 10, gateOK}, {2, 500, gateBadSSRC}, {2, 501, gateOK}, {2, 502, gateOK}, {1, 11, gateBadSSRC}}},
		{"stray SSRCs never take over", []pkt{{1, 10, gateOK}, {7, 3, gateBadSSRC}, {1, 11, gateOK}, {8, 3, gateBadSSRC}, {7, 3, gateBadSSRC}, {1, 12, gateOK}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g sourceGate
			for i, p := range tt.pkts {
				if got := g.admit(p.ssrc, p.seq); got != p.want {
					t.Errorf("packet %d (ssrc %d seq %d) = %d, want %d", i, p.ssrc, p.seq, got, p.want)
				}
			}
		})
	}
}

func TestSetRemoteAgain(t *testing.T) {
	e := newTestEngine(t)
	s := openStream(t, e)
	sdp := netip.MustParseAddrPort("10.0.0.5:4000")
	src := netip.MustParseAddrPort("127.0.0.1:40000")
	params := RemoteParams{Addr: sdp, Codec: PCMU, Latch: true}
	if err := s.SetRemote(params); err != nil {
		t.Fatal(err)
	}
	s.receive(rtpBytes(t, 0, 1, 160, 9, true, make([]byte, 160)), src)
	if s.Remote() != src {
		t.Fatalf("not latched: %v", s.Remote())
	}
	// The same offer again (a session refresh) keeps the latch; a codec
	// change applies at once.
	params.Codec = PCMA
	params.Codec.PayloadType = 8
	if err := s.SetRemote(params); err != nil {
		t.Fatal(err)
	}
	if s.Remote() != src || s.Codec() != PCMA {
		t.Errorf("after refresh: remote %v codec %v", s.Remote(), s.Codec())
	}
	// A new address starts over.
	params.Addr = netip.MustParseAddrPort("10.0.0.6:4000")
	if err := s.SetRemote(params); err != nil {
		t.Fatal(err)
	}
	if s.Remote() != params.Addr || s.Stats().Latched {
		t.Errorf("after a new address: remote %v latched %v", s.Remote(), s.Stats().Latched)
	}
}

func TestTap(t *testing.T) {
	e := newTestEngine(t)
	s := openStream(t, e)
	src := netip.MustParseAddrPort("127.0.0.1:40000")
	if err := s.SetRemote(RemoteParams{Addr: src, Codec: PCMU}); err != nil {
		t.Fatal(err)
	}
	tap := s.Tap(40 * time.Millisecond) // room for two frames
	payload := make([]byte, 160)
	for i := range payload {
		payload[i] = byte(i)
	}
	for i := range 3 {
		s.receive(rtpBytes(t, 0, uint16(i), uint32(160*i), 9, i == 0, payload), src)
	}
	if tap.Buffered() != 320 || tap.Dropped() != 160 {
		t.Errorf("buffered %d dropped %d", tap.Buffered(), tap.Dropped())
	}
	want := make([]int16, 160)
	PCMU.Decode(want, payload)
	got := make([]int16, 100)
	if n, err := tap.Read(context.Background(), got); n != 100 || err != nil || got[5] != want[5] {
		t.Errorf("Read = %d, %v, sample %d (want %d)", n, err, got[5], want[5])
	}
	if n := tap.Discard(1000); n != 220 {
		t.Errorf("Discard = %d", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := tap.Read(ctx, got); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Read on an empty tap: %v", err)
	}
	s.receive(rtpBytes(t, 0, 3, 480, 9, false, payload), src)
	tap.Close()
	if n, err := tap.Read(context.Background(), got); n != 100 || err != nil {
		t.Errorf("buffered audio after Close: %d, %v", n, err)
	}
	tap.Discard(1000)
	if _, err := tap.Read(context.Background(), got); !errors.Is(err, io.EOF) {
		t.Errorf("drained closed tap: %v", err)
	}
	// A tap on a closing stream ends.
	t2 := s.Tap(time.Second)
	s.Close()
	if _, err := t2.Read(context.Background(), got); !errors.Is(err, io.EOF) {
		t.Errorf("tap of a closed stream: %v", err)
	}
}
