// Package sip is Switchboard's SIP endpoint, FreeSWITCH's mod_sofia: one
// user agent per sofia.conf <profile>, listening on UDP and TCP, that turns
// INVITEs into call sessions (package session) and the sessions' answers,
// early media and hangups back into SIP. It is the only package that
// imports sipgo.
//
// What a call goes through: the INVITE is checked (malformed → 400,
// unknown Request-URI scheme → 416, unknown Require → 420, body that is not
// SDP → 415), classified by the profile's ACLs and, for an untrusted
// caller with auth-calls, digest authentication (which context it is
// routed in; 407/403), admitted by the session manager's limits (503), its SDP offer is
// negotiated (488 when nothing matches) and a session starts. 100 Trying
// goes out at once; 180/183/200 follow as the dialplan's applications ask.
// A 2xx is retransmitted until the ACK arrives. The far end's BYE or CANCEL
// hangs the session up; our hangup sends BYE with a Reason header when
// answered, or the final response the hangup cause maps to.
//
// With auth-calls=true a caller no ACL trusts is challenged (407, digest
// with the From domain as realm, auth.go) and, once authenticated, routed
// to its directory user's user_context with the user's variables set.
// REGISTERs are authenticated the same way (401) and kept by the
// registrar (registrar.go, register.go).
package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-voip/switchboard/acl"
	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/events"
	"github.com/switchboard-voip/switchboard/media"
	"github.com/switchboard-voip/switchboard/session"
)

// Timers are the SIP protocol timers (RFC 3261 §17). They are
// process-wide (sipgo keeps them in package variables): set them once,
// before the first Start, and give every Endpoint of a process the same
// values. Zero fields keep sipgo's defaults (T1 500 ms, T2 4 s, T4 5 s).
type Timers struct {
	T1, T2, T4 time.Duration
	// Linger is how long a finished non-INVITE server transaction (BYE,
	// OPTIONS, ...) is kept to absorb retransmissions over UDP (Timer J),
	// how long an accepted INVITE server transaction is kept for
	// retransmitted INVITEs (Timer L, RFC 6026), and how long a client
	// INVITE transaction waits for retransmitted final responses (Timer D).
	// Zero keeps RFC 3261's 64*T1 (32 s with the default T1). At high call rates this is the memory sipgo holds per
	// finished transaction; a few seconds is plenty on a LAN.
	Linger time.Duration
	// SessionUnit is the real length of one second of the RFC 4028
	// session intervals (Session-Expires, Min-SE, session-timeout). Zero
	// is a second; tests shorten it. Unlike T1-T4 it is per endpoint.
	SessionUnit time.Duration
}

// Config configures an Endpoint.
type Config struct {
	// Snapshot holds sofia.conf (the profiles), acl.conf and the
	// directory (ACL domain nodes, user variables).
	Snapshot *conf.Snapshot
	// Manager admits and runs the calls.
	Manager *session.Manager
	// Media opens the RTP streams.
	Media *media.Engine
	// ACL are the network lists; nil builds them from Snapshot.
	ACL *acl.Lists
	// Logger receives the endpoint's logs; nil uses slog.Default().
	Logger *slog.Logger
	// Timers are the protocol timers (see Timers).
	Timers Timers
	// Registrar keeps the registrations; nil keeps them in memory only.
	Registrar *Registrar
	// Auth tunes digest authentication (nonce lifetime, throttling).
	Auth AuthConfig
	// Gateways scales the gateways' timing (tests shorten it).
	Gateways GatewayTiming
	// Events receives the sofia::gateway_* events; nil fires none.
	Events *events.Bus
}

// Endpoint is the SIP side of the switch: its profiles and their calls.
type Endpoint struct {
	cfg      Config
	log      *slog.Logger
	acl      atomic.Pointer[acl.Lists]
	snap     atomic.Pointer[conf.Snapshot] // the directory calls are matched against; see ApplyReload
	profiles []*profile
	auth     *Authenticator
	reg      *Registrar
	gws      gatewaySet // sofia gateways (gateway.go)
	// dialTargets are the TCP destinations outbound legs connect to
	// (outbound.go); the dial policy lets them through.
	dialTargets dialTargets

	closing   atomic.Bool
	started   atomic.Bool
	shut      atomic.Bool
	deaf      atomic.Bool // drop everything read: the endpoint is closing down
	calls     tracker     // live calls (INVITE goroutine + hangup each)
	admitting tracker     // INVITEs past the closing check whose session has not started
	stop      context.CancelFunc
	serving   sync.WaitGroup // listener goroutines
}

