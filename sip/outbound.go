package sip

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/media"
	"github.com/switchboard-voip/switchboard/session"
	"github.com/switchboard-voip/switchboard/vars"
)

// Outbound calls: the UAC side of the B2BUA, mod_sofia's
// sofia_outgoing_channel and sofia_glue_do_invite.
//
// Dial builds and sends the INVITE on the profile's own sockets (UDP
// answers and in-dialog requests come back to the listener) and returns;
// one goroutine per leg (run) then reads the INVITE transaction's
// responses until its final one and turns them into session.Progress.
// After the 2xx the leg lives in the profile's dialog table beside the
// inbound calls, so the far end's BYE, re-INVITE and INFO find it.
//
// Hanging up before the final response sends CANCEL — once a provisional
// response has arrived (RFC 3261 §9.1), otherwise as soon as one does — and
// waits at most 64*T1 for the final response; a 2xx that crosses the
// CANCEL is acknowledged and ended with BYE. After the answer a hangup
// sends BYE with a Reason header.

var _ session.Dialer = (*Endpoint)(nil)

// outState is where an outbound leg is in its INVITE transaction.
type outState int

const (
	outCalling    outState = iota // INVITE sent, nothing back but 100
	outProceeding                 // a provisional response arrived
	outAccepting                  // a 2xx arrived and is being taken
	outAnswered                   // the 2xx is taken (and ACKed)
	outEnded                      // failed, or over
)

// outCall is one outbound SIP call leg: the session.OutboundCall of a
// session the originator creates.
type outCall struct {
	leg // stream, offer/answer state, re-INVITEs (shared with inbound calls)

	name      string
	invite    *sip.Request
	from      *sip.FromHeader // our From, with our tag (shared, read-only)
	transport string          // "UDP" or "TCP"
	laddr     sip.Addr        // UDP: the profile's listener
	viaHost   string          // the host of our Via headers
	offered   []media.Codec   // what the INVITE's SDP offers
	gw        *gateway        // the gateway of a gateway call

	progress chan session.Progress
	cancelCh chan struct{} // closed by Hangup before a final response
	ackSent  chan struct{} // closed once the 2xx is acknowledged
	cseq     atomic.Uint32 // our last CSeq in the dialog
	released sync.Once

	// Guarded by leg.mu:
	state      outState
	farEnded   bool        // the far end ended the call: Hangup sends nothing
	abort      cause.Cause // our own reason to cancel (unusable SDP), or 0
	hupCause   cause.Cause // the cause Hangup was given
	early      bool        // early media is up (from a 1xx's SDP)
	id         string      // dialog id in p.calls, once answered
	to         *sip.ToHeader
	target     sip.Uri      // the far end's Contact (remote target)
	routes     []sip.Header // the route set (the 2xx's Record-Route, reversed)
	dest       string       // where in-dialog requests go when no route
	ack        *sip.Request // the ACK of the 2xx, resent for retransmissions
	remoteSeq  uint32       // the far end's last CSeq in the dialog
	timerArmed bool         // the media timeout runs
	dialAllow  []netip.AddrPort
}

var _ session.OutboundCall = (*outCall)(nil)

// dialError wraps err in a session.DialError carrying c.
func dialError(c cause.Cause, format string, a ...any) error {
	return &session.DialError{Cause: c, Err: fmt.Errorf("sip: "+format, a...)}
}

// dialTarget is a parsed DialRequest.Target.
type dialTarget struct {
	p         *profile
	uri       sip.Uri // the request URI as dialed (before sip_invite_params)
	chanDest  string  // the channel name's part after the profile
	dest      netip.AddrPort
	transport string // "UDP" or "TCP"
	gw        *gateway
}

// Dial places an outbound leg for technology "sofia" (session.Dialer).
// Targets are "<profile>/<user>@<host>[:<port>][;params]" (a "sip:"
// prefix is allowed; ";transport=tcp" sends over TCP; ";fs_path=<uri>"
// sends the request there instead),
// "<profile>/<user>" or "<profile>/<user>%<domain>" for a registered
// user, and "gateway/<gateway>/<number>". It returns once the INVITE has
// been sent; Dial's ctx only bounds that (a TCP connection, a DNS
// lookup). Errors are *session.DialError with FreeSWITCH's cause:
// INVALID_PROFILE, INVALID_URL, INVALID_NUMBER_FORMAT, INVALID_GATEWAY,
// USER_NOT_REGISTERED, ...
func (e *Endpoint) Dial(ctx context.Context, req session.DialRequest) (session.OutboundCall, error) {
	if e.closing.Load() || e.shut.Load() {
		return nil, dialError(cause.CSystemShutdown, "the endpoint is shutting down")
	}
	if !e.started.Load() {
		return nil, dialError(cause.CDestinationOutOfOrder, "the endpoint is not started")
	}
	st := req.Vars
	if st == nil {
		st = vars.NewStoreSize(64)
	}
	t, err := e.parseTarget(ctx, req.Target, st)
	if err != nil {
		return nil, err
	}
	if t.p.localPort() == 0 {
		return nil, dialError(cause.CDestinationOutOfOrder, "profile %s is not listening", t.p.cfg.Name)
	}
	maxFwd := 70
	if v, ok := st.Get("max_forwards"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err == nil {
			if n-1 <= 0 {
				return nil, dialError(cause.CExchangeRoutingError, "max_forwards %d: the call is looping", n)
			}
			maxFwd = min(n-1, 255)
		}
	}
	var stream *media.Stream
	if len(req.SDP) == 0 { // with the caller's SDP (bypass_media), no stream
		if stream, err = e.cfg.Media.Open(); err != nil {
			return nil, dialError(cause.CDestinationOutOfOrder, "no media port: %v", err)
		}
	}
	o := newOutCall(t, stream, st, req)
	inv, err := o.buildInvite(req, t, maxFwd)
	if err != nil {
		o.closeStream()
		if t.gw != nil {
			t.gw.callPlaced(true)
		}
		return nil, err
	}
	o.invite = inv
	o.from = inv.From()
	p := t.p
	if t.transport == "TCP" {
		o.allowDial(t.dest)
	}
	// The leg counts until both its INVITE goroutine (run) and its end
	// (release) are done, as an inbound call does.
	e.calls.add(2)
	tx, err := p.client.TransactionRequest(ctx, inv, keepRequest)
	if err != nil {
		o.release()
		e.calls.done()
		if t.gw != nil {
			t.gw.callPlaced(true)
		}
		// sofia would fail over to TCP for an INVITE too big for UDP
		// (sipgo's ErrUDPMTUCongestion); we do not.
		return nil, dialError(cause.CNormalTemporaryFailure, "send INVITE to %s: %v", t.dest, err)
	}
	tx.OnRetransmission(o.onRetransmission)
	o.logger().Debug("sip: INVITE sent", "to", t.dest.String(), "transport", t.transport, "uuid", req.UUID)
	go o.run(tx)
	return o, nil
}

// keepRequest is a client request option that leaves a request as we
// built it (sipgo adds nothing).
func keepRequest(*sipgo.Client, *sip.Request) error { return nil }

// newOutCall sets up a leg's state before its INVITE is built.
func newOutCall(t *dialTarget, stream *media.Stream, st *vars.Store, req session.DialRequest) *outCall {
	p := t.p
	o := &outCall{
		leg: leg{
			p:      p,
			stream: stream,
			vars:   st,
			src:    t.dest,
			ackCh:  make(chan struct{}),
			over:   make(chan struct{}),
			origin: sdpOrigin{user: "Switchboard", id: rand.Uint64() >> 1},
		},
		name:      "sofia/" + p.cfg.Name + "/" + t.chanDest,
		transport: t.transport,
		gw:        t.gw,
		progress:  make(chan session.Progress, 3), // ringing, early media, final: never blocks
		cancelCh:  make(chan struct{}),
		ackSent:   make(chan struct{}),
	}
	if i := strings.IndexByte(o.name, ';'); i >= 0 {
		o.name = o.name[:i]
	}
	o.side = o
	if t.gw != nil {
		o.contact = *t.gw.contact()
	} else {
		o.contact = p.outboundContact(t.dest.Addr(), t.transport, st)
	}
	if t.transport == "UDP" {
		host := p.cfg.SIPIP
		o.laddr = sip.Addr{IP: net.IP(host.AsSlice()), Port: p.localPort()}
	}
	o.offered = offeredCodecs(p, req.Codecs, st)
	if stream == nil {
		o.bypass = true // bypass_media (bypass.go)
		return o
	}
	stream.OnDTMF(func(d media.Digit) { o.queueDTMF(d.Digit) })
	return o
}

