package media

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrBridged is returned by Bridge when a stream is already in a bridge.
var ErrBridged = errors.New("media: stream is already bridged")

// BridgeOptions tunes Bridge.
type BridgeOptions struct {
	// NoDTMFRelay turns the relaying of telephone events off. Each
	// stream's OnDTMF handler still reports the digits it receives; the
	// caller forwards them (SendDTMF on the other stream) or not.
	NoDTMFRelay bool
	// RelayDTMF, when set, decides whether a digit received on from is
	// relayed to the other stream (false: it is not; bridge_filter_dtmf,
	// a meta key an application takes). It runs on from's receive
	// goroutine, after from's OnDTMF handler, and must not block. Unused
	// with NoDTMFRelay.
	RelayDTMF func(from *Stream, d Digit) bool
}

// relayDigitQueue is how many received digits per direction may wait
// for the other stream to send them.
const relayDigitQueue = 16

// Bridge relays the audio each stream receives to the other, in both
// directions, until ctx is done (it then returns nil) or either stream
// is closed (ErrClosed). It starts the streams' receive loops if they
// are not running. A stream is in at most one bridge at a time
// (ErrBridged); when Bridge returns, either stream may be played to or
// bridged again (ringback, then another peer).
//
// Audio is relayed packet by packet as it arrives, not paced: the payload
// is copied as it is when both streams use the same G.711 law and
// converted between PCMU and PCMA otherwise. Each packet goes out under
// the sending stream's own SSRC, sequence numbers and timestamps: the
// timestamps keep the spacing the sender gave them, offset so they follow
// on from whatever the stream sent before (a Play before the bridge,
// another bridge), and the marker bit is set at each discontinuity (the
// first relayed packet, after the stream sent something of its own, a
// new SSRC or a jump in the sender's timestamps). A Play after the bridge
// likewise continues the sequence with the marker set and timestamps
// that never go back. Comfort noise is not relayed. When a stream has no
// usable remote address (not yet known, or on hold), packets for it are
// dropped; when the far end stops sending (hold), nothing is sent.
//
// The stream's own producer comes first: while Play, Echo or SendDTMF
// runs on a bridged stream — started before the bridge or during it —
// the audio relayed to that stream is dropped, and relaying resumes when
// the producer ends. So SendDTMF on a bridged stream sends its events
// cleanly, and a Play still running when Bridge starts finishes first;
// the caller stops what it does not want heard.
//
// Telephone events (RFC 4733) received on one stream are reported to
// that stream's OnDTMF handler as usual and, unless o.NoDTMFRelay or
// o.RelayDTMF says otherwise, sent on the other stream as events with
// the other stream's payload type (SendDTMF with the digit's duration,
// once the event has ended, as FreeSWITCH's bridge re-sends DTMF). They
// are never relayed as audio. A digit the other stream cannot send (no
// telephone-event negotiated) is dropped.
//
// Taps keep working: each stream's Tap sees the audio it receives and its
// TapSent the audio relayed to it, so RecordCall records both sides of a
// bridged call. Stats count the packets relayed to each stream
// (PacketStats.Relayed, RelayDropped) beside the usual counters.
func Bridge(ctx context.Context, a, b *Stream, o BridgeOptions) error {
	if a == nil || b == nil || a == b {
		return errors.New("media: bridge needs two different streams")
	}
	if err := checkRelay(a.Codec(), b.Codec()); err != nil {
		return err
	}
	// The relay writes with the send side's buffer, and takes its clock
	// from the stream's place on a pacer.
	a.output()
	b.output()
	br := &bridge{a: a, b: b, relayDTMF: o.RelayDTMF}
	if !o.NoDTMFRelay {
		br.digits[0] = make(chan Digit, relayDigitQueue)
		br.digits[1] = make(chan Digit, relayDigitQueue)
	}
	if err := a.join(br); err != nil {
		return fmt.Errorf("media: bridge: %w", err)
	}
	if err := b.join(br); err != nil {
		a.leave(br)
		return fmt.Errorf("media: bridge: %w", err)
	}
	a.Start()
	b.Start()

	dctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	if !o.NoDTMFRelay {
		wg.Go(func() { relayDigits(dctx, br.digits[0], b) })
		wg.Go(func() { relayDigits(dctx, br.digits[1], a) })
	}
	var err error
	select {
	case <-ctx.Done():
	case <-a.done:
		err = fmt.Errorf("media: bridge: %w", ErrClosed)
	case <-b.done:
		err = fmt.Errorf("media: bridge: %w", ErrClosed)
	}
	cancel()
	wg.Wait()
	a.leave(br)
	b.leave(br)
	return err
}

