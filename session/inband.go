package session

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/switchboard-voip/switchboard/media"
	"github.com/switchboard-voip/switchboard/media/dsp"
)

// tapper is implemented by endpoint media whose received audio can be
// tapped (a *media.Stream).
type tapper interface {
	Tap(capacity time.Duration) *media.Tap
	Codec() media.Codec
}

// inbandState is a session's in-band DTMF detector, when running.
type inbandState struct {
	mu   sync.Mutex
	stop context.CancelFunc
	done chan struct{}
}

// StartInbandDTMF starts finding DTMF tones in the caller's audio
// (start_dtmf); digits found are queued and fired like RFC 4733 ones,
// with DTMF-Source INBAND_AUDIO. It is a no-op when already running, and
// ends by itself at hangup.
func (s *Session) StartInbandDTMF() error {
	m := s.ep.Media()
	t, ok := m.(tapper)
	if m == nil || !ok {
		return errors.New("in-band DTMF: this call has no audio to listen to")
	}
	st := &s.inband
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.stop != nil {
		return nil
	}
	ctx, cancel := context.WithCancel(s.ctx)
	done := make(chan struct{})
	st.stop, st.done = cancel, done
	tap := t.Tap(time.Second)
	rate := t.Codec().ClockRate
	go func() {
		defer close(done)
		defer tap.Close()
		det := dsp.NewDTMFDetector(rate)
		buf := make([]int16, rate/50)
		for {
			n, err := tap.Read(ctx, buf)
			if err != nil {
				return
			}
			for _, d := range det.Write(buf[:n]) {
				if s.log.Enabled(ctx, slog.LevelDebug) {
					s.log.Debug("in-band DTMF", "digit", string(d))
				}
				s.queueDigit(d, "INBAND_AUDIO")
			}
		}
	}()
	return nil
}

// StopInbandDTMF stops in-band DTMF detection (stop_dtmf) and waits for
// the detector to finish.
func (s *Session) StopInbandDTMF() {
	st := &s.inband
	st.mu.Lock()
	stop, done := st.stop, st.done
	st.stop, st.done = nil, nil
	st.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
}
