package media

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/rtp"
)

// RemoteParams is what the SDP negotiation decided about the far end.
type RemoteParams struct {
	// Addr is where the far end receives RTP (the SDP's c= and m= lines).
	// An unspecified address or port 0 (hold, a=inactive) stops sending;
	// frames are still paced and counted as discarded.
	Addr netip.AddrPort
	// Codec is the audio codec both ends send; it must be Supported.
	Codec Codec
	// DTMFPayloadType is the payload type of telephone-event
	// (RFC 4733); 0 means none was negotiated.
	DTMFPayloadType uint8
	// Latch accepts media from the source of the first valid RTP packet
	// instead of Addr, and sends there from then on: FreeSWITCH's RTP
	// auto-adjust, for callers behind NAT. The stream latches once and
	// never moves afterwards. The signalling layer decides when to latch.
	Latch bool
}

// Digit is a telephone event received or sent.
type Digit struct {
	Digit    rune          // 0-9, *, #, A-D, or F (flash)
	Duration time.Duration // the event's duration as the sender reported it
}

// Stream is one call's RTP session on one local port. Its methods are
// safe for concurrent use, but one producer (Play, Echo, SendDTMF) runs
// at a time: a second waits for the first to finish. A stream in a
// Bridge sends its peer's audio whenever no producer runs.
//
// What only sending needs — the frame queue, the send buffer, a place on
// a pacer — is set up when the first producer starts, so a call that
// never plays anything (a signalling-only call) costs a socket, its
// receive goroutine and little else.
type Stream struct {
	e     *Engine
	conn  *net.UDPConn
	port  int
	local netip.AddrPort
	ctr   counters

	// placement on the pacer's wheel: pacer is set (once, with both
	// pacer.mu and mu held) when the stream joins it; slot and slotIdx
	// are guarded by pacer.mu.
	pacer   *pacer
	slot    int
	slotIdx int

	done      chan struct{} // closed by Close
	closeOnce sync.Once
	outOnce   sync.Once     // sets up the send side (output)
	outSem    chan struct{} // held by the running producer
	space     chan struct{} // the queue fell to queueLowWater or emptied (capacity 1)

	mu sync.Mutex
	// guarded by mu
	closed    bool
	started   bool
	codec     Codec
	spf       int // samples per frame
	hasRemote bool
	sdpRemote netip.AddrPort
	remote    netip.AddrPort // where to send and what to accept
	latch     bool
	latched   bool
	dtmfPT    uint8
	onDTMF    func(Digit)
	onLatch   func(netip.AddrPort)
	timeout   time.Duration
	onTimeout func()
	toTimer   *time.Timer   // runs checkTimeout; nil until a timeout is set
	lastRecv  time.Duration // engine mono time of the last accepted packet
	timedOut  bool
	taps      []*Tap
	sentTaps  []*Tap  // copies of the audio sent (TapSent)
	sentPCM   []int16 // decoded pre-encoded frames for sentTaps

	// send side, guarded by mu (the pacer holds it while sending)
	queue     frameQueue
	producing bool // a producer is filling the queue
	played    int64
	hdr       rtp.Header
	tsBase    uint32
	everSent  bool
	lastSent  uint64 // period of the last packet sent
	needMark  bool
	dtmfTS    uint32
	dtmfOpen  bool // an event started and not yet ended
	dtmfLast  dtmfEvent
	sendBuf   []byte
	owned     bool // a producer holds the output (acquireOutput)

	// bridging, guarded by mu
	br    *bridge    // the bridge the stream is in, or nil
	relay relayState // how relayed packets map onto the stream's numbering
	// tsFloor, when tsFloorSet, is the lowest timestamp the next run of
	// packets may start at: relayed packets follow the sender's clock,
	// which may run ahead of the pacer's.
	tsFloor    uint32
	tsFloorSet bool

	// receive side, guarded by mu
	gate   sourceGate
	rxPkt  rtp.Packet
	rxPCM  []int16 // decoded audio for the taps; allocated with the first tap
	dtmfRx dtmfReceiver
}

