package sipclient

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"
)

// Packet describes one RTP packet the client received.
type Packet struct {
	Arrival     time.Time
	From        netip.AddrPort
	PayloadType uint8
	Seq         uint16
	Timestamp   uint32
	SSRC        uint32
	Marker      bool
	Size        int // payload bytes
	// Offset is where the packet's audio starts in Recording.Samples, or
	// -1 for packets that carry no decoded audio (events, other codecs).
	Offset int
}

// Recording is what the client heard: decoded audio laid out on the
// sender's timeline (RTP timestamps), with gaps filled by silence, plus
// every packet's arrival.
type Recording struct {
	Rate    int
	Samples []int16
	// Start is the arrival time of the first audio packet; sample i was
	// sent about i/Rate after it.
	Start   time.Time
	Packets []Packet
}

// TimeOf returns the arrival time of the audio at offset d in Samples,
// estimated from the first packet at or after d.
func (r Recording) TimeOf(d time.Duration) time.Time {
	off := int(d * time.Duration(r.Rate) / time.Second)
	for _, p := range r.Packets {
		if p.Offset >= 0 && p.Offset+FrameSamples > off {
			return p.Arrival.Add(time.Duration(off-p.Offset) * time.Second / time.Duration(r.Rate))
		}
	}
	return time.Time{}
}

// mediaState is what the signalling tells the RTP layer, updated when an
// SDP arrives.
type mediaState struct {
	remote netip.AddrPort
	audio  format
	dtmf   format
}

// rtpSession owns one call's RTP socket: a receiver goroutine that
// decodes into a Recording, and a paced sender.
type rtpSession struct {
	conn  *net.UDPConn
	local netip.AddrPort

	mu       sync.Mutex
	state    mediaState
	hasState bool
	rec      Recording
	anchor   map[uint32]anchor // per SSRC: timestamp at a sample offset
	dtmf     dtmfReceiver
	changed  signal // woken on every received packet

	sendMu   sync.Mutex // one sender at a time
	ssrc     uint32
	seq      uint16
	ts       uint32
	lastSend time.Time

	done chan struct{}
	wg   sync.WaitGroup
}

type anchor struct {
	ts     uint32
	offset int
}

func newRTPSession(ip netip.Addr) (*rtpSession, error) {
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
	if err != nil {
		return nil, fmt.Errorf("rtp: listen on %s: %w", ip, err)
	}
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		conn.Close()
		return nil, fmt.Errorf("rtp: random: %w", err)
	}
	s := &rtpSession{
		conn:    conn,
		local:   conn.LocalAddr().(*net.UDPAddr).AddrPort(),
		anchor:  map[uint32]anchor{},
		changed: make(chan struct{}),
		ssrc:    binary.BigEndian.Uint32(rnd[:4]),
		seq:     binary.BigEndian.Uint16(rnd[4:6]),
		ts:      uint32(binary.BigEndian.Uint16(rnd[6:8])) << 8,
		done:    make(chan struct{}),
	}
	s.rec.Rate = SampleRate
	s.wg.Add(1)
	go s.receive()
	return s, nil
}

// setState installs the negotiated remote address and formats.
func (s *rtpSession) setState(st mediaState) {
	s.mu.Lock()
	s.state, s.hasState = st, true
	s.mu.Unlock()
}

func (s *rtpSession) currentState() (mediaState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state, s.hasState
}

// close stops the receiver and releases the socket.
func (s *rtpSession) close() {
	select {
	case <-s.done:
		return
	default:
	}
	close(s.done)
	s.conn.Close()
	s.wg.Wait()
}

func (s *rtpSession) receive() {
	defer s.wg.Done()
	buf := make([]byte, 1500)
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
				continue
			}
		}
		var p rtp.Packet
		if err := p.Unmarshal(buf[:n]); err != nil || p.Version != 2 {
			continue
		}
		s.store(&p, from, time.Now())
	}
}

