package sip

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

// TestByeFollowsRecordRoute: behind a proxy that recorded its route, our
// 200 copies the Record-Route and our BYE goes through it with a Route
// header (here the "proxy" is the test client's own address).
func TestByeFollowsRecordRoute(t *testing.T) {
	env := newEnv(t, envOpts{})
	u := newUAC(t, env, "udp")
	d := u.dialog("hangup")
	rr := "<sip:proxy@" + u.local.String() + ";lr>"
	d.invite(d.offer("0"), "Record-Route: "+rr)
	res := d.expectAnswer()
	if got := header(res, "Record-Route"); got != rr {
		t.Errorf("200 Record-Route %q, want %q", got, rr)
	}
	bye := u.request(d.callID, sip.BYE)
	if got := header(bye, "Route"); got != rr {
		t.Errorf("BYE Route %q, want %q", got, rr)
	}
	if got := header(bye, "Reason"); got != `Q.850;cause=17;text="USER_BUSY"` {
		t.Errorf("BYE Reason %q", got)
	}
	u.answerRequest(bye, 200)
	waitFor(t, "the call to end", func() bool { return env.ep.Calls() == 0 })
}
