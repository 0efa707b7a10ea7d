package sip

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-voip/switchboard/conf"
)

// Registrar returns the endpoint's registrar: the contacts phones have
// registered (what the user/ endpoint and sofia_contact look up).
func (e *Endpoint) Registrar() *Registrar { return e.reg }

// authFailure logs a failed authentication on one line in mod_sofia's
// format, which fail2ban filters written for FreeSWITCH match.
func (p *profile) authFailure(method, user, host string, src netip.Addr) {
	p.log.Warn(fmt.Sprintf("SIP auth failure (%s) on sofia profile '%s' for [%s@%s] from ip %s", method, p.cfg.Name, user, host, src))
	if p.e.auth.fail(src) {
		p.log.Warn(fmt.Sprintf("SIP auth throttled: ip %s refused for %s after repeated failures", src, p.e.auth.window))
	}
}

// realm is the challenge realm of a request (challenge-realm): the To
// host by default, the From host with auto_from, or a fixed value.
func (p *profile) realm(req *sip.Request) string {
	switch r := p.cfg.ChallengeRealm; {
	case r == "" || strings.EqualFold(r, "auto_to"):
		if to := req.To(); to != nil {
			return cleanField(to.Address.Host)
		}
		return ""
	case strings.EqualFold(r, "auto_from"):
		if from := req.From(); from != nil {
			return cleanField(from.Address.Host)
		}
		return ""
	default:
		return r
	}
}

// authDomain is the directory domain credentials for realm are checked
// in: force-register-domain when set, else the realm.
func (p *profile) authDomain(realm string) string {
	if p.cfg.RegisterDomain != "" {
		return p.cfg.RegisterDomain
	}
	return realm
}

// authenticate checks a request's credentials for realm. It returns the
// user when they are good; otherwise it has answered the request (401/407
// challenge, or 403) and returns nil. proxy selects 407 and the
// Proxy-* headers (INVITE), as mod_sofia does.
func (p *profile) authenticate(req *sip.Request, tx sip.ServerTransaction, realm string, src netip.Addr, proxy bool) *conf.User {
	method := string(req.Method)
	if realm == "" {
		p.reply(req, tx, 403, "")
		return nil
	}
	if p.e.auth.Blocked(src) {
		p.reply(req, tx, 403, "")
		return nil
	}
	authz, challenge, code := "Authorization", "WWW-Authenticate", 401
	if proxy {
		authz, challenge, code = "Proxy-Authorization", "Proxy-Authenticate", 407
	}
	var creds *Credentials
	for _, h := range req.GetHeaders(authz) {
		if c := ParseCredentials(h.Value()); c != nil && strings.EqualFold(c.Realm, realm) {
			creds = c
			break
		}
	}
	d := p.e.snap.Load().Domain(p.authDomain(realm))
	res, u := p.e.auth.Check(creds, method, realm, d)
	switch res {
	case AuthNone, AuthStale:
		p.reply(req, tx, code, "", sip.NewHeader(challenge, p.e.auth.Challenge(realm, res == AuthStale)))
		return nil
	case AuthFailed:
		p.authFailure(method, creds.Username, realm, src)
		p.reply(req, tx, 403, "")
		return nil
	}
	return u
}

