package sip

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/conf/conftest"
	"github.com/switchboard-voip/switchboard/events"
	"github.com/switchboard-voip/switchboard/media"
	"github.com/switchboard-voip/switchboard/session"
)

// gwSecond is one configuration second in the gateway tests.
const gwSecond = 20 * time.Millisecond

// --- A fake registrar ---------------------------------------------------

// seenRequest is a request the fake registrar received.
type seenRequest struct {
	req  *sip.Request
	from netip.AddrPort
}

// fakeRegistrar is a registrar on a plain UDP socket: it challenges
// REGISTERs with a digest realm, accepts the right credentials and
// answers OPTIONS pings as the test says.
type fakeRegistrar struct {
	t     *testing.T
	conn  *net.UDPConn
	reply *net.UDPConn // the socket answers are sent from (conn by default)
	user  string
	pass  string

	mu          sync.Mutex
	realm       string // the realm it challenges with
	grant       int    // the expires it grants (0: echo the request's)
	proxyAuth   bool   // challenge with 407 instead of 401
	optionsCode int    // the answer to OPTIONS; 0 drops them
	regCode     int    // a fixed answer to REGISTERs (0: challenge, then 200)
	requests    []seenRequest
	arrived     chan struct{}
}

func newFakeRegistrar(t *testing.T, realm, user, pass string) *fakeRegistrar {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r := &fakeRegistrar{t: t, conn: conn, reply: conn, user: user, pass: pass, realm: realm, optionsCode: 200, arrived: make(chan struct{}, 1)}
	done := make(chan struct{})
	go func() { defer close(done); r.serve() }()
	t.Cleanup(func() { _ = conn.Close(); <-done })
	return r
}

// newFakeTCPRegistrar is a fakeRegistrar on TCP: it answers on each
// connection it accepts.
func newFakeTCPRegistrar(t *testing.T, realm, user, pass string) (*fakeRegistrar, netip.AddrPort) {
	t.Helper()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r := &fakeRegistrar{t: t, user: user, pass: pass, realm: realm, optionsCode: 200, arrived: make(chan struct{}, 1)}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				from := netip.MustParseAddrPort(c.RemoteAddr().String())
				stream := sip.NewParser().NewSIPStream()
				buf := make([]byte, 65535)
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					_ = stream.ParseSIPStream(buf[:n], func(m sip.Message) {
						req, ok := m.(*sip.Request)
						if !ok {
							return
						}
						res := r.answer(req, from)
						r.mu.Lock()
						r.requests = append(r.requests, seenRequest{req: req, from: from})
						r.mu.Unlock()
						if res != nil {
							_, _ = c.Write([]byte(res.String()))
						}
					})
				}
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return r, netip.MustParseAddrPort(ln.Addr().String())
}

func (r *fakeRegistrar) addr() netip.AddrPort {
	return netip.MustParseAddrPort(r.conn.LocalAddr().String())
}

func (r *fakeRegistrar) set(f func(r *fakeRegistrar)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(r)
}

func (r *fakeRegistrar) serve() {
	buf := make([]byte, 65535)
	for {
		n, from, err := r.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		msg, err := sip.ParseMessage(append([]byte(nil), buf[:n]...))
		if err != nil {
			continue
		}
		req, ok := msg.(*sip.Request)
		if !ok {
			continue
		}
		res := r.answer(req, from)
		r.mu.Lock()
		r.requests = append(r.requests, seenRequest{req: req, from: from})
		reply := r.reply
		r.mu.Unlock()
		select {
		case r.arrived <- struct{}{}:
		default:
		}
		if res != nil {
			_, _ = reply.WriteToUDPAddrPort([]byte(res.String()), from)
		}
	}
}

// answer builds the registrar's answer to req (nil: none).
func (r *fakeRegistrar) answer(req *sip.Request, from netip.AddrPort) *sip.Response {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch req.Method {
	case sip.OPTIONS:
		if r.optionsCode == 0 {
			return nil
		}
		return sip.NewResponseFromRequest(req, r.optionsCode, "", nil)
	case sip.REGISTER:
	default:
		return sip.NewResponseFromRequest(req, 405, "Method Not Allowed", nil)
	}
	if r.regCode != 0 {
		return sip.NewResponseFromRequest(req, r.regCode, "", nil)
	}
	authName, challengeName, code := "Authorization", "WWW-Authenticate", 401
	if r.proxyAuth {
		authName, challengeName, code = "Proxy-Authorization", "Proxy-Authenticate", 407
	}
	if h := req.GetHeader(authName); h != nil {
		creds := ParseCredentials(h.Value())
		if creds == nil || creds.Realm != r.realm || creds.Username != r.user {
			return sip.NewResponseFromRequest(req, 403, "Forbidden", nil)
		}
		ha1 := md5hex(r.user + ":" + r.realm + ":" + r.pass)
		if DigestResponse(ha1, string(req.Method), creds.URI, creds.Nonce, creds.QOP, creds.Cnonce, creds.Nc) != creds.Response {
			return sip.NewResponseFromRequest(req, 403, "Forbidden", nil)
		}
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		expires := r.grant
		if expires == 0 {
			if e := req.GetHeader("Expires"); e != nil {
				expires, _ = strconv.Atoi(e.Value())
			}
		}
		if c := req.Contact(); c != nil {
			ch := c.Clone()
			ch.Params = sip.NewParams()
			ch.Params.Add("expires", strconv.Itoa(expires))
			res.AppendHeader(ch)
		}
		return res
	}
	res := sip.NewResponseFromRequest(req, code, "Unauthorized", nil)
	chal := digest.Challenge{Realm: r.realm, Nonce: fmt.Sprintf("%x", time.Now().UnixNano()), Algorithm: "MD5", QOP: []string{"auth"}}
	res.AppendHeader(sip.NewHeader(challengeName, chal.String()))
	return res
}

// seen returns the requests of a method received so far.
func (r *fakeRegistrar) seen(method sip.RequestMethod) []seenRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []seenRequest
	for _, s := range r.requests {
		if s.req.Method == method {
			out = append(out, s)
		}
	}
	return out
}

