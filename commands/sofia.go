package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The sofia command family (mod_sofia): `sofia status`, `sofia xmlstatus`,
// `sofia profile <name> killgw|startgw|rescan|register|unregister|gwlist`
// and `sofia_gateway_data`. The status tables keep FreeSWITCH's layout
// (printf widths, tabs, the '=' rules), since tools parse them.

func init() {
	Register(Command{Name: "sofia", Usage: "<cmd> <args>", Description: "Sofia Controls", Module: "mod_sofia", Run: sofia})
	Register(Command{Name: "sofia_gateway_data", Usage: "<gateway_name> [ivar|ovar|var] <name>", Description: "Get data from a sofia gateway", Module: "mod_sofia", Run: sofiaGatewayData})
}

// SofiaProfile is a SIP profile as the sofia commands show it.
type SofiaProfile struct {
	Name string
	// URL is sip:mod_sofia@<ip>:<port>; BindURL adds the transports.
	URL, BindURL string
	// Running is true while the profile listens.
	Running bool
	// Calls is the number of calls on the profile (FreeSWITCH's in-use
	// count in `sofia status`).
	Calls int
	// Registrations is the number of registered contacts.
	Registrations int
	Dialplan      string
	Context       string
	// ChallengeRealm is challenge-realm ("" shows as auto_to).
	ChallengeRealm  string
	SIPIP, ExtSIPIP string // ExtSIPIP "" when unset
	RTPIP, ExtRTPIP string // ExtRTPIP "" when unset
	CodecsIn        string // comma-separated codec names
	CodecsOut       string
	TelEvent        int    // rfc2833-pt
	DTMFMode        string // rfc2833, info or none
	Gateways        []SofiaGateway
}

// SofiaGateway is a gateway as the sofia commands show it, under
// FreeSWITCH's field names.
type SofiaGateway struct {
	Name, Profile string
	Scheme        string
	Realm         string
	Username      string
	Password      bool   // whether it has one
	From          string // <sip:from-user@from-domain>
	Contact       string
	Exten         string
	To            string // sip:username@proxy, the Data column
	Proxy         string // sip:proxy
	Context       string
	Expires       string
	Freq          int
	PingAt        int64 // Unix time of the next ping; 0 without pings
	PingFreq      int
	PingTime      float64 // milliseconds
	PingMin       int
	PingCount     int
	PingMax       int
	Pinging       bool
	State         string // UNREGED, TRYING, REGISTER, REGED, FAILED, FAIL_WAIT, NOREG, DOWN, ...
	Up            bool
	Uptime        time.Duration
	// Retry is the time left until the next registration attempt (or
	// until the attempt in flight is given up); negative once passed.
	// It is shown in TRYING, FAILED and FAIL_WAIT.
	Retry                         time.Duration
	CallsIn, CallsOut             uint64
	FailedCallsIn, FailedCallsOut uint64
	// InboundVariables and OutboundVariables are the gateway's
	// <variables> by direction (sofia_gateway_data ivar/ovar).
	InboundVariables, OutboundVariables [][2]string
}

// Sofia is the optional interface of an Env with a SIP endpoint: the sofia
// commands read and drive its profiles and gateways through it.
type Sofia interface {
	// SofiaProfiles returns the profiles in configuration order, each
	// with its running gateways.
	SofiaProfiles() []SofiaProfile
	// SofiaKillGateway stops a gateway (a registered one unregisters);
	// "_all_" stops every gateway of the profile.
	SofiaKillGateway(profile, gateway string) error
	// SofiaStartGateway starts a gateway of the configuration in force
	// that is not running ("_all_": every such gateway of the profile)
	// and returns the names started.
	SofiaStartGateway(profile, gateway string) ([]string, error)
	// SofiaRescan starts the profile's configured gateways that are not
	// running and returns their names.
	SofiaRescan(profile string) ([]string, error)
	// SofiaRegister registers (or, with register false, unregisters) a
	// gateway now; "all" does it for every registering gateway of the
	// profile.
	SofiaRegister(profile, gateway string, register bool) error
}

// Errors a Sofia implementation returns.
var (
	ErrSofiaNoProfile     = errors.New("no such profile")
	ErrSofiaNoGateway     = errors.New("no such gateway")
	ErrSofiaNoRegister    = errors.New("the gateway does not register")
	ErrSofiaNotConfigured = errors.New("no such gateway in the configuration")
)

