package main

import (
	"errors"
	"strings"

	apicmd "github.com/switchboard-voip/switchboard/commands"
	"github.com/switchboard-voip/switchboard/media"
	"github.com/switchboard-voip/switchboard/sip"
)

// The SIP endpoint as the sofia commands see it: theSwitch implements
// commands.Sofia over sip.Endpoint's profiles and gateways.

var _ apicmd.Sofia = (*theSwitch)(nil)

// SofiaProfiles returns the SIP profiles with their running gateways.
func (sw *theSwitch) SofiaProfiles() []apicmd.SofiaProfile {
	if sw.sip == nil {
		return nil
	}
	gws := map[string][]apicmd.SofiaGateway{}
	for _, g := range sw.sip.Gateways("") {
		gws[g.Profile] = append(gws[g.Profile], sofiaGateway(g))
	}
	var out []apicmd.SofiaProfile
	for _, p := range sw.sip.ProfileStatuses() {
		out = append(out, apicmd.SofiaProfile{
			Name: p.Name, URL: p.URL, BindURL: p.BindURL, Running: p.Running,
			Calls: p.Calls, Registrations: p.Registrations,
			Dialplan: p.Dialplan, Context: p.Context, ChallengeRealm: p.ChallengeRealm,
			SIPIP: p.SIPIP.String(), ExtSIPIP: addrOrEmpty(p.ExtSIPIP.IsValid(), p.ExtSIPIP.String),
			RTPIP: p.RTPIP.String(), ExtRTPIP: addrOrEmpty(p.ExtRTPIP.IsValid(), p.ExtRTPIP.String),
			CodecsIn: codecNames(p.InboundCodecs), CodecsOut: codecNames(p.OutboundCodecs),
			TelEvent: p.TEPayload, DTMFMode: p.DTMFType,
			Gateways: gws[p.Name],
		})
	}
	return out
}

func addrOrEmpty(valid bool, s func() string) string {
	if !valid {
		return ""
	}
	return s()
}

func codecNames(cs []media.Codec) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	return strings.Join(names, ",")
}

func sofiaGateway(g sip.GatewayStatus) apicmd.SofiaGateway {
	return apicmd.SofiaGateway{
		Name: g.Name, Profile: g.Profile, Scheme: g.Scheme, Realm: g.Realm, Username: g.Username,
		Password: g.Password, From: g.From, Contact: g.Contact, Exten: g.Exten, To: g.To, Proxy: g.Proxy,
		Context: g.Context, Expires: g.Expires, Freq: g.Freq, PingAt: g.PingAt, PingFreq: g.PingFreq,
		PingTime: g.PingTime, PingMin: g.PingMin, PingCount: g.PingCount, PingMax: g.PingMax, Pinging: g.Pinging,
		State: g.State, Up: g.Up, Uptime: g.Uptime, Retry: g.Retry,
		CallsIn: g.CallsIn, CallsOut: g.CallsOut, FailedCallsIn: g.FailedCallsIn, FailedCallsOut: g.FailedCallsOut,
		InboundVariables: g.InboundVariables, OutboundVariables: g.OutboundVariables,
	}
}

// sofiaErr turns the endpoint's errors into the commands' ones.
func sofiaErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sip.ErrNoGateway):
		return apicmd.ErrSofiaNoGateway
	case errors.Is(err, sip.ErrNoProfile):
		return apicmd.ErrSofiaNoProfile
	case errors.Is(err, sip.ErrNoRegister):
		return apicmd.ErrSofiaNoRegister
	case errors.Is(err, sip.ErrGatewayNotConfigured):
		return apicmd.ErrSofiaNotConfigured
	}
	return err
}

// SofiaKillGateway is `sofia profile <p> killgw <gw>`.
func (sw *theSwitch) SofiaKillGateway(profile, gateway string) error {
	if sw.sip == nil {
		return apicmd.ErrSofiaNoProfile
	}
	return sofiaErr(sw.sip.KillGateway(profile, gateway))
}

// SofiaStartGateway is `sofia profile <p> startgw <gw>`.
func (sw *theSwitch) SofiaStartGateway(profile, gateway string) ([]string, error) {
	if sw.sip == nil {
		return nil, apicmd.ErrSofiaNoProfile
	}
	started, err := sw.sip.StartGateway(profile, gateway)
	return started, sofiaErr(err)
}

// SofiaRescan is `sofia profile <p> rescan`.
func (sw *theSwitch) SofiaRescan(profile string) ([]string, error) {
	if sw.sip == nil {
		return nil, apicmd.ErrSofiaNoProfile
	}
	started, err := sw.sip.RescanGateways(profile)
	return started, sofiaErr(err)
}

// SofiaRegister is `sofia profile <p> register|unregister <gw>`.
func (sw *theSwitch) SofiaRegister(profile, gateway string, register bool) error {
	if sw.sip == nil {
		return apicmd.ErrSofiaNoProfile
	}
	if register {
		return sofiaErr(sw.sip.RegisterGateway(profile, gateway))
	}
	return sofiaErr(sw.sip.UnregisterGateway(profile, gateway))
}
