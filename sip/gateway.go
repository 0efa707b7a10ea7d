package sip

// Gateways: FreeSWITCH's sofia gateways. A <gateway> inside a profile's
// <gateways> is a SIP peer (a provider's registrar and proxy) the switch
// registers with and places calls through (sofia/gateway/<name>/<number>).
//
// Each running gateway has one goroutine that owns its registration state
// machine (FreeSWITCH's states and names: UNREGED, TRYING, REGISTER,
// REGED, FAILED, FAIL_WAIT, NOREG, DOWN, TIMEOUT, ...) and its OPTIONS
// pings; the REGISTER and OPTIONS exchanges run on short-lived goroutines
// that report back to it. A registration is refreshed before it expires,
// a failure is retried after retry-seconds (growing with the number of
// failures, as FreeSWITCH does), and a registered gateway unregisters
// (Expires: 0) when it is killed (`sofia profile <p> killgw <gw>`) or the
// endpoint shuts down. Pings count successes and failures between 0 and
// ping-max; the gateway is up from ping-min successes on and down below.
//
// Digest challenges are answered only when the challenge's realm is the
// gateway's realm and the response came from one of the gateway's hosts
// (gateway_auth.go): the CVE-2021-41158 digest leak.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/beevik/etree"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/events"
)

// Errors of the gateway control methods.
var (
	// ErrNoGateway: no running gateway has that name.
	ErrNoGateway = errors.New("no such gateway")
	// ErrNoProfile: no profile has that name.
	ErrNoProfile = errors.New("no such profile")
	// ErrNoRegister: the gateway has register=false (NOREG), so it cannot
	// be registered or unregistered.
	ErrNoRegister = errors.New("gateway does not register")
	// ErrGatewayNotConfigured: the configuration in force has no such
	// gateway in that profile.
	ErrGatewayNotConfigured = errors.New("gateway not in the configuration")
)

// unregisterWait bounds the wait for the answer to an unregistration
// (Expires: 0) when a gateway is killed or the endpoint shuts down.
const unregisterWait = 2 * time.Second

// regState is a gateway's registration state; the names are FreeSWITCH's.
type regState int

const (
	regUnreged regState = iota
	regTrying
	regRegister
	regReged
	regUnregister
	regFailed
	regFailWait
	regExpired
	regNoreg
	regDown
	regTimeout
)

var regStateNames = [...]string{"UNREGED", "TRYING", "REGISTER", "REGED", "UNREGISTER", "FAILED", "FAIL_WAIT", "EXPIRED", "NOREG", "DOWN", "TIMEOUT"}

func (s regState) String() string {
	if s < 0 || int(s) >= len(regStateNames) {
		return ""
	}
	return regStateNames[s]
}

// gwTarget is a proxy, register-proxy or outbound-proxy value:
// host[:port][;params], with or without a "sip:" prefix.
type gwTarget struct {
	host   string // as in a URI: an IPv6 address in brackets
	port   int    // 0: not given
	params string // URI parameters after the host, without the first ';'
}

func (t gwTarget) set() bool { return t.host != "" }

// hostPort is host[:port].
func (t gwTarget) hostPort() string {
	if t.port > 0 {
		return t.host + ":" + strconv.Itoa(t.port)
	}
	return t.host
}

// String is host[:port][;params], FreeSWITCH's proxy value without "sip:".
func (t gwTarget) String() string {
	if t.params != "" {
		return t.hostPort() + ";" + t.params
	}
	return t.hostPort()
}

// bareHost is the host without IPv6 brackets, for resolving.
func (t gwTarget) bareHost() string { return strings.TrimSuffix(strings.TrimPrefix(t.host, "["), "]") }

// param returns the value of a URI parameter of the target.
func (t gwTarget) param(name string) (string, bool) {
	for _, kv := range strings.Split(t.params, ";") {
		k, v, _ := strings.Cut(kv, "=")
		if strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// uriParams returns the target's parameters as URI parameters.
func (t gwTarget) uriParams() sip.HeaderParams {
	hp := sip.NewParams()
	for _, kv := range strings.Split(t.params, ";") {
		k, v, _ := strings.Cut(kv, "=")
		if k = strings.TrimSpace(k); k != "" {
			hp.Add(k, strings.TrimSpace(v))
		}
	}
	return hp
}

// parseTarget reads a proxy value. A user part, TLS (sips:) and a bad
// port are errors.
func parseTarget(s string) (gwTarget, error) {
	s = strings.TrimSpace(s)
	switch l := strings.ToLower(s); {
	case strings.HasPrefix(l, "sips:"):
		return gwTarget{}, fmt.Errorf("%q: sips (TLS) is not supported", s)
	case strings.HasPrefix(l, "sip:"):
		s = s[4:]
	}
	if strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return gwTarget{}, fmt.Errorf("%q holds blanks or control characters", s)
	}
	hostport, params, _ := strings.Cut(s, ";")
	if hostport == "" || strings.ContainsAny(hostport, "@<> \t\"") {
		return gwTarget{}, fmt.Errorf("%q is not host[:port][;params]", s)
	}
	t := gwTarget{params: strings.Trim(params, "; ")}
	portStr := ""
	switch {
	case strings.HasPrefix(hostport, "["):
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return gwTarget{}, fmt.Errorf("%q: unterminated IPv6 address", s)
		}
		t.host = hostport[:end+1]
		rest := hostport[end+1:]
		if rest != "" {
			if rest[0] != ':' {
				return gwTarget{}, fmt.Errorf("%q is not host[:port]", s)
			}
			portStr = rest[1:]
		}
		if a, err := netip.ParseAddr(t.bareHost()); err != nil || a.Zone() != "" {
			return gwTarget{}, fmt.Errorf("%q: bad IPv6 address", s)
		}
	case strings.Count(hostport, ":") > 1:
		// A zone (fe80::1%eth0) has no place in a SIP URI's host.
		a, err := netip.ParseAddr(hostport)
		if err != nil || a.Zone() != "" {
			return gwTarget{}, fmt.Errorf("%q is not host[:port]", s)
		}
		t.host = "[" + a.String() + "]"
	default:
		t.host, portStr, _ = strings.Cut(hostport, ":")
		if strings.ContainsAny(hostport, ":") && portStr == "" {
			return gwTarget{}, fmt.Errorf("%q: empty port", s)
		}
	}
	if portStr != "" {
		n, err := strconv.Atoi(portStr)
		if err != nil || n < 1 || n > 65535 {
			return gwTarget{}, fmt.Errorf("%q: bad port %q", s, portStr)
		}
		t.port = n
	}
	if t.host == "" {
		return gwTarget{}, fmt.Errorf("%q has no host", s)
	}
	return t, nil
}

// gwConfig is one <gateway> of a sofia.conf profile, read and checked.
type gwConfig struct {
	name    string
	profile string
	pos     string // where it was written (file:line)

	register           bool
	scheme             string
	realm              string // the realm challenges must name
	username           string
	authUsername       string
	password           string
	fromUser           string
	fromDomain         string // from-domain, as written
	extension          string // extension as written ("" when not given)
	extensionInContact bool
	proxy              gwTarget
	regProxy           gwTarget // register-proxy; unset when not given
	obProxy            gwTarget // outbound-proxy; unset when not given
	transport          string   // register-transport: "udp" or "tcp"
	expires            int      // expire-seconds
	retry              int      // retry-seconds
	retry908           int      // 908-retry-seconds (0: retry-seconds)
	timeout            int      // timeout-seconds
	ping               int      // ping (seconds; 0: no pings)
	pingMin, pingMax   int
	pingUA             string
	pingMonitoring     bool
	contactInPing      bool
	callerIDInFrom     bool
	context            string
	contactParams      string // without the leading ';'
	contactHost        string
	distinctTo         bool
	destPrefix         string
	authACL            string      // gw-auth-acl
	inVars, outVars    [][2]string // <variables>, by direction
}

// validGatewayName is FreeSWITCH's rule for gateway names.
var validGatewayName = regexp.MustCompile(`^[\w.\-]+$`)

