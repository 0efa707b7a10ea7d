package sipclient

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Header is one extra SIP header for the INVITE.
type Header struct {
	Name, Value string
}

// Options describe the call [Dial] places.
type Options struct {
	// Target is the request URI, e.g. "sip:9196@127.0.0.1:5060".
	Target string
	// Transport is "udp" (the default) or "tcp". RTP is always UDP.
	Transport string
	// Codecs are offered in this order; the default is PCMU, PCMA.
	Codecs []Codec
	// NoSDP sends the INVITE without a body (late offer): the far end
	// offers in its 2xx and the client answers in the ACK.
	NoSDP bool
	// Headers are added to the INVITE.
	Headers []Header
	// From is the caller's user part (default "e2e"); DisplayName is
	// optional.
	From, DisplayName string
	// DTMFPayloadType is the telephone-event payload type offered (default
	// 101). NoDTMF offers none.
	DTMFPayloadType uint8
	NoDTMF          bool
	// LocalIP is the address SIP and RTP bind to (default 127.0.0.1).
	LocalIP string
	// Logger receives sipgo's logs; nil discards them.
	Logger *slog.Logger
	// Username and Password answer one 401/407 challenge to the INVITE
	// (digest); with no Password a challenge is the call's final
	// response.
	Username, Password string
}

// Cause is a parsed Reason header (RFC 3326), e.g.
// Q.850;cause=17;text="USER_BUSY".
type Cause struct {
	Protocol string // "Q.850", "SIP", ...
	Code     int
	Text     string
}

// ParseCause parses the value of a Reason header.
func ParseCause(v string) (Cause, error) {
	parts := strings.Split(v, ";")
	c := Cause{Protocol: strings.TrimSpace(parts[0])}
	if c.Protocol == "" {
		return c, fmt.Errorf("reason %q: no protocol", v)
	}
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "cause":
			n, err := strconv.Atoi(strings.TrimSpace(val))
			if err != nil {
				return c, fmt.Errorf("reason %q: bad cause: %w", v, err)
			}
			c.Code = n
		case "text":
			c.Text = strings.Trim(strings.TrimSpace(val), `"`)
		}
	}
	return c, nil
}

// Response is one response to the INVITE, as the client received it.
type Response struct {
	Code   int
	Phrase string
	SDP    []byte // nil when the response has no body
	At     time.Time
	hdrs   map[string][]string
}

