package apps

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
)

// checkVars reports variables of s that differ from want; "" in want
// means the variable must be unset.
func checkVars(t *testing.T, s *fakeSession, want map[string]string) {
	t.Helper()
	for name, w := range want {
		got, ok := s.Vars().Get(name)
		switch {
		case w == "" && ok:
			t.Errorf("%s = %q, want it unset", name, got)
		case w != "" && got != w:
			t.Errorf("%s = %q (set %v), want %q", name, got, ok, w)
		}
	}
}

func TestPlayback(t *testing.T) {
	boom := errors.New("decoder failed")
	tests := []struct {
		name      string
		vars      []string       // channel variables before
		queued    string         // digits queued before playback
		data      string         // playback's data
		script    map[int]string // digits arriving during playback, by frame
		missing   bool           // the file does not exist
		playErr   error          // Play fails
		wantPlays []string
		wantVars  map[string]string
		wantQueue string // digits left queued
		wantErr   error  // errors.Is target; nil: no error
	}{
		{
			name: "plays to the end", data: "ivr/welcome.wav",
			wantPlays: []string{"ivr/welcome.wav"},
			wantVars: map[string]string{"current_application_response": "FILE PLAYED", "playback_ms": "1000",
				"playback_seconds": "1", "playback_samples": "8000", "playback_terminator_used": ""},
		},
		{
			name: "default terminator * stops", data: "a.wav", script: map[int]string{10: "*"},
			wantPlays: []string{"a.wav"},
			wantVars: map[string]string{"current_application_response": "FILE PLAYED", "playback_terminator_used": "*",
				"playback_ms": "200", "playback_seconds": "0", "playback_samples": "1600"},
		},
		{
			name: "other digits are discarded", data: "a.wav", script: map[int]string{10: "5", 20: "#"},
			wantPlays: []string{"a.wav"},
			wantVars:  map[string]string{"current_application_response": "FILE PLAYED", "playback_terminator_used": "", "playback_ms": "1000"},
		},
		{
			name: "discarded digit then terminator", data: "a.wav", script: map[int]string{10: "5*"},
			wantVars: map[string]string{"playback_terminator_used": "*", "playback_ms": "200"},
		},
		{
			name: "digits after the terminator stay queued", data: "a.wav", script: map[int]string{10: "*58"},
			wantVars: map[string]string{"playback_terminator_used": "*"}, wantQueue: "58",
		},
		{
			name: "terminator already queued", data: "a.wav", queued: "*",
			wantVars: map[string]string{"playback_terminator_used": "*", "playback_ms": "0"},
		},
		{
			name: "any", vars: []string{"playback_terminators", "any"}, data: "a.wav", script: map[int]string{3: "7"},
			wantVars: map[string]string{"playback_terminator_used": "7", "playback_ms": "60"},
		},
		{
			name: "ANY ignores case", vars: []string{"playback_terminators", "ANY"}, data: "a.wav", script: map[int]string{3: "#"},
			wantVars: map[string]string{"playback_terminator_used": "#"},
		},
		{
			name: "none", vars: []string{"playback_terminators", "none"}, data: "a.wav", script: map[int]string{3: "*"},
			wantVars: map[string]string{"playback_terminator_used": "", "playback_ms": "1000"},
		},
		{
			name: "custom set", vars: []string{"playback_terminators", "#9"}, data: "a.wav", script: map[int]string{3: "*", 4: "9"},
			wantVars: map[string]string{"playback_terminator_used": "9", "playback_ms": "80"},
		},
		{
			name: "stale terminator is cleared", vars: []string{"playback_terminator_used", "#"}, data: "a.wav",
			wantVars: map[string]string{"playback_terminator_used": ""},
		},
		{
			name: "start sample is removed", data: "a.wav@@8000",
			wantPlays: []string{"a.wav"}, wantVars: map[string]string{"current_application_response": "FILE PLAYED"},
		},
		{
			name: "single @ is part of the path", data: "sip@host.wav",
			wantPlays: []string{"sip@host.wav"},
		},
		{
			name: "not found", data: "nope.wav", missing: true,
			wantPlays: []string{"nope.wav"},
			wantVars:  map[string]string{"current_application_response": "FILE NOT FOUND", "playback_ms": "", "playback_samples": ""},
			wantErr:   fs.ErrNotExist,
		},
		{
			name: "play error", data: "bad.wav", playErr: boom,
			wantVars: map[string]string{"current_application_response": "PLAYBACK ERROR"},
			wantErr:  boom,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSession(tt.vars...)
			s.dtmf.push(tt.queued)
			for k, v := range tt.script {
				s.media.script[k] = v
			}
			if tt.missing {
				s.media.missing[tt.data] = true
			}
			s.media.playErr = tt.playErr
			err := run(t, s, "playback", tt.data)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantPlays != nil && !slices.Equal(s.media.plays, tt.wantPlays) {
				t.Errorf("played %q, want %q", s.media.plays, tt.wantPlays)
			}
			checkVars(t, s, tt.wantVars)
			if got := s.dtmf.String(); got != tt.wantQueue {
				t.Errorf("queue holds %q, want %q", got, tt.wantQueue)
			}
		})
	}
}

