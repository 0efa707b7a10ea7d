package sipclient

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// uasPlan says how the test UAS treats each INVITE.
type uasPlan struct {
	ring      bool    // 180 before anything else
	early     []int16 // 183 with SDP, then this audio, then answer
	reject    int     // final status instead of answering
	reason    string  // Reason header on the rejection or on our BYE
	noAnswer  bool    // ring and wait (for a CANCEL)
	lateOffer []format
	byeAfter  time.Duration // hang up this long after the ACK
	noEcho    bool
}

// testUAS is a small sipgo user agent server: it answers with SDP and
// echoes RTP (and telephone events) back to where they came from.
type testUAS struct {
	t     *testing.T
	plan  uasPlan
	addr  string
	ua    *sipgo.UserAgent
	srv   *sipgo.Server
	cache *sipgo.DialogServerCache

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // INVITE handlers

	mu      sync.Mutex
	active  int           // INVITE handlers running
	idle    chan struct{} // closed when active drops to 0 while closing
	closing bool
	errs    []string
	methods []string
	invites []*sip.Request
	acks    []*sip.Request
	byes    []*sip.Request
	sessWG  sync.WaitGroup
	closers []func()
}

func startUAS(t *testing.T, network string, plan uasPlan) *testUAS {
	t.Helper()
	u := &testUAS{t: t, plan: plan}
	u.ctx, u.cancel = context.WithCancel(context.Background())
	log := slog.New(slog.DiscardHandler)
	var err error
	u.ua, err = sipgo.NewUA(sipgo.WithUserAgent("test-uas"), sipgo.WithUserAgentHostname("127.0.0.1"),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(log),
			sip.WithTransactionLayerUnhandledResponseHandler(func(*sip.Response) {})),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(log)))
	if err != nil {
		t.Fatal(err)
	}
	u.srv, err = sipgo.NewServer(u.ua, sipgo.WithServerLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	cli, err := sipgo.NewClient(u.ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	var port int
	var serve func()
	switch network {
	case "udp":
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = pc.LocalAddr().(*net.UDPAddr).Port
		u.closers = append(u.closers, func() { pc.Close() })
		serve = func() { go u.srv.ServeUDP(pc) }
	case "tcp":
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = l.Addr().(*net.TCPAddr).Port
		u.closers = append(u.closers, func() { l.Close() })
		serve = func() { go u.srv.ServeTCP(l) }
	}
	u.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	contact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "uas", Host: "127.0.0.1", Port: port}}
	if network == "tcp" {
		contact.Address.UriParams = sip.NewParams()
		contact.Address.UriParams.Add("transport", "tcp")
	}
	u.cache = sipgo.NewDialogServerCache(cli, contact)
	u.srv.OnInvite(u.onInvite)
	u.srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		u.record("ACK", func() { u.acks = append(u.acks, req) })
		u.cache.ReadAck(req, tx)
	})
	u.srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		u.record("BYE", func() { u.byes = append(u.byes, req) })
		if err := u.cache.ReadBye(req, tx); err != nil {
			tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		}
	})
	serve()
	t.Cleanup(u.close)
	return u
}

func (u *testUAS) target(user string) string { return "sip:" + user + "@" + u.addr }

func (u *testUAS) record(method string, f func()) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.methods = append(u.methods, method)
	if f != nil {
		f()
	}
}

// sawFor reports whether an ACK or a BYE with this Call-ID has arrived.
func (u *testUAS) sawFor(callID string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, rs := range [][]*sip.Request{u.acks, u.byes} {
		for _, r := range rs {
			if r.CallID().Value() == callID {
				return true
			}
		}
	}
	return false
}

func (u *testUAS) seen() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.methods...)
}

// fail records an error from a handler goroutine; close reports it
// while the test is still running.
func (u *testUAS) fail(format string, args ...any) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.errs = append(u.errs, fmt.Sprintf(format, args...))
}

// enter registers an INVITE handler; it fails once the UAS is closing.
func (u *testUAS) enter() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closing {
		return false
	}
	u.active++
	return true
}

func (u *testUAS) leave() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.active--
	if u.active == 0 && u.idle != nil {
		close(u.idle)
		u.idle = nil
	}
}

func (u *testUAS) close() {
	// Give handlers a moment to see the last responses (the test may end
	// as soon as the client has sent them), then stop them.
	u.mu.Lock()
	u.closing = true
	done := make(chan struct{})
	if u.active == 0 {
		close(done)
	} else {
		u.idle = done
	}
	u.mu.Unlock()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		u.cancel()
		<-done
	}
	u.cancel()
	u.mu.Lock()
	closers := u.closers
	u.closers = nil
	errs := u.errs
	u.mu.Unlock()
	for _, c := range closers {
		c()
	}
	u.sessWG.Wait()
	u.ua.Close()
	for _, e := range errs {
		u.t.Error(e)
	}
}

