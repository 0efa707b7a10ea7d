package e2e

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-voip/switchboard/e2e/sipclient"
)

// Toll fraud: a caller nobody vouched for must not reach a gateway
// through the default configuration. The switch runs conf/default with
// testdata/tollfraud/conf laid over it, which is what an operator adds
// to place calls out: a gateway "provider" (sip_profiles/internal) whose
// proxy is a Go phone counting the INVITEs it gets, and routes to it in
// context default (011..., 1 + ten digits, 9 + an outside number). The
// routes deliberately do not check toll_allow, so that any way from the
// public context into default would show as an INVITE at the provider.
//
// The untrusted caller is made with globals only: internal_inbound_acl
// =none (no network is trusted) and internal_auth_calls=false, so every
// call from 127.0.0.1 lands in context public, as a call from the
// Internet does on a FreeSWITCH external profile. With auth-calls left
// on, the same caller is challenged, and only after authenticating as
// user 1000 does it reach its user_context (default) and the provider:
// the test proves that too, so the routes it tries are live.

// fraudNumbers are what a fraudster tries from the public context: the
// gateway's own number patterns, local users and services of context
// default, the public DID (a transfer into default), the gateway named
// as an endpoint or a loopback in the user part (plain and
// percent-encoded), and a gateway's inbound routes (gw+, ;gw=). An
// entry "user@;params" puts the parameters on the Request-URI.
var fraudNumbers = []string{
	"01144201234567", "0114420123456789", "15551234567", "+15551234567", "5551234567",
	"915551234567", "9011442012345678", "011", "9",
	"1000", "1001", "1005", "1019", "0", "operator",
	"5000", "5010", "5011", "9170", "9180", "9181", "9192", "9196", "9197", "9664",
	"dx", "is_transfer", "please_hold",
	"5551212",
	"sofia/gateway/provider/01144201234567", "sofia%2Fgateway%2Fprovider%2F01144201234567",
	"gateway/provider/01144201234567",
	"loopback/01144201234567", "loopback%2F01144201234567", "loopback/01144201234567/default",
	"loopback/1000", "user/1000", "provider", "gw+provider", "01144201234567@;gw=provider",
	"%24%7Bsofia_contact(1000)%7D", "%24%7Bbridge(sofia/gateway/provider/01144201234567)%7D",
}

// gatewayRoutes are one number of each route of the overlay and the
// Request-URI user the provider gets for it.
var gatewayRoutes = []struct{ dial, sent string }{
	{"01144201234567", "01144201234567"},
	{"15551234567", "15551234567"},
	{"915551234567", "15551234567"},
}

// startTollFraudSwitch starts conf/default plus the toll-fraud overlay,
// its gateway pointing at the provider phone, with the extra globals.
func startTollFraudSwitch(t *testing.T, provider *sipclient.Phone, set map[string]string) *testSwitch {
	t.Helper()
	all := map[string]string{"e2e_provider_port": strconv.Itoa(int(provider.Addr().Port()))}
	for k, v := range set {
		all[k] = v
	}
	return startOverlaySwitch(t, filepath.Join("testdata", "tollfraud", "conf"), all)
}

