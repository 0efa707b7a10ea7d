package apps

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/switchboard-voip/switchboard/vars"
)

// Helpers shared by the applications that need a live call: signalling,
// media, control and events.

// Variables the media applications read and write.
const (
	varPlaybackTerminators = "playback_terminators"
	varPlaybackTerminator  = "playback_terminator_used"
	varApplicationResponse = "current_application_response"
	allDigitTerminators    = "1234567890*#" // playback_terminators=any
	defaultTerminators     = "*"            // playback_terminators unset
)

// sessionOf returns ch as a Session, or ErrNoSession (wrapped with the
// application's name) when ch is not a live call.
func sessionOf(ch Channel, app string) (Session, error) {
	s, ok := ch.(Session)
	if !ok {
		return nil, fmt.Errorf("%s: %w", app, ErrNoSession)
	}
	return s, nil
}

// callContext returns a context that is done when ctx or the session's
// own context is: an application returns promptly on either. When the
// session's context is already done, so is the returned one.
func callContext(ctx context.Context, s Session) (context.Context, context.CancelFunc) {
	sc := s.Context()
	if sc == nil || sc == ctx {
		return ctx, func() {}
	}
	c, cancel := context.WithCancel(ctx)
	if sc.Err() != nil {
		cancel()
		return c, cancel
	}
	stop := context.AfterFunc(sc, cancel)
	return c, func() { stop(); cancel() }
}

// mediaReady reports whether the call already has media, without opening
// it: sleep must not pre-answer a call that has none (it is not a media
// application). A Session that also has a MediaReady method answers
// directly; otherwise an answered call counts as having media and an
// unanswered one as having none.
func mediaReady(s Session) bool {
	if m, ok := s.(interface{ MediaReady() bool }); ok {
		return m.MediaReady()
	}
	return s.Answered()
}

// catoi reads a number like C's atoi: leading white space is skipped,
// then an optional sign and the leading digits; anything else reads as 0.
func catoi(s string) int {
	return atoi(strings.TrimLeft(s, " \t\n\v\f\r"))
}

// terminatorsOf returns the digits that end playback on the channel
// (FreeSWITCH's on_dtmf callback): playback_terminators, "*" when it is
// unset, every digit for "any" and none for "none" (either case).
func terminatorsOf(v *vars.Store) string {
	t, ok := v.Get(varPlaybackTerminators)
	switch {
	case !ok:
		return defaultTerminators
	case strings.EqualFold(t, "any"):
		return allDigitTerminators
	case strings.EqualFold(t, "none"):
		return ""
	}
	return t
}

// terminatorWatch is the stop function of playback, gentones and sleep
// with sleep_eat_digits: it takes queued digits one by one, discards those
// that are not terminators and stops at the first that is, leaving any
// later digits queued. Play may call stop from another goroutine, so the
// digit is kept atomically and copied to the channel by record.
type terminatorWatch struct {
	q     DTMFQueue
	terms string
	used  atomic.Int32 // the terminator that stopped playback, or 0
}

func newTerminatorWatch(q DTMFQueue, terms string) *terminatorWatch {
	return &terminatorWatch{q: q, terms: terms}
}

// stop consumes queued digits and reports whether one was a terminator.
func (w *terminatorWatch) stop() bool {
	for {
		d, ok := w.q.Pop()
		if !ok {
			return false
		}
		if strings.ContainsRune(w.terms, d) {
			w.used.Store(int32(d))
			return true
		}
	}
}

// record sets playback_terminator_used when a terminator stopped
// playback.
func (w *terminatorWatch) record(v *vars.Store) {
	if d := w.used.Load(); d != 0 {
		v.Set(varPlaybackTerminator, string(rune(d)))
	}
}
