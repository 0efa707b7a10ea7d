package media

import (
	"context"
	"io"
	"slices"
	"sync"
	"time"
)

// Tap receives a copy of the audio a stream accepts, decoded to PCM at
// the codec's rate, in arrival order (no jitter buffer). It holds up to
// its capacity; when the reader falls behind, the oldest samples are
// dropped. Safe for concurrent use.
type Tap struct {
	s      *Stream
	notify chan struct{} // capacity 1: samples arrived or the tap ended

	mu      sync.Mutex
	buf     []int16
	r, w    uint64 // total samples read and written
	dropped uint64
	ended   bool
}

// Tap starts delivering received audio, keeping up to capacity of it
// (at least one frame). Close it when done.
func (s *Stream) Tap(capacity time.Duration) *Tap {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := max(int(capacity*time.Duration(s.codec.ClockRate)/time.Second), s.spf)
	t := &Tap{s: s, notify: make(chan struct{}, 1), buf: make([]int16, n)}
	if s.closed {
		t.ended = true
		return t
	}
	if s.rxPCM == nil {
		s.rxPCM = make([]int16, rxBufSize)
	}
	s.taps = append(s.taps, t)
	return t
}

// write appends pcm, dropping the oldest samples on overflow. Called
// with the stream's mutex held.
func (t *Tap) write(pcm []int16) {
	t.mu.Lock()
	if len(pcm) > len(t.buf) {
		t.dropped += uint64(len(pcm) - len(t.buf))
		pcm = pcm[len(pcm)-len(t.buf):]
	}
	size := uint64(len(t.buf))
	for _, v := range pcm {
		t.buf[t.w%size] = v
		t.w++
	}
	if t.w-t.r > size {
		t.dropped += t.w - t.r - size
		t.r = t.w - size
	}
	t.mu.Unlock()
	t.signal()
}

func (t *Tap) signal() {
	select {
	case t.notify <- struct{}{}:
	default:
	}
}

// Read copies up to len(pcm) buffered samples into pcm, waiting for
// audio when none is buffered. It returns io.EOF once the tap is closed
// (or the stream is) and drained, and ctx.Err() when ctx ends first.
func (t *Tap) Read(ctx context.Context, pcm []int16) (int, error) {
	if len(pcm) == 0 {
		return 0, nil
	}
	for {
		t.mu.Lock()
		if avail := t.w - t.r; avail > 0 {
			n := int(min(avail, uint64(len(pcm))))
			size := uint64(len(t.buf))
			for i := range n {
				pcm[i] = t.buf[(t.r+uint64(i))%size]
			}
			t.r += uint64(n)
			t.mu.Unlock()
			return n, nil
		}
		ended := t.ended
		t.mu.Unlock()
		if ended {
			return 0, io.EOF
		}
		select {
		case <-t.notify:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// Buffered is the number of samples waiting to be read.
func (t *Tap) Buffered() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return int(t.w - t.r)
}

// total is the number of samples ever written.
func (t *Tap) total() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.w
}

// Discard drops up to n of the oldest buffered samples and returns how
// many it dropped.
func (t *Tap) Discard(n int) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	d := min(uint64(max(n, 0)), t.w-t.r)
	t.r += d
	return int(d)
}

// Dropped is the number of samples lost because the reader fell behind.
func (t *Tap) Dropped() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.dropped
}

// Close stops delivery; buffered samples can still be read, then Read
// returns io.EOF. Close is idempotent.
func (t *Tap) Close() error {
	s := t.s
	s.mu.Lock()
	s.taps = slices.DeleteFunc(s.taps, func(x *Tap) bool { return x == t })
	s.sentTaps = slices.DeleteFunc(s.sentTaps, func(x *Tap) bool { return x == t })
	s.mu.Unlock()
	t.finish()
	return nil
}

// finish marks the tap ended and wakes a waiting reader.
func (t *Tap) finish() {
	t.mu.Lock()
	t.ended = true
	t.mu.Unlock()
	t.signal()
}
