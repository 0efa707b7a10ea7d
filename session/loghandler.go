package session

import (
	"context"
	"log/slog"
	"sync"
)

// callLogHandler is a session's log handler: the manager's handler with
// the channel's attributes (uuid, channel), added only when the session
// first logs something its level lets through. Logger.With formats and
// copies the attributes at once (a text handler pre-renders them), which
// a call whose every log line is filtered out by level — the usual case
// under load — would pay for nothing.
//
// It lives inside the Session, so a call's logger costs no allocation
// until it is used.
type callLogHandler struct {
	base  slog.Handler
	attrs [2]slog.Attr

	once sync.Once
	h    slog.Handler // base.WithAttrs(attrs), made by handler
}

// init sets the base handler and the channel's attributes.
func (c *callLogHandler) init(base slog.Handler, uuid, channel string) {
	c.base = base
	c.attrs = [2]slog.Attr{slog.String("uuid", uuid), slog.String("channel", channel)}
}

// handler is the base handler with the channel's attributes.
func (c *callLogHandler) handler() slog.Handler {
	c.once.Do(func() { c.h = c.base.WithAttrs(c.attrs[:]) })
	return c.h
}

// Enabled asks the base handler: attributes do not change what a
// handler lets through.
func (c *callLogHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return c.base.Enabled(ctx, level)
}

// Handle passes r to the base handler with the channel's attributes.
func (c *callLogHandler) Handle(ctx context.Context, r slog.Record) error {
	return c.handler().Handle(ctx, r)
}

// WithAttrs returns the channel's handler with attrs added.
func (c *callLogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return c.handler().WithAttrs(attrs)
}

// WithGroup returns the channel's handler with group name opened.
func (c *callLogHandler) WithGroup(name string) slog.Handler {
	return c.handler().WithGroup(name)
}
