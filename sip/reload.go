package sip

import (
	"fmt"
	"reflect"

	"github.com/switchboard-voip/switchboard/acl"
	"github.com/switchboard-voip/switchboard/conf"
)

// Reload is a new configuration checked against a running Endpoint by
// PlanReload, ready for ApplyReload.
type Reload struct {
	snap     *conf.Snapshot
	acl      *acl.Lists
	gateways map[string][]*gwConfig // by profile
	// Restart names each setting of the new configuration that differs
	// from what the endpoint runs with and takes effect only after a
	// restart: a profile added or removed, or any of a profile's
	// settings (its listen address, sip-port, codecs, context, ...).
	Restart []string
}

// PlanReload reads what a reload to snap would change: the network lists
// of acl.conf and the directory take effect at ApplyReload; the profiles
// of sofia.conf are only compared with the running ones. An error (a bad
// ACL node, a profile that cannot work) means the reload must be refused
// as a whole (so does a gateway that cannot work). PlanReload changes
// nothing.
func (e *Endpoint) PlanReload(snap *conf.Snapshot) (*Reload, error) {
	lists, err := acl.FromSnapshot(snap, acl.Options{Logger: e.log})
	if err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	pcs, err := parseProfiles(snap, e.log)
	if err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	gws, err := parseGateways(snap, pcs, e.log)
	if err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	r := &Reload{snap: snap, acl: lists, gateways: gws}
	running := map[string]*ProfileConfig{}
	for _, p := range e.profiles {
		running[p.cfg.Name] = p.cfg
	}
	seen := map[string]bool{}
	for _, pc := range pcs {
		seen[pc.Name] = true
		old, ok := running[pc.Name]
		if !ok {
			r.Restart = append(r.Restart, fmt.Sprintf("sofia.conf: profile %s is new", pc.Name))
			continue
		}
		for _, name := range changedParams(old, pc) {
			r.Restart = append(r.Restart, fmt.Sprintf("sofia.conf: profile %s: %s", pc.Name, name))
		}
	}
	for _, p := range e.profiles {
		if !seen[p.cfg.Name] {
			r.Restart = append(r.Restart, fmt.Sprintf("sofia.conf: profile %s was removed", p.cfg.Name))
		}
	}
	return r, nil
}

// ApplyReload puts r in force: new calls are classified with its network
// lists and find their directory users in its snapshot. Calls in progress
// are not affected. Its gateways become the configuration `sofia profile
// <name> rescan` and startgw start from; running gateways are left as
// they are, as FreeSWITCH's reloadxml leaves them.
func (e *Endpoint) ApplyReload(r *Reload) {
	e.acl.Store(r.acl)
	e.snap.Store(r.snap)
	e.setGatewayConfigs(r.gateways)
}

// profileParamNames maps the fields of ProfileConfig to the sofia.conf
// parameters they come from, for the names in Reload.Restart.
var profileParamNames = map[string]string{
	"Name":            "name",
	"SIPIP":           "sip-ip",
	"SIPPort":         "sip-port",
	"RTPIP":           "rtp-ip",
	"ExtSIPIP":        "ext-sip-ip",
	"ExtRTPIP":        "ext-rtp-ip",
	"Context":         "context",
	"Dialplan":        "dialplan",
	"InboundCodecs":   "inbound-codec-prefs",
	"OutboundCodecs":  "outbound-codec-prefs",
	"Greedy":          "inbound-codec-negotiation",
	"AuthCalls":       "auth-calls",
	"DisableRegister": "disable-register",
	"RegisterDomain":  "force-register-domain",
	"ChallengeRealm":  "challenge-realm",
	"InboundACL":      "apply-inbound-acl",
	"NATACL":          "apply-nat-acl",
	"LocalNetworkACL": "local-network-acl",
	"DTMFType":        "dtmf-type",
	"TEPayload":       "rfc2833-pt",
	"RTPTimeout":      "rtp-timeout-sec",
	"RTPHoldTimeout":  "rtp-hold-timeout-sec",
	"UserAgent":       "user-agent-string",
	"HoldMusic":       "hold-music",
	"DisableTransfer": "disable-transfer",
	"SessionTimeout":  "session-timeout",
	"MinSE":           "minimum-session-expires",
	"MinSESet":        "minimum-session-expires",
	"NoTimer":         "enable-timer",
}

// changedParams lists the parameters whose values differ between a and b.
func changedParams(a, b *ProfileConfig) []string {
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	var out []string
	for i := 0; i < va.NumField(); i++ {
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			f := va.Type().Field(i).Name
			name, ok := profileParamNames[f]
			if !ok {
				name = f
			}
			out = append(out, name)
		}
	}
	return out
}
