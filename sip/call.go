package sip

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-voip/switchboard/acl"
	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/media"
	"github.com/switchboard-voip/switchboard/session"
)

// callState is where an inbound call is in its INVITE transaction.
type callState int

const (
	stateEarly    callState = iota // no final response yet
	stateAnswered                  // 2xx sent
	stateEnded                     // final error response sent, or hung up
)

// call is one inbound SIP call leg: the session.Endpoint of its session.
type call struct {
	leg // stream, offer/answer state, re-INVITEs (shared with outbound legs)

	dlg  *sipgo.DialogServerSession
	tx   sip.ServerTransaction
	req  *sip.Request
	name string
	sess *session.Session

	final chan *sip.Response // the final response the INVITE goroutine sends
	done  chan struct{}      // closed when the INVITE goroutine returns

	canceled atomic.Bool // CANCEL received before a final response
	byeGot   atomic.Bool // the far end sent BYE

	// Guarded by leg.mu:
	state    callState
	farEnded bool // the far end ended the call: Hangup sends nothing
	offer    *remoteSDP
	localSDP []byte // the SDP we sent in 183/200 (reused)
	early    bool   // 183 with SDP sent
	// A BYE Hangup leaves to the INVITE goroutine (see Hangup): pending
	// until that goroutine or the end of the INVITE transaction takes it.
	// runOver is set once the INVITE goroutine takes no more.
	byePending bool
	byeCause   cause.Cause
	runOver    bool
}

var _ session.Endpoint = (*call)(nil)

func newCall(p *profile, dlg *sipgo.DialogServerSession, req *sip.Request, tx sip.ServerTransaction, info *callInfo, src netip.AddrPort, offer *remoteSDP, params audioParams) (*call, error) {
	stream, err := p.e.cfg.Media.Open()
	if err != nil {
		return nil, err
	}
	c := &call{
		leg: leg{
			p:      p,
			callID: req.CallID().Value(),
			stream: stream,
			vars:   info.vars.st,
			src:    src,
			ackCh:  make(chan struct{}),
			origin: sdpOrigin{user: "Switchboard", id: rand.Uint64() >> 1},
		},
		dlg:   dlg,
		tx:    tx,
		req:   req,
		name:  "sofia/" + p.cfg.Name + "/" + info.chanID,
		final: make(chan *sip.Response, 1),
		done:  make(chan struct{}),
		offer: offer,
	}
	if i := strings.IndexByte(c.name, ';'); i >= 0 {
		c.name = c.name[:i]
	}
	c.side = c
	c.contact = p.contactFor(req, src)
	c.latch = p.natACL(req, src.Addr())
	if offer != nil {
		c.params, c.haveMedia = params, true
		if err := c.applyRemote(); err != nil {
			_ = stream.Close()
			return nil, err
		}
		info.vars.set("switch_r_sdp", string(req.Body()))
	}
	c.setMediaVars(info.vars)
	for _, name := range info.vars.refused {
		c.logger().Error(fmt.Sprintf("Invalid data (${%s} contains a variable)", name))
	}
	// The call counts until both its INVITE goroutine (run) and its
	// hangup (Hangup, and the BYE it may send) are done.
	p.e.calls.add(2)
	c.sess = p.e.cfg.Manager.NewInbound(session.Inbound{
		Endpoint: c,
		Profile:  info.profile,
		Store:    info.vars.st,
	})
	c.sessp.Store(c.sess)
	// The receive goroutine starts after c.sess is set, so it sees it.
	stream.OnDTMF(func(d media.Digit) { c.queueDTMF(d.Digit) })
	stream.Start()
	p.calls.Store(dlg.ID, c)
	return c, nil
}

// contactFor builds the Contact of our responses to req: ext-sip-ip for
// callers outside the local network (when configured), else sip-ip, or
// the address the caller reached when sip-ip is unspecified.
func (p *profile) contactFor(req *sip.Request, src netip.AddrPort) sip.ContactHeader {
	host := p.cfg.SIPIP
	if p.cfg.ExtSIPIP.IsValid() && p.outside(src.Addr()) {
		host = p.cfg.ExtSIPIP
	}
	if host.IsUnspecified() {
		host = localAddrFor(src.Addr())
	}
	u := sip.Uri{Scheme: "sip", User: "mod_sofia", Host: host.String(), Port: p.localPort()}
	if host.Is6() {
		u.Host = "[" + host.String() + "]"
	}
	if tr := strings.ToLower(req.Transport()); tr != "udp" && tr != "" {
		u.UriParams.Add("transport", tr)
	}
	return sip.ContactHeader{Address: u}
}

