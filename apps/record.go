package apps

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/vars"
)

// The recording family: record writes what the caller says to a file.

func init() {
	Register(App{Name: "record", Usage: "<path> [<time_limit_secs>] [<silence_thresh>] [<silence_hits>]", Description: "Record received audio to a file", Run: recordApp})
}

// Recorder is implemented by a call's Media when it can record the
// caller's audio.
type Recorder interface {
	// Record writes the received audio to path (a WAV file, created or,
	// with Append, appended to) until Limit, silence, Stop or hangup.
	Record(ctx context.Context, path string, o RecordOptions) (RecordResult, error)
}

// RecordOptions controls a recording.
type RecordOptions struct {
	Limit            time.Duration // 0: none
	SilenceThreshold int           // mean absolute level of a 20 ms frame below which it is silence; 0: off
	SilenceHits      time.Duration // how long silence must last; 0: 3 s
	Append           bool          // RECORD_APPEND
	Stop             func() bool   // checked every frame; may be nil
}

// RecordResult describes a finished recording.
type RecordResult struct {
	Samples  int64
	Duration time.Duration
	Reason   string // limit, silence, stopped or hangup
}

// recordApp is `record <path> [[+]<time_limit_secs>] [<silence_thresh>]
// [<silence_hits>]`: it records the caller into path (a WAV file; a
// relative path is under the recordings_dir global) until the time limit,
// silence_hits seconds of audio below silence_thresh, a
// playback_terminators digit (default *; "any", "none") or hangup. It
// sets playback_terminator_used, record_seconds, record_ms,
// record_samples and, when silence ended it, silence_hits_exhausted. A
// file that cannot be written hangs up DESTINATION_OUT_OF_ORDER, as
// FreeSWITCH does.
//
// Deviation: FreeSWITCH puts a relative path under sound_prefix; we put
// it under recordings_dir, which is where operators look for recordings.
func recordApp(ctx context.Context, ch Channel, data string) error {
	const usage = "<path> [<time_limit_secs>] [<silence_thresh>] [<silence_hits>]"
	s, err := sessionOf(ch, "record")
	if err != nil {
		return err
	}
	argv := vars.Separate(data, ' ', 4)
	if len(argv) == 0 || argv[0] == "" {
		s.Log(slog.LevelError, "No file specified.")
		return &UsageError{App: "record", Usage: usage, Reason: "no file specified"}
	}
	v := s.Vars()
	o := RecordOptions{
		Limit:            time.Duration(atoui(strings.TrimPrefix(arg(argv, 1), "+"))) * time.Second,
		SilenceThreshold: atoui(arg(argv, 2)),
		SilenceHits:      time.Duration(atoui(arg(argv, 3))) * time.Second,
		Append:           varTrue(v, "RECORD_APPEND"),
	}
	path := recordingPath(s, argv[0])
	v.Set(varPlaybackTerminator, "")
	v.Set("silence_hits_exhausted", "false")
	ctx, cancel := callContext(ctx, s)
	defer cancel()
	m, err := mediaOf(ctx, s, "record")
	if err != nil {
		return quiet(err)
	}
	rec, ok := m.(Recorder)
	if !ok {
		s.Hangup(cause.CDestinationOutOfOrder)
		return errors.New("record: this call's media cannot record")
	}
	w := newTerminatorWatch(s.DTMF(), recordTerminators(v))
	o.Stop = w.stop
	res, err := rec.Record(ctx, path, o)
	w.record(v)
	v.Set("record_seconds", strconv.FormatInt(int64(res.Duration/time.Second), 10))
	v.Set("record_ms", strconv.FormatInt(res.Duration.Milliseconds(), 10))
	v.Set("record_samples", strconv.FormatInt(res.Samples, 10))
	if res.Reason == "silence" {
		v.Set("silence_hits_exhausted", "true")
	}
	if err != nil {
		if ctx.Err() == nil && s.Ready() {
			s.Hangup(cause.CDestinationOutOfOrder)
		}
		return fmt.Errorf("record %s: %w", path, err)
	}
	return nil
}

// recordingPath resolves a recording's path: absolute as given, relative
// under the recordings_dir global.
func recordingPath(s Session, path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	dir := s.Expand("${recordings_dir}")
	if dir == "" {
		return path
	}
	return filepath.Join(dir, path)
}

