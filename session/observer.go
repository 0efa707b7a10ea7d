package session

import "time"

// Observer is told how long the call core's steps take; the metrics
// package implements it. Its methods run on the call's goroutine, right
// after the step, and must return quickly.
type Observer interface {
	// HuntDone reports one dialplan hunt (routing, a transfer's re-hunt,
	// execute_extension): whether an extension matched and how long the
	// hunt took, inline actions included.
	HuntDone(found bool, d time.Duration)
	// AppDone reports how long one application ran.
	AppDone(app string, d time.Duration)
}

func (m *Manager) huntDone(found bool, start time.Time) {
	if o := m.cfg.Observer; o != nil {
		o.HuntDone(found, time.Since(start))
	}
}

func (m *Manager) appDone(app string, start time.Time) {
	if o := m.cfg.Observer; o != nil {
		o.AppDone(app, time.Since(start))
	}
}
