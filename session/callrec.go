package session

import (
	"errors"
	"fmt"
	"sync"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/events"
	"github.com/switchboard-voip/switchboard/media"
)

// callRecorder is implemented by endpoint media that can record both
// directions of the call (a *media.Stream).
type callRecorder interface {
	RecordCall(w *media.WAVWriter, o media.CallRecordOptions) (*media.CallRecording, error)
	Codec() media.Codec
}

// callRecState holds a session's record_session recordings by path.
type callRecState struct {
	mu   sync.Mutex
	recs map[string]*callRec
}

type callRec struct {
	rec    *media.CallRecording
	closed chan struct{} // the file is closed and RECORD_STOP fired
}

var _ apps.CallRecorder = (*Session)(nil)

// StartCallRecording starts recording both directions of the call into
// the WAV file at path (record_session), beside whatever the call does,
// until StopCallRecording, the limit or hangup. A missing directory is
// created under recordings_dir. RECORD_START and RECORD_STOP fire with
// Record-File-Path.
func (s *Session) StartCallRecording(path string, o apps.CallRecordOptions) error {
	m := s.ep.Media()
	cr, ok := m.(callRecorder)
	if m == nil || !ok {
		return errors.New("record_session: this call has no media to record")
	}
	if err := s.makeRecordingDir(path); err != nil {
		return fmt.Errorf("record_session: %w", err)
	}
	st := &s.callRecs
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, dup := st.recs[path]; dup {
		return fmt.Errorf("record_session: %s is already being recorded", path)
	}
	channels := 1
	if o.Stereo {
		channels = 2
	}
	w, err := media.CreateWAV(path, cr.Codec().ClockRate, channels, o.Append)
	if err != nil {
		return err
	}
	rec, err := cr.RecordCall(w, media.CallRecordOptions{Stereo: o.Stereo, ReadOnly: o.ReadOnly, WriteOnly: o.WriteOnly, Limit: o.Limit})
	if err != nil {
		w.Close()
		return err
	}
	if st.recs == nil {
		st.recs = map[string]*callRec{}
	}
	r := &callRec{rec: rec, closed: make(chan struct{})}
	st.recs[path] = r
	withPath := func(e *events.Event) { e.Add("Record-File-Path", path) }
	s.fire("RECORD_START", withPath)
	go func() {
		<-rec.Done()
		res, err := rec.Stop()
		if cerr := w.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
		if err != nil {
			s.log.Warn("record_session failed", "path", path, "err", err)
		}
		s.log.Debug("record_session ended", "path", path, "reason", res.Reason, "ms", res.Duration.Milliseconds())
		st.mu.Lock()
		delete(st.recs, path)
		st.mu.Unlock()
		s.fire("RECORD_STOP", withPath)
		close(r.closed)
	}()
	return nil
}

// StopCallRecording stops the record_session recording of path ("all":
// every one) and waits until its file is closed. It reports whether
// there was one.
func (s *Session) StopCallRecording(path string) bool {
	st := &s.callRecs
	st.mu.Lock()
	var stop []*callRec
	for p, r := range st.recs {
		if path == "all" || p == path {
			stop = append(stop, r)
		}
	}
	st.mu.Unlock()
	for _, r := range stop {
		r.rec.Stop()
		<-r.closed
	}
	return len(stop) > 0
}