// Header returns the first value of the named header ("" if absent).
func (r Response) Header(name string) string {
	if v := r.hdrs[strings.ToLower(name)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Cause returns the response's Reason header, if it has one.
func (r Response) Cause() (Cause, bool) {
	v := r.Header("Reason")
	if v == "" {
		return Cause{}, false
	}
	c, err := ParseCause(v)
	return c, err == nil
}

// EarlyMedia reports whether r is a provisional response carrying SDP,
// i.e. the far end sends media before answering.
func (r Response) EarlyMedia() bool {
	return r.Code > 100 && r.Code < 200 && len(r.SDP) > 0
}

func (r Response) String() string { return fmt.Sprintf("%d %s", r.Code, r.Phrase) }

func newResponse(res *sip.Response) Response {
	r := Response{Code: res.StatusCode, Phrase: res.Reason, At: time.Now(), hdrs: map[string][]string{}}
	for _, h := range res.Headers() {
		k := strings.ToLower(h.Name())
		r.hdrs[k] = append(r.hdrs[k], h.Value())
	}
	if b := res.Body(); len(b) > 0 {
		r.SDP = append([]byte(nil), b...)
	}
	return r
}

// StatusError is returned by [Call.Answer] when the call is refused: the
// final response is not a 2xx.
type StatusError struct {
	Response Response
}

func (e *StatusError) Error() string { return "call refused: " + e.Response.String() }

// ErrEnded is returned by media operations on a call that has ended.
var ErrEnded = errors.New("sipclient: call ended")

// Call is one outgoing call. Its methods may be used from several
// goroutines. Its media methods (Send, SendTone, SendSilence, SendDTMF,
// SendDTMFFor, Recording, Digits, WaitDigits, WaitTone, WaitAudio,
// Codec, DTMFPayloadType, LocalRTP, RemoteRTP) are shared with
// [Incoming].
type Call struct {
	opts    Options
	log     *slog.Logger
	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	cli     *sipgo.Client
	lis     io.Closer
	contact *sip.ContactHeader
	mediaLeg
	offer  []format
	sessID uint64
	callID string
	invite *sip.Request
	tx     sip.ClientTransaction // the INVITE's; replaced (under mu) when a challenge is answered

	mu        sync.Mutex
	authTried bool   // a challenge has been answered
	changed   signal // woken on every state change
	responses []Response
	seenResp  map[string]bool
	final     *Response
	answered  bool
	ended     bool
	endErr    error // why the call ended without a final response or BYE
	remoteBye bool
	byeCause  Cause
	toTag     *sip.ToHeader // To of the 2xx: the dialog's remote tag
	target    sip.Uri       // remote target (Contact of the 2xx)
	routes    []string      // route set, in order
	cseq      uint32
	ack       *sip.Request // sent ACK, replayed on 2xx retransmissions
	sdpVer    int
	cancelReq bool // Hangup asked to cancel
	cancelled bool // CANCEL sent
	done      chan struct{}
	closeOnce sync.Once
	runDone   chan struct{}
}

// Dial sends an INVITE per opts and returns as soon as it is on its way;
// use [Call.Answer], [Call.WaitResponse] or [Call.Final] to follow it. The
// call must be released with [Call.Close].
func Dial(ctx context.Context, opts Options) (*Call, error) {
	if opts.Transport == "" {
		opts.Transport = "udp"
	}
	opts.Transport = strings.ToLower(opts.Transport)
	if opts.Transport != "udp" && opts.Transport != "tcp" {
		return nil, fmt.Errorf("sipclient: transport %q: want udp or tcp", opts.Transport)
	}
	if len(opts.Codecs) == 0 {
		opts.Codecs = []Codec{PCMU, PCMA}
	}
	if opts.From == "" {
		opts.From = "e2e"
	}
	if opts.LocalIP == "" {
		opts.LocalIP = "127.0.0.1"
	}
	dtmfPT := dtmfPayloadType(opts.DTMFPayloadType, opts.NoDTMF)
	ip, err := netip.ParseAddr(opts.LocalIP)
	if err != nil {
		return nil, fmt.Errorf("sipclient: local IP: %w", err)
	}
	var target sip.Uri
	if err := sip.ParseUri(opts.Target, &target); err != nil {
		return nil, fmt.Errorf("sipclient: target %q: %w", opts.Target, err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	c := &Call{
		opts:    opts,
		log:     log,
		offer:   offerFormats(opts.Codecs, dtmfPT),
		changed: make(chan struct{}),
		done:    make(chan struct{}),
		runDone: make(chan struct{}),
		sdpVer:  1,
	}
	c.legDone = c.done
	var rnd [16]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, fmt.Errorf("sipclient: random: %w", err)
	}
	c.sessID = binary.BigEndian.Uint64(rnd[:8]) >> 1
	c.callID = hex.EncodeToString(rnd[8:]) + "@switchboard-e2e"

	if c.media, err = newRTPSession(ip); err != nil {
		return nil, err
	}
	if err := c.setupSIP(ip); err != nil {
		c.media.close()
		return nil, err
	}
	if err := c.sendInvite(ctx, target); err != nil {
		c.release()
		return nil, err
	}
	go c.run()
	return c, nil
}

// setupSIP creates the call's own user agent, listener and client.
func (c *Call) setupSIP(ip netip.Addr) error {
	var err error
	c.ua, err = sipgo.NewUA(
		sipgo.WithUserAgent("switchboard-e2e"),
		sipgo.WithUserAgentHostname(ip.String()),
		sipgo.WithUserAgentTransactionLayerOptions(
			sip.WithTransactionLayerLogger(c.log),
			sip.WithTransactionLayerUnhandledResponseHandler(c.onUnhandledResponse),
		),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(c.log)),
	)
	if err != nil {
		return fmt.Errorf("sipclient: user agent: %w", err)
	}
	c.srv, err = sipgo.NewServer(c.ua, sipgo.WithServerLogger(c.log))
	if err != nil {
		c.ua.Close()
		return fmt.Errorf("sipclient: server: %w", err)
	}
	// Seen in arrival order by the transport reader: the transaction
	// layer handles responses concurrently and drops a provisional one
	// that loses the race with the final.
	c.ua.TransportLayer().OnMessage(c.observe)
	c.srv.OnBye(c.onBye)
	c.srv.OnInvite(c.onReInvite)
	c.srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
	for _, m := range []sip.RequestMethod{sip.OPTIONS, sip.INFO, sip.NOTIFY, sip.UPDATE} {
		c.srv.OnRequest(m, c.onInDialogOK)
	}

	bind := net.JoinHostPort(ip.String(), "0")
	var port int
	clientOpts := []sipgo.ClientOption{sipgo.WithClientHostname(ip.String()), sipgo.WithClientLogger(c.log)}
	switch c.opts.Transport {
	case "udp":
		pc, err := net.ListenPacket("udp", bind)
		if err != nil {
			c.ua.Close()
			return fmt.Errorf("sipclient: listen udp: %w", err)
		}
		c.lis = pc
		port = pc.LocalAddr().(*net.UDPAddr).Port
		go c.srv.ServeUDP(pc)
		// Send from the listening socket, so the far end sees one address
		// for requests and responses both ways. The listener is usable
		// once sipgo has put it in its pool.
		addr := pc.LocalAddr().String()
		if err := waitConn(c.ua, "udp", addr); err != nil {
			c.lis.Close()
			c.ua.Close()
			return err
		}
		clientOpts = append(clientOpts, sipgo.WithClientConnectionAddr(addr))
	case "tcp":
		l, err := net.Listen("tcp", bind)
		if err != nil {
			c.ua.Close()
			return fmt.Errorf("sipclient: listen tcp: %w", err)
		}
		c.lis = l
		port = l.Addr().(*net.TCPAddr).Port
		go c.srv.ServeTCP(l)
	}
	c.cli, err = sipgo.NewClient(c.ua, clientOpts...)
	if err != nil {
		c.lis.Close()
		c.ua.Close()
		return fmt.Errorf("sipclient: client: %w", err)
	}
	c.contact = &sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: c.opts.From, Host: ip.String(), Port: port}}
	if c.opts.Transport == "tcp" {
		c.contact.Address.UriParams = sip.NewParams()
		c.contact.Address.UriParams.Add("transport", "tcp")
	}
	return nil
}

