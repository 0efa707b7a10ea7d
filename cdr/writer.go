// Package cdr writes call detail records: FreeSWITCH's mod_cdr_csv
// (cdr_csv.conf: templates of ${channel variables}, Master.csv plus one
// file per account code, rotation on SIGHUP) and Switchboard's JSON-lines
// records (cdr_jsonl.conf: one JSON object per leg).
//
// A Writer is configured from a snapshot (FromSnapshot) and fed finished
// call legs (Report), once per leg, by the call core's reporting hook,
// after the hangup variables are set: failed and refused calls included.
// SetConfig swaps in a reloaded configuration; Rotate is SIGHUP's work.
//
// Each record is written with one write(2) on a file opened for appending,
// so a crash never leaves half a line from another record behind it, and
// a record is on disk (in the kernel) when Report returns.
package cdr

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/vars"
)

// Leg is what a writer reads of a finished call leg; *session.Session
// provides it.
type Leg interface {
	// UUID is the leg's unique id.
	UUID() string
	// Get looks a name up as the channel's ${} expansion does: channel
	// variables, caller-profile fields, then global variables.
	Get(name string) (string, bool)
	// Vars are the channel variables.
	Vars() *vars.Store
	// Profile is (a copy of) the caller profile, with its times.
	Profile() *caller.Profile
}

// Options configure a Writer.
type Options struct {
	// API runs ${api(args)} calls in templates; nil expands them to "".
	API vars.API
	// Logger receives write errors and rotations; nil discards them.
	Logger *slog.Logger
	// Now returns the time used in rotated file names; nil is time.Now.
	Now func() time.Time
}

// Writer writes the records of every leg it is given. It is safe for
// concurrent use: legs end on their own goroutines.
type Writer struct {
	cfg  atomic.Pointer[Config]
	api  vars.API
	log  *slog.Logger
	now  func() time.Time
	mu   sync.Mutex       // guards files
	open map[string]*file // path → file, opened on first write
}

// file is one open record file; its mutex serialises writes, rotation
// and closing.
type file struct {
	mu   sync.Mutex
	path string
	f    *os.File // nil while closed
}

// NewWriter returns a Writer for cfg (nil: write nothing).
func NewWriter(cfg *Config, opts Options) *Writer {
	w := &Writer{api: opts.API, log: opts.Logger, now: opts.Now, open: map[string]*file{}}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if w.now == nil {
		w.now = time.Now
	}
	w.SetConfig(cfg)
	return w
}

// SetConfig puts cfg in force for the legs reported from now on (a
// reload). Files stay open; one no longer named is closed at the next
// Rotate or Close.
func (w *Writer) SetConfig(cfg *Config) {
	if cfg == nil {
		cfg = &Config{}
	}
	w.cfg.Store(cfg)
}

// Config returns the configuration in force.
func (w *Writer) Config() *Config { return w.cfg.Load() }

// Report writes leg's records as the configuration says: its CSV lines
// and its JSON object. Errors are logged (and returned, joined): a full
// disk must not stop calls.
func (w *Writer) Report(leg Leg) error {
	cfg := w.cfg.Load()
	var errs []error
	if cfg.CSV != nil && wanted(cfg.CSV.Legs, leg) {
		errs = append(errs, w.writeCSV(cfg.CSV, leg))
	}
	if cfg.JSONL != nil && wanted(cfg.JSONL.Legs, leg) {
		errs = append(errs, w.writeJSONL(cfg.JSONL, leg))
	}
	err := errors.Join(errs...)
	if err != nil {
		w.log.Error("CDR not written", "uuid", leg.UUID(), "err", err)
	}
	return err
}

// wanted reports whether legs covers leg: a B leg is one another leg
// originated (originating_leg_uuid is set on it).
func wanted(legs Legs, leg Leg) bool {
	if v, ok := leg.Vars().Get("originating_leg_uuid"); ok && v != "" {
		return legs&LegB != 0
	}
	return legs&LegA != 0
}

