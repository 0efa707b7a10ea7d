package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"
	"unicode"

	"github.com/switchboard-voip/switchboard/apps"
	apicmd "github.com/switchboard-voip/switchboard/commands"
)

// Log formats of `switchboard run` (--log-format).
const (
	logFormatFS   = "fs"   // FreeSWITCH's console lines
	logFormatText = "text" // slog's key=value lines
	logFormatJSON = "json" // slog's JSON lines
)

// newLogHandler returns the handler of the switch's logs in format,
// writing to w, with the level threshold given by level (a *slog.LevelVar
// lets `console loglevel` change it at run time). The event socket's log
// streaming wraps what this returns.
func newLogHandler(w io.Writer, format string, level slog.Leveler) (slog.Handler, error) {
	opts := &slog.HandlerOptions{Level: level, AddSource: true}
	switch format {
	case logFormatFS, "":
		return newFSHandler(w, level), nil
	case logFormatText:
		return slog.NewTextHandler(w, opts), nil
	case logFormatJSON:
		return slog.NewJSONHandler(w, opts), nil
	}
	return nil, fmt.Errorf("log format %q: want fs, text or json", format)
}

// fsHandler writes records in FreeSWITCH's console line shape
// (switch_log.c):
//
//	[<uuid> ]2026-11-25 21:00:00.123456 97.50% [INFO] session.go:123 message key=value ...
//
// The time is local with microseconds; the percentage is the machine's
// idle CPU over about the last second (100 where /proc/stat cannot be
// read, as in FreeSWITCH); then the level's FreeSWITCH name (apps.LogLevelOf: slog's
// levels, with NOTICE, CRIT, ALERT and CONSOLE between and above them),
// the Go source file and line that logged, the message and the record's
// attributes as key=value (quoted when needed).
// A record carrying a "uuid" attribute (a call's logs) starts with that
// UUID and a space, as fs_cli shows call logs; the attribute is not
// repeated at the end.
type fsHandler struct {
	w     *lockedWriter
	level slog.Leveler
	idle  *idleCPU
	uuid  string // from WithAttrs
	attrs []byte // pre-rendered " key=value" of WithAttrs
	group string // prefix of the keys added from now on ("a.b.")
	now   func() time.Time
}

// lockedWriter serialises whole lines from every handler derived from
// one newFSHandler.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func newFSHandler(w io.Writer, level slog.Leveler) *fsHandler {
	if level == nil {
		level = slog.LevelInfo
	}
	return &fsHandler{w: &lockedWriter{w: w}, level: level, idle: &idleCPU{meter: apicmd.NewIdleMeter(nil)}, now: time.Now}
}

func (h *fsHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h *fsHandler) WithAttrs(as []slog.Attr) slog.Handler {
	if len(as) == 0 {
		return h
	}
	c := *h
	c.attrs = append([]byte(nil), h.attrs...)
	for _, a := range as {
		if h.group == "" && a.Key == "uuid" && c.uuid == "" {
			c.uuid = a.Value.String()
			continue
		}
		c.attrs = appendAttr(c.attrs, h.group, a)
	}
	return &c
}

func (h *fsHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.group = h.group + name + "."
	return &c
}

func (h *fsHandler) Handle(_ context.Context, r slog.Record) error {
	buf := make([]byte, 0, 256)
	uuid := h.uuid
	var attrs []byte
	r.Attrs(func(a slog.Attr) bool {
		if h.group == "" && a.Key == "uuid" && uuid == "" {
			uuid = a.Value.String()
			return true
		}
		attrs = appendAttr(attrs, h.group, a)
		return true
	})
	if uuid != "" {
		buf = append(buf, uuid...)
		buf = append(buf, ' ')
	}
	t := r.Time
	if t.IsZero() {
		t = h.now()
	}
	buf = t.AppendFormat(buf, "2006-01-02 15:04:05.000000")
	buf = append(buf, ' ')
	buf = strconv.AppendFloat(buf, h.idle.percent(t), 'f', 2, 64)
	buf = append(buf, "% ["...)
	buf = append(buf, apps.LogLevelOf(r.Level).String()...)
	buf = append(buf, "] "...)
	file, line := source(r.PC)
	buf = append(buf, file...)
	buf = append(buf, ':')
	buf = strconv.AppendInt(buf, int64(line), 10)
	buf = append(buf, ' ')
	buf = append(buf, r.Message...)
	buf = append(buf, h.attrs...)
	buf = append(buf, attrs...)
	buf = append(buf, '\n')
	h.w.mu.Lock()
	defer h.w.mu.Unlock()
	_, err := h.w.w.Write(buf)
	return err
}

// source returns the base name of the file and the line of pc ("" and 0
// when unknown), as FreeSWITCH prints switch_cut_path(file).
func source(pc uintptr) (string, int) {
	if pc == 0 {
		return "", 0
	}
	f, _ := runtime.CallersFrames([]uintptr{pc}).Next()
	return filepath.Base(f.File), f.Line
}

// appendAttr renders " key=value", with groups flattened into dotted
// keys and values quoted when they hold spaces, quotes, '=' or controls.
func appendAttr(buf []byte, group string, a slog.Attr) []byte {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return buf
	}
	if a.Value.Kind() == slog.KindGroup {
		g := group
		if a.Key != "" {
			g += a.Key + "."
		}
		for _, ga := range a.Value.Group() {
			buf = appendAttr(buf, g, ga)
		}
		return buf
	}
	buf = append(buf, ' ')
	buf = append(buf, group...)
	buf = append(buf, a.Key...)
	buf = append(buf, '=')
	var v string
	if a.Value.Kind() == slog.KindTime {
		v = a.Value.Time().Format(time.RFC3339Nano)
	} else {
		v = a.Value.String()
	}
	if needsQuote(v) {
		return strconv.AppendQuote(buf, v)
	}
	return append(buf, v...)
}

func needsQuote(s string) bool {
	if s == "" {
		return true
	}
	for _, r := range s {
		if unicode.IsSpace(r) || r == '"' || r == '=' || !unicode.IsPrint(r) {
			return true
		}
	}
	return false
}

// idleCPU is the idle CPU share the log lines show: an IdleMeter (the
// same measure as `status`, FreeSWITCH's: 100 when it cannot be read)
// sampled at most once a second, so logging never reads /proc/stat more
// often than that. It has its own meter: sampling changes a meter's
// baseline, and the log must not disturb `status`.
type idleCPU struct {
	meter *apicmd.IdleMeter

	mu  sync.Mutex
	at  time.Time // last sample
	pct float64
}

// percent returns the idle percentage as of now.
func (c *idleCPU) percent(now time.Time) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && !now.Before(c.at) && now.Sub(c.at) < time.Second {
		return c.pct
	}
	c.pct, c.at = c.meter.Idle(), now
	return c.pct
}
