package session

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/switchboard-voip/switchboard/media"
)

// eavesdropLag bounds how far behind the live call the eavesdropper may
// fall: older audio is dropped so it keeps hearing the call as it is.
const eavesdropLag = 100 * time.Millisecond

// Eavesdrop is the eavesdrop application: s is answered and hears the
// call uuid — both of its directions, mixed — until that call or s hangs
// up. "all" listens to the oldest other call that has media. Listening
// only: the DTMF keys FreeSWITCH offers to speak into the call are not
// supported.
func (s *Session) Eavesdrop(ctx context.Context, uuid string) error {
	var t *Session
	if strings.EqualFold(uuid, "all") {
		for _, c := range s.m.List() {
			if c != s && c.MediaReady() && c.Ready() {
				t = c
				break
			}
		}
	} else {
		t = s.m.Get(uuid)
	}
	if t == nil || t == s {
		return fmt.Errorf("eavesdrop: no call %s to listen to", uuid)
	}
	ts, ok := t.ep.Media().(*media.Stream)
	if !ok || ts == nil {
		return fmt.Errorf("eavesdrop: %s has no media", t.uuid)
	}
	if err := s.Answer(); err != nil {
		return fmt.Errorf("eavesdrop: %w", err)
	}
	m := s.ep.Media()
	if m == nil {
		return fmt.Errorf("eavesdrop: no media on this channel")
	}
	s.vars.Set("eavesdrop_target_uuid", t.uuid)
	in, out := ts.Tap(time.Second), ts.TapSent(time.Second)
	defer in.Close()
	defer out.Close()
	rate := ts.Codec().ClockRate
	if rate == 0 {
		rate = 8000
	}
	src := &mixSource{a: in, b: out, max: int(eavesdropLag.Seconds() * float64(rate))}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(t.ctx, cancel)
	defer stop()
	_, err := m.Play(lctx, src, nil)
	if err != nil && lctx.Err() != nil {
		return nil
	}
	return err
}

// mixSource plays the sum of two taps, never waiting: what has not
// arrived yet is silence.
type mixSource struct {
	a, b *media.Tap
	max  int // samples kept buffered at most
	tmp  []int16
}

func (m *mixSource) Read(pcm []int16) (int, error) {
	clear(pcm)
	if len(m.tmp) < len(pcm) {
		m.tmp = make([]int16, len(pcm))
	}
	for _, t := range []*media.Tap{m.a, m.b} {
		if over := t.Buffered() - m.max; over > 0 {
			t.Discard(over)
		}
		if t.Buffered() == 0 {
			continue
		}
		n, _ := t.Read(context.Background(), m.tmp[:len(pcm)])
		for i := 0; i < n; i++ {
			v := int32(pcm[i]) + int32(m.tmp[i])
			pcm[i] = int16(max(-32768, min(32767, v)))
		}
	}
	return len(pcm), nil
}

func (m *mixSource) Close() error { return nil }