// store files one packet: telephone events go to the DTMF receiver, audio
// in the negotiated codec (or a static G.711 type) is decoded into the
// recording at its timestamp's place.
func (s *rtpSession) store(p *rtp.Packet, from netip.AddrPort, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.changed.wake()
	info := Packet{
		Arrival: at, From: from, PayloadType: p.PayloadType, Seq: p.SequenceNumber,
		Timestamp: p.Timestamp, SSRC: p.SSRC, Marker: p.Marker, Size: len(p.Payload), Offset: -1,
	}
	defer func() { s.rec.Packets = append(s.rec.Packets, info) }()

	if s.hasState && s.state.dtmf.PT != 0 && p.PayloadType == s.state.dtmf.PT {
		s.dtmf.packet(p.Timestamp, p.Payload)
		return
	}
	codec := staticCodec(p.PayloadType)
	if s.hasState && p.PayloadType == s.state.audio.PT {
		codec = s.state.audio.Codec
	}
	if !codec.decodable() {
		return
	}
	pcm, err := codec.Decode(p.Payload)
	if err != nil {
		return
	}
	if s.rec.Start.IsZero() {
		s.rec.Start = at
	}
	off, ok := s.placeLocked(p, at)
	if !ok {
		return
	}
	info.Offset = off
	if need := off + len(pcm); need > len(s.rec.Samples) {
		s.rec.Samples = append(s.rec.Samples, make([]int16, need-len(s.rec.Samples))...)
	}
	copy(s.rec.Samples[off:], pcm)
}

// maxJump is how far (in samples) a timestamp may move within one SSRC
// before the stream is re-anchored on arrival time: 10 s.
const maxJump = 10 * SampleRate

// placeLocked returns the sample offset of p's audio. Within an SSRC the
// offset follows the RTP timestamp; a new SSRC, or a jump of more than
// maxJump, is placed by arrival time (never before the end of what is
// already recorded).
func (s *rtpSession) placeLocked(p *rtp.Packet, at time.Time) (int, bool) {
	if a, ok := s.anchor[p.SSRC]; ok {
		delta := int(int32(p.Timestamp - a.ts))
		off := a.offset + delta
		if off >= 0 && delta < maxJump && delta > -maxJump {
			return off, true
		}
	}
	off := int(at.Sub(s.rec.Start) * SampleRate / time.Second)
	if off < len(s.rec.Samples) {
		off = len(s.rec.Samples)
	}
	s.anchor[p.SSRC] = anchor{ts: p.Timestamp, offset: off}
	return off, true
}

// recording returns a copy of what has been heard so far.
func (s *rtpSession) recording() Recording {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rec
	r.Samples = append([]int16(nil), s.rec.Samples...)
	r.Packets = append([]Packet(nil), s.rec.Packets...)
	return r
}

// digits returns the DTMF digits received so far.
func (s *rtpSession) digits() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.dtmf.digits)
}

// waitFor calls cond under the session lock after every received packet
// until it returns true or ctx ends.
func (s *rtpSession) waitFor(ctx context.Context, cond func() bool) error {
	return waitUntil(ctx, &s.mu, &s.changed, cond)
}

// send writes pcm as 20 ms packets in the negotiated codec, paced by the
// wall clock, until it is all sent or ctx ends. A trailing part shorter
// than a frame is padded with silence.
func (s *rtpSession) send(ctx context.Context, pcm []int16) error {
	st, ok := s.currentState()
	if !ok {
		return errors.New("rtp: no negotiated media yet")
	}
	if !st.audio.Codec.decodable() {
		return fmt.Errorf("rtp: cannot encode %q", st.audio.Codec)
	}
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	marker := s.resumeLocked()
	next := time.Now()
	for off := 0; off < len(pcm); off += FrameSamples {
		frame := make([]int16, FrameSamples)
		copy(frame, pcm[off:])
		payload, err := st.audio.Codec.Encode(frame)
		if err != nil {
			return err
		}
		if err := s.waitUntil(ctx, next); err != nil {
			return err
		}
		if err := s.writeLocked(st, st.audio.PT, marker, s.ts, payload); err != nil {
			return err
		}
		marker = false
		s.seq++
		s.ts += FrameSamples
		next = next.Add(FrameDuration)
	}
	return nil
}