// sofiaLine is the rule under and over FreeSWITCH's sofia tables.
const sofiaLine = "================================================================================================="

const sofiaUsage = `USAGE:
--------------------------------------------------------------------------------
sofia profile <name> rescan
                     [register | unregister] [<gateway name> | all]
                     killgw <gateway name> | _all_
                     startgw <gateway name> | _all_
                     gwlist [up | down]

sofia <status|xmlstatus> profile <name> [reg [<contact str>]] | [user <user@domain>]
sofia <status|xmlstatus> gateway [<name>]

sofia help
--------------------------------------------------------------------------------
`

// sofia is the `sofia` command.
func sofia(ctx context.Context, env Env, args string) (string, error) {
	argv := strings.Fields(args)
	if len(argv) == 0 || strings.EqualFold(argv[0], "help") {
		return sofiaUsage, nil
	}
	s, ok := env.(Sofia)
	if !ok {
		return needs("sofia"), nil
	}
	switch strings.ToLower(argv[0]) {
	case "status":
		return sofiaStatus(env, s, argv[1:]), nil
	case "xmlstatus":
		return sofiaXMLStatus(env, s, argv[1:]), nil
	case "profile":
		return sofiaProfile(ctx, env, s, argv[1:]), nil
	case "global", "loglevel", "tracelevel", "recover", "jsonstatus":
		return "-ERR sofia " + strings.ToLower(argv[0]) + " is not supported\n", nil
	}
	return "Unknown Command [" + argv[0] + "]\n", nil
}

// findProfile returns the profile called name (ignoring case).
func findProfile(list []SofiaProfile, name string) (*SofiaProfile, bool) {
	for i := range list {
		if strings.EqualFold(list[i].Name, name) {
			return &list[i], true
		}
	}
	return nil, false
}

// findGateway returns the gateway called name or profile::name.
func findGateway(list []SofiaProfile, name string) (*SofiaGateway, bool) {
	prof, gw, scoped := strings.Cut(name, "::")
	if !scoped {
		gw = name
	}
	for i := range list {
		if scoped && !strings.EqualFold(list[i].Name, prof) {
			continue
		}
		for j := range list[i].Gateways {
			if strings.EqualFold(list[i].Gateways[j].Name, gw) {
				return &list[i].Gateways[j], true
			}
		}
	}
	return nil, false
}

