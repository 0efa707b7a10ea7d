package sip

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/conf/conftest"
	"github.com/switchboard-voip/switchboard/media"
	"github.com/switchboard-voip/switchboard/session"
)

// testTimers make every SIP timer fast; all endpoints in the test binary
// use the same values (they are process-wide).
var testTimers = Timers{T1: 40 * time.Millisecond, T2: 160 * time.Millisecond, T4: 200 * time.Millisecond, Linger: 300 * time.Millisecond}

// testDialplan routes the numbers the tests call.
const testDialplan = `
  <section name="dialplan">
    <context name="default">
      <extension name="answer_then_hangup">
        <condition field="destination_number" expression="^hangup$">
          <action application="answer"/>
          <action application="sleep" data="300"/>
          <action application="hangup" data="USER_BUSY"/>
        </condition>
      </extension>
      <extension name="park">
        <condition field="destination_number" expression="^park$">
          <action application="answer"/>
          <action application="park"/>
        </condition>
      </extension>
      <extension name="ring">
        <condition field="destination_number" expression="^ring$">
          <action application="ring_ready"/>
          <action application="sleep" data="20000"/>
        </condition>
      </extension>
      <extension name="early">
        <condition field="destination_number" expression="^early$">
          <action application="pre_answer"/>
          <action application="sleep" data="20000"/>
        </condition>
      </extension>
      <extension name="busy">
        <condition field="destination_number" expression="^busy$">
          <action application="hangup" data="USER_BUSY"/>
        </condition>
      </extension>
      <extension name="bad_app">
        <condition field="destination_number" expression="^badapp$">
          <action application="no_such_application"/>
        </condition>
      </extension>
      <extension name="respond">
        <condition field="destination_number" expression="^respond$">
          <action application="respond" data="403 Go Away"/>
        </condition>
      </extension>
      <extension name="redirect">
        <condition field="destination_number" expression="^redirect$">
          <action application="redirect" data="sip:elsewhere@192.0.2.1"/>
        </condition>
      </extension>
      <extension name="end_of_list">
        <condition field="destination_number" expression="^answer$">
          <action application="answer"/>
        </condition>
      </extension>
      <extension name="slow">
        <condition field="destination_number" expression="^slow$">
          <action application="sleep" data="20000"/>
        </condition>
      </extension>
      <extension name="media_timeout">
        <condition field="destination_number" expression="^mediatimeout$">
          <action application="set" data="media_timeout=300"/>
          <action application="answer"/>
          <action application="park"/>
        </condition>
      </extension>
      <extension name="echo">
        <condition field="destination_number" expression="^echo$">
          <action application="answer"/>
          <action application="echo"/>
        </condition>
      </extension>
      <extension name="inject">
        <condition field="destination_number" expression="^inject$">
          <action application="set" data="copied=${sip_h_X-Inject}"/>
          <action application="answer"/>
          <action application="park"/>
        </condition>
      </extension>
    </context>
    <context name="public">
      <extension name="public_park">
        <condition field="destination_number" expression="^park$">
          <action application="answer"/>
          <action application="park"/>
        </condition>
      </extension>
    </context>
  </section>`

// envOpts tune a test endpoint.
type envOpts struct {
	settings    string // extra <param>s for the profile
	acl         string // <list>s for acl.conf
	directory   string // <domain>s for the directory section
	auth        AuthConfig
	maxSessions int
	sps         int
	logger      *slog.Logger  // nil: testLogger
	sessionUnit time.Duration // Timers.SessionUnit (RFC 4028 seconds); 0: a second
}

// testEnv is a running endpoint with its session manager and media.
type testEnv struct {
	t    testing.TB
	ep   *Endpoint
	mgr  *session.Manager
	snap *conf.Snapshot
	udp  *net.UDPAddr
	tcp  *net.TCPAddr
}

