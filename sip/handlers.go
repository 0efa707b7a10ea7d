package sip

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-voip/switchboard/acl"
	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/session"
)

// allowMethods is our Allow header.
const allowMethods = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, REGISTER, REFER"

// reasonPhrase is the RFC 3261 phrase of a status code.
func reasonPhrase(code int) string {
	switch code {
	case 100:
		return "Trying"
	case 180:
		return "Ringing"
	case 181:
		return "Call Is Being Forwarded"
	case 182:
		return "Queued"
	case 183:
		return "Session Progress"
	case 200:
		return "OK"
	case 300:
		return "Multiple Choices"
	case 301:
		return "Moved Permanently"
	case 302:
		return "Moved Temporarily"
	case 305:
		return "Use Proxy"
	case 380:
		return "Alternative Service"
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 402:
		return "Payment Required"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 406:
		return "Not Acceptable"
	case 407:
		return "Proxy Authentication Required"
	case 408:
		return "Request Timeout"
	case 410:
		return "Gone"
	case 413:
		return "Request Entity Too Large"
	case 414:
		return "Request-URI Too Long"
	case 415:
		return "Unsupported Media Type"
	case 416:
		return "Unsupported URI Scheme"
	case 420:
		return "Bad Extension"
	case 421:
		return "Extension Required"
	case 423:
		return "Interval Too Brief"
	case 480:
		return "Temporarily Unavailable"
	case 481:
		return "Call/Transaction Does Not Exist"
	case 482:
		return "Loop Detected"
	case 483:
		return "Too Many Hops"
	case 484:
		return "Address Incomplete"
	case 485:
		return "Ambiguous"
	case 486:
		return "Busy Here"
	case 487:
		return "Request Terminated"
	case 488:
		return "Not Acceptable Here"
	case 491:
		return "Request Pending"
	case 493:
		return "Undecipherable"
	case 500:
		return "Server Internal Error"
	case 501:
		return "Not Implemented"
	case 502:
		return "Bad Gateway"
	case 503:
		return "Service Unavailable"
	case 504:
		return "Server Time-out"
	case 505:
		return "Version Not Supported"
	case 513:
		return "Message Too Large"
	case 600:
		return "Busy Everywhere"
	case 603:
		return "Decline"
	case 604:
		return "Does Not Exist Anywhere"
	case 606:
		return "Not Acceptable"
	case 607:
		return "Unwanted"
	}
	switch {
	case code < 200:
		return "Session Progress"
	case code < 300:
		return "OK"
	case code < 400:
		return "Redirection"
	case code < 500:
		return "Client Error"
	case code < 600:
		return "Server Error"
	}
	return "Global Failure"
}

// reply answers req statelessly within tx (errors are logged only).
func (p *profile) reply(req *sip.Request, tx sip.ServerTransaction, code int, reason string, hdrs ...sip.Header) {
	if reason == "" {
		reason = reasonPhrase(code)
	}
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	p.decorate(res)
	if err := tx.Respond(res); err != nil {
		p.log.Debug("sip: sending a response failed", "code", code, "err", err)
	}
}

// sharedHeaders are headers a profile's messages carry, built once and
// appended to every message that needs them: sipgo only reads a header
// once it is in a message (it shares its own Contact the same way).
type sharedHeaders struct {
	userAgent sip.Header // User-Agent: user-agent-string
	allow     sip.Header // Allow: allowMethods
	sdpType   sip.Header // Content-Type: application/sdp
}

func newSharedHeaders(userAgent string) sharedHeaders {
	return sharedHeaders{
		userAgent: sip.NewHeader("User-Agent", userAgent),
		allow:     sip.NewHeader("Allow", allowMethods),
		sdpType:   sip.NewHeader("Content-Type", "application/sdp"),
	}
}