// retrySuffix is " (retry: Ns)" for a gateway waiting to register again.
func retrySuffix(g *SofiaGateway) string {
	switch g.State {
	case "FAILED", "FAIL_WAIT", "TRYING":
	default:
		return ""
	}
	if g.Retry < 0 {
		return " (retry: NEVER)"
	}
	return fmt.Sprintf(" (retry: %ds)", int64(g.Retry/time.Second))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// sofiaStatus is `sofia status [profile <name> [reg|user ...] | gateway
// [<name>]]`.
func sofiaStatus(env Env, s Sofia, argv []string) string {
	profiles := s.SofiaProfiles()
	var b strings.Builder
	switch {
	case len(argv) == 0:
		fmt.Fprintf(&b, "%25s\t%s\t  %40s\t%s\n", "Name", "   Type", "Data", "State")
		b.WriteString(sofiaLine + "\n")
		n := 0
		for i := range profiles {
			p := &profiles[i]
			if !p.Running {
				continue
			}
			n++
			fmt.Fprintf(&b, "%25s\t%s\t  %40s\t%s (%d)\n", p.Name, "profile", p.URL, "RUNNING", p.Calls)
			for j := range p.Gateways {
				g := &p.Gateways[j]
				fmt.Fprintf(&b, "%25s\t%s\t  %40s\t%s%s\n", p.Name+"::"+g.Name, "gateway", g.To, g.State, retrySuffix(g))
			}
		}
		b.WriteString(sofiaLine + "\n")
		fmt.Fprintf(&b, "%d profile%s %d alias%s\n", n, plural(n, "", "s"), 0, "es")
	case len(argv) == 1:
		// One word (FreeSWITCH does not look at it): every gateway.
		fmt.Fprintf(&b, "%25s\t%32s\t%s\t%9s\t%s\t%s\n", "Profile::Gateway-Name", "    Data    ", "State", "Ping Time", "IB Calls(F/T)", "OB Calls(F/T)")
		b.WriteString(sofiaLine + "\n")
		var n int
		var ibF, ib, obF, ob uint64
		for i := range profiles {
			if !profiles[i].Running {
				continue
			}
			for j := range profiles[i].Gateways {
				g := &profiles[i].Gateways[j]
				n++
				ibF, ib, obF, ob = ibF+g.FailedCallsIn, ib+g.CallsIn, obF+g.FailedCallsOut, ob+g.CallsOut
				fmt.Fprintf(&b, "%25s\t%32s\t%s\t%6.2f\t%d/%d\t%d/%d%s\n", profiles[i].Name+"::"+g.Name, g.To, g.State, g.PingTime,
					g.FailedCallsIn, g.CallsIn, g.FailedCallsOut, g.CallsOut, retrySuffix(g))
			}
		}
		b.WriteString(sofiaLine + "\n")
		fmt.Fprintf(&b, "%d gateway%s: Inbound(Failed/Total): %d/%d,Outbound(Failed/Total):%d/%d\n", n, plural(n, "", "s"), ibF, ib, obF, ob)
	case strings.EqualFold(argv[0], "gateway"):
		g, ok := findGateway(profiles, argv[1])
		if !ok {
			return "Invalid Gateway!\n"
		}
		writeGatewayStatus(&b, g)
	case strings.EqualFold(argv[0], "profile"):
		p, ok := findProfile(profiles, argv[1])
		if !ok {
			return "Invalid Profile!\n"
		}
		sub := ""
		if len(argv) > 2 {
			sub = strings.ToLower(argv[2])
		}
		if sub != "reg" && sub != "user" {
			writeProfileStatus(&b, argv[1], p)
		}
		if regs, ok := profileRegistrations(env, p.Name, argv[2:]); ok {
			b.WriteString("\nRegistrations:\n" + sofiaLine + "\n")
			for _, r := range regs {
				writeRegistration(&b, env, r)
			}
			fmt.Fprintf(&b, "Total items returned: %d\n", len(regs))
			b.WriteString(sofiaLine + "\n")
		}
	default:
		return "Invalid Syntax!\n"
	}
	return b.String()
}

// writeGatewayStatus writes `sofia status gateway <name>`.
func writeGatewayStatus(b *strings.Builder, g *SofiaGateway) {
	yes := "no"
	if g.Password {
		yes = "yes"
	}
	status := upDown(g.Up)
	if g.Pinging {
		status += " (ping)"
	}
	uptime := int64(0)
	if g.Up {
		uptime = int64(g.Uptime / time.Second)
	}
	b.WriteString(sofiaLine + "\n")
	fmt.Fprintf(b, "Name    \t%s\n", g.Name)
	fmt.Fprintf(b, "Profile \t%s\n", g.Profile)
	fmt.Fprintf(b, "Scheme  \t%s\n", g.Scheme)
	fmt.Fprintf(b, "Realm   \t%s\n", g.Realm)
	fmt.Fprintf(b, "Username\t%s\n", g.Username)
	fmt.Fprintf(b, "Password\t%s\n", yes)
	fmt.Fprintf(b, "From    \t%s\n", g.From)
	fmt.Fprintf(b, "Contact \t%s\n", g.Contact)
	fmt.Fprintf(b, "Exten   \t%s\n", g.Exten)
	fmt.Fprintf(b, "To      \t%s\n", g.To)
	fmt.Fprintf(b, "Proxy   \t%s\n", g.Proxy)
	fmt.Fprintf(b, "Context \t%s\n", g.Context)
	fmt.Fprintf(b, "Expires \t%s\n", g.Expires)
	fmt.Fprintf(b, "Freq    \t%d\n", g.Freq)
	fmt.Fprintf(b, "Ping    \t%d\n", g.PingAt)
	fmt.Fprintf(b, "PingFreq\t%d\n", g.PingFreq)
	fmt.Fprintf(b, "PingTime\t%0.2f\n", g.PingTime)
	fmt.Fprintf(b, "PingState\t%d/%d/%d\n", g.PingMin, g.PingCount, g.PingMax)
	fmt.Fprintf(b, "State   \t%s\n", g.State)
	fmt.Fprintf(b, "Status  \t%s\n", status)
	fmt.Fprintf(b, "Uptime  \t%ds\n", uptime)
	fmt.Fprintf(b, "CallsIN \t%d\n", g.CallsIn)
	fmt.Fprintf(b, "CallsOUT\t%d\n", g.CallsOut)
	fmt.Fprintf(b, "FailedCallsIN\t%d\n", g.FailedCallsIn)
	fmt.Fprintf(b, "FailedCallsOUT\t%d\n", g.FailedCallsOut)
	b.WriteString(sofiaLine + "\n")
}

func upDown(up bool) string {
	if up {
		return "UP"
	}
	return "DOWN"
}

// challengeRealm is how a profile's challenge-realm is shown.
func challengeRealm(p *SofiaProfile) string {
	if p.ChallengeRealm == "" {
		return "auto_to"
	}
	return p.ChallengeRealm
}

// writeProfileStatus writes `sofia status profile <name>`: the fields of
// FreeSWITCH's listing that Switchboard has, under its names.
func writeProfileStatus(b *strings.Builder, asked string, p *SofiaProfile) {
	b.WriteString(sofiaLine + "\n")
	fmt.Fprintf(b, "Name             \t%s\n", asked)
	fmt.Fprintf(b, "Domain Name      \t%s\n", "N/A")
	fmt.Fprintf(b, "Auto-NAT         \t%s\n", "false")
	fmt.Fprintf(b, "Dialplan         \t%s\n", p.Dialplan)
	fmt.Fprintf(b, "Context          \t%s\n", p.Context)
	fmt.Fprintf(b, "Challenge Realm  \t%s\n", challengeRealm(p))
	fmt.Fprintf(b, "RTP-IP           \t%s\n", p.RTPIP)
	if p.ExtRTPIP != "" {
		fmt.Fprintf(b, "Ext-RTP-IP       \t%s\n", p.ExtRTPIP)
	}
	fmt.Fprintf(b, "SIP-IP           \t%s\n", p.SIPIP)
	if p.ExtSIPIP != "" {
		fmt.Fprintf(b, "Ext-SIP-IP       \t%s\n", p.ExtSIPIP)
	}
	fmt.Fprintf(b, "URL              \t%s\n", p.URL)
	fmt.Fprintf(b, "BIND-URL         \t%s\n", p.BindURL)
	fmt.Fprintf(b, "OUTBOUND-PROXY   \t%s\n", "N/A")
	fmt.Fprintf(b, "CODECS IN        \t%s\n", p.CodecsIn)
	fmt.Fprintf(b, "CODECS OUT       \t%s\n", p.CodecsOut)
	fmt.Fprintf(b, "TEL-EVENT        \t%d\n", p.TelEvent)
	fmt.Fprintf(b, "DTMF-MODE        \t%s\n", p.DTMFMode)
	fmt.Fprintf(b, "NOMEDIA          \t%s\n", "false")
	fmt.Fprintf(b, "LATE-NEG         \t%s\n", "false")
	fmt.Fprintf(b, "PROXY-MEDIA      \t%s\n", "false")
	fmt.Fprintf(b, "AGGRESSIVENAT    \t%s\n", "false")
	fmt.Fprintf(b, "REGISTRATIONS    \t%d\n", p.Registrations)
}

// profileRegistrations returns the registrations `sofia status profile
// <name> reg [<contact str>]` or `... user <user@domain>` lists; ok is
// false when sub asks for none.
func profileRegistrations(env Env, profile string, sub []string) ([]Registration, bool) {
	if len(sub) == 0 {
		return nil, false
	}
	kind := strings.ToLower(sub[0])
	if kind != "reg" && !(kind == "user" && len(sub) > 1) {
		return nil, false
	}
	var all []Registration
	if r, ok := env.(Registrations); ok {
		all = r.Registrations()
	}
	var out []Registration
	for _, reg := range all {
		if !strings.EqualFold(reg.Profile, profile) {
			continue
		}
		switch {
		case kind == "reg" && len(sub) > 1:
			if !strings.Contains(reg.URL, sub[1]) {
				continue
			}
		case kind == "user":
			user, host, found := strings.Cut(sub[1], "@")
			if !found {
				user, host = "", sub[1]
			}
			if (user != "" && !strings.EqualFold(reg.User, user)) || (host != "" && !strings.EqualFold(reg.Realm, host)) {
				continue
			}
		}
		out = append(out, reg)
	}
	return out, true
}

// registrationStatus is the Status column of a registration.
func registrationStatus(env Env, r Registration) (status string, exp string, secs int64) {
	status = "Registered(" + strings.ToUpper(r.Transport) + ")(unknown)"
	exp = r.Expires.In(now(env).Location()).Format("2006-01-02 15:04:05")
	secs = int64(r.Expires.Sub(now(env)) / time.Second)
	return status, exp, secs
}

// writeRegistration writes one registration of `sofia status profile
// <name> reg`.
func writeRegistration(b *strings.Builder, env Env, r Registration) {
	status, exp, secs := registrationStatus(env, r)
	fmt.Fprintf(b, "Call-ID:    \t%s\n", r.Token)
	fmt.Fprintf(b, "User:       \t%s@%s\n", r.User, r.Realm)
	fmt.Fprintf(b, "Contact:    \t%s\n", r.URL)
	fmt.Fprintf(b, "Agent:      \t%s\n", r.UserAgent)
	fmt.Fprintf(b, "Status:     \t%s EXP(%s) EXPSECS(%d)\n", status, exp, secs)
	fmt.Fprintf(b, "Ping-Status:\t%s\n", "Reachable")
	fmt.Fprintf(b, "Ping-Time:\t%0.2f\n", 0.0)
	fmt.Fprintf(b, "Host:       \t%s\n", switchName(env))
	fmt.Fprintf(b, "IP:         \t%s\n", r.NetworkIP)
	fmt.Fprintf(b, "Port:       \t%d\n", r.NetworkPort)
	fmt.Fprintf(b, "Auth-User:  \t%s\n", r.User)
	fmt.Fprintf(b, "Auth-Realm: \t%s\n", r.Realm)
	fmt.Fprintf(b, "MWI-Account:\t%s@%s\n\n", r.User, r.Realm)
}

const xmlHeader = `<?xml version="1.0" encoding="ISO-8859-1"?>`

// xmlText escapes s for XML character data.
func xmlText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace(s)
}