func TestPlaybackUsage(t *testing.T) {
	s := newSession()
	err := run(t, s, "playback", "")
	var ue *UsageError
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v, want a *UsageError", err)
	}
	checkVars(t, s, map[string]string{"current_application_response": "PLAYBACK ERROR"})
	if len(s.media.plays) != 0 {
		t.Errorf("played %q", s.media.plays)
	}
}

// playback on an unanswered call opens early media; on an answered one
// it does not.
func TestPlaybackPreAnswers(t *testing.T) {
	s := newSession()
	if err := run(t, s, "playback", "a.wav"); err != nil {
		t.Fatal(err)
	}
	if s.earlyMedia != 1 {
		t.Errorf("early media opened %d times, want 1", s.earlyMedia)
	}
	s = newSession()
	if err := s.Answer(); err != nil {
		t.Fatal(err)
	}
	if err := run(t, s, "playback", "a.wav"); err != nil {
		t.Fatal(err)
	}
	if s.earlyMedia != 0 {
		t.Errorf("early media opened %d times on an answered call", s.earlyMedia)
	}
}

func TestPlaybackNoMedia(t *testing.T) {
	s := newSession()
	s.mediaErr = errors.New("no SDP")
	if err := run(t, s, "playback", "a.wav"); !errors.Is(err, s.mediaErr) {
		t.Errorf("err = %v, want the media error", err)
	}
	checkVars(t, s, map[string]string{"current_application_response": "PLAYBACK ERROR"})
}

// A hangup during playback ends it with PLAYBACK ERROR, and is not an
// application error.
func TestPlaybackHangup(t *testing.T) {
	s := newSession()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.media.frames["a.wav"] = -1 // endless
	s.media.onFrame = func(i int) {
		if i == 5 { // the call hangs up: the executor cancels the application's context
			s.Hangup(0)
			cancel()
		}
	}
	if err := runCtx(t, ctx, s, "playback", "a.wav"); err != nil {
		t.Fatalf("err = %v, want nil", err)
	}
	checkVars(t, s, map[string]string{"current_application_response": "PLAYBACK ERROR", "playback_ms": "100"})
}

func TestGentones(t *testing.T) {
	tests := []struct {
		data     string
		script   map[int]string
		want     []string // URIs played
		wantVars map[string]string
		wantErr  bool
	}{
		{data: "%(500,0,800)", want: []string{"tone_stream://%(500,0,800)"}},
		{data: "%(500,0,800)|3", want: []string{"{loops=3}tone_stream://%(500,0,800)"}},
		{data: "%(100,100,350,440);%(100,0,0)|-5", want: []string{"{loops=-1}tone_stream://%(100,100,350,440);%(100,0,0)"}},
		{data: "%(500,0,800)|0", want: []string{"tone_stream://%(500,0,800)"}},
		{data: "%(500,0,800)|x", want: []string{"tone_stream://%(500,0,800)"}},
		{data: "%(500,0,800)", script: map[int]string{2: "1*"}, want: []string{"tone_stream://%(500,0,800)"},
			wantVars: map[string]string{"playback_terminator_used": "*"}},
		{data: "%(500,0,800)", script: map[int]string{2: "1"}, want: []string{"tone_stream://%(500,0,800)"},
			wantVars: map[string]string{"playback_terminator_used": "", "playback_ms": ""}},
		{data: "", wantErr: true},
		{data: "|3", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.data, func(t *testing.T) {
			s := newSession("playback_terminator_used", "#")
			for k, v := range tt.script {
				s.media.script[k] = v
			}
			err := run(t, s, "gentones", tt.data)
			var ue *UsageError
			if tt.wantErr != errors.As(err, &ue) || !tt.wantErr && err != nil {
				t.Fatalf("err = %v, want a usage error %v", err, tt.wantErr)
			}
			if !slices.Equal(s.media.plays, tt.want) {
				t.Errorf("played %q, want %q", s.media.plays, tt.want)
			}
			checkVars(t, s, tt.wantVars)
			if s.dtmf.Len() != 0 {
				t.Errorf("queue holds %q", s.dtmf.String())
			}
		})
	}
}

