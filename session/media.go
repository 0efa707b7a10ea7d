package session

import (
	"context"
	"fmt"
	"io/fs"
	"time"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/media"
)

// Media is the negotiated audio of a leg, as the endpoint hands it over
// (a *media.Stream).
type Media interface {
	Play(ctx context.Context, src media.Source, stop func() bool) (media.PlayResult, error)
	Echo(ctx context.Context, delay time.Duration, stop func() bool) error
	SendDTMF(ctx context.Context, digits string, dur time.Duration) error
}

// Media returns the call's media, pre-answering first when the call has
// none yet (FreeSWITCH's automatic pre-answer for media applications).
func (s *Session) Media() (apps.Media, error) {
	if !s.Ready() {
		return nil, fmt.Errorf("channel is hung up")
	}
	if err := s.PreAnswer(); err != nil {
		return nil, err
	}
	m := s.ep.Media()
	if m == nil {
		return nil, fmt.Errorf("no media on this channel")
	}
	return &sessionMedia{s: s, m: m}, nil
}

// sessionMedia adapts an endpoint's media to apps.Media, opening sources
// through the call's configuration (sound_prefix, the conf file system).
type sessionMedia struct {
	s *Session
	m Media
}

func (sm *sessionMedia) Play(ctx context.Context, uri string, stop func() bool) (apps.PlayResult, error) {
	s := sm.s
	s.mu.Lock()
	snap := s.snap
	s.mu.Unlock()
	if snap == nil {
		snap = s.m.cfg.Snapshot()
	}
	prefix, _ := s.Get("sound_prefix")
	open := func(name string) (fs.File, error) { return snap.Open(name) }
	opts := media.SourceOptions{Rate: 8000, Open: open, SoundPrefix: prefix, Logger: s.log, LocalStream: s.m.cfg.LocalStreams}
	// Break, hold and queued applications act on the playback (control.go).
	return s.controlledPlay(ctx, sm.m, func() (media.Source, error) { return media.OpenSource(uri, opts) }, stop)
}

func (sm *sessionMedia) Echo(ctx context.Context, delay time.Duration, stop func() bool) error {
	return sm.s.controlledEcho(ctx, sm.m, delay, stop)
}

func (sm *sessionMedia) SendDTMF(ctx context.Context, digits string, dur time.Duration) error {
	return sm.s.controlledDTMF(ctx, sm.m, digits, dur)
}
