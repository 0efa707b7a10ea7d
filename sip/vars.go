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

// varList collects a call's channel variables, in order, straight into
// the store the session will use. Values from the wire that hold a ${...}
// reference are refused (not stored), as FreeSWITCH refuses them in
// switch_channel_set_variable; the refused names are kept for the log.
type varList struct {
	st      *vars.Store
	refused []string
	// nums are the last numbers itoa formatted: an INVITE names the
	// same two ports (the caller's and ours) half a dozen times.
	nums [2]struct {
		n int
		s string
	}
	numNext int
}

// itoa is strconv.Itoa, reusing the string of a number formatted lately.
func (l *varList) itoa(n int) string {
	for _, c := range l.nums {
		if c.s != "" && c.n == n {
			return c.s
		}
	}
	s := strconv.Itoa(n)
	l.nums[l.numNext] = struct {
		n int
		s string
	}{n, s}
	l.numNext = (l.numNext + 1) % len(l.nums)
	return s
}

// callVarsHint is about how many variables a call ends with, so that its
// store is sized once: some 55 from a plain INVITE and its media, and
// about as many set by the call core up to the hangup (uuid, the epochs,
// the hangup and CDR timing variables). Headers past the usual dozen add
// to it (sip_h_*, sip_user_agent, ...).
const callVarsHint = 104

func newVarList(size int) *varList { return &varList{st: vars.NewStoreSize(size)} }

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
	l.st.Set(name, value)
}

func (l *varList) has(name string) bool {
	_, ok := l.st.Get(name)
	return ok
}

