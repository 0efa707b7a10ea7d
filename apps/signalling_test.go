package apps

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/switchboard-voip/switchboard/cause"
)

// runCtx executes the registered application name on ch with ctx.
func runCtx(t *testing.T, ctx context.Context, ch Channel, name, data string) error {
	t.Helper()
	a, ok := Lookup(name)
	if !ok {
		t.Fatalf("application %q is not registered", name)
	}
	return a.Run(ctx, ch, data)
}

// The applications of this family and the others that need a live call.
var liveApps = []string{
	"answer", "pre_answer", "ring_ready", "hangup", "respond", "redirect",
	"playback", "gentones", "sleep", "echo", "delay_echo", "send_dtmf",
	"transfer", "execute_extension", "park", "sched_hangup", "event",
}

func TestLiveAppsNeedASession(t *testing.T) {
	for _, name := range liveApps {
		t.Run(name, func(t *testing.T) {
			ch := newFake()
			err := run(t, ch, name, "1000")
			if !errors.Is(err, ErrNoSession) {
				t.Errorf("%s on a plain channel: %v, want ErrNoSession", name, err)
			}
		})
	}
}

func TestCallAppsRegistered(t *testing.T) {
	for _, name := range append(slices.Clone(liveApps), "info") {
		a, ok := Lookup(name)
		if !ok {
			t.Errorf("%s is not registered", name)
			continue
		}
		if a.Description == "" {
			t.Errorf("%s has no description", name)
		}
	}
}

func TestSignalling(t *testing.T) {
	tests := []struct {
		app, data string
		want      []string // fakeSession.calls
		wantErr   bool
	}{
		{"answer", "", []string{"answer"}, false},
		{"answer", "is_conference", []string{"answer"}, false},
		{"pre_answer", "", []string{"pre_answer"}, false},
		{"ring_ready", "", []string{"ring_ready 180"}, false},
		{"ring_ready", "queued", []string{"ring_ready 182"}, false},
		{"ring_ready", "QUEUED", []string{"ring_ready 182"}, false},
		{"ring_ready", "queue", []string{"ring_ready 180"}, false},
		{"respond", "404", []string{"respond 404 "}, false},
		{"respond", "503 Busy here", []string{"respond 503 Busy here"}, false},
		{"respond", "407", []string{"respond 407 "}, false},
		{"respond", "486abc", []string{"respond 486 "}, false},
		{"respond", "abc", []string{"respond 488 "}, false},
		{"respond", "", []string{"respond 488 "}, false},
		{"respond", "0 Nothing", []string{"respond 488 "}, false},
		{"redirect", "sip:1000@example.com", []string{"redirect sip:1000@example.com"}, false},
		{"redirect", "", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.app+" "+tt.data, func(t *testing.T) {
			s := newSession()
			err := run(t, s, tt.app, tt.data)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			var ue *UsageError
			if tt.wantErr && !errors.As(err, &ue) {
				t.Errorf("err = %v, want a *UsageError", err)
			}
			if !slices.Equal(s.calls, tt.want) {
				t.Errorf("calls = %q, want %q", s.calls, tt.want)
			}
		})
	}
}

func TestAnswerStates(t *testing.T) {
	s := newSession()
	if err := run(t, s, "answer", ""); err != nil {
		t.Fatal(err)
	}
	if !s.Answered() || s.earlyMedia != 0 {
		t.Errorf("answered = %v, early media opened %d times", s.Answered(), s.earlyMedia)
	}
}

func TestSignallingErrors(t *testing.T) {
	boom := errors.New("boom")
	for _, tt := range []struct{ app, data string }{
		{"answer", ""}, {"pre_answer", ""}, {"ring_ready", ""}, {"respond", "404"}, {"redirect", "sip:x@y"},
	} {
		s := newSession()
		s.err = boom
		if err := run(t, s, tt.app, tt.data); !errors.Is(err, boom) {
			t.Errorf("%s: err = %v, want it to wrap the session's error", tt.app, err)
		}
	}
}

func TestHangupCause(t *testing.T) {
	tests := []struct {
		data string
		want cause.Cause
	}{
		{"", cause.CNormalClearing},
		{"USER_BUSY", cause.CUserBusy},
		{"user_busy", cause.CUserBusy},
		{"17", cause.CUserBusy},
		{"21", cause.CCallRejected},
		{"ORIGINATOR_CANCEL", cause.COriginatorCancel},
		{"NO_SUCH_CAUSE", cause.CNormalClearing},
		{"busy", cause.CNormalClearing},
	}
	for _, tt := range tests {
		s := newSession()
		if err := run(t, s, "hangup", tt.data); err != nil {
			t.Fatalf("hangup %q: %v", tt.data, err)
		}
		if !slices.Equal(s.hangups, []cause.Cause{tt.want}) {
			t.Errorf("hangup %q: hangups %v, want [%v]", tt.data, s.hangups, tt.want)
		}
		if s.Ready() {
			t.Errorf("hangup %q: the call is still up", tt.data)
		}
	}
}
