package sip

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-voip/switchboard/session"
	"github.com/switchboard-voip/switchboard/vars"
)

// fakeUAS is the far end of the outbound tests: a SIP peer on a plain
// UDP socket or TCP listener that the test drives by hand, reading what
// the endpoint sends and writing the answers it chooses.
type fakeUAS struct {
	t       *testing.T
	network string
	udp     *net.UDPConn
	ln      net.Listener
	rtp     *net.UDPConn
	tag     string // its To tag
	msgs    chan uasMsg

	mu      sync.Mutex
	conn    net.Conn // TCP: the connection the endpoint opened
	last    net.Addr // UDP: where the last message came from
	pending []uasMsg
}

// uasMsg is a message the fake UAS received.
type uasMsg struct {
	m    sip.Message
	from net.Addr
}

func newFakeUAS(t *testing.T, network string) *fakeUAS {
	t.Helper()
	u := &fakeUAS{t: t, network: network, tag: fmt.Sprintf("uas%08x", rand.Uint32()), msgs: make(chan uasMsg, 64)}
	var err error
	u.rtp, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	if network == "udp" {
		u.udp, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		go func() { defer close(done); u.readUDP() }()
	} else {
		u.ln, err = net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() { defer close(done); u.acceptTCP() }()
	}
	t.Cleanup(func() {
		if u.udp != nil {
			_ = u.udp.Close()
		}
		if u.ln != nil {
			_ = u.ln.Close()
		}
		u.mu.Lock()
		if u.conn != nil {
			_ = u.conn.Close()
		}
		u.mu.Unlock()
		_ = u.rtp.Close()
		<-done
	})
	return u
}

func (u *fakeUAS) readUDP() {
	buf := make([]byte, 65535)
	for {
		n, from, err := u.udp.ReadFrom(buf)
		if err != nil {
			return
		}
		m, err := sip.ParseMessage(append([]byte(nil), buf[:n]...))
		if err != nil {
			continue
		}
		u.msgs <- uasMsg{m, from}
	}
}

func (u *fakeUAS) acceptTCP() {
	c, err := u.ln.Accept()
	if err != nil {
		return
	}
	u.mu.Lock()
	u.conn = c
	u.mu.Unlock()
	stream := sip.NewParser().NewSIPStream()
	buf := make([]byte, 65535)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		_ = stream.ParseSIPStream(buf[:n], func(m sip.Message) { u.msgs <- uasMsg{m, c.RemoteAddr()} })
	}
}

// addr is host:port the endpoint dials.
func (u *fakeUAS) addr() string {
	if u.udp != nil {
		return u.udp.LocalAddr().String()
	}
	return u.ln.Addr().String()
}

// target is the dial-string target of a call to user on profile.
func (u *fakeUAS) target(profile, user string) string {
	t := profile + "/" + user + "@" + u.addr()
	if u.network == "tcp" {
		t += ";transport=tcp"
	}
	return t
}

// next returns the next message matching pred, keeping the others.
func (u *fakeUAS) next(what string, pred func(sip.Message) bool) uasMsg {
	u.t.Helper()
	u.mu.Lock()
	for i, m := range u.pending {
		if pred(m.m) {
			u.pending = append(u.pending[:i], u.pending[i+1:]...)
			u.mu.Unlock()
			return m
		}
	}
	u.mu.Unlock()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case m := <-u.msgs:
			if pred(m.m) {
				return m
			}
			u.mu.Lock()
			u.pending = append(u.pending, m)
			u.mu.Unlock()
		case <-timeout:
			u.t.Fatalf("fake UAS: timed out waiting for %s", what)
		}
	}
}

// request waits for a request of method.
func (u *fakeUAS) request(method sip.RequestMethod) *sip.Request {
	u.t.Helper()
	m := u.next(string(method), func(m sip.Message) bool {
		r, ok := m.(*sip.Request)
		return ok && r.Method == method
	})
	u.mu.Lock()
	u.last = m.from
	u.mu.Unlock()
	return m.m.(*sip.Request)
}

// response waits for a response to method with code.
func (u *fakeUAS) response(method sip.RequestMethod, code int) *sip.Response {
	u.t.Helper()
	m := u.next(fmt.Sprintf("%d to %s", code, method), func(m sip.Message) bool {
		r, ok := m.(*sip.Response)
		return ok && r.StatusCode == code && r.CSeq() != nil && r.CSeq().MethodName == method
	})
	return m.m.(*sip.Response)
}

// quiet asserts that no message matching pred arrives within d.
func (u *fakeUAS) quiet(d time.Duration, what string, pred func(sip.Message) bool) {
	u.t.Helper()
	u.mu.Lock()
	for _, m := range u.pending {
		if pred(m.m) {
			u.mu.Unlock()
			u.t.Fatalf("fake UAS: unexpected %s:\n%s", what, m.m)
		}
	}
	u.mu.Unlock()
	timeout := time.After(d)
	for {
		select {
		case m := <-u.msgs:
			if pred(m.m) {
				u.t.Fatalf("fake UAS: unexpected %s:\n%s", what, m.m)
			}
			u.mu.Lock()
			u.pending = append(u.pending, m)
			u.mu.Unlock()
		case <-timeout:
			return
		}
	}
}