// sendDTMF sends each digit as an RFC 4733 event of dur (rounded up to
// 20 ms), with three end packets, followed by gap without packets.
func (s *rtpSession) sendDTMF(ctx context.Context, digits string, dur, gap time.Duration) error {
	st, ok := s.currentState()
	if !ok {
		return errors.New("rtp: no negotiated media yet")
	}
	if st.dtmf.PT == 0 {
		return errors.New("rtp: the far end accepted no telephone-event payload type")
	}
	events := make([]uint8, len(digits))
	for i := range len(digits) {
		ev, err := DigitEvent(digits[i])
		if err != nil {
			return err
		}
		events[i] = ev
	}
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	packets := int((dur + FrameDuration - 1) / FrameDuration)
	if packets < 1 {
		packets = 1
	}
	for i, ev := range events {
		if i > 0 {
			if err := s.waitUntil(ctx, time.Now().Add(gap)); err != nil {
				return err
			}
		}
		s.resumeLocked()
		start := s.ts
		next := time.Now()
		for k := 1; k <= packets; k++ {
			if err := s.waitUntil(ctx, next); err != nil {
				return err
			}
			e := DTMFEvent{Event: ev, Volume: 10, Duration: uint16(k * FrameSamples)}
			if err := s.writeLocked(st, st.dtmf.PT, k == 1, start, e.Marshal()); err != nil {
				return err
			}
			s.seq++
			next = next.Add(FrameDuration)
		}
		end := DTMFEvent{Event: ev, Volume: 10, End: true, Duration: uint16(packets * FrameSamples)}
		for range 3 {
			if err := s.writeLocked(st, st.dtmf.PT, false, start, end.Marshal()); err != nil {
				return err
			}
			s.seq++
		}
		s.ts = start + uint32(packets*FrameSamples)
	}
	return nil
}

// resumeLocked moves the timestamp on by the time nothing was sent, so
// the far end sees the pause, and reports whether the next packet starts
// a talk spurt (marker bit).
func (s *rtpSession) resumeLocked() bool {
	now := time.Now()
	if s.lastSend.IsZero() {
		s.lastSend = now
		return true
	}
	idle := now.Sub(s.lastSend) - FrameDuration
	if idle < FrameDuration {
		return false
	}
	frames := idle / FrameDuration
	s.ts += uint32(frames) * FrameSamples
	return true
}

func (s *rtpSession) waitUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return errors.New("rtp: session closed")
	}
}

func (s *rtpSession) writeLocked(st mediaState, pt uint8, marker bool, ts uint32, payload []byte) error {
	p := rtp.Packet{
		Header: rtp.Header{
			Version:        2,
			Marker:         marker,
			PayloadType:    pt,
			SequenceNumber: s.seq,
			Timestamp:      ts,
			SSRC:           s.ssrc,
		},
		Payload: payload,
	}
	b, err := p.Marshal()
	if err != nil {
		return fmt.Errorf("rtp: marshal: %w", err)
	}
	if _, err := s.conn.WriteToUDPAddrPort(b, st.remote); err != nil {
		return fmt.Errorf("rtp: send to %s: %w", st.remote, err)
	}
	s.lastSend = time.Now()
	return nil
}

// mediaLeg is the media side of one call, outgoing ([Call]) or incoming
// ([Incoming]): its RTP session, and the methods a test sends and hears
// audio and telephone events with.
type mediaLeg struct {
	media *rtpSession
	// legDone is closed when the call ends; media operations then stop
	// with ErrEnded.
	legDone <-chan struct{}
}

// LocalRTP returns the address the client receives RTP on.
func (m *mediaLeg) LocalRTP() netip.AddrPort { return m.media.local }

// RemoteRTP returns the far end's RTP address from its SDP, or the zero
// value before one arrived.
func (m *mediaLeg) RemoteRTP() netip.AddrPort {
	st, _ := m.media.currentState()
	return st.remote
}

// Codec returns the negotiated audio codec ("" before negotiation).
func (m *mediaLeg) Codec() Codec {
	st, _ := m.media.currentState()
	return st.audio.Codec
}

// DTMFPayloadType returns the negotiated telephone-event payload type, or
// 0 when there is none.
func (m *mediaLeg) DTMFPayloadType() uint8 {
	st, _ := m.media.currentState()
	return st.dtmf.PT
}

// mediaCtx derives a context that also ends, with cause ErrEnded, when
// the call does.
func (m *mediaLeg) mediaCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	go func() {
		select {
		case <-m.legDone:
			cancel(ErrEnded)
		case <-ctx.Done():
		}
	}()
	return ctx, func() { cancel(nil) }
}

func mediaErr(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); errors.Is(cause, ErrEnded) {
		return ErrEnded
	}
	return err
}

// Send sends 8 kHz samples as 20 ms RTP packets in the negotiated codec,
// in real time. It blocks until done, ctx ends or the call ends
// ([ErrEnded]). Sends (and SendDTMF) run one at a time; when none runs
// the client is silent: it sends no packets at all.
func (m *mediaLeg) Send(ctx context.Context, pcm []int16) error {
	ctx, cancel := m.mediaCtx(ctx)
	defer cancel()
	return mediaErr(ctx, m.media.send(ctx, pcm))
}

