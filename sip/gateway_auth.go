package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/switchboard-voip/switchboard/events"
)

// Answering digest challenges with a gateway's credentials. A 401 or 407
// is answered only when
//
//   - the gateway has a password,
//   - one of the response's challenges names the gateway's realm (the
//     realm param, else the proxy's host), and
//   - the response came from one of the gateway's hosts (proxy,
//     register-proxy, outbound-proxy, resolved), or from an address
//     gw-auth-acl allows when that is set.
//
// Anything else is refused, logged and reported as a
// sofia::gateway_invalid_digest_req event: a peer that challenges a
// request we sent (a BYE to a caller, an INVITE to an endpoint) must not
// obtain the provider's credentials (CVE-2021-41158, toll fraud).

// Reasons authorize refuses a challenge.
var (
	errNoCredentials = errors.New("the gateway has no password")
	errRealm         = errors.New("challenge realm is not the gateway's")
	errSource        = errors.New("challenge did not come from the gateway")
	errChallenge     = errors.New("no usable digest challenge")
)

// resolveWait bounds the DNS lookups of the source check.
const resolveWait = 2 * time.Second

// authorize returns the Authorization (401) or Proxy-Authorization (407)
// header that answers res, the challenge to req, with the gateway's
// credentials (auth-username, password). It refuses — and logs the
// refusal and fires sofia::gateway_invalid_digest_req — when the realm is
// not the gateway's, when res did not come from the gateway, or when the
// gateway has no password.
func (g *gateway) authorize(req *sip.Request, res *sip.Response) (sip.Header, error) {
	var challengeName, answerName string
	switch res.StatusCode {
	case 401:
		challengeName, answerName = "WWW-Authenticate", "Authorization"
	case 407:
		challengeName, answerName = "Proxy-Authenticate", "Proxy-Authorization"
	default:
		return nil, fmt.Errorf("sip: gateway %s: %d is not a challenge", g.cfg.name, res.StatusCode)
	}
	var chal *digest.Challenge
	var realms []string
	for _, h := range res.GetHeaders(challengeName) {
		c, err := digest.ParseChallenge(h.Value())
		if err != nil {
			continue
		}
		realms = append(realms, c.Realm)
		if strings.EqualFold(c.Realm, g.cfg.realm) && digest.CanDigest(c) {
			chal = c
			break
		}
	}
	src := res.Source()
	switch {
	case len(realms) == 0:
		return nil, g.refuse(errChallenge, "", src)
	case chal == nil:
		return nil, g.refuse(errRealm, strings.Join(realms, ","), src)
	}
	if !g.fromGateway(src) {
		return nil, g.refuse(errSource, chal.Realm, src)
	}
	if g.cfg.password == "" {
		return nil, g.refuse(errNoCredentials, chal.Realm, src)
	}
	chal.Algorithm = strings.ToUpper(chal.Algorithm)
	cred, err := digest.Digest(chal, digest.Options{
		Method:   string(req.Method),
		URI:      req.Recipient.String(),
		Username: g.cfg.authUsername,
		Password: g.cfg.password,
		Count:    1,
	})
	if err != nil {
		return nil, fmt.Errorf("sip: gateway %s: %w", g.cfg.name, err)
	}
	return sip.NewHeader(answerName, cred.String()), nil
}

// refuse logs a refused challenge, fires
// sofia::gateway_invalid_digest_req and returns the error.
func (g *gateway) refuse(why error, realm, src string) error {
	err := fmt.Errorf("sip: gateway %s: %w (realm %q from %s; the gateway's realm is %q)", g.cfg.name, why, realm, src, g.cfg.realm)
	g.log.Warn("sip: invalid digest request: not answering a challenge with the gateway's credentials",
		"reason", why.Error(), "realm", realm, "gateway_realm", g.cfg.realm, "source", src)
	if bus := g.e.cfg.Events; bus.Wants("CUSTOM", "sofia::gateway_invalid_digest_req") {
		ev := events.NewCustom("sofia::gateway_invalid_digest_req")
		ev.Add("Gateway", g.cfg.name)
		ev.Add("profile-name", g.cfg.profile)
		ev.Add("realm", realm)
		bus.Fire(ev)
	}
	return err
}

