package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/conf/conftest"
)

func TestWatchDirs(t *testing.T) {
	dir := conftest.WriteTree(t, map[string]string{
		"freeswitch.xml": `<document type="freeswitch/xml">
  <section name="dialplan">
    <X-PRE-PROCESS cmd="include" data="dialplan/*.xml"/>
  </section>
</document>
`,
		"dialplan/default.xml":       "<include>\n<context name=\"default\"/>\n</include>\n",
		"dialplan/public/.keep":      "",
		".git/HEAD":                  "ref",
		"sounds/en/us/callie/a.wav":  "",
		"autoload_configs/x.conf.md": "",
	})
	snap, err := conf.Load(conf.Options{Dir: dir, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	got := watchDirs(snap, testLog(t))
	want := []string{dir, filepath.Join(dir, "autoload_configs"), filepath.Join(dir, "dialplan"), filepath.Join(dir, "dialplan", "public")}
	if !slices.Equal(got, want) {
		t.Errorf("watched %q\nwant    %q", got, want)
	}
	emb, err := conf.Load(conf.Options{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if got := watchDirs(emb, testLog(t)); len(got) != 0 {
		t.Errorf("the embedded configuration watches %q", got)
	}
}

func TestIgnoredChange(t *testing.T) {
	tests := []struct {
		name string
		op   fsnotify.Op
		skip bool
	}{
		{"/c/dialplan/default.xml", fsnotify.Write, false},
		{"/c/dialplan/default.xml", fsnotify.Create, false},
		{"/c/dialplan/default.xml", fsnotify.Rename, false},
		{"/c/dialplan/default.xml", fsnotify.Remove, false},
		{"/c/dialplan/default.xml", fsnotify.Chmod, true},
		{"/c/dialplan/.default.xml.swp", fsnotify.Write, true},
		{"/c/dialplan/default.xml~", fsnotify.Create, true},
		{"/c/dialplan/4913", fsnotify.Create, true},
		{"/c/dialplan/.#default.xml", fsnotify.Create, true},
	}
	for _, tt := range tests {
		if got := ignoredChange(fsnotify.Event{Name: tt.name, Op: tt.op}); got != tt.skip {
			t.Errorf("ignoredChange(%s %s) = %v", tt.op, tt.name, got)
		}
	}
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// atomicSave writes file as editors do: a new file renamed over the old.
func atomicSave(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), ".save.tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestWatchReloads(t *testing.T) {
	sw, dir := startTestSwitch(t, obsFlags{watch: true, watchDebounce: 50 * time.Millisecond})
	dp := filepath.Join(dir, "dialplan", "default.xml")
	orig, err := os.ReadFile(dp)
	if err != nil {
		t.Fatal(err)
	}

	// An editor's atomic save: the directory watch sees it.
	edited := []byte(replaceOnce(t, string(orig), `data="USER_BUSY"`, `data="NORMAL_CLEARING"`))
	atomicSave(t, dp, edited)
	waitFor(t, "the watched change to be applied", func() bool { return targetAction(t, sw) == "NORMAL_CLEARING" })

	// A broken save is refused; the running configuration stays.
	good := sw.current.Load()
	atomicSave(t, dp, []byte(replaceOnce(t, string(edited), "</extension>", "")))
	waitFor(t, "the broken save to be refused", func() bool { return reloadCount(t, sw, "failed") >= 1 })
	if sw.current.Load() != good {
		t.Error("a broken save was put in force")
	}

	// A new file in a new directory that an existing file includes.
	if err := os.MkdirAll(filepath.Join(dir, "dialplan", "more"), 0o755); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new directory to be watched", func() bool {
		return slices.Contains(sw.obs.watch.watched(), filepath.Join(dir, "dialplan", "more"))
	})
	if err := os.WriteFile(filepath.Join(dir, "dialplan", "more", "x.xml"), []byte("<include>\n<extension name=\"more\"/>\n</include>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	withInclude := replaceOnce(t, string(edited), `  </context>`, `    <X-PRE-PROCESS cmd="include" data="more/*.xml"/>
  </context>`)
	atomicSave(t, dp, []byte(withInclude))
	waitFor(t, "the included file to be loaded", func() bool {
		return slices.Contains(sw.current.Load().Files(), filepath.Join(dir, "dialplan", "more", "x.xml"))
	})
	// ...and a change to the new file alone reloads too.
	before := sw.ConfigHash()
	if err := os.WriteFile(filepath.Join(dir, "dialplan", "more", "x.xml"), []byte("<include>\n<extension name=\"more2\"/>\n</include>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the change in the included file", func() bool { return sw.ConfigHash() != before })
}

// TestWatchStops: once shutdown begins no reload runs.
func TestWatchStops(t *testing.T) {
	sw, dir := startTestSwitch(t, obsFlags{watch: true, watchDebounce: 20 * time.Millisecond})
	sw.stoppingObs()
	before := reloadCount(t, sw, "ok") + reloadCount(t, sw, "failed")
	if err := os.WriteFile(filepath.Join(dir, "vars.xml"), []byte("<include>\n</include>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A reload, had one been scheduled, would have run well within this.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	<-ctx.Done()
	if after := reloadCount(t, sw, "ok") + reloadCount(t, sw, "failed"); after != before {
		t.Errorf("%v reloads after the watcher stopped", after-before)
	}
}

// replaceOnce replaces the first old in s by new; s must hold old.
func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("no %q", old)
	}
	return strings.Replace(s, old, new, 1)
}

// testLog discards, or writes to stderr with -v.
func testLog(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(newFSHandler(os.Stderr, slog.LevelDebug))
	}
	return slog.New(slog.DiscardHandler)
}
