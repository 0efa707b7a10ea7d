package lua

import (
	"testing"

	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/session"
)

// The demo IVR of the embedded default configuration (extension 5000,
// scripts/demo_ivr.lua) takes a number and transfers to the hold music;
// its prompts are the shipped sounds, played here by the fake media.
func TestDefaultDemoIVR(t *testing.T) {
	e := newEnvFrom(t, "", "", nil)
	m := &fakeMedia{}
	s := e.mgr.NewInbound(session.Inbound{
		Endpoint: &fakeEndpoint{name: "sofia/internal/1000@127.0.0.1", media: m},
		Profile:  &caller.Profile{DestinationNumber: "5000", CallerIDNumber: "1000", NetworkAddr: "127.0.0.1", Context: "default"},
	})
	s.Start()
	c := &call{Session: s, media: m, env: e}
	waitFor(t, "the prompt", func() bool { return len(m.plays()) >= 1 })
	c.queue("42#")
	waitFor(t, "the transfer", func() bool { return e.logHas("demo_ivr: call ended by transfer") })
	if c.v("demo_ivr_number") != "42" || !e.logHas("demo_ivr: caller entered 42") {
		t.Errorf("demo_ivr_number=%q; log:\n%s", c.v("demo_ivr_number"), e.logs)
	}
	for _, bad := range []string{"level=ERROR", "cannot play"} {
		if e.logHas(bad) {
			t.Errorf("the demo logged %q:\n%s", bad, e.logs)
			break
		}
	}
}