// sofiaXMLStatus is `sofia xmlstatus [profile <name> [reg ...] | gateway
// [<name>]]`.
func sofiaXMLStatus(env Env, s Sofia, argv []string) string {
	profiles := s.SofiaProfiles()
	var b strings.Builder
	switch {
	case len(argv) == 0:
		b.WriteString(xmlHeader + "\n<profiles>\n")
		for i := range profiles {
			p := &profiles[i]
			if !p.Running {
				continue
			}
			fmt.Fprintf(&b, "<profile>\n<name>%s</name>\n<type>%s</type>\n<data>%s</data>\n<state>%s (%d)</state>\n</profile>\n",
				xmlText(p.Name), "profile", xmlText(p.URL), "RUNNING", p.Calls)
			for j := range p.Gateways {
				g := &p.Gateways[j]
				// FreeSWITCH writes the retry time after </gateway>,
				// outside any element; it is left out here so the
				// document stays well-formed.
				fmt.Fprintf(&b, "<gateway>\n<name>%s</name>\n<type>%s</type>\n<data>%s</data>\n<state>%s</state>\n</gateway>\n\n",
					xmlText(g.Name), "gateway", xmlText(g.To), g.State)
			}
		}
		b.WriteString("</profiles>\n")
	case len(argv) == 1:
		b.WriteString(xmlHeader + "\n<gateways>\n")
		for i := range profiles {
			if !profiles[i].Running {
				continue
			}
			for j := range profiles[i].Gateways {
				writeGatewayXML(&b, &profiles[i].Gateways[j])
			}
		}
		b.WriteString("</gateways>\n")
	case strings.EqualFold(argv[0], "gateway"):
		g, ok := findGateway(profiles, argv[1])
		if !ok {
			return "Invalid Gateway!\n"
		}
		b.WriteString(xmlHeader + "\n")
		writeGatewayXML(&b, g)
	case strings.EqualFold(argv[0], "profile"):
		p, ok := findProfile(profiles, argv[1])
		if !ok {
			return "Invalid Profile!\n"
		}
		b.WriteString(xmlHeader + "\n<profile>\n")
		sub := ""
		if len(argv) > 2 {
			sub = strings.ToLower(argv[2])
		}
		if sub != "reg" && sub != "user" {
			writeProfileXML(&b, argv[1], p)
		}
		if regs, ok := profileRegistrations(env, p.Name, argv[2:]); ok {
			b.WriteString("  <registrations>\n")
			for _, r := range regs {
				writeRegistrationXML(&b, env, r)
			}
			b.WriteString("  </registrations>\n")
		}
		b.WriteString("</profile>\n")
	default:
		return "Invalid Syntax!\n"
	}
	return b.String()
}