// parseGateways reads the <gateways> of every profile of sofia.conf
// (pcs are its profiles, already read) and returns them by profile name,
// in the order written. Gateway names are unique across profiles, as in
// FreeSWITCH (sofia/gateway/<name> names no profile). A gateway that
// cannot work is an error naming it and where it was written.
func parseGateways(snap *conf.Snapshot, pcs []*ProfileConfig, log *slog.Logger) (map[string][]*gwConfig, error) {
	cfg := snap.Configuration("sofia.conf")
	if cfg == nil {
		return nil, nil
	}
	profiles := map[string]*ProfileConfig{}
	for _, pc := range pcs {
		profiles[pc.Name] = pc
	}
	out := map[string][]*gwConfig{}
	seen := map[string]*gwConfig{}
	for _, list := range cfg.SelectElements("profiles") {
		for _, el := range list.SelectElements("profile") {
			pc := profiles[el.SelectAttrValue("name", "")]
			if pc == nil {
				continue
			}
			for _, gws := range el.SelectElements("gateways") {
				for _, gel := range gws.SelectElements("gateway") {
					gc, err := parseGateway(snap, gel, pc, log)
					if err != nil {
						return nil, err
					}
					if first, dup := seen[strings.ToLower(gc.name)]; dup {
						return nil, fmt.Errorf("%s: sofia.conf: gateway %q defined twice (first in profile %s at %s)", gc.pos, gc.name, first.profile, first.pos)
					}
					seen[strings.ToLower(gc.name)] = gc
					out[pc.Name] = append(out[pc.Name], gc)
				}
			}
		}
	}
	return out, nil
}

// gatewayChildren returns the <param> (or <variable>) elements of a
// gateway, whether written directly inside it or inside <params>
// (<variables>).
func gatewayChildren(gel *etree.Element, wrapper, tag string) []*etree.Element {
	var out []*etree.Element
	for _, w := range gel.SelectElements(wrapper) {
		out = append(out, w.SelectElements(tag)...)
	}
	return append(out, gel.SelectElements(tag)...)
}

func parseGateway(snap *conf.Snapshot, gel *etree.Element, pc *ProfileConfig, log *slog.Logger) (*gwConfig, error) {
	name := gel.SelectAttrValue("name", "")
	here := snap.Pos(gel).String()
	fail := func(at *etree.Element, format string, args ...any) error {
		return fmt.Errorf("%s: sofia.conf profile %q gateway %q: %s", snap.Pos(at), pc.Name, name, fmt.Sprintf(format, args...))
	}
	if !validGatewayName.MatchString(name) {
		return nil, fail(gel, "a gateway needs a name of letters, digits, '_', '.' and '-'")
	}
	g := &gwConfig{
		name: name, profile: pc.Name, pos: here,
		register: true, scheme: "Digest", transport: "udp",
		expires: 3600, retry: 30, timeout: 60, pingMin: 1, pingMax: 1,
		context: pc.Context,
	}
	if g.context == "" {
		g.context = "default"
	}
	lg := log.With("profile", pc.Name, "gateway", name, "pos", here)
	number := func(p *etree.Element, param, val string) (int, error) {
		n, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil {
			return 0, fail(p, "%s %q is not a number", param, val)
		}
		return n, nil
	}
	var proxy, regProxy, obProxy string
	transportSet := false
	var proxyEl, regProxyEl, obProxyEl *etree.Element
	for _, p := range gatewayChildren(gel, "params", "param") {
		param := strings.ToLower(strings.TrimSpace(p.SelectAttrValue("name", "")))
		val := p.SelectAttrValue("value", "")
		var err error
		switch param {
		case "register":
			g.register = caller.True(strings.TrimSpace(val))
		case "scheme":
			g.scheme = val
			if !strings.EqualFold(strings.TrimSpace(val), "digest") {
				lg.Warn("sip: gateway scheme is not Digest; only digest authentication is supported", "scheme", val)
			}
		case "realm":
			g.realm = strings.TrimSpace(val)
		case "username":
			g.username = val
		case "auth-username":
			g.authUsername = val
		case "password":
			g.password = val
		case "from-user":
			g.fromUser = val
		case "from-domain":
			g.fromDomain = strings.TrimSpace(val)
			if strings.EqualFold(g.fromDomain, "auto-aleg-full") || strings.EqualFold(g.fromDomain, "auto-aleg-domain") {
				lg.Warn("sip: from-domain "+g.fromDomain+" is not supported; the From domain is the proxy's host", "value", val)
				g.fromDomain = ""
			}
		case "extension":
			g.extension = strings.TrimSpace(val)
		case "extension-in-contact":
			g.extensionInContact = caller.True(val)
		case "caller-id-in-from":
			g.callerIDInFrom = caller.True(val)
		case "proxy":
			proxy, proxyEl = val, p
		case "register-proxy":
			regProxy, regProxyEl = val, p
		case "outbound-proxy":
			obProxy, obProxyEl = val, p
		case "register-transport":
			switch t := strings.ToLower(strings.TrimSpace(val)); t {
			case "udp", "tcp":
				g.transport, transportSet = t, true
			default:
				return nil, fail(p, "register-transport %q is not supported (udp or tcp)", val)
			}
		case "expire-seconds":
			g.expires, err = number(p, param, val)
		case "retry-seconds", "retry_seconds":
			g.retry, err = number(p, param, val)
		case "908-retry-seconds":
			g.retry908, err = number(p, param, val)
		case "timeout-seconds":
			g.timeout, err = number(p, param, val)
		case "ping":
			g.ping, err = number(p, param, val)
		case "ping-max":
			g.pingMax, err = number(p, param, val)
		case "ping-min":
			g.pingMin, err = number(p, param, val)
		case "ping-user-agent":
			g.pingUA = val
		case "ping-monitoring":
			g.pingMonitoring = caller.True(val)
		case "contact-in-ping":
			g.contactInPing = caller.True(val)
		case "context":
			if v := strings.TrimSpace(val); v != "" {
				g.context = v
			}
		case "contact-params":
			g.contactParams = strings.Trim(strings.TrimSpace(val), ";")
		case "contact-host":
			g.contactHost = strings.TrimSpace(val)
		case "distinct-to":
			g.distinctTo = caller.True(val)
		case "destination-prefix":
			g.destPrefix = strings.TrimSpace(val)
		case "gw-auth-acl":
			g.authACL = strings.TrimSpace(val)
		case "rfc-5626", "reg-id", "options-user-agent":
			lg.Warn("sip: gateway param not supported; ignored", "param", param)
		default:
			lg.Warn("sip: unknown gateway param; ignored", "param", param)
		}
		if err != nil {
			return nil, err
		}
	}
	for _, v := range gatewayChildren(gel, "variables", "variable") {
		vn, vv := v.SelectAttrValue("name", ""), v.SelectAttrValue("value", "")
		if vn == "" {
			return nil, fail(v, "a <variable> needs a name")
		}
		switch d := strings.ToLower(v.SelectAttrValue("direction", "")); d {
		case "inbound":
			g.inVars = append(g.inVars, [2]string{vn, vv})
		case "outbound":
			g.outVars = append(g.outVars, [2]string{vn, vv})
		case "":
			g.inVars = append(g.inVars, [2]string{vn, vv})
			g.outVars = append(g.outVars, [2]string{vn, vv})
		default:
			return nil, fail(v, "variable %q: direction %q is neither inbound nor outbound", vn, d)
		}
	}
	if len(gel.SelectElements("subscriptions")) > 0 {
		lg.Warn("sip: gateway <subscriptions> are not supported; ignored")
	}

	// Where it is: proxy (default: the realm, else the name); the realm
	// challenges must name (default: the proxy's host).
	var err error
	switch {
	case strings.TrimSpace(proxy) != "":
		if g.proxy, err = parseTarget(proxy); err != nil {
			return nil, fail(proxyEl, "proxy %v", err)
		}
	case g.realm != "":
		if g.proxy, err = parseTarget(g.realm); err != nil {
			return nil, fail(gel, "no proxy, and the realm is not a host: %v", err)
		}
	default:
		if g.proxy, err = parseTarget(name); err != nil {
			return nil, fail(gel, "no proxy, and the name is not a host: %v", err)
		}
	}
	if g.realm == "" {
		g.realm = g.proxy.bareHost()
	}
	if strings.TrimSpace(regProxy) != "" {
		if g.regProxy, err = parseTarget(regProxy); err != nil {
			return nil, fail(regProxyEl, "register-proxy %v", err)
		}
	}
	if strings.TrimSpace(obProxy) != "" {
		if g.obProxy, err = parseTarget(obProxy); err != nil {
			return nil, fail(obProxyEl, "outbound-proxy %v", err)
		}
	}
	if tp, ok := g.proxy.param("transport"); ok {
		// The proxy's transport param decides, as it does in FreeSWITCH's
		// URIs; register-transport may only agree with it.
		at := proxyEl
		if at == nil {
			at = gel
		}
		tp = strings.ToLower(tp)
		switch {
		case tp != "udp" && tp != "tcp":
			return nil, fail(at, "proxy transport=%s is not supported (udp or tcp)", tp)
		case transportSet && tp != g.transport:
			return nil, fail(at, "proxy says transport=%s but register-transport is %s", tp, g.transport)
		}
		g.transport = tp
	}

	// Credentials.
	if g.register {
		if g.username == "" {
			return nil, fail(gel, "username param is required when register is true")
		}
		if g.password == "" {
			return nil, fail(gel, "password param is required when register is true")
		}
	} else if g.username == "" {
		g.username = "FreeSWITCH"
	}
	if g.authUsername == "" {
		g.authUsername = g.username
	}
	if g.fromUser == "" {
		g.fromUser = g.username
	}

	// Timing: FreeSWITCH replaces values below 5 seconds with its defaults.
	if g.expires < 5 {
		lg.Warn("sip: expire-seconds below 5; using 3600", "value", g.expires)
		g.expires = 3600
	}
	if g.retry < 5 {
		lg.Warn("sip: retry-seconds below 5; using 30", "value", g.retry)
		g.retry = 30
	}
	if g.timeout < 5 {
		lg.Warn("sip: timeout-seconds below 5; using 60", "value", g.timeout)
		g.timeout = 60
	}
	if g.retry908 < 0 {
		g.retry908 = 0
	}
	switch {
	case g.ping < 0:
		return nil, fail(gel, "ping %d is negative", g.ping)
	case g.ping > 0 && g.ping < 5:
		lg.Warn("sip: ping below 5 seconds; pings are off", "value", g.ping)
		g.ping = 0
	}
	if g.ping > 0 {
		if g.pingMin < 1 || g.pingMax < 1 {
			return nil, fail(gel, "ping-min and ping-max must be at least 1")
		}
		if g.pingMin > g.pingMax {
			return nil, fail(gel, "ping-min %d is above ping-max %d: the gateway could never be up", g.pingMin, g.pingMax)
		}
	}
	return g, nil
}