// decorate adds the headers every response of ours carries.
func (p *profile) decorate(res *sip.Response) {
	hasUA, hasAllow := false, false
	for _, h := range res.Headers() {
		switch n := h.Name(); {
		case asciiEqualFold(n, "User-Agent"):
			hasUA = true
		case asciiEqualFold(n, "Allow"):
			hasAllow = true
		}
	}
	if !hasUA {
		res.AppendHeader(p.hdr.userAgent)
	}
	if res.StatusCode == 405 || res.StatusCode == 200 || res.StatusCode == 501 {
		if !hasAllow {
			res.AppendHeader(p.hdr.allow)
		}
	}
}

// recoverHandler turns a panic in a request handler into a log line and,
// where possible, a 500: one bad message must not take the process down.
func (p *profile) recoverHandler(req *sip.Request, tx sip.ServerTransaction) {
	if r := recover(); r != nil {
		p.log.Error("sip: request handler panicked", "method", string(req.Method), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		if tx != nil && !req.IsAck() {
			func() {
				defer func() { _ = recover() }()
				p.reply(req, tx, 500, "")
			}()
		}
	}
}

// checkRequest applies the checks every request gets (RFC 3261 §8.2 and
// the RFC 4475 application-layer cases). It answers and returns false
// when the request must go no further.
func (p *profile) checkRequest(req *sip.Request, tx sip.ServerTransaction) bool {
	if req.From() == nil || req.To() == nil || req.CallID() == nil || req.CSeq() == nil || req.Via() == nil {
		p.reply(req, tx, 400, "Missing Mandatory Header")
		return false
	}
	if name := duplicateHeader(req); name != "" {
		p.reply(req, tx, 400, "Duplicate "+name)
		return false
	}
	if req.CSeq().MethodName != req.Method {
		p.reply(req, tx, 400, "CSeq Method Mismatch")
		return false
	}
	if s := strings.ToLower(req.Recipient.Scheme); s != "sip" && s != "sips" && s != "" {
		p.reply(req, tx, 416, "")
		return false
	}
	if req.IsAck() || req.IsCancel() {
		return true
	}
	var unsupported []string
	for _, h := range req.Headers() {
		if !asciiEqualFold(h.Name(), "Require") {
			continue
		}
		for _, opt := range strings.Split(h.Value(), ",") {
			opt = strings.TrimSpace(opt)
			if opt == "" || (strings.EqualFold(opt, "timer") && !p.cfg.NoTimer) {
				continue // RFC 4028 session timers (sessiontimer.go)
			}
			unsupported = append(unsupported, opt)
		}
	}
	if len(unsupported) > 0 {
		p.reply(req, tx, 420, "", sip.NewHeader("Unsupported", strings.Join(unsupported, ", ")))
		return false
	}
	return true
}

// hasHeader reports whether m has a header called name (ASCII case
// ignored), without sipgo's lower-casing of every name it passes.
func hasHeader(m interface{ Headers() []sip.Header }, name string) bool {
	for _, h := range m.Headers() {
		if asciiEqualFold(h.Name(), name) {
			return true
		}
	}
	return false
}

// singleHeaders may appear at most once in a request.
var singleHeaders = [...]string{"From", "To", "Call-ID", "CSeq", "Max-Forwards", "Content-Length", "Content-Type"}

// duplicateHeader returns the first of singleHeaders that req repeats, or
// "". One pass, no allocation.
func duplicateHeader(req *sip.Request) string {
	var count [len(singleHeaders)]int
	for _, h := range req.Headers() {
		n := h.Name()
		for i, name := range singleHeaders {
			if asciiEqualFold(n, name) {
				count[i]++
				break
			}
		}
	}
	for i, c := range count {
		if c > 1 {
			return singleHeaders[i]
		}
	}
	return ""
}

func (p *profile) onNoRoute(req *sip.Request, tx sip.ServerTransaction) {
	defer p.recoverHandler(req, tx)
	if req.IsAck() {
		return
	}
	switch req.Method {
	case sip.REGISTER, sip.SUBSCRIBE, sip.NOTIFY, sip.PUBLISH, sip.MESSAGE, sip.REFER, sip.UPDATE, sip.PRACK:
		p.reply(req, tx, 405, "")
	default:
		p.reply(req, tx, 501, "")
	}
}

func (p *profile) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	defer p.recoverHandler(req, tx)
	if !p.checkRequest(req, tx) {
		return
	}
	p.reply(req, tx, 200, "",
		sip.NewHeader("Accept", "application/sdp"),
		sip.NewHeader("Accept-Language", "en"),
	)
}

