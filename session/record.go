package session

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/events"
	"github.com/switchboard-voip/switchboard/media"
)

// recorder is implemented by endpoint media that can record what the
// caller sends (a *media.Stream).
type recorder interface {
	Record(ctx context.Context, w *media.WAVWriter, o media.RecordOptions) (media.RecordResult, error)
	Codec() media.Codec
}

var _ apps.Recorder = (*sessionMedia)(nil)

// Record writes the caller's audio to the WAV file at path, firing
// RECORD_START and RECORD_STOP with Record-File-Path. A missing directory
// is created when it lies under recordings_dir; elsewhere the path must
// exist, as in FreeSWITCH.
func (sm *sessionMedia) Record(ctx context.Context, path string, o apps.RecordOptions) (apps.RecordResult, error) {
	s := sm.s
	rec, ok := sm.m.(recorder)
	if !ok {
		return apps.RecordResult{}, errors.New("this call's media cannot record")
	}
	if err := s.makeRecordingDir(path); err != nil {
		return apps.RecordResult{}, fmt.Errorf("record: %w", err)
	}
	w, err := media.CreateWAV(path, rec.Codec().ClockRate, 1, o.Append)
	if err != nil {
		return apps.RecordResult{}, err
	}
	withPath := func(e *events.Event) { e.Add("Record-File-Path", path) }
	s.fire("RECORD_START", withPath)
	res, err := rec.Record(ctx, w, media.RecordOptions{
		Limit:            o.Limit,
		SilenceThreshold: o.SilenceThreshold,
		SilenceHits:      o.SilenceHits,
		Stop:             o.Stop,
	})
	err = errors.Join(err, w.Close())
	s.fire("RECORD_STOP", withPath)
	return apps.RecordResult{Samples: res.Samples, Duration: res.Duration, Reason: res.Reason}, err
}

// makeRecordingDir creates the directory of a recording's path when it
// lies under recordings_dir; elsewhere the directory must exist, as in
// FreeSWITCH.
func (s *Session) makeRecordingDir(path string) error {
	root, ok := s.Get("recordings_dir")
	if !ok || root == "" {
		return nil
	}
	dir := filepath.Dir(path)
	if rel, err := filepath.Rel(root, dir); err != nil || !filepath.IsLocal(rel) {
		return nil
	}
	return os.MkdirAll(dir, 0o750)
}
