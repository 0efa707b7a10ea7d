package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/apps"
	apicmd "github.com/switchboard-voip/switchboard/commands"
)

// record returns a record at level with msg, made at a fixed time, whose
// source is the line that calls record.
func record(level slog.Level, msg string, attrs ...any) (slog.Record, int) {
	var pcs [1]uintptr
	runtime.Callers(2, pcs[:])
	_, _, line, _ := runtime.Caller(1)
	r := slog.NewRecord(time.Date(2026, 11, 25, 21, 0, 0, 123456789, time.Local), level, msg, pcs[0])
	r.Add(attrs...)
	return r, line
}

// cpuSamples returns a CPU-time reader that gives each of samples in
// turn (user and idle ticks), then the last one again.
func cpuSamples(samples ...[2]uint64) func() (apicmd.CPUTimes, error) {
	i := 0
	return func() (apicmd.CPUTimes, error) {
		s := samples[min(i, len(samples)-1)]
		i++
		return apicmd.CPUTimes{User: s[0], Idle: s[1]}, nil
	}
}

func TestFSHandlerLines(t *testing.T) {
	var buf bytes.Buffer
	h := newFSHandler(&buf, slog.LevelDebug)
	// 150 ticks busy and 850 idle between the meter's first two samples.
	h.idle = &idleCPU{meter: apicmd.NewIdleMeter(cpuSamples([2]uint64{1000, 8000}, [2]uint64{1150, 8850}))}

	r, line := record(slog.LevelInfo, "Processing 1000 <1000>->9196 in context default", "k", "v", "spaced", "a b", "empty", "")
	if err := h.Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	want := "2026-11-25 21:00:00.123456 85.00% [INFO] logging_test.go:" + strconv.Itoa(line) +
		` Processing 1000 <1000>->9196 in context default k=v spaced="a b" empty=""` + "\n"
	if got := buf.String(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}

	// A call's logger: its UUID leads the line, its other attributes and
	// groups follow the message.
	buf.Reset()
	call := h.WithAttrs([]slog.Attr{slog.String("uuid", "0b3c-42"), slog.String("channel", "sofia/internal/1000@h")}).WithGroup("app")
	r, line = record(slog.LevelDebug, "EXECUTE [depth=0] sofia/internal/1000@h answer()", "name", "answer", slog.Group("t", "ms", 3))
	if err := call.Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	want = "0b3c-42 2026-11-25 21:00:00.123456 85.00% [DEBUG] logging_test.go:" + strconv.Itoa(line) +
		" EXECUTE [depth=0] sofia/internal/1000@h answer() channel=sofia/internal/1000@h app.name=answer app.t.ms=3\n"
	if got := buf.String(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}

	// A uuid attribute on the record itself leads the line too; the
	// FreeSWITCH-only levels have their names.
	buf.Reset()
	r, line = record(apps.SlogCrit, "multi\nline", "uuid", "u-1", "err", "a=b")
	if err := h.Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	want = "u-1 2026-11-25 21:00:00.123456 85.00% [CRIT] logging_test.go:" + strconv.Itoa(line) + " multi\nline err=\"a=b\"\n"
	if got := buf.String(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}

	// Without CPU counters the figure is 100, as FreeSWITCH shows it.
	buf.Reset()
	h.idle = &idleCPU{meter: apicmd.NewIdleMeter(func() (apicmd.CPUTimes, error) { return apicmd.CPUTimes{}, errors.New("no /proc") })}
	r, line = record(apps.SlogNotice, "x")
	if err := h.Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if want := "2026-11-25 21:00:00.123456 100.00% [NOTICE] logging_test.go:" + strconv.Itoa(line) + " x\n"; buf.String() != want {
		t.Errorf("got  %q\nwant %q", buf.String(), want)
	}
}

func TestRuntimeLevel(t *testing.T) {
	var buf bytes.Buffer
	level := new(slog.LevelVar)
	level.Set(slog.LevelWarn)
	h, err := newLogHandler(&buf, logFormatFS, level)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(h)
	log.Info("hidden")
	level.Set(slog.LevelDebug) // console loglevel debug
	log.Debug("shown")
	if got := buf.String(); strings.Contains(got, "hidden") || !strings.Contains(got, "[DEBUG]") || !strings.Contains(got, " shown") {
		t.Errorf("log after lowering the level at run time:\n%s", got)
	}
}

func TestLogFormats(t *testing.T) {
	for _, tt := range []struct {
		format string
		want   string
	}{
		{logFormatText, `level=INFO source=`},
		{logFormatJSON, `"level":"INFO","source":{`},
		{"", "[INFO]"},
	} {
		var buf bytes.Buffer
		h, err := newLogHandler(&buf, tt.format, slog.LevelInfo)
		if err != nil {
			t.Fatal(err)
		}
		slog.New(h).Info("switchboard ready")
		if !strings.Contains(buf.String(), tt.want) || !strings.Contains(buf.String(), "switchboard ready") {
			t.Errorf("format %q: %q lacks %q", tt.format, buf.String(), tt.want)
		}
	}
	if _, err := newLogHandler(os.Stderr, "xml", nil); err == nil {
		t.Error("an unknown log format is accepted")
	}
}

func TestIdleCPUSampledOncePerSecond(t *testing.T) {
	reads := 0
	samples := cpuSamples([2]uint64{0, 0}, [2]uint64{100, 300}, [2]uint64{190, 310})
	c := &idleCPU{meter: apicmd.NewIdleMeter(func() (apicmd.CPUTimes, error) { reads++; return samples() })}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := c.percent(t0); got != 75 {
		t.Errorf("first sample: %v, want 75", got)
	}
	if got := c.percent(t0.Add(500 * time.Millisecond)); got != 75 || reads != 2 {
		t.Errorf("within a second: %v after %d reads, want the cached 75 after 2", got, reads)
	}
	if got := c.percent(t0.Add(1500 * time.Millisecond)); got != 10 || reads != 3 {
		t.Errorf("after a second: %v after %d reads, want 10 after 3", got, reads)
	}
}