func writeGatewayXML(b *strings.Builder, g *SofiaGateway) {
	yes := "no"
	if g.Password {
		yes = "yes"
	}
	pinging := 0
	if g.Pinging {
		pinging = 1
	}
	uptime := int64(0)
	if g.Up {
		uptime = g.Uptime.Microseconds()
	}
	b.WriteString("  <gateway>\n")
	fmt.Fprintf(b, "    <name>%s</name>\n", xmlText(g.Name))
	fmt.Fprintf(b, "    <profile>%s</profile>\n", xmlText(g.Profile))
	fmt.Fprintf(b, "    <scheme>%s</scheme>\n", xmlText(g.Scheme))
	fmt.Fprintf(b, "    <realm>%s</realm>\n", xmlText(g.Realm))
	fmt.Fprintf(b, "    <username>%s</username>\n", xmlText(g.Username))
	fmt.Fprintf(b, "    <password>%s</password>\n", yes)
	fmt.Fprintf(b, "    <from>%s</from>\n", xmlText(g.From))
	fmt.Fprintf(b, "    <contact>%s</contact>\n", xmlText(g.Contact))
	fmt.Fprintf(b, "    <exten>%s</exten>\n", xmlText(g.Exten))
	fmt.Fprintf(b, "    <to>%s</to>\n", xmlText(g.To))
	fmt.Fprintf(b, "    <proxy>%s</proxy>\n", xmlText(g.Proxy))
	fmt.Fprintf(b, "    <context>%s</context>\n", xmlText(g.Context))
	fmt.Fprintf(b, "    <expires>%s</expires>\n", xmlText(g.Expires))
	fmt.Fprintf(b, "    <freq>%d</freq>\n", g.Freq)
	fmt.Fprintf(b, "    <ping>%d</ping>\n", g.PingAt)
	fmt.Fprintf(b, "    <pingfreq>%d</pingfreq>\n", g.PingFreq)
	fmt.Fprintf(b, "    <pingmin>%d</pingmin>\n", g.PingMin)
	fmt.Fprintf(b, "    <pingcount>%d</pingcount>\n", g.PingCount)
	fmt.Fprintf(b, "    <pingmax>%d</pingmax>\n", g.PingMax)
	fmt.Fprintf(b, "    <pingtime>%0.2f</pingtime>\n", g.PingTime)
	fmt.Fprintf(b, "    <pinging>%d</pinging>\n", pinging)
	fmt.Fprintf(b, "    <state>%s</state>\n", g.State)
	fmt.Fprintf(b, "    <status>%s</status>\n", upDown(g.Up))
	fmt.Fprintf(b, "    <uptime-usec>%d</uptime-usec>\n", uptime)
	fmt.Fprintf(b, "    <calls-in>%d</calls-in>\n", g.CallsIn)
	fmt.Fprintf(b, "    <calls-out>%d</calls-out>\n", g.CallsOut)
	fmt.Fprintf(b, "    <failed-calls-in>%d</failed-calls-in>\n", g.FailedCallsIn)
	fmt.Fprintf(b, "    <failed-calls-out>%d</failed-calls-out>\n", g.FailedCallsOut)
	if s := retrySuffix(g); s != "" {
		v := strings.TrimSuffix(strings.TrimPrefix(s, " (retry: "), ")")
		fmt.Fprintf(b, "    <retry>%s</retry>\n", v)
	}
	b.WriteString("  </gateway>\n")
}