// recordTerminators are the digits that stop a recording: the
// playback_terminators variable with "any" and "none" spelled out, "*" by
// default (mod_dptools' on_dtmf).
func recordTerminators(v *vars.Store) string {
	t, ok := v.Get("playback_terminators")
	switch {
	case !ok:
		return "*"
	case strings.EqualFold(t, "any"):
		return "1234567890*#"
	case strings.EqualFold(t, "none"):
		return ""
	}
	return t
}

// varTrue reports whether a channel variable is set to a true value.
func varTrue(v *vars.Store, name string) bool {
	s, _ := v.Get(name)
	return caller.True(s)
}

// CallRecorder is implemented by a Session that can record both
// directions of the call beside whatever else it does (record_session).
type CallRecorder interface {
	// StartCallRecording starts recording into path.
	StartCallRecording(path string, o CallRecordOptions) error
	// StopCallRecording stops the recording of path ("all": every one)
	// and reports whether there was one.
	StopCallRecording(path string) bool
}

// CallRecordOptions controls record_session.
type CallRecordOptions struct {
	Stereo    bool          // RECORD_STEREO: caller left, what the caller hears right
	ReadOnly  bool          // RECORD_READ_ONLY: only the caller
	WriteOnly bool          // RECORD_WRITE_ONLY: only what the caller hears
	Append    bool          // RECORD_APPEND
	Limit     time.Duration // 0: until stopped or hangup
}

func init() {
	Register(App{Name: "record_session", Flags: MediaTap, Usage: "<path> [+<timeout>]", Description: "Record the call in the background", Run: recordSessionApp})
	Register(App{Name: "stop_record_session", Usage: "<path>", Description: "Stop a session recording", Run: stopRecordSessionApp})
}

// recordSessionApp is `record_session <path> [+<seconds>]`: it records
// both directions of the call into path (a WAV file, relative paths under
// recordings_dir) while the dialplan goes on, until stop_record_session,
// the time limit, or hangup. RECORD_STEREO puts the caller on the left
// and what the caller hears on the right; otherwise they are mixed.
// RECORD_READ_ONLY, RECORD_WRITE_ONLY and RECORD_APPEND are honoured.
func recordSessionApp(ctx context.Context, ch Channel, data string) error {
	s, err := sessionOf(ch, "record_session")
	if err != nil {
		return err
	}
	argv := vars.Separate(data, ' ', 3)
	if len(argv) == 0 || argv[0] == "" {
		return &UsageError{App: "record_session", Usage: "<path> [+<timeout>]", Reason: "no path"}
	}
	var limit time.Duration
	if len(argv) > 1 && strings.HasPrefix(argv[1], "+") {
		limit = time.Duration(atoui(argv[1][1:])) * time.Second
	}
	cr, ok := s.(CallRecorder)
	if !ok {
		return errors.New("record_session: this call cannot be recorded")
	}
	if _, err := mediaOf(ctx, s, "record_session"); err != nil {
		return quiet(err)
	}
	v := s.Vars()
	return cr.StartCallRecording(recordingPath(s, argv[0]), CallRecordOptions{
		Stereo:    varTrue(v, "RECORD_STEREO"),
		ReadOnly:  varTrue(v, "RECORD_READ_ONLY"),
		WriteOnly: varTrue(v, "RECORD_WRITE_ONLY"),
		Append:    varTrue(v, "RECORD_APPEND"),
		Limit:     limit,
	})
}

// stopRecordSessionApp is `stop_record_session <path|all>`.
func stopRecordSessionApp(_ context.Context, ch Channel, data string) error {
	s, err := sessionOf(ch, "stop_record_session")
	if err != nil {
		return err
	}
	path := strings.TrimSpace(data)
	if path == "" {
		return &UsageError{App: "stop_record_session", Usage: "<path>", Reason: "no path"}
	}
	cr, ok := s.(CallRecorder)
	if !ok {
		return nil
	}
	if path != "all" {
		path = recordingPath(s, path)
	}
	if !cr.StopCallRecording(path) {
		s.Log(slog.LevelWarn, "stop_record_session: no recording of "+path)
	}
	return nil
}