// parseTarget reads DialRequest.Target.
func (e *Endpoint) parseTarget(ctx context.Context, target string, st *vars.Store) (*dialTarget, error) {
	profName, dest, ok := strings.Cut(target, "/")
	if !ok || profName == "" || dest == "" {
		return nil, dialError(cause.CInvalidUrl, "invalid URL %q", target)
	}
	if strings.EqualFold(profName, "gateway") {
		return e.gatewayTarget(ctx, dest, st)
	}
	p := e.profileByName(profName)
	if p == nil {
		return nil, dialError(cause.CInvalidProfile, "invalid profile %q", profName)
	}
	t := &dialTarget{p: p, chanDest: dest}
	if strings.ContainsAny(dest, "\x00\r\n\t <>\"") {
		return nil, dialError(cause.CInvalidNumberFormat, "bad destination %q", dest)
	}
	lower := strings.ToLower(dest)
	scheme := false
	switch {
	case strings.HasPrefix(lower, "sips:"):
		return nil, dialError(cause.CInvalidUrl, "sips: needs TLS, which profile %s does not have", p.cfg.Name)
	case strings.HasPrefix(lower, "sip:"):
		dest, scheme = dest[4:], true
	}
	prefix, _ := st.Get("sip_destination_prefix")
	if !scheme && !strings.Contains(dest, "@") {
		return p.registeredTarget(t, dest, prefix)
	}
	var u sip.Uri
	if err := sip.ParseUri("sip:"+prefix+dest, &u); err != nil || u.Host == "" {
		return nil, dialError(cause.CInvalidNumberFormat, "bad destination %q", dest)
	}
	if u.Headers.Length() > 0 || u.Password != "" {
		return nil, dialError(cause.CInvalidNumberFormat, "bad destination %q", dest)
	}
	// fs_path=<sip:host:port> (what sofia_contact adds for a phone
	// behind NAT) says where to send a request for this URI.
	route := u
	if v, ok := u.UriParams.Get("fs_path"); ok {
		path, err := url.PathUnescape(v)
		if err != nil || sip.ParseUri(strings.Trim(path, "<>"), &route) != nil || route.Host == "" {
			return nil, dialError(cause.CInvalidNumberFormat, "bad fs_path in %q", dest)
		}
		u.UriParams.Remove("fs_path")
		u.UriParams.Remove("fs_nat")
	}
	t.uri = u
	tr, err := uriTransport(&route, st)
	if err != nil {
		return nil, err
	}
	t.transport = tr
	if t.dest, err = resolveHostPort(ctx, route.Host, route.Port); err != nil {
		return nil, dialError(cause.CNoRouteDestination, "%v", err)
	}
	return t, nil
}

// registeredTarget resolves "user" or "user%domain" to the user's latest
// registration (sofia's sofia_reg_find_reg_url): the Contact it
// registered, sent to the address the registration came from.
func (p *profile) registeredTarget(t *dialTarget, dest, prefix string) (*dialTarget, error) {
	user, domain, hasDomain := strings.Cut(dest, "%")
	if !hasDomain {
		domain = p.cfg.Name
	}
	var contacts []Contact
	if reg := p.e.reg; reg != nil && user != "" && domain != "" {
		contacts = reg.Contacts(user, domain)
	}
	if len(contacts) == 0 {
		return nil, dialError(cause.CUserNotRegistered, "cannot locate registered user %s@%s", user, domain)
	}
	c := contacts[len(contacts)-1]
	var u sip.Uri
	if err := sip.ParseUri(strings.Trim(c.URI, "<>"), &u); err != nil || u.Host == "" {
		return nil, dialError(cause.CUserNotRegistered, "registered contact %q of %s@%s is unusable", c.URI, user, domain)
	}
	u.Scheme = "sip"
	if prefix != "" {
		u.User = prefix + u.User
	}
	t.uri = u
	t.chanDest = user + "@" + domain
	t.transport = "UDP"
	if strings.EqualFold(c.Transport, "tcp") {
		t.transport = "TCP"
	}
	ip, err := netip.ParseAddr(c.NetworkIP)
	if err != nil || c.NetworkPort <= 0 || c.NetworkPort > 65535 {
		return nil, dialError(cause.CUserNotRegistered, "registration of %s@%s has no network address", user, domain)
	}
	t.dest = netip.AddrPortFrom(ip.Unmap(), uint16(c.NetworkPort))
	return t, nil
}

// gatewayTarget resolves "gw/number[;params]" (after "gateway/"): the
// number at the gateway's proxy, sent to its outbound-proxy (else the
// proxy) over its register-transport, from the gateway's profile. The
// gateway's outbound variables are set on the leg.
func (e *Endpoint) gatewayTarget(ctx context.Context, rest string, st *vars.Store) (*dialTarget, error) {
	name, number, ok := strings.Cut(rest, "/")
	if !ok || name == "" || number == "" {
		return nil, dialError(cause.CInvalidUrl, "invalid URL gateway/%s", rest)
	}
	g, ok := e.lookupGateway(name)
	if !ok {
		return nil, dialError(cause.CInvalidGateway, "invalid gateway %q", name)
	}
	p := e.profileByName(g.profileName())
	if p == nil {
		return nil, dialError(cause.CInvalidGateway, "gateway %q has no profile %q", name, g.profileName())
	}
	if !g.isUp() {
		g.callPlaced(true)
		return nil, dialError(cause.CGatewayDown, "gateway %q is down", name)
	}
	if strings.ContainsAny(number, "\x00\r\n\t <>\"") {
		g.callPlaced(true)
		return nil, dialError(cause.CInvalidNumberFormat, "bad number %q", number)
	}
	u := g.requestURI(number)
	if u.Host == "" {
		g.callPlaced(true)
		return nil, dialError(cause.CInvalidNumberFormat, "bad number %q", number)
	}
	u.User = escapeURIUser(u.User)
	host, port, tr := g.outboundProxy()
	dest, err := resolveHostPort(ctx, host, port)
	if err != nil {
		g.callPlaced(true)
		return nil, dialError(cause.CNoRouteDestination, "gateway %s: %v", name, err)
	}
	chanDest, _, _ := strings.Cut(number, ";")
	for _, kv := range g.outboundVars() {
		if strings.HasPrefix(kv[0], "p:") {
			continue // caller-profile fields: the originator's
		}
		st.Set(kv[0], kv[1])
	}
	return &dialTarget{p: p, uri: u, chanDest: chanDest, dest: dest, transport: tr, gw: g}, nil
}

// uriTransport picks the transport of a request URI: its transport
// parameter, else the sip_transport variable, else UDP.
func uriTransport(u *sip.Uri, st *vars.Store) (string, error) {
	tr, ok := u.UriParams.Get("transport")
	if !ok {
		tr, _ = st.Get("sip_transport")
	}
	switch strings.ToLower(strings.TrimSpace(tr)) {
	case "", "udp":
		return "UDP", nil
	case "tcp":
		return "TCP", nil
	}
	return "", dialError(cause.CDestinationOutOfOrder, "transport %q is not supported", tr)
}