func writeProfileXML(b *strings.Builder, asked string, p *SofiaProfile) {
	b.WriteString("  <profile-info>\n")
	fmt.Fprintf(b, "    <name>%s</name>\n", xmlText(asked))
	fmt.Fprintf(b, "    <domain-name>%s</domain-name>\n", "N/A")
	fmt.Fprintf(b, "    <auto-nat>%s</auto-nat>\n", "false")
	fmt.Fprintf(b, "    <dialplan>%s</dialplan>\n", xmlText(p.Dialplan))
	fmt.Fprintf(b, "    <context>%s</context>\n", xmlText(p.Context))
	fmt.Fprintf(b, "    <challenge-realm>%s</challenge-realm>\n", xmlText(challengeRealm(p)))
	fmt.Fprintf(b, "    <rtp-ip>%s</rtp-ip>\n", p.RTPIP)
	if p.ExtRTPIP != "" {
		fmt.Fprintf(b, "    <ext-rtp-ip>%s</ext-rtp-ip>\n", p.ExtRTPIP)
	}
	fmt.Fprintf(b, "    <sip-ip>%s</sip-ip>\n", p.SIPIP)
	if p.ExtSIPIP != "" {
		fmt.Fprintf(b, "    <ext-sip-ip>%s</ext-sip-ip>\n", p.ExtSIPIP)
	}
	fmt.Fprintf(b, "    <url>%s</url>\n", xmlText(p.URL))
	fmt.Fprintf(b, "    <bind-url>%s</bind-url>\n", xmlText(p.BindURL))
	fmt.Fprintf(b, "    <outbound-proxy>%s</outbound-proxy>\n", "N/A")
	fmt.Fprintf(b, "    <inbound-codecs>%s</inbound-codecs>\n", xmlText(p.CodecsIn))
	fmt.Fprintf(b, "    <outbound-codecs>%s</outbound-codecs>\n", xmlText(p.CodecsOut))
	fmt.Fprintf(b, "    <tel-event>%d</tel-event>\n", p.TelEvent)
	fmt.Fprintf(b, "    <dtmf-mode>%s</dtmf-mode>\n", p.DTMFMode)
	fmt.Fprintf(b, "    <nomedia>%s</nomedia>\n", "false")
	fmt.Fprintf(b, "    <late-neg>%s</late-neg>\n", "false")
	fmt.Fprintf(b, "    <proxy-media>%s</proxy-media>\n", "false")
	fmt.Fprintf(b, "    <aggressive-nat>%s</aggressive-nat>\n", "false")
	fmt.Fprintf(b, "    <registrations>%d</registrations>\n", p.Registrations)
	b.WriteString("  </profile-info>\n")
}