// SendTone sends a sine at hz (peak at a quarter of full scale) for dur.
func (m *mediaLeg) SendTone(ctx context.Context, hz float64, dur time.Duration) error {
	return m.Send(ctx, Tone(hz, dur, 0.25, SampleRate))
}

// SendSilence sends dur of digital silence (packets, unlike not sending).
func (m *mediaLeg) SendSilence(ctx context.Context, dur time.Duration) error {
	return m.Send(ctx, Silence(dur, SampleRate))
}

// SendDTMF sends digits (0-9, *, #, A-D) as RFC 4733 events of 100 ms,
// 100 ms apart, on the negotiated telephone-event payload type.
func (m *mediaLeg) SendDTMF(ctx context.Context, digits string) error {
	ctx, cancel := m.mediaCtx(ctx)
	defer cancel()
	return mediaErr(ctx, m.media.sendDTMF(ctx, digits, 100*time.Millisecond, 100*time.Millisecond))
}

// SendDTMFFor sends digits as RFC 4733 events lasting dur each (at most
// about 8 s, the longest one event's 16-bit duration holds at 8 kHz),
// 100 ms apart.
func (m *mediaLeg) SendDTMFFor(ctx context.Context, digits string, dur time.Duration) error {
	ctx, cancel := m.mediaCtx(ctx)
	defer cancel()
	return mediaErr(ctx, m.media.sendDTMF(ctx, digits, dur, 100*time.Millisecond))
}

// Recording returns a copy of everything heard so far.
func (m *mediaLeg) Recording() Recording { return m.media.recording() }

// Digits returns the DTMF digits received as RFC 4733 events so far.
func (m *mediaLeg) Digits() string { return m.media.digits() }

// WaitDigits waits until at least n DTMF digits have been received and
// returns them.
func (m *mediaLeg) WaitDigits(ctx context.Context, n int) (string, error) {
	var got string
	err := m.media.waitFor(ctx, func() bool {
		got = string(m.media.dtmf.digits)
		return len(got) >= n
	})
	if err != nil {
		return got, fmt.Errorf("sipclient: waiting for %d digits (have %q): %w", n, got, err)
	}
	return got, nil
}

// WaitTone waits until the received audio holds a tone at hz lasting at
// least minDur (see [FindTone]) and returns that segment.
func (m *mediaLeg) WaitTone(ctx context.Context, hz float64, minDur time.Duration) (Segment, error) {
	var seg Segment
	var last int
	err := m.media.waitFor(ctx, func() bool {
		// Analysing on every packet is wasteful; once per frame of new
		// audio is enough.
		if len(m.media.rec.Samples) < last+FrameSamples {
			return false
		}
		last = len(m.media.rec.Samples)
		s, ok := FindTone(m.media.rec.Samples, SampleRate, hz)
		if ok && s.Duration >= minDur {
			seg = s
			return true
		}
		return false
	})
	if err != nil {
		return seg, fmt.Errorf("sipclient: waiting for %v Hz for %v: %w", hz, minDur, err)
	}
	return seg, nil
}

// WaitAudio waits until at least d of audio has been received.
func (m *mediaLeg) WaitAudio(ctx context.Context, d time.Duration) error {
	want := samplesIn(d, SampleRate)
	err := m.media.waitFor(ctx, func() bool { return len(m.media.rec.Samples) >= want })
	if err != nil {
		return fmt.Errorf("sipclient: waiting for %v of audio: %w", d, err)
	}
	return nil
}

// answerReinvite answers a re-INVITE of the far end on an answered call:
// an offer is negotiated against ours (488 when nothing matches) and
// becomes the media state; the 200 carries our SDP with the version
// nextVer gives.
func (m *mediaLeg) answerReinvite(req *sip.Request, tx sip.ServerTransaction, ours []format, sessID uint64, nextVer func() int, contact sip.Header) {
	st, _ := m.media.currentState()
	if len(req.Body()) > 0 {
		md, err := parseSDP(req.Body())
		if err == nil {
			var n negotiated
			if n, err = negotiate(md, ours); err == nil {
				st = mediaState(n)
				m.media.setState(st)
			}
		}
		if err != nil {
			tx.Respond(sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil))
			return
		}
	}
	formats := []format{st.audio}
	if st.dtmf.PT != 0 {
		formats = append(formats, st.dtmf)
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", buildSDP(sessID, nextVer(), m.media.local, formats))
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res.AppendHeader(contact)
	tx.Respond(res)
}