// resolveHostPort turns a URI's host and port into an address (port
// 5060 by default). Host names are looked up (A/AAAA; no SRV).
func resolveHostPort(ctx context.Context, host string, port int) (netip.AddrPort, error) {
	if port <= 0 {
		port = 5060
	}
	if port > 65535 {
		return netip.AddrPort{}, fmt.Errorf("bad port %d", port)
	}
	h := strings.Trim(host, "[]")
	if a, err := netip.ParseAddr(h); err == nil {
		return netip.AddrPortFrom(a.Unmap(), uint16(port)), nil
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", h)
	if err != nil || len(addrs) == 0 {
		return netip.AddrPort{}, fmt.Errorf("cannot resolve %q: %v", h, err)
	}
	for _, a := range addrs { // prefer IPv4, as sofia does by default
		if a.Unmap().Is4() {
			return netip.AddrPortFrom(a.Unmap(), uint16(port)), nil
		}
	}
	return netip.AddrPortFrom(addrs[0], uint16(port)), nil
}

// offeredCodecs are the codecs a new leg offers: absolute_codec_string
// alone when set, else the A-leg's codecs first and then the profile's
// outbound-codec-prefs.
func offeredCodecs(p *profile, aleg []string, st *vars.Store) []media.Codec {
	if v, ok := st.Get("absolute_codec_string"); ok && strings.TrimSpace(v) != "" {
		return codecPrefs(v, p.cfg.Name, p.log)
	}
	out := make([]media.Codec, 0, len(aleg)+len(p.cfg.OutboundCodecs))
	add := func(c media.Codec) {
		for _, x := range out {
			if strings.EqualFold(x.Name, c.Name) {
				return
			}
		}
		out = append(out, c)
	}
	for _, name := range aleg {
		if c, ok := media.CodecByName(name); ok {
			add(c)
		}
	}
	for _, c := range p.cfg.OutboundCodecs {
		add(c)
	}
	return out
}

// signallingHost is the address we put in our From, Contact and Via for
// a far end at dst: ext-sip-ip when it is outside our networks (and one
// is configured), else sip-ip, or the local address that reaches dst when
// sip-ip is unspecified.
func (p *profile) signallingHost(dst netip.Addr) netip.Addr {
	host := p.cfg.SIPIP
	if p.cfg.ExtSIPIP.IsValid() && p.outside(dst) {
		host = p.cfg.ExtSIPIP
	}
	if host.IsUnspecified() {
		host = localAddrFor(dst)
	}
	return host
}

// hostString writes an address as a URI host (IPv6 in brackets).
func hostString(a netip.Addr) string {
	if a.Is6() {
		return "[" + a.String() + "]"
	}
	return a.String()
}

// outboundContact is the Contact of our INVITE: sip:mod_sofia@host:port
// (sip_contact_user replaces the user), with ;transport=tcp over TCP and
// the sip_invite_contact_params.
func (p *profile) outboundContact(dst netip.Addr, transport string, st *vars.Store) sip.ContactHeader {
	user := "mod_sofia"
	if v, ok := st.Get("sip_contact_user"); ok && validURIUser(v) {
		user = v
	}
	u := sip.Uri{Scheme: "sip", User: user, Host: hostString(p.signallingHost(dst)), Port: p.localPort()}
	if transport == "TCP" {
		u.UriParams.Add("transport", "tcp")
	}
	if v, ok := st.Get("sip_invite_contact_params"); ok {
		addURIParams(&u, v)
	}
	return sip.ContactHeader{Address: u}
}

// addURIParams adds "a=b;c" to u's parameters, skipping anything unsafe.
func addURIParams(u *sip.Uri, params string) {
	for _, kv := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		if k == "" || !uriParamSafe(k) || !uriParamSafe(v) {
			continue
		}
		u.UriParams.Add(k, v)
	}
}

// uriParamSafe reports whether s can go into a URI parameter as it is.
func uriParamSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-_.!~*'()[]/:&+$%", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validURIUser reports whether s is a usable URI user part as it is.
func validURIUser(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-_.!~*'()&=+$,;?/%", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// escapeURIUser percent-encodes what may not appear in a URI user part
// (switch_url_encode applied to the caller id number); a '%' is taken
// to start an escape already made.
func escapeURIUser(s string) string {
	const hex = "0123456789ABCDEF"
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.!~*'()&=+$,?/%", c) >= 0
		if ok {
			if b != nil {
				b = append(b, c)
			}
			continue
		}
		if b == nil {
			b = append(make([]byte, 0, len(s)+8), s[:i]...)
		}
		b = append(b, '%', hex[c>>4], hex[c&15])
	}
	if b == nil {
		return s
	}
	return string(b)
}

// displayName makes a caller id name safe inside a quoted display name.
func displayName(s string) string {
	if s == "" || s == "_undef_" {
		return ""
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '"' || r == '\\':
			return -1
		case r < 0x20 || r == 0x7f:
			return ' '
		}
		return r
	}, s)
}

// headerValueOK reports whether a value from a variable may go into a
// header: no line breaks or NULs (header injection), no ${ (an
// unexpanded reference).
func headerValueOK(v string) bool {
	return v != "" && !strings.ContainsAny(v, "\r\n\x00") && !vars.HasReference(v)
}

