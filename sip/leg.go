package sip

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/media"
	"github.com/switchboard-voip/switchboard/session"
	"github.com/switchboard-voip/switchboard/vars"
)

// leg is what the two kinds of call legs, inbound (call) and outbound
// (outCall), share: the RTP stream and the offer/answer state of the
// dialog, the tracking of ACKs to the 2xx we send for re-INVITEs, and the
// answering of those re-INVITEs.
type leg struct {
	p      *profile
	callID string
	stream *media.Stream
	vars   *vars.Store    // the channel variables (the session's store)
	src    netip.AddrPort // the far end's signalling address
	latch  bool           // NAT: latch the media on the first packet

	// sessp is the leg's session: set before anything can use it for an
	// inbound call, by Bind for an outbound one.
	sessp atomic.Pointer[session.Session]
	// pending is a hangup cause that arrived before the session was
	// bound (outbound legs); Bind applies it.
	pending atomic.Int32
	// over is closed when an outbound leg is over; nil for inbound calls,
	// whose session is always there to tell.
	over chan struct{}

	ackMu  sync.Mutex
	ackSeq uint32        // highest CSeq acknowledged
	ackCh  chan struct{} // closed and replaced at every ACK

	hungup     atomic.Bool // Hangup ran
	reinviting atomic.Bool // answering a re-INVITE of the far end
	offering   atomic.Bool // a re-INVITE of ours is under way (indialog.go)

	// side sends our own requests in the dialog (indialog.go): the call
	// or outCall the leg is part of.
	side dialogSide
	st   sessionTimer // RFC 4028 (sessiontimer.go)

	holdMu      sync.Mutex // serialises syncHold
	holdRelease func()     // ends the session's FarEndHold; nil when not held

	mu        sync.Mutex
	params    audioParams // negotiated (valid when haveMedia)
	haveMedia bool        // params hold a negotiated stream
	ourOffer  bool        // we offered and wait for the answer in the ACK
	origin    sdpOrigin
	sentSDP   []byte // the SDP we sent last (a session refresh repeats it)
	hold      bool
	contact   sip.ContactHeader
	// bypass_media (bypass.go): the leg carries another leg's SDP and has
	// no RTP of ours (an outbound leg then has no stream at all);
	// farSDP is the far end's last SDP, relayed to the other leg.
	bypass bool
	farSDP []byte
}

// logger is the leg's logger (made when there is something to log).
func (l *leg) logger() *slog.Logger { return l.p.log.With("call_id", l.callID) }

// session returns the leg's session, nil while an outbound leg is not
// bound yet.
func (l *leg) session() *session.Session { return l.sessp.Load() }

