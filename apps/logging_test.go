package apps

import (
	"log/slog"
	"testing"
)

// The FreeSWITCH quirk this is named after: a first word that is not a
// level is dropped, and the rest goes out at debug.
func TestLogHelloWorldLogsOnlyWorldAtDebug(t *testing.T) {
	ch := newFake()
	if err := run(t, ch, "log", "Hello world"); err != nil {
		t.Fatal(err)
	}
	want := []logLine{{slog.LevelDebug, "world"}}
	if len(ch.logs) != 1 || ch.logs[0] != want[0] {
		t.Errorf("logged %v, want %v", ch.logs, want)
	}
}

func TestLog(t *testing.T) {
	tests := []struct {
		data  string
		level slog.Level
		msg   string
	}{
		{"INFO hello there", slog.LevelInfo, "hello there"},
		{"info hello", slog.LevelInfo, "hello"},
		{"console c", SlogConsole, "c"},
		{"alert a", SlogAlert, "a"},
		{"crit c", SlogCrit, "c"},
		{"err e", slog.LevelError, "e"},
		{"warning w", slog.LevelWarn, "w"},
		{"notice n", SlogNotice, "n"},
		{"debug d", slog.LevelDebug, "d"},
		{"error e", slog.LevelDebug, "e"}, // not a FreeSWITCH level name
		{"warn w", slog.LevelDebug, "w"},
		{"3 numeric", slog.LevelError, "numeric"},
		{"0 zero", SlogConsole, "zero"},
		{"-5 negative", SlogConsole, "negative"},
		{"9 finer than debug", slog.LevelDebug - 2, "finer than debug"},
		{"64 invalid", slog.LevelDebug, "invalid"},
		{"hello", slog.LevelDebug, "hello"}, // no space: all of it at debug
		{"", slog.LevelDebug, ""},
		{" leading space", SlogConsole, "leading space"}, // the empty word is the number 0
		{"info  two spaces", slog.LevelInfo, " two spaces"},
		{"disable d", SlogConsole, "d"},
	}
	for _, tt := range tests {
		t.Run(tt.data, func(t *testing.T) {
			ch := newFake()
			if err := run(t, ch, "log", tt.data); err != nil {
				t.Fatal(err)
			}
			want := logLine{tt.level, tt.msg}
			if len(ch.logs) != 1 || ch.logs[0] != want {
				t.Errorf("logged %v, want [%v]", ch.logs, want)
			}
		})
	}
}

func TestDoNothingApps(t *testing.T) {
	for _, name := range []string{"eval", "stop"} {
		ch := newFake("a", "1")
		if err := run(t, ch, name, "${a} anything at all"); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if len(ch.logs) != 0 || ch.vars.Len() != 1 || ch.globals.Len() != 0 {
			t.Errorf("%s changed the channel: logs %v, vars %v", name, ch.logs, ch.vars.Map())
		}
	}
}
