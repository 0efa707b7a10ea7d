package sip

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/vars"
)

// cleanField makes a value from the wire safe for a caller-profile field,
// as FreeSWITCH's profile_dup_clean does: control characters other than
// CR and LF become spaces, and the '$' of every ${ becomes '%', so the
// value can never be expanded as a variable reference.
func cleanField(s string) string {
	if !needsClean(s) {
		return s
	}
	b := []byte(s)
	dollar := -1
	for i, c := range b {
		switch {
		case c < 32 && c != '\n' && c != '\r':
			b[i] = ' '
			dollar = -1
		case c == '$':
			dollar = i
		case dollar >= 0 && c == '{':
			b[dollar] = '%'
			dollar = -1
		case c != '\\':
			dollar = -1
		}
	}
	return string(b)
}

func needsClean(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 32 || c == '$' {
			return true
		}
	}
	return false
}

// varList collects channel variables in order. Values from the wire that
// hold a ${...} reference are refused (not stored), as FreeSWITCH refuses
// them in switch_channel_set_variable; the refused names are kept for the
// log.
type varList struct {
	vars    [][2]string
	index   map[string]int // lower-case name → position
	refused []string
}

func newVarList() *varList { return &varList{index: make(map[string]int)} }

// set stores name=value, replacing an earlier value of the same name. An
// empty value is not stored (FreeSWITCH unsets instead).
func (l *varList) set(name, value string) {
	if value == "" {
		return
	}
	if vars.HasReference(value) {
		l.refused = append(l.refused, name)
		return
	}
	k := strings.ToLower(name)
	if i, ok := l.index[k]; ok {
		l.vars[i][1] = value
		return
	}
	l.index[k] = len(l.vars)
	l.vars = append(l.vars, [2]string{name, value})
}

func (l *varList) has(name string) bool {
	_, ok := l.index[strings.ToLower(name)]
	return ok
}

func (l *varList) get(name string) string {
	if i, ok := l.index[strings.ToLower(name)]; ok {
		return l.vars[i][1]
	}
	return ""
}

// decodeUser undoes %XX escapes in a URI user part, as sofia's
// check_decode does; a malformed escape leaves the value as it was.
func decodeUser(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	d, err := url.PathUnescape(s)
	if err != nil {
		return s
	}
	return d
}

// setURIVars sets <prefix>_user, _host, _port, _uri and _params the way
// sofia's url_set_chanvars does ("nobody"/"nowhere" for missing parts)
// and returns the uri value (user@host[:port]).
func setURIVars(l *varList, prefix string, u *sip.Uri) string {
	user, host, port := "", "", ""
	if u != nil {
		user, host = decodeUser(u.User), u.Host
		if u.Port > 0 {
			port = strconv.Itoa(u.Port)
		}
		if u.UriParams.Length() > 0 {
			l.set(prefix+"_params", u.UriParams.ToString(';'))
		}
	}
	if user == "" {
		user = "nobody"
	}
	if host == "" {
		host = "nowhere"
	}
	l.set(prefix+"_user", user)
	l.set(prefix+"_port", port)
	uri := user + "@" + host
	if port != "" {
		uri += ":" + port
	}
	l.set(prefix+"_uri", uri)
	l.set(prefix+"_host", host)
	return uri
}

// callInfo is what an INVITE tells us about a new call: its channel
// variables and caller profile.
type callInfo struct {
	vars    *varList
	profile *caller.Profile
	chanID  string // user@host for the channel name
}

