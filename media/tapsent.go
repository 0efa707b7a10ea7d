package media

import "time"

// TapSent starts delivering a copy of the audio the stream sends (what
// the far end hears: played, or relayed by a Bridge), decoded to PCM at
// the codec's rate, keeping up to capacity of it. Nothing arrives while
// nothing is sent. Close it when done.
func (s *Stream) TapSent(capacity time.Duration) *Tap {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := max(int(capacity*time.Duration(s.codec.ClockRate)/time.Second), s.spf)
	t := &Tap{s: s, notify: make(chan struct{}, 1), buf: make([]int16, n)}
	if s.closed {
		t.ended = true
		return t
	}
	s.sentTaps = append(s.sentTaps, t)
	return t
}

// tapSent hands the payload just encoded for sending to the sent-audio
// taps, decoded. Called with mu held.
func (s *Stream) tapSent(payload []byte) {
	if cap(s.sentPCM) < len(payload) {
		s.sentPCM = make([]int16, len(payload))
	}
	n := s.codec.Decode(s.sentPCM[:len(payload)], payload)
	for _, t := range s.sentTaps {
		t.write(s.sentPCM[:n])
	}
}
