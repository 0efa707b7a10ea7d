package sip

import (
	"fmt"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-voip/switchboard/session"
)

// inboundGatewaySettings closes the test profile's <settings> to add a
// gateway "prov" (no registration, so it sends nothing) whose calls are
// routed in context public, to the To user, with an inbound variable,
// and reopens them.
const inboundGatewaySettings = `</settings>
          <gateways>
            <gateway name="prov">
              <param name="register" value="false"/>
              <param name="proxy" value="192.0.2.1"/>
              <param name="context" value="public"/>
              <param name="extension" value="auto_to_user"/>
              <variables><variable name="x_in" value="from-prov" direction="inbound"/></variables>
            </gateway>
          </gateways>
          <settings>`

// inviteTo sends d's INVITE with its own Request-URI and To user (the
// dialog's dest stays what later requests use).
func inviteTo(d *dialog, ruri, toUser string) {
	d.branch = newBranch()
	head := fmt.Sprintf(`INVITE %s SIP/2.0
%s
Max-Forwards: 70
From: "Test Caller" <sip:1000@127.0.0.1>;tag=%s
To: <sip:%s@%s>
Call-ID: %s
CSeq: %d INVITE
Contact: <sip:1000@%s;transport=%s>
Content-Type: application/sdp
`, ruri, d.via(d.branch), d.fromTag, toUser, d.u.conn.RemoteAddr(), d.callID, d.cseq, d.u.local, d.u.network)
	d.u.send(head, d.offer("0"))
}

// TestInviteToGateway: an INVITE for a gateway's Contact (gw+<name>) or
// with ;gw=<name> is routed as mod_sofia routes it — in the gateway's
// context, to the gateway's extension (here auto_to_user: the To user),
// with sip_gateway and the gateway's inbound variables — instead of the
// context the caller's ACL gives (default here). An INVITE naming no
// gateway is routed as usual.
func TestInviteToGateway(t *testing.T) {
	env := newEnv(t, envOpts{settings: inboundGatewaySettings})
	host := env.udp.String()
	tests := []struct {
		name, ruri, to string
		context, dest  string
		gateway        string // sip_gateway; "" for none
	}{
		{"gw+ contact", "sip:gw+prov@" + host, "park", "public", "park", "prov"},
		{"gw param", "sip:did55@" + host + ";gw=prov", "park", "public", "park", "prov"},
		{"unknown gateway", "sip:park@" + host + ";gw=nosuch", "park", "default", "park", ""},
		{"no gateway", "sip:park@" + host, "park", "default", "park", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := newUAC(t, env, "udp")
			d := u.dialog("park")
			inviteTo(d, tt.ruri, tt.to)
			d.expectAnswer()
			var s *session.Session
			waitFor(t, "session", func() bool { s = env.sessionFor(d.callID); return s != nil })
			if p := s.Profile(); p.Context != tt.context || p.DestinationNumber != tt.dest {
				t.Errorf("routed to %s in %s, want %s in %s", p.DestinationNumber, p.Context, tt.dest, tt.context)
			}
			gw, _ := s.Vars().Get("sip_gateway")
			in, _ := s.Vars().Get("x_in")
			wantIn := ""
			if tt.gateway != "" {
				wantIn = "from-prov"
			}
			if gw != tt.gateway || in != wantIn {
				t.Errorf("sip_gateway %q x_in %q, want %q %q", gw, in, tt.gateway, wantIn)
			}
			d.request("BYE", "")
			d.resp(sip.BYE, 200)
		})
	}
	if s, ok := env.ep.Gateway("prov"); !ok || s.CallsIn != 2 {
		t.Errorf("prov counts %d inbound calls (running %v), want 2", s.CallsIn, ok)
	}
}

// TestInviteToGatewayStillAuthenticates: naming a gateway does not let
// a caller the ACLs do not trust skip the challenge of auth-calls.
func TestInviteToGatewayStillAuthenticates(t *testing.T) {
	lan := `<list name="lan" default="deny"><node type="allow" cidr="10.0.0.0/8"/></list>`
	env := newEnv(t, envOpts{acl: lan, directory: testDirectory,
		settings: `<param name="apply-inbound-acl" value="lan"/>` + inboundGatewaySettings})
	host := env.udp.String()
	for _, ruri := range []string{"sip:gw+prov@" + host, "sip:park@" + host + ";gw=prov"} {
		u := newUAC(t, env, "udp")
		d := u.dialog("park")
		inviteTo(d, ruri, "park")
		r := u.final(d.callID, sip.INVITE)
		if r.StatusCode != 407 {
			t.Errorf("%s from an untrusted caller: %d, want 407", ruri, r.StatusCode)
		}
		d.ack(r, "")
	}
	if s, ok := env.ep.Gateway("prov"); !ok || s.CallsIn != 0 {
		t.Errorf("prov counts %d inbound calls (running %v), want 0: the calls were refused", s.CallsIn, ok)
	}
}