func (p *profile) onCancel(req *sip.Request, tx sip.ServerTransaction) {
	defer p.recoverHandler(req, tx)
	// The transaction layer answers CANCELs that match an INVITE in
	// progress (200, then 487 to the INVITE); one that reaches us matches
	// nothing.
	p.reply(req, tx, 481, "")
}

func (p *profile) onAck(req *sip.Request, tx sip.ServerTransaction) {
	defer p.recoverHandler(req, tx)
	if req.CSeq() == nil {
		return
	}
	switch c := p.lookup(req).(type) {
	case *call:
		if err := c.dlg.ReadAck(req, tx); err != nil {
			p.log.Debug("sip: ACK does not fit its dialog", "err", err)
		}
		c.onAck(req)
	case *outCall:
		c.onAck(req)
	}
}

func (p *profile) onBye(req *sip.Request, tx sip.ServerTransaction) {
	defer p.recoverHandler(req, tx)
	if !p.checkRequest(req, tx) {
		return
	}
	var c *call
	switch l := p.lookup(req).(type) {
	case *call:
		c = l
	case *outCall:
		l.onBye(req, tx)
		return
	default:
		p.reply(req, tx, 481, "")
		return
	}
	if req.CSeq().SeqNo < c.req.CSeq().SeqNo {
		p.reply(req, tx, 500, "CSeq Out Of Order")
		return
	}
	// Mark the call as ended by the far end before sipgo answers (which
	// wakes the INVITE goroutine if it still waits for the ACK), and hang
	// the session up only after: the hangup removes the dialog sipgo
	// needs to answer.
	c.markBye()
	if err := c.dlg.ReadBye(req, tx); err != nil {
		p.reply(req, tx, 481, "")
	}
	c.afterBye(req)
}

func (p *profile) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	defer p.recoverHandler(req, tx)
	if !p.checkRequest(req, tx) {
		return
	}
	var l *leg
	switch c := p.lookup(req).(type) {
	case *call:
		l = &c.leg
	case *outCall:
		l = &c.leg
	default:
		p.reply(req, tx, 481, "")
		return
	}
	if ct := req.ContentType(); ct != nil {
		if d, ok := infoDigit(ct.Value(), req.Body()); ok {
			l.queueDTMF(d)
		}
	}
	p.reply(req, tx, 200, "")
}

// reinvite answers an INVITE inside a dialog, of either kind of leg.
func (p *profile) reinvite(req *sip.Request, tx sip.ServerTransaction) {
	switch c := p.lookup(req).(type) {
	case *call:
		c.reinvite(req, tx)
	case *outCall:
		c.reinvite(req, tx)
	default:
		p.reply(req, tx, 481, "")
	}
}

// infoDigit reads a DTMF digit from a SIP INFO body (application/dtmf-relay
// "Signal=5" or application/dtmf "5").
func infoDigit(contentType string, body []byte) (rune, bool) {
	ct := strings.ToLower(strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]))
	var sig string
	switch ct {
	case "application/dtmf-relay":
		for _, line := range strings.Split(string(body), "\n") {
			k, v, ok := strings.Cut(line, "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
				sig = strings.TrimSpace(v)
				break
			}
		}
	case "application/dtmf":
		sig = strings.TrimSpace(string(body))
	default:
		return 0, false
	}
	if len(sig) != 1 {
		if n, err := strconv.Atoi(sig); err == nil {
			switch {
			case n >= 0 && n <= 9:
				return rune('0' + n), true
			case n == 10:
				return '*', true
			case n == 11:
				return '#', true
			}
		}
		return 0, false
	}
	d := rune(strings.ToUpper(sig)[0])
	if (d >= '0' && d <= '9') || d == '*' || d == '#' || (d >= 'A' && d <= 'D') {
		return d, true
	}
	return 0, false
}