// New reads the profiles of cfg.Snapshot's sofia.conf and builds one SIP
// user agent per profile. It binds nothing: Start does. A profile that
// cannot work (no sip-ip, an address this machine does not have, bad
// numbers) is an error.
func New(cfg Config) (*Endpoint, error) {
	if cfg.Snapshot == nil || cfg.Manager == nil || cfg.Media == nil {
		return nil, errors.New("sip: Config needs Snapshot, Manager and Media")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("subsystem", "sip")
	e := &Endpoint{cfg: cfg, log: log}
	lists := cfg.ACL
	if lists == nil {
		var err error
		lists, err = acl.FromSnapshot(cfg.Snapshot, acl.Options{Logger: log})
		if err != nil {
			return nil, fmt.Errorf("sip: %w", err)
		}
	}
	e.acl.Store(lists)
	e.snap.Store(cfg.Snapshot)
	var err error
	if e.auth, err = NewAuthenticator(cfg.Auth); err != nil {
		return nil, err
	}
	e.reg = cfg.Registrar
	if e.reg == nil {
		if e.reg, err = OpenRegistrar(nil, cfg.Auth.Now); err != nil {
			return nil, fmt.Errorf("sip: %w", err)
		}
	}
	applyTimers(cfg.Timers)
	pcs, err := parseProfiles(cfg.Snapshot, log)
	if err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	for _, pc := range pcs {
		for _, r := range pc.InboundACL {
			if !lists.Has(r.list) && !looksLikeCIDR(r.list) {
				log.Warn("sip: apply-inbound-acl names an unknown list; it denies everyone", "profile", pc.Name, "acl", r.list)
			}
		}
		p, err := newProfile(e, pc)
		if err != nil {
			return nil, fmt.Errorf("sip: profile %s: %w", pc.Name, err)
		}
		e.profiles = append(e.profiles, p)
	}
	gcs, err := parseGateways(cfg.Snapshot, pcs, log)
	if err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	e.setGatewayConfigs(gcs)
	return e, nil
}

func looksLikeCIDR(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return true
		}
	}
	return false
}

// applyTimers sets sipgo's process-wide timers when they differ from what
// is asked, so endpoints configured alike never write them concurrently.
func applyTimers(t Timers) {
	t1, t2, t4 := sip.T1, sip.T2, sip.T4
	if t.T1 > 0 {
		t1 = t.T1
	}
	if t.T2 > 0 {
		t2 = t.T2
	}
	if t.T4 > 0 {
		t4 = t.T4
	}
	linger := 64 * t1
	if t.Linger > 0 {
		linger = t.Linger
	}
	if t1 != sip.T1 || t2 != sip.T2 || t4 != sip.T4 {
		sip.SetTimers(t1, t2, t4)
	}
	if sip.Timer_J != linger {
		sip.Timer_J = linger
	}
	if sip.Timer_D != linger {
		sip.Timer_D = linger
	}
	// Timer L keeps an accepted INVITE server transaction (and the whole
	// call's messages) to absorb retransmitted INVITEs; at high call rates
	// it is most of the memory, so it follows the linger too.
	if sip.Timer_L != linger {
		sip.Timer_L = linger
	}
	// Timer M is its client-side twin: it keeps an outbound INVITE
	// transaction that got a 2xx (and the B-leg's state) to absorb
	// retransmitted 2xx responses.
	if sip.Timer_M != linger {
		sip.Timer_M = linger
	}
}

// SetACL replaces the network lists (reloadacl).
func (e *Endpoint) SetACL(l *acl.Lists) {
	if l != nil {
		e.acl.Store(l)
	}
}

// Profiles returns the profiles' configurations, in sofia.conf order.
func (e *Endpoint) Profiles() []ProfileConfig {
	out := make([]ProfileConfig, len(e.profiles))
	for i, p := range e.profiles {
		out[i] = *p.cfg
	}
	return out
}

// Start binds every profile's UDP and TCP listeners on sip-ip:sip-port
// (with sip-port 0, one free port shared by both) and serves them until
// Shutdown. It returns an error, and binds nothing, when a listener cannot
// be bound.
func (e *Endpoint) Start(ctx context.Context) error {
	if e.started.Swap(true) {
		return errors.New("sip: already started")
	}
	for i, p := range e.profiles {
		if err := p.bind(); err != nil {
			for _, q := range e.profiles[:i] {
				q.closeListeners()
			}
			return fmt.Errorf("sip: profile %s: %w", p.cfg.Name, err)
		}
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	e.stop = cancel
	for _, p := range e.profiles {
		p.serve(ctx)
		e.log.Info("sip profile listening", "profile", p.cfg.Name, "udp", p.udpAddr.String(), "tcp", p.tcpAddr.String(), "context", p.cfg.Context)
	}
	for _, p := range e.profiles {
		p.waitListener()
	}
	e.startGateways()
	return nil
}

// Addrs returns, per profile name, the addresses Start bound: UDP first,
// then TCP.
func (e *Endpoint) Addrs() map[string][]net.Addr {
	out := make(map[string][]net.Addr, len(e.profiles))
	for _, p := range e.profiles {
		p.mu.Lock()
		if p.udpConn != nil {
			out[p.cfg.Name] = []net.Addr{p.udpAddr, p.tcpAddr}
		}
		p.mu.Unlock()
	}
	return out
}

// Calls returns the number of calls the endpoint is carrying (from the
// INVITE until the hangup's BYE or final response is done).
func (e *Endpoint) Calls() int { return (e.calls.count() + 1) / 2 }

// tracker counts work in progress and lets Shutdown wait for none. Unlike
// a sync.WaitGroup it may grow while someone waits.
type tracker struct {
	mu   sync.Mutex
	n    int
	zero chan struct{} // closed while n == 0
}

func (t *tracker) add(n int) {
	t.mu.Lock()
	t.n += n
	t.mu.Unlock()
}

func (t *tracker) done() {
	t.mu.Lock()
	t.n--
	if t.n == 0 && t.zero != nil {
		close(t.zero)
		t.zero = nil
	}
	t.mu.Unlock()
}

func (t *tracker) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}