// checkRelay reports whether audio in from can be relayed to a stream
// using to: both G.711 at the same rate and frame size.
func checkRelay(from, to Codec) error {
	switch {
	case !from.Supported() || !to.Supported():
		return fmt.Errorf("media: bridge: cannot relay %s to %s", from, to)
	case from.ClockRate != to.ClockRate || from.FrameSamples() != to.FrameSamples():
		return fmt.Errorf("media: bridge: %s and %s differ in rate", from, to)
	}
	return nil
}

// bridge is one Bridge call: the two streams point to it while it runs.
type bridge struct {
	a, b      *Stream
	relayDTMF func(*Stream, Digit) bool
	// digits[0] holds digits received on a, to send on b; digits[1] the
	// other way. nil when DTMF is not relayed.
	digits [2]chan Digit
}

// forward sends an audio packet received on from to the other stream.
// It runs on from's receive goroutine, without from's lock.
func (br *bridge) forward(from *Stream, p *relayPacket) {
	to := br.b
	if from == br.b {
		to = br.a
	}
	to.relayAudio(br, p)
}

// forwardDigit hands a digit received on from to the goroutine that
// sends it on the other stream. It never blocks.
func (br *bridge) forwardDigit(from *Stream, d Digit) {
	ch := br.digits[0]
	if from == br.b {
		ch = br.digits[1]
	}
	if ch == nil || (br.relayDTMF != nil && !br.relayDTMF(from, d)) {
		return
	}
	select {
	case ch <- d:
	default:
		from.logger().Warn("bridge: too many DTMF digits waiting to be relayed; digit dropped", "digit", string(d.Digit))
	}
}

// relayDigits sends the digits from in on to until ctx ends.
func relayDigits(ctx context.Context, in <-chan Digit, to *Stream) {
	for {
		select {
		case <-ctx.Done():
			return
		case d := <-in:
			err := to.SendDTMF(ctx, string(d.Digit), d.Duration)
			switch {
			case err == nil, ctx.Err() != nil:
			case errors.Is(err, ErrClosed):
				return
			default:
				to.logger().Debug("bridge: cannot relay a DTMF digit", "digit", string(d.Digit), "error", err)
			}
		}
	}
}

// relayPacket is what the bridge needs of a received audio packet.
type relayPacket struct {
	ssrc    uint32
	ts      uint32
	marker  bool
	alaw    bool // the payload is A-law (else µ-law)
	payload []byte
}

// relayState maps the timestamps of the packets relayed to a stream
// onto the stream's own: out = in + offset, the offset chosen when a
// run of relayed packets starts. Guarded by the stream's mutex.
type relayState struct {
	synced bool   // offset holds for the next packet
	ssrc   uint32 // the sender whose packets offset maps
	lastIn uint32 // the newest timestamp relayed from it
	offset uint32
}

// Relayed timestamps that move further than this from the previous
// packet start a new run (the sender restarted its clock); in seconds.
const (
	relayMaxJumpSec = 10
	relayMaxBackSec = 1
)

// jump reports whether ts is too far from the last relayed timestamp to
// continue the current run.
func (r *relayState) jump(ts uint32, rate int) bool {
	d := int64(int32(ts - r.lastIn))
	return d > relayMaxJumpSec*int64(rate) || d < -relayMaxBackSec*int64(rate)
}