// sourceOf returns the address a request came from.
func sourceOf(req *sip.Request) netip.AddrPort {
	ap, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		host, port, err := net.SplitHostPort(req.Source())
		if err != nil {
			return netip.AddrPort{}
		}
		a, err := netip.ParseAddr(host)
		if err != nil {
			return netip.AddrPort{}
		}
		n, _ := strconv.Atoi(port)
		return netip.AddrPortFrom(a.Unmap(), uint16(n))
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// isSDP reports whether a Content-Type names SDP.
func isSDP(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	return asciiEqualFold(strings.TrimSpace(mt), "application/sdp")
}

// acceptsSDP reports whether the request's Accept headers (if any) allow
// an SDP body in our responses.
func acceptsSDP(req *sip.Request) bool {
	found := false
	for _, h := range req.Headers() {
		if !asciiEqualFold(h.Name(), "Accept") {
			continue
		}
		found = true
		for _, t := range strings.Split(h.Value(), ",") {
			mt := strings.ToLower(strings.TrimSpace(strings.SplitN(t, ";", 2)[0]))
			if mt == "application/sdp" || mt == "application/*" || mt == "*/*" || mt == "" {
				return true
			}
		}
	}
	return !found
}

func (p *profile) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	defer p.recoverHandler(req, tx)
	if !p.checkRequest(req, tx) {
		return
	}
	if _, ok := req.To().Params.Get("tag"); ok {
		p.reinvite(req, tx)
		return
	}
	if req.Contact() == nil {
		p.reply(req, tx, 400, "Missing Contact")
		return
	}
	var body []byte
	if len(req.Body()) > 0 {
		ct := req.ContentType()
		if ct == nil || !isSDP(ct.Value()) {
			p.reply(req, tx, 415, "", sip.NewHeader("Accept", "application/sdp"))
			return
		}
		body = req.Body()
	}
	if !acceptsSDP(req) {
		p.reply(req, tx, 406, "", sip.NewHeader("Accept", "application/sdp"))
		return
	}
	if minSE := p.sessionTooBrief(req); minSE != 0 {
		p.reply(req, tx, 422, "", sip.NewHeader("Min-SE", strconv.Itoa(minSE)))
		return
	}
	e := p.e
	// Counted before the check, so StopAccepting either sees this INVITE
	// or this INVITE sees the endpoint closing.
	e.admitting.add(1)
	admitted := false
	defer func() {
		if !admitted {
			e.admitting.done()
		}
	}()
	if e.closing.Load() {
		p.reply(req, tx, 503, "Shutting Down")
		return
	}
	// Who the caller is (ACLs, digest authentication) is settled before
	// admission, so challenges and refusals use no call slot or
	// sessions-per-second token.
	src := sourceOf(req)
	transport := strings.ToLower(req.Transport())
	info := inviteInfo(req, p.cfg.Name, src, transport)
	ctxName, reject := p.classify(req, tx, src, info)
	if reject < 0 {
		return // answered (a digest challenge, or 403)
	}
	if reject != 0 {
		p.reply(req, tx, reject, "")
		return
	}
	if gr, ok := e.inboundGateway(req); ok {
		// A call to a gateway's Contact (gw+<name>) or carrying ;gw=<name>
		// is routed in the gateway's context, as mod_sofia does.
		ctxName = gr.context
		if gr.destination != "" {
			info.profile.DestinationNumber = cleanField(decodeUser(gr.destination))
		}
		for _, kv := range gr.vars {
			info.vars.set(kv[0], kv[1])
		}
	}
	if err := e.cfg.Manager.Admit(); err != nil {
		reason := "Maximum Calls In Progress"
		if errors.Is(err, session.ErrShuttingDown) {
			reason = "Shutting Down"
		}
		p.log.Warn("sip: call refused", "reason", err.Error(), "call_id", req.CallID().Value())
		p.reply(req, tx, 503, reason)
		return
	}
	info.profile.Context = ctxName
	info.profile.Dialplan = p.cfg.Dialplan
	if v := info.vars.get("inbound_dialplan"); v != "" {
		info.profile.Dialplan = v
	}

	var offer *remoteSDP
	var params audioParams
	if body != nil {
		var err error
		offer, err = parseSDP(body)
		if err == nil {
			params, err = negotiate(offer, p.negotiateOpts())
		}
		if err != nil {
			p.log.Info("sip: SDP offer refused", "call_id", req.CallID().Value(), "err", err)
			p.reply(req, tx, 488, "", sip.NewHeader("Warning", `304 switchboard "Media type not available"`))
			return
		}
	}

	dlg, err := p.dialogs.ReadInvite(req, tx)
	if err != nil {
		p.log.Debug("sip: INVITE could not start a dialog", "err", err)
		p.reply(req, tx, 500, "")
		return
	}
	c, err := newCall(p, dlg, req, tx, info, src, offer, params)
	if err != nil {
		p.log.Warn("sip: cannot set up the call's media", "err", err)
		_ = dlg.Respond(503, "No Media Ports", nil)
		_ = dlg.Close()
		return
	}
	if err := dlg.Respond(100, "Trying", nil); err != nil {
		p.log.Debug("sip: 100 Trying not sent", "err", err)
	}
	admitted = true
	c.run()
}