// outside reports whether a caller is outside our networks (sofia's
// check_nat: not loopback and not in local-network-acl).
func (p *profile) outside(a netip.Addr) bool {
	lists := p.e.acl.Load()
	if lists.Check("loopback.auto", a) {
		return false
	}
	if p.cfg.LocalNetworkACL != "" && lists.Check(p.cfg.LocalNetworkACL, a) {
		return false
	}
	return true
}

// localAddrFor finds the local address the kernel would use to reach a
// (no packet is sent).
func localAddrFor(a netip.Addr) netip.Addr {
	if !a.IsValid() {
		return netip.IPv4Unspecified()
	}
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(a, 9)))
	if err != nil {
		return a
	}
	defer conn.Close()
	return conn.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
}

// shouldLatch decides whether the media latches onto the first RTP
// source: when apply-nat-acl found the caller behind NAT, when the SDP
// gives no address, or when it gives a private address other than the
// one the signalling came from (a phone behind NAT advertising its LAN
// address).
func shouldLatch(natACL bool, sdpAddr, sigAddr netip.Addr, lists *acl.Lists) bool {
	sdpAddr, sigAddr = sdpAddr.Unmap(), sigAddr.Unmap()
	switch {
	case natACL, !sdpAddr.IsValid(), sdpAddr.IsUnspecified():
		return true
	}
	return privateAddr(lists, sdpAddr) && sdpAddr != sigAddr
}

// run starts the session and then serves the INVITE transaction until its
// final response is sent (and, for a 2xx, acknowledged) or the far end
// gives up. It runs on the INVITE handler's goroutine, which must not
// return before the final response or sipgo ends the transaction. When
// the call was hung up before the ACK came, run also sends the BYE on
// its way out and waits for its answer (at most Timer F), keeping that
// goroutine until then.
func (c *call) run() {
	defer c.p.e.calls.done()
	var bye bool
	var byeCause cause.Cause
	defer func() {
		close(c.done)
		if b, hc := c.takeBye(); b {
			bye, byeCause = true, hc
		}
		if bye {
			defer c.p.e.calls.done()
			c.sendBye(byeCause)
		}
	}()
	c.sess.Start()
	c.p.e.admitting.done()
	select {
	case res := <-c.final:
		err := c.dlg.WriteResponse(res)
		if !res.IsSuccess() {
			c.forget()
			return
		}
		// A BYE already asked for is taken before c.tx.Terminate below,
		// which would otherwise hand it to a goroutine of its own.
		bye, byeCause = c.takeBye()
		switch {
		case c.byeGot.Load():
		case err != nil && errors.Is(c.tx.Err(), sip.ErrTransactionCanceled):
			// The CANCEL crossed our 200: the transaction answered it
			// with 487, so the call never got answered.
			c.farEnd("recv_cancel", cause.COriginatorCancel)
			c.forget()
		case err != nil:
			// No ACK within 64*T1, or the transaction broke: RFC 3261
			// §13.3.1.4 says end the session.
			c.logger().Warn("sip: no ACK for our 200", "err", err)
			c.sess.Hangup(cause.CRecoveryOnTimerExpire)
		default:
			// ACKed: nothing retransmits the INVITE any more, so the
			// transaction need not linger for Timer L.
			c.tx.Terminate()
		}
	case <-c.dlg.Context().Done():
		// CANCEL, or the transaction died before any final response.
		if errors.Is(context.Cause(c.dlg.Context()), sip.ErrTransactionCanceled) || errors.Is(c.tx.Err(), sip.ErrTransactionCanceled) {
			c.farEnd("recv_cancel", cause.COriginatorCancel)
		} else {
			c.farEnd("", cause.CNormalTemporaryFailure)
		}
		c.forget()
	}
}

// takeBye takes the BYE Hangup left to the INVITE goroutine, if any;
// from then on Hangup leaves it none.
func (c *call) takeBye() (bool, cause.Cause) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.runOver = true
	bye := c.byePending
	c.byePending = false
	return bye, c.byeCause
}

// byeOnTerminate sends, on a goroutine of its own, the BYE left to the
// INVITE goroutine when the INVITE transaction ends first.
func (c *call) byeOnTerminate() {
	c.mu.Lock()
	bye, hc := c.byePending, c.byeCause
	c.byePending = false
	c.mu.Unlock()
	if bye {
		c.goBye(hc)
	}
}

// goBye sends BYE on a goroutine of its own (see sendBye).
func (c *call) goBye(hc cause.Cause) {
	go func() {
		defer c.p.e.calls.done()
		c.sendBye(hc)
	}()
}

