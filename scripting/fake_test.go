package scripting

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/vars"
)

// fakeSession is an apps.Session without a switch behind it: variables,
// a digit queue, media that "plays" a URI for as many milliseconds as
// its number says (silence_stream://N), and a log the test reads.
type fakeSession struct {
	uuid    string
	vars    *vars.Store
	globals *vars.Store
	ctx     context.Context
	cancel  context.CancelFunc
	dtmf    *fakeQueue
	logs    *syncBuffer
	log     *slog.Logger

	mu        sync.Mutex
	answered  bool
	hungup    bool
	cause     cause.Cause
	transfers []string
	plays     []string
}

func newFakeSession() *fakeSession {
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	return &fakeSession{
		uuid: "11111111-2222-4333-8444-555555555555", vars: vars.NewStore(), globals: vars.NewStore(),
		ctx: ctx, cancel: cancel, dtmf: &fakeQueue{notify: make(chan struct{}, 1)}, logs: logs,
		log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

var _ apps.Session = (*fakeSession)(nil)

func (f *fakeSession) Vars() *vars.Store { return f.vars }
func (f *fakeSession) Expand(s string) string {
	return vars.Expand(s, vars.Chain{f.vars, f.globals}, nil)
}
func (f *fakeSession) SetGlobal(name, value string)                  { f.globals.Set(name, value) }
func (f *fakeSession) Log(level slog.Level, msg string)              { f.log.Log(context.Background(), level, msg) }
func (f *fakeSession) Logger() *slog.Logger                          { return f.log }
func (f *fakeSession) UUID() string                                  { return f.uuid }
func (f *fakeSession) Context() context.Context                      { return f.ctx }
func (f *fakeSession) RingReady(bool) error                          { return nil }
func (f *fakeSession) Respond(int, string) error                     { return nil }
func (f *fakeSession) Redirect(string) error                         { return nil }
func (f *fakeSession) ScheduleHangup(time.Duration, cause.Cause)     {}
func (f *fakeSession) ExecuteExtension(string, string, string) error { return nil }
func (f *fakeSession) Park()                                         {}
func (f *fakeSession) DTMF() apps.DTMFQueue                          { return f.dtmf }
func (f *fakeSession) FireEvent([][2]string)                         {}
func (f *fakeSession) Get(name string) (string, bool) {
	if v, ok := f.vars.Get(name); ok {
		return v, true
	}
	return f.globals.Get(name)
}

func (f *fakeSession) Ready() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.hungup
}

func (f *fakeSession) Answered() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.answered
}

func (f *fakeSession) Answer() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.hungup {
		return context.Canceled
	}
	f.answered = true
	return nil
}

func (f *fakeSession) PreAnswer() error { return nil }

func (f *fakeSession) Hangup(c cause.Cause) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.hungup {
		return
	}
	f.hungup, f.cause = true, c
	f.cancel()
}

func (f *fakeSession) Transfer(exten, dp, cx string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.transfers = append(f.transfers, exten+"/"+dp+"/"+cx)
	return nil
}

func (f *fakeSession) Media() (apps.Media, error) {
	if !f.Ready() {
		return nil, context.Canceled
	}
	return fakeMedia{f}, nil
}

// fakeMedia plays silence_stream://N for N ms (one "frame" per ms).
type fakeMedia struct{ f *fakeSession }

func (m fakeMedia) Play(ctx context.Context, uri string, stop func() bool) (apps.PlayResult, error) {
	m.f.mu.Lock()
	m.f.plays = append(m.f.plays, uri)
	m.f.mu.Unlock()
	n := atoi(strings.TrimPrefix(uri, "silence_stream://"))
	for i := 0; i < n; i++ {
		if stop != nil && stop() {
			return apps.PlayResult{Samples: int64(i * 8), Stopped: true}, nil
		}
		select {
		case <-ctx.Done():
			return apps.PlayResult{Samples: int64(i * 8), Stopped: true}, ctx.Err()
		case <-time.After(time.Millisecond / 4):
		}
	}
	return apps.PlayResult{Samples: int64(n * 8)}, nil
}

func (m fakeMedia) Echo(ctx context.Context, _ time.Duration, _ func() bool) error {
	<-ctx.Done()
	return ctx.Err()
}

func (m fakeMedia) SendDTMF(context.Context, string, time.Duration) error { return nil }

// fakeQueue is a digit queue.
type fakeQueue struct {
	mu     sync.Mutex
	q      []rune
	notify chan struct{}
}

func (q *fakeQueue) push(digits string) {
	q.mu.Lock()
	q.q = append(q.q, []rune(digits)...)
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
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
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		if d, ok := q.Pop(); ok {
			return d, true
		}
		select {
		case <-q.notify:
		case <-t.C:
			return 0, false
		case <-ctx.Done():
			return 0, false
		}
	}
}

func (q *fakeQueue) Flush() {
	q.mu.Lock()
	q.q = nil
	q.mu.Unlock()
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fakeHooks records the binding callbacks and answers the input callback
// from a table.
type fakeHooks struct {
	results map[rune]string
	inputs  []string
	hook    []string
}

func (h *fakeHooks) Input(in Input) string {
	if in.Event != nil {
		h.inputs = append(h.inputs, "event:"+in.Event.Name())
		return h.results['e']
	}
	h.inputs = append(h.inputs, "dtmf:"+string(in.Digit))
	return h.results[in.Digit]
}

func (h *fakeHooks) HangupHook(state string) { h.hook = append(h.hook, state) }