// waitConn waits (briefly) until the transport layer knows the listener.
func waitConn(ua *sipgo.UserAgent, network, addr string) error {
	deadline := time.Now().Add(2 * time.Second)
	for {
		if _, err := ua.TransportLayer().GetConnection(network, addr); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sipclient: %s listener %s did not start", network, addr)
		}
		time.Sleep(time.Millisecond)
	}
}

func (c *Call) sendInvite(ctx context.Context, target sip.Uri) error {
	req := sip.NewRequest(sip.INVITE, target)
	req.SetTransport(strings.ToUpper(c.opts.Transport))
	from := &sip.FromHeader{
		DisplayName: c.opts.DisplayName,
		Address:     sip.Uri{Scheme: "sip", User: c.opts.From, Host: c.opts.LocalIP},
		Params:      sip.NewParams(),
	}
	from.Params.Add("tag", sip.GenerateTagN(16))
	to := &sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: target.User, Host: target.Host, Port: target.Port}, Params: sip.NewParams()}
	callID := sip.CallIDHeader(c.callID)
	c.cseq = 1
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: c.cseq, MethodName: sip.INVITE})
	req.AppendHeader(c.contact)
	req.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, NOTIFY, UPDATE"))
	for _, h := range c.opts.Headers {
		req.AppendHeader(sip.NewHeader(h.Name, h.Value))
	}
	if !c.opts.NoSDP {
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		req.SetBody(buildSDP(c.sessID, c.sdpVer, c.media.local, c.offer))
	}
	c.invite = req
	tx, err := c.cli.TransactionRequest(ctx, req)
	if err != nil {
		return fmt.Errorf("sipclient: send INVITE to %s: %w", c.opts.Target, err)
	}
	c.mu.Lock()
	c.tx = tx
	c.mu.Unlock()
	return nil
}