// write sends a message to the endpoint: over the TCP connection, or to
// where the last UDP request came from.
func (u *fakeUAS) write(m sip.Message) {
	u.t.Helper()
	u.writeRaw([]byte(m.String()))
}

func (u *fakeUAS) writeRaw(b []byte) {
	u.t.Helper()
	u.mu.Lock()
	conn, last := u.conn, u.last
	u.mu.Unlock()
	var err error
	if u.udp != nil {
		_, err = u.udp.WriteTo(b, last)
	} else {
		_, err = conn.Write(b)
	}
	if err != nil {
		u.t.Fatalf("fake UAS: write: %v", err)
	}
}

// respond answers req with code (a To tag on everything but 100, and a
// Contact), body as SDP when not empty, and extra header lines.
func (u *fakeUAS) respond(req *sip.Request, code int, body string, extra ...sip.Header) *sip.Response {
	u.t.Helper()
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	res := sip.NewResponseFromRequest(req, code, reasonPhrase(code), b)
	if code > 100 && req.IsInvite() {
		if to := res.To(); to != nil {
			to.Params.Remove("tag")
			to.Params.Add("tag", u.tag)
		}
		c := "<sip:uas@" + u.addr()
		if u.network == "tcp" {
			c += ";transport=tcp"
		}
		res.AppendHeader(sip.NewHeader("Contact", c+">"))
	}
	if body != "" {
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	for _, h := range extra {
		res.AppendHeader(h)
	}
	u.write(res)
	return res
}

// sdp is an answer from the fake UAS's RTP socket with the given
// formats (e.g. "0 101").
func (u *fakeUAS) sdp(formats string) string {
	port := u.rtp.LocalAddr().(*net.UDPAddr).Port
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=uas 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n")
	fmt.Fprintf(&b, "m=audio %d RTP/AVP %s\r\n", port, formats)
	if strings.Contains(formats, "101") {
		b.WriteString("a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n")
	}
	b.WriteString("a=sendrecv\r\n")
	return b.String()
}

// inDialog builds a request of the fake UAS inside the dialog the INVITE
// inv started (after our 2xx): to the INVITE's Contact, From and To
// swapped, CSeq seq.
func (u *fakeUAS) inDialog(inv *sip.Request, method sip.RequestMethod, seq uint32, body string, extra ...string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", method, inv.Contact().Address.String())
	fmt.Fprintf(&b, "Via: SIP/2.0/%s %s;branch=z9hG4bK%016x;rport\r\n", strings.ToUpper(u.network), u.addr(), rand.Uint64())
	b.WriteString("Max-Forwards: 70\r\n")
	to := inv.To().AsFrom()
	to.Params = to.Params.Clone()
	to.Params.Add("tag", u.tag)
	fmt.Fprintf(&b, "From: %s\r\n", to.Value())
	from := inv.From().AsTo()
	fmt.Fprintf(&b, "To: %s\r\n", from.Value())
	fmt.Fprintf(&b, "Call-ID: %s\r\n", inv.CallID().Value())
	fmt.Fprintf(&b, "CSeq: %d %s\r\n", seq, method)
	c := "<sip:uas@" + u.addr()
	if u.network == "tcp" {
		c += ";transport=tcp"
	}
	fmt.Fprintf(&b, "Contact: %s>\r\n", c)
	for _, x := range extra {
		b.WriteString(x + "\r\n")
	}
	if body != "" && method == sip.INVITE {
		b.WriteString("Content-Type: application/sdp\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return []byte(b.String())
}

// outDial places a call through the test endpoint and hangs it up when
// the test ends (a no-op for a leg already over).
func outDial(t *testing.T, ep *Endpoint, req session.DialRequest) session.OutboundCall {
	t.Helper()
	if req.Vars == nil {
		req.Vars = vars.NewStore()
	}
	if req.UUID == "" {
		req.UUID = session.NewUUID()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	oc, err := ep.Dial(ctx, req)
	if err != nil {
		t.Fatalf("Dial %s: %v", req.Target, err)
	}
	t.Cleanup(func() { oc.Hangup(16) })
	return oc
}

// nextProgress waits for the leg's next progress step.
func nextProgress(t *testing.T, oc session.OutboundCall) session.Progress {
	t.Helper()
	select {
	case p, ok := <-oc.Progress():
		if !ok {
			t.Fatal("progress closed")
		}
		return p
	case <-time.After(5 * time.Second):
		t.Fatal("timed out waiting for progress")
	}
	return session.Progress{}
}

// progressClosed asserts that the leg reports nothing more.
func progressClosed(t *testing.T, oc session.OutboundCall) {
	t.Helper()
	select {
	case p, ok := <-oc.Progress():
		if ok {
			t.Fatalf("unexpected progress %+v", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("progress not closed")
	}
}

// dialCause is the cause of a Dial error (0 when it is not a DialError).
func dialCause(err error) int {
	var de *session.DialError
	if errors.As(err, &de) {
		return int(de.Cause)
	}
	return 0
}
