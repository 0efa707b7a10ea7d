package main

import (
	"io/fs"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/switchboard-voip/switchboard/conf"
)

// maxWatchedDirs bounds how many directories --watch watches (each costs
// an inotify watch).
const maxWatchedDirs = 2000

// watcher reloads the configuration when a file in its directories
// changes (--watch). It watches directories, not files: editors save by
// writing a new file and renaming it over the old one, which a watch on
// the old file would miss. Changes are debounced: the reload runs once
// the directories have been quiet for the delay.
type watcher struct {
	fsw    *fsnotify.Watcher
	log    *slog.Logger
	delay  time.Duration
	reload func()

	mu   sync.Mutex
	dirs map[string]bool

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func newWatcher(delay time.Duration, log *slog.Logger, reload func()) (*watcher, error) {
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	return &watcher{
		fsw: fsw, log: log, delay: delay, reload: reload,
		dirs: map[string]bool{},
		stop: make(chan struct{}), done: make(chan struct{}),
	}, nil
}

// watchDirs returns the directories to watch for snap: every directory
// under conf_dir (hidden ones and the sounds tree left out) and the
// directory of every file the load read, in order.
func watchDirs(snap *conf.Snapshot, log *slog.Logger) []string {
	if snap.Embedded() {
		return nil
	}
	root := snap.ConfDir()
	skip := map[string]bool{}
	for _, name := range []string{"sounds_dir", "recordings_dir", "storage_dir"} {
		if v, ok := snap.Global(name); ok && v != "" {
			skip[filepath.Clean(v)] = true
		}
	}
	set := map[string]bool{}
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if p != root && (strings.HasPrefix(d.Name(), ".") || skip[p]) {
			return filepath.SkipDir
		}
		set[p] = true
		return nil
	})
	for _, f := range snap.Files() {
		set[filepath.Dir(f)] = true
	}
	dirs := make([]string, 0, len(set))
	for d := range set {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	if len(dirs) > maxWatchedDirs {
		log.Warn("--watch: too many directories; watching the first ones only", "dirs", len(dirs), "watched", maxWatchedDirs)
		dirs = dirs[:maxWatchedDirs]
	}
	return dirs
}

// sync makes the watched directories those of snap: new ones are added
// (directories created since the last load), vanished ones dropped.
func (w *watcher) sync(snap *conf.Snapshot) {
	want := watchDirs(snap, w.log)
	w.mu.Lock()
	defer w.mu.Unlock()
	keep := map[string]bool{}
	for _, d := range want {
		keep[d] = true
		if w.dirs[d] {
			continue
		}
		if err := w.fsw.Add(d); err != nil {
			w.log.Warn("--watch: cannot watch a directory", "dir", d, "err", err.Error())
			continue
		}
		w.dirs[d] = true
	}
	for d := range w.dirs {
		if !keep[d] {
			_ = w.fsw.Remove(d)
			delete(w.dirs, d)
		}
	}
}

// watched returns the watched directories, sorted.
func (w *watcher) watched() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, 0, len(w.dirs))
	for d := range w.dirs {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// run delivers debounced reloads until close.
func (w *watcher) run() {
	defer close(w.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-w.stop:
			return
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return
			}
			if ignoredChange(ev) {
				continue
			}
			w.log.Debug("--watch: change", "file", ev.Name, "op", ev.Op.String())
			timer.Reset(w.delay)
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return
			}
			// An overflow loses events: reload to be sure.
			w.log.Warn("--watch: watcher error; reloading to be safe", "err", err.Error())
			timer.Reset(w.delay)
		case <-timer.C:
			w.reload()
		}
	}
}

// ignoredChange reports events that cannot change the configuration:
// attribute changes, and editors' scratch files (swap and backup files,
// vim's write test "4913", emacs lock files).
func ignoredChange(ev fsnotify.Event) bool {
	if ev.Op == fsnotify.Chmod {
		return true
	}
	base := filepath.Base(ev.Name)
	switch {
	case strings.HasPrefix(base, ".#"), strings.HasSuffix(base, "~"),
		strings.HasSuffix(base, ".swp"), strings.HasSuffix(base, ".swx"), base == "4913":
		return true
	}
	return false
}

// close stops the watcher and waits for its goroutine; a reload running
// then finishes first.
func (w *watcher) close() {
	w.once.Do(func() {
		close(w.stop)
		<-w.done
		_ = w.fsw.Close()
	})
}