// GatewayTiming scales the gateways' timing. Zero fields keep real time.
type GatewayTiming struct {
	// Second is how long one of the configuration's seconds lasts
	// (expire-seconds, retry-seconds, timeout-seconds, ping and the
	// refresh margins); zero is time.Second. Tests shorten it. The values
	// sent on the wire (Expires) stay the configured numbers.
	Second time.Duration
}

// gatewaySet holds the endpoint's gateways: the configured ones (from the
// configuration in force) and the running ones.
type gatewaySet struct {
	mu      sync.Mutex
	configs map[string][]*gwConfig // by profile, from the configuration in force
	running map[string]*gateway    // by lower-case name
	// stopping holds killed gateways until their loops end (a registered
	// one is unregistering), so a restart of the same name waits for it.
	stopping map[string]*gateway
	seq      uint64         // start order, for listings
	started  bool           // Start ran: new gateways start at once
	closed   bool           // Shutdown ran: no gateway starts any more
	wg       sync.WaitGroup // gateway loops and their stoppers
}

// gateway is one running gateway.
type gateway struct {
	e   *Endpoint
	p   *profile
	cfg *gwConfig
	log *slog.Logger
	seq uint64

	callID string // one Call-ID for all its REGISTERs (RFC 3261 §10.2)
	tag    string // its From tag

	ctx    context.Context
	cancel context.CancelFunc
	quit   chan context.Context // the stopper's context, read when ctx ends
	cmds   chan gwCommand
	regRes chan regResult
	pingCh chan pingResult
	done   chan struct{}
	after  <-chan struct{} // a killed predecessor of the same name; run waits for it
	kids   sync.WaitGroup

	ibCalls, obCalls, ibFailed, obFailed atomic.Uint64

	mu        sync.Mutex
	cseq      uint32
	state     regState
	up        bool
	uptime    time.Time
	failures  int
	retryAt   time.Time // next attempt (FAIL_WAIT) or give-up time (TRYING)
	pingAt    time.Time // next ping
	pinging   bool
	pingCount int
	pingTime  time.Duration
	netAddr   netip.AddrPort // where the last registration answer came from
}

type gwCommand int

const (
	cmdRegister gwCommand = iota
	cmdUnregister
)

// regResult is the outcome of a REGISTER exchange.
type regResult struct {
	unregister bool
	code       int    // final status; 908 when timeout-seconds passed
	phrase     string // its reason phrase
	granted    int    // the expiry the registrar granted, in seconds (2xx)
	src        netip.AddrPort
}

// pingResult is the outcome of an OPTIONS ping.
type pingResult struct {
	code   int
	phrase string
	rtt    time.Duration
}

// gwSecond is how long one configuration second of gateway timing lasts.
func (e *Endpoint) gwSecond() time.Duration {
	if s := e.cfg.Gateways.Second; s > 0 {
		return s
	}
	return time.Second
}

// secs converts a number of configuration seconds to a duration.
func (g *gateway) secs(n int) time.Duration { return time.Duration(n) * g.e.gwSecond() }

// startGateways starts the configured gateways; Start calls it once the
// profiles listen.
func (e *Endpoint) startGateways() {
	e.gws.mu.Lock()
	defer e.gws.mu.Unlock()
	e.gws.started = true
	for _, p := range e.profiles {
		for _, gc := range e.gws.configs[p.cfg.Name] {
			e.startGatewayLocked(p, gc)
		}
	}
}

// startGatewayLocked starts gc on p unless a gateway of that name runs.
// It reports whether it started one. e.gws.mu is held.
func (e *Endpoint) startGatewayLocked(p *profile, gc *gwConfig) bool {
	if e.gws.closed || !e.gws.started {
		return false
	}
	key := strings.ToLower(gc.name)
	if e.gws.running == nil {
		e.gws.running = map[string]*gateway{}
	}
	if _, ok := e.gws.running[key]; ok {
		return false
	}
	e.gws.seq++
	g := newGateway(e, p, gc, e.gws.seq)
	if old := e.gws.stopping[key]; old != nil {
		g.after = old.done
	}
	e.gws.running[key] = g
	e.gws.wg.Add(1)
	go func() {
		defer e.gws.wg.Done()
		g.run()
		e.gws.mu.Lock()
		if e.gws.stopping[key] == g {
			delete(e.gws.stopping, key)
		}
		e.gws.mu.Unlock()
	}()
	g.fireSimple("sofia::gateway_add")
	g.log.Info("sip: gateway started", "proxy", gc.proxy.String(), "register", gc.register)
	return true
}

func newGateway(e *Endpoint, p *profile, gc *gwConfig, seq uint64) *gateway {
	ctx, cancel := context.WithCancel(context.Background())
	g := &gateway{
		e: e, p: p, cfg: gc, seq: seq,
		log:    p.log.With("gateway", gc.name),
		callID: fmt.Sprintf("%016x%016x", rand.Uint64(), rand.Uint64()),
		tag:    sip.GenerateTagN(16),
		ctx:    ctx, cancel: cancel,
		quit:   make(chan context.Context, 1),
		cmds:   make(chan gwCommand, 4),
		regRes: make(chan regResult, 1),
		pingCh: make(chan pingResult, 1),
		done:   make(chan struct{}),
		cseq:   rand.Uint32N(1 << 15),
	}
	if gc.register {
		g.state = regUnreged
	} else {
		g.state = regNoreg
		g.up = true
		g.uptime = time.Now()
	}
	return g
}