// hangupSession hangs the leg's session up with c, or keeps c for Bind
// when there is no session yet.
// recoverPanic, deferred at the top of a goroutine or timer callback of
// the leg, turns a panic there into the end of this call only: logged
// with its stack, the session hung up with CRASH.
func (l *leg) recoverPanic() {
	if r := recover(); r != nil {
		l.logger().Error("sip: leg goroutine panicked; ending this call", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		l.hangupSession(cause.CCrash)
	}
}

func (l *leg) hangupSession(c cause.Cause) {
	if s := l.session(); s != nil {
		s.Hangup(c)
		return
	}
	l.pending.CompareAndSwap(0, int32(c))
	if s := l.session(); s != nil { // bound meanwhile
		s.Hangup(c)
	}
}

// ended is done once the call is over.
func (l *leg) ended() <-chan struct{} {
	if s := l.session(); s != nil {
		return s.Context().Done()
	}
	return l.over
}

// get looks a variable up through the session (channel variables, caller
// profile, globals) or, before there is one, in the leg's variables.
func (l *leg) get(name string) (string, bool) {
	if s := l.session(); s != nil {
		return s.Get(name)
	}
	return l.vars.Get(name)
}

// mediaIP is the address we advertise in our SDP.
func (l *leg) mediaIP() netip.Addr {
	cfg := l.p.cfg
	if cfg.ExtRTPIP.IsValid() && l.p.outside(l.src.Addr()) {
		return cfg.ExtRTPIP
	}
	if !cfg.RTPIP.IsUnspecified() {
		return cfg.RTPIP
	}
	if l.stream == nil { // bypass_media: no stream of ours
		return localAddrFor(l.src.Addr())
	}
	if a := l.stream.LocalAddr().Addr(); a.IsValid() && !a.IsUnspecified() {
		return a
	}
	return localAddrFor(l.src.Addr())
}

// applyRemote hands the negotiated far end to the stream. Call with the
// parameters in l.params (l.mu held or not yet shared).
func (l *leg) applyRemote() error {
	if l.stream == nil { // bypass_media: no stream of ours
		return nil
	}
	p := l.params
	rp := media.RemoteParams{Addr: p.remote, Codec: p.codec}
	if p.tePT >= 0 {
		rp.DTMFPayloadType = uint8(p.tePT)
	}
	rp.Latch = shouldLatch(l.latch, p.remote.Addr(), l.src.Addr(), l.p.e.acl.Load())
	return l.stream.SetRemote(rp)
}

// setMediaVars records the negotiated media in channel variables.
func (l *leg) setMediaVars(vl *varList) {
	if !l.haveMedia || l.stream == nil {
		return
	}
	p := l.params
	rate := strconv.Itoa(p.codec.ClockRate)
	vl.set("read_codec", p.codec.Name)
	vl.set("write_codec", p.codec.Name)
	vl.set("read_rate", rate)
	vl.set("write_rate", rate)
	vl.set("rtp_use_codec_name", p.codec.Name)
	vl.set("rtp_use_codec_rate", rate)
	vl.set("rtp_use_codec_ptime", "20")
	vl.set("rtp_use_pt", strconv.Itoa(int(p.codec.PayloadType)))
	vl.set("remote_media_ip", p.remote.Addr().String())
	vl.set("remote_media_port", vl.itoa(int(p.remote.Port())))
	vl.set("local_media_ip", l.mediaIP().String())
	vl.set("local_media_port", vl.itoa(int(l.stream.LocalAddr().Port())))
	if p.tePT >= 0 {
		vl.set("rtp_2833_send_payload", strconv.Itoa(p.tePT))
		vl.set("rtp_2833_recv_payload", strconv.Itoa(p.tePT))
	}
	vl.set("dtmf_type", l.p.cfg.DTMFType)
}

// updateVars applies setMediaVars to the leg's variables.
func (l *leg) updateVars() {
	l.setMediaVars(&varList{st: l.vars})
}

// queueDTMF passes a received digit to the session.
func (l *leg) queueDTMF(d rune) {
	if s := l.session(); s != nil {
		s.QueueDTMF(d)
	}
}

// startMediaTimeout arms the RTP timeout: media_timeout (ms) from the
// channel, else the profile's rtp-timeout-sec; on hold the hold timeout.
func (l *leg) startMediaTimeout() {
	l.mu.Lock()
	hold, bypass := l.hold, l.bypass
	l.mu.Unlock()
	if bypass || l.stream == nil {
		return // bypass_media: no RTP of ours to time out
	}
	d := l.p.cfg.RTPTimeout
	varName := "media_timeout"
	if hold {
		d = l.p.cfg.RTPHoldTimeout
		varName = "media_hold_timeout"
	}
	if v, ok := l.get(varName); ok {
		if ms, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && ms >= 0 {
			d = time.Duration(ms) * time.Millisecond
		}
	}
	l.stream.SetMediaTimeout(d, func() {
		l.logger().Info("sip: media timeout", "after", d)
		l.hangupSession(cause.CMediaTimeout)
	})
}

// onAck handles the ACK of a 2xx we sent: the late-offer answer and
// re-INVITE retransmission control.
func (l *leg) onAck(req *sip.Request) {
	if body := req.Body(); len(body) > 0 {
		l.mu.Lock()
		waiting := l.ourOffer && !l.haveMedia
		l.mu.Unlock()
		if waiting {
			l.lateAnswer(body)
		}
	}
	l.ackMu.Lock()
	l.ackSeq = max(l.ackSeq, req.CSeq().SeqNo)
	close(l.ackCh)
	l.ackCh = make(chan struct{})
	l.ackMu.Unlock()
}

// waitAck waits up to d for the ACK of the 2xx to the INVITE with CSeq seq.
func (l *leg) waitAck(seq uint32, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		done, next := l.acked(seq)
		if done {
			return true
		}
		select {
		case <-next:
		case <-timer.C:
			return false
		case <-l.ended():
			return false
		}
	}
}

