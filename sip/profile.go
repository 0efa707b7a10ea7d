package sip

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/media"
)

// aclRule is one apply-inbound-acl value: "list[:pass-context[:fail-context]]".
type aclRule struct {
	list, pass, fail string
}

// ProfileConfig is the part of a sofia.conf <profile> the endpoint uses,
// under FreeSWITCH's parameter names.
type ProfileConfig struct {
	Name     string
	SIPIP    netip.Addr // sip-ip
	SIPPort  int        // sip-port; 0 picks a free port (tests)
	RTPIP    netip.Addr // rtp-ip (default: sip-ip)
	ExtSIPIP netip.Addr // ext-sip-ip, when an address; invalid when unset
	ExtRTPIP netip.Addr // ext-rtp-ip, when an address; invalid when unset
	Context  string     // context (FreeSWITCH's default: "default")
	Dialplan string     // dialplan (default "XML")
	// InboundCodecs and OutboundCodecs are the codecs of
	// inbound-codec-prefs / outbound-codec-prefs we can code, in order.
	InboundCodecs  []media.Codec
	OutboundCodecs []media.Codec
	// Greedy is inbound-codec-negotiation greedy or scrooge: our order
	// picks the codec. generous (FreeSWITCH's default) lets the offer's
	// order decide.
	Greedy    bool
	AuthCalls bool // auth-calls
	// DisableRegister is disable-register: REGISTERs get 403.
	DisableRegister bool
	// RegisterDomain is force-register-domain: the directory domain
	// credentials are checked in and registrations are kept under,
	// whatever host the phone names.
	RegisterDomain string
	// ChallengeRealm is challenge-realm: auto_to (the default: the To
	// host), auto_from (the From host) or a fixed realm.
	ChallengeRealm  string
	InboundACL      []aclRule // apply-inbound-acl, in order
	NATACL          []string  // apply-nat-acl
	LocalNetworkACL string    // local-network-acl
	DTMFType        string    // dtmf-type: rfc2833 (default), info or none
	TEPayload       int       // rfc2833-pt (default 101)
	RTPTimeout      time.Duration
	RTPHoldTimeout  time.Duration
	UserAgent       string // user-agent-string
	// HoldMusic is hold-music: what the other leg of a bridge hears while
	// a phone on this profile holds the call, when the channel sets no
	// hold_music (see session.Session.FarEndHold).
	HoldMusic string
	// DisableTransfer is disable-transfer: every REFER gets 403.
	DisableTransfer bool
	// SessionTimeout is session-timeout in seconds (RFC 4028's session
	// interval we ask for; 0, the default, asks for none but honours the
	// far end's); MinSE is minimum-session-expires (default 120, never
	// below 90); MinSESet says the profile set it. NoTimer is
	// enable-timer=false: no session timers at all.
	SessionTimeout int
	MinSE          int
	MinSESet       bool
	NoTimer        bool
}

// DTMF types.
const (
	dtmfRFC2833 = "rfc2833"
	dtmfInfo    = "info"
	dtmfNone    = "none"
)

// parseProfiles reads every <profile> of sofia.conf's <profiles>. A
// profile that cannot work (no sip-ip, a sip-ip that is not an address of
// this machine, a bad port) is an error naming it and where it was
// written.
func parseProfiles(snap *conf.Snapshot, log *slog.Logger) ([]*ProfileConfig, error) {
	cfg := snap.Configuration("sofia.conf")
	if cfg == nil {
		return nil, nil
	}
	var out []*ProfileConfig
	seen := map[string]bool{}
	for _, profiles := range cfg.SelectElements("profiles") {
		for _, el := range profiles.SelectElements("profile") {
			p, err := parseProfile(el, log)
			if err != nil {
				return nil, fmt.Errorf("%s: sofia.conf profile %q: %w", snap.Pos(el), el.SelectAttrValue("name", ""), err)
			}
			if seen[p.Name] {
				return nil, fmt.Errorf("%s: sofia.conf: profile %q defined twice", snap.Pos(el), p.Name)
			}
			seen[p.Name] = true
			out = append(out, p)
		}
	}
	return out, nil
}