func writeRegistrationXML(b *strings.Builder, env Env, r Registration) {
	status, exp, secs := registrationStatus(env, r)
	b.WriteString("    <registration>\n")
	fmt.Fprintf(b, "        <call-id>%s</call-id>\n", xmlText(r.Token))
	fmt.Fprintf(b, "        <user>%s@%s</user>\n", xmlText(r.User), xmlText(r.Realm))
	fmt.Fprintf(b, "        <contact>%s</contact>\n", xmlText(r.URL))
	fmt.Fprintf(b, "        <agent>%s</agent>\n", xmlText(r.UserAgent))
	fmt.Fprintf(b, "        <status>%s exp(%s) expsecs(%d)</status>\n", xmlText(status), exp, secs)
	fmt.Fprintf(b, "        <ping-status>%s</ping-status>\n", "Reachable")
	fmt.Fprintf(b, "        <ping-time>%0.2f</ping-time>\n", 0.0)
	fmt.Fprintf(b, "        <host>%s</host>\n", xmlText(switchName(env)))
	fmt.Fprintf(b, "        <network-ip>%s</network-ip>\n", r.NetworkIP)
	fmt.Fprintf(b, "        <network-port>%d</network-port>\n", r.NetworkPort)
	fmt.Fprintf(b, "        <sip-auth-user>%s</sip-auth-user>\n", xmlText(r.User))
	fmt.Fprintf(b, "        <sip-auth-realm>%s</sip-auth-realm>\n", xmlText(r.Realm))
	fmt.Fprintf(b, "        <mwi-account>%s@%s</mwi-account>\n", xmlText(r.User), xmlText(r.Realm))
	b.WriteString("    </registration>\n")
}

// reloadLine reloads the configuration first, as FreeSWITCH's rescan and
// startgw do, and returns their "Reload XML [...]" line ("" when env
// cannot reload). A refused configuration leaves the one in force.
func reloadLine(ctx context.Context, env Env) string {
	r, ok := env.(Reloader)
	if !ok {
		return ""
	}
	if _, err := r.Reload(ctx); err != nil {
		return "Reload XML [" + strings.TrimRight(err.Error(), "\n") + "]\n"
	}
	return "Reload XML [Success]\n"
}