// join puts the stream in br.
func (s *Stream) join(br *bridge) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.br != nil {
		return ErrBridged
	}
	s.br = br
	s.relay.synced = false
	return nil
}

// leave takes the stream out of br; packets of br still under way are
// dropped from now on.
func (s *Stream) leave(br *bridge) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.br == br {
		s.br = nil
		s.relay.synced = false
	}
}

// clockPeriod is the latest period whose slot deadline for this stream
// has passed: the period the pacer is at. Caller holds mu.
func (s *Stream) clockPeriod() uint64 {
	if s.pacer == nil {
		return 0
	}
	d := s.e.mono() - s.pacer.start - time.Duration(s.slot)*slotDur
	if d < 0 {
		return 0
	}
	return uint64(d / Ptime)
}

// relayAudio sends a packet relayed by br from the other stream.
func (s *Stream) relayAudio(br *bridge, p *relayPacket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.br != br {
		return
	}
	if !s.canSend() || s.owned || s.queue.count > 0 || s.dtmfOpen || s.sendBuf == nil {
		s.relay.synced = false
		s.ctr.relayDropped.Add(1)
		return
	}
	now := s.clockPeriod()
	r := &s.relay
	marker := p.marker
	if !r.synced || p.ssrc != r.ssrc || r.jump(p.ts, s.codec.ClockRate) {
		// A new run: start at the stream's clock, after anything the
		// pacer sent in this period.
		next := now
		if s.everSent && next <= s.lastSent {
			next = s.lastSent + 1
		}
		r.offset = s.frameTS(next) - p.ts
		r.synced, r.ssrc, r.lastIn = true, p.ssrc, p.ts
		marker = true
	} else if int32(p.ts-r.lastIn) > 0 {
		r.lastIn = p.ts
	}
	ts := p.ts + r.offset

	var n int
	if p.alaw == s.codec.isAlaw() {
		n = copy(s.sendBuf[12:], p.payload)
	} else {
		n = transcodeG711(s.sendBuf[12:], p.payload, p.alaw)
	}
	s.hdr.PayloadType = s.codec.PayloadType
	s.hdr.Timestamp = ts
	s.hdr.Marker = marker || !s.everSent
	if len(s.sentTaps) > 0 {
		s.tapSent(s.sendBuf[12 : 12+n])
	}
	s.send(12+n, now)
	s.ctr.relayed.Add(1)
	// What the pacer sends next (a DTMF event, a Play after the bridge)
	// carries the marker, and a timestamp past this packet's even when
	// the sender's clock runs ahead of ours.
	s.needMark = true
	end := ts + uint32(max(n, 1))
	if !s.tsFloorSet || int32(end-s.tsFloor) > 0 {
		s.tsFloor, s.tsFloorSet = end, true
	}
}

// transcodeG711 converts a G.711 payload from one law to the other
// (fromAlaw: A-law to µ-law, else µ-law to A-law) into dst and returns
// the bytes written.
func transcodeG711(dst, src []byte, fromAlaw bool) int {
	t := ulawToAlaw()
	if fromAlaw {
		t = alawToUlaw()
	}
	n := min(len(dst), len(src))
	for i, v := range src[:n] {
		dst[i] = t[v]
	}
	return n
}

// g711Table maps every code of from to the code of to for the same
// sample: a decode and an encode with the codecs, done once.
func g711Table(from, to Codec) *[256]byte {
	var in [256]byte
	for i := range in {
		in[i] = byte(i)
	}
	var pcm [256]int16
	from.Decode(pcm[:], in[:])
	var t [256]byte
	to.Encode(t[:], pcm[:])
	return &t
}

var (
	ulawToAlaw = sync.OnceValue(func() *[256]byte { return g711Table(PCMU, PCMA) })
	alawToUlaw = sync.OnceValue(func() *[256]byte { return g711Table(PCMA, PCMU) })
)