// stopGateways stops every gateway (registered ones unregister) and
// waits for them, or for ctx; Shutdown calls it before the listeners
// close. No gateway starts afterwards.
func (e *Endpoint) stopGateways(ctx context.Context) {
	e.gws.mu.Lock()
	e.gws.closed = true
	var all []*gateway
	for _, g := range e.gws.running {
		all = append(all, g)
	}
	e.gws.running = nil
	e.gws.mu.Unlock()
	for _, g := range all {
		g.stop(ctx)
	}
	done := make(chan struct{})
	go func() { e.gws.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// stop ends the gateway's loop (a registered gateway unregisters first,
// within unregisterWait and ctx) without waiting for it.
func (g *gateway) stop(ctx context.Context) {
	select {
	case g.quit <- ctx:
	default:
	}
	g.cancel()
}

// lookupGateway finds a running gateway by name ("name" or
// "profile::name", ignoring case), as sofia/gateway/<name> does.
func (e *Endpoint) lookupGateway(name string) (*gateway, bool) {
	prof, gw, scoped := strings.Cut(name, "::")
	if !scoped {
		gw = name
	}
	e.gws.mu.Lock()
	g, ok := e.gws.running[strings.ToLower(gw)]
	e.gws.mu.Unlock()
	if !ok || (scoped && !strings.EqualFold(g.cfg.profile, prof)) {
		return nil, false
	}
	return g, true
}

// gatewaysOf returns the running gateways, of one profile ("" for all),
// in start order.
func (e *Endpoint) gatewaysOf(profile string) []*gateway {
	e.gws.mu.Lock()
	var out []*gateway
	for _, g := range e.gws.running {
		if profile == "" || g.cfg.profile == profile {
			out = append(out, g)
		}
	}
	e.gws.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// profileByName returns the profile called name (ignoring case).
func (e *Endpoint) profileByName(name string) *profile {
	for _, p := range e.profiles {
		if strings.EqualFold(p.cfg.Name, name) {
			return p
		}
	}
	return nil
}

// setGatewayConfigs records the gateways of the configuration in force
// (New, ApplyReload). Running gateways are not changed: `sofia profile
// <name> rescan` starts the new ones, killgw stops one, as in FreeSWITCH.
func (e *Endpoint) setGatewayConfigs(c map[string][]*gwConfig) {
	e.gws.mu.Lock()
	defer e.gws.mu.Unlock()
	old := e.gws.configs
	e.gws.configs = c
	if !e.gws.started {
		return
	}
	oldByName := map[string]*gwConfig{}
	for _, list := range old {
		for _, gc := range list {
			oldByName[strings.ToLower(gc.name)] = gc
		}
	}
	for prof, list := range c {
		for _, gc := range list {
			prev, ok := oldByName[strings.ToLower(gc.name)]
			switch {
			case !ok:
				e.log.Info(fmt.Sprintf("sip: gateway %s is new in the configuration; `sofia profile %s rescan` starts it", gc.name, prof))
			case !sameGateway(prev, gc):
				e.log.Info(fmt.Sprintf("sip: gateway %s changed in the configuration; `sofia profile %s killgw %s` then `rescan` applies it", gc.name, prof, gc.name))
			}
		}
	}
}

// sameGateway reports whether two gateway configurations say the same
// (the position aside).
func sameGateway(a, b *gwConfig) bool {
	x, y := *a, *b
	x.pos, y.pos = "", ""
	return fmt.Sprint(x) == fmt.Sprint(y)
}

// RescanGateways is `sofia profile <name> rescan`: it starts every
// gateway the configuration in force gives the profile that is not
// running, and returns their names. Running gateways keep their settings
// (killgw first to change one), as in FreeSWITCH.
func (e *Endpoint) RescanGateways(profileName string) ([]string, error) {
	p := e.profileByName(profileName)
	if p == nil {
		return nil, ErrNoProfile
	}
	e.gws.mu.Lock()
	defer e.gws.mu.Unlock()
	var started []string
	for _, gc := range e.gws.configs[p.cfg.Name] {
		if e.startGatewayLocked(p, gc) {
			started = append(started, gc.name)
		}
	}
	return started, nil
}

// StartGateway is `sofia profile <profile> startgw <name>`: it starts
// the named gateway of the configuration in force ("_all_": every one of
// the profile's that is not running). A gateway already running is left
// as it is; one the configuration does not give the profile is
// ErrGatewayNotConfigured.
func (e *Endpoint) StartGateway(profileName, name string) ([]string, error) {
	if name == "_all_" {
		return e.RescanGateways(profileName)
	}
	p := e.profileByName(profileName)
	if p == nil {
		return nil, ErrNoProfile
	}
	e.gws.mu.Lock()
	defer e.gws.mu.Unlock()
	for _, gc := range e.gws.configs[p.cfg.Name] {
		if strings.EqualFold(gc.name, name) {
			if e.startGatewayLocked(p, gc) {
				return []string{gc.name}, nil
			}
			return nil, nil
		}
	}
	return nil, ErrGatewayNotConfigured
}

// KillGateway is `sofia profile <profile> killgw <name>`: the gateway
// stops at once (it is no longer listed or used); a registered one
// unregisters in the background. "_all_" kills every gateway of the
// profile. An unknown gateway is ErrNoGateway.
func (e *Endpoint) KillGateway(profileName, name string) error {
	var victims []*gateway
	if name == "_all_" {
		p := e.profileByName(profileName)
		if p == nil {
			return ErrNoProfile
		}
		victims = e.gatewaysOf(p.cfg.Name)
	} else {
		g, ok := e.lookupGateway(name)
		if !ok {
			return ErrNoGateway
		}
		victims = []*gateway{g}
	}
	e.gws.mu.Lock()
	for _, g := range victims {
		key := strings.ToLower(g.cfg.name)
		if e.gws.running[key] == g {
			delete(e.gws.running, key)
			if e.gws.stopping == nil {
				e.gws.stopping = map[string]*gateway{}
			}
			e.gws.stopping[key] = g
		}
	}
	e.gws.mu.Unlock()
	for _, g := range victims {
		g.log.Info("sip: gateway killed")
		g.stop(context.Background())
	}
	return nil
}

// RegisterGateway is `sofia profile <profile> register <name>`: the
// gateway registers now, whatever its state ("all": every registering
// gateway of the profile). A gateway with register=false is
// ErrNoRegister.
func (e *Endpoint) RegisterGateway(profileName, name string) error {
	return e.commandGateways(profileName, name, cmdRegister)
}

// UnregisterGateway is `sofia profile <profile> unregister <name>`: the
// gateway unregisters (Expires: 0) and stays DOWN until registered again
// ("all": every registering gateway of the profile).
func (e *Endpoint) UnregisterGateway(profileName, name string) error {
	return e.commandGateways(profileName, name, cmdUnregister)
}

func (e *Endpoint) commandGateways(profileName, name string, c gwCommand) error {
	if strings.EqualFold(name, "all") {
		p := e.profileByName(profileName)
		if p == nil {
			return ErrNoProfile
		}
		for _, g := range e.gatewaysOf(p.cfg.Name) {
			if g.cfg.register {
				g.command(c)
			}
		}
		return nil
	}
	g, ok := e.lookupGateway(name)
	if !ok {
		return ErrNoGateway
	}
	if !g.cfg.register {
		return ErrNoRegister
	}
	g.command(c)
	return nil
}

func (g *gateway) command(c gwCommand) {
	select {
	case g.cmds <- c:
	case <-g.done:
	}
}

// run is the gateway's loop: it owns the registration state machine and
// the pings, and ends when the gateway is stopped, unregistering first
// when it is registered.
func (g *gateway) run() {
	defer close(g.done)
	if g.after != nil {
		// The killed gateway this one replaces may be unregistering the
		// same Contact: let it finish first.
		select {
		case <-g.after:
		case <-g.ctx.Done():
		}
	}
	regTimer := time.NewTimer(time.Hour)
	regTimer.Stop()
	pingTimer := time.NewTimer(time.Hour)
	pingTimer.Stop()
	defer regTimer.Stop()
	defer pingTimer.Stop()
	regBusy := false        // a REGISTER exchange is in flight
	var pending []gwCommand // commands that came while it was
	schedulePing := func() {
		g.mu.Lock()
		g.pingAt = time.Now().Add(g.secs(g.cfg.ping))
		g.mu.Unlock()
		pingTimer.Reset(g.secs(g.cfg.ping))
	}
	if g.cfg.register {
		regTimer.Reset(0)
	}
	if g.cfg.ping > 0 {
		schedulePing()
	}
	for {
		select {
		case <-g.ctx.Done():
			g.kids.Wait()
			g.finish()
			return
		case <-regTimer.C:
			if !regBusy {
				regBusy = true
				g.startRegister(false)
			}
		case r := <-g.regRes:
			regBusy = false
			if next, ok := g.registered(r); ok {
				regTimer.Reset(next)
			}
			if len(pending) > 0 {
				c := pending[0]
				pending = pending[1:]
				regTimer.Stop()
				regBusy = g.execute(c)
			}
		case <-pingTimer.C:
			if !g.startPing() {
				schedulePing()
			}
		case r := <-g.pingCh:
			if wait, ok := g.pinged(r); ok && !regBusy {
				regTimer.Reset(wait)
			}
			schedulePing()
		case c := <-g.cmds:
			if regBusy {
				// One REGISTER transaction at a time: this one waits for
				// the exchange in flight.
				pending = append(pending, c)
				continue
			}
			regTimer.Stop()
			regBusy = g.execute(c)
		}
	}
}

// execute carries out a register or unregister command and reports
// whether it started a REGISTER exchange.
func (g *gateway) execute(c gwCommand) bool {
	switch c {
	case cmdRegister:
		g.mu.Lock()
		g.failures = 0
		g.mu.Unlock()
		g.setState(regUnreged, 0, "")
		g.startRegister(false)
	case cmdUnregister:
		g.setState(regUnregister, 0, "")
		g.startRegister(true)
	default:
		return false
	}
	return true
}

// startRegister sends a REGISTER (an unregistration when unregister) on
// a goroutine of its own; the outcome arrives on g.regRes.
func (g *gateway) startRegister(unregister bool) {
	if !unregister {
		g.log.Info("sip: registering gateway", "proxy", g.cfg.proxy.String())
		g.mu.Lock()
		g.retryAt = time.Now().Add(g.secs(g.cfg.retry))
		g.mu.Unlock()
		g.setState(regTrying, 0, "")
	}
	g.kids.Add(1)
	go func() {
		defer g.kids.Done()
		ctx, cancel := context.WithTimeout(g.ctx, g.secs(g.cfg.timeout))
		defer cancel()
		r := g.registerExchange(ctx, unregister)
		if g.ctx.Err() != nil {
			return // stopped: finish() decides what happens next
		}
		g.regRes <- r
	}()
}

// registered applies the outcome of a REGISTER and returns when the next
// one is due (ok false: none is scheduled).
func (g *gateway) registered(r regResult) (time.Duration, bool) {
	g.mu.Lock()
	if r.src.IsValid() {
		g.netAddr = r.src
	}
	g.mu.Unlock()
	if r.unregister {
		if r.code < 200 || r.code >= 300 {
			g.log.Warn("sip: gateway unregistration failed", "status", r.code, "phrase", r.phrase)
		}
		g.mu.Lock()
		g.up = false
		g.mu.Unlock()
		g.setState(regDown, r.code, r.phrase)
		return 0, false
	}
	if r.code >= 200 && r.code < 300 {
		g.setState(regRegister, r.code, r.phrase)
		g.mu.Lock()
		g.failures = 0
		g.retryAt = time.Time{}
		if !g.up {
			g.up = true
			g.uptime = time.Now()
		}
		g.mu.Unlock()
		g.setState(regReged, r.code, r.phrase)
		granted := r.granted
		if granted <= 0 {
			granted = g.cfg.expires
		}
		// Refresh before the binding expires: 15 seconds early for long
		// ones, at half-time for short ones.
		delta := granted / 2
		if granted > 30 {
			delta = granted - 15
		}
		delta = max(delta, 1)
		g.log.Info("sip: gateway registered", "expires", granted, "refresh_in_s", delta)
		return g.secs(delta), true
	}
	if r.code == 908 {
		g.log.Warn("sip: timeout registering gateway", "timeout_s", g.cfg.timeout)
		g.setState(regTimeout, 0, "")
	}
	return g.failed(r.code, r.phrase), true
}

// failed puts the gateway in FAILED, then FAIL_WAIT, and returns the wait
// before the next attempt: retry-seconds times the number of failures in
// a row (plain retry-seconds after a 503 or a timeout; 908-retry-seconds,
// when set, after a timeout).
func (g *gateway) failed(code int, phrase string) time.Duration {
	g.mu.Lock()
	if code > 0 {
		g.failures++
	}
	n := g.failures
	g.mu.Unlock()
	if code > 0 {
		g.log.Error(fmt.Sprintf("sip: gateway %s registration failed with %d %s (failure #%d)", g.cfg.name, code, phrase, n), "status", code)
	}
	g.setState(regFailed, code, phrase)
	sec := g.cfg.retry
	switch {
	case code == 908 && g.cfg.retry908 > 0:
		sec = g.cfg.retry908
	case code == 503 || code == 908 || code == 0 || n < 1:
	default:
		sec = g.cfg.retry * n
	}
	g.log.Warn(fmt.Sprintf("sip: gateway %s: next registration attempt in %d seconds", g.cfg.name, sec), "status", code)
	g.mu.Lock()
	g.retryAt = time.Now().Add(g.secs(sec))
	g.up = false
	g.mu.Unlock()
	g.setState(regFailWait, code, phrase)
	return g.secs(sec)
}

// startPing sends an OPTIONS ping when the gateway is registered or does
// not register, and reports whether it did.
func (g *gateway) startPing() bool {
	g.mu.Lock()
	ok := !g.pinging && (g.state == regNoreg || g.state == regReged)
	if ok {
		g.pinging = true
	}
	g.mu.Unlock()
	if !ok {
		return false
	}
	g.kids.Add(1)
	go func() {
		defer g.kids.Done()
		ctx, cancel := context.WithTimeout(g.ctx, g.secs(g.cfg.timeout))
		defer cancel()
		r := g.pingExchange(ctx)
		if g.ctx.Err() != nil {
			return
		}
		g.pingCh <- r
	}()
	return true
}

// pinged applies a ping's outcome. A registered gateway whose ping
// failed goes to FAILED and registers again after retry-seconds: ok is
// true and wait says when.
func (g *gateway) pinged(r pingResult) (wait time.Duration, ok bool) {
	success := r.code >= 200 && r.code < 600 && r.code != 408 && r.code != 503
	fire := g.cfg.pingMonitoring
	g.mu.Lock()
	g.pinging = false
	state := g.state
	if success {
		g.pingCount = max(g.pingCount, 0)
		if g.pingCount < g.cfg.pingMax {
			g.pingCount++
			if g.pingCount >= g.cfg.pingMin && !g.up {
				g.up = true
				g.uptime = time.Now()
				fire = true
			}
		}
		g.pingTime = r.rtt
	} else {
		if g.pingCount > 0 {
			g.pingCount--
		}
		if g.pingCount < g.cfg.pingMin && g.up {
			g.up = false
			g.pingTime = 0
			fire = true
		}
	}
	count, up := g.pingCount, g.up
	g.mu.Unlock()
	msg := fmt.Sprintf("sip: ping to gateway %s answered %d (count %d/%d/%d, %s)", g.cfg.name, r.code, g.cfg.pingMin, count, g.cfg.pingMax, upDown(up))
	if success {
		g.log.Debug(msg)
	} else {
		g.log.Warn(msg)
	}
	if fire {
		g.fireState(r.code, r.phrase)
	}
	if !success && state == regReged {
		g.log.Warn("sip: registered gateway stopped answering pings; it will register again")
		g.mu.Lock()
		g.pingTime = 0
		g.mu.Unlock()
		return g.failed(0, ""), true
	}
	return 0, false
}

// finish runs when the gateway is stopped: a registered gateway
// unregisters (within unregisterWait and the stopper's context).
func (g *gateway) finish() {
	qctx := context.Background()
	select {
	case q := <-g.quit:
		qctx = q
	default:
	}
	g.mu.Lock()
	reged := g.state == regReged
	g.mu.Unlock()
	if reged {
		g.log.Info("sip: unregistering gateway")
		ctx, cancel := context.WithTimeout(qctx, unregisterWait)
		r := g.registerExchange(ctx, true)
		cancel()
		if r.code < 200 || r.code >= 300 {
			g.log.Warn("sip: gateway unregistration not confirmed", "status", r.code, "phrase", r.phrase)
		}
	}
	g.mu.Lock()
	g.up = false
	noreg := g.state == regNoreg
	g.mu.Unlock()
	if !noreg {
		g.setState(regDown, 0, "")
	}
	g.fireSimple("sofia::gateway_delete")
}

// setState changes the state and fires sofia::gateway_state when it
// changed.
func (g *gateway) setState(s regState, code int, phrase string) {
	g.mu.Lock()
	changed := g.state != s
	g.state = s
	g.mu.Unlock()
	if changed {
		g.fireState(code, phrase)
	}
}

// fireState fires sofia::gateway_state with the gateway's state.
func (g *gateway) fireState(code int, phrase string) {
	bus := g.e.cfg.Events
	if !bus.Wants("CUSTOM", "sofia::gateway_state") {
		return
	}
	g.mu.Lock()
	state, up, addr := g.state, g.up, g.netAddr
	g.mu.Unlock()
	ev := events.NewCustom("sofia::gateway_state")
	ev.Add("Gateway", g.cfg.name)
	ev.Add("State", state.String())
	ev.Add("Ping-Status", upDown(up))
	if addr.IsValid() {
		ev.Add("Register-Network-IP", addr.Addr().String())
		ev.Add("Register-Network-Port", strconv.Itoa(int(addr.Port())))
	}
	if phrase != "" {
		ev.Add("Phrase", phrase)
	}
	if code != 0 {
		ev.Add("Status", strconv.Itoa(code))
	}
	bus.Fire(ev)
}

// fireSimple fires a gateway event carrying only its name and profile
// (sofia::gateway_add, sofia::gateway_delete).
func (g *gateway) fireSimple(subclass string) {
	bus := g.e.cfg.Events
	if !bus.Wants("CUSTOM", subclass) {
		return
	}
	ev := events.NewCustom(subclass)
	ev.Add("Gateway", g.cfg.name)
	ev.Add("profile-name", g.cfg.profile)
	bus.Fire(ev)
}

func upDown(up bool) string {
	if up {
		return "UP"
	}
	return "DOWN"
}

// --- Messages ---------------------------------------------------------

// sendTarget is where the gateway's REGISTERs and pings go:
// register-proxy when set, else the proxy.
func (g *gateway) sendTarget() gwTarget {
	if g.cfg.regProxy.set() {
		return g.cfg.regProxy
	}
	return g.cfg.proxy
}

// destination is host:port of t for the gateway's transport.
func (g *gateway) destination(t gwTarget) string {
	port := t.port
	if port == 0 {
		port = 5060
	}
	return net.JoinHostPort(t.bareHost(), strconv.Itoa(port))
}

// localHost is the host of our Contact and Via: contact-host, else the
// profile's ext-sip-ip, else its sip-ip; an unspecified sip-ip is replaced
// by the local address that reaches the gateway.
func (g *gateway) localHost() string {
	switch h := g.cfg.contactHost; {
	case h == "sip-ip":
	case h != "":
		return h
	case g.p.cfg.ExtSIPIP.IsValid():
		return uriHost(g.p.cfg.ExtSIPIP)
	}
	ip := g.p.cfg.SIPIP
	if ip.IsUnspecified() {
		if c, err := net.Dial("udp", g.destination(g.sendTarget())); err == nil {
			if a, ok := c.LocalAddr().(*net.UDPAddr); ok {
				if x, ok := netip.AddrFromSlice(a.IP); ok {
					ip = x.Unmap()
				}
			}
			_ = c.Close()
		}
	}
	return uriHost(ip)
}

// uriHost writes an address as a URI host (IPv6 in brackets).
func uriHost(a netip.Addr) string {
	if a.Is6() {
		return "[" + a.String() + "]"
	}
	return a.String()
}

// contactUser is the user part of the registration Contact:
// gw+<name>, or the extension with extension-in-contact.
func (g *gateway) contactUser() string {
	if g.cfg.extensionInContact {
		return g.exten()
	}
	return "gw+" + g.cfg.name
}

// exten is the gateway's extension: the extension param, else the
// username (FreeSWITCH's Exten).
func (g *gateway) exten() string {
	if g.cfg.extension != "" {
		return g.cfg.extension
	}
	return g.cfg.username
}

// contactURI is the Contact of the gateway's registrations and calls:
// sip:gw+<name>@<host>:<port>;<contact-params>;transport=<t>;gw=<name>.
func (g *gateway) contactURI() sip.Uri {
	params := sip.NewParams()
	for _, kv := range strings.Split(g.cfg.contactParams, ";") {
		k, v, _ := strings.Cut(kv, "=")
		if k = strings.TrimSpace(k); k != "" {
			params.Add(k, strings.TrimSpace(v))
		}
	}
	params.Add("transport", g.cfg.transport)
	params.Add("gw", g.cfg.name)
	return sip.Uri{Scheme: "sip", User: g.contactUser(), Host: g.localHost(), Port: g.p.localPort(), UriParams: params}
}

// registerURI is the Request-URI of REGISTERs and pings:
// sip:<proxy>;transport=<t> (FreeSWITCH's register_url).
func (g *gateway) registerURI() sip.Uri {
	t := g.cfg.proxy
	u := sip.Uri{Scheme: "sip", Host: t.host, Port: t.port, UriParams: t.uriParams()}
	if _, ok := t.param("transport"); !ok {
		u.UriParams.Add("transport", g.cfg.transport)
	}
	return u
}

// fromURI is sip:<from-user>@<from-domain or proxy>, the From (and To)
// of registrations.
func (g *gateway) fromURI() sip.Uri {
	u := sip.Uri{Scheme: "sip", User: g.cfg.fromUser, Host: g.cfg.proxy.host, Port: g.cfg.proxy.port}
	if g.cfg.fromDomain != "" {
		u.Host, u.Port = g.cfg.fromDomain, 0
	}
	return u
}

// toURI is sip:<username>@<proxy> (FreeSWITCH's register_to).
func (g *gateway) toURI() sip.Uri {
	return sip.Uri{Scheme: "sip", User: g.cfg.username, Host: g.cfg.proxy.host, Port: g.cfg.proxy.port}
}

func (g *gateway) nextCSeq() uint32 {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.cseq++
	return g.cseq
}

// newRequest builds a request of the gateway: Via with our address and a
// fresh branch, and the headers every request carries.
func (g *gateway) newRequest(method sip.RequestMethod, from, to sip.Uri, callID, fromTag string) *sip.Request {
	req := sip.NewRequest(method, g.registerURI())
	tp := strings.ToUpper(g.cfg.transport)
	via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: tp, Host: g.localHost(), Port: g.p.localPort(), Params: sip.NewParams()}
	via.Params.Add("branch", sip.GenerateBranch())
	via.Params.Add("rport", "")
	req.AppendHeader(via)
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	fh := &sip.FromHeader{Address: from, Params: sip.NewParams()}
	fh.Params.Add("tag", fromTag)
	req.AppendHeader(fh)
	req.AppendHeader(&sip.ToHeader{Address: to, Params: sip.NewParams()})
	cid := sip.CallIDHeader(callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: g.nextCSeq(), MethodName: method})
	req.SetTransport(tp)
	req.SetDestination(g.destination(g.sendTarget()))
	if tp == "UDP" {
		// Send from the profile's socket, so answers and the calls the
		// registrar sends to our Contact reach the port we listen on.
		ip := g.p.cfg.SIPIP
		req.Laddr = sip.Addr{IP: net.IP(ip.AsSlice()), Port: g.p.localPort()}
	}
	return req
}

// newRegister builds a REGISTER (Expires 0 when unregister).
func (g *gateway) newRegister(unregister bool) *sip.Request {
	to := g.fromURI()
	if g.cfg.distinctTo {
		to = g.toURI()
	}
	req := g.newRequest(sip.REGISTER, g.fromURI(), to, g.callID, g.tag)
	contact := &sip.ContactHeader{Address: g.contactURI()}
	exp := sip.ExpiresHeader(g.cfg.expires)
	if unregister {
		exp = 0
		contact.Params = sip.NewParams()
		contact.Params.Add("expires", "0")
	}
	req.AppendHeader(contact)
	req.AppendHeader(&exp)
	req.AppendHeader(g.p.hdr.userAgent)
	req.SetBody(nil)
	return req
}

// newOptions builds an OPTIONS ping: From and To are
// sip:<from-domain or proxy>.
func (g *gateway) newOptions() *sip.Request {
	u := sip.Uri{Scheme: "sip", Host: g.cfg.proxy.host, Port: g.cfg.proxy.port}
	if g.cfg.fromDomain != "" {
		u.Host, u.Port = g.cfg.fromDomain, 0
	}
	callID := fmt.Sprintf("%016x%016x", rand.Uint64(), rand.Uint64())
	req := g.newRequest(sip.OPTIONS, u, u, callID, sip.GenerateTagN(16))
	if g.cfg.contactInPing {
		req.AppendHeader(&sip.ContactHeader{Address: g.contactURI()})
	}
	if g.cfg.pingUA != "" {
		req.AppendHeader(sip.NewHeader("User-Agent", g.cfg.pingUA))
	} else {
		req.AppendHeader(g.p.hdr.userAgent)
	}
	req.SetBody(nil)
	return req
}

// asBuilt sends a request exactly as built (sipgo adds nothing).
func asBuilt(*sipgo.Client, *sip.Request) error { return nil }

// do runs one client transaction and returns its final response. A
// transaction that ends without one is a 408 (timeout) or 503 (transport
// error), as sofia-sip reports them; ctx ending first is errCtx.
func (g *gateway) do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	tx, err := g.p.client.TransactionRequest(ctx, req, asBuilt)
	if err != nil {
		return nil, err
	}
	defer tx.Terminate()
	return finalResponse(ctx, tx)
}