func TestSleep(t *testing.T) {
	tests := []struct {
		name      string
		vars      []string
		noMedia   bool // the call has no media yet
		queued    string
		data      string
		script    map[int]string
		wantPlays []string
		wantVars  map[string]string
		wantQueue string
	}{
		{name: "plays silence", data: "1000", wantPlays: []string{"silence_stream://1000"}},
		{name: "atoi", data: "500ms", wantPlays: []string{"silence_stream://500"}},
		{name: "zero", data: "0"},
		{name: "not a number", data: "abc"},
		{name: "negative", data: "-20"},
		{
			name: "a digit ends it and stays queued", data: "1000", script: map[int]string{5: "5"},
			wantPlays: []string{"silence_stream://1000"}, wantQueue: "5",
			wantVars: map[string]string{"playback_terminator_used": ""},
		},
		{
			name: "terminator ends it and stays queued", wantPlays: []string{"silence_stream://1000"}, data: "1000", script: map[int]string{5: "*"},
			wantQueue: "*", wantVars: map[string]string{"playback_terminator_used": ""},
		},
		{name: "a queued digit ends it at once", data: "1000", queued: "1", wantQueue: "1"},
		{
			name: "eat digits: others are dropped", vars: []string{"sleep_eat_digits", "true"}, data: "1000",
			script:    map[int]string{5: "5", 6: "#"},
			wantPlays: []string{"silence_stream://1000"},
			wantVars:  map[string]string{"playback_terminator_used": ""},
		},
		{
			name: "eat digits: terminator ends it", wantPlays: []string{"silence_stream://1000"}, vars: []string{"sleep_eat_digits", "yes", "playback_terminator_used", "#"},
			data: "1000", script: map[int]string{5: "5*9"},
			wantVars: map[string]string{"playback_terminator_used": "*"}, wantQueue: "9",
		},
		{
			name: "eat digits: own terminators", wantPlays: []string{"silence_stream://1000"}, vars: []string{"sleep_eat_digits", "1", "playback_terminators", "#"},
			data: "1000", script: map[int]string{5: "*#"},
			wantVars: map[string]string{"playback_terminator_used": "#"},
		},
		{
			name: "eat digits: queued terminator", vars: []string{"sleep_eat_digits", "on"}, data: "1000", queued: "2*",
			wantVars: map[string]string{"playback_terminator_used": "*"},
		},
		{
			name: "sleep_eat_digits false", vars: []string{"sleep_eat_digits", "false"}, data: "1000",
			script: map[int]string{5: "5"}, wantPlays: []string{"silence_stream://1000"}, wantQueue: "5",
		},
		{name: "no media: just waits", noMedia: true, data: "1", queued: "5", wantQueue: "5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSession(tt.vars...)
			s.mediaUp = !tt.noMedia
			s.dtmf.push(tt.queued)
			for k, v := range tt.script {
				s.media.script[k] = v
			}
			if err := run(t, s, "sleep", tt.data); err != nil {
				t.Fatalf("err = %v", err)
			}
			if !slices.Equal(s.media.plays, tt.wantPlays) {
				t.Errorf("played %q, want %q", s.media.plays, tt.wantPlays)
			}
			checkVars(t, s, tt.wantVars)
			if got := s.dtmf.String(); got != tt.wantQueue {
				t.Errorf("queue holds %q, want %q", got, tt.wantQueue)
			}
			if s.earlyMedia != 0 {
				t.Error("sleep opened early media")
			}
		})
	}
}

func TestSleepUsage(t *testing.T) {
	var ue *UsageError
	if err := run(t, newSession(), "sleep", ""); !errors.As(err, &ue) {
		t.Errorf("sleep with no data: %v, want a *UsageError", err)
	}
}