const (
	rxBufSize = 2048
	maxRTPHdr = 12 + 15*4 // fixed header plus 15 CSRCs
)

func newStream(e *Engine, conn *net.UDPConn, port int) *Stream {
	local := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	s := &Stream{
		e:       e,
		conn:    conn,
		port:    port,
		local:   netip.AddrPortFrom(local.Addr().Unmap(), local.Port()),
		done:    make(chan struct{}),
		codec:   PCMU,
		spf:     PCMU.FrameSamples(),
		slotIdx: -1,
		tsBase:  rand.Uint32(),
	}
	s.hdr = rtp.Header{Version: 2, SSRC: rand.Uint32(), SequenceNumber: uint16(rand.Uint32())}
	return s
}

// logger is the stream's logger (made when there is something to log).
func (s *Stream) logger() *slog.Logger { return s.e.log.With("rtp_port", s.local.Port()) }

// output sets up the send side on the first call: the producer
// semaphore, the frame queue and send buffer, and a place on the least
// loaded pacer. Producers call it first; a closed stream gets no place.
func (s *Stream) output() {
	s.outOnce.Do(func() {
		s.outSem = make(chan struct{}, 1)
		s.space = make(chan struct{}, 1)
		s.mu.Lock()
		s.queue = newFrameQueue(queueDepth, s.spf)
		s.sendBuf = make([]byte, maxRTPHdr+rxBufSize)
		s.mu.Unlock()
		s.e.leastLoadedPacer().add(s)
	})
}

// LocalAddr is the address the stream's socket is bound to. With an
// Engine bound to every interface the address is unspecified; the SDP
// layer substitutes its own.
func (s *Stream) LocalAddr() netip.AddrPort { return s.local }

// Codec is the codec set by SetRemote (PCMU before).
func (s *Stream) Codec() Codec {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.codec
}

// Remote is where the stream sends: the SDP address, or the latched one.
// The zero AddrPort before SetRemote.
func (s *Stream) Remote() netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.remote
}

// SetRemote sets the far end's address, codec and DTMF payload type. It
// may be called again (re-INVITE): the codec change applies from the next
// frame sent. A new address — or a change of Latch — starts over: the
// stream accepts the new address (or latches again) and forgets the old
// source's SSRC. The same address again keeps a latch already made.
func (s *Stream) SetRemote(p RemoteParams) error {
	if !p.Codec.Supported() {
		return fmt.Errorf("media: unsupported codec %s/%d (payload type %d)", p.Codec.Name, p.Codec.ClockRate, p.Codec.PayloadType)
	}
	if p.DTMFPayloadType >= 128 || (p.DTMFPayloadType != 0 && p.DTMFPayloadType == p.Codec.PayloadType) {
		return fmt.Errorf("media: bad telephone-event payload type %d", p.DTMFPayloadType)
	}
	addr := netip.AddrPortFrom(p.Addr.Addr().Unmap(), p.Addr.Port())
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if p.Codec.FrameSamples() != s.spf {
		return fmt.Errorf("media: codec %s changes the frame size", p.Codec)
	}
	if !s.hasRemote || addr != s.sdpRemote || p.Latch != s.latch {
		s.sdpRemote = addr
		s.remote = addr
		s.latch = p.Latch
		s.latched = false
		s.gate.reset()
	}
	s.hasRemote = true
	s.codec = p.Codec
	s.dtmfPT = p.DTMFPayloadType
	return nil
}

// OnDTMF sets the function called once per telephone event received
// (at its end, deduplicated by RTP timestamp). It runs on the stream's
// receive goroutine and must not block.
func (s *Stream) OnDTMF(f func(Digit)) {
	s.mu.Lock()
	s.onDTMF = f
	s.mu.Unlock()
}

// OnLatch sets the function called when a latching stream learns its
// remote address (with that address). It runs on the receive goroutine
// and must not block.
func (s *Stream) OnLatch(f func(netip.AddrPort)) {
	s.mu.Lock()
	s.onLatch = f
	s.mu.Unlock()
}