// failureCode turns a transaction that ended without a final response
// into the status FreeSWITCH reports: 908 when timeout-seconds passed,
// 408 for a transaction timeout, 503 for a transport error.
func failureCode(ctx context.Context, err error) (int, string) {
	switch {
	case ctx.Err() != nil:
		return 908, "Timeout"
	case errors.Is(err, sip.ErrTransactionTimeout):
		return 408, "Request Timeout"
	default:
		return 503, "Service Unavailable"
	}
}

// registerExchange sends a REGISTER and answers up to two digest
// challenges (the second only when it says stale=true).
func (g *gateway) registerExchange(ctx context.Context, unregister bool) regResult {
	r := regResult{unregister: unregister}
	req := g.newRegister(unregister)
	var res *sip.Response
	for attempt := 0; ; attempt++ {
		var err error
		res, err = g.do(ctx, req)
		if err != nil {
			r.code, r.phrase = failureCode(ctx, err)
			g.log.Debug("sip: gateway REGISTER got no answer", "err", err)
			return r
		}
		if ap, err := netip.ParseAddrPort(res.Source()); err == nil {
			r.src = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		}
		if res.StatusCode != 401 && res.StatusCode != 407 {
			break
		}
		if attempt > 0 && !staleChallenge(res) {
			break // our credentials were refused
		}
		if attempt > 1 {
			break
		}
		h, err := g.authorize(req, res)
		if err != nil {
			break
		}
		next := g.newRegister(unregister)
		next.AppendHeader(h)
		req = next
	}
	r.code, r.phrase = res.StatusCode, res.Reason
	if res.IsSuccess() && !unregister {
		r.granted = g.grantedExpiry(res)
	}
	return r
}

