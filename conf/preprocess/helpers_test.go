package preprocess

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/switchboard-voip/switchboard/xmltree"
)

// testGlobals is a case-insensitive global table; an empty value deletes.
type testGlobals map[string]string

func (g testGlobals) Get(name string) (string, bool) {
	v, ok := g[strings.ToLower(name)]
	return v, ok
}

func (g testGlobals) Set(name, value string) {
	if value == "" {
		delete(g, strings.ToLower(name))
		return
	}
	g[strings.ToLower(name)] = value
}

// logRecorder is an slog.Handler that keeps every record as
// "LEVEL message key=value ...".
type logRecorder struct {
	mu      sync.Mutex
	records []string
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", rec.Level, rec.Message)
	rec.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	r.mu.Lock()
	r.records = append(r.records, b.String())
	r.mu.Unlock()
	return nil
}

func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *logRecorder) WithGroup(string) slog.Handler      { return r }

// find returns the first record containing every one of parts.
func (r *logRecorder) find(parts ...string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range r.records {
		all := true
		for _, p := range parts {
			if !strings.Contains(rec, p) {
				all = false
				break
			}
		}
		if all {
			return rec, true
		}
	}
	return "", false
}

func (r *logRecorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.records, "\n")
}

// mapFS builds an in-memory tree from name → content pairs.
func mapFS(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for name, content := range files {
		m[name] = &fstest.MapFile{Data: []byte(content)}
	}
	return m
}

// run preprocesses root in files with fresh logs; change adjusts options.
func run(t *testing.T, files map[string]string, g testGlobals, change func(*Options)) ([]xmltree.Line, *logRecorder, error) {
	t.Helper()
	rec := &logRecorder{}
	if g == nil {
		g = testGlobals{}
	}
	opts := Options{
		FS:      mapFS(files),
		Root:    "freeswitch.xml",
		Globals: g,
		Logger:  slog.New(rec),
		Getenv:  func(string) (string, bool) { return "", false },
	}
	if change != nil {
		change(&opts)
	}
	lines, err := Run(opts)
	return lines, rec, err
}

// mustRun is run that fails the test on error.
func mustRun(t *testing.T, files map[string]string, g testGlobals, change func(*Options)) ([]xmltree.Line, *logRecorder) {
	t.Helper()
	lines, rec, err := run(t, files, g, change)
	if err != nil {
		t.Fatalf("Run: %v\nlogs:\n%s", err, rec)
	}
	return lines, rec
}

// posError asserts err is an *xmltree.Error at file:line whose text
// contains msg, and returns it.
func posError(t *testing.T, err error, file string, line int, msg string) *xmltree.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s:%d: %s", file, line, msg)
	}
	pe, ok := err.(*xmltree.Error)
	if !ok {
		t.Fatalf("error %T (%v) is not *xmltree.Error", err, err)
	}
	if pe.Pos.File != file || pe.Pos.Line != line || !strings.Contains(pe.Error(), msg) {
		t.Fatalf("error = %q at %s:%d, want %s:%d containing %q", pe.Error(), pe.Pos.File, pe.Pos.Line, file, line, msg)
	}
	return pe
}