// run follows the INVITE transaction until its final response.
func (c *Call) run() {
	defer close(c.runDone)
	var cancelTimeout <-chan time.Time
	for {
		c.mu.Lock()
		wantCancel := c.cancelReq && !c.cancelled && len(c.responses) > 0
		changed := c.changed
		tx := c.tx
		c.mu.Unlock()
		if wantCancel {
			c.sendCancel()
			// RFC 3261 9.1: without a final response within 64*T1 the
			// INVITE transaction is over.
			cancelTimeout = time.After(64 * sip.T1)
		}
		select {
		case res, ok := <-tx.Responses():
			if !ok {
				continue
			}
			if c.handleResponse(res) {
				return
			}
		case <-tx.Done():
			c.mu.Lock()
			replaced := c.tx != tx
			c.mu.Unlock()
			if replaced {
				continue // the challenged transaction ended; follow the new one
			}
			c.endWith(fmt.Errorf("sipclient: INVITE transaction ended without a final response: %w", tx.Err()))
			return
		case <-changed:
		case <-cancelTimeout:
			c.endWith(errors.New("sipclient: no final response after CANCEL"))
			return
		}
	}
}

// observe records every response to our INVITE, in arrival order, and
// points the media at the SDP of early media. Retransmissions are
// recorded once.
func (c *Call) observe(msg sip.Message) {
	res, ok := msg.(*sip.Response)
	if !ok {
		return
	}
	if id := res.CallID(); id == nil || string(*id) != c.callID {
		return
	}
	if cs := res.CSeq(); cs == nil || cs.MethodName != sip.INVITE {
		return
	}
	r := newResponse(res)
	if r.EarlyMedia() {
		if err := c.applyRemoteSDP(r.SDP); err != nil {
			c.log.Warn("bad SDP in provisional response", "error", err)
		}
	}
	c.update(func() { c.recordLocked(res, r) })
}

// recordLocked appends r to the responses unless an identical one (a
// retransmission, or the same response seen by the other path) is there.
func (c *Call) recordLocked(res *sip.Response, r Response) {
	tag := ""
	if to := res.To(); to != nil {
		tag = to.Params.GetOr("tag", "")
	}
	key := fmt.Sprintf("%d|%s|%d", r.Code, tag, len(r.SDP))
	if c.seenResp == nil {
		c.seenResp = map[string]bool{}
	}
	if !c.seenResp[key] {
		c.seenResp[key] = true
		c.responses = append(c.responses, r)
	}
}

// handleResponse acts on one response of the INVITE transaction and
// reports whether it was final.
func (c *Call) handleResponse(res *sip.Response) bool {
	r := newResponse(res)
	switch {
	case res.IsProvisional():
		return false
	case res.IsSuccess():
		// The transaction may deliver the final response before observe
		// has seen it: record it here too.
		c.update(func() {
			c.recordLocked(res, r)
			c.final = &r
		})
		if err := c.confirm(res); err != nil {
			c.endWith(err)
			return true
		}
		c.mu.Lock()
		hangup := c.cancelReq
		c.mu.Unlock()
		if hangup {
			// Our CANCEL crossed the 2xx: the call is up, so end it.
			ctx, cancel := context.WithTimeout(context.Background(), 64*sip.T1)
			defer cancel()
			if err := c.bye(ctx); err != nil {
				c.endWith(err)
			}
		}
		return true
	default:
		if c.answerChallenge(res) {
			return false
		}
		c.update(func() {
			c.recordLocked(res, r)
			c.final = &r
			c.ended = true
		})
		c.finish()
		return true
	}
}

// answerChallenge re-sends the INVITE with digest credentials after a
// 401 or 407, once, when the options carry a password. It reports
// whether it did.
func (c *Call) answerChallenge(res *sip.Response) bool {
	if (res.StatusCode != 401 && res.StatusCode != 407) || c.opts.Password == "" {
		return false
	}
	c.mu.Lock()
	tried := c.authTried
	c.authTried = true
	c.mu.Unlock()
	if tried {
		return false
	}
	user := c.opts.Username
	if user == "" {
		user = c.opts.From
	}
	ctx, cancel := context.WithTimeout(context.Background(), 64*sip.T1)
	defer cancel()
	tx, err := c.cli.TransactionDigestAuth(ctx, c.invite, res, sipgo.DigestAuth{Username: user, Password: c.opts.Password})
	if err != nil {
		c.log.Warn("answering the challenge failed", "error", err)
		return false
	}
	c.mu.Lock()
	c.tx = tx
	c.cseq = c.invite.CSeq().SeqNo
	c.mu.Unlock()
	return true
}