// staleChallenge reports whether a 401/407 says the nonce was stale.
func staleChallenge(res *sip.Response) bool {
	for _, name := range []string{"WWW-Authenticate", "Proxy-Authenticate"} {
		for _, h := range res.GetHeaders(name) {
			if strings.Contains(strings.ToLower(strings.ReplaceAll(h.Value(), " ", "")), "stale=true") {
				return true
			}
		}
	}
	return false
}

// grantedExpiry reads the expiry a registrar granted: the expires param
// of our Contact in the 200, else its Expires header; 0 when neither.
func (g *gateway) grantedExpiry(res *sip.Response) int {
	ours := g.contactUser()
	var first *sip.ContactHeader
	for _, h := range res.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			continue
		}
		if first == nil {
			first = c
		}
		gw, _ := c.Address.UriParams.Get("gw")
		if c.Address.User == ours || strings.EqualFold(gw, g.cfg.name) {
			first = c
			break
		}
	}
	if first != nil {
		if v, ok := first.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
				return n
			}
		}
	}
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n > 0 {
			return n
		}
	}
	return 0
}

// pingExchange sends one OPTIONS ping.
func (g *gateway) pingExchange(ctx context.Context) pingResult {
	start := time.Now()
	res, err := g.do(ctx, g.newOptions())
	if err != nil {
		code, phrase := failureCode(ctx, err)
		if code == 908 {
			code, phrase = 408, "Request Timeout"
		}
		return pingResult{code: code, phrase: phrase}
	}
	return pingResult{code: res.StatusCode, phrase: res.Reason, rtt: time.Since(start)}
}

