package events

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// BusConfig configures a Bus: the values of the standard headers every
// event carries.
type BusConfig struct {
	// CoreUUID identifies this run of the switch (Core-UUID).
	CoreUUID string
	// Hostname and Switchname fill FreeSWITCH-Hostname and
	// FreeSWITCH-Switchname (Switchname defaults to Hostname).
	Hostname, Switchname string
	// IPv4 and IPv6 fill FreeSWITCH-IPv4 and FreeSWITCH-IPv6.
	IPv4, IPv6 string
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Logger receives the bus's own logs (dropped subscribers); nil means
	// slog.Default().
	Logger *slog.Logger
}

// Bus delivers fired events to subscribers. Firing never blocks: each
// subscription has its own buffer, and one that falls behind is dropped.
// A Bus is safe for concurrent use.
type Bus struct {
	cfg  BusConfig
	log  *slog.Logger
	seq  atomic.Uint64
	mu   sync.Mutex // serialises changes to subs
	subs atomic.Pointer[[]*Subscription]
}

// NewBus returns a bus.
func NewBus(cfg BusConfig) *Bus {
	if cfg.Switchname == "" {
		cfg.Switchname = cfg.Hostname
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	b := &Bus{cfg: cfg, log: cfg.Logger}
	if b.log == nil {
		b.log = slog.Default()
	}
	b.subs.Store(&[]*Subscription{})
	return b
}

// CoreUUID returns the bus's Core-UUID.
func (b *Bus) CoreUUID() string { return b.cfg.CoreUUID }

// Wants reports whether some subscriber would receive an event called
// name with the given subclass; a caller can skip building an expensive
// event when it is false. A nil Bus wants nothing.
func (b *Bus) Wants(name, subclass string) bool {
	if b == nil {
		return false
	}
	for _, s := range *b.subs.Load() {
		if s.interest.Load().match(name, subclass) {
			return true
		}
	}
	return false
}

// Fire stamps e with the standard headers (Core-UUID, FreeSWITCH-Hostname,
// FreeSWITCH-Switchname, FreeSWITCH-IPv4/IPv6, Event-Date-Local,
// Event-Date-GMT, Event-Date-Timestamp, Event-Calling-File/Function/
// Line-Number, Event-Sequence), placed right after Event-Name as
// FreeSWITCH places them, and hands it to every interested subscriber
// without blocking. e must not be changed afterwards. Firing on a nil Bus
// does nothing.
func (b *Bus) Fire(e *Event) {
	if b == nil || e == nil {
		return
	}
	subs := *b.subs.Load()
	if len(subs) == 0 {
		return
	}
	name, sub := e.Name(), e.Subclass()
	any := false
	for _, s := range subs {
		if s.interest.Load().match(name, sub) {
			any = true
			break
		}
	}
	if !any {
		return
	}
	b.stamp(e, 2)
	for _, s := range subs {
		s.deliver(e, name, sub)
	}
}

// Stamp adds the standard headers to e as Fire would, without firing it
// (for a dump of a channel's data in event form, such as uuid_dump). A
// nil Bus adds nothing.
func (b *Bus) Stamp(e *Event) {
	if b != nil && e != nil {
		b.stamp(e, 2)
	}
}

// stamp inserts the standard headers after Event-Name. skip counts the
// stack frames between the caller of Fire and stamp.
func (b *Bus) stamp(e *Event, skip int) {
	now := b.cfg.Now()
	file, fn, line := "", "", 0
	if pc, f, l, ok := runtime.Caller(skip); ok {
		file, line = filepath.Base(f), l
		if rf := runtime.FuncForPC(pc); rf != nil {
			fn = rf.Name()
			if i := strings.LastIndexByte(fn, '/'); i >= 0 {
				fn = fn[i+1:]
			}
		}
	}
	std := []Header{
		{"Core-UUID", b.cfg.CoreUUID},
		{"FreeSWITCH-Hostname", b.cfg.Hostname},
		{"FreeSWITCH-Switchname", b.cfg.Switchname},
		{"FreeSWITCH-IPv4", b.cfg.IPv4},
		{"FreeSWITCH-IPv6", b.cfg.IPv6},
		{"Event-Date-Local", now.Local().Format("2006-01-02 15:04:05")},
		{"Event-Date-GMT", now.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT")},
		{"Event-Date-Timestamp", strconv.FormatInt(now.UnixMicro(), 10)},
		{"Event-Calling-File", file},
		{"Event-Calling-Function", fn},
		{"Event-Calling-Line-Number", strconv.Itoa(line)},
		{"Event-Sequence", strconv.FormatUint(b.seq.Add(1), 10)},
	}
	at := 0
	if len(e.headers) > 0 && strings.EqualFold(e.headers[0].Name, "Event-Name") {
		at = 1
	}
	hs := make([]Header, 0, len(e.headers)+len(std))
	hs = append(hs, e.headers[:at]...)
	hs = append(hs, std...)
	hs = append(hs, e.headers[at:]...)
	e.headers = hs
}

// Subscribe returns a subscription whose buffer holds n events (n < 1
// means 1), interested in nothing until Add or AddSubclass is called.
// When the buffer is full at delivery the subscription is dropped: its
// channel is closed and Overflowed reports true.
func (b *Bus) Subscribe(n int) *Subscription {
	if n < 1 {
		n = 1
	}
	s := &Subscription{bus: b, ch: make(chan *Event, n)}
	s.interest.Store(&interest{})
	b.mu.Lock()
	old := *b.subs.Load()
	next := make([]*Subscription, len(old), len(old)+1)
	copy(next, old)
	next = append(next, s)
	b.subs.Store(&next)
	b.mu.Unlock()
	return s
}

// Subscribers returns the number of open subscriptions.
func (b *Bus) Subscribers() int { return len(*b.subs.Load()) }

func (b *Bus) remove(s *Subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	old := *b.subs.Load()
	next := make([]*Subscription, 0, len(old))
	for _, x := range old {
		if x != s {
			next = append(next, x)
		}
	}
	b.subs.Store(&next)
}

// interest is what a subscription wants; it is replaced, never changed,
// so Fire reads it without a lock.
type interest struct {
	all        bool
	names      map[string]bool
	subclasses map[string]bool
	filter     func(*Event) bool
}

func (in *interest) match(name, subclass string) bool {
	if in.all {
		return true
	}
	if !in.names[name] {
		return false
	}
	return name != "CUSTOM" || subclass == "" || in.subclasses[subclass]
}

func (in *interest) clone() *interest {
	out := &interest{all: in.all, filter: in.filter, names: map[string]bool{}, subclasses: map[string]bool{}}
	for k := range in.names {
		out.names[k] = true
	}
	for k := range in.subclasses {
		out.subclasses[k] = true
	}
	return out
}

// Subscription receives the events it is interested in from a Bus.
type Subscription struct {
	bus      *Bus
	ch       chan *Event
	interest atomic.Pointer[interest]
	change   sync.Mutex // serialises changes to interest
	mu       sync.Mutex // guards closed and sending on ch
	closed   bool
	overflow atomic.Bool
}

// C returns the channel events arrive on; it is closed when the
// subscription ends (Close, or dropped for falling behind).
func (s *Subscription) C() <-chan *Event { return s.ch }

// Add subscribes to events by name ("ALL" for every event). An unknown
// name is an error and changes nothing.
func (s *Subscription) Add(names ...string) error {
	for _, n := range names {
		if !Known(n) {
			return fmt.Errorf("unknown event name %q", n)
		}
	}
	s.update(func(in *interest) {
		for _, n := range names {
			if n == "ALL" {
				in.all = true
			}
			in.names[n] = true
		}
	})
	return nil
}

// AddSubclass subscribes to CUSTOM events with these subclasses.
func (s *Subscription) AddSubclass(subclasses ...string) {
	s.update(func(in *interest) {
		in.names["CUSTOM"] = true
		for _, c := range subclasses {
			in.subclasses[c] = true
		}
	})
}

// Remove unsubscribes from events by name ("ALL" removes the catch-all).
func (s *Subscription) Remove(names ...string) {
	s.update(func(in *interest) {
		for _, n := range names {
			if n == "ALL" {
				in.all = false
			}
			delete(in.names, n)
		}
	})
}

// RemoveSubclass unsubscribes from CUSTOM events with these subclasses.
func (s *Subscription) RemoveSubclass(subclasses ...string) {
	s.update(func(in *interest) {
		for _, c := range subclasses {
			delete(in.subclasses, c)
		}
	})
}

// Clear drops every subscribed name and subclass (the filter stays).
func (s *Subscription) Clear() {
	s.update(func(in *interest) {
		in.all = false
		clear(in.names)
		clear(in.subclasses)
	})
}

// SetFilter sets an extra predicate an event must satisfy to be
// delivered (nil removes it). It runs on the firing goroutine, so it must
// be quick and must not block.
func (s *Subscription) SetFilter(f func(*Event) bool) {
	s.update(func(in *interest) { in.filter = f })
}

func (s *Subscription) update(f func(*interest)) {
	s.change.Lock()
	defer s.change.Unlock()
	in := s.interest.Load().clone()
	f(in)
	s.interest.Store(in)
}

// Close ends the subscription and closes its channel; events already
// buffered can still be read. Closing twice is harmless.
func (s *Subscription) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.ch)
	s.mu.Unlock()
	s.bus.remove(s)
}

// Overflowed reports whether the subscription was dropped because its
// buffer was full.
func (s *Subscription) Overflowed() bool { return s.overflow.Load() }

func (s *Subscription) deliver(e *Event, name, subclass string) {
	in := s.interest.Load()
	if !in.match(name, subclass) || (in.filter != nil && !in.filter(e)) {
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	select {
	case s.ch <- e:
		s.mu.Unlock()
		return
	default:
	}
	s.overflow.Store(true)
	s.closed = true
	close(s.ch)
	s.mu.Unlock()
	s.bus.remove(s)
	s.bus.log.Warn("event subscriber fell behind and was dropped", "buffer", cap(s.ch), "event", name)
}
