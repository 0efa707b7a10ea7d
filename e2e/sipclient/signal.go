package sipclient

import (
	"context"
	"sync"
)

// signal tells waiters that something changed: its channel is closed and
// replaced, under its owner's lock, on every change (Call, Incoming,
// Phone and the RTP session each keep one).
type signal chan struct{}

// wake wakes every waiter; the caller holds the owner's lock.
func (s *signal) wake() {
	close(*s)
	*s = make(chan struct{})
}

// waitUntil blocks until cond, run under mu, holds or ctx ends; s is the
// owner's signal, read under mu each time round.
func waitUntil(ctx context.Context, mu *sync.Mutex, s *signal, cond func() bool) error {
	for {
		mu.Lock()
		ok := cond()
		ch := *s
		mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