// --- What outbound calls use ----------------------------------------

// profileName is the name of the profile the gateway belongs to.
func (g *gateway) profileName() string { return g.cfg.profile }

// name is the gateway's name.
func (g *gateway) name() string { return g.cfg.name }

// isUp reports whether calls may use the gateway (FreeSWITCH refuses
// calls to a DOWN gateway with GATEWAY_DOWN).
func (g *gateway) isUp() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.up
}

// requestURI is the Request-URI of a call to number through the gateway:
// sip:<destination-prefix><number>@<proxy>, with the proxy's parameters
// (and transport=tcp for a TCP gateway). A number that holds an '@' is a
// whole address (sip:<prefix><number>); ";params" after the number are
// added to the URI, as sofia/gateway/<gw>/<number>;<params> does.
func (g *gateway) requestURI(number string) sip.Uri {
	number, params, _ := strings.Cut(number, ";")
	number = strings.TrimPrefix(strings.TrimPrefix(number, "sip:"), "SIP:")
	u := sip.Uri{Scheme: "sip", UriParams: g.cfg.proxy.uriParams()}
	if user, host, ok := strings.Cut(number, "@"); ok {
		u.User = g.cfg.destPrefix + user
		if t, err := parseTarget(host); err == nil {
			u.Host, u.Port = t.host, t.port
			for _, kv := range t.uriParams() {
				u.UriParams.Add(kv.K, kv.V)
			}
		} else {
			u.Host = host
		}
	} else {
		u.User = g.cfg.destPrefix + number
		u.Host, u.Port = g.cfg.proxy.host, g.cfg.proxy.port
	}
	if _, ok := u.UriParams.Get("transport"); !ok && g.cfg.transport != "udp" {
		u.UriParams.Add("transport", g.cfg.transport)
	}
	for _, kv := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(kv, "=")
		if k = strings.TrimSpace(k); k != "" {
			u.UriParams.Remove(k)
			u.UriParams.Add(k, strings.TrimSpace(v))
		}
	}
	return u
}

// fromUser is the user part of the From of calls through the gateway:
// from-user (default: the username), or "" with caller-id-in-from=true,
// which means the caller's ID number goes there instead.
func (g *gateway) fromUser() string {
	if g.cfg.callerIDInFrom {
		return ""
	}
	return g.cfg.fromUser
}

