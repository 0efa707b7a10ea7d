package sip

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-voip/switchboard/media"
	"github.com/switchboard-voip/switchboard/session"
	"github.com/switchboard-voip/switchboard/vars"
)

// Requests of our own inside an established dialog, for either kind of
// leg: re-INVITEs (a session refresh, a hold relayed from the other leg
// of a bridge) and the NOTIFYs that report a REFER's progress.

// dialogSide is what each kind of leg provides for the requests we send
// in its dialog.
type dialogSide interface {
	// newDialogRequest starts a request of ours in the dialog: the
	// remote target, the dialog's From, To and Call-ID, CSeq seq (0: the
	// next number, given when the request is sent), Max-Forwards, our
	// Contact and a Via. Headers sipgo does not know come after, from the
	// caller.
	newDialogRequest(method sip.RequestMethod, seq uint32) (*sip.Request, error)
	// sendDialogRequest starts the client transaction of a request from
	// newDialogRequest.
	sendDialogRequest(ctx context.Context, req *sip.Request) (sip.ClientTransaction, error)
	// sendAck acknowledges the 2xx to our re-INVITE with CSeq seq.
	sendAck(seq uint32) error
	// readRequest applies the dialog's CSeq rule to a request of the far end.
	readRequest(req *sip.Request, tx sip.ServerTransaction) error
	// established reports whether the dialog is answered and not over.
	established() bool
	// confirmed waits (a little) for the ACK of the 2xx that established
	// the dialog, which a request of the far end may overtake; it
	// reports whether the ACK is in.
	confirmed() bool
}

var (
	_ dialogSide            = (*call)(nil)
	_ dialogSide            = (*outCall)(nil)
	_ session.HoldSignaller = (*call)(nil)
	_ session.HoldSignaller = (*outCall)(nil)
)

// newDialogRequest implements dialogSide for an inbound call: the
// caller's Contact, our To tag in From, the caller's From in To. The
// dialog numbers the CSeq (and adds the route) when seq is 0.
func (c *call) newDialogRequest(method sip.RequestMethod, seq uint32) (*sip.Request, error) {
	inv := c.dlg.InviteRequest
	contact := inv.Contact()
	if contact == nil {
		return nil, errors.New("sip: the INVITE had no Contact")
	}
	req := sip.NewRequest(method, *contact.Address.Clone())
	req.SetTransport(inv.Transport())
	if res := c.dlg.InviteResponse; res != nil && res.To() != nil {
		from := res.To().AsFrom()
		req.AppendHeader(&from)
	}
	if f := inv.From(); f != nil {
		to := f.AsTo()
		req.AppendHeader(&to)
	}
	if id := inv.CallID(); id != nil {
		req.AppendHeader(id) // shared with the INVITE: never modified
	}
	req.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: method})
	maxFwd := sip.MaxForwardsHeader(70)
	req.AppendHeader(&maxFwd)
	req.AppendHeader(&c.contact)
	if err := sipgo.ClientRequestAddVia(c.p.client, req); err != nil {
		return nil, fmt.Errorf("sip: %s: %w", method, err)
	}
	if !hasHeader(inv, "Record-Route") {
		// Symmetric signalling: in-dialog requests go where the INVITE
		// came from (the caller's NAT binding, the TCP connection it
		// opened), not to a Contact it may not be reachable at.
		dst := c.req.Source()
		if ap, err := netip.ParseAddrPort(dst); err != nil || ap != c.src {
			dst = c.src.String()
		}
		req.SetDestination(dst)
	}
	return req, nil
}

// sendDialogRequest implements dialogSide: the dialog numbers the
// request and adds the route set.
func (c *call) sendDialogRequest(ctx context.Context, req *sip.Request) (sip.ClientTransaction, error) {
	return c.dlg.TransactionRequest(ctx, req)
}

// sendAck implements dialogSide.
func (c *call) sendAck(seq uint32) error {
	ack, err := c.newDialogRequest(sip.ACK, seq)
	if err != nil {
		return err
	}
	inv := c.dlg.InviteRequest
	for _, rr := range inv.GetHeaders("Record-Route") {
		ack.AppendHeader(sip.NewHeader("Route", rr.Value()))
	}
	if r := ack.Route(); r != nil {
		ack.SetDestination(r.Address.HostPort())
	}
	ack.AppendHeader(c.p.hdr.userAgent)
	ack.SetBody(nil)
	return c.p.client.WriteRequest(ack, keepRequest)
}