// write appends line to the file at path, creating its directory and
// opening it as needed.
func (w *Writer) write(path string, line []byte) error {
	w.mu.Lock()
	f := w.open[path]
	if f == nil {
		f = &file{path: path}
		w.open[path] = f
	}
	w.mu.Unlock()

	f.mu.Lock()
	defer f.mu.Unlock()
	if f.f == nil {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return fmt.Errorf("cdr: %w", err)
		}
		of, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
		if err != nil {
			return fmt.Errorf("cdr: %w", err)
		}
		f.f = of
	}
	if _, err := f.f.Write(line); err != nil {
		// Reopen at the next record: the file may have been removed or
		// its disk replaced.
		_ = f.f.Close()
		f.f = nil
		return fmt.Errorf("cdr: %s: %w", path, err)
	}
	return nil
}

// Rotate is SIGHUP's work (and the cdr_csv rotate command's): every open
// file is closed and, when its configuration says rotate-on-hup, renamed
// to NAME.YYYY-MM-DD-HH-MM-SS (local time), as mod_cdr_csv does. The next
// record opens a fresh file. It returns the new names of the renamed files.
func (w *Writer) Rotate() ([]string, error) {
	cfg := w.cfg.Load()
	stamp := w.now().Format("2006-01-02-15-04-05")
	w.mu.Lock()
	files := make([]*file, 0, len(w.open))
	for _, f := range w.open {
		files = append(files, f)
	}
	w.mu.Unlock()
	sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })

	var renamed []string
	var errs []error
	for _, f := range files {
		f.mu.Lock()
		if f.f != nil {
			errs = append(errs, f.f.Close())
			f.f = nil
		}
		if cfg.rotates(f.path) {
			to := f.path + "." + stamp
			switch err := os.Rename(f.path, to); {
			case err == nil:
				renamed = append(renamed, to)
				w.log.Info("Rotated CDR file", "file", f.path, "to", to)
			case errors.Is(err, os.ErrNotExist):
			default:
				errs = append(errs, fmt.Errorf("cdr: rotate: %w", err))
			}
		} else {
			w.log.Info("Re-opened CDR file", "file", f.path)
		}
		f.mu.Unlock()
	}
	return renamed, errors.Join(errs...)
}

// rotates reports whether the file at path belongs to a configuration
// with rotate-on-hup.
func (c *Config) rotates(path string) bool {
	if c.JSONL != nil && path == c.JSONL.Path {
		return c.JSONL.RotateOnHUP
	}
	if c.CSV != nil {
		return c.CSV.RotateOnHUP
	}
	return false
}

// Close closes every open file. A record reported afterwards (a leg that
// ends during shutdown) opens its file again, so none is lost.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var errs []error
	for _, f := range w.open {
		f.mu.Lock()
		if f.f != nil {
			errs = append(errs, f.f.Close())
			f.f = nil
		}
		f.mu.Unlock()
	}
	return errors.Join(errs...)
}

// stamps derives FreeSWITCH's *_stamp variables ("2006-01-02 15:04:05",
// local time) from the caller profile's times, for a leg whose core has
// not set them as variables.
type stamps struct {
	leg Leg
	p   *caller.Profile
}

func (s stamps) Get(name string) (string, bool) {
	if v, ok := s.leg.Get(name); ok {
		return v, true
	}
	var us int64
	switch strings.ToLower(name) {
	case "start_stamp":
		us = s.p.CreatedTime
	case "profile_start_stamp":
		us = s.p.ProfileCreatedTime
	case "answer_stamp":
		us = s.p.AnsweredTime
	case "progress_stamp":
		us = s.p.ProgressTime
	case "progress_media_stamp":
		us = s.p.ProgressMediaTime
	case "end_stamp":
		us = s.p.HungupTime
	default:
		return "", false
	}
	if us == 0 {
		return "", false
	}
	return time.UnixMicro(us).Format(time.DateTime), true
}