// echo starts an RTP socket that sends every packet back to its source.
func (u *testUAS) echo() (netip.AddrPort, *net.UDPConn) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		u.fail("uas: rtp: %v", err)
		return netip.AddrPort{}, nil
	}
	u.mu.Lock()
	u.closers = append(u.closers, func() { conn.Close() })
	u.mu.Unlock()
	if !u.plan.noEcho {
		u.sessWG.Add(1)
		go func() {
			defer u.sessWG.Done()
			buf := make([]byte, 1500)
			for {
				n, from, err := conn.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				conn.WriteToUDPAddrPort(buf[:n], from)
			}
		}()
	}
	return conn.LocalAddr().(*net.UDPAddr).AddrPort(), conn
}

func (u *testUAS) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if !u.enter() {
		tx.Respond(sip.NewResponseFromRequest(req, 503, "Service Unavailable", nil))
		return
	}
	defer u.leave()
	u.record("INVITE", func() { u.invites = append(u.invites, req) })
	p := u.plan
	dlg, err := u.cache.ReadInvite(req, tx)
	if err != nil {
		u.fail("uas: read invite: %v", err)
		return
	}
	// The dialog stays in the cache until its BYE, unless the call
	// fails first.
	answered := false
	defer func() {
		if !answered {
			dlg.Close()
		}
	}()
	if p.ring || p.noAnswer {
		dlg.Respond(180, "Ringing", nil)
	}
	if p.noAnswer {
		select {
		case <-dlg.Context().Done(): // cancelled
		case <-tx.Done():
		case <-u.ctx.Done():
		}
		return
	}
	if p.reject != 0 {
		var hdrs []sip.Header
		if p.reason != "" {
			hdrs = append(hdrs, sip.NewHeader("Reason", p.reason))
		}
		dlg.Respond(p.reject, "Rejected", nil, hdrs...)
		return
	}
	local, conn := u.echo()
	var body []byte
	if len(req.Body()) == 0 {
		body = buildSDP(7, 1, local, p.lateOffer)
	} else {
		offer, err := parseSDP(req.Body())
		if err != nil {
			dlg.Respond(400, "Bad SDP", nil)
			return
		}
		n, err := negotiate(offer, []format{{PT: 0, Codec: PCMU}, {PT: 8, Codec: PCMA}, {PT: 101, Codec: TelephoneEvent}})
		if err != nil {
			dlg.Respond(488, "Not Acceptable Here", nil)
			return
		}
		fs := []format{n.audio}
		if n.dtmf.PT != 0 {
			fs = append(fs, n.dtmf)
		}
		body = buildSDP(7, 1, local, fs)
		if p.early != nil {
			ct := sip.NewHeader("Content-Type", "application/sdp")
			dlg.Respond(183, "Session Progress", body, ct)
			u.sendAudio(conn, n, p.early)
		}
	}
	if err := dlg.RespondSDP(body); err != nil {
		// A BYE that overtakes the ACK ends the dialog first; that is the
		// caller's business, not an error of ours. sipgo also reports "No
		// ACK received" when the caller's ACK and BYE are handled at once
		// and the BYE's state change reaches the waiter first; the ACK we
		// recorded shows the call was answered properly.
		if dlg.LoadState() != sip.DialogStateEnded && !u.sawFor(req.CallID().Value()) {
			u.fail("uas: answer: %v", err)
		}
		return
	}
	answered = true
	if p.byeAfter > 0 {
		select {
		case <-time.After(p.byeAfter):
		case <-u.ctx.Done():
			return
		}
		bye := sip.NewRequest(sip.BYE, req.Contact().Address)
		bye.SetTransport(req.Transport())
		if p.reason != "" {
			bye.AppendHeader(sip.NewHeader("Reason", p.reason))
		}
		ctx, cancel := context.WithTimeout(u.ctx, 5*time.Second)
		defer cancel()
		if err := dlg.WriteBye(ctx, bye); err != nil {
			u.fail("uas: bye: %v", err)
		}
		dlg.Close()
	}
}

// sendAudio sends pcm to the caller's RTP address in 20 ms packets.
func (u *testUAS) sendAudio(conn *net.UDPConn, n negotiated, pcm []int16) {
	s := &rtpSession{conn: conn, ssrc: 1234, done: make(chan struct{})}
	s.setState(mediaState(n))
	if err := s.send(u.ctx, pcm); err != nil {
		u.fail("uas: early media: %v", err)
	}
}