// authorized returns the REGISTERs that carried credentials.
func (r *fakeRegistrar) authorized() []seenRequest {
	var out []seenRequest
	for _, s := range r.seen(sip.REGISTER) {
		if s.req.GetHeader("Authorization") != nil || s.req.GetHeader("Proxy-Authorization") != nil {
			out = append(out, s)
		}
	}
	return out
}

func expiresOf(req *sip.Request) string {
	if h := req.GetHeader("Expires"); h != nil {
		return h.Value()
	}
	return ""
}

// --- A test endpoint with gateways -------------------------------------

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// gwEnv is a running endpoint with one profile, "external", and the
// gateways the test gave it.
type gwEnv struct {
	ep   *Endpoint
	logs *syncBuffer
	bus  *events.Bus
	sub  *events.Subscription
	port int // the profile's port

	stopOnce sync.Once
	stop     func()
}

// gwConfXML is a configuration whose profile "external" holds gateways.
func gwConfXML(gateways string) string {
	return `<?xml version="1.0"?>
<document type="freeswitch/xml">
  <section name="configuration">
    <configuration name="sofia.conf">
      <profiles>
        <profile name="external">
          <gateways>` + gateways + `
          </gateways>
          <settings>
            <param name="sip-ip" value="127.0.0.1"/>
            <param name="sip-port" value="0"/>
            <param name="context" value="public"/>
            <param name="user-agent-string" value="SB-test"/>
          </settings>
        </profile>
      </profiles>
    </configuration>
  </section>
</document>
`
}

