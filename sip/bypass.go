package sip

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/session"
	"github.com/switchboard-voip/switchboard/vars"
)

// bypass_media (FreeSWITCH's CF_PROXY_MODE) for sofia legs; the session
// side is session/bypass.go.
//
//   - An outbound leg dialed with DialRequest.SDP opens no RTP stream:
//     its INVITE carries the caller's offer byte for byte (as sofia sends
//     the partner's SDP, o= line included), and the SDP of its 183 or 200
//     is kept for the caller (session.SDPAnswerer) instead of being
//     negotiated.
//   - An inbound call answers with the B-leg's SDP (session.ProxyAnswerer)
//     and closes its RTP stream: Media is nil from then on, so media
//     applications fail with "no media on this channel".
//   - A re-INVITE with SDP from either far end is relayed to the other
//     leg as a re-INVITE of ours; that leg's answer (or its refusal)
//     goes back. When there is no other leg, or the relay fails, the
//     re-INVITE is answered with the SDP we sent last, so the call goes
//     on as it was. A re-INVITE without SDP gets the SDP we sent last as
//     our offer; the answer in its ACK is not relayed.
//   - A session refresh repeats the SDP we sent last, as for any leg.

var (
	_ session.SDPAnswerer   = (*outCall)(nil)
	_ session.ProxyAnswerer = (*call)(nil)
)

// relayTimeout bounds the sending of a relayed re-INVITE (Timer B bounds
// the rest).
const relayTimeout = 32 * time.Second

// closeStream closes the leg's RTP stream, if it has one.
func (l *leg) closeStream() {
	if l.stream != nil {
		_ = l.stream.Close()
	}
}

// inviteSDP is the body of an outbound leg's INVITE: the caller's offer
// as it is under bypass_media, else our own offer.
func (o *outCall) inviteSDP(req session.DialRequest) ([]byte, error) {
	if o.bypass {
		return bytes.Clone(req.SDP), nil
	}
	lm := localMedia{addr: netip.AddrPortFrom(o.mediaIP(), o.stream.LocalAddr().Port()), codecs: o.offered, tePT: -1, dir: dirSendRecv}
	if o.p.cfg.DTMFType == dtmfRFC2833 {
		lm.tePT = o.p.cfg.TEPayload
	}
	body, err := buildSDP(&o.origin, lm, nil, 0)
	if err != nil {
		return nil, dialError(cause.CDestinationOutOfOrder, "build SDP: %v", err)
	}
	return body, nil
}

// takeBypassAnswer keeps the far end's SDP (a 1xx's or the 2xx's) of a
// leg dialed with the caller's offer.
func (o *outCall) takeBypassAnswer(body []byte) {
	o.mu.Lock()
	o.farSDP = bytes.Clone(body)
	o.mu.Unlock()
	if !vars.HasReference(string(body)) {
		o.vars.Set("switch_r_sdp", string(body))
	}
}

// RemoteSDP returns the far end's SDP of a leg dialed with the caller's
// offer (session.SDPAnswerer); nil for other legs and before any SDP
// came back.
func (o *outCall) RemoteSDP() []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.bypass {
		return nil
	}
	return bytes.Clone(o.farSDP)
}

// OfferSDP returns the INVITE's SDP offer (session.ProxyAnswerer); nil
// for a late offer.
func (c *call) OfferSDP() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.offer == nil {
		return nil
	}
	return bytes.Clone(c.req.Body())
}

// PreAnswerSDP sends 183 with sdp and gives up our media
// (session.ProxyAnswerer).
func (c *call) PreAnswerSDP(ctx context.Context, sdp []byte) error {
	if err := c.useSDP(sdp); err != nil {
		return err
	}
	return c.PreAnswer(ctx)
}

// AnswerSDP sends 200 with sdp and gives up our media
// (session.ProxyAnswerer).
func (c *call) AnswerSDP(ctx context.Context, sdp []byte) error {
	if err := c.useSDP(sdp); err != nil {
		return err
	}
	return c.Answer(ctx)
}