// inviteInfo reads the channel variables and the caller-profile fields of
// an INVITE (sofia_handle_sip_i_invite's names). src is the signalling
// source, transport "udp" or "tcp". Context and dialplan are left for the
// caller to decide.
func inviteInfo(req *sip.Request, profile string, src netip.AddrPort, transport string) *callInfo {
	l := newVarList()
	networkIP := src.Addr().Unmap().String()
	l.set("sip_network_ip", networkIP)
	l.set("sip_network_port", strconv.Itoa(int(src.Port())))
	l.set("sip_received_ip", networkIP)
	l.set("sip_received_port", strconv.Itoa(int(src.Port())))
	l.set("sip_via_protocol", strings.ToLower(transport))
	l.set("sofia_profile_name", profile)
	l.set("recovery_profile_name", profile)

	var fromUser, display string
	chanID := ""
	if from := req.From(); from != nil {
		chanID = setURIVars(l, "sip_from", &from.Address)
		fromUser = decodeUser(from.Address.User)
		if fromUser != "" {
			l.set("sip_from_user_stripped", strings.TrimPrefix(fromUser, "+"))
		}
		l.set("sip_from_display", strings.Trim(from.DisplayName, `"`))
		l.set("sip_full_from", from.Value())
		if tag, ok := from.Params.Get("tag"); ok {
			l.set("sip_from_tag", tag)
		}
		display = strings.Trim(from.DisplayName, `"`)
	}
	setURIVars(l, "sip_req", &req.Recipient)
	if to := req.To(); to != nil {
		setURIVars(l, "sip_to", &to.Address)
		l.set("sip_to_display", strings.Trim(to.DisplayName, `"`))
		l.set("sip_full_to", to.Value())
	}
	if c := req.Contact(); c != nil {
		setURIVars(l, "sip_contact", &c.Address)
	}
	if cid := req.CallID(); cid != nil {
		l.set("sip_call_id", cid.Value())
	}
	if cs := req.CSeq(); cs != nil {
		l.set("sip_cseq", strconv.FormatUint(uint64(cs.SeqNo), 10))
	}
	if via := req.Via(); via != nil {
		l.set("sip_via_host", via.Host)
		if via.Port > 0 {
			l.set("sip_via_port", strconv.Itoa(via.Port))
		}
		if rp, ok := via.Params.Get("rport"); ok && rp != "" {
			l.set("sip_via_rport", rp)
		}
	}
	var vias []string
	for _, h := range req.GetHeaders("Via") {
		vias = append(vias, h.Value())
	}
	l.set("sip_full_via", strings.Join(vias, ","))
	if mf := req.MaxForwards(); mf != nil {
		l.set("max_forwards", strconv.Itoa(int(*mf)))
	}
	if h := req.GetHeader("User-Agent"); h != nil {
		l.set("sip_user_agent", h.Value())
	}
	if h := req.GetHeader("Subject"); h != nil {
		l.set("sip_subject", h.Value())
	}
	if h := req.GetHeader("Allow"); h != nil {
		l.set("sip_allow", h.Value())
	}
	if h := req.GetHeader("Alert-Info"); h != nil {
		l.set("alert_info", h.Value())
	}
	if h := req.GetHeader("Call-Info"); h != nil {
		l.set("sip_call_info", h.Value())
	}

	// Caller id: P-Asserted-Identity, then Remote-Party-ID... sofia lets
	// the later of RPID, PAI and PPI win; From is the fallback.
	cidNumber, cidName := fromUser, display
	for _, pick := range []struct{ header, cidType string }{
		{"Remote-Party-ID", "rpid"},
		{"P-Asserted-Identity", "pid"},
		{"P-Preferred-Identity", "pid"},
	} {
		h := req.GetHeader(pick.header)
		if h == nil {
			continue
		}
		name, user := identity(h.Value())
		if user == "" {
			continue
		}
		cidNumber = user
		if name != "" {
			cidName = name
		}
		l.set("sip_cid_type", pick.cidType)
		switch pick.header {
		case "P-Asserted-Identity":
			l.set("sip_P-Asserted-Identity", user)
		default:
			l.set("sip_"+pick.header, h.Value())
		}
	}
	if cidName == "" {
		cidName = cidNumber
		if cidName == "" {
			cidName = "unknown"
		}
	}
	if name, params, ok := strings.Cut(cidNumber, ";"); ok {
		cidNumber = name
		l.set("sip_name_params", params)
	}

	// Extension headers: X-*, P-*, K-*, On*, User-to-User become sip_h_<Name>;
	// a repeated header becomes <Name>-1, <Name>-2, ...
	for _, h := range req.Headers() {
		n := h.Name()
		if !extensionHeader(n) || strings.EqualFold(n, "P-Asserted-Identity") || strings.EqualFold(n, "P-Preferred-Identity") {
			continue
		}
		v := h.Value()
		if v == "" || !validVarName(n) {
			continue
		}
		for reps := 0; reps < 100; reps++ {
			name := "sip_h_" + n
			if reps > 0 {
				name += "-" + strconv.Itoa(reps)
			}
			if l.has(name) {
				continue
			}
			l.set(name, v)
			break
		}
	}

	dest := decodeUser(req.Recipient.User)
	if dest != "" {
		l.set("sip_req_user", dest)
	}
	if dest == "" {
		if to := req.To(); to != nil {
			dest = decodeUser(to.Address.User)
		}
	}
	if dest == "" {
		dest = fromUser
	}
	if dest == "" {
		dest = "service"
	}
	if strings.Contains(req.Recipient.UriParams.GetOr("intercom", ""), "true") {
		l.set("sip_auto_answer_detected", "true")
	}

	p := &caller.Profile{
		Username:           cleanField(fromUser),
		CallerIDName:       cleanField(cidName),
		CallerIDNumber:     cleanField(cidNumber),
		OrigCallerIDName:   cleanField(cidName),
		OrigCallerIDNumber: cleanField(cidNumber),
		NetworkAddr:        networkIP,
		ANI:                cleanField(fromUser),
		DestinationNumber:  cleanField(dest),
		Source:             "mod_sofia",
	}
	if isup, ok := fromURIParam(req, "isup-oli"); ok {
		p.ANIII = cleanField(isup)
	}
	if chanID == "" {
		chanID = "nobody@nowhere"
	}
	return &callInfo{vars: l, profile: p, chanID: cleanField(chanID)}
}