// confirm establishes the dialog from a 2xx, sends the ACK (with the SDP
// answer when the 2xx carried the offer) and arranges for the ACK to be
// re-sent whenever the 2xx is retransmitted.
func (c *Call) confirm(res *sip.Response) error {
	var body []byte
	if c.opts.NoSDP {
		if len(res.Body()) == 0 {
			return errors.New("sipclient: late-offer INVITE answered without SDP")
		}
		md, err := parseSDP(res.Body())
		if err != nil {
			return fmt.Errorf("sipclient: offer in 2xx: %w", err)
		}
		n, err := negotiate(md, c.offer)
		if err != nil {
			return fmt.Errorf("sipclient: offer in 2xx: %w", err)
		}
		c.media.setState(mediaState(n))
		formats := []format{n.audio}
		if n.dtmf.PT != 0 {
			formats = append(formats, n.dtmf)
		}
		body = buildSDP(c.sessID, c.sdpVer, c.media.local, formats)
	} else if len(res.Body()) > 0 {
		if err := c.applyRemoteSDP(res.Body()); err != nil {
			return fmt.Errorf("sipclient: answer in 2xx: %w", err)
		}
	} else if _, ok := c.media.currentState(); !ok {
		return errors.New("sipclient: 2xx without SDP answer")
	}

	target := c.invite.Recipient
	if ct := res.Contact(); ct != nil {
		target = ct.Address
	}
	var routes []string
	rr := res.GetHeaders("Record-Route")
	for i := len(rr) - 1; i >= 0; i-- {
		routes = append(routes, rr[i].Value())
	}
	ack := c.newInDialogRequest(sip.ACK, target, routes, res.To(), c.cseq)
	if body != nil {
		ack.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		ack.SetBody(body)
	}
	if err := c.cli.WriteRequest(ack); err != nil {
		return fmt.Errorf("sipclient: send ACK: %w", err)
	}
	c.update(func() {
		c.answered = true
		c.toTag = res.To()
		c.target = target
		c.routes = routes
		c.ack = ack.Clone()
	})
	// The INVITE transaction passes retransmitted 2xx here while it
	// lasts; onUnhandledResponse covers the time after.
	c.tx.OnRetransmission(func(r *sip.Response) {
		if r.IsSuccess() {
			c.reAck()
		}
	})
	return nil
}

// reAck re-sends the ACK for a retransmitted 2xx.
func (c *Call) reAck() {
	c.mu.Lock()
	ack := c.ack
	c.mu.Unlock()
	if ack == nil {
		return
	}
	if err := c.cli.WriteRequest(ack.Clone()); err != nil {
		c.log.Warn("re-sending ACK failed", "error", err)
	}
}

// onUnhandledResponse sees responses no transaction claims, such as a 2xx
// retransmitted after the INVITE transaction has been terminated.
func (c *Call) onUnhandledResponse(res *sip.Response) {
	cs := res.CSeq()
	id := res.CallID()
	if cs == nil || id == nil || string(*id) != c.callID {
		return
	}
	if cs.MethodName == sip.INVITE && res.IsSuccess() {
		c.reAck()
	}
}

func (c *Call) newInDialogRequest(method sip.RequestMethod, target sip.Uri, routes []string, to *sip.ToHeader, seq uint32) *sip.Request {
	req := sip.NewRequest(method, *target.Clone())
	req.SetTransport(c.invite.Transport())
	req.AppendHeader(sip.HeaderClone(c.invite.From()))
	req.AppendHeader(sip.HeaderClone(to))
	req.AppendHeader(sip.HeaderClone(c.invite.CallID()))
	req.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: method})
	for _, r := range routes {
		req.AppendHeader(sip.NewHeader("Route", r))
	}
	req.AppendHeader(c.contact)
	return req
}