// SetMediaTimeout arranges for f to be called, once, on its own
// goroutine, when no RTP has been accepted for d (FreeSWITCH's
// media_timeout: the caller hangs up with MEDIA_TIMEOUT). The clock
// starts now and restarts at every accepted packet; it only runs while
// the stream is started. d <= 0 disables it; a new call replaces the
// previous timeout and re-arms it (use a longer one while the call is on
// hold). One timer per stream checks it when it would expire, so packets
// cost nothing but a clock reading.
func (s *Stream) SetMediaTimeout(d time.Duration, f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.timeout = d
	s.onTimeout = f
	s.lastRecv = s.e.mono()
	s.timedOut = false
	switch {
	case s.closed:
	case d <= 0 || f == nil:
		if s.toTimer != nil {
			s.toTimer.Stop()
		}
	case s.toTimer == nil:
		s.toTimer = time.AfterFunc(d, s.checkTimeout)
	default:
		s.toTimer.Reset(d)
	}
}

// checkTimeout runs when the media timeout may have expired: it calls
// the timeout function, or re-arms the timer for what is left.
func (s *Stream) checkTimeout() {
	s.mu.Lock()
	if s.closed || s.timedOut || s.timeout <= 0 || s.onTimeout == nil {
		s.mu.Unlock()
		return
	}
	idle := time.Duration(0)
	if s.started {
		idle = s.e.mono() - s.lastRecv
	}
	if idle < s.timeout {
		s.toTimer.Reset(s.timeout - idle)
		s.mu.Unlock()
		return
	}
	s.timedOut = true
	f := s.onTimeout
	s.mu.Unlock()
	f()
}

// Start starts the receive loop. Packets that arrive before Start wait in
// the socket buffer; packets that arrive before SetRemote are dropped as
// foreign. Start is a no-op when already started or closed.
func (s *Stream) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closed {
		return
	}
	s.started = true
	s.lastRecv = s.e.mono()
	go s.recvLoop()
}

// Stats returns the stream's counters and addresses.
func (s *Stream) Stats() StreamStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return StreamStats{
		Local:      s.local,
		Remote:     s.remote,
		SDPRemote:  s.sdpRemote,
		Latched:    s.latched,
		SSRC:       s.hdr.SSRC,
		RemoteSSRC: s.gate.cur.ssrc,
		Packets:    s.ctr.snapshot(),
	}
}

// Close releases the port and stops the stream: producers return
// ErrClosed, taps reach EOF. A callback (OnDTMF, OnLatch, the media
// timeout) for a packet or check already under way may still run shortly
// after Close returns. Close is idempotent.
func (s *Stream) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.queue.flush()
		taps := append(s.taps, s.sentTaps...)
		s.taps, s.sentTaps = nil, nil
		p := s.pacer
		if s.toTimer != nil {
			s.toTimer.Stop()
		}
		s.mu.Unlock()
		for _, t := range taps {
			t.finish()
		}
		close(s.done)
		if p != nil {
			p.remove(s)
		}
		_ = s.conn.Close()
		s.e.forget(s)
	})
	return nil
}

func (s *Stream) recvLoop() {
	// The buffer goes back to the engine once the loop ends: the stream
	// is closed then, so receive, the only reader of what it holds
	// (s.rxPkt points into it), returns before looking.
	arr, _ := s.e.rxBufs.Get().(*[rxBufSize]byte)
	if arr == nil {
		arr = new([rxBufSize]byte)
	}
	defer func() {
		// Nothing of this stream may point into a buffer another stream
		// is about to fill.
		s.mu.Lock()
		s.rxPkt = rtp.Packet{}
		s.mu.Unlock()
		s.e.rxBufs.Put(arr)
	}()
	buf := arr[:]
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case <-s.done:
				return
			default:
			}
			// A transient error (ICMP feedback on some systems): keep
			// reading, but do not spin.
			time.Sleep(time.Millisecond)
			continue
		}
		s.receive(buf[:n], from)
	}
}