// profileParams returns the <param name value> pairs of a profile's
// <settings>, in order.
func profileParams(el *etree.Element) [][2]string {
	var out [][2]string
	for _, settings := range el.SelectElements("settings") {
		for _, p := range settings.SelectElements("param") {
			out = append(out, [2]string{strings.ToLower(p.SelectAttrValue("name", "")), p.SelectAttrValue("value", "")})
		}
	}
	return out
}

func parseProfile(el *etree.Element, log *slog.Logger) (*ProfileConfig, error) {
	p := &ProfileConfig{
		Name:      el.SelectAttrValue("name", ""),
		SIPPort:   5060,
		Context:   "default",
		Dialplan:  "XML",
		DTMFType:  dtmfRFC2833,
		TEPayload: 101,
		UserAgent: "Switchboard",
		MinSE:     defaultMinSE,
	}
	if p.Name == "" || strings.ContainsAny(p.Name, "/ \t") {
		return nil, fmt.Errorf("a profile needs a name without '/' or blanks")
	}
	var sipIP, rtpIP string
	for _, kv := range profileParams(el) {
		name, val := kv[0], strings.TrimSpace(kv[1])
		switch name {
		case "sip-ip":
			sipIP = val
		case "sip-port":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 || n > 65535 {
				return nil, fmt.Errorf("bad sip-port %q", val)
			}
			p.SIPPort = n
		case "rtp-ip":
			if rtpIP == "" {
				rtpIP = val
			}
		case "ext-sip-ip", "ext-rtp-ip":
			a, ok := extIP(val)
			if !ok && val != "" {
				log.Warn("sip: ignoring a non-address "+name+" (only literal addresses are supported)", "profile", p.Name, "value", val)
			}
			if name == "ext-sip-ip" {
				p.ExtSIPIP = a
			} else {
				p.ExtRTPIP = a
			}
		case "context":
			if val != "" {
				p.Context = val
			}
		case "dialplan":
			if val != "" {
				p.Dialplan = val
			}
		case "inbound-codec-prefs", "codec-prefs":
			p.InboundCodecs = codecPrefs(val, p.Name, log)
			if name == "codec-prefs" && p.OutboundCodecs == nil {
				p.OutboundCodecs = p.InboundCodecs
			}
		case "outbound-codec-prefs":
			p.OutboundCodecs = codecPrefs(val, p.Name, log)
		case "inbound-codec-negotiation":
			p.Greedy = strings.EqualFold(val, "greedy") || strings.EqualFold(val, "scrooge")
		case "auth-calls":
			p.AuthCalls = caller.True(val)
		case "disable-register":
			p.DisableRegister = caller.True(val)
		case "force-register-domain":
			p.RegisterDomain = val
		case "challenge-realm":
			p.ChallengeRealm = val
		case "apply-inbound-acl":
			if strings.EqualFold(val, "none") {
				p.InboundACL = nil
				continue
			}
			if val == "" {
				continue
			}
			list, rest, _ := strings.Cut(val, ":")
			pass, fail, _ := strings.Cut(rest, ":")
			p.InboundACL = append(p.InboundACL, aclRule{list: list, pass: pass, fail: fail})
		case "apply-nat-acl":
			if strings.EqualFold(val, "none") {
				p.NATACL = nil
			} else if val != "" {
				p.NATACL = append(p.NATACL, val)
			}
		case "local-network-acl":
			if strings.EqualFold(val, "none") {
				p.LocalNetworkACL = ""
			} else {
				p.LocalNetworkACL = val
			}
		case "dtmf-type":
			switch strings.ToLower(val) {
			case dtmfRFC2833, dtmfInfo:
				p.DTMFType = strings.ToLower(val)
			default:
				p.DTMFType = dtmfNone
			}
		case "rfc2833-pt":
			n, err := strconv.Atoi(val)
			if err != nil || n < 96 || n > 127 {
				return nil, fmt.Errorf("bad rfc2833-pt %q (want a dynamic payload type, 96-127)", val)
			}
			p.TEPayload = n
		case "rtp-timeout-sec", "rtp-hold-timeout-sec":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("bad %s %q", name, val)
			}
			if name == "rtp-timeout-sec" {
				p.RTPTimeout = time.Duration(n) * time.Second
			} else {
				p.RTPHoldTimeout = time.Duration(n) * time.Second
			}
		case "user-agent-string":
			if val != "" {
				p.UserAgent = val
			}
		case "hold-music":
			p.HoldMusic = val
		case "disable-transfer":
			p.DisableTransfer = caller.True(val)
		case "session-timeout", "minimum-session-expires":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("bad %s %q", name, val)
			}
			if name == "session-timeout" {
				p.SessionTimeout = n
			} else {
				// RFC 4028 §4: never below 90 seconds.
				p.MinSE, p.MinSESet = max(n, minMinSE), true
			}
		case "enable-timer":
			p.NoTimer = !caller.True(val)
		}
	}
	if sipIP == "" {
		return nil, fmt.Errorf("no sip-ip")
	}
	ip, err := netip.ParseAddr(sipIP)
	if err != nil {
		return nil, fmt.Errorf("sip-ip %q is not an IP address", sipIP)
	}
	p.SIPIP = ip.Unmap()
	if !isLocalAddr(p.SIPIP) {
		return nil, fmt.Errorf("sip-ip %s is not an address of this machine", p.SIPIP)
	}
	p.RTPIP = p.SIPIP
	if rtpIP != "" {
		a, err := netip.ParseAddr(rtpIP)
		if err != nil {
			return nil, fmt.Errorf("rtp-ip %q is not an IP address", rtpIP)
		}
		p.RTPIP = a.Unmap()
		if !isLocalAddr(p.RTPIP) {
			return nil, fmt.Errorf("rtp-ip %s is not an address of this machine", p.RTPIP)
		}
	}
	if p.InboundCodecs == nil {
		p.InboundCodecs = []media.Codec{media.PCMU, media.PCMA}
	}
	if p.OutboundCodecs == nil {
		p.OutboundCodecs = p.InboundCodecs
	}
	if p.RTPHoldTimeout == 0 && p.RTPTimeout > 0 {
		p.RTPHoldTimeout = 10 * p.RTPTimeout
	}
	return p, nil
}