// onRegister is the registrar: digest authentication with the To
// domain as realm, then the contacts' bindings are added, refreshed or
// removed, and the 200 lists the user's current contacts.
func (p *profile) onRegister(req *sip.Request, tx sip.ServerTransaction) {
	defer p.recoverHandler(req, tx)
	if !p.checkRequest(req, tx) {
		return
	}
	if p.cfg.DisableRegister {
		p.reply(req, tx, 403, "")
		return
	}
	src := sourceOf(req)
	user := req.To().Address.User
	if user == "" {
		p.reply(req, tx, 400, "Missing User")
		return
	}
	u := p.authenticate(req, tx, p.realm(req), src.Addr(), false)
	if u == nil {
		return
	}
	realm := u.Domain // registrations are kept under the directory domain
	if !strings.EqualFold(u.ID, user) && !strings.EqualFold(u.NumberAlias, user) {
		// Authenticated, but registering someone else's address.
		p.authFailure("REGISTER", u.ID, realm, src.Addr())
		p.reply(req, tx, 403, "")
		return
	}
	reg := p.e.reg
	ctx := context.Background()
	def := DefaultRegisterExpires
	if h := req.GetHeader("Expires"); h != nil {
		n, err := strconv.Atoi(strings.TrimSpace(h.Value()))
		if err != nil || n < 0 {
			p.reply(req, tx, 400, "Bad Expires")
			return
		}
		def = time.Duration(n) * time.Second
	}
	var contacts []*sip.ContactHeader
	for _, h := range req.GetHeaders("Contact") {
		if c, ok := h.(*sip.ContactHeader); ok {
			contacts = append(contacts, c)
		}
	}
	now := reg.now()
	for _, c := range contacts {
		if c.Address.Wildcard {
			if len(contacts) != 1 || def != 0 {
				p.reply(req, tx, 400, "Bad Wildcard Contact")
				return
			}
			if err := reg.UnregisterAll(ctx, u.ID, realm); err != nil {
				p.log.Error("sip: unregister failed", "err", err)
				p.reply(req, tx, 500, "")
				return
			}
			p.log.Info("sip: unregistered", "user", u.ID+"@"+realm, "contact", "*")
			p.reply(req, tx, 200, "")
			return
		}
	}
	for _, c := range contacts {
		exp := def
		if v, ok := c.Params.Get("expires"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 0 {
				p.reply(req, tx, 400, "Bad Expires")
				return
			}
			exp = time.Duration(n) * time.Second
		}
		if exp > 0 && exp < MinRegisterExpires {
			p.reply(req, tx, 423, "Interval Too Brief", sip.NewHeader("Min-Expires", strconv.Itoa(int(MinRegisterExpires/time.Second))))
			return
		}
		exp = min(exp, MaxRegisterExpires)
		ua := ""
		if h := req.GetHeader("User-Agent"); h != nil {
			ua = h.Value()
		}
		entry := Contact{
			User: u.ID, Realm: realm, URI: c.Address.String(), CallID: req.CallID().Value(),
			Expires: now.Add(exp), Profile: p.cfg.Name,
			NetworkIP: src.Addr().String(), NetworkPort: int(src.Port()),
			Transport: strings.ToLower(req.Transport()), UserAgent: ua,
		}
		if err := reg.Register(ctx, entry); err != nil {
			p.log.Error("sip: registration not stored", "err", err)
			p.reply(req, tx, 500, "")
			return
		}
		p.log.Info("sip: registered", "user", u.ID+"@"+realm, "contact", entry.URI, "expires", int(exp/time.Second), "ip", entry.NetworkIP)
	}
	if err := reg.Prune(ctx); err != nil {
		p.log.Warn("sip: pruning lapsed registrations failed", "err", err)
	}
	var hdrs []sip.Header
	for _, c := range reg.Contacts(u.ID, realm) {
		secs := int(c.Expires.Sub(now).Round(time.Second) / time.Second)
		hdrs = append(hdrs, sip.NewHeader("Contact", "<"+c.URI+">;expires="+strconv.Itoa(secs)))
	}
	hdrs = append(hdrs, sip.NewHeader("Date", now.UTC().Format(http.TimeFormat)))
	p.reply(req, tx, 200, "", hdrs...)
}

// authorizeInvite challenges an INVITE from a caller the ACLs do not
// trust (auth-calls=true), realm = the From domain. It returns the user
// once the caller has authenticated; otherwise it has answered the
// INVITE and returns nil.
func (p *profile) authorizeInvite(req *sip.Request, tx sip.ServerTransaction, src netip.AddrPort, info *callInfo) (*conf.User, string) {
	realm := p.realm(req)
	if p.cfg.ChallengeRealm == "" || strings.EqualFold(p.cfg.ChallengeRealm, "auto_to") {
		// An INVITE's To names the callee: phones answer for the domain
		// they call from.
		if from := req.From(); from != nil {
			realm = cleanField(from.Address.Host)
		}
	}
	u := p.authenticate(req, tx, realm, src.Addr(), true)
	if u == nil {
		return nil, ""
	}
	info.vars.set("sip_authorized", "true")
	info.vars.set("sip_auth_username", u.ID)
	info.vars.set("sip_auth_realm", realm)
	return u, u.Domain
}