// readRequest implements dialogSide.
func (c *call) readRequest(req *sip.Request, tx sip.ServerTransaction) error {
	return c.dlg.ReadRequest(req, tx)
}

// established implements dialogSide.
func (c *call) established() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state == stateAnswered && !c.farEnded && !c.hungup.Load()
}

// confirmed implements dialogSide: a request read before the ACK of our
// 200 would make the dialog refuse that ACK (its CSeq is lower).
func (c *call) confirmed() bool {
	return c.dlg.LoadState() >= sip.DialogStateConfirmed || c.waitAck(c.req.CSeq().SeqNo, sip.T2)
}

// newDialogRequest implements dialogSide for an outbound leg.
func (o *outCall) newDialogRequest(method sip.RequestMethod, seq uint32) (*sip.Request, error) {
	o.mu.Lock()
	d := outDialog{to: o.to, target: o.target, routes: o.routes, dest: o.dest}
	o.mu.Unlock()
	if d.to == nil {
		return nil, errors.New("sip: the leg has no dialog")
	}
	if seq == 0 {
		seq = o.cseq.Add(1)
	}
	req := o.newRequest(method, d, seq)
	req.AppendHeader(&o.contact)
	return req, nil
}

// sendDialogRequest implements dialogSide.
func (o *outCall) sendDialogRequest(ctx context.Context, req *sip.Request) (sip.ClientTransaction, error) {
	return o.p.client.TransactionRequest(ctx, req, keepRequest)
}

// sendAck implements dialogSide.
func (o *outCall) sendAck(seq uint32) error {
	ack, err := o.newDialogRequest(sip.ACK, seq)
	if err != nil {
		return err
	}
	ack.AppendHeader(o.p.hdr.userAgent)
	ack.SetBody(nil)
	return o.p.client.WriteRequest(ack, keepRequest)
}

// confirmed implements dialogSide: we sent the ACK ourselves.
func (o *outCall) confirmed() bool { return true }

// established implements dialogSide.
func (o *outCall) established() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.state == outAnswered && !o.farEnded && !o.hungup.Load()
}

// doInDialog sends a request of ours in the dialog and waits for its
// final response (or ctx's end).
func (l *leg) doInDialog(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	tx, err := l.side.sendDialogRequest(ctx, req)
	if err != nil {
		return nil, err
	}
	defer tx.Terminate()
	return finalResponse(ctx, tx)
}

// errNoFinal is a client transaction that ended without a final response
// and without an error of its own.
var errNoFinal = errors.New("sip: the transaction ended without a response")

// finalResponse waits for tx's final response, passing provisional ones
// by. A transaction that ends first returns its error (errNoFinal when it
// has none); ctx ending first returns ctx's error.
func finalResponse(ctx context.Context, tx sip.ClientTransaction) (*sip.Response, error) {
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			return res, nil
		case <-tx.Done():
			if err := tx.Err(); err != nil {
				return nil, err
			}
			return nil, errNoFinal
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// reinviteOnce sends one re-INVITE of ours with body and the session
// timer, and waits for its final response; a 2xx is ACKed (again for
// each retransmission). errOfferPending when an offer is under way. ctx
// bounds the sending only: once out, the re-INVITE is seen through (Timer
// B bounds it) unless the call ends, so that no offer the far end
// accepts goes unacknowledged.
func (l *leg) reinviteOnce(ctx context.Context, body []byte, tp timerPrefs, interval int, weRefresh bool) (*sip.Response, error) {
	if !l.side.established() {
		return nil, errLegOver
	}
	if l.reinviting.Load() || l.offering.Swap(true) {
		return nil, errOfferPending
	}
	defer l.offering.Store(false)
	if l.reinviting.Load() {
		return nil, errOfferPending
	}
	req, err := l.side.newDialogRequest(sip.INVITE, 0)
	if err != nil {
		return nil, err
	}
	tp.requestHeaders(req, interval, weRefresh)
	req.AppendHeader(l.p.hdr.userAgent)
	req.AppendHeader(l.p.hdr.allow)
	req.AppendHeader(l.p.hdr.sdpType)
	req.SetBody(body)
	tx, err := l.side.sendDialogRequest(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("sip: re-INVITE: %w", err)
	}
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			if res.IsSuccess() {
				seq := req.CSeq().SeqNo
				tx.OnRetransmission(func(r *sip.Response) {
					if r.IsSuccess() {
						_ = l.side.sendAck(seq)
					}
				})
				if err := l.side.sendAck(seq); err != nil {
					l.logger().Debug("sip: ACK of our re-INVITE not sent", "err", err)
				}
			} else {
				tx.Terminate()
			}
			return res, nil
		case <-tx.Done():
			if err := tx.Err(); err != nil {
				return nil, fmt.Errorf("sip: re-INVITE: %w", err)
			}
			return nil, errors.New("sip: re-INVITE: no final response")
		case <-l.ended():
			tx.Terminate()
			return nil, errLegOver
		}
	}
}