// extIP reads ext-sip-ip / ext-rtp-ip. Only literal addresses are used:
// auto, auto-nat, stun: and host: forms would need a network lookup.
func extIP(v string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(v)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// codecPrefs reads "PCMU,PCMA@8000h@20i,G722": the names we can code, in
// order, each once. Others are skipped with a note; none usable falls
// back to PCMU,PCMA.
func codecPrefs(v, profile string, log *slog.Logger) []media.Codec {
	var out []media.Codec
	seen := map[string]bool{}
	for _, item := range strings.Split(v, ",") {
		name, _, _ := strings.Cut(strings.TrimSpace(item), "@")
		if name == "" {
			continue
		}
		c, ok := media.CodecByName(name)
		if !ok {
			log.Debug("sip: codec not supported, skipped", "profile", profile, "codec", name)
			continue
		}
		if !seen[c.Name] {
			seen[c.Name] = true
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		log.Warn("sip: no supported codec in the codec preferences; using PCMU,PCMA", "profile", profile, "value", v)
		out = []media.Codec{media.PCMU, media.PCMA}
	}
	return out
}

// isLocalAddr reports whether a is unspecified (every address) or an
// address of one of this machine's interfaces.
func isLocalAddr(a netip.Addr) bool {
	if a.IsUnspecified() || a.IsLoopback() {
		return true
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, x := range addrs {
		if ipn, ok := x.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(ipn.IP); ok && ip.Unmap() == a {
				return true
			}
		}
	}
	return false
}
