package apps

import (
	"context"
	"time"

	"github.com/switchboard-voip/switchboard/cause"
)

// Session is a live call as call applications see it: a Channel plus
// signalling, media and control. The call core (package session)
// implements it; applications that need a live call type-assert their
// Channel to Session and return ErrNoSession when that fails (for example
// under `switchboard route`).
//
// Methods are called from the call's goroutine only, unless noted.
type Session interface {
	Channel

	// UUID is the channel's unique id.
	UUID() string
	// Context is done once the call has hung up. Blocking applications
	// must return promptly when it is.
	Context() context.Context
	// Ready reports whether the call is still up (not hung up).
	Ready() bool
	// Answered reports whether the call has been answered.
	Answered() bool
	// Answer answers the call (SIP 200 with SDP); a no-op when answered.
	Answer() error
	// PreAnswer opens early media (SIP 183 with SDP); a no-op once media
	// is up.
	PreAnswer() error
	// RingReady signals ringing (SIP 180, or 182 when queued).
	RingReady(queued bool) error
	// Respond sends a SIP response on an unanswered call (the respond
	// app); a final response ends the call.
	Respond(code int, reason string) error
	// Redirect sends the caller elsewhere: 302 with a Contact on an
	// unanswered call, REFER on an answered one.
	Redirect(contact string) error
	// Hangup ends the call with cause. Safe from any goroutine; the first
	// cause wins.
	Hangup(c cause.Cause)
	// ScheduleHangup hangs the call up with cause after d (sched_hangup);
	// a later call replaces an earlier schedule, d <= 0 cancels it.
	ScheduleHangup(d time.Duration, c cause.Cause)
	// Transfer sends the call to exten in dialplan and context (empty
	// means the defaults of spec §2.9). The current action list stops
	// after the running application returns and routing starts again.
	Transfer(exten, dialplan, context string) error
	// ExecuteExtension hunts exten and runs its actions now, nested,
	// then returns (execute_extension).
	ExecuteExtension(exten, dialplan, context string) error
	// Park keeps the call up doing nothing until it is transferred or
	// hung up; the action list stops.
	Park()
	// Media is the call's media; it opens early media first when the call
	// has none yet (FreeSWITCH's automatic pre-answer for media apps).
	Media() (Media, error)
	// DTMF is the call's queue of received digits.
	DTMF() DTMFQueue
	// FireEvent fires an event with the given headers plus the channel's
	// data (the event app).
	FireEvent(headers [][2]string)
}

// Media is a call's audio, as applications drive it.
type Media interface {
	// Play plays a media URI — a sound file (resolved through
	// sound_prefix and the rate directories), tone_stream://,
	// silence_stream://, file_string:// — with optional {var=val}
	// prefixes such as {loops=3}. It returns when the media ends, when
	// stop (checked between 20 ms frames; may be nil) returns true, or
	// when ctx is done.
	Play(ctx context.Context, uri string, stop func() bool) (PlayResult, error)
	// Echo sends the caller's audio back, delayed by delay, until ctx is
	// done or stop returns true.
	Echo(ctx context.Context, delay time.Duration, stop func() bool) error
	// SendDTMF sends digits as RFC 4733 events; 'w' pauses 500 ms and 'W'
	// one second. duration is each digit's length (0: the default).
	SendDTMF(ctx context.Context, digits string, duration time.Duration) error
}

// PlayResult describes what Play played.
type PlayResult struct {
	Samples  int64         // samples sent at the call's rate
	Duration time.Duration // audio played
	Stopped  bool          // ended by stop rather than by the media ending
}

// DTMFQueue holds digits received on a call until an application reads
// them. Safe for concurrent use.
type DTMFQueue interface {
	// Len is the number of queued digits.
	Len() int
	// Peek returns the first digit without removing it.
	Peek() (rune, bool)
	// Pop removes and returns the first digit.
	Pop() (rune, bool)
	// Wait waits up to timeout for a digit (removing it); ok is false on
	// timeout or when ctx is done.
	Wait(ctx context.Context, timeout time.Duration) (d rune, ok bool)
	// Flush discards every queued digit.
	Flush()
}