// receive runs the checks of one datagram and dispatches it. It is the
// whole receive path, separate from the socket for tests and fuzzing.
func (s *Stream) receive(b []byte, from netip.AddrPort) {
	s.ctr.recv.Add(1)
	s.ctr.recvBytes.Add(uint64(len(b)))
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	// 1. Source address: the cheapest check first, so a flood from
	// elsewhere costs one comparison.
	latchNow := false
	if !s.hasRemote || from != s.remote {
		if !s.hasRemote || !s.latch || s.latched {
			s.mu.Unlock()
			s.ctr.foreign.Add(1)
			return
		}
		latchNow = true
	}
	// 2. RTP header.
	if len(b) < 12 || b[0]>>6 != 2 || len(b) >= rxBufSize {
		s.mu.Unlock()
		s.ctr.malformed.Add(1)
		return
	}
	if err := s.rxPkt.Unmarshal(b); err != nil {
		s.mu.Unlock()
		s.ctr.malformed.Add(1)
		return
	}
	// 3. Payload type.
	pt := s.rxPkt.PayloadType
	isDTMF := s.dtmfPT != 0 && pt == s.dtmfPT
	isAudio := pt == s.codec.PayloadType
	if !isDTMF && !isAudio && pt != ptComfortNoise {
		s.mu.Unlock()
		s.ctr.unknownPT.Add(1)
		return
	}
	// 4. Latch onto the first valid packet's source.
	var latched func(netip.AddrPort)
	if s.latch && !s.latched {
		s.latched = true
		if latchNow {
			s.logger().Info("RTP auto-adjust: latched onto the media source",
				"sdp", s.sdpRemote.String(), "source", from.String())
			s.remote = from
			latched = s.onLatch
		}
	}
	// 5. SSRC and sequence (RFC 3550 A.1). Telephone events are taken
	// from any SSRC of the accepted address: some gateways send them
	// under their own.
	res := s.gate.admit(s.rxPkt.SSRC, s.rxPkt.SequenceNumber)
	if !isDTMF && res != gateOK {
		s.mu.Unlock()
		if res == gateBadSSRC {
			s.ctr.badSSRC.Add(1)
		} else {
			s.ctr.badSeq.Add(1)
		}
		if latched != nil {
			latched(from)
		}
		return
	}
	s.ctr.accepted.Add(1)
	s.lastRecv = s.e.mono()

	var digit Digit
	var onDigit func(Digit)
	gotDigit := false
	br := s.br
	var fwd relayPacket
	forward := false
	switch {
	case isDTMF:
		s.ctr.acceptedDTMFPkts.Add(1)
		if d, ok := s.dtmfRx.packet(s.rxPkt.Timestamp, s.rxPkt.Payload, s.codec.ClockRate); ok {
			digit, onDigit, gotDigit = d, s.onDTMF, true
			s.ctr.dtmfIn.Add(1)
		}
	case isAudio:
		s.ctr.acceptedAudio.Add(1)
		if len(s.taps) > 0 {
			n := s.codec.Decode(s.rxPCM, s.rxPkt.Payload)
			for _, t := range s.taps {
				t.write(s.rxPCM[:n])
			}
		}
		if br != nil {
			// The payload stays valid after the unlock: it lies in b,
			// which belongs to this call.
			forward = true
			fwd = relayPacket{
				ssrc: s.rxPkt.SSRC, ts: s.rxPkt.Timestamp, marker: s.rxPkt.Marker,
				alaw: s.codec.isAlaw(), payload: s.rxPkt.Payload,
			}
		}
	}
	s.mu.Unlock()
	if latched != nil {
		latched(from)
	}
	if onDigit != nil {
		onDigit(digit)
	}
	if br != nil {
		switch {
		case forward:
			br.forward(s, &fwd)
		case gotDigit:
			br.forwardDigit(s, digit)
		}
	}
}

