package media

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"
)

func pacedStreams(e *Engine) int {
	n := 0
	for _, p := range e.pacers {
		n += p.size()
	}
	return n
}

// TestStreamSendSideIsLazy: a stream that only receives (a signalling-only
// call) takes no place on a pacer and has no frame queue; its first
// producer sets them up, and Close takes the place back.
func TestStreamSendSideIsLazy(t *testing.T) {
	e := newTestEngine(t)
	peer := newPeer(t)
	s := openStream(t, e)
	if err := s.SetRemote(RemoteParams{Addr: peer.addr(), Codec: PCMU}); err != nil {
		t.Fatal(err)
	}
	s.Start()
	s.SetMediaTimeout(time.Hour, func() {})
	s.mu.Lock()
	queue, buf, pcm := s.queue.slots, s.sendBuf, s.rxPCM
	s.mu.Unlock()
	if n := pacedStreams(e); n != 0 || queue != nil || buf != nil || pcm != nil || s.outSem != nil {
		t.Fatalf("before any producer: %d paced streams, queue %v, send buffer %v, receive PCM %v", n, queue != nil, buf != nil, pcm != nil)
	}
	src, err := OpenSource("silence_stream://40", SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Play(context.Background(), src, nil); err != nil {
		t.Fatal(err)
	}
	if n := pacedStreams(e); n != 1 {
		t.Errorf("after Play: %d paced streams, want 1", n)
	}
	peer.waitPackets(t, 2)
	_ = s.Close()
	if n := pacedStreams(e); n != 0 {
		t.Errorf("after Close: %d paced streams, want 0", n)
	}
}

// TestStreamCloseRacesFirstProducer: a stream closed while its first
// producer starts is never left on a pacer.
func TestStreamCloseRacesFirstProducer(t *testing.T) {
	e := newTestEngine(t)
	far := netip.MustParseAddrPort("127.0.0.1:9")
	for range 200 {
		s, err := e.Open()
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetRemote(RemoteParams{Addr: far, Codec: PCMU}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			src, _ := OpenSource("silence_stream://20", SourceOptions{})
			_, _ = s.Play(context.Background(), src, nil)
		}()
		go func() {
			defer wg.Done()
			_ = s.Close()
		}()
		wg.Wait()
	}
	if n := pacedStreams(e); n != 0 {
		t.Errorf("%d closed streams left on the pacers", n)
	}
}
