package apps

import (
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/cause"
)

func TestTransfer(t *testing.T) {
	tests := []struct {
		data     string
		want     [][3]string
		wantWarn bool
		wantErr  bool
	}{
		{data: "1000", want: [][3]string{{"1000", "", ""}}},
		{data: "1000 XML", want: [][3]string{{"1000", "XML", ""}}},
		{data: "1000 XML default", want: [][3]string{{"1000", "XML", "default"}}},
		{data: "  1000   XML   default  ", want: [][3]string{{"1000", "XML", "default"}}},
		{data: "1000 XML default extra words", want: [][3]string{{"1000", "XML", "default"}}},
		{data: "'set:a=1,playback:x y.wav' inline", want: [][3]string{{"set:a=1,playback:x y.wav", "inline", ""}}},
		{data: "-both 1000 XML features", want: [][3]string{{"1000", "XML", "features"}}, wantWarn: true},
		{data: "-BOTH 1000", want: [][3]string{{"1000", "", ""}}, wantWarn: true},
		{data: "-both 1000 XML ctx more", want: [][3]string{{"1000", "XML", "ctx more"}}, wantWarn: true},
		{data: "-bleg 1000 XML default", wantWarn: true},
		{data: "-Bleg 1000", wantWarn: true},
		{data: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.data, func(t *testing.T) {
			s := newSession()
			err := run(t, s, "transfer", tt.data)
			var ue *UsageError
			if tt.wantErr != errors.As(err, &ue) || !tt.wantErr && err != nil {
				t.Fatalf("err = %v, want a usage error %v", err, tt.wantErr)
			}
			if !slices.Equal(s.transfers, tt.want) {
				t.Errorf("transfers %q, want %q", s.transfers, tt.want)
			}
			warned := slices.ContainsFunc(s.logs, func(l logLine) bool { return l.level == slog.LevelWarn })
			if warned != tt.wantWarn {
				t.Errorf("warned %v, want %v: %v", warned, tt.wantWarn, s.logs)
			}
		})
	}
}

func TestExecuteExtension(t *testing.T) {
	tests := []struct {
		data    string
		want    [][3]string
		wantErr bool
	}{
		{data: "dx", want: [][3]string{{"dx", "", ""}}},
		{data: "dx XML features", want: [][3]string{{"dx", "XML", "features"}}},
		{data: "dx XML", want: [][3]string{{"dx", "XML", ""}}},
		{data: "dx XML features extra", want: [][3]string{{"dx", "XML", "features"}}},
		{data: "'my ext' XML", want: [][3]string{{"my ext", "XML", ""}}},
		{data: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.data, func(t *testing.T) {
			s := newSession()
			err := run(t, s, "execute_extension", tt.data)
			var ue *UsageError
			if tt.wantErr != errors.As(err, &ue) || !tt.wantErr && err != nil {
				t.Fatalf("err = %v, want a usage error %v", err, tt.wantErr)
			}
			if !slices.Equal(s.executed, tt.want) {
				t.Errorf("executed %q, want %q", s.executed, tt.want)
			}
		})
	}
}

func TestControlErrors(t *testing.T) {
	boom := errors.New("no such dialplan")
	for _, app := range []string{"transfer", "execute_extension"} {
		s := newSession()
		s.err = boom
		if err := run(t, s, app, "1000 nope"); !errors.Is(err, boom) {
			t.Errorf("%s: err = %v, want it to wrap the session's error", app, err)
		}
	}
}

func TestPark(t *testing.T) {
	s := newSession()
	if err := run(t, s, "park", ""); err != nil || !s.parked {
		t.Errorf("err = %v, parked %v", err, s.parked)
	}
}

func TestSchedHangup(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	epoch := func(d int64) string { return strconv.FormatInt(now.Unix()+d, 10) }
	tests := []struct {
		data      string
		wantNow   []cause.Cause // immediate hangups
		wantSched []schedCall
		wantWarn  bool
		wantErr   bool
	}{
		{data: "+30", wantSched: []schedCall{{30 * time.Second, cause.CAllottedTimeout}}},
		{data: "+30 USER_BUSY", wantSched: []schedCall{{30 * time.Second, cause.CUserBusy}}},
		{data: "+30 17", wantSched: []schedCall{{30 * time.Second, cause.CUserBusy}}},
		{data: "+30 nonsense", wantSched: []schedCall{{30 * time.Second, cause.CNormalClearing}}},
		{data: "+30s", wantSched: []schedCall{{30 * time.Second, cause.CAllottedTimeout}}},
		{data: "+0", wantNow: []cause.Cause{cause.CAllottedTimeout}},
		{data: "+0 NORMAL_CLEARING", wantNow: []cause.Cause{cause.CNormalClearing}},
		{data: "+", wantNow: []cause.Cause{cause.CAllottedTimeout}},
		{data: "+abc", wantNow: []cause.Cause{cause.CAllottedTimeout}},
		{data: epoch(90), wantSched: []schedCall{{90 * time.Second, cause.CAllottedTimeout}}},
		{data: epoch(90) + " CALL_REJECTED", wantSched: []schedCall{{90 * time.Second, cause.CCallRejected}}},
		{data: epoch(-90), wantNow: []cause.Cause{cause.CAllottedTimeout}},
		{data: "-5", wantNow: []cause.Cause{cause.CAllottedTimeout}},
		// Quirk: the digits after the first are read as seconds; 0 means now.
		{data: "5", wantNow: []cause.Cause{cause.CAllottedTimeout}},
		{data: "300 USER_BUSY", wantNow: []cause.Cause{cause.CUserBusy}},
		{data: "+30 USER_BUSY bleg", wantWarn: true},
		{data: "+30 USER_BUSY BLEG", wantWarn: true},
		{data: "+0 USER_BUSY bleg", wantNow: []cause.Cause{cause.CUserBusy}},
		{data: "+30 USER_BUSY other", wantSched: []schedCall{{30 * time.Second, cause.CUserBusy}}},
		{data: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.data, func(t *testing.T) {
			s := newSession()
			err := schedHangup(s, tt.data, now)
			var ue *UsageError
			if tt.wantErr != errors.As(err, &ue) || !tt.wantErr && err != nil {
				t.Fatalf("err = %v, want a usage error %v", err, tt.wantErr)
			}
			if !slices.Equal(s.hangups, tt.wantNow) {
				t.Errorf("hangups %v, want %v", s.hangups, tt.wantNow)
			}
			if !slices.Equal(s.scheduled, tt.wantSched) {
				t.Errorf("scheduled %v, want %v", s.scheduled, tt.wantSched)
			}
			warned := slices.ContainsFunc(s.logs, func(l logLine) bool { return l.level == slog.LevelWarn })
			if warned != tt.wantWarn {
				t.Errorf("warned %v, want %v: %v", warned, tt.wantWarn, s.logs)
			}
		})
	}
}

// The registered application reads the clock itself.
func TestSchedHangupApp(t *testing.T) {
	s := newSession()
	if err := run(t, s, "sched_hangup", "+45 NO_ANSWER"); err != nil {
		t.Fatal(err)
	}
	want := []schedCall{{45 * time.Second, cause.CNoAnswer}}
	if !slices.Equal(s.scheduled, want) || len(s.hangups) != 0 {
		t.Errorf("scheduled %v, hangups %v; want %v and none", s.scheduled, s.hangups, want)
	}
}