func fromURIParam(req *sip.Request, name string) (string, bool) {
	if from := req.From(); from != nil {
		return from.Address.UriParams.Get(name)
	}
	return "", false
}

// extensionHeader reports whether sofia copies a header named n into a
// sip_h_ variable.
func extensionHeader(n string) bool {
	if len(n) < 2 {
		return false
	}
	p := strings.ToLower(n[:2])
	return p == "x-" || p == "p-" || p == "k-" || p == "on" || strings.EqualFold(n, "User-to-User")
}

// validVarName keeps header names that make sensible variable names.
func validVarName(n string) bool {
	if len(n) > 128 {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c <= ' ' || c >= 127 || c == '$' || c == '{' || c == '}' || c == '=' {
			return false
		}
	}
	return true
}

// identity reads a name-addr header value such as
// `"Alice" <sip:+15551234@example.com>;party=calling` and returns the
// display name and the URI user (decoded). It is deliberately small: the
// value comes from the wire and anything odd just yields empty strings.
func identity(v string) (name, user string) {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '<'); i >= 0 {
		name = strings.Trim(strings.TrimSpace(v[:i]), `"`)
		rest := v[i+1:]
		j := strings.IndexByte(rest, '>')
		if j < 0 {
			return "", ""
		}
		v = rest[:j]
	} else if i := strings.IndexByte(v, ';'); i >= 0 {
		v = v[:i]
	}
	_, after, ok := strings.Cut(v, ":")
	if !ok {
		return name, ""
	}
	u, _, ok := strings.Cut(after, "@")
	if !ok {
		// tel:+1555 has no host
		u, _, _ = strings.Cut(after, ";")
	}
	u, _, _ = strings.Cut(u, ":") // drop a password
	return name, decodeUser(u)
}
