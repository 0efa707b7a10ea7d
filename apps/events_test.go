package apps

import (
	"log/slog"
	"slices"
	"testing"
)

func TestEvent(t *testing.T) {
	tests := []struct {
		data string
		want [][2]string
	}{
		{"", nil},
		{"A=1", [][2]string{{"A", "1"}}},
		{"A=1,B=2", [][2]string{{"A", "1"}, {"B", "2"}}},
		{" A = 1 ,  B=2 ", [][2]string{{"A", "1"}, {"B", "2"}}},
		{"Event-Name=CUSTOM,Event-Subclass=my::event,Key=v", [][2]string{{"Event-Name", "CUSTOM"}, {"Event-Subclass", "my::event"}, {"Key", "v"}}},
		{"novalue,A=1", [][2]string{{"A", "1"}}},
		{"A=b=c", [][2]string{{"A", "b=c"}}},
		{"A='x,y',B=2", [][2]string{{"A", "x,y"}, {"B", "2"}}},
		{`A=x\,y`, [][2]string{{"A", "x,y"}}},
		{"A=,B=2", [][2]string{{"A", ""}, {"B", "2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.data, func(t *testing.T) {
			s := newSession()
			if err := run(t, s, "event", tt.data); err != nil {
				t.Fatal(err)
			}
			if s.eventsFired != 1 {
				t.Fatalf("%d events fired, want 1", s.eventsFired)
			}
			if !slices.Equal(s.events[0], tt.want) {
				t.Errorf("headers %q, want %q", s.events[0], tt.want)
			}
		})
	}
}

// Past the 25th item the rest of the data is one item.
func TestEventHeaderLimit(t *testing.T) {
	data := ""
	for i := 0; i < 27; i++ {
		if i > 0 {
			data += ","
		}
		data += "H" + string(rune('a'+i)) + "=v"
	}
	got := parseEventHeaders(data)
	if len(got) != maxEventHeaders {
		t.Fatalf("%d headers, want %d", len(got), maxEventHeaders)
	}
	if last := got[len(got)-1]; last != [2]string{"Hy", "v,Hz=v,H{=v"} {
		t.Errorf("last header %q", last)
	}
}

func TestInfo(t *testing.T) {
	tests := []struct {
		name      string
		session   bool
		answered  bool
		hungUp    bool
		data      string
		wantLevel slog.Level
		wantMsg   string
	}{
		{
			name: "plain channel", data: "", wantLevel: slog.LevelInfo,
			wantMsg: "CHANNEL_DATA:\nChannel-Name: sofia/internal/1000@example.com\nvariable_channel_name: sofia/internal/1000@example.com\nvariable_b: 2\nvariable_a: ARRAY::x|:y",
		},
		{
			name: "level", data: "DEBUG", wantLevel: slog.LevelDebug,
			wantMsg: "CHANNEL_DATA:\nChannel-Name: sofia/internal/1000@example.com\nvariable_channel_name: sofia/internal/1000@example.com\nvariable_b: 2\nvariable_a: ARRAY::x|:y",
		},
		{name: "numeric level", data: "3", wantLevel: slog.LevelError},
		{name: "notice", data: "notice", wantLevel: SlogNotice},
		{name: "unknown level is debug", data: "loud", wantLevel: slog.LevelDebug},
		{
			name: "ringing session", session: true, wantLevel: slog.LevelInfo,
			wantMsg: "CHANNEL_DATA:\nChannel-Name: sofia/internal/1000@example.com\nUnique-ID: 1b4c7d2e-0000-4000-8000-000000000001\nAnswer-State: ringing\nvariable_channel_name: sofia/internal/1000@example.com\nvariable_b: 2\nvariable_a: ARRAY::x|:y",
		},
		{
			name: "answered session", session: true, answered: true, wantLevel: slog.LevelInfo,
			wantMsg: "CHANNEL_DATA:\nChannel-Name: sofia/internal/1000@example.com\nUnique-ID: 1b4c7d2e-0000-4000-8000-000000000001\nAnswer-State: answered\nvariable_channel_name: sofia/internal/1000@example.com\nvariable_b: 2\nvariable_a: ARRAY::x|:y",
		},
		{
			name: "after hangup", session: true, hungUp: true, wantLevel: slog.LevelInfo,
			wantMsg: "CHANNEL_DATA:\nChannel-Name: sofia/internal/1000@example.com\nUnique-ID: 1b4c7d2e-0000-4000-8000-000000000001\nAnswer-State: hangup\nvariable_channel_name: sofia/internal/1000@example.com\nvariable_b: 2\nvariable_a: ARRAY::x|:y",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ch Channel
			var f *fakeChannel
			if tt.session {
				s := newSession()
				s.answered = tt.answered
				if tt.hungUp {
					s.cancel()
				}
				ch, f = s, s.fakeChannel
			} else {
				f = newFake()
				ch = f
			}
			f.vars.Set("channel_name", "sofia/internal/1000@example.com")
			f.vars.Set("b", "2")
			f.vars.Push("a", "x")
			f.vars.Push("a", "y")
			if err := run(t, ch, "info", tt.data); err != nil {
				t.Fatal(err)
			}
			if len(f.logs) != 1 {
				t.Fatalf("%d log lines, want 1", len(f.logs))
			}
			if f.logs[0].level != tt.wantLevel {
				t.Errorf("level %v, want %v", f.logs[0].level, tt.wantLevel)
			}
			if tt.wantMsg != "" && f.logs[0].msg != tt.wantMsg {
				t.Errorf("message\n%s\nwant\n%s", f.logs[0].msg, tt.wantMsg)
			}
		})
	}
}