// headerNameOK reports whether n is a header name we let a sip_h_
// variable add: a token, and not one of the headers that make the
// request's framing and routing.
func headerNameOK(n string) bool {
	if n == "" || len(n) > 128 {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-.!%*_+`'~", c) >= 0:
		default:
			return false
		}
	}
	switch strings.ToLower(n) {
	case "via", "v", "from", "f", "to", "t", "call-id", "i", "cseq", "contact", "m",
		"max-forwards", "content-length", "l", "content-type", "c", "route", "record-route",
		"authorization", "proxy-authorization", "www-authenticate", "proxy-authenticate":
		return false
	}
	return true
}

// extraHeaders returns the headers the prefix ("sip_h_", "sip_bye_h_")
// variables ask for, in variable order. A value that could inject headers
// or holds a ${ reference is refused and logged.
func (o *outCall) extraHeaders(prefix string) []sip.Header {
	var out []sip.Header
	o.vars.Range(func(name, value string) bool {
		if len(name) <= len(prefix) || !strings.EqualFold(name[:len(prefix)], prefix) {
			return true
		}
		h := name[len(prefix):]
		switch {
		case !headerNameOK(h):
			o.logger().Warn("sip: refusing a header variable with a bad name", "var", name)
		case !headerValueOK(value):
			o.logger().Warn("sip: refusing a header variable whose value has a line break or a ${ reference", "var", name)
		default:
			out = append(out, sip.NewHeader(h, value))
		}
		return true
	})
	return out
}

// newVia is the Via of a new request of ours: our address (ext-sip-ip
// for a far end outside), the profile's port, a fresh branch, rport.
func (o *outCall) newVia() *sip.ViaHeader {
	via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: o.transport, Host: o.viaHost, Port: o.p.localPort()}
	via.Params.Add("branch", sip.GenerateBranchN(16))
	via.Params.Add("rport", "")
	return via
}

// buildInvite builds the leg's INVITE with its SDP offer.
func (o *outCall) buildInvite(req session.DialRequest, t *dialTarget, maxFwd int) (*sip.Request, error) {
	p, st := o.p, o.vars
	ruri := *t.uri.Clone()
	toURI := *t.uri.Clone()
	if v, ok := st.Get("sip_invite_params"); ok {
		addURIParams(&ruri, v)
	}
	if v, ok := st.Get("sip_invite_req_uri"); ok && v != "" {
		var u sip.Uri
		if err := sip.ParseUri(strings.Trim(v, "<>"), &u); err != nil || u.Host == "" || !headerValueOK(v) {
			return nil, dialError(cause.CInvalidUrl, "bad sip_invite_req_uri %q", v)
		}
		ruri = u
	}
	if v, ok := st.Get("sip_invite_to_uri"); ok && v != "" {
		var u sip.Uri
		if err := sip.ParseUri(strings.Trim(v, "<>"), &u); err != nil || u.Host == "" || !headerValueOK(v) {
			return nil, dialError(cause.CInvalidUrl, "bad sip_invite_to_uri %q", v)
		}
		toURI = u
	}
	inv := sip.NewRequest(sip.INVITE, ruri)
	inv.SetTransport(t.transport)
	inv.SetDestination(t.dest.String())
	if t.transport == "UDP" {
		inv.Laddr = o.laddr
	}

	host := p.signallingHost(t.dest.Addr())
	o.viaHost = hostString(host)
	inv.AppendHeader(o.newVia())
	mf := sip.MaxForwardsHeader(maxFwd)
	inv.AppendHeader(&mf)

	fromHost := hostString(host)
	if v, ok := st.Get("sip_invite_domain"); ok && v != "" {
		if !headerValueOK(v) || strings.ContainsAny(v, " ;<>@\"") {
			return nil, dialError(cause.CInvalidUrl, "bad sip_invite_domain %q", v)
		}
		fromHost = v
	}
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", Host: fromHost}}
	if num := req.CallerIDNumber; num != "" {
		from.Address.User = escapeURIUser(num)
	}
	if g := t.gw; g != nil {
		// The gateway's From: from-user (unless caller-id-in-from) at
		// from-domain (unless sip_invite_domain).
		if u := g.fromUser(); u != "" {
			from.Address.User = escapeURIUser(u)
		}
		if _, ok := st.Get("sip_invite_domain"); !ok {
			from.Address.Host = g.fromDomain()
			fromHost = from.Address.Host
		}
	}
	name := req.CallerIDName
	if v, ok := st.Get("sip_from_display"); ok {
		name = v
	}
	from.DisplayName = displayName(name)
	from.Params.Add("tag", sip.GenerateTagN(13))
	inv.AppendHeader(from)
	inv.AppendHeader(&sip.ToHeader{Address: toURI})

	callID := session.NewUUID()
	if v, ok := st.Get("sip_invite_call_id"); ok && headerValueOK(v) && !strings.ContainsAny(v, " \t") {
		callID = v
	}
	o.callID = callID
	cid := sip.CallIDHeader(callID)
	inv.AppendHeader(&cid)
	seq := uint32(1 + rand.IntN(0x7fff))
	if v, ok := st.Get("sip_invite_cseq"); ok {
		if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 31); err == nil && n > 0 {
			seq = uint32(n)
		}
	}
	o.cseq.Store(seq)
	inv.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: sip.INVITE})
	inv.AppendHeader(&o.contact)
	inv.AppendHeader(p.hdr.userAgent)
	inv.AppendHeader(p.hdr.allow)
	if tp := o.timerPrefs(); tp.enabled {
		// We refresh what we ask for (sofia's local refresher).
		tp.requestHeaders(inv, tp.expires, true)
	}
	if h := o.identityHeader(req, fromHost); h != nil {
		inv.AppendHeader(h)
		if pr := o.privacyHeader(); pr != nil {
			inv.AppendHeader(pr)
		}
	}
	if v, ok := st.Get("alert_info"); ok && headerValueOK(v) {
		inv.AppendHeader(sip.NewHeader("Alert-Info", v))
	}
	for _, h := range o.extraHeaders("sip_h_") {
		inv.AppendHeader(h)
	}
	body, err := o.inviteSDP(req)
	if err != nil {
		return nil, err
	}
	o.sentSDP = body
	inv.AppendHeader(p.hdr.sdpType)
	inv.SetBody(body)

	o.setInviteVars(inv, t)
	return inv, nil
}

// identityHeader is the caller id header of sip_cid_type: rpid (the
// default) Remote-Party-ID, pid P-Asserted-Identity (with
// origination_privacy=screen) or P-Preferred-Identity, none nothing.
func (o *outCall) identityHeader(req session.DialRequest, domain string) sip.Header {
	num := req.CallerIDNumber
	if num == "" {
		return nil
	}
	kind, _ := o.vars.Get("sip_cid_type")
	privacy, _ := o.vars.Get("origination_privacy")
	privacy = strings.ToLower(privacy)
	name := displayName(req.CallerIDName)
	addr := "<sip:" + escapeURIUser(num) + "@" + domain + ">"
	if name != "" {
		addr = "\"" + name + "\" " + addr
	}
	switch strings.ToLower(kind) {
	case "none":
		return nil
	case "pid":
		if strings.Contains(privacy, "screen") {
			return sip.NewHeader("P-Asserted-Identity", addr)
		}
		return sip.NewHeader("P-Preferred-Identity", addr)
	}
	priv := "off"
	hideName, hideNum := strings.Contains(privacy, "hide_name"), strings.Contains(privacy, "hide_number")
	switch {
	case hideName && !hideNum:
		priv = "name"
	case hideNum:
		priv = "full"
	}
	screen := "no"
	if strings.Contains(privacy, "screen") {
		screen = "yes"
	}
	return sip.NewHeader("Remote-Party-ID", addr+";party=calling;screen="+screen+";privacy="+priv)
}

// privacyHeader goes with a P-*-Identity header: id when the number is
// hidden, else none (unless sip_cid_suppress_privacy_none).
func (o *outCall) privacyHeader() sip.Header {
	kind, _ := o.vars.Get("sip_cid_type")
	if !strings.EqualFold(kind, "pid") {
		return nil
	}
	privacy, _ := o.vars.Get("origination_privacy")
	if strings.Contains(strings.ToLower(privacy), "hide_number") {
		return sip.NewHeader("Privacy", "id")
	}
	if v, _ := o.vars.Get("sip_cid_suppress_privacy_none"); caller.True(v) {
		return nil
	}
	return sip.NewHeader("Privacy", "none")
}

// setInviteVars records what the INVITE says in the leg's variables, as
// sofia_glue_do_invite does.
func (o *outCall) setInviteVars(inv *sip.Request, t *dialTarget) {
	p := o.p
	l := &varList{st: o.vars}
	l.set("sip_profile_name", p.cfg.Name)
	l.set("sofia_profile_name", p.cfg.Name)
	l.set("recovery_profile_name", p.cfg.Name)
	local := p.cfg.SIPIP
	if p.cfg.ExtSIPIP.IsValid() {
		local = p.cfg.ExtSIPIP
	}
	l.set("sip_local_network_addr", local.String())
	l.set("sip_destination_url", t.uri.String())
	l.set("sip_outgoing_contact_uri", "<"+o.contact.Address.String()+">")
	l.set("sip_req_uri", strings.TrimPrefix(inv.Recipient.String(), "sip:"))
	from, to := inv.From(), inv.To()
	setURIVars(l, fromURIVars, &from.Address)
	setURIVars(l, reqURIVars, &inv.Recipient)
	setURIVars(l, toURIVars, &to.Address)
	l.set("sip_from_display", from.DisplayName)
	l.set("sip_full_from", from.Value())
	l.set("sip_full_to", to.Value())
	if tag, ok := from.Params.Get("tag"); ok {
		l.set("sip_from_tag", tag)
	}
	l.set("sip_call_id", inv.CallID().Value())
	l.set("sip_cseq", strconv.FormatUint(uint64(inv.CSeq().SeqNo), 10))
	l.set("sip_via_protocol", strings.ToLower(t.transport))
}

// allowDial lets sipgo open TCP connections to ap while the leg lives
// (dialpolicy.go refuses anything but this machine's addresses otherwise).
// Call with o.mu held or before the leg is shared.
func (o *outCall) allowDial(ap netip.AddrPort) {
	o.p.e.dialTargets.allow(ap)
	o.dialAllow = append(o.dialAllow, ap)
}

// emit passes a progress step on; the channel has room for every step a
// leg can report, so it never blocks.
func (o *outCall) emit(pr session.Progress) {
	select {
	case o.progress <- pr:
	default:
		o.logger().Warn("sip: progress step dropped", "kind", pr.Kind.String())
	}
}

// run reads the INVITE transaction until its final response (or its end)
// and reports the progress. It runs on its own goroutine, one per leg.
func (o *outCall) run(tx sip.ClientTransaction) {
	defer o.p.e.calls.done()
	defer close(o.progress)
	defer o.recoverPanic()
	r := runState{tx: tx}
	defer r.stop()
	cancelCh := o.cancelCh
	for {
		var cancelRes <-chan *sip.Response
		var cancelDone <-chan struct{}
		if r.cancelTx != nil {
			cancelRes, cancelDone = r.cancelTx.Responses(), r.cancelTx.Done()
		}
		select {
		case res := <-r.tx.Responses():
			if o.onResponse(&r, res) {
				return
			}
		case <-r.tx.Done():
			o.onTxEnd(&r)
			return
		case <-cancelCh:
			cancelCh = nil
			r.cancelWanted = true
			if r.provisional {
				o.sendCancel(&r)
			}
		case <-cancelRes:
			r.cancelTx.Terminate()
			r.cancelTx = nil
		case <-cancelDone:
			r.cancelTx = nil
		case <-r.cancelTimeout:
			// RFC 3261 §9.1: no final response 64*T1 after our CANCEL;
			// the transaction is given up.
			o.logger().Info("sip: no final response to the canceled INVITE")
			r.tx.Terminate()
			o.fail(session.Progress{Kind: session.ProgressFailed, Cause: cause.COriginatorCancel})
			return
		}
	}
}

// runState is the INVITE goroutine's own state.
type runState struct {
	tx            sip.ClientTransaction
	provisional   bool // a 1xx other than 100 arrived
	cancelWanted  bool // hung up before a final response
	canceled      bool // CANCEL sent
	cancelTx      sip.ClientTransaction
	cancelTimer   *time.Timer
	cancelTimeout <-chan time.Time
	authTried     bool
	seTried       bool // a 422 was answered with a longer Session-Expires
	rung          bool // ringing reported
}

func (r *runState) stop() {
	if r.cancelTx != nil {
		r.cancelTx.Terminate()
	}
	if r.cancelTimer != nil {
		r.cancelTimer.Stop()
	}
}

// onResponse handles one response to the INVITE; it reports whether the
// transaction is over for us.
func (o *outCall) onResponse(r *runState, res *sip.Response) bool {
	switch {
	case res.StatusCode < 101:
		return false
	case res.IsProvisional():
		o.onProvisional(r, res)
		return false
	case res.IsSuccess():
		o.onAnswer(r, res)
		return true
	}
	if (res.StatusCode == 401 || res.StatusCode == 407) && !r.cancelWanted && !r.authTried {
		if o.retryWithAuth(r, res) {
			return false
		}
	}
	if res.StatusCode == 422 && !r.cancelWanted && !r.seTried {
		if o.retryWithMinSE(r, res) {
			return false
		}
	}
	o.onFailure(res)
	return true
}

// onProvisional handles a 1xx: ringing, early media, and the CANCEL a
// hangup was waiting for.
func (o *outCall) onProvisional(r *runState, res *sip.Response) {
	r.provisional = true
	if o.hungup.Load() {
		r.cancelWanted = true // Hangup's signal may still be on its way
	}
	o.mu.Lock()
	if o.state == outCalling {
		o.state = outProceeding
	}
	o.mu.Unlock()
	o.responseVars(res)
	if r.cancelWanted {
		if !r.canceled {
			o.sendCancel(r)
		}
		return
	}
	if body := res.Body(); len(body) > 0 && isSDPResponse(res) {
		o.mu.Lock()
		early := o.early
		o.mu.Unlock()
		if !early {
			if err := o.applyAnswer(body); err != nil {
				o.logger().Info("sip: the early SDP answer is unusable; canceling", "err", err)
				o.mu.Lock()
				o.abort = cause.CIncompatibleDestination
				o.mu.Unlock()
				o.vars.Set("endpoint_disposition", "NO CODECS")
				o.hangupSession(cause.CIncompatibleDestination)
				r.cancelWanted = true
				o.sendCancel(r)
				return
			}
			o.mu.Lock()
			o.early = true
			o.mu.Unlock()
			o.vars.Set("endpoint_disposition", "EARLY MEDIA")
			o.emit(session.Progress{Kind: session.ProgressEarlyMedia, Code: res.StatusCode, Reason: res.Reason})
		}
		return
	}
	o.mu.Lock()
	early := o.early
	o.mu.Unlock()
	if !early && !r.rang() {
		o.emit(session.Progress{Kind: session.ProgressRinging, Code: res.StatusCode, Reason: res.Reason})
	}
}

// rang reports whether ringing was reported already, and notes that it
// now is.
func (r *runState) rang() bool {
	was := r.rung
	r.rung = true
	return was
}

// isSDPResponse reports whether a response's body is SDP.
func isSDPResponse(res *sip.Response) bool {
	ct := res.ContentType()
	return ct != nil && isSDP(ct.Value())
}

// applyAnswer takes the far end's answer to our offer (from a 1xx or the
// 2xx): the codec is the first of the answer's formats that we offered.
// The stream starts.
func (o *outCall) applyAnswer(body []byte) error {
	if o.bypass { // set before the INVITE went out, never changed
		o.takeBypassAnswer(body)
		return nil
	}
	r, err := parseSDP(body)
	if err != nil {
		return err
	}
	params, err := answerFromOffer(r, o.offered, o.p.cfg.DTMFType == dtmfRFC2833)
	if err != nil {
		return err
	}
	o.mu.Lock()
	o.params, o.haveMedia = params, true
	o.hold = params.hold
	err = o.applyRemote()
	if err != nil {
		o.haveMedia = false
	}
	o.mu.Unlock()
	if err != nil {
		return err
	}
	if !vars.HasReference(string(body)) {
		o.vars.Set("switch_r_sdp", string(body))
	}
	o.updateVars()
	o.stream.Start()
	return nil
}

// responseVars records what a provisional or final response says about
// the far end (sofia's extract_vars and sofia_handle_sip_r_invite).
func (o *outCall) responseVars(res *sip.Response) {
	l := &varList{st: o.vars}
	if to := res.To(); to != nil {
		if tag, ok := to.Params.Get("tag"); ok {
			l.set("sip_to_tag", tag)
		}
		l.set("sip_full_to", to.Value())
		l.set("sip_to_display", strings.Trim(to.DisplayName, `"`))
	}
	if c := res.Contact(); c != nil {
		setURIVars(l, contactURIVars, &c.Address)
	}
	if src := sourceOfResponse(res); src.IsValid() {
		ip, port := src.Addr().String(), strconv.Itoa(int(src.Port()))
		l.set("sip_reply_host", ip)
		l.set("sip_reply_port", port)
		l.set("sip_network_ip", ip)
		l.set("sip_network_port", port)
	}
	for _, h := range res.Headers() {
		switch n := h.Name(); {
		case asciiEqualFold(n, "User-Agent"), asciiEqualFold(n, "Server"):
			if !l.has("sip_user_agent") || asciiEqualFold(n, "User-Agent") {
				l.set("sip_user_agent", h.Value())
			}
		case asciiEqualFold(n, "Allow"):
			l.set("sip_allow", h.Value())
		}
	}
}

