package apps

import (
	"log/slog"
	"testing"
)

func TestParseLogLevel(t *testing.T) {
	tests := []struct {
		s    string
		want LogLevel
	}{
		{"console", LogConsole},
		{"ALERT", LogAlert},
		{"Crit", LogCrit},
		{"err", LogErr},
		{"warning", LogWarning},
		{"notice", LogNotice},
		{"info", LogInfo},
		{"debug", LogDebug},
		{"disable", LogDisable},
		{"error", LogInvalid},
		{"warn", LogInvalid},
		{"debug1", LogInvalid},
		{"3", LogErr},
		{"+6", LogInfo},
		{"7.9", LogDebug},
		{"-1", LogConsole},
		{"12", LogLevel(12)},
		{"64", LogInvalid},
		{"65", LogLevel(63)},
		{"99999999999999999999", LogLevel(63)},
		{"", LogConsole},
		{"-", LogConsole},
		{".", LogConsole},
		{"3a", LogInvalid},
	}
	for _, tt := range tests {
		if got := ParseLogLevel(tt.s); got != tt.want {
			t.Errorf("ParseLogLevel(%q) = %d, want %d", tt.s, got, tt.want)
		}
	}
}

func TestLogLevelString(t *testing.T) {
	tests := []struct {
		l    LogLevel
		want string
	}{
		{LogDisable, "DISABLE"},
		{LogConsole, "CONSOLE"},
		{LogErr, "ERR"},
		{LogWarning, "WARNING"},
		{LogDebug, "DEBUG"},
		{LogLevel(9), "DEBUG"},
		{LogInvalid, "INVALID"},
		{LogLevel(-2), "INVALID"},
	}
	for _, tt := range tests {
		if got := tt.l.String(); got != tt.want {
			t.Errorf("LogLevel(%d).String() = %q, want %q", int(tt.l), got, tt.want)
		}
	}
}

func TestLogLevelSlog(t *testing.T) {
	// Named levels keep FreeSWITCH's order, strictly.
	for l := LogConsole; l < LogDebug; l++ {
		if l.Slog() <= (l + 1).Slog() {
			t.Errorf("%v maps to %v, not above %v's %v", l, l.Slog(), l+1, (l + 1).Slog())
		}
	}
	fixed := map[LogLevel]slog.Level{
		LogDebug:   slog.LevelDebug,
		LogInfo:    slog.LevelInfo,
		LogWarning: slog.LevelWarn,
		LogErr:     slog.LevelError,
		LogInvalid: slog.LevelDebug,
		LogDisable: SlogConsole,
	}
	for l, want := range fixed {
		if got := l.Slog(); got != want {
			t.Errorf("%v.Slog() = %v, want %v", l, got, want)
		}
	}
	// Levels finer than debug fall below slog's debug, one step each.
	if got := LogLevel(8).Slog(); got != slog.LevelDebug-1 {
		t.Errorf("LogLevel(8).Slog() = %v, want %v", got, slog.LevelDebug-1)
	}
	if LogLevel(63).Slog() >= LogLevel(62).Slog() {
		t.Error("level 63 does not map below level 62")
	}
}

func TestLogLevelOf(t *testing.T) {
	for l := LogConsole; l <= LogDebug; l++ {
		if got := LogLevelOf(l.Slog()); got != l {
			t.Errorf("LogLevelOf(%v.Slog()) = %v", l, got)
		}
	}
	tests := []struct {
		s    slog.Level
		want LogLevel
	}{
		{slog.LevelError + 1, LogErr},
		{slog.LevelWarn + 1, LogWarning},
		{slog.LevelDebug - 8, LogDebug},
		{100, LogConsole},
	}
	for _, tt := range tests {
		if got := LogLevelOf(tt.s); got != tt.want {
			t.Errorf("LogLevelOf(%v) = %v, want %v", tt.s, got, tt.want)
		}
	}
}