// fromGateway reports whether the address src ("ip:port") is the
// gateway's: allowed by gw-auth-acl when that is set, otherwise an
// address of its proxy, register-proxy or outbound-proxy.
func (g *gateway) fromGateway(src string) bool {
	ap, err := netip.ParseAddrPort(src)
	if err != nil {
		return false
	}
	ip := ap.Addr().Unmap()
	if g.cfg.authACL != "" {
		return g.e.acl.Load().Check(g.cfg.authACL, ip)
	}
	ctx, cancel := context.WithTimeout(context.Background(), resolveWait)
	defer cancel()
	for _, t := range []gwTarget{g.cfg.proxy, g.cfg.regProxy, g.cfg.obProxy} {
		if !t.set() {
			continue
		}
		for _, a := range resolveHost(ctx, t.bareHost(), t.port == 0, g.cfg.transport) {
			if a == ip {
				return true
			}
		}
	}
	return false
}

// resolveHost returns the addresses of host: itself when it is an
// address, else what DNS says — its A/AAAA records and, when no port was
// given (srv), the addresses of its SIP SRV targets for transport.
// Lookups that fail add nothing.
func resolveHost(ctx context.Context, host string, srv bool, transport string) []netip.Addr {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a.Unmap()}
	}
	r := net.DefaultResolver
	names := []string{host}
	if srv {
		if _, recs, err := r.LookupSRV(ctx, "sip", transport, host); err == nil {
			for _, rec := range recs {
				names = append(names, strings.TrimSuffix(rec.Target, "."))
			}
		}
	}
	var out []netip.Addr
	for _, n := range names {
		addrs, err := r.LookupNetIP(ctx, "ip", n)
		if err != nil {
			continue
		}
		for _, a := range addrs {
			out = append(out, a.Unmap())
		}
	}
	return out
}

// gatewayRoute is where an INVITE for a gateway's Contact is routed.
type gatewayRoute struct {
	gw          *gateway
	context     string      // the gateway's context
	destination string      // the destination number ("" keeps the request's)
	vars        [][2]string // sip_gateway and the inbound <variables>
}

// inboundGateway finds the gateway an INVITE was sent to — its Request-URI
// user is gw+<name> (the registration Contact) or it carries ;gw=<name> —
// and says how FreeSWITCH routes it: in the gateway's context, to the
// gateway's extension (auto_to_user and auto take the To user; without
// one, the To user for gw+<name>), with sip_gateway and the gateway's
// inbound variables set. It counts the call as the gateway's. ok is false
// when the INVITE is for no gateway.
func (e *Endpoint) inboundGateway(req *sip.Request) (gatewayRoute, bool) {
	var g *gateway
	ext := ""
	explicit := false
	if name, ok := strings.CutPrefix(req.Recipient.User, "gw+"); ok {
		name, _, _ = strings.Cut(name, "@")
		if x, found := e.lookupGateway(name); found {
			g, ext = x, x.exten()
		}
	}
	if g == nil {
		if name, ok := req.Recipient.UriParams.Get("gw"); ok && name != "" {
			if x, found := e.lookupGateway(name); found {
				g, ext, explicit = x, x.cfg.extension, true
			}
		}
	}
	if g == nil {
		return gatewayRoute{}, false
	}
	toUser := ""
	if to := req.To(); to != nil {
		toUser = to.Address.User
	}
	r := gatewayRoute{gw: g, context: g.cfg.context}
	switch {
	case strings.EqualFold(ext, "auto_to_user"):
		r.destination = toUser
	case strings.EqualFold(ext, "auto"):
		if !explicit {
			r.destination = toUser
		}
	case ext != "":
		r.destination = ext
	case !explicit:
		r.destination = toUser
	}
	r.vars = append([][2]string{{"sip_gateway", g.cfg.name}}, g.cfg.inVars...)
	g.ibCalls.Add(1)
	return r, true
}