// applyRemoteSDP negotiates the far end's answer against our offer and
// points the media at it.
func (c *Call) applyRemoteSDP(body []byte) error {
	md, err := parseSDP(body)
	if err != nil {
		return err
	}
	n, err := negotiate(md, c.offer)
	if err != nil {
		return err
	}
	c.media.setState(mediaState(n))
	return nil
}

// sendCancel sends CANCEL for the INVITE; its 487 arrives on the INVITE
// transaction.
func (c *Call) sendCancel() {
	c.update(func() { c.cancelled = true })
	cancel := sip.NewRequest(sip.CANCEL, c.invite.Recipient)
	cancel.SetTransport(c.invite.Transport())
	cancel.AppendHeader(sip.HeaderClone(c.invite.Via()))
	cancel.AppendHeader(sip.HeaderClone(c.invite.From()))
	cancel.AppendHeader(sip.HeaderClone(c.invite.To()))
	cancel.AppendHeader(sip.HeaderClone(c.invite.CallID()))
	cancel.AppendHeader(&sip.CSeqHeader{SeqNo: c.invite.CSeq().SeqNo, MethodName: sip.CANCEL})
	sip.CopyHeaders("Route", c.invite, cancel)
	go func() {
		ctx, done := context.WithTimeout(context.Background(), 64*sip.T1)
		defer done()
		res, err := c.cli.Do(ctx, cancel)
		if err != nil {
			c.log.Warn("CANCEL failed", "error", err)
			return
		}
		if res.StatusCode != 200 {
			c.log.Warn("CANCEL answered", "status", res.StatusCode)
		}
	}()
}

// bye sends BYE in the dialog and ends the call when it is answered (with
// any final response).
func (c *Call) bye(ctx context.Context) error {
	c.mu.Lock()
	c.cseq++
	req := c.newInDialogRequest(sip.BYE, c.target, c.routes, c.toTag, c.cseq)
	c.mu.Unlock()
	res, err := c.cli.Do(ctx, req)
	if err != nil {
		return fmt.Errorf("sipclient: BYE: %w", err)
	}
	c.update(func() { c.ended = true })
	c.finish()
	if res.StatusCode >= 300 {
		return fmt.Errorf("sipclient: BYE answered %d %s", res.StatusCode, res.Reason)
	}
	return nil
}

// Reinvite sends a re-INVITE in the dialog offering our media again with
// direction dir (sendrecv, or sendonly to put the far end on hold),
// applies the answer and ACKs it.
func (c *Call) Reinvite(ctx context.Context, dir string) error {
	c.mu.Lock()
	if !c.answered || c.ended {
		c.mu.Unlock()
		return errors.New("sipclient: re-INVITE needs an answered call")
	}
	c.cseq++
	seq := c.cseq
	req := c.newInDialogRequest(sip.INVITE, c.target, c.routes, c.toTag, seq)
	c.sdpVer++
	body := buildSDPDir(c.sessID, c.sdpVer, c.media.local, c.offer, dir)
	target, routes, to := c.target, c.routes, c.toTag
	c.mu.Unlock()
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(body)
	res, err := c.cli.Do(ctx, req)
	if err != nil {
		return fmt.Errorf("sipclient: re-INVITE: %w", err)
	}
	if !res.IsSuccess() {
		return fmt.Errorf("sipclient: re-INVITE answered %d %s", res.StatusCode, res.Reason)
	}
	if len(res.Body()) > 0 {
		if err := c.applyRemoteSDP(res.Body()); err != nil {
			return fmt.Errorf("sipclient: re-INVITE answer: %w", err)
		}
	}
	ack := c.newInDialogRequest(sip.ACK, target, routes, to, seq)
	if err := c.cli.WriteRequest(ack); err != nil {
		return fmt.Errorf("sipclient: ACK of the re-INVITE: %w", err)
	}
	return nil
}