// sourceOfResponse returns the address a response came from.
func sourceOfResponse(res *sip.Response) netip.AddrPort {
	ap, err := netip.ParseAddrPort(res.Source())
	if err != nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// outDialog is what a 2xx establishes: how we reach the far end inside it.
type outDialog struct {
	to     *sip.ToHeader
	target sip.Uri
	routes []sip.Header
	dest   string // set when no route: the address in-dialog requests go to
}

// dialogOf reads the dialog a 2xx establishes (RFC 3261 §12.1.2): its To
// (with the far end's tag), the remote target (the Contact) and the route
// set (the Record-Route, reversed).
func (o *outCall) dialogOf(res *sip.Response) outDialog {
	d := outDialog{target: *o.invite.Recipient.Clone()}
	if to := res.To(); to != nil {
		d.to = sip.HeaderClone(to).(*sip.ToHeader)
	}
	if c := res.Contact(); c != nil {
		d.target = *c.Address.Clone()
	}
	rr := res.GetHeaders("Record-Route")
	for i := len(rr) - 1; i >= 0; i-- {
		d.routes = append(d.routes, sip.NewHeader("Route", rr[i].Value()))
	}
	if len(d.routes) == 0 {
		d.dest = o.targetDest(&d.target)
	}
	return d
}

// targetDest is where requests to the remote target go: its address,
// unless it is a private address of a far end we reached at a public one
// (a Contact behind NAT), then where we sent the INVITE; "" for a host
// name (sipgo resolves it).
func (o *outCall) targetDest(u *sip.Uri) string {
	a, err := netip.ParseAddr(strings.Trim(u.Host, "[]"))
	if err != nil {
		return ""
	}
	a = a.Unmap()
	lists := o.p.e.acl.Load()
	if privateAddr(lists, a) && !privateAddr(lists, o.src.Addr()) && !a.IsLoopback() {
		return o.src.String()
	}
	port := u.Port
	if port <= 0 {
		port = 5060
	}
	return netip.AddrPortFrom(a, uint16(port)).String()
}

// newRequest starts a request of ours inside dialog d: Request-URI, Via,
// Max-Forwards, From, To, Call-ID, CSeq and the route; the caller adds
// the rest and the body.
func (o *outCall) newRequest(method sip.RequestMethod, d outDialog, seq uint32) *sip.Request {
	req := sip.NewRequest(method, *d.target.Clone())
	req.AppendHeader(o.newVia())
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	req.AppendHeader(sip.HeaderClone(o.from))
	if d.to != nil {
		req.AppendHeader(sip.HeaderClone(d.to))
	}
	cid := sip.CallIDHeader(o.callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: method})
	for _, r := range d.routes {
		req.AppendHeader(r)
	}
	req.SetTransport(o.transport)
	if o.transport == "UDP" {
		req.Laddr = o.laddr
	}
	if d.dest != "" {
		req.SetDestination(d.dest)
	}
	return req
}