// acked reports whether the 2xx to the INVITE with CSeq seq was
// acknowledged, and returns a channel closed at the next ACK.
func (l *leg) acked(seq uint32) (bool, <-chan struct{}) {
	l.ackMu.Lock()
	defer l.ackMu.Unlock()
	return l.ackSeq >= seq, l.ackCh
}

// lateAnswer takes the far end's answer to our offer, from an ACK.
func (l *leg) lateAnswer(body []byte) {
	r, err := parseSDP(body)
	var p audioParams
	if err == nil {
		p, err = answerFromOffer(r, l.p.cfg.OutboundCodecs, l.p.cfg.DTMFType == dtmfRFC2833)
	}
	if err != nil {
		l.logger().Info("sip: the answer in the ACK is unusable; hanging up", "err", err)
		l.hangupSession(cause.CIncompatibleDestination)
		return
	}
	l.mu.Lock()
	l.params, l.haveMedia = p, true
	l.hold = p.hold
	err = l.applyRemote()
	l.mu.Unlock()
	if err != nil {
		l.logger().Warn("sip: media setup failed", "err", err)
		l.hangupSession(cause.CIncompatibleDestination)
		return
	}
	if !vars.HasReference(string(body)) {
		l.vars.Set("switch_r_sdp", string(body))
	}
	l.updateVars()
	l.startMediaTimeout()
}

// refuseReinvite answers the far end's re-INVITE with an error and ends
// the offer in progress first, not after the reply has left: the far end
// may send its next re-INVITE (after a 422, at once) as soon as it reads
// it, and must not find this one still under way.
func (l *leg) refuseReinvite(req *sip.Request, tx sip.ServerTransaction, code int, reason string, hdrs ...sip.Header) {
	l.reinviting.Store(false)
	l.p.reply(req, tx, code, reason, hdrs...)
}

// admitReinvite starts answering the far end's re-INVITE, for
// answerReinvite and bypassReinvite alike: it marks the offer in progress
// and refuses what neither takes — a second re-INVITE before our final
// response to the first (500 with Retry-After, RFC 3261 §14.2), a CSeq
// out of order, glare with a re-INVITE of ours (491), a session interval
// below our Min-SE (422), a body that is not SDP (415). ok false: the
// request was answered and nothing is in progress.
func (l *leg) admitReinvite(req *sip.Request, tx sip.ServerTransaction, readRequest func(*sip.Request, sip.ServerTransaction) error) (tp timerPrefs, th timerHeaders, ok bool) {
	if l.reinviting.Swap(true) {
		l.p.reply(req, tx, 500, "", sip.NewHeader("Retry-After", strconv.Itoa(1+rand.IntN(10))))
		return tp, th, false
	}
	if err := readRequest(req, tx); err != nil {
		l.refuseReinvite(req, tx, 500, "CSeq Out Of Order")
		return tp, th, false
	}
	if l.offering.Load() {
		l.refuseReinvite(req, tx, 491, "")
		return tp, th, false
	}
	tp, th = l.timerPrefs(), readTimerHeaders(req)
	if minSE := tp.tooBrief(th, l.p.cfg.MinSESet); minSE != 0 {
		l.refuseReinvite(req, tx, 422, "", sip.NewHeader("Min-SE", strconv.Itoa(minSE)))
		return tp, th, false
	}
	if len(req.Body()) > 0 {
		if ct := req.ContentType(); ct == nil || !isSDP(ct.Value()) {
			l.refuseReinvite(req, tx, 415, "", sip.NewHeader("Accept", "application/sdp"))
			return tp, th, false
		}
	}
	return tp, th, true
}

