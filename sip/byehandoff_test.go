package sip

import (
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-voip/switchboard/cause"
)

// callOf finds an inbound call by its Call-ID.
func callOf(t *testing.T, env *testEnv, callID string) *call {
	t.Helper()
	var found *call
	for _, p := range env.ep.profiles {
		p.calls.Range(func(_, v any) bool {
			if c, ok := v.(*call); ok && c.callID == callID {
				found = c
				return false
			}
			return true
		})
	}
	if found == nil {
		t.Fatalf("no call %s", callID)
	}
	return found
}

// byeLeftToRun reports whether the call's Hangup left its BYE to the
// INVITE goroutine.
func byeLeftToRun(c *call) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byePending && !c.runOver
}

// TestByeAfterAckFromInviteGoroutine: a call the dialplan hangs up as soon
// as it is answered, before the caller's ACK, leaves its BYE to the INVITE
// goroutine, which sends it — once — when the ACK arrives.
func TestByeAfterAckFromInviteGoroutine(t *testing.T) {
	env := newEnv(t, envOpts{})
	u := newUAC(t, env, "udp")
	d := u.dialog("answer")
	d.invite(d.offer("0"))
	res := u.response(d.callID, sip.INVITE, 200)
	d.toTag, _ = res.To().Params.Get("tag")
	c := callOf(t, env, d.callID)
	waitFor(t, "the hangup to leave the BYE to the INVITE goroutine", func() bool { return byeLeftToRun(c) })
	u.quiet(2*testTimers.T1, func(m sip.Message) bool {
		r, ok := m.(*sip.Request)
		return ok && r.Method == sip.BYE
	})
	d.ack(res, "")
	bye := u.request(d.callID, sip.BYE)
	if got := header(bye, "Reason"); got != `Q.850;cause=16;text="NORMAL_CLEARING"` {
		t.Errorf("BYE Reason %q", got)
	}
	u.answerRequest(bye, 200)
	waitFor(t, "the call to end", func() bool { return env.ep.Calls() == 0 })
	u.quiet(2*testTimers.T2, func(m sip.Message) bool {
		r, ok := m.(*sip.Request)
		return ok && r.Method == sip.BYE && r.Via().Params.GetOr("branch", "") != bye.Via().Params.GetOr("branch", "")
	})
}

// TestByeWithoutAck: a call hung up before the ACK whose ACK never comes
// still gets its BYE (when the INVITE transaction ends), once, and ends.
func TestByeWithoutAck(t *testing.T) {
	t.Parallel()
	env := newEnv(t, envOpts{})
	u := newUAC(t, env, "udp")
	d := u.dialog("answer")
	d.invite(d.offer("0"))
	u.response(d.callID, sip.INVITE, 200)
	c := callOf(t, env, d.callID)
	s := env.sessionFor(d.callID)
	waitFor(t, "the hangup to leave the BYE to the INVITE goroutine", func() bool { return byeLeftToRun(c) })
	bye := u.request(d.callID, sip.BYE)
	u.answerRequest(bye, 200)
	waitFor(t, "the call to end", func() bool { return env.ep.Calls() == 0 })
	if s != nil {
		waitEnded(t, s)
		if got := s.HangupCause(); got != cause.CNormalClearing {
			t.Errorf("cause %s", got)
		}
	}
	u.quiet(2*testTimers.T2, func(m sip.Message) bool {
		r, ok := m.(*sip.Request)
		return ok && r.Method == sip.BYE && r.Via().Params.GetOr("branch", "") != bye.Via().Params.GetOr("branch", "")
	})
}