func newEnv(t testing.TB, o envOpts) *testEnv {
	t.Helper()
	dir := t.TempDir()
	settings := o.settings
	if !strings.Contains(settings, "apply-inbound-acl") {
		settings += `<param name="apply-inbound-acl" value="loopback.auto:default"/>`
	}
	doc := `<?xml version="1.0"?>
<document type="freeswitch/xml">
  <section name="configuration">
    <configuration name="sofia.conf">
      <profiles>
        <profile name="internal">
          <settings>
            <param name="sip-ip" value="127.0.0.1"/>
            <param name="sip-port" value="0"/>
            <param name="context" value="public"/>
            <param name="auth-calls" value="true"/>
            <param name="inbound-codec-prefs" value="PCMU,PCMA"/>
            ` + settings + `
          </settings>
        </profile>
      </profiles>
    </configuration>
    <configuration name="acl.conf">
      <network-lists>` + o.acl + `</network-lists>
    </configuration>
  </section>` + testDialplan + `
  <section name="directory">` + o.directory + `</section>
</document>
`
	conftest.AddFiles(t, dir, map[string]string{"freeswitch.xml": doc})
	snap, err := conf.Load(conf.Options{Dir: dir, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	log := o.logger
	if log == nil {
		log = testLogger(t)
	}
	mgr := session.NewManager(session.Config{
		Snapshot:          func() *conf.Snapshot { return snap },
		MaxSessions:       o.maxSessions,
		SessionsPerSecond: o.sps,
		Logger:            log,
	})
	eng, err := media.NewEngine(media.Config{IP: netip.MustParseAddr("127.0.0.1"), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	timers := testTimers
	timers.SessionUnit = o.sessionUnit
	ep, err := New(Config{Snapshot: snap, Manager: mgr, Media: eng, Logger: log, Timers: timers, Auth: o.auth})
	if err != nil {
		t.Fatal(err)
	}
	if err := ep.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	env := &testEnv{t: t, ep: ep, mgr: mgr, snap: snap}
	addrs := ep.Addrs()["internal"]
	env.udp = addrs[0].(*net.UDPAddr)
	env.tcp = addrs[1].(*net.TCPAddr)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := ep.StopAccepting(ctx); err != nil {
			t.Errorf("stop accepting: %v", err)
		}
		if err := mgr.Shutdown(ctx); err != nil {
			t.Errorf("manager shutdown: %v", err)
		}
		if err := ep.Shutdown(ctx); err != nil {
			t.Errorf("endpoint shutdown: %v", err)
		}
		_ = eng.Close()
	})
	return env
}

// testLogger writes to the test log only when -v is given and the test
// fails, keeping passing runs quiet.
func testLogger(t testing.TB) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// sessionFor finds the live session of a call by its Call-ID.
func (e *testEnv) sessionFor(callID string) *session.Session {
	for _, s := range e.mgr.List() {
		if v, _ := s.Vars().Get("sip_call_id"); v == callID {
			return s
		}
	}
	return nil
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// uac is a hand-driven SIP user agent on UDP or TCP: the tests write
// requests as text and read what comes back, so they control every header.
type uac struct {
	t       *testing.T
	network string
	conn    net.Conn // UDP: connected to the server; TCP: the stream
	local   netip.AddrPort
	msgs    chan sip.Message
	rtp     *net.UDPConn

	mu      sync.Mutex
	pending []sip.Message
}

func newUAC(t *testing.T, env *testEnv, network string) *uac {
	t.Helper()
	var conn net.Conn
	var err error
	if network == "udp" {
		conn, err = net.DialUDP("udp", nil, env.udp)
	} else {
		conn, err = net.DialTCP("tcp", nil, env.tcp)
	}
	if err != nil {
		t.Fatal(err)
	}
	rtp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	u := &uac{t: t, network: network, conn: conn, msgs: make(chan sip.Message, 64), rtp: rtp}
	u.local = netip.MustParseAddrPort(conn.LocalAddr().String())
	go u.read()
	t.Cleanup(func() { _ = conn.Close(); _ = rtp.Close() })
	return u
}

func (u *uac) read() {
	defer close(u.msgs)
	if u.network == "udp" {
		buf := make([]byte, 65535)
		for {
			n, err := u.conn.Read(buf)
			if err != nil {
				return
			}
			m, err := sip.ParseMessage(append([]byte(nil), buf[:n]...))
			if err != nil {
				continue
			}
			u.msgs <- m
		}
	}
	stream := sip.NewParser().NewSIPStream()
	buf := make([]byte, 65535)
	for {
		n, err := u.conn.Read(buf)
		if err != nil {
			return
		}
		_ = stream.ParseSIPStream(buf[:n], func(m sip.Message) { u.msgs <- m })
	}
}

func (u *uac) transport() string { return strings.ToUpper(u.network) }

// send writes a request or response built from text lines; \n becomes
// CRLF and Content-Length is filled in.
func (u *uac) send(head string, body string) {
	u.t.Helper()
	head = strings.TrimLeft(head, "\n")
	lines := strings.Split(strings.TrimRight(head, "\n"), "\n")
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(strings.TrimSpace(l))
		b.WriteString("\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	if _, err := u.conn.Write(b.Bytes()); err != nil {
		u.t.Fatalf("send: %v", err)
	}
}

// next returns the next message matching pred, keeping the others for
// later calls.
func (u *uac) next(what string, pred func(sip.Message) bool) sip.Message {
	u.t.Helper()
	u.mu.Lock()
	for i, m := range u.pending {
		if pred(m) {
			u.pending = append(u.pending[:i], u.pending[i+1:]...)
			u.mu.Unlock()
			return m
		}
	}
	u.mu.Unlock()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case m, ok := <-u.msgs:
			if !ok {
				u.t.Fatalf("connection closed waiting for %s", what)
			}
			if pred(m) {
				return m
			}
			u.mu.Lock()
			u.pending = append(u.pending, m)
			u.mu.Unlock()
		case <-timeout:
			u.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// response waits for a response to method with code.
func (u *uac) response(callID string, method sip.RequestMethod, code int) *sip.Response {
	u.t.Helper()
	return u.responseSeq(callID, 0, method, code)
}

// responseSeq is response for one CSeq number (0: any).
func (u *uac) responseSeq(callID string, seq uint32, method sip.RequestMethod, code int) *sip.Response {
	u.t.Helper()
	m := u.next(fmt.Sprintf("%d to %s", code, method), func(m sip.Message) bool {
		r, ok := m.(*sip.Response)
		return ok && r.StatusCode == code && r.CSeq() != nil && r.CSeq().MethodName == method && (seq == 0 || r.CSeq().SeqNo == seq) && r.CallID() != nil && r.CallID().Value() == callID
	})
	return m.(*sip.Response)
}

// final waits for the first final response to method.
func (u *uac) final(callID string, method sip.RequestMethod) *sip.Response {
	u.t.Helper()
	return u.finalSeq(callID, 0, method)
}

// finalSeq is final for one CSeq number (0: any).
func (u *uac) finalSeq(callID string, seq uint32, method sip.RequestMethod) *sip.Response {
	u.t.Helper()
	m := u.next("final response to "+string(method), func(m sip.Message) bool {
		r, ok := m.(*sip.Response)
		return ok && r.StatusCode >= 200 && r.CSeq() != nil && r.CSeq().MethodName == method && (seq == 0 || r.CSeq().SeqNo == seq) && r.CallID() != nil && r.CallID().Value() == callID
	})
	return m.(*sip.Response)
}

// resp waits for the response with code to the dialog's latest request.
func (d *dialog) resp(method sip.RequestMethod, code int) *sip.Response {
	d.u.t.Helper()
	return d.u.responseSeq(d.callID, uint32(d.cseq), method, code)
}

// final waits for the final response to the dialog's latest request.
func (d *dialog) final(method sip.RequestMethod) *sip.Response {
	d.u.t.Helper()
	return d.u.finalSeq(d.callID, uint32(d.cseq), method)
}

// request waits for a request the server sends us.
func (u *uac) request(callID string, method sip.RequestMethod) *sip.Request {
	u.t.Helper()
	m := u.next(string(method)+" request", func(m sip.Message) bool {
		r, ok := m.(*sip.Request)
		return ok && r.Method == method && r.CallID() != nil && r.CallID().Value() == callID
	})
	return m.(*sip.Request)
}

// quiet asserts that nothing matching pred arrives for d.
func (u *uac) quiet(d time.Duration, pred func(sip.Message) bool) {
	u.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case m, ok := <-u.msgs:
			if !ok {
				return
			}
			if pred(m) {
				u.t.Fatalf("unexpected message:\n%s", m)
			}
		case <-timeout:
			return
		}
	}
}

// dialog is the client side of one call.
type dialog struct {
	u       *uac
	callID  string
	fromTag string
	toTag   string
	cseq    int
	dest    string
	branch  string
}

func newBranch() string { return fmt.Sprintf("z9hG4bK%016x", rand.Uint64()) }

func (u *uac) dialog(dest string) *dialog {
	return &dialog{u: u, callID: fmt.Sprintf("%016x@test", rand.Uint64()), fromTag: fmt.Sprintf("%08x", rand.Uint32()), cseq: 1, dest: dest}
}

func (d *dialog) target() string {
	return "sip:" + d.dest + "@" + d.u.conn.RemoteAddr().String()
}

func (d *dialog) via(branch string) string {
	return fmt.Sprintf("Via: SIP/2.0/%s %s;branch=%s;rport", d.u.transport(), d.u.local, branch)
}

func (d *dialog) toHeader() string {
	h := "To: <sip:" + d.dest + "@" + d.u.conn.RemoteAddr().String() + ">"
	if d.toTag != "" {
		h += ";tag=" + d.toTag
	}
	return h
}

// offer is a plain SDP offer from the client's RTP socket.
func (d *dialog) offer(codecs string) string {
	port := d.u.rtp.LocalAddr().(*net.UDPAddr).Port
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=test 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n")
	fmt.Fprintf(&b, "m=audio %d RTP/AVP %s 101\r\n", port, codecs)
	b.WriteString("a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendrecv\r\n")
	return b.String()
}

// invite sends the INVITE (extra holds more header lines).
func (d *dialog) invite(body string, extra ...string) {
	d.branch = newBranch()
	head := fmt.Sprintf(`INVITE %s SIP/2.0
%s
Max-Forwards: 70
From: "Test Caller" <sip:1000@127.0.0.1>;tag=%s
%s
Call-ID: %s
CSeq: %d INVITE
Contact: <sip:1000@%s;transport=%s>
User-Agent: switchboard-test
`, d.target(), d.via(d.branch), d.fromTag, d.toHeader(), d.callID, d.cseq, d.u.local, d.u.network)
	for _, x := range extra {
		head += x + "\n"
	}
	if body != "" {
		head += "Content-Type: application/sdp\n"
	}
	d.u.send(head, body)
}

// expectAnswer waits for the 200, records the To tag and ACKs it.
func (d *dialog) expectAnswer() *sip.Response {
	d.u.t.Helper()
	res := d.u.response(d.callID, sip.INVITE, 200)
	d.toTag, _ = res.To().Params.Get("tag")
	d.ack(res, "")
	return res
}

// ack sends the ACK for a 2xx (a new transaction) or, with the INVITE's
// branch, for a failure response.
func (d *dialog) ack(res *sip.Response, body string) {
	branch := newBranch()
	if res.StatusCode >= 300 {
		branch = d.branch
	}
	tag, _ := res.To().Params.Get("tag")
	head := fmt.Sprintf(`ACK %s SIP/2.0
%s
Max-Forwards: 70
From: "Test Caller" <sip:1000@127.0.0.1>;tag=%s
To: <sip:%s@%s>;tag=%s
Call-ID: %s
CSeq: %d ACK
`, d.target(), d.via(branch), d.fromTag, d.dest, d.u.conn.RemoteAddr().String(), tag, d.callID, res.CSeq().SeqNo)
	if body != "" {
		head += "Content-Type: application/sdp\n"
	}
	d.u.send(head, body)
}

// request sends an in-dialog request.
func (d *dialog) request(method string, body string, extra ...string) {
	d.cseq++
	d.branch = newBranch()
	head := fmt.Sprintf(`%s %s SIP/2.0
%s
Max-Forwards: 70
From: "Test Caller" <sip:1000@127.0.0.1>;tag=%s
%s
Call-ID: %s
CSeq: %d %s
Contact: <sip:1000@%s;transport=%s>
`, method, d.target(), d.via(d.branch), d.fromTag, d.toHeader(), d.callID, d.cseq, method, d.u.local, d.u.network)
	for _, x := range extra {
		head += x + "\n"
	}
	if body != "" {
		head += "Content-Type: application/sdp\n"
	}
	d.u.send(head, body)
}

// cancel sends CANCEL for the INVITE in progress.
func (d *dialog) cancel() {
	head := fmt.Sprintf(`CANCEL %s SIP/2.0
%s
Max-Forwards: 70
From: "Test Caller" <sip:1000@127.0.0.1>;tag=%s
To: <sip:%s@%s>
Call-ID: %s
CSeq: %d CANCEL
`, d.target(), d.via(d.branch), d.fromTag, d.dest, d.u.conn.RemoteAddr().String(), d.callID, d.cseq)
	d.u.send(head, "")
}

// answerRequest answers a request the server sent us with code.
func (u *uac) answerRequest(req *sip.Request, code int) {
	res := sip.NewResponseFromRequest(req, code, reasonPhrase(code), nil)
	var b bytes.Buffer
	b.WriteString(res.String())
	if _, err := u.conn.Write(b.Bytes()); err != nil {
		u.t.Fatalf("answer: %v", err)
	}
}

// rawSend writes bytes as they are.
func (u *uac) rawSend(b []byte) {
	if _, err := u.conn.Write(b); err != nil {
		u.t.Fatalf("raw send: %v", err)
	}
}
