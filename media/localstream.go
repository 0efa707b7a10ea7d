package media

import (
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LocalStreamConfig describes one local stream: a directory of sound
// files played in a loop and shared by every listener, FreeSWITCH's
// local_stream.conf <directory>.
type LocalStreamConfig struct {
	// Name is what local_stream://<name> asks for (e.g. "moh/8000").
	Name string
	// Dir is the directory of sound files.
	Dir string
	// Rate is the stream's sample rate (default 8000); listeners at
	// another rate get it resampled.
	Rate int
	// Shuffle plays the files in a new random order on each pass.
	Shuffle bool
	// ReadDir lists Dir; Open opens a file in it (by Dir + "/" + name).
	ReadDir func(dir string) ([]fs.DirEntry, error)
	Open    Opener
}

func (c LocalStreamConfig) same(o LocalStreamConfig) bool {
	return c.Name == o.Name && c.Dir == o.Dir && c.Rate == o.Rate && c.Shuffle == o.Shuffle
}

// LocalStreams holds the configured local streams. A stream plays only
// while somebody listens, and keeps its place between listeners. Safe
// for concurrent use.
type LocalStreams struct {
	log *slog.Logger
	mu  sync.Mutex
	m   map[string]*localStream // by lower-case name
}

// NewLocalStreams returns an empty set of local streams.
func NewLocalStreams(log *slog.Logger) *LocalStreams {
	if log == nil {
		log = slog.Default()
	}
	return &LocalStreams{log: log, m: map[string]*localStream{}}
}

// Configure replaces the set of streams (at start-up and on reloadxml).
// A stream whose configuration is unchanged keeps playing for its
// listeners; a removed or changed one stops, and its listeners hear
// silence until their playback ends.
func (l *LocalStreams) Configure(cfgs []LocalStreamConfig) {
	l.mu.Lock()
	defer l.mu.Unlock()
	next := map[string]*localStream{}
	for _, c := range cfgs {
		if c.Rate <= 0 {
			c.Rate = 8000
		}
		k := strings.ToLower(c.Name)
		if old, ok := l.m[k]; ok && old.cfg.same(c) {
			old.cfg = c
			next[k] = old
			delete(l.m, k)
			continue
		}
		next[k] = &localStream{cfg: c, log: l.log.With("local_stream", c.Name), listeners: map[*streamListener]struct{}{}}
	}
	for _, old := range l.m {
		old.shutdown()
	}
	l.m = next
}

// Names returns the configured stream names, sorted.
func (l *LocalStreams) Names() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.m))
	for _, s := range l.m {
		out = append(out, s.cfg.Name)
	}
	slices.Sort(out)
	return out
}

// Open starts listening to local_stream://<name> at rate, looked up as
// mod_local_stream does: "<name>/<rate>", then "<name>", then "default".
func (l *LocalStreams) Open(name string, rate int) (Source, error) {
	if l == nil {
		return nil, fmt.Errorf("local_stream://%s: no local streams are configured: %w", name, fs.ErrNotExist)
	}
	l.mu.Lock()
	s := l.m[strings.ToLower(name+"/"+strconv.Itoa(rate))]
	if s == nil {
		s = l.m[strings.ToLower(name)]
	}
	if s == nil && !strings.Contains(strings.ToLower(name), "default") {
		s = l.m["default"]
		if s != nil {
			l.log.Warn("unknown local stream; using default", "name", name)
		}
	}
	l.mu.Unlock()
	if s == nil {
		return nil, fmt.Errorf("local_stream://%s: unknown stream: %w", name, fs.ErrNotExist)
	}
	var src Source = s.listen()
	if s.cfg.Rate != rate && rate > 0 {
		src = newResampler(src, s.cfg.Rate, rate)
	}
	return src, nil
}

// Close stops every stream.
func (l *LocalStreams) Close() { l.Configure(nil) }

// localStream plays its directory for its listeners.
type localStream struct {
	cfg LocalStreamConfig
	log *slog.Logger

	mu        sync.Mutex
	listeners map[*streamListener]struct{}
	running   bool
	stopped   bool
	wake      chan struct{} // closed to stop the player goroutine

	// The player's place, kept between listeners.
	order []string
	next  int
	cur   Source
}

// listenerBuffer bounds what a slow listener may fall behind: half a
// second, then its oldest audio is dropped.
const listenerBuffer = 500 * time.Millisecond

func (s *localStream) listen() *streamListener {
	ln := &streamListener{s: s, notify: make(chan struct{}, 1), max: int(listenerBuffer) * s.cfg.Rate / int(time.Second)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		ln.closed = true
		return ln
	}
	s.listeners[ln] = struct{}{}
	if !s.running {
		s.running = true
		s.wake = make(chan struct{})
		go s.play(s.wake)
	}
	return ln
}