// negotiateOpts are the profile's offer/answer rules.
func (p *profile) negotiateOpts() negotiateOpts {
	return negotiateOpts{codecs: p.cfg.InboundCodecs, greedy: p.cfg.Greedy, dtmf: p.cfg.DTMFType == dtmfRFC2833}
}

// classify applies the profile's apply-inbound-acl lists to the caller
// (sofia_handle_sip_i_invite) and returns the context to route in, or a
// status to reject the call with. It sets sip_authorized, sip_acl_authed_by,
// sip_acl_token, acl_token and the variables of the directory user an ACL
// token names. A caller no ACL trusts must authenticate when auth-calls
// is set: classify then answers the INVITE itself (challenge or 403) and
// returns -1, or, once the caller has authenticated, sets the user's
// variables and routes to its user_context.
func (p *profile) classify(req *sip.Request, tx sip.ServerTransaction, src netip.AddrPort, info *callInfo) (string, int) {
	lists := p.e.acl.Load()
	ip := src.Addr()
	var aclContext, token, authedBy string
	ok := false
	for _, r := range p.cfg.InboundACL {
		authedBy = r.list
		var tok string
		if ok, tok = lists.CheckToken(r.list, ip, 0); ok {
			if r.pass != "" {
				aclContext = r.pass
			}
			token = tok
			break
		}
		aclContext = r.fail
	}
	authorized := false
	if len(p.cfg.InboundACL) > 0 {
		if ok {
			authorized = true
		} else if !p.cfg.AuthCalls && aclContext == "" {
			p.log.Warn(fmt.Sprintf("IP %s Rejected by acl %q", ip, authedBy))
			return "", 403
		}
	}
	if authorized {
		info.vars.set("sip_authorized", "true")
		info.vars.set("sip_acl_authed_by", authedBy)
		if token != "" {
			info.vars.set("sip_acl_token", token)
		}
	}
	userContext := ""
	if token != "" {
		info.vars.set("acl_token", token)
		userContext = p.applyUser(token, info)
	}
	if !authorized && p.cfg.AuthCalls {
		u, realm := p.authorizeInvite(req, tx, src, info)
		if u == nil {
			return "", -1
		}
		if uc := p.applyUser(u.ID+"@"+realm, info); uc != "" {
			return uc, 0
		}
		return p.cfg.Context, 0
	}
	switch {
	case aclContext != "":
		return aclContext, 0
	case userContext != "":
		return userContext, 0
	case p.cfg.Context == "_domain_":
		if from := req.From(); from != nil && from.Address.Host != "" {
			return cleanField(from.Address.Host), 0
		}
	}
	return p.cfg.Context, 0
}