// newProvider starts the phone that plays the provider behind the
// gateway.
func newProvider(t *testing.T) *sipclient.Phone {
	t.Helper()
	p, err := sipclient.NewPhone(sipclient.PhoneOptions{User: "provider"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// refuseAll has the provider refuse every call (403) until ctx ends, so
// a call that leaks to it fails at once; it still counts as received.
func refuseAll(ctx context.Context, p *sipclient.Phone) {
	go func() {
		for {
			in, err := p.Next(ctx)
			if err != nil {
				return
			}
			_ = in.Reject(403, "Fraud")
		}
	}()
}

// invites returns the INVITEs the provider received.
func invites(p *sipclient.Phone) []sipclient.Request {
	var out []sipclient.Request
	for _, r := range p.Requests() {
		if r.Method == "INVITE" {
			out = append(out, r)
		}
	}
	return out
}

// checkNoInvite fails the test if the provider received an INVITE,
// after giving anything in flight a moment to arrive.
func checkNoInvite(t *testing.T, p *sipclient.Phone, what string) {
	t.Helper()
	time.Sleep(300 * time.Millisecond)
	if got := invites(p); len(got) > 0 {
		var uris []string
		for _, r := range got {
			uris = append(uris, r.URI)
		}
		t.Errorf("%s: the provider received %d INVITE(s): %s", what, len(got), strings.Join(uris, ", "))
	}
}

// TestTollFraudPublic: every number of fraudNumbers, dialled by a caller
// the switch does not trust and that gives no password, fails, and the
// provider receives no INVITE.
func TestTollFraudPublic(t *testing.T) {
	provider := newProvider(t)
	sw := startTollFraudSwitch(t, provider, map[string]string{"internal_inbound_acl": "none", "internal_auth_calls": "false"})
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	refuseAll(ctx, provider)
	for _, number := range fraudNumbers {
		final := dialPublic(t, ctx, sw, number)
		t.Logf("%s: %v", number, final)
		if final.Code < 300 {
			t.Errorf("%s: answered (%v) in the public context", number, final)
		}
	}
	checkNoInvite(t, provider, "public caller")
	// Every call was routed in public, and the only way into default was
	// the DID's transfer to 1000.
	public := 0
	for _, line := range strings.Split(sw.Logs(), "\n") {
		if !strings.Contains(line, "Processing ") {
			continue
		}
		switch {
		case strings.Contains(line, " in context public"):
			public++
		case strings.Contains(line, "->1000 in context default"):
		default:
			t.Errorf("a public call was routed elsewhere: %s", line)
		}
	}
	if public != len(fraudNumbers) {
		t.Errorf("%d calls routed in context public, want %d", public, len(fraudNumbers))
	}
}

// dialPublic calls number ("user" or "user@;uri-params") from a caller
// claiming to be 1000 (a From is no credential) and returns the final
// response. The default configuration admits 30 calls a second: a call
// refused for that (503 Maximum Calls In Progress) never reached the
// dialplan, so it is placed again.
func dialPublic(t *testing.T, ctx context.Context, sw *testSwitch, number string) sipclient.Response {
	t.Helper()
	user, params, _ := strings.Cut(number, "@")
	for {
		c, err := sipclient.Dial(ctx, sipclient.Options{Target: sw.SIPURI(user) + params, From: "1000", DisplayName: "Extension 1000"})
		if err != nil {
			t.Fatalf("dial %s: %v", number, err)
		}
		final, err := c.Final(ctx)
		if err != nil {
			t.Fatalf("%s: no final response: %v (%v)", number, err, c)
		}
		if final.Code < 300 {
			_ = c.Hangup(ctx)
		}
		c.Close()
		if final.Code != 503 || final.Phrase != "Maximum Calls In Progress" {
			return final
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: still refused for the call rate: %v", number, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// TestTollFraudPublicTransfer: the public caller reaches the public DID
// (5551212, which the default dialplan transfers to user 1000), 1000's
// phone answers, and the caller then asks the switch to transfer the
// call to the provider's numbers with REFER. Whatever the switch does
// with the REFER, the provider receives no INVITE.
func TestTollFraudPublicTransfer(t *testing.T) {
	provider := newProvider(t)
	sw := startTollFraudSwitch(t, provider, map[string]string{"internal_inbound_acl": "none", "internal_auth_calls": "false"})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	refuseAll(ctx, provider)
	phone, err := sipclient.NewPhone(sipclient.PhoneOptions{User: "1000"})
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	if r, err := phone.Register(ctx, "udp", sipclient.RegisterOptions{Server: sw.SIPAddr.String(), Password: defaultPassword, Expires: 300}); err != nil || r.Code != 200 {
		t.Fatalf("register 1000: %v %v", r, err)
	}

	u := newRawUAC(t, sw.SIPAddr)
	d := u.newDialog("5551212")
	d.invite()
	in, err := phone.Next(ctx)
	if err != nil {
		t.Fatalf("1000's phone does not ring for the public DID: %v", err)
	}
	if err := in.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	ok := d.waitFinal(ctx, "INVITE")
	if ok.StatusCode != 200 {
		t.Fatalf("the public caller got %d %s, want 200 from 1000's phone", ok.StatusCode, ok.Reason)
	}
	d.ackOK(ok)

	for _, target := range []string{"01144201234567", "sofia/gateway/provider/01144201234567", "915551234567"} {
		d.request("REFER", "Refer-To: <sip:"+target+"@"+sw.SIPAddr.String()+">", "Referred-By: <sip:1000@127.0.0.1>")
		res := d.waitFinal(ctx, "REFER")
		t.Logf("REFER to %s: %d %s", target, res.StatusCode, res.Reason)
	}
	time.Sleep(time.Second) // a transfer would dial now
	checkNoInvite(t, provider, "REFER from the public caller")
	if !d.ended() {
		d.request("BYE")
		d.waitFinal(ctx, "BYE")
	}
}

// TestTollFraudAuthenticated: with auth-calls on (the default) and no
// trusted network, a caller without a password is challenged and one
// with a wrong password refused, and neither reaches the provider; a
// caller that authenticates as 1000 is routed in 1000's user_context
// (default) and reaches the provider through each of the routes the
// public caller tried.
func TestTollFraudAuthenticated(t *testing.T) {
	provider := newProvider(t)
	sw := startTollFraudSwitch(t, provider, map[string]string{"internal_inbound_acl": "none"})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	for _, o := range []struct {
		password string
		want     int
	}{{"", 407}, {"4321", 403}} {
		c := sw.dial(t, ctx, gatewayRoutes[0].dial, sipclient.Options{From: "1000", Password: o.password})
		final, err := c.Final(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if final.Code != o.want {
			t.Errorf("password %q: %v, want %d", o.password, final, o.want)
		}
	}
	checkNoInvite(t, provider, "caller without the password")

	for i, r := range gatewayRoutes {
		c := sw.dial(t, ctx, r.dial, sipclient.Options{From: "1000", Password: defaultPassword})
		in, err := provider.Next(ctx)
		if err != nil {
			t.Fatalf("%s from authenticated 1000: the provider got no INVITE: %v (caller: %v)", r.dial, err, c)
		}
		if want := "sip:" + r.sent + "@"; !strings.HasPrefix(in.Invite().URI, want) {
			t.Errorf("%s: the provider was asked for %s, want %s...", r.dial, in.Invite().URI, want)
		}
		if i < len(gatewayRoutes)-1 {
			if err := in.Reject(486, "Busy Here"); err != nil {
				t.Fatal(err)
			}
			if final, err := c.Final(ctx); err != nil || final.Code != 486 {
				t.Errorf("%s: the caller got %v (%v), want the provider's 486", r.dial, final, err)
			}
			continue
		}
		if err := in.Answer(ctx); err != nil {
			t.Fatal(err)
		}
		if err := c.Answer(ctx); err != nil {
			t.Fatalf("%s: %v (%v)", r.dial, err, c)
		}
		if err := c.Hangup(ctx); err != nil {
			t.Error(err)
		}
		if _, err := in.WaitBye(ctx); err != nil {
			t.Error(err)
		}
	}
	if got := len(invites(provider)); got != len(gatewayRoutes) {
		t.Errorf("the provider received %d INVITEs, want %d", got, len(gatewayRoutes))
	}
}

// rawUAC is a SIP caller over UDP written by hand, for requests the Go
// client does not send (REFER): it answers the switch's requests (NOTIFY,
// BYE) with 200 and hands responses to the test.
type rawUAC struct {
	t      *testing.T
	conn   *net.UDPConn
	server netip.AddrPort
	local  netip.AddrPort
	rtp    *net.UDPConn
	res    chan *sip.Response
	byes   chan struct{}
}

func newRawUAC(t *testing.T, server netip.AddrPort) *rawUAC {
	t.Helper()
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(server))
	if err != nil {
		t.Fatal(err)
	}
	rtp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	u := &rawUAC{t: t, conn: conn, server: server, local: netip.MustParseAddrPort(conn.LocalAddr().String()), rtp: rtp,
		res: make(chan *sip.Response, 64), byes: make(chan struct{}, 4)}
	t.Cleanup(func() { conn.Close(); rtp.Close() })
	go u.read()
	return u
}

func (u *rawUAC) read() {
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
		switch m := m.(type) {
		case *sip.Response:
			u.res <- m
		case *sip.Request:
			if m.IsAck() {
				continue
			}
			if m.Method == sip.BYE {
				select {
				case u.byes <- struct{}{}:
				default:
				}
			}
			res := sip.NewResponseFromRequest(m, 200, "OK", nil)
			_, _ = u.conn.Write([]byte(res.String()))
		}
	}
}

// send writes lines (\n-separated) as a message with CRLFs and a
// Content-Length.
func (u *rawUAC) send(head, body string) {
	var b bytes.Buffer
	for _, l := range strings.Split(strings.TrimSpace(head), "\n") {
		b.WriteString(strings.TrimSpace(l) + "\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	if _, err := u.conn.Write(b.Bytes()); err != nil {
		u.t.Fatalf("send: %v", err)
	}
}

// rawDialog is one call of a rawUAC.
type rawDialog struct {
	u                     *rawUAC
	dest, callID, fromTag string
	toTag                 string
	cseq                  int
	target                string // the far end's Contact, once answered
}

func (u *rawUAC) newDialog(dest string) *rawDialog {
	return &rawDialog{u: u, dest: dest, callID: fmt.Sprintf("%016x@tollfraud", rand.Uint64()), fromTag: fmt.Sprintf("%08x", rand.Uint32()), cseq: 1,
		target: "sip:" + dest + "@" + u.server.String()}
}

func (d *rawDialog) headers(method string, cseq int) string {
	to := "<sip:" + d.dest + "@" + d.u.server.String() + ">"
	if d.toTag != "" {
		to += ";tag=" + d.toTag
	}
	return fmt.Sprintf(`%s %s SIP/2.0
Via: SIP/2.0/UDP %s;branch=z9hG4bK%016x;rport
Max-Forwards: 70
From: "Extension 1000" <sip:1000@127.0.0.1>;tag=%s
To: %s
Call-ID: %s
CSeq: %d %s
Contact: <sip:caller@%s>
`, method, d.target, d.u.local, rand.Uint64(), d.fromTag, to, d.callID, cseq, method, d.u.local)
}

// invite sends the INVITE with a PCMU offer.
func (d *rawDialog) invite() {
	port := d.u.rtp.LocalAddr().(*net.UDPAddr).Port
	sdp := fmt.Sprintf("v=0\r\no=caller 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n", port)
	d.u.send(d.headers("INVITE", d.cseq)+"Content-Type: application/sdp\n", sdp)
}

// waitFinal returns the next final response to method in the dialog.
func (d *rawDialog) waitFinal(ctx context.Context, method string) *sip.Response {
	d.u.t.Helper()
	for {
		select {
		case r := <-d.u.res:
			if r.StatusCode < 200 || r.CSeq() == nil || string(r.CSeq().MethodName) != method || r.CallID() == nil || r.CallID().Value() != d.callID {
				continue
			}
			return r
		case <-ctx.Done():
			d.u.t.Fatalf("no final response to %s: %v", method, ctx.Err())
			return nil
		}
	}
}

// ackOK acknowledges the INVITE's 2xx and takes the dialog's To tag and
// remote target from it.
func (d *rawDialog) ackOK(ok *sip.Response) {
	d.toTag, _ = ok.To().Params.Get("tag")
	if c := ok.Contact(); c != nil {
		d.target = c.Address.String()
	}
	d.u.send(d.headers("ACK", d.cseq), "")
}

// request sends an in-dialog request with extra header lines.
func (d *rawDialog) request(method string, extra ...string) {
	d.cseq++
	head := d.headers(method, d.cseq)
	for _, x := range extra {
		head += x + "\n"
	}
	d.u.send(head, "")
}

// ended reports whether the switch has sent a BYE.
func (d *rawDialog) ended() bool {
	select {
	case <-d.u.byes:
		return true
	default:
		return false
	}
}