// farEnd records that the far end ended the call before we did, and hangs
// the session up with hc; Hangup then sends nothing.
func (c *call) farEnd(disposition string, hc cause.Cause) {
	c.mu.Lock()
	c.farEnded = true
	c.state = stateEnded
	c.mu.Unlock()
	if disposition == "recv_cancel" {
		c.canceled.Store(true)
	}
	if disposition != "" && !c.hungup.Load() {
		c.sess.Vars().Set("sip_hangup_disposition", disposition)
	}
	c.sess.Hangup(hc)
}

// forget removes the call from the dialog tables.
func (c *call) forget() {
	c.stopTimer()
	c.p.calls.Delete(c.dlg.ID)
	_ = c.dlg.Close()
}

// Name is the channel name: sofia/<profile>/<from user>@<from host>.
func (c *call) Name() string { return c.name }

// Media returns the call's RTP stream.
func (c *call) Media() session.Media {
	if c.stream == nil || c.bypassed() { // bypass_media: no media of ours
		return nil
	}
	return c.stream
}

// buildLocalSDP returns the SDP for a 183 or 200: the answer to the offer,
// or our offer when the INVITE had none. The same body serves 183 and 200.
// Call with c.mu held.
func (c *call) buildLocalSDP() ([]byte, error) {
	if c.localSDP != nil {
		return c.localSDP, nil
	}
	lm := localMedia{addr: netip.AddrPortFrom(c.mediaIP(), c.stream.LocalAddr().Port()), tePT: -1}
	var body []byte
	var err error
	if c.offer != nil {
		lm.codecs = []media.Codec{c.params.codec}
		lm.tePT = c.params.tePT
		lm.dir = answerDir(c.params.dir, c.params.remote.Addr().IsUnspecified())
		body, err = buildSDP(&c.origin, lm, c.offer, c.params.index)
	} else {
		lm.codecs = c.p.cfg.OutboundCodecs
		if c.p.cfg.DTMFType == dtmfRFC2833 {
			lm.tePT = c.p.cfg.TEPayload
		}
		lm.dir = dirSendRecv
		body, err = buildSDP(&c.origin, lm, nil, 0)
		c.ourOffer = true
	}
	if err != nil {
		return nil, err
	}
	c.localSDP, c.sentSDP = body, body
	return body, nil
}

// response builds a response to the INVITE with our Contact.
func (c *call) response(code int, reason string, body []byte) *sip.Response {
	if reason == "" {
		reason = reasonPhrase(code)
	}
	res := sip.NewResponseFromRequest(c.dlg.InviteRequest, code, reason, body)
	if code > 100 {
		res.AppendHeader(&c.contact) // shared: headers are only read once built
	}
	if body != nil {
		res.AppendHeader(c.p.hdr.sdpType)
	}
	if code >= 200 && code < 300 {
		res.AppendHeader(c.p.hdr.allow)
	}
	c.p.decorate(res)
	return res
}