func TestEcho(t *testing.T) {
	tests := []struct {
		app, data string
		want      time.Duration
		wantErr   bool
	}{
		{"echo", "", 0, false},
		{"delay_echo", "", time.Second, false},
		{"delay_echo", "250", 250 * time.Millisecond, false},
		{"delay_echo", "0", 0, false},
		{"delay_echo", "-1", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.app+" "+tt.data, func(t *testing.T) {
			s := newSession()
			s.media.onEcho = func() { s.Hangup(0) } // the caller hangs up while echoing
			err := run(t, s, tt.app, tt.data)
			if tt.wantErr {
				var ue *UsageError
				if !errors.As(err, &ue) || len(s.media.echoes) != 0 {
					t.Errorf("err = %v, echoes %v; want a *UsageError and no echo", err, s.media.echoes)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if !slices.Equal(s.media.echoes, []time.Duration{tt.want}) {
				t.Errorf("echoes %v, want [%v]", s.media.echoes, tt.want)
			}
			if s.earlyMedia != 1 {
				t.Errorf("early media opened %d times, want 1", s.earlyMedia)
			}
		})
	}
}

func TestSendDTMF(t *testing.T) {
	tests := []struct {
		data     string
		want     []sentDTMF
		wantLast string // last_dtmf_duration
		wantWarn bool
	}{
		{data: "123", want: []sentDTMF{{"123", 0}}, wantLast: "1500"},
		{data: "123@100", want: []sentDTMF{{"123", 100 * time.Millisecond}}, wantLast: "1050"},
		{data: "1@50", want: []sentDTMF{{"1", 0}}, wantLast: "500"},
		{data: "1@51", want: []sentDTMF{{"1", 51 * time.Millisecond}}, wantLast: "301"},
		{data: "1@30000", want: []sentDTMF{{"1", 24 * time.Second}}, wantLast: "24250", wantWarn: true},
		{data: "12+34@200", want: []sentDTMF{{"12", 0}, {"34", 200 * time.Millisecond}}, wantLast: "1900"},
		{data: "~*#", want: []sentDTMF{{"*#", 0}}, wantLast: "1000"},
		{data: "1w2W3", want: []sentDTMF{{"1w2W3", 0}}, wantLast: "2500"},
		{data: "1x2 3", want: []sentDTMF{{"123", 0}}, wantLast: "1500"},
		{data: "AbcDF", want: []sentDTMF{{"AbcDF", 0}}, wantLast: "2500"},
		{data: "xyz"},
		{data: "+"},
	}
	for _, tt := range tests {
		t.Run(tt.data, func(t *testing.T) {
			s := newSession()
			if err := run(t, s, "send_dtmf", tt.data); err != nil {
				t.Fatalf("err = %v", err)
			}
			if !slices.Equal(s.media.sent, tt.want) {
				t.Errorf("sent %v, want %v", s.media.sent, tt.want)
			}
			checkVars(t, s, map[string]string{"last_dtmf_duration": tt.wantLast})
			warned := slices.ContainsFunc(s.logs, func(l logLine) bool { return l.level == slog.LevelWarn })
			if warned != tt.wantWarn {
				t.Errorf("warned %v, want %v: %v", warned, tt.wantWarn, s.logs)
			}
		})
	}
}

func TestSendDTMFUsage(t *testing.T) {
	for _, data := range []string{"", "~", strings.Repeat("1", 100)} {
		s := newSession()
		var ue *UsageError
		if err := run(t, s, "send_dtmf", data); !errors.As(err, &ue) || len(s.media.sent) != 0 {
			t.Errorf("send_dtmf %q: err %v, sent %v; want a *UsageError and nothing sent", data, err, s.media.sent)
		}
	}
	s := newSession()
	if err := run(t, s, "send_dtmf", strings.Repeat("1", 99)); err != nil || len(s.media.sent) != 1 {
		t.Errorf("99 digits: err %v, sent %v", err, s.media.sent)
	}
}

// The blocking applications return once the call has hung up, whether
// the application's context or the session's says so. Each media here
// would otherwise never end; a regression hangs the test.
func TestMediaAppsReturnOnHangup(t *testing.T) {
	tests := []struct{ app, data string }{
		{"playback", "endless.wav"},
		{"gentones", "%(1000,0,350)|-1"},
		{"sleep", "3600000"},
		{"echo", ""},
		{"delay_echo", "500"},
	}
	for _, tt := range tests {
		for _, which := range []string{"app context", "session context"} {
			t.Run(tt.app+" "+which, func(t *testing.T) {
				s := newSession()
				s.mediaUp = true
				s.media.frames["endless.wav"] = -1
				s.media.frames["{loops=-1}tone_stream://%(1000,0,350)"] = -1
				s.media.frames["silence_stream://3600000"] = -1
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if which == "app context" {
					cancel()
				} else {
					s.cancel()
				}
				if err := runCtx(t, ctx, s, tt.app, tt.data); err != nil {
					t.Errorf("err = %v, want nil after hangup", err)
				}
			})
		}
	}
}

// Without media, sleep waits on a timer; it too returns on hangup.
func TestSleepWithoutMediaReturnsOnHangup(t *testing.T) {
	s := newSession()
	s.cancel()
	if err := run(t, s, "sleep", "3600000"); err != nil {
		t.Errorf("err = %v", err)
	}
	if len(s.media.plays) != 0 || s.earlyMedia != 0 {
		t.Errorf("played %q, early media %d", s.media.plays, s.earlyMedia)
	}
}

func TestSendDTMFHangup(t *testing.T) {
	s := newSession()
	s.cancel()
	if err := run(t, s, "send_dtmf", "123"); err != nil || len(s.media.sent) != 0 {
		t.Errorf("err = %v, sent %v; want nil and nothing sent", err, s.media.sent)
	}
}
