package media

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Telephone-event durations for SendDTMF (FreeSWITCH's defaults: 2000,
// 400 and, capped by the 16-bit duration field at 8 kHz, 64000 samples).
const (
	DefaultDTMFDuration = 250 * time.Millisecond
	MinDTMFDuration     = 50 * time.Millisecond
	MaxDTMFDuration     = 8 * time.Second
	// dtmfGapPeriods separates consecutive digits (FreeSWITCH's
	// rtp-digit-delay of 40 ms).
	dtmfGapPeriods = 2
	dtmfVolume     = 10 // -10 dBm0
)

// ErrNoDTMF is returned by SendDTMF when no telephone-event payload type
// was negotiated; the caller may fall back to SIP INFO or in-band tones.
var ErrNoDTMF = errors.New("media: no telephone-event payload type negotiated")

// dtmfChars maps RFC 4733 event codes 0-16 to characters.
const dtmfChars = "0123456789*#ABCDF"

// DTMFCode returns the RFC 4733 event code of a DTMF character (0-9, *,
// #, A-D in either case, F for flash).
func DTMFCode(r rune) (uint8, bool) {
	if r >= 'a' && r <= 'f' {
		r -= 'a' - 'A'
	}
	if i := strings.IndexRune(dtmfChars, r); i >= 0 {
		return uint8(i), true
	}
	return 0, false
}

// dtmfEvent is one RFC 4733 event packet to send.
type dtmfEvent struct {
	code     uint8
	duration uint16 // samples since the event's start
	start    bool   // first packet: marker bit, new timestamp
	end      bool   // last packet: E bit, sent three times
}

func (ev *dtmfEvent) marshal(b []byte) {
	b[0] = ev.code
	b[1] = dtmfVolume
	if ev.end {
		b[1] |= 0x80
	}
	b[2] = byte(ev.duration >> 8)
	b[3] = byte(ev.duration)
}

// sendDTMFFrame sends one event packet. Caller holds mu.
func (s *Stream) sendDTMFFrame(ev *dtmfEvent, period uint64, deadline time.Duration) {
	if !s.canSend() || s.dtmfPT == 0 {
		s.ctr.discarded.Add(1)
		return
	}
	if ev.start {
		s.dtmfTS = s.frameTS(period)
		s.ctr.dtmfOut.Add(1)
	}
	s.hdr.PayloadType = s.dtmfPT
	s.hdr.Timestamp = s.dtmfTS
	s.hdr.Marker = ev.start
	ev.marshal(s.sendBuf[12:16])
	repeat := 1
	if ev.end {
		repeat = 3
	}
	for range repeat {
		s.write(16, period, deadline)
		s.hdr.Marker = false
	}
	if ev.end {
		s.dtmfOpen = false
		s.needMark = true
	} else {
		s.dtmfOpen = true
		s.dtmfLast = *ev
	}
}

// SendDTMF sends digits as RFC 4733 telephone events with the negotiated
// payload type, each lasting duration (0: DefaultDTMFDuration; clamped to
// MinDTMFDuration..MaxDTMFDuration), 40 ms apart. 'w' pauses 500 ms and
// 'W' one second; characters that are not DTMF digits are skipped. It
// returns once the last packet is sent, or ctx.Err() when ctx ends first
// — an event in progress is then ended properly. It returns ErrNoDTMF when
// no telephone-event was negotiated.
func (s *Stream) SendDTMF(ctx context.Context, digits string, duration time.Duration) error {
	if err := s.acquireOutput(ctx); err != nil {
		return err
	}
	defer s.releaseOutput()
	s.mu.Lock()
	pt, spf, rate := s.dtmfPT, s.spf, s.codec.ClockRate
	s.mu.Unlock()
	if pt == 0 {
		return ErrNoDTMF
	}
	if duration == 0 {
		duration = DefaultDTMFDuration
	}
	duration = min(max(duration, MinDTMFDuration), MaxDTMFDuration)
	packets := int((duration*time.Duration(rate)/time.Second + time.Duration(spf) - 1) / time.Duration(spf))

	gaps := func(n int) error {
		for range n {
			if err := s.pushWait(ctx, func(f *frame) { f.kind = frameGap }); err != nil {
				return err
			}
		}
		return nil
	}
	first := true
	for _, r := range digits {
		switch r {
		case 'w':
			if err := gaps(int(500 * time.Millisecond / Ptime)); err != nil {
				return err
			}
			continue
		case 'W':
			if err := gaps(int(time.Second / Ptime)); err != nil {
				return err
			}
			continue
		}
		code, ok := DTMFCode(r)
		if !ok {
			s.logger().Debug("send_dtmf: skipping a character that is not a DTMF digit", "char", string(r))
			continue
		}
		if !first {
			if err := gaps(dtmfGapPeriods); err != nil {
				return err
			}
		}
		first = false
		for i := 1; i <= packets; i++ {
			ev := dtmfEvent{code: code, duration: uint16(i * spf), start: i == 1, end: i == packets}
			if err := s.pushWait(ctx, func(f *frame) { f.kind, f.ev = frameDTMF, ev }); err != nil {
				return err
			}
		}
	}
	return s.drain(ctx)
}

// pushWait queues one frame, waiting for room.
func (s *Stream) pushWait(ctx context.Context, fill func(*frame)) error {
	for {
		ok, err := s.push(fill)
		if err != nil || ok {
			return err
		}
		if err := s.wait(ctx); err != nil {
			return err
		}
	}
}

// drain waits until the pacer has taken every queued frame.
func (s *Stream) drain(ctx context.Context) error {
	for s.queued() > 0 {
		if err := s.wait(ctx); err != nil {
			return err
		}
	}
	return nil
}

// dtmfReceiver turns received telephone-event packets into digits: one
// per event, at its first end packet, deduplicated by RTP timestamp (the
// end packet is sent three times, and may be lost: the event is then
// reported at the next end packet that arrives).
type dtmfReceiver struct {
	haveLast bool
	lastTS   uint32
}

func (r *dtmfReceiver) packet(ts uint32, payload []byte, clockRate int) (Digit, bool) {
	if len(payload) < 4 || clockRate <= 0 {
		return Digit{}, false
	}
	code := payload[0]
	end := payload[1]&0x80 != 0
	dur := uint16(payload[2])<<8 | uint16(payload[3])
	if int(code) >= len(dtmfChars) || !end {
		return Digit{}, false
	}
	if r.haveLast && r.lastTS == ts {
		return Digit{}, false
	}
	r.haveLast, r.lastTS = true, ts
	return Digit{
		Digit:    rune(dtmfChars[code]),
		Duration: time.Duration(dur) * time.Second / time.Duration(clockRate),
	}, true
}