// buildAck is the ACK of the 2xx that established d (RFC 3261 §13.2.2.4):
// the INVITE's CSeq number, a new branch.
func (o *outCall) buildAck(d outDialog) *sip.Request {
	ack := o.newRequest(sip.ACK, d, o.invite.CSeq().SeqNo)
	ack.AppendHeader(o.p.hdr.userAgent)
	ack.SetBody(nil)
	return ack
}

// writeAck sends an ACK (a copy: sipgo notes the resolved address in the
// message it sends).
func (o *outCall) writeAck(ack *sip.Request) {
	if err := o.p.client.WriteRequest(ack.Clone(), keepRequest); err != nil {
		o.logger().Debug("sip: ACK not sent", "err", err)
	}
}

// onAnswer handles the 2xx: ACK it, and either take the call (the answer
// SDP applied, the dialog registered, ProgressAnswered) or end it at once
// with BYE when we hung up meanwhile (a 200 crossing our CANCEL) or its
// SDP is unusable.
func (o *outCall) onAnswer(r *runState, res *sip.Response) {
	d := o.dialogOf(res)
	ack := o.buildAck(d)
	o.responseVars(res)
	o.mu.Lock()
	o.ack = ack
	crossing := o.hungup.Load() || o.abort != 0
	endWith := o.abort
	if endWith == 0 {
		endWith = o.hupCause
	}
	if !crossing {
		o.state = outAccepting
		o.to, o.target, o.routes, o.dest = d.to, d.target, d.routes, d.dest
		if o.transport == "TCP" && d.dest != "" {
			if ap, err := netip.ParseAddrPort(d.dest); err == nil && ap != o.src {
				o.allowDial(ap)
			}
		}
	}
	o.mu.Unlock()
	if crossing {
		// Our hangup crossed this answer: acknowledge it and end the
		// call at once (livekit/sip#756).
		o.writeAck(ack)
		o.logger().Info("sip: the far end answered after we hung up; sending BYE")
		if endWith == 0 {
			endWith = cause.COriginatorCancel
		}
		o.byeDialog(d, endWith)
		pc := cause.COriginatorCancel
		if o.abort != 0 {
			pc = o.abort
		}
		o.fail(session.Progress{Kind: session.ProgressFailed, Code: res.StatusCode, Reason: res.Reason, Cause: pc})
		return
	}
	defer close(o.ackSent)
	var err error
	if body := res.Body(); len(body) > 0 && isSDPResponse(res) {
		err = o.applyAnswer(body)
	} else {
		o.mu.Lock()
		if !o.early {
			err = errors.New("the answer has no SDP")
		}
		o.mu.Unlock()
	}
	if err != nil {
		o.logger().Info("sip: the answer's SDP is unusable; hanging up", "err", err)
		o.mu.Lock()
		o.state = outEnded
		o.mu.Unlock()
		o.writeAck(ack)
		o.vars.Set("endpoint_disposition", "NO CODECS")
		o.byeDialog(d, cause.CIncompatibleDestination)
		o.fail(session.Progress{Kind: session.ProgressFailed, Code: res.StatusCode, Reason: res.Reason, Cause: cause.CIncompatibleDestination})
		return
	}
	ourTag, _ := o.from.Params.Get("tag")
	theirTag := ""
	if d.to != nil {
		theirTag, _ = d.to.Params.Get("tag")
	}
	id := sip.DialogIDMake(o.callID, ourTag, theirTag)
	o.mu.Lock()
	o.state = outAnswered
	o.id = id
	o.mu.Unlock()
	// In the table before the ACK leaves, so a BYE right behind it finds
	// the call.
	o.p.calls.Store(id, o)
	o.writeAck(ack)
	o.vars.Set("endpoint_disposition", "ANSWER")
	o.vars.Set("sip_term_status", strconv.Itoa(res.StatusCode))
	o.emit(session.Progress{Kind: session.ProgressAnswered, Code: res.StatusCode, Reason: res.Reason})
	o.armTimeout()
	o.armTimer(o.timerPrefs().negotiateUAC(readTimerHeaders(res), readTimerHeaders(o.invite).expires))
	if o.gw != nil {
		o.gw.callPlaced(false)
	}
}

// armTimeout starts the media timeout once the call is answered and
// bound to its session.
func (o *outCall) armTimeout() {
	if o.session() == nil {
		return
	}
	o.mu.Lock()
	arm := o.state == outAnswered && !o.farEnded && !o.timerArmed
	o.timerArmed = o.timerArmed || arm
	o.mu.Unlock()
	if arm && !o.hungup.Load() {
		o.startMediaTimeout()
	}
}

// onFailure handles a final error response.
func (o *outCall) onFailure(res *sip.Response) {
	code := res.StatusCode
	hc := cause.FromSIP(code)
	l := &varList{st: o.vars}
	o.responseVars(res)
	if h := res.GetHeader("Reason"); h != nil && headerValueOK(h.Value()) {
		l.set("sip_reason", h.Value())
		if rc, ok := causeFromReason(h.Value()); ok && code >= 400 && !caller.True(o.varOr("ignore_q850_reason")) {
			hc = rc
		}
	}
	if !o.hungup.Load() {
		l.set("sip_hangup_disposition", "recv_refuse")
	}
	if code >= 400 {
		l.set("sip_invite_failure_status", strconv.Itoa(code))
		l.set("sip_invite_failure_phrase", cleanField(res.Reason))
	}
	l.set("sip_term_status", strconv.Itoa(code))
	l.set("proto_specific_hangup_cause", "sip:"+strconv.Itoa(code))
	o.mu.Lock()
	if o.abort != 0 {
		hc = o.abort
	}
	o.mu.Unlock()
	o.fail(session.Progress{Kind: session.ProgressFailed, Code: code, Reason: res.Reason, Cause: hc})
}

// varOr is a variable's value, "" when unset.
func (o *outCall) varOr(name string) string {
	v, _ := o.vars.Get(name)
	return v
}