func (l *varList) get(name string) string {
	v, _ := l.st.Get(name)
	return v
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

// uriVars are the variable names setURIVars sets for one URI.
type uriVars struct{ user, host, port, uri, params string }

func newURIVars(prefix string) uriVars {
	return uriVars{prefix + "_user", prefix + "_host", prefix + "_port", prefix + "_uri", prefix + "_params"}
}

// The URIs of an INVITE that become variables.
var (
	fromURIVars    = newURIVars("sip_from")
	reqURIVars     = newURIVars("sip_req")
	toURIVars      = newURIVars("sip_to")
	contactURIVars = newURIVars("sip_contact")
)

// setURIVars sets <prefix>_user, _host, _port, _uri and _params the way
// sofia's url_set_chanvars does ("nobody"/"nowhere" for missing parts)
// and returns the uri value (user@host[:port]).
func setURIVars(l *varList, names uriVars, u *sip.Uri) string {
	user, host, port := "", "", ""
	if u != nil {
		user, host = decodeUser(u.User), u.Host
		if u.Port > 0 {
			port = l.itoa(u.Port)
		}
		if u.UriParams.Length() > 0 {
			l.set(names.params, u.UriParams.ToString(';'))
		}
	}
	if user == "" {
		user = "nobody"
	}
	if host == "" {
		host = "nowhere"
	}
	l.set(names.user, user)
	l.set(names.port, port)
	var uri string
	if port != "" {
		uri = user + "@" + host + ":" + port
	} else {
		uri = user + "@" + host
	}
	l.set(names.uri, uri)
	l.set(names.host, host)
	return uri
}

// asciiEqualFold reports whether a and b are equal ignoring ASCII case
// (header names are ASCII; sipgo compares them the same way).
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// inviteHeaders are the headers inviteInfo reads, found in one pass over
// the message (sipgo's GetHeader lower-cases and scans on every call).
type inviteHeaders struct {
	userAgent, subject, allow, alertInfo, callInfo sip.Header
	rpid, pai, ppi                                 sip.Header
	fullVia                                        string // every Via value, comma-separated
}

func readInviteHeaders(req *sip.Request) inviteHeaders {
	var ih inviteHeaders
	first := func(dst *sip.Header, h sip.Header) {
		if *dst == nil {
			*dst = h
		}
	}
	var vias []string
	for _, h := range req.Headers() {
		n := h.Name()
		switch {
		case asciiEqualFold(n, "Via"):
			if ih.fullVia == "" && vias == nil {
				ih.fullVia = h.Value()
			} else {
				if vias == nil {
					vias = []string{ih.fullVia}
				}
				vias = append(vias, h.Value())
			}
		case asciiEqualFold(n, "User-Agent"):
			first(&ih.userAgent, h)
		case asciiEqualFold(n, "Subject"):
			first(&ih.subject, h)
		case asciiEqualFold(n, "Allow"):
			first(&ih.allow, h)
		case asciiEqualFold(n, "Alert-Info"):
			first(&ih.alertInfo, h)
		case asciiEqualFold(n, "Call-Info"):
			first(&ih.callInfo, h)
		case asciiEqualFold(n, "Remote-Party-ID"):
			first(&ih.rpid, h)
		case asciiEqualFold(n, "P-Asserted-Identity"):
			first(&ih.pai, h)
		case asciiEqualFold(n, "P-Preferred-Identity"):
			first(&ih.ppi, h)
		}
	}
	if vias != nil {
		ih.fullVia = strings.Join(vias, ",")
	}
	return ih
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
	l := newVarList(callVarsHint + max(0, len(req.Headers())-12))
	ih := readInviteHeaders(req)
	networkIP := src.Addr().Unmap().String()
	networkPort := l.itoa(int(src.Port()))
	l.set("sip_network_ip", networkIP)
	l.set("sip_network_port", networkPort)
	l.set("sip_received_ip", networkIP)
	l.set("sip_received_port", networkPort)
	l.set("sip_via_protocol", strings.ToLower(transport))
	l.set("sofia_profile_name", profile)
	l.set("recovery_profile_name", profile)

	var fromUser, display string
	chanID := ""
	if from := req.From(); from != nil {
		chanID = setURIVars(l, fromURIVars, &from.Address)
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
	setURIVars(l, reqURIVars, &req.Recipient)
	if to := req.To(); to != nil {
		setURIVars(l, toURIVars, &to.Address)
		l.set("sip_to_display", strings.Trim(to.DisplayName, `"`))
		l.set("sip_full_to", to.Value())
	}
	if c := req.Contact(); c != nil {
		setURIVars(l, contactURIVars, &c.Address)
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
			l.set("sip_via_port", l.itoa(via.Port))
		}
		if rp, ok := via.Params.Get("rport"); ok && rp != "" {
			l.set("sip_via_rport", rp)
		}
	}
	l.set("sip_full_via", ih.fullVia)
	if mf := req.MaxForwards(); mf != nil {
		l.set("max_forwards", strconv.Itoa(int(*mf)))
	}
	for _, hv := range []struct {
		h    sip.Header
		name string
	}{
		{ih.userAgent, "sip_user_agent"},
		{ih.subject, "sip_subject"},
		{ih.allow, "sip_allow"},
		{ih.alertInfo, "alert_info"},
		{ih.callInfo, "sip_call_info"},
	} {
		if hv.h != nil {
			l.set(hv.name, hv.h.Value())
		}
	}

	// Caller id: P-Asserted-Identity, then Remote-Party-ID... sofia lets
	// the later of RPID, PAI and PPI win; From is the fallback.
	cidNumber, cidName := fromUser, display
	for _, pick := range []struct {
		h               sip.Header
		header, cidType string
	}{
		{ih.rpid, "Remote-Party-ID", "rpid"},
		{ih.pai, "P-Asserted-Identity", "pid"},
		{ih.ppi, "P-Preferred-Identity", "pid"},
	} {
		h := pick.h
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
		if !extensionHeader(n) || asciiEqualFold(n, "P-Asserted-Identity") || asciiEqualFold(n, "P-Preferred-Identity") {
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
	c0, c1 := n[0]|0x20, n[1] // ASCII lower case of a letter
	return (c1 == '-' && (c0 == 'x' || c0 == 'p' || c0 == 'k')) || (c0 == 'o' && c1|0x20 == 'n') || strings.EqualFold(n, "User-to-User")
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
