package media

import (
	"runtime"
	"sync"
	"time"
)

const (
	// slotsPerPeriod divides each Ptime period: a pacer wakes once per
	// slot and serves the streams placed in it.
	slotsPerPeriod = 10
	slotDur        = Ptime / slotsPerPeriod
	// maxBehind is how far a pacer may fall behind its clock before it
	// skips ahead instead of sending a burst of late packets.
	maxBehind = 100 * time.Millisecond
)

// pacer is one goroutine sending the frames of its streams: each stream
// sits in one slot of a wheel of slotsPerPeriod slots and is visited once
// per period.
type pacer struct {
	e     *Engine
	id    int
	start time.Duration // engine mono time of slot 0, period 0

	mu    sync.Mutex
	wheel [slotsPerPeriod][]*Stream
	n     int

	wake chan struct{} // a stream was added (wakes an idle pacer)
	stop chan struct{}
	done chan struct{}
}

func newPacer(e *Engine, id int) *pacer {
	return &pacer{
		e:     e,
		id:    id,
		start: e.mono(),
		wake:  make(chan struct{}, 1),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
}

func (p *pacer) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

// add places s in the emptiest slot, unless s is closed (Close then
// finds it on no pacer). It takes the stream's lock after its own, as
// serve does.
func (p *pacer) add(s *Stream) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.pacer != nil {
		return
	}
	best := 0
	for i := 1; i < slotsPerPeriod; i++ {
		if len(p.wheel[i]) < len(p.wheel[best]) {
			best = i
		}
	}
	s.pacer, s.slot, s.slotIdx = p, best, len(p.wheel[best])
	p.wheel[best] = append(p.wheel[best], s)
	p.n++
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// remove takes s off the wheel; a no-op when it is not on it.
func (p *pacer) remove(s *Stream) {
	p.mu.Lock()
	defer p.mu.Unlock()
	slot := p.wheel[s.slot]
	i := s.slotIdx
	if i < 0 || i >= len(slot) || slot[i] != s {
		return
	}
	last := len(slot) - 1
	slot[i] = slot[last]
	slot[i].slotIdx = i
	slot[last] = nil
	p.wheel[s.slot] = slot[:last]
	s.slotIdx = -1
	p.n--
}

func (p *pacer) shutdown() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	<-p.done
}

// run is the pacer's loop: sleep until the next slot's deadline, serve
// the slot, repeat. Deadlines are absolute, so lateness never
// accumulates.
//
// A pacer sleeps with the kernel's nanosleep (on Linux) rather than a
// runtime timer: an idle Go program waits for its timers in epoll_wait,
// whose timeout is in whole milliseconds, so a runtime timer wakes up to
// a millisecond late, and a slot is 2 ms. With setup, the pacer owns its
// OS thread and runs setup on it first (the switch raises that thread's
// priority).
func (p *pacer) run(setup func() error) {
	defer close(p.done)
	if setup != nil {
		runtime.LockOSThread() // never unlocked: the thread exits with the pacer
		if err := setup(); err != nil {
			p.e.setupFailed.Do(func() { p.e.log.Warn("media pacer thread setup", "err", err) })
		}
	}
	var k uint64 // slots served since start
	for {
		if p.size() == 0 {
			// Nothing to pace: sleep until a stream is added instead of
			// waking every slot, then resume at the next slot boundary.
			select {
			case <-p.wake:
			case <-p.stop:
				return
			}
			k = uint64((p.e.mono()-p.start)/slotDur) + 1
			continue
		}
		deadline := p.start + time.Duration(k)*slotDur
		now := p.e.mono()
		if wait := deadline - now; wait > 0 {
			threadSleep(wait) // at most a slot: stop is seen below
			select {
			case <-p.stop:
				return
			default:
			}
			continue
		}
		if behind := now - deadline; behind > maxBehind {
			skip := uint64(behind / slotDur)
			k += skip
			p.e.skips.Add(skip)
			continue
		}
		p.e.wakeLateness.observe(now - deadline)
		p.serve(int(k%slotsPerPeriod), k/slotsPerPeriod, deadline)
		k++
		select {
		case <-p.stop:
			return
		default:
		}
	}
}

// serve visits every stream of one slot for the given period.
func (p *pacer) serve(slot int, period uint64, deadline time.Duration) {
	p.mu.Lock()
	for _, s := range p.wheel[slot] {
		s.tick(period, deadline)
	}
	p.mu.Unlock()
}