// answerReinvite answers an INVITE inside an established dialog whose
// state the leg kind has checked: a new offer (hold, unhold, a new
// address or codec) or none (we offer, they answer in the ACK).
// readRequest applies the dialog's CSeq rules to the request.
func (l *leg) answerReinvite(req *sip.Request, tx sip.ServerTransaction, readRequest func(*sip.Request, sip.ServerTransaction) error) {
	p := l.p
	tp, th, ok := l.admitReinvite(req, tx, readRequest)
	if !ok {
		return
	}
	refuse := func(code int, reason string, hdrs ...sip.Header) {
		l.refuseReinvite(req, tx, code, reason, hdrs...)
	}
	var offer *remoteSDP
	var params audioParams
	if len(req.Body()) > 0 {
		var err error
		offer, err = parseSDP(req.Body())
		if err == nil {
			params, err = negotiate(offer, p.negotiateOpts())
		}
		if err != nil {
			l.logger().Info("sip: re-INVITE offer refused; the call goes on as it was", "err", err)
			refuse(488, "")
			return
		}
	}
	l.mu.Lock()
	lm := localMedia{addr: netip.AddrPortFrom(l.mediaIP(), l.stream.LocalAddr().Port()), tePT: -1}
	var body []byte
	var err error
	wasHeld := l.hold
	if offer != nil {
		old := l.params
		l.params, l.haveMedia, l.ourOffer = params, true, false
		l.hold = params.hold
		if err = l.applyRemote(); err != nil {
			l.params = old
		}
		lm.codecs = []media.Codec{params.codec}
		lm.tePT = params.tePT
		lm.dir = answerDir(params.dir, params.remote.Addr().IsUnspecified())
		if err == nil {
			body, err = buildSDP(&l.origin, lm, offer, params.index)
		}
	} else {
		lm.codecs = p.cfg.OutboundCodecs
		if l.haveMedia {
			lm.codecs = []media.Codec{l.params.codec}
		}
		if p.cfg.DTMFType == dtmfRFC2833 {
			lm.tePT = p.cfg.TEPayload
		}
		lm.dir = dirSendRecv
		l.ourOffer, l.haveMedia = true, false
		body, err = buildSDP(&l.origin, lm, nil, 0)
	}
	if err == nil {
		l.sentSDP = body
	}
	holdChanged := wasHeld != l.hold
	l.mu.Unlock()
	if err != nil {
		l.logger().Warn("sip: re-INVITE media update failed", "err", err)
		refuse(488, "")
		return
	}
	if offer != nil {
		if !vars.HasReference(string(req.Body())) {
			l.vars.Set("switch_r_sdp", string(req.Body()))
		}
		l.updateVars()
		l.startMediaTimeout()
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", body)
	res.AppendHeader(&l.contact)
	res.AppendHeader(p.hdr.sdpType)
	res.AppendHeader(p.hdr.allow)
	// Every re-INVITE answered refreshes the session (RFC 4028 §9).
	deal := tp.negotiateUAS(th)
	deal.responseHeaders(res)
	p.decorate(res)
	l.armTimer(deal)
	if holdChanged {
		go l.syncHold()
	}
	l.retransmit2xx(tx, res)
}

// retransmit2xx sends a re-INVITE's 2xx and repeats it (T1 doubling up to
// T2) until the matching ACK arrives, the call ends, or 64*T1 passes.
func (l *leg) retransmit2xx(tx sip.ServerTransaction, res *sip.Response) {
	seq := res.CSeq().SeqNo
	// The offer/answer is done once the 200 leaves; the next re-INVITE may
	// come as soon as the far end reads it.
	l.reinviting.Store(false)
	if err := tx.Respond(res); err != nil {
		l.logger().Debug("sip: re-INVITE 200 not sent", "err", err)
		return
	}
	interval := sip.T1
	timer := time.NewTimer(interval)
	defer timer.Stop()
	deadline := time.NewTimer(64 * sip.T1)
	defer deadline.Stop()
	for {
		done, next := l.acked(seq)
		if done {
			return
		}
		select {
		case <-next:
		case <-timer.C:
			if err := tx.Respond(res); err != nil {
				return
			}
			interval = min(2*interval, sip.T2)
			timer.Reset(interval)
		case <-deadline.C:
			l.logger().Warn("sip: no ACK for the re-INVITE's 200")
			return
		case <-l.ended():
			return
		}
	}
}