// applyUser sets the channel variables of the directory user a token
// (id@domain) names and returns its user_context.
func (p *profile) applyUser(token string, info *callInfo) string {
	id, domain, ok := strings.Cut(token, "@")
	if !ok {
		return ""
	}
	d := p.e.snap.Load().Domain(domain)
	if d == nil {
		return ""
	}
	u := d.User(id)
	if u == nil {
		p.log.Warn("sip: ACL token names no directory user", "token", token)
		return ""
	}
	for k, v := range d.Variables {
		info.vars.set(k, v)
	}
	for k, v := range u.Variables {
		info.vars.set(k, v)
	}
	info.vars.set("user_name", u.ID)
	info.vars.set("domain_name", domain)
	return info.vars.get("user_context")
}

// natACL reports whether apply-nat-acl says the caller is behind NAT: its
// Via (or Contact) host is in a NAT list and its source address is not.
func (p *profile) natACL(req *sip.Request, src netip.Addr) bool {
	if len(p.cfg.NATACL) == 0 {
		return false
	}
	host := ""
	if v := req.Via(); v != nil && v.Host != "" {
		host = v.Host
	} else if c := req.Contact(); c != nil {
		host = c.Address.Host
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return false
	}
	lists := p.e.acl.Load()
	for _, l := range p.cfg.NATACL {
		if lists.Check(l, a) {
			for _, l2 := range p.cfg.NATACL {
				if lists.Check(l2, src) {
					return false
				}
			}
			return true
		}
	}
	return false
}

// privateAddr reports whether a is an address a phone behind NAT would
// advertise: RFC 1918, RFC 6598, link-local or IPv6 ULA.
func privateAddr(lists *acl.Lists, a netip.Addr) bool {
	return a.IsPrivate() || a.IsLinkLocalUnicast() || lists.Check(acl.RFC6598, a)
}

// reasonHeader is the Reason header FreeSWITCH puts on a BYE or a final
// response: Q.850;cause=N;text="NAME" for Q.850 causes, SIP;cause=N;...
// for FreeSWITCH's own (above 127); the channel's sip_reason replaces it
// and disable_q850_reason=true leaves it out (nil).
func reasonHeader(c cause.Cause, get func(string) (string, bool)) sip.Header {
	if get != nil {
		if v, ok := get("disable_q850_reason"); ok && caller.True(v) {
			return nil
		}
		if v, ok := get("sip_reason"); ok && v != "" && !strings.ContainsAny(v, "\r\n") {
			return sip.NewHeader("Reason", v)
		}
	}
	n := c.Q850()
	proto := "SIP;cause="
	if n > 0 && n < 128 {
		proto = "Q.850;cause="
	}
	return sip.NewHeader("Reason", proto+strconv.Itoa(n)+";text=\""+c.String()+"\"")
}

// causeFromReason reads a Q.850 cause from a Reason header value.
func causeFromReason(v string) (cause.Cause, bool) {
	for _, part := range strings.Split(v, ",") {
		fields := strings.Split(part, ";")
		if !strings.EqualFold(strings.TrimSpace(fields[0]), "Q.850") {
			continue
		}
		for _, f := range fields[1:] {
			k, val, ok := strings.Cut(strings.TrimSpace(f), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "cause") {
				n, err := strconv.Atoi(strings.TrimSpace(val))
				if err == nil && n > 0 && n <= 127 {
					return cause.Cause(n), true
				}
			}
		}
	}
	return 0, false
}