// onTxEnd handles the end of the INVITE transaction without a final
// response: Timer B (no answer at all), a transport error, or the
// endpoint shutting down.
func (o *outCall) onTxEnd(r *runState) {
	err := r.tx.Err()
	l := &varList{st: o.vars}
	pr := session.Progress{Kind: session.ProgressFailed}
	switch {
	case o.p.e.closing.Load() || o.p.e.deaf.Load():
		pr.Cause = cause.CSystemShutdown
	case errors.Is(err, sip.ErrTransactionTimeout):
		// sofia reports its own 408 Request Timeout.
		pr.Cause = cause.CRecoveryOnTimerExpire
		l.set("sip_invite_failure_status", "408")
		l.set("sip_invite_failure_phrase", "Request Timeout")
		l.set("sip_term_status", "408")
	default:
		// A transport error: sofia reports its own 503.
		pr.Cause = cause.CNormalTemporaryFailure
		l.set("sip_invite_failure_status", "503")
		l.set("sip_invite_failure_phrase", "Service Unavailable")
		l.set("sip_term_status", "503")
	}
	if r.cancelWanted && r.canceled {
		pr.Cause = cause.COriginatorCancel
	}
	o.logger().Info("sip: INVITE got no final response", "err", err, "cause", pr.Cause.String())
	o.fail(pr)
}

// fail ends an attempt that was never answered: the final progress step,
// the session's hangup cause, and the leg's resources.
func (o *outCall) fail(pr session.Progress) {
	o.mu.Lock()
	o.state = outEnded
	o.mu.Unlock()
	o.vars.Set("sip_term_cause", strconv.Itoa(pr.Cause.Q850()))
	if o.gw != nil {
		o.gw.callPlaced(true)
	}
	o.emit(pr)
	o.hangupSession(pr.Cause)
	o.release()
}

// sendCancel sends CANCEL for the INVITE (RFC 3261 §9.1) and gives the
// final response 64*T1 to come.
func (o *outCall) sendCancel(r *runState) {
	if r.canceled {
		return
	}
	r.canceled = true
	inv := o.invite
	c := sip.NewRequest(sip.CANCEL, *inv.Recipient.Clone())
	c.AppendHeader(sip.HeaderClone(inv.Via()))
	mf := sip.MaxForwardsHeader(70)
	c.AppendHeader(&mf)
	c.AppendHeader(sip.HeaderClone(inv.From()))
	c.AppendHeader(sip.HeaderClone(inv.To()))
	c.AppendHeader(sip.HeaderClone(inv.CallID()))
	c.AppendHeader(&sip.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sip.CANCEL})
	for _, h := range inv.GetHeaders("Route") {
		c.AppendHeader(h)
	}
	o.mu.Lock()
	hc := o.abort
	if hc == 0 {
		hc = o.hupCause
	}
	o.mu.Unlock()
	if h := o.reason(hc); h != nil {
		c.AppendHeader(h)
	}
	c.AppendHeader(o.p.hdr.userAgent)
	for _, h := range o.extraHeaders("sip_bye_h_") {
		c.AppendHeader(h)
	}
	c.SetBody(nil)
	c.SetTransport(inv.Transport())
	c.SetDestination(inv.Destination())
	c.Laddr = inv.Laddr
	tx, err := o.p.client.TransactionRequest(context.Background(), c, keepRequest)
	if err != nil {
		o.logger().Info("sip: CANCEL not sent", "err", err)
	} else {
		r.cancelTx = tx
	}
	r.cancelTimer = time.NewTimer(64 * sip.T1)
	r.cancelTimeout = r.cancelTimer.C
}

// reason is the Reason header of our BYE or CANCEL for hangup cause hc:
// Q.850 (or SIP for FreeSWITCH's own causes), "Call completed elsewhere"
// for a lost race or a pickup, the channel's sip_reason, or none with
// disable_q850_reason.
func (o *outCall) reason(hc cause.Cause) sip.Header {
	get := o.vars.Get
	if v, ok := get("disable_q850_reason"); ok && caller.True(v) {
		return nil
	}
	if _, ok := get("sip_reason"); !ok && (hc == cause.CLoseRace || hc == cause.CPickedOff) && !caller.True(o.varOr("ignore_completed_elsewhere")) {
		return sip.NewHeader("Reason", `SIP;cause=200;text="Call completed elsewhere"`)
	}
	return reasonHeader(hc, get)
}

// byeDialog ends the dialog d at once with BYE (a 2xx we do not want)
// and waits for its answer (bounded by the transaction's Timer F).
func (o *outCall) byeDialog(d outDialog, hc cause.Cause) {
	bye := o.newRequest(sip.BYE, d, o.cseq.Add(1))
	o.sendBye(bye, hc)
}

// sendBye finishes a BYE (Reason, User-Agent, sip_bye_h_ headers), sends
// it and waits for the final response. A gateway's challenge is answered
// once, when authorize accepts it.
func (o *outCall) sendBye(bye *sip.Request, hc cause.Cause) {
	if h := o.reason(hc); h != nil {
		bye.AppendHeader(h)
	}
	bye.AppendHeader(o.p.hdr.userAgent)
	for _, h := range o.extraHeaders("sip_bye_h_") {
		bye.AppendHeader(h)
	}
	bye.SetBody(nil)
	for try := 0; try < 2; try++ {
		res, err := o.do(bye)
		if err != nil {
			o.logger().Debug("sip: BYE not answered", "err", err)
			return
		}
		if (res.StatusCode != 401 && res.StatusCode != 407) || o.gw == nil || try > 0 {
			return
		}
		auth, err := o.gw.authorize(bye, res)
		if err != nil {
			return
		}
		bye = bye.Clone()
		bye.RemoveHeader("Via")
		bye.PrependHeader(o.newVia())
		bye.CSeq().SeqNo = o.cseq.Add(1)
		bye.RemoveHeader(auth.Name())
		bye.AppendHeader(auth)
	}
}

// do sends a non-INVITE request of ours in a client transaction and
// waits for its final response (or the transaction's end: Timer F).
func (o *outCall) do(req *sip.Request) (*sip.Response, error) {
	tx, err := o.p.client.TransactionRequest(context.Background(), req, keepRequest)
	if err != nil {
		return nil, err
	}
	defer tx.Terminate()
	return finalResponse(context.Background(), tx)
}

// onRetransmission handles a 2xx to the INVITE after the first one: a
// retransmission (the far end missed our ACK) is acknowledged again; a
// 2xx from another branch of a forked INVITE is acknowledged and ended
// with BYE.
func (o *outCall) onRetransmission(res *sip.Response) {
	if !res.IsSuccess() {
		return
	}
	o.mu.Lock()
	ack := o.ack
	ourTo := ""
	if ack != nil && ack.To() != nil {
		ourTo, _ = ack.To().Params.Get("tag")
	}
	o.mu.Unlock()
	if ack == nil {
		return // the first 2xx is still being handled; the next one is ACKed
	}
	tag := ""
	if to := res.To(); to != nil {
		tag, _ = to.Params.Get("tag")
	}
	if tag == ourTo {
		o.writeAck(ack)
		return
	}
	d := o.dialogOf(res)
	o.writeAck(o.buildAck(d))
	o.logger().Info("sip: a second branch answered; ending it", "to_tag", tag)
	go o.byeDialog(d, cause.CLoseRace)
}

// onStrayResponse handles a response no transaction wants: a 2xx to an
// INVITE of an answered outbound leg after its transaction ended is
// acknowledged again.
func (p *profile) onStrayResponse(res *sip.Response) {
	if !res.IsSuccess() || res.CSeq() == nil || res.CSeq().MethodName != sip.INVITE || res.CallID() == nil || res.From() == nil || res.To() == nil {
		return
	}
	ourTag, _ := res.From().Params.Get("tag")
	theirTag, _ := res.To().Params.Get("tag")
	if o, ok := p.calls.Load(sip.DialogIDMake(res.CallID().Value(), ourTag, theirTag)); ok {
		if o, ok := o.(*outCall); ok {
			o.onRetransmission(res)
		}
	}
}

// retryWithAuth answers a gateway's 401/407 to the INVITE: the same
// INVITE with credentials, a new CSeq and branch, once. It reports
// whether the new INVITE went out; authorize refuses challenges of other
// realms or from other hosts (CVE-2021-41158).
func (o *outCall) retryWithAuth(r *runState, res *sip.Response) bool {
	if o.gw == nil {
		return false
	}
	r.authTried = true
	auth, err := o.gw.authorize(o.invite, res)
	if err != nil {
		o.logger().Info("sip: not answering the challenge", "err", err)
		return false
	}
	return o.resendInvite(r, "with credentials", func(inv *sip.Request) {
		inv.RemoveHeader("Authorization")
		inv.RemoveHeader("Proxy-Authorization")
		inv.AppendHeader(auth)
	})
}