// useSDP makes sdp the body of our next 183 or 200 and, the first time,
// closes the call's RTP stream.
func (c *call) useSDP(sdp []byte) error {
	if len(sdp) == 0 {
		return errors.New("sip: no SDP to answer with")
	}
	c.mu.Lock()
	if c.state != stateEarly {
		c.mu.Unlock()
		return errors.New("sip: the call is answered or over")
	}
	first := !c.bypass
	if first {
		c.farSDP = bytes.Clone(c.req.Body())
	}
	// No negotiated media any more: an answer to a session refresh (our
	// re-INVITE repeating sentSDP) then matches no codec and changes
	// nothing.
	c.bypass, c.haveMedia, c.ourOffer = true, false, false
	c.params = audioParams{tePT: -1}
	body := bytes.Clone(sdp)
	c.localSDP, c.sentSDP = body, body
	c.mu.Unlock()
	if first {
		c.closeStream()
		c.logger().Debug("sip: bypass_media: the call's media goes around the switch")
	}
	return nil
}

// bypassed reports whether the leg carries another leg's SDP.
func (l *leg) bypassed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bypass
}

// bypassPeer returns the SIP leg bridged to l when it carries l's SDP.
func (l *leg) bypassPeer() *leg {
	s := l.session()
	if s == nil {
		return nil
	}
	p := s.Partner()
	if p == nil {
		return nil
	}
	var peer *leg
	switch e := p.Endpoint().(type) {
	case *call:
		peer = &e.leg
	case *outCall:
		peer = &e.leg
	default:
		return nil
	}
	if !peer.bypassed() || !peer.side.established() {
		return nil
	}
	return peer
}

// relayOffer sends offer (the other leg's new SDP) in a re-INVITE of
// ours and returns the final response; a 2xx's SDP becomes the far end's
// SDP.
func (l *leg) relayOffer(offer []byte) (*sip.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), relayTimeout)
	defer cancel()
	tp := l.timerPrefs()
	iv, weRefresh := l.st.current()
	res, err := l.reinviteOnce(ctx, offer, tp, iv, weRefresh)
	if err != nil {
		return nil, err
	}
	if res.IsSuccess() {
		answer := res.Body()
		if len(answer) == 0 || !isSDPResponse(res) {
			answer = nil
		}
		l.mu.Lock()
		l.sentSDP = bytes.Clone(offer)
		if answer != nil {
			l.farSDP = bytes.Clone(answer)
		}
		l.mu.Unlock()
		if answer != nil && !vars.HasReference(string(answer)) {
			l.vars.Set("switch_r_sdp", string(answer))
		}
		l.armTimer(tp.negotiateUAC(readTimerHeaders(res), iv))
	}
	return res, nil
}

// bypassReinvite answers a re-INVITE of a bypassed leg's far end: its
// SDP is relayed to the other leg, whose answer goes back (see the top
// of the file). readRequest applies the dialog's CSeq rules.
func (l *leg) bypassReinvite(req *sip.Request, tx sip.ServerTransaction, readRequest func(*sip.Request, sip.ServerTransaction) error) {
	p := l.p
	tp, th, ok := l.admitReinvite(req, tx, readRequest)
	if !ok {
		return
	}
	refuse := func(code int, reason string, hdrs ...sip.Header) {
		l.refuseReinvite(req, tx, code, reason, hdrs...)
	}
	offer := req.Body()
	l.mu.Lock()
	body := l.sentSDP
	l.mu.Unlock()
	if len(offer) > 0 {
		if peer := l.bypassPeer(); peer != nil {
			res, err := peer.relayOffer(offer)
			switch {
			case err != nil:
				l.logger().Info("sip: bypass_media: re-INVITE not relayed; answering with the last SDP", "err", err)
			case !res.IsSuccess():
				refuse(res.StatusCode, res.Reason)
				return
			case len(res.Body()) > 0 && isSDPResponse(res):
				body = res.Body()
			}
		}
		l.mu.Lock()
		l.farSDP = bytes.Clone(offer)
		l.sentSDP = bytes.Clone(body)
		l.mu.Unlock()
		if !vars.HasReference(string(offer)) {
			l.vars.Set("switch_r_sdp", string(offer))
		}
	}
	if len(body) == 0 {
		refuse(488, "")
		return
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", body)
	res.AppendHeader(&l.contact)
	res.AppendHeader(p.hdr.sdpType)
	res.AppendHeader(p.hdr.allow)
	deal := tp.negotiateUAS(th)
	deal.responseHeaders(res)
	p.decorate(res)
	l.armTimer(deal)
	l.retransmit2xx(tx, res)
}