// SendInfoDTMF sends each digit in a SIP INFO of the dialog, with an
// application/dtmf-relay body (Signal=, Duration= in ms) or, with
// plain set, application/dtmf (the digit alone). Each INFO waits for its
// final response; a response other than 2xx is an error.
func (c *Call) SendInfoDTMF(ctx context.Context, digits string, plain bool) error {
	for _, d := range digits {
		c.mu.Lock()
		if !c.answered || c.ended {
			c.mu.Unlock()
			return errors.New("sipclient: INFO needs an answered call")
		}
		c.cseq++
		req := c.newInDialogRequest(sip.INFO, c.target, c.routes, c.toTag, c.cseq)
		c.mu.Unlock()
		ct, body := "application/dtmf-relay", "Signal="+string(d)+"\r\nDuration=160\r\n"
		if plain {
			ct, body = "application/dtmf", string(d)
		}
		req.AppendHeader(sip.NewHeader("Content-Type", ct))
		req.SetBody([]byte(body))
		res, err := c.cli.Do(ctx, req)
		if err != nil {
			return fmt.Errorf("sipclient: INFO: %w", err)
		}
		if res.StatusCode >= 300 {
			return fmt.Errorf("sipclient: INFO answered %d %s", res.StatusCode, res.Reason)
		}
	}
	return nil
}

func (c *Call) onBye(req *sip.Request, tx sip.ServerTransaction) {
	if id := req.CallID(); id == nil || string(*id) != c.callID {
		tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	var cause Cause
	if h := req.GetHeader("Reason"); h != nil {
		if cs, err := ParseCause(h.Value()); err == nil {
			cause = cs
		}
	}
	tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	c.update(func() {
		if !c.ended {
			c.remoteBye = true
			c.byeCause = cause
			c.ended = true
		}
	})
	c.finish()
}

// onReInvite answers a re-INVITE in our dialog with our SDP for whatever
// it offers (a session refresh or a media change).
func (c *Call) onReInvite(req *sip.Request, tx sip.ServerTransaction) {
	c.answerReinvite(req, tx, c.offer, c.sessID, func() int {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.sdpVer++
		return c.sdpVer
	}, c.contact)
}

func (c *Call) onInDialogOK(req *sip.Request, tx sip.ServerTransaction) {
	tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
}

// update changes call state under the lock and wakes waiters.
func (c *Call) update(f func()) {
	c.mu.Lock()
	f()
	c.changed.wake()
	c.mu.Unlock()
}

// endWith ends the call because of a signalling failure.
func (c *Call) endWith(err error) {
	c.update(func() {
		if !c.ended {
			c.ended, c.endErr = true, err
		}
	})
	c.finish()
}

// finish closes Done once the call has ended, and ends the INVITE
// transaction (a 2xx retransmitted later is then an unhandled response,
// still acknowledged by onUnhandledResponse).
func (c *Call) finish() {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		tx := c.tx
		c.mu.Unlock()
		if tx != nil {
			tx.Terminate()
		}
		close(c.done)
	})
}

// waitState blocks until cond (run under the lock) holds or ctx ends.
func (c *Call) waitState(ctx context.Context, cond func() bool) error {
	return waitUntil(ctx, &c.mu, &c.changed, cond)
}

// String describes the call's progress for test failure messages: the
// target, the responses seen and how it ended.
func (c *Call) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "call to %s:", c.opts.Target)
	for _, r := range c.responses {
		fmt.Fprintf(&b, " %d", r.Code)
	}
	if len(c.responses) == 0 {
		b.WriteString(" no response")
	}
	switch {
	case c.remoteBye:
		fmt.Fprintf(&b, "; far end hung up (Reason %s;cause=%d;text=%q)", c.byeCause.Protocol, c.byeCause.Code, c.byeCause.Text)
	case c.ended && c.endErr != nil:
		fmt.Fprintf(&b, "; ended: %v", c.endErr)
	case c.ended:
		b.WriteString("; ended")
	case c.answered:
		b.WriteString("; up")
	}
	return b.String()
}

// CallID returns the call's Call-ID.
func (c *Call) CallID() string { return c.callID }

// Responses returns the INVITE responses received so far, in order.
func (c *Call) Responses() []Response {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Response(nil), c.responses...)
}