// resendInvite sends the INVITE again, changed by edit, with a new CSeq
// and branch, in a new transaction that r follows from now on. It
// reports whether it went out.
func (o *outCall) resendInvite(r *runState, what string, edit func(inv *sip.Request)) bool {
	inv := o.invite.Clone()
	inv.RemoveHeader("Via")
	inv.PrependHeader(o.newVia())
	seq := o.cseq.Add(1)
	inv.CSeq().SeqNo = seq
	edit(inv)
	inv.SetTransport(o.invite.Transport())
	inv.SetDestination(o.invite.Destination())
	inv.Laddr = o.invite.Laddr
	tx, err := o.p.client.TransactionRequest(context.Background(), inv, keepRequest)
	if err != nil {
		o.logger().Info("sip: INVITE "+what+" not sent", "err", err)
		return false
	}
	tx.OnRetransmission(o.onRetransmission)
	o.invite = inv
	r.tx = tx
	r.provisional = false
	o.vars.Set("sip_cseq", strconv.FormatUint(uint64(seq), 10))
	return true
}

// Name is the channel name: sofia/<profile>/<destination>.
func (o *outCall) Name() string { return o.name }

// Progress delivers the far end's progress; it is closed after the final
// step.
func (o *outCall) Progress() <-chan session.Progress { return o.progress }

// Bind ties the leg to its session: the far end's BYE, received DTMF and
// media timeouts reach it from now on, and a hangup that came before (the
// far end's, or a failure) hangs it up at once.
func (o *outCall) Bind(s *session.Session) {
	o.sessp.Store(s)
	if c := o.pending.Load(); c != 0 {
		s.Hangup(cause.Cause(c))
	}
	o.armTimeout()
}

// Media returns the leg's RTP stream once an SDP answer arrived, else nil.
func (o *outCall) Media() session.Media {
	o.mu.Lock()
	ok := o.haveMedia
	o.mu.Unlock()
	if !ok || o.stream == nil {
		return nil
	}
	return o.stream
}

// Answer does nothing: the far end answers an outbound leg.
func (o *outCall) Answer(context.Context) error { return nil }

// PreAnswer does nothing: the far end opens early media.
func (o *outCall) PreAnswer(context.Context) error { return nil }

// RingReady does nothing: the far end rings.
func (o *outCall) RingReady(context.Context, bool) error { return nil }

// Respond fails: an outbound leg sends no responses.
func (o *outCall) Respond(_ context.Context, code int, _ string) error {
	return fmt.Errorf("sip: an outbound leg cannot send a %d response", code)
}

// Redirect fails: an outbound leg cannot be redirected.
func (o *outCall) Redirect(context.Context, string) error {
	return errors.New("sip: an outbound leg cannot be redirected")
}

// Hangup ends the leg (called once by the session): CANCEL before a final
// response (sent once a provisional one has arrived), BYE with a Reason
// header after the answer, nothing when the far end already ended it.
// The RTP stream is closed.
func (o *outCall) Hangup(hc cause.Cause) {
	if o.hungup.Swap(true) {
		return
	}
	o.closeStream()
	o.mu.Lock()
	st, far := o.state, o.farEnded
	o.hupCause = hc
	o.mu.Unlock()
	l := &varList{st: o.vars}
	switch {
	case far || st == outEnded:
		o.release()
	case st == outAccepting || st == outAnswered:
		l.set("sip_hangup_disposition", "send_bye")
		l.set("sip_term_cause", strconv.Itoa(hc.Q850()))
		go func() {
			defer o.recoverPanic()
			<-o.ackSent
			o.mu.Lock()
			st, far, d := o.state, o.farEnded, outDialog{to: o.to, target: o.target, routes: o.routes, dest: o.dest}
			o.mu.Unlock()
			if st == outAnswered && !far {
				o.sendBye(o.newRequest(sip.BYE, d, o.cseq.Add(1)), hc)
			}
			o.release()
		}()
	default:
		l.set("sip_hangup_disposition", "send_cancel")
		l.set("sip_invite_failure_status", "487")
		l.set("sip_invite_failure_phrase", "CANCEL")
		l.set("sip_term_cause", strconv.Itoa(hc.Q850()))
		close(o.cancelCh) // the INVITE goroutine cancels and ends the leg
	}
}

// release frees what the leg holds, once: the stream, its place in the
// dialog table, the TCP destinations it opened up, its count in the
// endpoint's calls.
func (o *outCall) release() {
	o.released.Do(func() {
		o.stopTimer()
		o.closeStream()
		o.mu.Lock()
		id, allowed := o.id, o.dialAllow
		o.dialAllow = nil
		o.mu.Unlock()
		if id != "" {
			o.p.calls.CompareAndDelete(id, o)
		}
		for _, ap := range allowed {
			o.p.e.dialTargets.release(ap)
		}
		close(o.over)
		o.p.e.calls.done()
	})
}

// onBye handles the far end's BYE: 200, then the session hangs up with
// the cause of its Reason header (NORMAL_CLEARING without one).
func (o *outCall) onBye(req *sip.Request, tx sip.ServerTransaction) {
	if err := o.readRequest(req, tx); err != nil {
		o.p.reply(req, tx, 500, "CSeq Out Of Order")
		return
	}
	o.mu.Lock()
	first := !o.farEnded
	o.farEnded = true
	o.mu.Unlock()
	o.p.reply(req, tx, 200, "")
	if !first {
		return
	}
	hc := cause.CNormalClearing
	l := &varList{st: o.vars}
	if h := req.GetHeader("Reason"); h != nil && headerValueOK(h.Value()) {
		l.set("sip_reason", h.Value())
		if rc, ok := causeFromReason(h.Value()); ok {
			hc = rc
		}
	}
	if !o.hungup.Load() {
		l.set("sip_hangup_disposition", "recv_bye")
	}
	l.set("sip_term_status", "200")
	l.set("sip_term_cause", strconv.Itoa(hc.Q850()))
	o.hangupSession(hc)
	o.release()
}

// readRequest applies the dialog's CSeq rule to a request from the far
// end (RFC 3261 §12.2.2): lower than the last one is out of order.
func (o *outCall) readRequest(req *sip.Request, _ sip.ServerTransaction) error {
	seq := req.CSeq().SeqNo
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.remoteSeq != 0 && seq < o.remoteSeq {
		return errors.New("CSeq out of order")
	}
	o.remoteSeq = seq
	return nil
}

// reinvite answers a re-INVITE from the far end of an answered leg (hold,
// unhold, a new address), as the inbound leg does.
func (o *outCall) reinvite(req *sip.Request, tx sip.ServerTransaction) {
	o.mu.Lock()
	ok := o.state == outAnswered && !o.farEnded
	o.mu.Unlock()
	if !ok || o.hungup.Load() {
		o.p.reply(req, tx, 481, "")
		return
	}
	if o.bypass {
		o.bypassReinvite(req, tx, o.readRequest)
		return
	}
	o.answerReinvite(req, tx, o.readRequest)
}

// dialTargets counts the TCP destinations outbound legs may connect to.
type dialTargets struct {
	mu sync.Mutex
	m  map[netip.AddrPort]int
}

func (d *dialTargets) allow(ap netip.AddrPort) {
	d.mu.Lock()
	if d.m == nil {
		d.m = make(map[netip.AddrPort]int)
	}
	d.m[ap]++
	d.mu.Unlock()
}

func (d *dialTargets) release(ap netip.AddrPort) {
	d.mu.Lock()
	if d.m[ap]--; d.m[ap] <= 0 {
		delete(d.m, ap)
	}
	d.mu.Unlock()
}

// allowed reports whether an outbound leg asked for connections to ap.
func (d *dialTargets) allowed(ap netip.AddrPort) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.m[netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())] > 0
}