// Answer sends 200 OK with SDP. It returns once the 200 is on its way;
// retransmissions until the ACK happen on the INVITE goroutine.
func (c *call) Answer(ctx context.Context) error {
	c.mu.Lock()
	switch {
	case c.state == stateAnswered:
		c.mu.Unlock()
		return nil
	case c.state == stateEnded || c.canceled.Load():
		c.mu.Unlock()
		return errors.New("sip: the call has ended")
	}
	body, err := c.buildLocalSDP()
	if err != nil {
		c.mu.Unlock()
		return fmt.Errorf("sip: build SDP: %w", err)
	}
	c.state = stateAnswered
	res := c.response(200, "OK", body)
	c.mu.Unlock()
	// RFC 4028: the session timer the INVITE asked for, or ours.
	tp := c.timerPrefs()
	deal := tp.negotiateUAS(readTimerHeaders(c.req))
	deal.responseHeaders(res)

	established := make(chan struct{})
	var once sync.Once
	c.dlg.OnState(func(s sip.DialogState) {
		if s >= sip.DialogStateEstablished {
			once.Do(func() { close(established) })
		}
	})
	c.armTimer(deal)
	c.final <- res
	c.startMediaTimeout()
	select {
	case <-established:
		return nil
	case <-c.done:
		if c.dlg.LoadState() >= sip.DialogStateEstablished {
			return nil
		}
		return errors.New("sip: the call ended before the answer went out")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// PreAnswer sends 183 Session Progress with SDP (early media).
func (c *call) PreAnswer(ctx context.Context) error {
	c.mu.Lock()
	if c.state != stateEarly || c.early {
		c.mu.Unlock()
		if c.state == stateEnded {
			return errors.New("sip: the call has ended")
		}
		return nil
	}
	body, err := c.buildLocalSDP()
	if err != nil {
		c.mu.Unlock()
		return fmt.Errorf("sip: build SDP: %w", err)
	}
	c.early = true
	res := c.response(183, "", body)
	c.mu.Unlock()
	return c.provisional(res)
}

// RingReady sends 180 Ringing, or 182 Queued. Once early media is up it
// sends nothing: the caller already hears what we play.
func (c *call) RingReady(ctx context.Context, queued bool) error {
	c.mu.Lock()
	if c.state != stateEarly || c.early {
		c.mu.Unlock()
		return nil
	}
	code := 180
	if queued {
		code = 182
	}
	res := c.response(code, "", nil)
	c.mu.Unlock()
	return c.provisional(res)
}

func (c *call) provisional(res *sip.Response) error {
	if c.canceled.Load() {
		return errors.New("sip: the call was canceled")
	}
	if err := c.dlg.WriteResponse(res); err != nil {
		return fmt.Errorf("sip: send %d: %w", res.StatusCode, err)
	}
	return nil
}

// Respond sends a response the dialplan chose (the respond app): 180/183
// as RingReady/PreAnswer, 200 as Answer, another 1xx as is, and a final
// error response, which ends the call.
func (c *call) Respond(ctx context.Context, code int, reason string) error {
	switch {
	case code == 180:
		return c.RingReady(ctx, false)
	case code == 183:
		return c.PreAnswer(ctx)
	case code >= 200 && code < 300:
		return c.Answer(ctx)
	case code > 100 && code < 200:
		c.mu.Lock()
		if c.state != stateEarly {
			c.mu.Unlock()
			return errors.New("sip: the call is past ringing")
		}
		res := c.response(code, reason, nil)
		c.mu.Unlock()
		return c.provisional(res)
	case code >= 300 && code <= 699:
		return c.reject(code, reason, nil)
	}
	return fmt.Errorf("sip: bad response code %d", code)
}

// Redirect sends 302 Moved Temporarily with contact. Transferring an
// answered call (REFER) is not supported yet.
func (c *call) Redirect(ctx context.Context, contact string) error {
	c.mu.Lock()
	state := c.state
	c.mu.Unlock()
	if state != stateEarly {
		return errors.New("sip: redirecting an answered call (REFER) is not supported yet")
	}
	contact = strings.TrimSpace(contact)
	if contact == "" || strings.ContainsAny(contact, "\r\n") {
		return fmt.Errorf("sip: bad redirect contact %q", contact)
	}
	if !strings.Contains(contact, "<") {
		if !strings.Contains(contact, ":") {
			contact = "sip:" + contact
		}
		contact = "<" + contact + ">"
	}
	return c.reject(302, "", sip.NewHeader("Contact", contact))
}

// reject sends a final error response (once) and ends the session with
// the cause the code maps to.
func (c *call) reject(code int, reason string, hdr sip.Header) error {
	c.mu.Lock()
	if c.state != stateEarly {
		c.mu.Unlock()
		return errors.New("sip: a final response was already sent")
	}
	c.state = stateEnded
	res := c.response(code, reason, nil)
	if hdr != nil {
		res.RemoveHeader("Contact")
		res.AppendHeader(hdr)
	}
	if h := reasonHeader(cause.FromSIP(code), c.sess.Vars().Get); h != nil {
		res.AppendHeader(h)
	}
	c.mu.Unlock()
	c.sess.Vars().Set("sip_hangup_disposition", "send_refuse")
	c.sess.Vars().Set("sip_term_status", strconv.Itoa(code))
	c.final <- res
	c.sess.Hangup(cause.FromSIP(code))
	return nil
}

// Hangup ends the leg (called once by the session): a final response for
// an unanswered call, BYE for an answered one, nothing when the far end
// already ended it. The RTP stream is closed.
func (c *call) Hangup(hc cause.Cause) {
	if c.hungup.Swap(true) {
		return
	}
	_ = c.stream.Close()
	c.mu.Lock()
	state, far := c.state, c.farEnded || c.byeGot.Load()
	if state == stateEarly && !far {
		c.state = stateEnded
	}
	c.mu.Unlock()
	vars := c.sess.Vars()
	switch {
	case far:
		c.forget()
	case state == stateEarly:
		code := hc.SIP()
		vars.Set("sip_hangup_disposition", "send_refuse")
		vars.Set("sip_term_status", strconv.Itoa(code))
		res := c.response(code, "", nil)
		if h := reasonHeader(hc, vars.Get); h != nil {
			res.AppendHeader(h)
		}
		select {
		case c.final <- res:
		default:
		}
	case state == stateAnswered:
		vars.Set("sip_hangup_disposition", "send_bye")
		vars.Set("sip_term_cause", strconv.Itoa(hc.Q850()))
		// The BYE waits for the ACK of our 200 or the end of the INVITE
		// transaction (see sendBye). The INVITE goroutine is there for
		// the ACK: while it runs — the usual case, the call hanging up
		// before its ACK arrives — it sends the BYE when it ends, and
		// a transaction ending first hands it to a goroutine at once;
		// otherwise a goroutine sends it now.
		c.mu.Lock()
		onRun := !c.runOver
		if onRun {
			c.byePending, c.byeCause = true, hc
		}
		c.mu.Unlock()
		if !onRun {
			c.goBye(hc)
		} else if !c.tx.OnTerminate(func(string, error) { c.byeOnTerminate() }) {
			c.byeOnTerminate() // the transaction has already ended
		}
		return
	default:
		// A final error response already went out (respond, redirect).
	}
	vars.Set("sip_term_cause", strconv.Itoa(hc.Q850()))
	c.p.e.calls.done()
}

// sendBye sends BYE with a Reason header and waits (bounded) for its
// answer.
//
// The BYE is built here rather than left to sipgo: its dialog headers go
// first and the Via is added before the headers sipgo does not know
// (Reason, User-Agent), so that sipgo's header lookups, which lower-case
// every name they pass, find what they look for before reaching them.
func (c *call) sendBye(hc cause.Cause) {
	defer c.forget()
	// sipgo waits for the ACK of our 200 (or the end of the INVITE
	// transaction) before sending a BYE, polling with a new timer every
	// T1; the INVITE goroutine ends at that ACK, so wait for one of the
	// two here instead.
	select {
	case <-c.done:
	case <-c.tx.Done():
	}
	// Meanwhile the far end may have ended the call itself (its BYE, or a
	// CANCEL that crossed our 200): nothing is left to end.
	c.mu.Lock()
	far := c.farEnded
	c.mu.Unlock()
	if far || c.byeGot.Load() {
		return
	}
	bye, err := c.newDialogRequest(sip.BYE, 0) // numbered by the dialog
	if err != nil {
		c.logger().Debug("sip: BYE not sent", "err", err)
		return
	}
	bye.SetBody(nil)
	if h := reasonHeader(hc, c.sess.Vars().Get); h != nil {
		bye.AppendHeader(h)
	}
	bye.AppendHeader(c.p.hdr.userAgent)
	// No deadline of our own: the BYE's client transaction ends by
	// itself (a final response, or Timer F after 64*T1).
	if err := c.dlg.WriteBye(context.Background(), bye); err != nil {
		c.logger().Debug("sip: BYE not acknowledged", "err", err)
	}
}

// markBye records the far end's BYE before sipgo answers it.
func (c *call) markBye() {
	c.byeGot.Store(true)
	c.mu.Lock()
	c.farEnded = true
	c.mu.Unlock()
}

// afterBye hangs the session up once the far end's BYE was answered, with
// the cause of its Reason header (NORMAL_CLEARING without one).
func (c *call) afterBye(req *sip.Request) {
	hc := cause.CNormalClearing
	if h := req.GetHeader("Reason"); h != nil {
		if rc, ok := causeFromReason(h.Value()); ok {
			hc = rc
		}
	}
	if !c.hungup.Load() {
		c.sess.Vars().Set("sip_hangup_disposition", "recv_bye")
	}
	c.sess.Hangup(hc)
	c.forget()
}

// reinvite answers an INVITE inside the dialog of an inbound call.
func (c *call) reinvite(req *sip.Request, tx sip.ServerTransaction) {
	p := c.p
	c.mu.Lock()
	state := c.state
	c.mu.Unlock()
	if state != stateAnswered || c.hungup.Load() {
		p.reply(req, tx, 481, "")
		return
	}
	if c.dlg.LoadState() < sip.DialogStateConfirmed && !c.waitAck(c.req.CSeq().SeqNo, sip.T2) {
		// Our 200 is still not acknowledged (the ACK may just be behind
		// this re-INVITE on the wire): a new offer now would confuse it.
		p.reply(req, tx, 491, "")
		return
	}
	if c.bypassed() {
		c.bypassReinvite(req, tx, c.dlg.ReadRequest)
		return
	}
	c.answerReinvite(req, tx, c.dlg.ReadRequest)
}
