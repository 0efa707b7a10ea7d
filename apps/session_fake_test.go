package apps

import (
	"context"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-voip/switchboard/cause"
)

// fakeSession is a Session over a fakeChannel that records what the
// applications ask of the call.
type fakeSession struct {
	*fakeChannel
	uuid   string
	ctx    context.Context
	cancel context.CancelFunc

	answered bool
	mediaUp  bool  // MediaReady: answered, pre-answered or media opened
	err      error // returned by the signalling and control methods when set
	mediaErr error // returned by Media when set

	calls       []string // signalling in order: "answer", "pre_answer", "ring_ready 180", "respond 404 x", ...
	earlyMedia  int      // times Media opened early media
	hangups     []cause.Cause
	scheduled   []schedCall
	transfers   [][3]string
	executed    [][3]string
	parked      bool
	events      [][][2]string
	eventsFired int

	media *fakeMedia
	dtmf  *fakeQueue
}

// schedCall is one ScheduleHangup.
type schedCall struct {
	d time.Duration
	c cause.Cause
}

// newSession returns a live, unanswered call whose variables are set from
// name, value pairs.
func newSession(kv ...string) *fakeSession {
	ctx, cancel := context.WithCancel(context.Background())
	s := &fakeSession{
		fakeChannel: newFake(kv...),
		uuid:        "1b4c7d2e-0000-4000-8000-000000000001",
		ctx:         ctx,
		cancel:      cancel,
		dtmf:        &fakeQueue{},
	}
	s.media = &fakeMedia{s: s, frames: map[string]int{}, missing: map[string]bool{}, script: map[int]string{}}
	return s
}

func (s *fakeSession) UUID() string             { return s.uuid }
func (s *fakeSession) Context() context.Context { return s.ctx }
func (s *fakeSession) Ready() bool              { return s.ctx.Err() == nil }
func (s *fakeSession) Answered() bool           { return s.answered }
func (s *fakeSession) MediaReady() bool         { return s.mediaUp }

func (s *fakeSession) Answer() error {
	s.calls = append(s.calls, "answer")
	if s.err != nil {
		return s.err
	}
	s.answered, s.mediaUp = true, true
	return nil
}

func (s *fakeSession) PreAnswer() error {
	s.calls = append(s.calls, "pre_answer")
	if s.err != nil {
		return s.err
	}
	s.mediaUp = true
	return nil
}

func (s *fakeSession) RingReady(queued bool) error {
	code := 180
	if queued {
		code = 182
	}
	s.calls = append(s.calls, "ring_ready "+strconv.Itoa(code))
	return s.err
}

func (s *fakeSession) Respond(code int, reason string) error {
	s.calls = append(s.calls, fmt.Sprintf("respond %d %s", code, reason))
	return s.err
}

func (s *fakeSession) Redirect(contact string) error {
	s.calls = append(s.calls, "redirect "+contact)
	return s.err
}

func (s *fakeSession) Hangup(c cause.Cause) {
	s.hangups = append(s.hangups, c)
	s.cancel()
}

func (s *fakeSession) ScheduleHangup(d time.Duration, c cause.Cause) {
	s.scheduled = append(s.scheduled, schedCall{d, c})
}

func (s *fakeSession) Transfer(exten, dialplan, context string) error {
	s.transfers = append(s.transfers, [3]string{exten, dialplan, context})
	return s.err
}

func (s *fakeSession) ExecuteExtension(exten, dialplan, context string) error {
	s.executed = append(s.executed, [3]string{exten, dialplan, context})
	return s.err
}

func (s *fakeSession) Park() { s.parked = true }

func (s *fakeSession) Media() (Media, error) {
	if s.mediaErr != nil {
		return nil, s.mediaErr
	}
	if !s.mediaUp {
		s.mediaUp = true
		s.earlyMedia++
	}
	return s.media, nil
}

func (s *fakeSession) DTMF() DTMFQueue { return s.dtmf }

func (s *fakeSession) FireEvent(headers [][2]string) {
	s.eventsFired++
	s.events = append(s.events, headers)
}

