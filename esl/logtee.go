package esl

import (
	"context"
	"log/slog"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-voip/switchboard/apps"
)

// LogTee is a slog.Handler that hands every record to an inner handler
// (the console) and copies it to the event-socket connections that asked
// for logs with `log <level>`. A record is built when the inner handler or
// any of those connections wants its level. Copying never blocks: a
// connection that cannot keep up is dropped.
type LogTee struct {
	inner  slog.Handler
	hub    *logHub
	attrs  []slog.Attr // added with WithAttrs, for the copies
	groups []string    // open groups, for the names of later attributes
}

// NewLogTee returns a LogTee over inner.
func NewLogTee(inner slog.Handler) *LogTee {
	return &LogTee{inner: inner, hub: newLogHub()}
}

// Enabled reports whether the inner handler or a log listener wants
// records at level.
func (t *LogTee) Enabled(ctx context.Context, level slog.Level) bool {
	return t.hub.wants(level) || t.inner.Enabled(ctx, level)
}

// Handle passes r to the inner handler when it wants r's level and copies
// it to every listener whose level covers it.
func (t *LogTee) Handle(ctx context.Context, r slog.Record) error {
	var err error
	if t.inner.Enabled(ctx, r.Level) {
		err = t.inner.Handle(ctx, r)
	}
	if t.hub.wants(r.Level) {
		t.hub.publish(t.line(r))
	}
	return err
}

// WithAttrs returns a LogTee whose records carry attrs.
func (t *LogTee) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return t
	}
	out := *t
	out.inner = t.inner.WithAttrs(attrs)
	out.attrs = append(append([]slog.Attr(nil), t.attrs...), qualify(t.groups, attrs)...)
	return &out
}

// WithGroup returns a LogTee whose later attributes are in group name.
func (t *LogTee) WithGroup(name string) slog.Handler {
	if name == "" {
		return t
	}
	out := *t
	out.inner = t.inner.WithGroup(name)
	out.groups = append(append([]string(nil), t.groups...), name)
	return &out
}

// qualify prefixes the attributes' keys with the open groups.
func qualify(groups []string, attrs []slog.Attr) []slog.Attr {
	if len(groups) == 0 {
		return attrs
	}
	prefix := strings.Join(groups, ".") + "."
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = slog.Attr{Key: prefix + a.Key, Value: a.Value}
	}
	return out
}

// logLine is one record as a log/data frame carries it.
type logLine struct {
	slevel   slog.Level    // the record's level
	level    apps.LogLevel // the same as a FreeSWITCH level
	file     string
	function string
	line     int
	uuid     string // User-Data: the channel the record is about
	text     string // the whole line, FreeSWITCH-style, ending in "\n"
}

// line renders r like a FreeSWITCH log line:
// "2006-01-02 15:04:05.000000 [INFO] file.go:123 message key=value".
func (t *LogTee) line(r slog.Record) *logLine {
	l := &logLine{slevel: r.Level, level: apps.LogLevelOf(r.Level)}
	if r.PC != 0 {
		fr, _ := runtime.CallersFrames([]uintptr{r.PC}).Next()
		l.file, l.line = filepath.Base(fr.File), fr.Line
		l.function = fr.Function
		if i := strings.LastIndexByte(l.function, '/'); i >= 0 {
			l.function = l.function[i+1:]
		}
	}
	var b strings.Builder
	ts := r.Time
	if ts.IsZero() {
		ts = time.Now()
	}
	b.WriteString(ts.Format("2006-01-02 15:04:05.000000"))
	b.WriteString(" [")
	b.WriteString(l.level.String())
	b.WriteString("] ")
	if l.file != "" {
		b.WriteString(l.file)
		b.WriteByte(':')
		b.WriteString(itoa(l.line))
		b.WriteByte(' ')
	}
	b.WriteString(r.Message)
	add := func(key string, v slog.Value) {
		if key == "uuid" && l.uuid == "" {
			l.uuid = v.String()
		}
		b.WriteByte(' ')
		b.WriteString(key)
		b.WriteByte('=')
		s := v.String()
		if s == "" || strings.ContainsAny(s, " \t\"=") {
			s = quote(s)
		}
		b.WriteString(s)
	}
	for _, a := range t.attrs {
		addAttr(add, "", a)
	}
	prefix := ""
	if len(t.groups) > 0 {
		prefix = strings.Join(t.groups, ".") + "."
	}
	r.Attrs(func(a slog.Attr) bool {
		addAttr(add, prefix, a)
		return true
	})
	b.WriteByte('\n')
	l.text = b.String()
	return l
}

