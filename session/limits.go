package session

// Limits are the admission limits of a Manager (switch.conf max-sessions
// and sessions-per-second); 0 means no limit.
type Limits struct {
	MaxSessions       int
	SessionsPerSecond int
}

// Limits returns the limits in force: the last SetLimits, or Config's.
func (m *Manager) Limits() Limits {
	if l := m.limits.Load(); l != nil {
		return *l
	}
	return Limits{MaxSessions: m.cfg.MaxSessions, SessionsPerSecond: m.cfg.SessionsPerSecond}
}

// SetLimits puts new admission limits in force for the calls admitted
// from now on (a configuration reload); live calls are not affected, even
// when there are more of them than the new maximum.
func (m *Manager) SetLimits(l Limits) {
	m.limits.Store(&l)
}