// fakeMedia plays media as a run of 20 ms frames without waiting: before
// each frame it delivers the digits scripted for that frame to the DTMF
// queue, runs onFrame, and checks ctx and stop.
type fakeMedia struct {
	s       *fakeSession
	frames  map[string]int  // frames per URI; 50 by default, silence_stream://<ms> has ms/20; < 0 runs until stopped
	missing map[string]bool // URIs that do not exist
	playErr error           // returned by Play when set
	script  map[int]string  // frame → digits arriving just before it (each delivered once)
	onFrame func(frame int) // called before each frame when set
	onEcho  func()          // called when Echo starts, when set
	plays   []string        // URIs played, in order
	echoes  []time.Duration // Echo delays, in order
	sent    []sentDTMF      // SendDTMF calls, in order
	records []recordCall    // Record calls, in order (record_test.go)
	recErr  error           // returned by Record when set
}

// sentDTMF is one SendDTMF call.
type sentDTMF struct {
	digits string
	dur    time.Duration
}

// samplesPerFrame is 20 ms at 8 kHz.
const samplesPerFrame = 160

func (m *fakeMedia) framesOf(uri string) int {
	if n, ok := m.frames[uri]; ok {
		return n
	}
	if ms, ok := strings.CutPrefix(uri, "silence_stream://"); ok {
		n, _ := strconv.Atoi(ms)
		return n / 20
	}
	return 50
}

func (m *fakeMedia) Play(ctx context.Context, uri string, stop func() bool) (PlayResult, error) {
	m.plays = append(m.plays, uri)
	var res PlayResult
	if m.missing[uri] {
		return res, fmt.Errorf("open %s: %w", uri, fs.ErrNotExist)
	}
	if m.playErr != nil {
		return res, m.playErr
	}
	n := m.framesOf(uri)
	for i := 0; n < 0 || i < n; i++ {
		if d, ok := m.script[i]; ok {
			delete(m.script, i)
			m.s.dtmf.push(d)
		}
		if m.onFrame != nil {
			m.onFrame(i)
		}
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		if stop != nil && stop() {
			res.Stopped = true
			return res, nil
		}
		res.Samples += samplesPerFrame
		res.Duration += 20 * time.Millisecond
	}
	return res, nil
}

func (m *fakeMedia) Echo(ctx context.Context, delay time.Duration, stop func() bool) error {
	m.echoes = append(m.echoes, delay)
	if m.onEcho != nil {
		m.onEcho()
	}
	<-ctx.Done()
	return ctx.Err()
}

func (m *fakeMedia) SendDTMF(ctx context.Context, digits string, duration time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.sent = append(m.sent, sentDTMF{digits, duration})
	return nil
}

// fakeQueue is a DTMFQueue over a slice.
type fakeQueue struct {
	mu sync.Mutex
	q  []rune

	// With instant set, Wait never sleeps: on an empty queue it takes the
	// next entry of later (the digits that arrive during that wait) or
	// times out at once. waits records every timeout Wait was given.
	instant bool
	later   []string
	waits   []time.Duration
}

func (q *fakeQueue) push(digits string) {
	q.mu.Lock()
	q.q = append(q.q, []rune(digits)...)
	q.mu.Unlock()
}

// String returns the queued digits.
func (q *fakeQueue) String() string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return string(q.q)
}

func (q *fakeQueue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.q)
}

func (q *fakeQueue) Peek() (rune, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.q) == 0 {
		return 0, false
	}
	return q.q[0], true
}

func (q *fakeQueue) Pop() (rune, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.q) == 0 {
		return 0, false
	}
	d := q.q[0]
	q.q = q.q[1:]
	return d, true
}

func (q *fakeQueue) Wait(ctx context.Context, timeout time.Duration) (rune, bool) {
	q.mu.Lock()
	q.waits = append(q.waits, timeout)
	q.mu.Unlock()
	if d, ok := q.Pop(); ok {
		return d, true
	}
	if q.instant {
		q.mu.Lock()
		if len(q.later) > 0 {
			q.q = append(q.q, []rune(q.later[0])...)
			q.later = q.later[1:]
		}
		q.mu.Unlock()
		if ctx.Err() != nil {
			return 0, false
		}
		return q.Pop()
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return 0, false
	case <-t.C:
		return q.Pop()
	}
}

func (q *fakeQueue) Flush() {
	q.mu.Lock()
	q.q = nil
	q.mu.Unlock()
}