// ptComfortNoise is RFC 3389 comfort noise: accepted as a sign of life,
// not played.
const ptComfortNoise = 13

// tick is the pacer's visit for one period: send the next queued frame,
// if any. The pacer holds its own lock, never the stream's, when calling
// it.
func (s *Stream) tick(period uint64, deadline time.Duration) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	f := s.queue.pop()
	if f == nil {
		if s.producing {
			s.ctr.underruns.Add(1)
		}
		s.mu.Unlock()
		return
	}
	switch f.kind {
	case frameAudio:
		s.played += int64(f.n)
		s.sendAudio(f, period, deadline)
	case frameDTMF:
		s.sendDTMFFrame(&f.ev, period, deadline)
	case frameGap:
	}
	left := s.queue.count
	s.mu.Unlock()
	// Wake the producer when the queue falls to queueLowWater (it
	// refills it) or empties (Play and SendDTMF wait for that at the end),
	// not after every frame: a wake-up costs more than the rest of the
	// visit.
	if left == queueLowWater || left == 0 {
		select {
		case s.space <- struct{}{}:
		default:
		}
	}
}

// canSend reports whether the remote address is usable. Caller holds mu.
func (s *Stream) canSend() bool {
	return s.hasRemote && s.remote.Port() != 0 && s.remote.Addr().IsValid() && !s.remote.Addr().IsUnspecified()
}

func (s *Stream) timestamp(period uint64) uint32 {
	return s.tsBase + uint32(period)*uint32(s.spf)
}

// frameTS is the timestamp of a frame sent in period, moved on (with
// the clock from then on) to tsFloor when relayed packets went further,
// so timestamps never go back. Caller holds mu.
func (s *Stream) frameTS(period uint64) uint32 {
	ts := s.timestamp(period)
	if s.tsFloorSet {
		if d := int32(s.tsFloor - ts); d > 0 {
			s.tsBase += uint32(d)
			ts = s.tsFloor
		}
		s.tsFloorSet = false
	}
	return ts
}

func (s *Stream) sendAudio(f *frame, period uint64, deadline time.Duration) {
	if !s.canSend() {
		s.ctr.discarded.Add(1)
		return
	}
	s.hdr.PayloadType = s.codec.PayloadType
	s.hdr.Timestamp = s.frameTS(period)
	s.hdr.Marker = !s.everSent || s.needMark || period != s.lastSent+1
	s.needMark = false
	var n int
	if f.enc != nil && f.encAlaw == s.codec.isAlaw() {
		n = copy(s.sendBuf[12:], f.enc)
	} else {
		n = s.codec.Encode(s.sendBuf[12:], f.pcm)
	}
	if len(s.sentTaps) > 0 {
		s.tapSent(s.sendBuf[12 : 12+n])
	}
	s.write(12+n, period, deadline)
}

// write is the pacer's send: it marshals s.hdr into sendBuf (whose
// payload is already in place after the 12-byte header), sends it, and
// records how late it left. A relayed packet that follows starts a new
// run of the relay's numbering.
func (s *Stream) write(size int, period uint64, deadline time.Duration) {
	s.relay.synced = false
	s.e.lateness.observe(s.e.mono() - deadline)
	s.send(size, period)
}

// send marshals s.hdr into sendBuf and sends the packet: the pacer's and
// the bridge's common path. Caller holds mu.
func (s *Stream) send(size int, period uint64) {
	if _, err := s.hdr.MarshalTo(s.sendBuf[:12]); err != nil {
		s.ctr.sendErrors.Add(1)
		return
	}
	if _, err := s.conn.WriteToUDPAddrPort(s.sendBuf[:size], s.remote); err != nil {
		s.ctr.sendErrors.Add(1)
	} else {
		s.ctr.sent.Add(1)
		s.ctr.sentBytes.Add(uint64(size))
	}
	s.hdr.SequenceNumber++
	s.everSent = true
	s.lastSent = period
}
