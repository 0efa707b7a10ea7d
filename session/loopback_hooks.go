package session

import "github.com/switchboard-voip/switchboard/dialplan"

// StartSteps runs the session like Start, except that its first routing
// runs steps instead of hunting the dialplan: the B-leg of a
// loopback/app=<app>[:<args>] call, which runs pre_answer and the
// application as its whole action list. The configuration in force is
// still taken at that routing; a transfer afterwards hunts as usual.
func (s *Session) StartSteps(steps []dialplan.Step) {
	s.mu.Lock()
	s.nextSteps = append([]dialplan.Step(nil), steps...)
	s.mu.Unlock()
	s.Start()
}