// WaitResponse waits for a response with the given status code. It fails
// early when a final response with another code arrives first.
func (c *Call) WaitResponse(ctx context.Context, code int) (Response, error) {
	var got Response
	var fail error
	err := c.waitState(ctx, func() bool {
		for _, r := range c.responses {
			if r.Code == code {
				got = r
				return true
			}
		}
		if c.final != nil && c.final.Code == code {
			got = *c.final
			return true
		}
		if c.final != nil {
			fail = fmt.Errorf("sipclient: waiting for %d, got final %s", code, c.final)
			return true
		}
		if c.ended {
			fail = c.endErrLocked()
			return true
		}
		return false
	})
	if err != nil {
		return Response{}, fmt.Errorf("sipclient: waiting for %d: %w (seen %v)", code, err, c.Responses())
	}
	return got, fail
}

// Final waits for the INVITE's final response.
func (c *Call) Final(ctx context.Context) (Response, error) {
	var got Response
	var fail error
	err := c.waitState(ctx, func() bool {
		if c.final != nil {
			got = *c.final
			return true
		}
		if c.ended {
			fail = c.endErrLocked()
			return true
		}
		return false
	})
	if err != nil {
		return Response{}, fmt.Errorf("sipclient: waiting for a final response: %w (seen %v)", err, c.Responses())
	}
	return got, fail
}

// Answer waits until the call is answered and acknowledged. A refusal is
// a *StatusError.
func (c *Call) Answer(ctx context.Context) error {
	var fail error
	err := c.waitState(ctx, func() bool {
		switch {
		case c.answered:
			return true
		case c.final != nil && c.final.Code >= 300:
			fail = &StatusError{Response: *c.final}
			return true
		case c.ended:
			fail = c.endErrLocked()
			return true
		}
		return false
	})
	if err != nil {
		return fmt.Errorf("sipclient: waiting for answer: %w (seen %v)", err, c.Responses())
	}
	return fail
}

func (c *Call) endErrLocked() error {
	if c.endErr != nil {
		return c.endErr
	}
	return ErrEnded
}

// Answered reports whether the call has been answered.
func (c *Call) Answered() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.answered
}

// Done is closed when the call has ended, whoever ended it.
func (c *Call) Done() <-chan struct{} { return c.done }

// RemoteBye reports whether the far end hung up with BYE, and the cause
// its Reason header gave (zero if it had none).
func (c *Call) RemoteBye() (Cause, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byeCause, c.remoteBye
}

// WaitBye waits until the far end hangs up with BYE and returns its cause.
// It fails if the call ends another way.
func (c *Call) WaitBye(ctx context.Context) (Cause, error) {
	select {
	case <-c.done:
	case <-ctx.Done():
		return Cause{}, fmt.Errorf("sipclient: waiting for BYE: %w", ctx.Err())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.remoteBye {
		if c.final != nil && c.final.Code >= 300 {
			return Cause{}, &StatusError{Response: *c.final}
		}
		return Cause{}, fmt.Errorf("sipclient: call ended without a BYE from the far end: %w", c.endErrLocked())
	}
	return c.byeCause, nil
}

// Hangup ends the call from this side: BYE once answered, CANCEL before
// (waiting for the final response, normally 487). It is a no-op on an
// ended call.
func (c *Call) Hangup(ctx context.Context) error {
	c.mu.Lock()
	ended, answered := c.ended, c.answered
	if !answered && !ended {
		c.cancelReq = true
		c.changed.wake()
	}
	c.mu.Unlock()
	switch {
	case ended:
		return nil
	case answered:
		return c.bye(ctx)
	}
	select {
	case <-c.runDone:
	case <-ctx.Done():
		return fmt.Errorf("sipclient: hangup before answer: %w", ctx.Err())
	}
	// A 2xx may have crossed the CANCEL; run then sent BYE. Either way the
	// call is over, or over with an error.
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("sipclient: hangup before answer: %w", ctx.Err())
	}
}

// Close hangs up if needed (giving up after a few seconds), then releases
// the call's sockets and goroutines.
func (c *Call) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := c.Hangup(ctx)
	c.release()
	return err
}

func (c *Call) release() {
	c.media.close()
	c.mu.Lock()
	tx := c.tx
	c.mu.Unlock()
	if tx != nil {
		tx.Terminate()
	}
	c.lis.Close()
	c.ua.Close()
	c.update(func() {
		if !c.ended {
			c.ended, c.endErr = true, ErrEnded
		}
	})
	c.finish()
	if tx != nil {
		<-c.runDone
	}
}
