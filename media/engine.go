package media

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is returned by operations on a closed Stream or Engine.
var ErrClosed = errors.New("media: closed")

// Config configures an Engine.
type Config struct {
	// IP is the address RTP sockets bind to. The zero Addr binds every
	// interface (dual-stack).
	IP netip.Addr
	// PortMin and PortMax bound the RTP ports (switch.conf.xml's
	// rtp-start-port and rtp-end-port, both inclusive). Only even ports
	// are used, as RTP convention wants; the odd port above each is left
	// for RTCP, which the engine does not bind. Both zero lets the kernel
	// choose (tests).
	PortMin, PortMax int
	// Pacers is the number of pacer goroutines; 0 means one per CPU
	// (GOMAXPROCS), at most 4.
	Pacers int
	// Logger receives the engine's logs; nil means slog.Default().
	Logger *slog.Logger
	// ThreadSetup, when set, is called by each pacer goroutine on the OS
	// thread it is locked to before it starts pacing (the switch raises
	// that thread's scheduling priority with it, as FreeSWITCH runs its
	// timer thread at real-time priority). The first error of any pacer
	// is logged, once; the pacers run as they are.
	ThreadSetup func() error
}

// Engine owns the RTP port range, the shared pacers and the statistics.
// It is safe for concurrent use.
type Engine struct {
	log    *slog.Logger
	ports  *portAllocator
	pacers []*pacer
	epoch  time.Time

	lateness     histogram // per packet: sent after its slot's deadline
	wakeLateness histogram // per slot: the pacer woke after the deadline
	skips        atomic.Uint64
	setupFailed  sync.Once // logs the first failed Config.ThreadSetup

	// rxBufs holds the receive buffers (*[rxBufSize]byte) of streams
	// whose receive loop has ended, for the next streams to start: a
	// call that never receives a packet then costs no buffer of its own.
	rxBufs sync.Pool

	mu      sync.Mutex
	streams map[*Stream]struct{}
	retired PacketStats // counters of closed streams
	closed  bool
}

// NewEngine validates cfg and starts the pacers.
func NewEngine(cfg Config) (*Engine, error) {
	ports, err := newPortAllocator(cfg.IP, cfg.PortMin, cfg.PortMax)
	if err != nil {
		return nil, err
	}
	n := cfg.Pacers
	if n <= 0 {
		n = min(runtime.GOMAXPROCS(0), 4)
	}
	if n > 64 {
		return nil, fmt.Errorf("media: %d pacers is too many (at most 64)", n)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	e := &Engine{
		log:     log.With("subsystem", "media"),
		ports:   ports,
		epoch:   time.Now(),
		streams: make(map[*Stream]struct{}),
	}
	for i := range n {
		p := newPacer(e, i)
		e.pacers = append(e.pacers, p)
		go p.run(cfg.ThreadSetup)
	}
	return e, nil
}

// mono is the engine's monotonic clock: time since the engine started.
func (e *Engine) mono() time.Duration { return time.Since(e.epoch) }

// Open binds the next free port of the range and returns a stream on it.
// The stream sends nothing until it has a remote (SetRemote) and a
// producer (Play, Echo, SendDTMF), and receives nothing until Start. It
// joins a pacer when its first producer starts.
// It fails with ErrNoPorts when the range is exhausted.
func (e *Engine) Open() (*Stream, error) {
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	conn, port, err := e.ports.acquire()
	if err != nil {
		return nil, err
	}
	s := newStream(e, conn, port)
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		_ = conn.Close()
		e.ports.release(port)
		return nil, ErrClosed
	}
	e.streams[s] = struct{}{}
	e.mu.Unlock()
	return s, nil
}

func (e *Engine) leastLoadedPacer() *pacer {
	best := e.pacers[0]
	bestN := best.size()
	for _, p := range e.pacers[1:] {
		if n := p.size(); n < bestN {
			best, bestN = p, n
		}
	}
	return best
}

// forget is called by Stream.Close.
func (e *Engine) forget(s *Stream) {
	st := s.ctr.snapshot()
	e.mu.Lock()
	delete(e.streams, s)
	e.retired.add(st)
	e.mu.Unlock()
	e.ports.release(s.port)
}

// Stats returns a snapshot of the engine: open streams, ports, packet
// counters (open and closed streams together) and the send-lateness
// histogram.
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	st := Stats{
		Streams: len(e.streams),
		Packets: e.retired,
	}
	open := make([]*Stream, 0, len(e.streams))
	for s := range e.streams {
		open = append(open, s)
	}
	e.mu.Unlock()
	for _, s := range open {
		st.Packets.add(s.ctr.snapshot())
	}
	st.PortsInUse = e.ports.inUseCount()
	st.PortsTotal = e.ports.total()
	st.Pacers = len(e.pacers)
	st.PacerSkips = e.skips.Load()
	st.SendLateness = e.lateness.snapshot()
	st.WakeLateness = e.wakeLateness.snapshot()
	return st
}

// Close closes every stream and stops the pacers. Further Opens fail.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	open := make([]*Stream, 0, len(e.streams))
	for s := range e.streams {
		open = append(open, s)
	}
	e.mu.Unlock()
	for _, s := range open {
		_ = s.Close()
	}
	for _, p := range e.pacers {
		p.shutdown()
	}
	return nil
}

func (p *PacketStats) add(o PacketStats) {
	p.Sent += o.Sent
	p.SentBytes += o.SentBytes
	p.SendErrors += o.SendErrors
	p.Received += o.Received
	p.ReceivedBytes += o.ReceivedBytes
	p.Accepted += o.Accepted
	p.Foreign += o.Foreign
	p.Malformed += o.Malformed
	p.UnknownPT += o.UnknownPT
	p.BadSSRC += o.BadSSRC
	p.BadSeq += o.BadSeq
	p.Discarded += o.Discarded
	p.Underruns += o.Underruns
	p.DTMFIn += o.DTMFIn
	p.DTMFOut += o.DTMFOut
	p.AudioIn += o.AudioIn
	p.DTMFPktsIn += o.DTMFPktsIn
	p.Relayed += o.Relayed
	p.RelayDropped += o.RelayDropped
}
