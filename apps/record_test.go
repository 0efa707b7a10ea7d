package apps

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/cause"
)

// recordCall is one Record on the fake media.
type recordCall struct {
	path string
	o    RecordOptions
}

// Record records for the media's frame count of the path (as Play does),
// delivering scripted digits and honouring Stop, the limit and hangup.
func (m *fakeMedia) Record(ctx context.Context, path string, o RecordOptions) (RecordResult, error) {
	m.records = append(m.records, recordCall{path, o})
	var res RecordResult
	if m.recErr != nil {
		return res, m.recErr
	}
	n := m.framesOf(path)
	for i := 0; ; i++ {
		if i == n {
			res.Reason = "silence"
			break
		}
		if d, ok := m.script[i]; ok {
			delete(m.script, i)
			m.s.dtmf.push(d)
		}
		if ctx.Err() != nil {
			res.Reason = "hangup"
			break
		}
		if o.Stop != nil && o.Stop() {
			res.Reason = "stopped"
			break
		}
		if o.Limit > 0 && res.Duration >= o.Limit {
			res.Reason = "limit"
			break
		}
		res.Samples += samplesPerFrame
		res.Duration += 20 * time.Millisecond
	}
	return res, nil
}

func TestRecordApp(t *testing.T) {
	tests := []struct {
		name     string
		data     string
		vars     []string
		frames   int
		script   map[int]string
		recErr   error
		wantPath string
		wantOpts RecordOptions
		wantVars map[string]string
		wantHang []cause.Cause
		wantErr  bool
	}{
		{
			name: "relative path, limit, silence", data: "msg/1.wav +20 200 2",
			vars: []string{"recordings_dir", "/var/rec"}, frames: 100,
			wantPath: "/var/rec/msg/1.wav",
			wantOpts: RecordOptions{Limit: 20 * time.Second, SilenceThreshold: 200, SilenceHits: 2 * time.Second},
			wantVars: map[string]string{"record_ms": "2000", "record_samples": "16000", "record_seconds": "2",
				"silence_hits_exhausted": "true", "playback_terminator_used": ""},
		},
		{
			name: "absolute path, default terminator *", data: "/tmp/x.wav", frames: -1,
			script:   map[int]string{5: "1", 10: "*"},
			wantPath: "/tmp/x.wav",
			wantVars: map[string]string{"playback_terminator_used": "*", "record_ms": "200", "silence_hits_exhausted": "false"},
		},
		{
			name: "terminators none, limit ends", data: "/tmp/y.wav 1", frames: -1,
			vars: []string{"playback_terminators", "none", "RECORD_APPEND", "true"}, script: map[int]string{3: "*"},
			wantPath: "/tmp/y.wav", wantOpts: RecordOptions{Limit: time.Second, Append: true},
			wantVars: map[string]string{"playback_terminator_used": "", "record_ms": "1000"},
		},
		{
			name: "a file that cannot be written hangs up", data: "/nope/z.wav", recErr: errors.New("permission denied"),
			wantPath: "/nope/z.wav", wantHang: []cause.Cause{cause.CDestinationOutOfOrder}, wantErr: true,
		},
		{name: "no file", data: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSession(tt.vars...)
			s.media.recErr = tt.recErr
			for k, v := range tt.script {
				s.media.script[k] = v
			}
			if tt.wantPath != "" {
				s.media.frames[tt.wantPath] = tt.frames
			}
			err := recordApp(context.Background(), s, tt.data)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantPath == "" {
				if len(s.media.records) != 0 {
					t.Errorf("recorded %v", s.media.records)
				}
				return
			}
			if len(s.media.records) != 1 {
				t.Fatalf("records %v", s.media.records)
			}
			got := s.media.records[0]
			if got.o.Stop == nil {
				t.Error("no Stop function for the terminators")
			}
			g, w := got.o, tt.wantOpts
			if got.path != tt.wantPath || g.Limit != w.Limit || g.SilenceThreshold != w.SilenceThreshold || g.SilenceHits != w.SilenceHits || g.Append != w.Append {
				t.Errorf("Record(%q, %+v), want (%q, %+v)", got.path, got.o, tt.wantPath, tt.wantOpts)
			}
			checkVars(t, s, tt.wantVars)
			if !slices.Equal(s.hangups, tt.wantHang) {
				t.Errorf("hangups %v, want %v", s.hangups, tt.wantHang)
			}
		})
	}
}
