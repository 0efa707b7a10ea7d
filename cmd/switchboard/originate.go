package main

import (
	"context"
	"time"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/cause"
	apicmd "github.com/switchboard-voip/switchboard/commands"
	"github.com/switchboard-voip/switchboard/session"
)

// OriginateCall is the originate command's way in (commands.Originator):
// it places r.Dial and sends the answered leg to r's application or
// extension.
func (sw *theSwitch) OriginateCall(ctx context.Context, r apicmd.OriginateRequest) (string, cause.Cause) {
	res := sw.mgr.Originate(ctx, r.Dial, session.OriginateOptions{
		Timeout:        r.Timeout,
		CallerIDName:   r.CallerIDName,
		CallerIDNumber: r.CallerIDNumber,
	})
	leg := res.Leg
	if leg == nil {
		return "", res.Cause
	}
	var err error
	if r.App != "" {
		err = leg.RunApp(r.App, r.AppArgs)
	} else {
		err = leg.Transfer(r.Exten, r.Dialplan, r.Context)
	}
	if err != nil {
		leg.Hangup(cause.CDestinationOutOfOrder)
		return "", cause.CDestinationOutOfOrder
	}
	return leg.UUID(), cause.CSuccess
}

// Originate is the scripting layer's way in (scripting.Originator, for
// freeswitch.Session(dial) and session:originate): the answered leg is
// left to the script, waiting in CS_CONSUME_MEDIA.
func (sw *theSwitch) Originate(ctx context.Context, aLeg apps.Session, dial string, timeout time.Duration) (apps.Session, cause.Cause) {
	o := session.OriginateOptions{Timeout: timeout}
	if a, ok := aLeg.(*session.Session); ok {
		o.Caller = a
	}
	res := sw.mgr.Originate(ctx, dial, o)
	if res.Leg == nil {
		return nil, res.Cause
	}
	return res.Leg, cause.CSuccess
}