// addAttr flattens groups into dotted keys.
func addAttr(add func(string, slog.Value), prefix string, a slog.Attr) {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range v.Group() {
			addAttr(add, p, g)
		}
		return
	}
	if a.Key == "" {
		return
	}
	add(prefix+a.Key, v)
}

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range s {
		switch c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(c)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteRune(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func itoa(n int) string {
	var buf [20]byte
	i := len(buf)
	neg := n < 0
	if neg {
		n = -n
	}
	for {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	if neg {
		i--
		buf[i] = '-'
	}
	return string(buf[i:])
}

// logHub holds the log listeners.
type logHub struct {
	mu        sync.Mutex
	listeners atomic.Pointer[[]*logListener]
	// min is the lowest slog level any listener wants, or noListener
	// when there is none.
	min atomic.Int64
	// dropped counts lines lost on listeners that fell behind.
	dropped atomic.Uint64
}

const noListener = int64(1 << 40)

func newLogHub() *logHub {
	h := &logHub{}
	h.min.Store(noListener)
	return h
}

func (h *logHub) wants(level slog.Level) bool {
	return int64(level) >= h.min.Load()
}

// recompute sets min from the listeners; h.mu is held.
func (h *logHub) recompute() {
	m := noListener
	if ls := h.listeners.Load(); ls != nil {
		for _, l := range *ls {
			if v := int64(l.min.Load()); v < m {
				m = v
			}
		}
	}
	h.min.Store(m)
}

func (h *logHub) publish(l *logLine) {
	ls := h.listeners.Load()
	if ls == nil {
		return
	}
	for _, x := range *ls {
		x.deliver(l)
	}
}

// subscribe adds a listener with a buffer of n lines that wants records
// at level and more severe.
func (h *logHub) subscribe(level apps.LogLevel, n int) *logListener {
	l := &logListener{hub: h, ch: make(chan *logLine, n)}
	l.min.Store(int32(level.Slog()))
	h.mu.Lock()
	var next []*logListener
	if old := h.listeners.Load(); old != nil {
		next = append(next, *old...)
	}
	next = append(next, l)
	h.listeners.Store(&next)
	h.recompute()
	h.mu.Unlock()
	return l
}

func (h *logHub) remove(l *logListener) {
	h.mu.Lock()
	defer h.mu.Unlock()
	old := h.listeners.Load()
	if old == nil {
		return
	}
	next := make([]*logListener, 0, len(*old))
	for _, x := range *old {
		if x != l {
			next = append(next, x)
		}
	}
	h.listeners.Store(&next)
	h.recompute()
}

// logListener is one connection's log stream.
type logListener struct {
	hub      *logHub
	ch       chan *logLine
	min      atomic.Int32 // slog level
	mu       sync.Mutex   // guards closed and sending on ch
	closed   bool
	overflow atomic.Bool
}

// setLevel changes the level the listener wants.
func (l *logListener) setLevel(level apps.LogLevel) {
	l.min.Store(int32(level.Slog()))
	l.hub.mu.Lock()
	l.hub.recompute()
	l.hub.mu.Unlock()
}

func (l *logListener) deliver(line *logLine) {
	if line.slevel < slog.Level(l.min.Load()) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	select {
	case l.ch <- line:
		return
	default:
	}
	l.overflow.Store(true)
	l.hub.dropped.Add(1)
	l.closed = true
	close(l.ch)
	go l.hub.remove(l) // not under the caller's feet: Handle may run anywhere
}

// close ends the listener; lines already buffered can still be read.
func (l *logListener) close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	close(l.ch)
	l.mu.Unlock()
	l.hub.remove(l)
}