// sofiaProfile is `sofia profile <name> <command> [args]`.
func sofiaProfile(ctx context.Context, env Env, s Sofia, argv []string) string {
	if len(argv) < 2 {
		return "Invalid Args!\n"
	}
	name, cmd := argv[0], strings.ToLower(argv[1])
	arg := ""
	if len(argv) > 2 {
		arg = argv[2]
	}
	switch {
	case cmd == "start" || (strings.EqualFold(name, "restart") && strings.EqualFold(argv[1], "all")):
		return "-ERR profiles start and stop with switchboard; restart it to add or restart one\n"
	}
	p, ok := findProfile(s.SofiaProfiles(), name)
	if !ok {
		return "Invalid Profile [" + name + "]"
	}
	switch cmd {
	case "killgw":
		if arg == "" {
			return "-ERR missing gw name\n"
		}
		err := s.SofiaKillGateway(p.Name, arg)
		switch {
		case err == nil && arg == "_all_":
			return "+OK every gateway marked for deletion.\n"
		case err == nil:
			return "+OK gateway marked for deletion.\n"
		case errors.Is(err, ErrSofiaNoGateway):
			return "-ERR no such gateway.\n"
		}
		return "-ERR " + err.Error() + "\n"
	case "startgw":
		if arg == "" {
			return "-ERR missing gw name\n"
		}
		out := reloadLine(ctx, env)
		if _, err := s.SofiaStartGateway(p.Name, arg); err != nil {
			return out + fmt.Sprintf("-ERR cannot add gateway %s for profile %s\n", arg, p.Name)
		}
		return out + fmt.Sprintf("+OK start gateway %s complete\n", arg)
	case "rescan":
		out := reloadLine(ctx, env)
		if _, err := s.SofiaRescan(p.Name); err != nil {
			return out + fmt.Sprintf("-ERR cannot find config for profile %s\n", p.Name)
		}
		return out + "+OK scan complete\n"
	case "register", "unregister":
		if arg == "" {
			return "No gateway name provided!\n"
		}
		err := s.SofiaRegister(p.Name, arg, cmd == "register")
		switch {
		case err == nil:
			return "+OK\n"
		case errors.Is(err, ErrSofiaNoRegister):
			return fmt.Sprintf("-ERR NOREG gateway [%s] can't be %sed!\n", arg, cmd)
		case errors.Is(err, ErrSofiaNoGateway):
			return "Invalid gateway!\n"
		}
		return "-ERR " + err.Error() + "\n"
	case "gwlist":
		up := !strings.EqualFold(arg, "down")
		var b strings.Builder
		for _, g := range p.Gateways {
			if g.Up == up {
				b.WriteString(g.Name + " ")
			}
		}
		return b.String()
	case "stop", "restart", "flush_inbound_reg", "check_sync", "recover", "siptrace", "capture", "watchdog",
		"stun-auto-disable", "stun-enabled":
		return "-ERR sofia profile " + cmd + " is not supported\n"
	}
	return "-ERR Unknown command!\n"
}

// sofiaGatewayData is `sofia_gateway_data <gateway> [ivar|ovar|var]
// <name>`: the value of one of the gateway's <variables> (inbound,
// outbound, or either), or "".
func sofiaGatewayData(_ context.Context, env Env, args string) (string, error) {
	if strings.TrimSpace(args) == "" {
		return "-ERR Parameter missing\n", nil
	}
	f := strings.Fields(args)
	s, ok := env.(Sofia)
	if len(f) < 3 || !ok {
		return "", nil
	}
	g, found := findGateway(s.SofiaProfiles(), f[0])
	if !found {
		return "", nil
	}
	get := func(list [][2]string) (string, bool) {
		for _, kv := range list {
			if kv[0] == f[2] {
				return kv[1], true
			}
		}
		return "", false
	}
	switch strings.ToLower(f[1]) {
	case "ivar":
		v, _ := get(g.InboundVariables)
		return v, nil
	case "ovar":
		v, _ := get(g.OutboundVariables)
		return v, nil
	case "var":
		if v, ok := get(g.InboundVariables); ok {
			return v, nil
		}
		v, _ := get(g.OutboundVariables)
		return v, nil
	}
	return "", nil
}
