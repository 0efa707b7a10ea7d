package session

import (
	"context"
	"io/fs"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/media"
	"github.com/switchboard-voip/switchboard/vars"
)

// What script engines (package scripting) need of a session beyond
// apps.Session: running an application exactly as the dialplan does,
// the channel state, a pending transfer, the switch's API, and playing a
// file from a sample offset through a filter (a script's input callback
// may pause, seek or change the volume of what it plays).

// API returns the API-command runner the channel's ${api} expansion uses;
// package commands can tell the switch behind it (commands.EnvOf).
func (s *Session) API() vars.API { return s.m.cfg.API }

// ExecuteApp runs an application the way a dialplan action runs
// (switch_core_session_execute_application): unknown names hang up with
// DESTINATION_OUT_OF_ORDER, only zombie applications run after hangup,
// media applications pre-answer, data is ${}-expanded, events fire.
func (s *Session) ExecuteApp(app, data string) { s.exec(app, data) }

// StateName returns the channel state's name, e.g. "CS_EXECUTE".
func (s *Session) StateName() string { return s.State().String() }

// TransferPending reports whether the call has been transferred and will
// be routed again once the running application returns.
func (s *Session) TransferPending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transfer
}

// PlayFiltered plays uri as Media().Play does (Break, hold and queued
// applications included), each source it opens passed through filter
// first (nil: played as is).
func (s *Session) PlayFiltered(ctx context.Context, uri string, filter func(media.Source) (media.Source, error), stop func() bool) (apps.PlayResult, error) {
	m, err := s.Media()
	if err != nil {
		return apps.PlayResult{}, err
	}
	sm := m.(*sessionMedia)
	s.mu.Lock()
	snap := s.snap
	s.mu.Unlock()
	if snap == nil {
		snap = s.m.cfg.Snapshot()
	}
	prefix, _ := s.Get("sound_prefix")
	open := func(name string) (fs.File, error) { return snap.Open(name) }
	opts := media.SourceOptions{Rate: 8000, Open: open, SoundPrefix: prefix, Logger: s.log, LocalStream: s.m.cfg.LocalStreams}
	return s.controlledPlay(ctx, sm.m, func() (media.Source, error) {
		src, err := media.OpenSource(uri, opts)
		if err != nil || filter == nil {
			return src, err
		}
		return filter(src)
	}, stop)
}