func (s *localStream) leave(ln *streamListener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.listeners, ln)
	if len(s.listeners) == 0 && s.running {
		s.running = false
		close(s.wake)
	}
}

func (s *localStream) shutdown() {
	s.mu.Lock()
	s.stopped = true
	lns := make([]*streamListener, 0, len(s.listeners))
	for ln := range s.listeners {
		lns = append(lns, ln)
	}
	s.mu.Unlock()
	for _, ln := range lns {
		ln.Close()
	}
}

// play produces one 20 ms frame per tick for the listeners until stop is
// closed.
func (s *localStream) play(stop chan struct{}) {
	spf := s.cfg.Rate / 50
	frame := make([]int16, spf)
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		s.fill(frame)
		s.mu.Lock()
		for ln := range s.listeners {
			ln.put(frame)
		}
		s.mu.Unlock()
	}
}

// fill reads the next frame from the files, moving on at the end of
// each and starting a new pass after the last; silence when there are
// none.
func (s *localStream) fill(frame []int16) {
	n := 0
	for tries := 0; n < len(frame); {
		if s.cur == nil {
			if tries++; tries > 3 || !s.openNext() {
				break
			}
		}
		m, err := s.cur.Read(frame[n:])
		n += m
		if err != nil {
			if err != io.EOF {
				s.log.Warn("local stream file failed", "err", err)
			}
			s.cur.Close()
			s.cur = nil
		}
	}
	clear(frame[n:])
}

// openNext opens the next file of the pass, listing the directory again
// at the start of each pass.
func (s *localStream) openNext() bool {
	if s.next >= len(s.order) {
		s.order, s.next = s.list(), 0
		if len(s.order) == 0 {
			return false
		}
	}
	name := s.order[s.next]
	s.next++
	src, err := OpenSource(path.Join(s.cfg.Dir, name), SourceOptions{Rate: s.cfg.Rate, Open: s.cfg.Open, Logger: s.log})
	if err != nil {
		s.log.Warn("local stream cannot open a file", "file", name, "err", err)
		return false
	}
	s.cur = src
	return true
}

func (s *localStream) list() []string {
	if s.cfg.ReadDir == nil {
		return nil
	}
	ents, err := s.cfg.ReadDir(s.cfg.Dir)
	if err != nil {
		s.log.Warn("local stream directory unreadable", "dir", s.cfg.Dir, "err", err)
		return nil
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		if _, ok := formatForExt(path.Ext(e.Name())); ok {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	if s.cfg.Shuffle {
		rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	}
	return out
}

// streamListener is one listener's Source: the stream's audio from the
// moment it joined.
type streamListener struct {
	s      *localStream
	notify chan struct{}
	max    int

	mu     sync.Mutex
	buf    []int16
	closed bool
}

func (ln *streamListener) put(frame []int16) {
	ln.mu.Lock()
	ln.buf = append(ln.buf, frame...)
	if over := len(ln.buf) - ln.max; over > 0 {
		ln.buf = ln.buf[:copy(ln.buf, ln.buf[over:])]
	}
	ln.mu.Unlock()
	select {
	case ln.notify <- struct{}{}:
	default:
	}
}

// listenerWait is how long Read waits for the stream before returning
// silence, so a playback never stalls on a stream that has stopped.
const listenerWait = 100 * time.Millisecond

// Read returns the stream's audio, waiting briefly for the next frame;
// silence when the stream has nothing (stopped or reconfigured). It
// never ends by itself: a local stream plays until the caller stops it.
func (ln *streamListener) Read(pcm []int16) (int, error) {
	if len(pcm) == 0 {
		return 0, nil
	}
	deadline := time.NewTimer(listenerWait)
	defer deadline.Stop()
	for {
		ln.mu.Lock()
		if len(ln.buf) > 0 {
			n := copy(pcm, ln.buf)
			ln.buf = ln.buf[:copy(ln.buf, ln.buf[n:])]
			ln.mu.Unlock()
			return n, nil
		}
		closed := ln.closed
		ln.mu.Unlock()
		if closed {
			clear(pcm)
			return len(pcm), nil
		}
		select {
		case <-ln.notify:
		case <-deadline.C:
			clear(pcm)
			return len(pcm), nil
		}
	}
}

// Close stops listening.
func (ln *streamListener) Close() error {
	ln.mu.Lock()
	if ln.closed {
		ln.mu.Unlock()
		return nil
	}
	ln.closed = true
	ln.buf = nil
	ln.mu.Unlock()
	ln.s.leave(ln)
	return nil
}