// wait returns when the count is zero, or ctx's error when ctx ends first.
func (t *tracker) wait(ctx context.Context) error {
	t.mu.Lock()
	if t.n == 0 {
		t.mu.Unlock()
		return nil
	}
	if t.zero == nil {
		t.zero = make(chan struct{})
	}
	z := t.zero
	t.mu.Unlock()
	select {
	case <-z:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Shutdown stops taking calls (new INVITEs get 503), waits until the
// calls in progress are over — the session manager hangs them up
// (session.Manager.Shutdown); their BYEs go out through this endpoint —
// or ctx is done, then closes the listeners. Later calls do nothing.
func (e *Endpoint) Shutdown(ctx context.Context) error {
	if e.shut.Swap(true) {
		return nil
	}
	if err := e.StopAccepting(ctx); err != nil {
		return err
	}
	err := e.calls.wait(ctx)
	// Registered gateways unregister while the listeners still work.
	e.stopGateways(ctx)
	if e.stop != nil {
		e.stop()
	}
	// Stop taking messages (the listeners stay open, so sipgo keeps using
	// them), end the transactions, and give the messages read just before
	// a moment to be handled. Only then close the listeners: a response
	// sent after that would make sipgo open a fresh socket of its own.
	e.deaf.Store(true)
	for _, p := range e.profiles {
		_ = p.ua.Close()
	}
	grace := time.NewTimer(min(sip.T1, 100*time.Millisecond))
	select {
	case <-grace.C:
	case <-ctx.Done():
		grace.Stop()
	}
	for _, p := range e.profiles {
		_ = p.ua.Close()
		p.closeListeners()
	}
	served := make(chan struct{})
	go func() { e.serving.Wait(); close(served) }()
	select {
	case <-served:
	case <-ctx.Done():
		if err == nil {
			err = ctx.Err()
		}
	}
	return err
}

// StopAccepting makes new INVITEs get 503 and returns once every INVITE
// already admitted has its session started. Call it before
// session.Manager.Shutdown, so the manager's hangup reaches every call;
// Shutdown calls it too.
func (e *Endpoint) StopAccepting(ctx context.Context) error {
	e.closing.Store(true)
	return e.admitting.wait(ctx)
}

// profile is one running sofia profile.
type profile struct {
	e       *Endpoint
	cfg     *ProfileConfig
	log     *slog.Logger
	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	client  *sipgo.Client
	dialogs *sipgo.DialogUA // starts the server dialogs; calls (below) is our dialog table
	calls   sync.Map        // dialog id → *call (inbound) or *outCall (outbound)
	hdr     sharedHeaders

	mu      sync.Mutex
	udpConn net.PacketConn
	tcpLn   net.Listener
	udpAddr net.Addr
	tcpAddr net.Addr
	port    int
}

func newProfile(e *Endpoint, pc *ProfileConfig) (*profile, error) {
	log := e.log.With("profile", pc.Name)
	sipLog := sipgoLogger(log)
	var p *profile
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent(pc.UserAgent),
		sipgo.WithUserAgentHostname(pc.SIPIP.String()),
		sipgo.WithUserAgentTransactionLayerOptions(
			sip.WithTransactionLayerLogger(sipLog),
			sip.WithTransactionLayerUnhandledResponseHandler(func(res *sip.Response) {
				// Set below, before anything is served.
				if p != nil {
					p.onStrayResponse(res)
				}
			}),
		),
		sipgo.WithUserAgentTransportLayerOptions(
			sip.WithTransportLayerLogger(sipLog),
			sip.WithTransportLayerTransports(sip.TransportsConfig{TCP: guardedTCPWith(e.dialTargets.allowed)}),
			sip.WithTransportLayerReadFilter(func(_ sip.TransportReadProps, data []byte) ([]byte, error) {
				if e.deaf.Load() {
					return nil, nil
				}
				return data, nil
			}),
		),
	)
	if err != nil {
		return nil, err
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(sipLog))
	if err != nil {
		return nil, err
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientLogger(sipLog), sipgo.WithClientHostname(pc.SIPIP.String()))
	if err != nil {
		return nil, err
	}
	p = &profile{e: e, cfg: pc, log: log, ua: ua, srv: srv, client: client, hdr: newSharedHeaders(pc.UserAgent)}
	p.dialogs = &sipgo.DialogUA{Client: client, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "mod_sofia", Host: pc.SIPIP.String(), Port: pc.SIPPort}}}
	srv.OnInvite(p.onInvite)
	srv.OnAck(p.onAck)
	srv.OnBye(p.onBye)
	srv.OnCancel(p.onCancel)
	srv.OnOptions(p.onOptions)
	srv.OnInfo(p.onInfo)
	srv.OnRefer(p.onRefer)
	srv.OnRegister(p.onRegister)
	srv.OnNoRoute(p.onNoRoute)
	return p, nil
}

