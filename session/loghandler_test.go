package session

import (
	"bytes"
	"log/slog"
	"testing"
)

// TestCallLogHandler: a session's logger writes what Logger.With with
// the channel's attributes writes, and builds nothing for records its
// level filters out.
func TestCallLogHandler(t *testing.T) {
	noTime := func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	tests := []struct {
		name string
		log  func(l *slog.Logger)
	}{
		{"plain", func(l *slog.Logger) { l.Info("hangup", "cause", "NORMAL_CLEARING") }},
		{"with", func(l *slog.Logger) { l.With("file", "x.lua").Warn("script", "line", 3) }},
		{"group", func(l *slog.Logger) { l.WithGroup("app").Error("failed", "name", "bridge") }},
		{"filtered then logged", func(l *slog.Logger) { l.Debug("state change"); l.Info("answered") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var want, got bytes.Buffer
			opts := &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: noTime}
			tc.log(slog.New(slog.NewTextHandler(&want, opts)).With("uuid", "u-1", "channel", "sofia/internal/1000@h"))
			var h callLogHandler
			h.init(slog.NewTextHandler(&got, opts), "u-1", "sofia/internal/1000@h")
			tc.log(slog.New(&h))
			if got.String() != want.String() {
				t.Errorf("got\n%s\nwant\n%s", got.String(), want.String())
			}
		})
	}

	var out bytes.Buffer
	var h callLogHandler
	h.init(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelWarn}), "u-2", "c")
	l := slog.New(&h)
	l.Info("filtered")
	if l.Enabled(t.Context(), slog.LevelInfo) || !l.Enabled(t.Context(), slog.LevelWarn) {
		t.Error("Enabled does not follow the base handler's level")
	}
	if h.h != nil || out.Len() != 0 {
		t.Errorf("a filtered record built the channel's handler (%v) or wrote %q", h.h != nil, out.String())
	}
}