func loadGwConf(t *testing.T, xml string) *conf.Snapshot {
	t.Helper()
	dir := conftest.WriteTree(t, map[string]string{"freeswitch.xml": xml})
	snap, err := conf.Load(conf.Options{Dir: dir, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func newGwEnv(t *testing.T, gateways string) *gwEnv {
	t.Helper()
	snap := loadGwConf(t, gwConfXML(gateways))
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	bus := events.NewBus(events.BusConfig{})
	sub := bus.Subscribe(1024)
	sub.AddSubclass("sofia::gateway_state", "sofia::gateway_invalid_digest_req", "sofia::gateway_add", "sofia::gateway_delete")
	mgr := session.NewManager(session.Config{Snapshot: func() *conf.Snapshot { return snap }, Logger: log})
	eng, err := media.NewEngine(media.Config{IP: netip.MustParseAddr("127.0.0.1"), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ep, err := New(Config{Snapshot: snap, Manager: mgr, Media: eng, Logger: log, Timers: testTimers,
		Gateways: GatewayTiming{Second: gwSecond}, Events: bus})
	if err != nil {
		t.Fatal(err)
	}
	if err := ep.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	env := &gwEnv{ep: ep, logs: logs, bus: bus, sub: sub, port: ep.Addrs()["external"][0].(*net.UDPAddr).Port}
	env.stop = func() {
		env.stopOnce.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := ep.Shutdown(ctx); err != nil {
				t.Errorf("endpoint shutdown: %v", err)
			}
			_ = mgr.Shutdown(ctx)
			_ = eng.Close()
			sub.Close()
		})
	}
	t.Cleanup(func() {
		env.stop()
		if t.Failed() {
			t.Logf("logs:\n%s", logs.String())
		}
	})
	return env
}

// gatewayXML writes a gateway with the given params.
func gatewayXML(name string, params map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n<gateway name=%q>", name)
	for k, v := range params {
		fmt.Fprintf(&b, "<param name=%q value=%q/>", k, v)
	}
	b.WriteString("</gateway>")
	return b.String()
}

// state returns a gateway's status, failing the test when it is not running.
func (env *gwEnv) status(t *testing.T, name string) GatewayStatus {
	t.Helper()
	s, ok := env.ep.Gateway(name)
	if !ok {
		t.Fatalf("gateway %s is not running", name)
	}
	return s
}

// waitState polls until the gateway reaches state.
func (env *gwEnv) waitState(t *testing.T, name, state string) GatewayStatus {
	t.Helper()
	var s GatewayStatus
	waitFor(t, name+" in state "+state, func() bool {
		s = env.status(t, name)
		return s.State == state
	})
	return s
}

// states returns the states sofia::gateway_state reported for name so
// far, in order.
func (env *gwEnv) states(name string) []string {
	var out []string
	for {
		select {
		case ev, ok := <-env.sub.C():
			if !ok {
				return out
			}
			if ev.Subclass() == "sofia::gateway_state" && ev.Get("Gateway") == name {
				out = append(out, ev.Get("State"))
			}
		default:
			return out
		}
	}
}

// --- Tests ------------------------------------------------------------

func TestGatewayRegistersWithDigest(t *testing.T) {
	for _, proxyAuth := range []bool{false, true} {
		t.Run(fmt.Sprintf("proxy-auth=%v", proxyAuth), func(t *testing.T) {
			reg := newFakeRegistrar(t, "sb.test", "alice", "s3cret")
			reg.set(func(r *fakeRegistrar) { r.proxyAuth = proxyAuth })
			env := newGwEnv(t, gatewayXML("prov", map[string]string{
				"username": "alice", "password": "s3cret", "realm": "sb.test",
				"proxy": reg.addr().String(), "expire-seconds": "600",
			}))
			s := env.waitState(t, "prov", "REGED")
			if !s.Up {
				t.Error("registered gateway is not UP")
			}
			regs := reg.seen(sip.REGISTER)
			if len(regs) < 2 {
				t.Fatalf("registrar saw %d REGISTERs, want a challenged one and an authorized one", len(regs))
			}
			first, second := regs[0].req, regs[1].req
			if first.GetHeader("Authorization") != nil || first.GetHeader("Proxy-Authorization") != nil {
				t.Error("the first REGISTER carried credentials before any challenge")
			}
			if len(reg.authorized()) == 0 {
				t.Fatal("no REGISTER with credentials")
			}
			want := fmt.Sprintf("<sip:gw+prov@127.0.0.1:%d;transport=udp;gw=prov>", env.port)
			if c := second.Contact(); c == nil || c.Value() != want {
				t.Errorf("Contact = %v, want %s", c, want)
			}
			if got := expiresOf(second); got != "600" {
				t.Errorf("Expires = %q, want 600", got)
			}
			if f := second.From(); f == nil || f.Address.User != "alice" || f.Address.Host != "127.0.0.1" {
				t.Errorf("From = %v", f)
			}
			if first.CallID().Value() != second.CallID().Value() || second.CSeq().SeqNo <= first.CSeq().SeqNo {
				t.Errorf("Call-ID/CSeq: %s %d then %s %d", first.CallID().Value(), first.CSeq().SeqNo, second.CallID().Value(), second.CSeq().SeqNo)
			}
			if got := regs[0].from.Port(); int(got) != env.port {
				t.Errorf("REGISTER sent from port %d, want the profile's %d", got, env.port)
			}
			if ua := second.GetHeader("User-Agent"); ua == nil || ua.Value() != "SB-test" {
				t.Errorf("User-Agent = %v", ua)
			}
			if s.RegisterNetworkIP != "127.0.0.1" || s.RegisterNetworkPort != int(reg.addr().Port()) {
				t.Errorf("register network address %s:%d", s.RegisterNetworkIP, s.RegisterNetworkPort)
			}
			states := strings.Join(env.states("prov"), ",")
			if !strings.Contains(states, "TRYING,REGISTER,REGED") {
				t.Errorf("state events %s", states)
			}
		})
	}
}

func TestGatewayRegistersOverTCP(t *testing.T) {
	reg, addr := newFakeTCPRegistrar(t, "sb.test", "tina", "pw")
	env := newGwEnv(t, gatewayXML("prov", map[string]string{
		"username": "tina", "password": "pw", "realm": "sb.test", "proxy": addr.String(), "register-transport": "tcp",
	}))
	env.waitState(t, "prov", "REGED")
	regs := reg.authorized()
	if len(regs) == 0 {
		t.Fatal("no authorized REGISTER")
	}
	req := regs[0].req
	if v := req.Via(); v == nil || v.Transport != "TCP" {
		t.Errorf("Via %v", v)
	}
	want := fmt.Sprintf("<sip:gw+prov@127.0.0.1:%d;transport=tcp;gw=prov>", env.port)
	if c := req.Contact(); c == nil || c.Value() != want {
		t.Errorf("Contact %v, want %s", c, want)
	}
	if got := req.Recipient.String(); got != "sip:"+addr.String()+";transport=tcp" {
		t.Errorf("Request-URI %s", got)
	}
}

func TestGatewayRefreshesBeforeExpiry(t *testing.T) {
	reg := newFakeRegistrar(t, "sb.test", "bob", "pw")
	reg.set(func(r *fakeRegistrar) { r.grant = 6 }) // refreshed every 3 seconds
	env := newGwEnv(t, gatewayXML("prov", map[string]string{
		"username": "bob", "password": "pw", "realm": "sb.test", "proxy": reg.addr().String(),
	}))
	env.waitState(t, "prov", "REGED")
	waitFor(t, "three registrations", func() bool { return len(reg.authorized()) >= 3 })
	regs := reg.authorized()
	for i := 1; i < len(regs); i++ {
		if regs[i].req.CallID().Value() != regs[0].req.CallID().Value() {
			t.Errorf("refresh %d changed the Call-ID", i)
		}
		if regs[i].req.CSeq().SeqNo <= regs[i-1].req.CSeq().SeqNo {
			t.Errorf("refresh %d: CSeq %d after %d", i, regs[i].req.CSeq().SeqNo, regs[i-1].req.CSeq().SeqNo)
		}
		if got := expiresOf(regs[i].req); got != "3600" {
			t.Errorf("refresh %d asks Expires %q, want the configured 3600", i, got)
		}
	}
	if s := env.status(t, "prov"); s.State != "REGED" && s.State != "TRYING" && s.State != "REGISTER" {
		t.Errorf("state %s while refreshing", s.State)
	}
}

func TestGatewayRefusesForeignRealm(t *testing.T) {
	reg := newFakeRegistrar(t, "evil.test", "carol", "pw")
	env := newGwEnv(t, gatewayXML("prov", map[string]string{
		"username": "carol", "password": "pw", "realm": "sb.test", "proxy": reg.addr().String(), "retry-seconds": "100",
	}))
	s := env.waitState(t, "prov", "FAIL_WAIT")
	if s.Up {
		t.Error("gateway UP after a refused challenge")
	}
	if s.Retry <= 0 {
		t.Errorf("retry in %v, want a pending retry", s.Retry)
	}
	if n := len(reg.authorized()); n != 0 {
		t.Fatalf("%d REGISTERs carried the gateway's credentials to a foreign realm", n)
	}
	states := strings.Join(env.states("prov"), ",")
	if !strings.Contains(states, "TRYING,FAILED,FAIL_WAIT") {
		t.Errorf("state events %s, want TRYING,FAILED,FAIL_WAIT", states)
	}
	logs := env.logs.String()
	if !strings.Contains(logs, "invalid digest request") || !strings.Contains(logs, "evil.test") {
		t.Errorf("no invalid digest request logged:\n%s", logs)
	}
}

func TestGatewayRefusesChallengeFromElsewhere(t *testing.T) {
	other, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Skipf("no 127.0.0.2 here: %v", err)
	}
	defer other.Close()
	reg := newFakeRegistrar(t, "sb.test", "dave", "pw")
	reg.set(func(r *fakeRegistrar) { r.reply = other })
	env := newGwEnv(t, gatewayXML("prov", map[string]string{
		"username": "dave", "password": "pw", "realm": "sb.test", "proxy": reg.addr().String(), "retry-seconds": "100",
	}))
	env.waitState(t, "prov", "FAIL_WAIT")
	if n := len(reg.authorized()); n != 0 {
		t.Fatalf("credentials sent in answer to a challenge from 127.0.0.2 (%d REGISTERs)", n)
	}
	if logs := env.logs.String(); !strings.Contains(logs, "challenge did not come from the gateway") {
		t.Errorf("refusal not logged:\n%s", logs)
	}
}

func TestGatewayRetriesAfterFailure(t *testing.T) {
	reg := newFakeRegistrar(t, "sb.test", "erin", "pw")
	reg.set(func(r *fakeRegistrar) { r.regCode = 403 })
	env := newGwEnv(t, gatewayXML("prov", map[string]string{
		"username": "erin", "password": "pw", "realm": "sb.test", "proxy": reg.addr().String(), "retry-seconds": "5",
	}))
	env.waitState(t, "prov", "FAIL_WAIT")
	waitFor(t, "a second attempt", func() bool { return len(reg.seen(sip.REGISTER)) >= 2 })
	reg.set(func(r *fakeRegistrar) { r.regCode = 0 })
	env.waitState(t, "prov", "REGED")
	if logs := env.logs.String(); !strings.Contains(logs, "registration failed with 403") {
		t.Errorf("failure not logged:\n%s", logs)
	}
}

func TestGatewayTimeoutIsFailure(t *testing.T) {
	// A registrar that never answers: point the gateway at a socket that
	// reads nothing.
	silent, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	env := newGwEnv(t, gatewayXML("prov", map[string]string{
		"username": "fay", "password": "pw", "realm": "sb.test", "proxy": silent.LocalAddr().String(),
		"timeout-seconds": "5", "retry-seconds": "100",
	}))
	env.waitState(t, "prov", "FAIL_WAIT")
	states := strings.Join(env.states("prov"), ",")
	if !strings.Contains(states, "TRYING,TIMEOUT,FAILED,FAIL_WAIT") {
		t.Errorf("state events %s", states)
	}
}

func TestGatewayNoRegister(t *testing.T) {
	reg := newFakeRegistrar(t, "sb.test", "", "")
	env := newGwEnv(t, gatewayXML("peer", map[string]string{"register": "false", "proxy": reg.addr().String()}))
	s := env.status(t, "peer")
	if s.State != "NOREG" || !s.Up {
		t.Errorf("state %s up=%v, want NOREG and UP", s.State, s.Up)
	}
	time.Sleep(10 * gwSecond)
	if n := len(reg.seen(sip.REGISTER)); n != 0 {
		t.Errorf("a register=false gateway sent %d REGISTERs", n)
	}
	if err := env.ep.RegisterGateway("external", "peer"); err != ErrNoRegister {
		t.Errorf("register of a NOREG gateway: %v", err)
	}
}

func TestGatewayPingUpDown(t *testing.T) {
	reg := newFakeRegistrar(t, "", "", "")
	env := newGwEnv(t, gatewayXML("peer", map[string]string{
		"register": "false", "proxy": reg.addr().String(), "ping": "5", "ping-min": "2", "ping-max": "3",
		"timeout-seconds": "10", "ping-user-agent": "pinger",
	}))
	waitFor(t, "three pings answered", func() bool { return env.status(t, "peer").PingCount == 3 })
	if s := env.status(t, "peer"); !s.Up {
		t.Error("answering gateway is DOWN")
	}
	pings := reg.seen(sip.OPTIONS)
	if ua := pings[0].req.GetHeader("User-Agent"); ua == nil || ua.Value() != "pinger" {
		t.Errorf("ping User-Agent %v", ua)
	}
	if f := pings[0].req.From(); f == nil || f.Address.User != "" || f.Address.Host != "127.0.0.1" {
		t.Errorf("ping From %v", f)
	}

	// 503s count down: 3 → 2 keeps it up (ping-min 2), 1 takes it down.
	reg.set(func(r *fakeRegistrar) { r.optionsCode = 503 })
	waitFor(t, "the gateway down", func() bool { return !env.status(t, "peer").Up })
	if c := env.status(t, "peer").PingCount; c != 1 && c != 0 {
		t.Errorf("ping count %d when it went down", c)
	}
	waitFor(t, "count at zero", func() bool { return env.status(t, "peer").PingCount == 0 })

	// Unanswered pings are failures too (after timeout-seconds).
	reg.set(func(r *fakeRegistrar) { r.optionsCode = 0 })
	n := len(reg.seen(sip.OPTIONS))
	waitFor(t, "two unanswered pings", func() bool { return len(reg.seen(sip.OPTIONS)) >= n+2 })
	if env.status(t, "peer").Up {
		t.Error("UP while pings go unanswered")
	}

	// Back up only after ping-min successes.
	reg.set(func(r *fakeRegistrar) { r.optionsCode = 200 })
	waitFor(t, "one success", func() bool { return env.status(t, "peer").PingCount >= 1 })
	if s := env.status(t, "peer"); s.PingCount == 1 && s.Up {
		t.Error("UP after one success with ping-min 2")
	}
	waitFor(t, "the gateway up", func() bool { return env.status(t, "peer").Up })
	if c := env.status(t, "peer").PingCount; c < 2 {
		t.Errorf("up with ping count %d", c)
	}
}

func TestGatewayPingFailureReregisters(t *testing.T) {
	reg := newFakeRegistrar(t, "sb.test", "gus", "pw")
	env := newGwEnv(t, gatewayXML("prov", map[string]string{
		"username": "gus", "password": "pw", "realm": "sb.test", "proxy": reg.addr().String(),
		"ping": "5", "retry-seconds": "5",
	}))
	env.waitState(t, "prov", "REGED")
	before := len(reg.authorized())
	reg.set(func(r *fakeRegistrar) { r.optionsCode = 503 })
	waitFor(t, "a registration after the failed ping", func() bool {
		return len(reg.authorized()) > before && strings.Contains(strings.Join(env.states("prov"), ","), "FAILED")
	})
}

func TestGatewayKillUnregisters(t *testing.T) {
	reg := newFakeRegistrar(t, "sb.test", "hal", "pw")
	env := newGwEnv(t, gatewayXML("prov", map[string]string{
		"username": "hal", "password": "pw", "realm": "sb.test", "proxy": reg.addr().String(),
	}))
	env.waitState(t, "prov", "REGED")
	if err := env.ep.KillGateway("external", "nosuch"); err != ErrNoGateway {
		t.Errorf("kill of an unknown gateway: %v", err)
	}
	if err := env.ep.KillGateway("external", "prov"); err != nil {
		t.Fatal(err)
	}
	if _, ok := env.ep.lookupGateway("prov"); ok {
		t.Error("killed gateway still listed")
	}
	waitFor(t, "the unregistration", func() bool {
		for _, s := range reg.authorized() {
			if expiresOf(s.req) == "0" {
				return true
			}
		}
		return false
	})
	// startgw brings it back from the configuration.
	started, err := env.ep.StartGateway("external", "prov")
	if err != nil || len(started) != 1 {
		t.Fatalf("startgw: %v %v", started, err)
	}
	env.waitState(t, "prov", "REGED")
}

func TestGatewayShutdownUnregisters(t *testing.T) {
	reg := newFakeRegistrar(t, "sb.test", "ivy", "pw")
	env := newGwEnv(t, gatewayXML("prov", map[string]string{
		"username": "ivy", "password": "pw", "realm": "sb.test", "proxy": reg.addr().String(),
	}))
	env.waitState(t, "prov", "REGED")
	env.stop()
	var unreg *sip.Request
	for _, s := range reg.authorized() {
		if expiresOf(s.req) == "0" {
			unreg = s.req
		}
	}
	if unreg == nil {
		t.Fatal("no unregistration before shutdown ended")
	}
	if c := unreg.Contact(); c == nil || c.Params.GetOr("expires", "") != "0" {
		t.Errorf("unregister Contact %v, want expires=0", c)
	}
}

func TestGatewayUnregisterAndRegisterCommands(t *testing.T) {
	reg := newFakeRegistrar(t, "sb.test", "jo", "pw")
	env := newGwEnv(t, gatewayXML("prov", map[string]string{
		"username": "jo", "password": "pw", "realm": "sb.test", "proxy": reg.addr().String(),
	}))
	env.waitState(t, "prov", "REGED")
	if err := env.ep.UnregisterGateway("external", "prov"); err != nil {
		t.Fatal(err)
	}
	if s := env.waitState(t, "prov", "DOWN"); s.Up {
		t.Error("unregistered gateway is UP")
	}
	if err := env.ep.RegisterGateway("external", "all"); err != nil {
		t.Fatal(err)
	}
	env.waitState(t, "prov", "REGED")
	if err := env.ep.RegisterGateway("nosuch", "all"); err != ErrNoProfile {
		t.Errorf("register all on an unknown profile: %v", err)
	}
}

func TestGatewayRescanStartsNewOnes(t *testing.T) {
	reg := newFakeRegistrar(t, "", "", "")
	env := newGwEnv(t, gatewayXML("a", map[string]string{"register": "false", "proxy": reg.addr().String()}))
	next := loadGwConf(t, gwConfXML(
		gatewayXML("a", map[string]string{"register": "false", "proxy": "192.0.2.1"})+
			gatewayXML("b", map[string]string{"register": "false", "proxy": reg.addr().String()})))
	r, err := env.ep.PlanReload(next)
	if err != nil {
		t.Fatal(err)
	}
	env.ep.ApplyReload(r)
	if _, ok := env.ep.lookupGateway("b"); ok {
		t.Fatal("reloadxml started a gateway; only rescan does")
	}
	started, err := env.ep.RescanGateways("external")
	if err != nil || strings.Join(started, ",") != "b" {
		t.Fatalf("rescan started %v (%v), want b", started, err)
	}
	if s := env.status(t, "a"); s.Proxy != "sip:"+reg.addr().String() {
		t.Errorf("rescan changed running gateway a: proxy %s", s.Proxy)
	}
	if names := env.ep.Gateways(""); len(names) != 2 || names[0].Name != "a" || names[1].Name != "b" {
		t.Errorf("gateways %v", names)
	}
	if _, err := env.ep.RescanGateways("nosuch"); err != ErrNoProfile {
		t.Errorf("rescan of an unknown profile: %v", err)
	}
	if _, err := env.ep.StartGateway("external", "zzz"); err != ErrGatewayNotConfigured {
		t.Errorf("startgw of an unconfigured gateway: %v", err)
	}

	bad := loadGwConf(t, gwConfXML(gatewayXML("c", map[string]string{"proxy": "192.0.2.1"})))
	if _, err := env.ep.PlanReload(bad); err == nil || !strings.Contains(err.Error(), "username param is required") {
		t.Errorf("reload with a bad gateway: %v", err)
	}
}

// parsedGateway parses a configuration holding one gateway.
func parsedGateway(t *testing.T, params map[string]string) *gwConfig {
	t.Helper()
	snap := loadGwConf(t, gwConfXML(gatewayXML("gw", params)))
	pcs, err := parseProfiles(snap, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	gcs, err := parseGateways(snap, pcs, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return gcs["external"][0]
}

func TestParseGateways(t *testing.T) {
	gc := parsedGateway(t, map[string]string{"username": "u", "password": "p", "proxy": "sip:Prov.Example:5070;transport=udp"})
	want := gwConfig{name: "gw", profile: "external", register: true, realm: "Prov.Example", username: "u", authUsername: "u",
		fromUser: "u", transport: "udp", expires: 3600, retry: 30, timeout: 60, pingMin: 1, pingMax: 1, context: "public"}
	got := *gc
	if got.name != want.name || got.realm != want.realm || got.authUsername != want.authUsername || got.fromUser != want.fromUser ||
		got.expires != want.expires || got.retry != want.retry || got.timeout != want.timeout || got.context != want.context ||
		got.proxy.host != "Prov.Example" || got.proxy.port != 5070 || got.proxy.params != "transport=udp" {
		t.Errorf("parsed %+v", got)
	}

	gc = parsedGateway(t, map[string]string{"register": "false", "proxy": "p.example;transport=TCP"})
	if gc.transport != "tcp" {
		t.Errorf("transport %q, want the proxy's tcp", gc.transport)
	}

	gc = parsedGateway(t, map[string]string{"register": "false", "realm": "r.example", "retry-seconds": "2", "expire-seconds": "1", "context": "from-provider"})
	if gc.username != "FreeSWITCH" || gc.proxy.host != "r.example" || gc.realm != "r.example" || gc.retry != 30 || gc.expires != 3600 || gc.context != "from-provider" {
		t.Errorf("defaults: %+v", *gc)
	}
}

func TestParseGatewayErrors(t *testing.T) {
	cases := []struct {
		name, gw, want string
	}{
		{"no name", `<gateway><param name="register" value="false"/></gateway>`, "needs a name"},
		{"bad name", `<gateway name="a b"><param name="register" value="false"/></gateway>`, "needs a name"},
		{"no username", `<gateway name="g"><param name="password" value="p"/></gateway>`, "username param is required"},
		{"no password", `<gateway name="g"><param name="username" value="u"/></gateway>`, "password param is required"},
		{"transport", `<gateway name="g"><param name="register" value="false"/>
		<param name="register-transport" value="tls"/></gateway>`, `register-transport "tls" is not supported`},
		{"number", `<gateway name="g"><param name="register" value="false"/>
		<param name="expire-seconds" value="soon"/></gateway>`, `expire-seconds "soon" is not a number`},
		{"ping window", `<gateway name="g"><param name="register" value="false"/><param name="ping" value="10"/>
		<param name="ping-min" value="3"/><param name="ping-max" value="2"/></gateway>`, "ping-min 3 is above ping-max 2"},
		{"proxy port", `<gateway name="g"><param name="register" value="false"/>
		<param name="proxy" value="host:99999"/></gateway>`, `bad port "99999"`},
		{"transports disagree", `<gateway name="g"><param name="register" value="false"/><param name="register-transport" value="udp"/>
		<param name="proxy" value="host;transport=tcp"/></gateway>`, "proxy says transport=tcp but register-transport is udp"},
		{"proxy user", `<gateway name="g"><param name="register" value="false"/>
		<param name="proxy" value="sip:u@host"/></gateway>`, `is not host[:port]`},
		{"duplicate", `<gateway name="g"><param name="register" value="false"/></gateway>
		<gateway name="G"><param name="register" value="false"/></gateway>`, `gateway "G" defined twice`},
		{"variable direction", `<gateway name="g"><param name="register" value="false"/>
		<variables><variable name="x" value="1" direction="sideways"/></variables></gateway>`, `direction "sideways"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			snap := loadGwConf(t, gwConfXML(c.gw))
			pcs, err := parseProfiles(snap, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			_, err = parseGateways(snap, pcs, slog.New(slog.DiscardHandler))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			if !regexp.MustCompile(`^\S*freeswitch\.xml:\d+: `).MatchString(err.Error()) {
				t.Errorf("error %q does not start with file:line", err)
			}
		})
	}
}

// TestGatewayIncludedFile loads gateways the way vanilla FreeSWITCH lays
// them out (sip_profiles/external/*.xml included inside <gateways>) and
// checks that an error names the included file and line.
func TestGatewayIncludedFile(t *testing.T) {
	files := map[string]string{
		"freeswitch.xml": `<?xml version="1.0"?>
<document type="freeswitch/xml">
  <section name="configuration">
    <X-PRE-PROCESS cmd="include" data="autoload_configs/*.xml"/>
  </section>
</document>
`,
		"autoload_configs/sofia.conf.xml": `<configuration name="sofia.conf">
  <profiles>
    <X-PRE-PROCESS cmd="include" data="../sip_profiles/*.xml"/>
  </profiles>
</configuration>
`,
		"sip_profiles/external.xml": `<profile name="external">
  <gateways>
    <X-PRE-PROCESS cmd="include" data="external/*.xml"/>
  </gateways>
  <settings>
    <param name="sip-ip" value="127.0.0.1"/>
    <param name="sip-port" value="0"/>
    <param name="context" value="public"/>
  </settings>
</profile>
`,
		"sip_profiles/external/good.xml": `<include>
  <gateway name="good">
    <param name="register" value="false"/>
    <param name="proxy" value="192.0.2.7"/>
    <variables>
      <variable name="both" value="1"/>
      <variable name="in_only" value="2" direction="inbound"/>
    </variables>
  </gateway>
</include>
`,
	}
	dir := conftest.WriteTree(t, files)
	snap, err := conf.Load(conf.Options{Dir: dir, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	pcs, err := parseProfiles(snap, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	gcs, err := parseGateways(snap, pcs, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if len(gcs["external"]) != 1 || gcs["external"][0].name != "good" {
		t.Fatalf("gateways %v", gcs)
	}
	g := gcs["external"][0]
	if fmt.Sprint(g.inVars) != "[[both 1] [in_only 2]]" || fmt.Sprint(g.outVars) != "[[both 1]]" {
		t.Errorf("variables in %v out %v", g.inVars, g.outVars)
	}
	if !strings.HasSuffix(g.pos, "sip_profiles/external/good.xml:2") {
		t.Errorf("position %q", g.pos)
	}

	conftest.AddFiles(t, dir, map[string]string{"sip_profiles/external/bad.xml": `<include>
  <gateway name="bad">
    <param name="username" value="u"/>
    <param name="ping" value="x"/>
  </gateway>
</include>
`})
	snap, err = conf.Load(conf.Options{Dir: dir, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = parseGateways(snap, pcs, slog.New(slog.DiscardHandler)); err == nil ||
		!strings.Contains(err.Error(), "sip_profiles/external/bad.xml:4: ") || !strings.Contains(err.Error(), `ping "x" is not a number`) {
		t.Errorf("error %v, want one at sip_profiles/external/bad.xml:4", err)
	}
}

// offlineGateway builds a gateway that is not running, for the message
// and authorization tests.
func offlineGateway(t *testing.T, params map[string]string) *gateway {
	t.Helper()
	gc := parsedGateway(t, params)
	log := slog.New(slog.DiscardHandler)
	e := &Endpoint{cfg: Config{}, log: log}
	p := &profile{e: e, cfg: &ProfileConfig{Name: "external", SIPIP: netip.MustParseAddr("127.0.0.1"), Context: "public"}, log: log, port: 5080, hdr: newSharedHeaders("SB")}
	e.profiles = []*profile{p}
	return newGateway(e, p, gc, 1)
}

func TestGatewayCallAddressing(t *testing.T) {
	cases := []struct {
		name     string
		params   map[string]string
		number   string
		uri      string
		fromUser string
		fromDom  string
		obHost   string
		obPort   int
		obTp     string
	}{
		{"plain", map[string]string{"username": "acct", "password": "p", "proxy": "sip.prov.example"}, "15551234",
			"sip:15551234@sip.prov.example", "acct", "sip.prov.example", "sip.prov.example", 5060, "UDP"},
		{"prefix, port, from", map[string]string{"username": "acct", "password": "p", "proxy": "192.0.2.1:5070", "destination-prefix": "9",
			"from-user": "trunk", "from-domain": "prov.example"}, "100;foo=bar",
			"sip:9100@192.0.2.1:5070;foo=bar", "trunk", "prov.example", "192.0.2.1", 5070, "UDP"},
		{"tcp, outbound proxy, caller id", map[string]string{"register": "false", "proxy": "prov.example", "register-transport": "tcp",
			"outbound-proxy": "sip:[2001:db8::1]:5062", "caller-id-in-from": "true"}, "200",
			"sip:200@prov.example;transport=tcp", "", "prov.example", "2001:db8::1", 5062, "TCP"},
		{"full address", map[string]string{"register": "false", "proxy": "prov.example"}, "300@other.example:5099",
			"sip:300@other.example:5099", "FreeSWITCH", "prov.example", "prov.example", 5060, "UDP"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := offlineGateway(t, c.params)
			u := g.requestURI(c.number)
			if got := u.String(); got != c.uri {
				t.Errorf("requestURI = %s, want %s", got, c.uri)
			}
			if got := g.fromUser(); got != c.fromUser {
				t.Errorf("fromUser = %q, want %q", got, c.fromUser)
			}
			if got := g.fromDomain(); got != c.fromDom {
				t.Errorf("fromDomain = %q, want %q", got, c.fromDom)
			}
			h, p, tp := g.outboundProxy()
			if h != c.obHost || p != c.obPort || tp != c.obTp {
				t.Errorf("outboundProxy = %s %d %s, want %s %d %s", h, p, tp, c.obHost, c.obPort, c.obTp)
			}
			if g.profileName() != "external" {
				t.Errorf("profileName = %q", g.profileName())
			}
		})
	}
}

func TestGatewayContact(t *testing.T) {
	g := offlineGateway(t, map[string]string{"username": "acct", "password": "p", "proxy": "prov.example", "contact-params": ";tport=x"})
	if got := g.contact().Value(); got != "<sip:gw+gw@127.0.0.1:5080;tport=x;transport=udp;gw=gw>" {
		t.Errorf("contact %s", got)
	}
	g = offlineGateway(t, map[string]string{"username": "acct", "password": "p", "proxy": "prov.example", "extension": "777",
		"extension-in-contact": "true", "contact-host": "sb.example"})
	if got := g.contact().Value(); got != "<sip:777@sb.example:5080;transport=udp;gw=gw>" {
		t.Errorf("contact %s", got)
	}
}

// challenge builds a 401 or 407 to req from src with a digest realm.
func challenge(req *sip.Request, code int, realm, src string) *sip.Response {
	res := sip.NewResponseFromRequest(req, code, "Unauthorized", nil)
	name := "WWW-Authenticate"
	if code == 407 {
		name = "Proxy-Authenticate"
	}
	c := digest.Challenge{Realm: realm, Nonce: "abc", Algorithm: "MD5", QOP: []string{"auth"}}
	res.AppendHeader(sip.NewHeader(name, c.String()))
	res.SetSource(src)
	return res
}

func TestGatewayAuthorize(t *testing.T) {
	cases := []struct {
		name   string
		params map[string]string
		code   int
		realm  string
		src    string
		header string // the answer header; "" for a refusal
		err    error
	}{
		{"401 from the proxy", map[string]string{"username": "u", "password": "p", "realm": "sb.test", "proxy": "192.0.2.10"}, 401, "sb.test", "192.0.2.10:5060", "Authorization", nil},
		{"407 from the proxy", map[string]string{"username": "u", "password": "p", "realm": "sb.test", "proxy": "192.0.2.10"}, 407, "SB.test", "192.0.2.10:5999", "Proxy-Authorization", nil},
		{"realm defaults to the proxy host", map[string]string{"username": "u", "password": "p", "proxy": "192.0.2.10:5070"}, 401, "192.0.2.10", "192.0.2.10:5070", "Authorization", nil},
		{"from the outbound proxy", map[string]string{"username": "u", "password": "p", "realm": "sb.test", "proxy": "192.0.2.10", "outbound-proxy": "192.0.2.20"}, 407, "sb.test", "192.0.2.20:5060", "Proxy-Authorization", nil},
		{"foreign realm", map[string]string{"username": "u", "password": "p", "realm": "sb.test", "proxy": "192.0.2.10"}, 407, "other.test", "192.0.2.10:5060", "", errRealm},
		{"foreign source", map[string]string{"username": "u", "password": "p", "realm": "sb.test", "proxy": "192.0.2.10"}, 407, "sb.test", "198.51.100.5:5060", "", errSource},
		{"gw-auth-acl allows", map[string]string{"username": "u", "password": "p", "realm": "sb.test", "proxy": "192.0.2.10", "gw-auth-acl": "198.51.100.0/24"}, 401, "sb.test", "198.51.100.5:5060", "Authorization", nil},
		{"gw-auth-acl denies the proxy", map[string]string{"username": "u", "password": "p", "realm": "sb.test", "proxy": "192.0.2.10", "gw-auth-acl": "198.51.100.0/24"}, 401, "sb.test", "192.0.2.10:5060", "", errSource},
		{"no password", map[string]string{"register": "false", "realm": "sb.test", "proxy": "192.0.2.10"}, 401, "sb.test", "192.0.2.10:5060", "", errNoCredentials},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := offlineGateway(t, c.params)
			req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "100", Host: "192.0.2.10"})
			req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.INVITE})
			h, err := g.authorize(req, challenge(req, c.code, c.realm, c.src))
			if c.err != nil {
				if err == nil || !strings.Contains(err.Error(), c.err.Error()) {
					t.Fatalf("err = %v, want %v", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.Name() != c.header {
				t.Errorf("header %s, want %s", h.Name(), c.header)
			}
			creds := ParseCredentials(h.Value())
			if creds == nil || creds.Username != "u" || creds.URI != "sip:100@192.0.2.10" {
				t.Fatalf("credentials %q", h.Value())
			}
			ha1 := md5hex("u:" + creds.Realm + ":p")
			if DigestResponse(ha1, "INVITE", creds.URI, creds.Nonce, creds.QOP, creds.Cnonce, creds.Nc) != creds.Response {
				t.Error("wrong digest response")
			}
		})
	}
}

func TestInboundGateway(t *testing.T) {
	reg := newFakeRegistrar(t, "", "", "")
	env := newGwEnv(t, gatewayXML("prov", map[string]string{"register": "false", "proxy": reg.addr().String(), "context": "from-prov"})+
		`<gateway name="did"><param name="register" value="false"/><param name="proxy" value="192.0.2.1"/>
		<param name="extension" value="5000"/><variables><variable name="x_in" value="1" direction="inbound"/></variables></gateway>
		<gateway name="auto"><param name="register" value="false"/><param name="proxy" value="192.0.2.2"/>
		<param name="extension" value="auto_to_user"/></gateway>`)
	cases := []struct {
		ruri, to  string
		ok        bool
		ctx, dest string
		vars      string
	}{
		// Without an extension param a gw+ call goes to the username,
		// as in FreeSWITCH (here register=false's "FreeSWITCH").
		{"sip:gw+prov@127.0.0.1", "sip:15551234@127.0.0.1", true, "from-prov", "FreeSWITCH", "[[sip_gateway prov]]"},
		{"sip:gw+did@127.0.0.1", "sip:15551234@127.0.0.1", true, "public", "5000", "[[sip_gateway did] [x_in 1]]"},
		{"sip:1234@127.0.0.1;gw=did", "sip:1234@127.0.0.1", true, "public", "5000", "[[sip_gateway did] [x_in 1]]"},
		{"sip:1234@127.0.0.1;gw=prov", "sip:1234@127.0.0.1", true, "from-prov", "", "[[sip_gateway prov]]"},
		{"sip:777@127.0.0.1;gw=auto", "sip:4444@127.0.0.1", true, "public", "4444", "[[sip_gateway auto]]"},
		{"sip:gw+nosuch@127.0.0.1", "sip:1@127.0.0.1", false, "", "", ""},
		{"sip:1234@127.0.0.1", "sip:1@127.0.0.1", false, "", "", ""},
	}
	for _, c := range cases {
		var ruri, to sip.Uri
		if err := sip.ParseUri(c.ruri, &ruri); err != nil {
			t.Fatal(err)
		}
		if err := sip.ParseUri(c.to, &to); err != nil {
			t.Fatal(err)
		}
		req := sip.NewRequest(sip.INVITE, ruri)
		req.AppendHeader(&sip.ToHeader{Address: to})
		r, ok := env.ep.inboundGateway(req)
		if ok != c.ok {
			t.Errorf("%s: ok = %v", c.ruri, ok)
			continue
		}
		if ok && (r.context != c.ctx || r.destination != c.dest || fmt.Sprint(r.vars) != c.vars) {
			t.Errorf("%s: route %s %q %v, want %s %q %s", c.ruri, r.context, r.destination, r.vars, c.ctx, c.dest, c.vars)
		}
	}
	if s := env.status(t, "did"); s.CallsIn != 2 {
		t.Errorf("did CallsIn = %d, want 2", s.CallsIn)
	}
}

func TestProfileStatuses(t *testing.T) {
	env := newGwEnv(t, "")
	ps := env.ep.ProfileStatuses()
	if len(ps) != 1 {
		t.Fatalf("%d profiles", len(ps))
	}
	p := ps[0]
	want := fmt.Sprintf("sip:mod_sofia@127.0.0.1:%d", env.port)
	if p.Name != "external" || p.URL != want || p.BindURL != want+";transport=udp,tcp" || !p.Running || p.Calls != 0 {
		t.Errorf("status %+v", p)
	}
	env.stop()
	if env.ep.ProfileStatuses()[0].Running {
		t.Error("a stopped profile is RUNNING")
	}
}

// TestParseTargetRefusesZones: an IPv6 zone (fe80::1%eth0) has no place
// in a SIP URI's host; with or without brackets it is refused, where the
// address alone is taken.
func TestParseTargetRefusesZones(t *testing.T) {
	cases := []struct {
		in string
		ok bool
	}{
		{"fe80::1", true},
		{"[fe80::1]:5060", true},
		{"fe80::1%eth0", false},
		{"[fe80::1%eth0]:5060", false},
		{"::0%0]", false},
	}
	for _, c := range cases {
		if _, err := parseTarget(c.in); (err == nil) != c.ok {
			t.Errorf("parseTarget(%q): error %v, want ok %v", c.in, err, c.ok)
		}
	}
}

// FuzzGatewayTarget: any proxy value either is refused or reads back the
// same from its own rendering, and never panics.
func FuzzGatewayTarget(f *testing.F) {
	for _, s := range []string{"prov.example", "sip:1.2.3.4:5070;transport=tcp", "[2001:db8::1]:5062", "2001:db8::1", "h:", "sips:x", "a;b=c;d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := parseTarget(s)
		if err != nil {
			return
		}
		again, err := parseTarget(tg.String())
		if err != nil || again != tg {
			t.Fatalf("%q read as %+v, rendered %q, read back as %+v (%v)", s, tg, tg.String(), again, err)
		}
	})
}
