package esl

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/switchboard-voip/switchboard/apps"
)

func TestLogTeeEnabled(t *testing.T) {
	var console bytes.Buffer
	tee := NewLogTee(slog.NewTextHandler(&console, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx := context.Background()
	if tee.Enabled(ctx, slog.LevelInfo) {
		t.Error("info enabled with a warn console and no listener")
	}
	l := tee.hub.subscribe(apps.LogInfo, 10)
	if !tee.Enabled(ctx, slog.LevelInfo) || tee.Enabled(ctx, slog.LevelDebug) {
		t.Error("an info listener: info should be enabled, debug not")
	}
	l.setLevel(apps.LogDebug)
	if !tee.Enabled(ctx, slog.LevelDebug) {
		t.Error("a debug listener: debug not enabled")
	}
	log := slog.New(tee)
	log.Info("to the listener only")
	log.Error("to both")
	if got := console.String(); strings.Contains(got, "listener only") || !strings.Contains(got, "to both") {
		t.Errorf("console got %q", got)
	}
	if a, b := <-l.ch, <-l.ch; !strings.Contains(a.text, "[INFO]") || !strings.Contains(b.text, "[ERR]") {
		t.Errorf("listener got %q, %q", a.text, b.text)
	}
	l.close()
	if tee.Enabled(ctx, slog.LevelInfo) {
		t.Error("info still enabled after the listener left")
	}
}

func TestLogTeeLine(t *testing.T) {
	tee := NewLogTee(slog.DiscardHandler)
	l := tee.hub.subscribe(apps.LogDebug, 10)
	defer l.close()
	log := slog.New(tee).With("uuid", "u1", "channel", "sofia/x").WithGroup("g").With("a", 1)
	log.Log(context.Background(), apps.SlogNotice, "hello", "b", "two words", slog.Group("h", "c", `q"`))
	line := <-l.ch
	if line.level != apps.LogNotice || line.uuid != "u1" || line.file != "logtee_test.go" || !strings.HasSuffix(line.function, "TestLogTeeLine") {
		t.Errorf("line %+v", line)
	}
	want := ` [NOTICE] logtee_test.go:`
	if !strings.Contains(line.text, want) {
		t.Errorf("%q lacks %q", line.text, want)
	}
	wantEnd := ` hello uuid=u1 channel=sofia/x g.a=1 g.b="two words" g.h.c="q\""` + "\n"
	if !strings.HasSuffix(line.text, wantEnd) {
		t.Errorf("line %q\nwant suffix %q", line.text, wantEnd)
	}
}

// TestLogTeeOverflow: a listener that does not read is dropped without
// blocking the logger.
func TestLogTeeOverflow(t *testing.T) {
	tee := NewLogTee(slog.DiscardHandler)
	l := tee.hub.subscribe(apps.LogDebug, 2)
	log := slog.New(tee)
	for range 10 {
		log.Info("x")
	}
	if !l.overflow.Load() {
		t.Fatal("no overflow")
	}
	n := 0
	for range l.ch {
		n++
	}
	if n != 2 {
		t.Errorf("%d lines buffered, want 2", n)
	}
	waitFor(t, "the listener to be removed", func() bool { return !tee.Enabled(context.Background(), slog.LevelError) })
}