// fromDomain is the host part of the From of calls through the gateway:
// from-domain, else the proxy's host[:port].
func (g *gateway) fromDomain() string {
	if g.cfg.fromDomain != "" {
		return g.cfg.fromDomain
	}
	return g.cfg.proxy.hostPort()
}

// outboundProxy is where calls through the gateway are sent: the
// outbound-proxy when set, else the proxy. host is bare (an IPv6 address
// without brackets), port defaults to 5060, transport is "UDP" or "TCP"
// (sipgo's spelling).
func (g *gateway) outboundProxy() (host string, port int, transport string) {
	t := g.cfg.proxy
	if g.cfg.obProxy.set() {
		t = g.cfg.obProxy
	}
	port = t.port
	if port == 0 {
		port = 5060
	}
	return t.bareHost(), port, strings.ToUpper(g.cfg.transport)
}

// contact is the Contact header of calls through the gateway.
func (g *gateway) contact() *sip.ContactHeader {
	return &sip.ContactHeader{Address: g.contactURI()}
}

// outboundVars are the variables a call through the gateway gets:
// sip_gateway_name and the gateway's outbound <variables>. Names starting
// with "p:" are caller-profile fields in FreeSWITCH.
func (g *gateway) outboundVars() [][2]string {
	out := [][2]string{{"sip_gateway_name", g.cfg.name}}
	return append(out, g.cfg.outVars...)
}

// callPlaced counts an outbound call through the gateway; failed counts
// it as failed too (FreeSWITCH's CallsOUT and FailedCallsOUT).
func (g *gateway) callPlaced(failed bool) {
	g.obCalls.Add(1)
	if failed {
		g.obFailed.Add(1)
	}
}

// --- Status -------------------------------------------------------------

// GatewayStatus is a gateway as `sofia status gateway <name>` shows it,
// under FreeSWITCH's field names.
type GatewayStatus struct {
	Name, Profile string
	Scheme        string
	Realm         string
	Username      string
	Password      bool   // whether it has one
	From          string // <sip:from-user@from-domain>
	Contact       string // <sip:gw+name@host:port;...>
	Exten         string
	To            string // sip:username@proxy
	Proxy         string // sip:proxy
	Context       string
	Expires       string // expire-seconds
	Freq          int    // the registration period, seconds
	PingAt        int64  // Unix time of the next ping; 0 without pings
	PingFreq      int    // ping, seconds
	PingTime      float64
	PingMin       int
	PingCount     int
	PingMax       int
	Pinging       bool
	State         string // UNREGED, TRYING, REGED, FAILED, FAIL_WAIT, NOREG, DOWN, ...
	Up            bool   // Status UP (else DOWN)
	// Uptime is how long it has been up (0 when down).
	Uptime time.Duration
	// Retry is the time until the next registration attempt (FAIL_WAIT)
	// or until the attempt in flight is given up (TRYING); negative when
	// that time has passed. Meaningful in TRYING, FAILED and FAIL_WAIT.
	Retry                               time.Duration
	CallsIn, CallsOut                   uint64
	FailedCallsIn, FailedCallsOut       uint64
	InboundVariables, OutboundVariables [][2]string
	RegisterNetworkIP                   string
	RegisterNetworkPort                 int
	Transport                           string // register-transport
	OutboundProxy                       string // sip:outbound-proxy, or ""
	CallerIDInFrom                      bool
	RegisterProxy                       string // sip:register-proxy, or ""
}

// status returns the gateway's status; times are in configuration
// seconds.
func (g *gateway) status() GatewayStatus {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	scale := func(d time.Duration) time.Duration { return d * time.Second / g.e.gwSecond() }
	from := g.fromURI()
	c := g.cfg
	s := GatewayStatus{
		Name: c.name, Profile: c.profile, Scheme: c.scheme, Realm: c.realm, Username: c.username,
		Password: c.password != "",
		From:     "<" + from.String() + ">",
		Exten:    g.exten(),
		Proxy:    "sip:" + c.proxy.String(),
		Context:  c.context,
		Expires:  strconv.Itoa(c.expires),
		Freq:     c.expires,
		PingFreq: c.ping, PingMin: c.pingMin, PingMax: c.pingMax,
		PingCount: g.pingCount, Pinging: g.pinging,
		PingTime: float64(scale(g.pingTime)) / float64(time.Millisecond),
		State:    g.state.String(),
		Up:       g.up,
		Retry:    scale(g.retryAt.Sub(now)),
		CallsIn:  g.ibCalls.Load(), CallsOut: g.obCalls.Load(),
		FailedCallsIn: g.ibFailed.Load(), FailedCallsOut: g.obFailed.Load(),
		InboundVariables:  append([][2]string(nil), c.inVars...),
		OutboundVariables: append([][2]string(nil), c.outVars...),
		Transport:         c.transport,
		CallerIDInFrom:    c.callerIDInFrom,
	}
	contact, to := g.contactURI(), g.toURI()
	s.Contact = "<" + contact.String() + ">"
	s.To = to.String()
	if c.ping > 0 && !g.pingAt.IsZero() {
		s.PingAt = now.Add(scale(g.pingAt.Sub(now))).Unix()
	}
	if g.up {
		s.Uptime = scale(now.Sub(g.uptime))
	}
	if g.retryAt.IsZero() {
		s.Retry = -1
	}
	if g.netAddr.IsValid() {
		s.RegisterNetworkIP, s.RegisterNetworkPort = g.netAddr.Addr().String(), int(g.netAddr.Port())
	}
	if c.obProxy.set() {
		s.OutboundProxy = "sip:" + c.obProxy.String()
	}
	if c.regProxy.set() {
		s.RegisterProxy = "sip:" + c.regProxy.String()
	}
	return s
}

// Gateways returns the status of the running gateways of a profile (""
// for every profile), in the order they started.
func (e *Endpoint) Gateways(profileName string) []GatewayStatus {
	var out []GatewayStatus
	for _, g := range e.gatewaysOf(profileName) {
		out = append(out, g.status())
	}
	return out
}

// Gateway returns the status of the running gateway called name ("name"
// or "profile::name").
func (e *Endpoint) Gateway(name string) (GatewayStatus, bool) {
	g, ok := e.lookupGateway(name)
	if !ok {
		return GatewayStatus{}, false
	}
	return g.status(), true
}

// ProfileStatus is a profile as `sofia status` and `sofia status profile
// <name>` show it.
type ProfileStatus struct {
	ProfileConfig
	// URL is sip:mod_sofia@<ext-sip-ip or sip-ip>:<port>; BindURL adds
	// the transports (and maddr with ext-sip-ip).
	URL, BindURL string
	// Running is true while the profile listens.
	Running bool
	// Calls is the number of calls on the profile.
	Calls int
	// Registrations is the number of registered contacts.
	Registrations int
}

// ProfileStatuses returns the profiles, in sofia.conf order.
func (e *Endpoint) ProfileStatuses() []ProfileStatus {
	regs := map[string]int{}
	if e.reg != nil {
		for _, c := range e.reg.All() {
			regs[c.Profile]++
		}
	}
	out := make([]ProfileStatus, 0, len(e.profiles))
	for _, p := range e.profiles {
		p.mu.Lock()
		running := p.udpConn != nil && !e.shut.Load()
		port := p.port
		p.mu.Unlock()
		if port == 0 {
			port = p.cfg.SIPPort
		}
		host := uriHost(p.cfg.SIPIP)
		url := "sip:mod_sofia@" + host + ":" + strconv.Itoa(port)
		bind := url + ";transport=udp,tcp"
		if p.cfg.ExtSIPIP.IsValid() {
			url = "sip:mod_sofia@" + uriHost(p.cfg.ExtSIPIP) + ":" + strconv.Itoa(port)
			bind = url + ";maddr=" + p.cfg.SIPIP.String() + ";transport=udp,tcp"
		}
		calls := 0
		p.calls.Range(func(any, any) bool { calls++; return true })
		out = append(out, ProfileStatus{
			ProfileConfig: *p.cfg, URL: url, BindURL: bind, Running: running,
			Calls: calls, Registrations: regs[p.cfg.Name],
		})
	}
	return out
}