// takeAnswer applies the far end's SDP answer to an offer of ours in a
// re-INVITE.
func (l *leg) takeAnswer(body []byte) error {
	r, err := parseSDP(body)
	if err != nil {
		return err
	}
	l.mu.Lock()
	offered := []media.Codec{l.params.codec}
	l.mu.Unlock()
	p, err := answerFromOffer(r, offered, l.p.cfg.DTMFType == dtmfRFC2833)
	if err != nil {
		return err
	}
	l.mu.Lock()
	old := l.params
	l.params, l.haveMedia = p, true
	l.hold = p.hold
	if err = l.applyRemote(); err != nil {
		l.params = old
	}
	l.mu.Unlock()
	if err != nil {
		return err
	}
	if !vars.HasReference(string(body)) {
		l.vars.Set("switch_r_sdp", string(body))
	}
	l.updateVars()
	l.startMediaTimeout()
	return nil
}

// SignalHold tells the far end that the call is on hold (a re-INVITE
// offering our media a=sendonly) or no longer (a=sendrecv): the hold of
// the other leg of a bridge, relayed (session.HoldSignaller).
func (l *leg) SignalHold(ctx context.Context, hold bool) error {
	dir := dirSendRecv
	if hold {
		dir = dirSendOnly
	}
	l.mu.Lock()
	if !l.haveMedia {
		l.mu.Unlock()
		return errors.New("sip: no media negotiated yet")
	}
	lm := localMedia{
		addr:   netip.AddrPortFrom(l.mediaIP(), l.stream.LocalAddr().Port()),
		codecs: []media.Codec{l.params.codec},
		tePT:   l.params.tePT,
		dir:    dir,
	}
	body, err := buildSDP(&l.origin, lm, nil, 0)
	if err == nil {
		l.sentSDP = body
	}
	l.mu.Unlock()
	if err != nil {
		return fmt.Errorf("sip: build SDP: %w", err)
	}
	iv, weRefresh := l.st.current()
	res, err := l.offer(ctx, body, iv, weRefresh)
	if err != nil {
		return err
	}
	if !res.IsSuccess() {
		return fmt.Errorf("sip: re-INVITE answered %d %s", res.StatusCode, res.Reason)
	}
	return nil
}

// syncHold brings the session's view of a hold by the far end in line
// with the leg's (session.Session.FarEndHold and its release). It runs
// on its own goroutine after each re-INVITE that changed the hold; each
// run applies the leg's current state, so their order does not matter.
func (l *leg) syncHold() {
	defer l.recoverPanic()
	l.holdMu.Lock()
	defer l.holdMu.Unlock()
	s := l.session()
	if s == nil {
		return
	}
	l.mu.Lock()
	held := l.hold
	l.mu.Unlock()
	switch {
	case held && l.holdRelease == nil && !l.hungup.Load():
		l.holdRelease = s.FarEndHold(l.p.cfg.HoldMusic)
	case !held && l.holdRelease != nil:
		release := l.holdRelease
		l.holdRelease = nil
		release()
	}
}
