package session

import (
	"github.com/beevik/etree"

	"github.com/switchboard-voip/switchboard/apps"
)

// The call as apps.Languages: the say, phrase and speak applications find
// the configuration's languages section (lang/<lang>/*.xml) through it.
var _ apps.Languages = (*Session)(nil)

// ConfigRoot returns the root element of the configuration this call was
// routed with (the one in force when it has not been routed yet), or nil
// when the switch has none.
func (s *Session) ConfigRoot() *etree.Element {
	s.mu.Lock()
	snap := s.snap
	s.mu.Unlock()
	if snap == nil && s.m.cfg.Snapshot != nil {
		snap = s.m.cfg.Snapshot()
	}
	if snap == nil || snap.Doc == nil {
		return nil
	}
	return snap.Root()
}
