package session

import (
	"context"
	"sync"
	"time"
)

// dtmfQueue holds a call's received digits (apps.DTMFQueue).
type dtmfQueue struct {
	mu     sync.Mutex
	digits []rune
	notify chan struct{} // closed and replaced when a digit arrives
}

func newDTMFQueue() *dtmfQueue { return &dtmfQueue{notify: make(chan struct{})} }

// push queues a received digit; safe from any goroutine. The queue keeps
// at most 128 digits (older ones are dropped first), so a flood cannot
// grow it without bound.
func (q *dtmfQueue) push(d rune) {
	q.mu.Lock()
	if len(q.digits) >= 128 {
		q.digits = q.digits[1:]
	}
	q.digits = append(q.digits, d)
	close(q.notify)
	q.notify = make(chan struct{})
	q.mu.Unlock()
}

func (q *dtmfQueue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.digits)
}

func (q *dtmfQueue) Peek() (rune, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.digits) == 0 {
		return 0, false
	}
	return q.digits[0], true
}

func (q *dtmfQueue) Pop() (rune, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.digits) == 0 {
		return 0, false
	}
	d := q.digits[0]
	q.digits = q.digits[1:]
	return d, true
}

func (q *dtmfQueue) Wait(ctx context.Context, timeout time.Duration) (rune, bool) {
	var timer <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		timer = t.C
	}
	for {
		q.mu.Lock()
		if len(q.digits) > 0 {
			d := q.digits[0]
			q.digits = q.digits[1:]
			q.mu.Unlock()
			return d, true
		}
		ch := q.notify
		q.mu.Unlock()
		select {
		case <-ch:
		case <-timer:
			return 0, false
		case <-ctx.Done():
			return 0, false
		}
	}
}

func (q *dtmfQueue) Flush() {
	q.mu.Lock()
	q.digits = nil
	q.mu.Unlock()
}
