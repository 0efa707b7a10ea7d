package sip

import (
	"context"
	"log/slog"
)

// quietWire wraps the handler sipgo logs to. sipgo reports every
// unparsable datagram and every request it cannot key a transaction for at
// error level, with the raw bytes; on a port reachable from the internet
// that is a stream of scanner noise, so those records go to debug.
type quietWire struct{ slog.Handler }

// wireNoise are the sipgo messages that describe bad input from the
// network rather than a fault of ours.
var wireNoise = map[string]bool{
	"failed to parse":                     true,
	"Server tx failed to handle request":  true,
	"Client tx failed to handle response": true,
}

func (h quietWire) Enabled(ctx context.Context, l slog.Level) bool {
	// Errors may be demoted, so ask about debug for them.
	if l >= slog.LevelError {
		return h.Handler.Enabled(ctx, l) || h.Handler.Enabled(ctx, slog.LevelDebug)
	}
	return h.Handler.Enabled(ctx, l)
}

func (h quietWire) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError && wireNoise[r.Message] {
		if !h.Handler.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
		nr := slog.NewRecord(r.Time, slog.LevelDebug, r.Message, r.PC)
		r.Attrs(func(a slog.Attr) bool { nr.AddAttrs(a); return true })
		r = nr
	}
	return h.Handler.Handle(ctx, r)
}

func (h quietWire) WithAttrs(as []slog.Attr) slog.Handler { return quietWire{h.Handler.WithAttrs(as)} }
func (h quietWire) WithGroup(n string) slog.Handler       { return quietWire{h.Handler.WithGroup(n)} }

// sipgoLogger is the logger handed to sipgo.
func sipgoLogger(l *slog.Logger) *slog.Logger {
	return slog.New(quietWire{l.Handler()}).With("component", "sipgo")
}