// bind opens the UDP socket and the TCP listener on the same port.
func (p *profile) bind() error {
	ip := p.cfg.SIPIP
	network := "4"
	if ip.Is6() {
		network = "6"
	}
	var lastErr error
	for try := 0; try < 20; try++ {
		uc, err := net.ListenUDP("udp"+network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(p.cfg.SIPPort))))
		if err != nil {
			return fmt.Errorf("bind udp %s: %w", netip.AddrPortFrom(ip, uint16(p.cfg.SIPPort)), err)
		}
		port := uc.LocalAddr().(*net.UDPAddr).Port
		tl, err := net.ListenTCP("tcp"+network, net.TCPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
		if err != nil {
			_ = uc.Close()
			lastErr = fmt.Errorf("bind tcp %s: %w", netip.AddrPortFrom(ip, uint16(port)), err)
			if p.cfg.SIPPort != 0 {
				return lastErr
			}
			continue // port 0: the kernel gave a UDP port whose TCP twin is taken; try another
		}
		p.mu.Lock()
		p.udpConn, p.tcpLn = uc, tl
		p.udpAddr, p.tcpAddr = uc.LocalAddr(), tl.Addr()
		p.port = port
		p.mu.Unlock()
		p.dialogs = &sipgo.DialogUA{Client: p.client, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "mod_sofia", Host: ip.String(), Port: port}}}
		return nil
	}
	return lastErr
}

func (p *profile) serve(ctx context.Context) {
	p.mu.Lock()
	uc, tl := p.udpConn, p.tcpLn
	p.mu.Unlock()
	p.e.serving.Add(2)
	go func() {
		defer p.e.serving.Done()
		if err := p.srv.ServeUDP(uc); err != nil && ctx.Err() == nil {
			p.log.Error("sip: UDP listener stopped", "err", err)
		}
	}()
	go func() {
		defer p.e.serving.Done()
		if err := p.srv.ServeTCP(tl); err != nil && ctx.Err() == nil {
			p.log.Error("sip: TCP listener stopped", "err", err)
		}
	}()
}

// waitListener returns once sipgo has taken the profile's UDP socket in
// (its serving goroutine registers it), so that requests we send go out
// from it, or after a second.
func (p *profile) waitListener() {
	p.mu.Lock()
	addr := p.udpAddr
	p.mu.Unlock()
	pool := p.ua.TransportLayer().Pool("udp")
	if addr == nil || pool == nil {
		return
	}
	for i := 0; i < 1000; i++ {
		if c := pool.Get(addr.String()); c != nil {
			_, _ = c.TryClose() // Get took a reference
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func (p *profile) closeListeners() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.udpConn != nil {
		_ = p.udpConn.Close()
	}
	if p.tcpLn != nil {
		_ = p.tcpLn.Close()
	}
}

// localPort is the port the profile listens on.
func (p *profile) localPort() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.port
}

// lookup finds the leg an in-dialog request belongs to, an inbound *call
// or an outbound *outCall, by its Call-ID and tags (ours in To, the far
// end's in From, whichever side started the dialog); nil when none.
func (p *profile) lookup(req *sip.Request) any {
	id, err := sip.DialogIDFromRequestUAS(req)
	if err != nil {
		return nil
	}
	v, _ := p.calls.Load(id)
	return v
}

// SetLibraryLogger sets the process-wide logger sipgo uses where it has no
// per-user-agent one (connection reference counting, transaction timers).
// Call it once at start-up, before any endpoint starts.
func SetLibraryLogger(l *slog.Logger) {
	if l != nil {
		sip.SetDefaultLogger(sipgoLogger(l))
	}
}
