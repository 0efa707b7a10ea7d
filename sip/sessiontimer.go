package sip

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/media"
)

// Session timers (RFC 4028), as FreeSWITCH has them from sofia-sip's nua:
//
//   - An INVITE (or re-INVITE) asking for a Session-Expires below our
//     Min-SE gets 422 with our Min-SE, when it says it supports timers
//     (or when the profile sets minimum-session-expires).
//   - The interval is the far end's Session-Expires, or our
//     session-timeout (the sip_session_timeout channel variable
//     overrides it) when the far end asks for none; never above our
//     session-timeout when that is set, never below either Min-SE.
//   - Who refreshes: the one the refresher parameter names; without one,
//     the UAC when it supports timers, else us. A 2xx names the refresher
//     in Session-Expires and, when it is the UAC, carries Require: timer.
//   - The refresher re-INVITEs (with the SDP it sent last, so the version
//     does not move) at half the interval; the other side sends BYE at
//     the interval less min(32 s, a tenth of it) when no refresh came
//     (sofia-sip's 9/10 where RFC 4028 suggests 2/3), with Reason
//     SIP;cause=408;text="Session timeout"; the channel hangs up with
//     NORMAL_CLEARING, as FreeSWITCH's does when the BYE is answered.
//   - Any re-INVITE that succeeds, either way, starts the interval again.
//   - Outbound legs ask for session-timeout (we refresh, refresher=uac),
//     follow what the 2xx answers, and retry once with the Min-SE of a
//     422.
//
// The intervals are seconds on the wire; Timers.SessionUnit is the real
// length of one (tests shorten it).

// Min-SE defaults and limits, seconds.
const (
	defaultMinSE = 120 // sofia-sip's NUTAG_MIN_SE default
	minMinSE     = 90  // RFC 4028 §4: Min-SE is never below 90
)

// sessionTimeoutReason is the Reason header of the BYE sent when the far
// end did not refresh the session (sofia-sip's).
const sessionTimeoutReason = `SIP;cause=408;text="Session timeout"`

// timerHeaders is what a request or response says about session timers.
type timerHeaders struct {
	expires   int    // Session-Expires delta-seconds; 0 without one
	refresher string // "uac", "uas" or ""
	minSE     int    // Min-SE; 0 without one
	supported bool   // Supported: timer
	required  bool   // Require: timer
	bad       bool   // a Session-Expires or Min-SE that does not parse
}

// readTimerHeaders reads the session-timer headers of m (full or compact
// names). It allocates nothing for a message without them.
func readTimerHeaders(m interface{ Headers() []sip.Header }) timerHeaders {
	var th timerHeaders
	for _, h := range m.Headers() {
		switch n := h.Name(); {
		case asciiEqualFold(n, "Session-Expires"), asciiEqualFold(n, "x"):
			v, params, _ := strings.Cut(h.Value(), ";")
			d, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || d < 0 {
				th.bad = true
				continue
			}
			th.expires = d
			for _, p := range strings.Split(params, ";") {
				k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(strings.TrimSpace(k), "refresher") {
					th.refresher = strings.ToLower(strings.TrimSpace(val))
				}
			}
		case asciiEqualFold(n, "Min-SE"):
			v, _, _ := strings.Cut(h.Value(), ";")
			d, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || d < 0 {
				th.bad = true
				continue
			}
			th.minSE = d
		case asciiEqualFold(n, "Supported"), asciiEqualFold(n, "k"):
			th.supported = th.supported || hasOptionTag(h.Value(), "timer")
		case asciiEqualFold(n, "Require"):
			th.required = th.required || hasOptionTag(h.Value(), "timer")
		}
	}
	return th
}

// hasOptionTag reports whether a comma-separated list of option tags
// holds tag.
func hasOptionTag(list, tag string) bool {
	for list != "" {
		var item string
		item, list, _ = strings.Cut(list, ",")
		if strings.EqualFold(strings.TrimSpace(item), tag) {
			return true
		}
	}
	return false
}

// timerPrefs is our side of a negotiation.
type timerPrefs struct {
	enabled bool
	expires int // the interval we ask for; 0: none of our own
	minSE   int
}

// timerPrefs returns the leg's preferences: the profile's, with
// sip_session_timeout from the channel.
func (l *leg) timerPrefs() timerPrefs {
	cfg := l.p.cfg
	tp := timerPrefs{enabled: !cfg.NoTimer, expires: cfg.SessionTimeout, minSE: cfg.MinSE}
	if tp.minSE < minMinSE {
		tp.minSE = minMinSE
	}
	if v, ok := l.get("sip_session_timeout"); ok {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
			tp.expires = n
		}
	}
	if tp.expires != 0 && tp.expires < tp.minSE {
		tp.expires = tp.minSE
	}
	return tp
}

// timerDeal is a negotiated session timer.
type timerDeal struct {
	interval     int  // seconds; 0: no session timer
	weRefresh    bool // we refresh; otherwise the far end must
	uacRefreshes bool // the refresher is the transaction's UAC
}

// tooBrief returns the Min-SE to answer 422 with when the request asks
// for an interval below ours, or 0.
func (tp timerPrefs) tooBrief(th timerHeaders, minSESet bool) int {
	if !tp.enabled || th.expires == 0 || th.expires >= tp.minSE {
		return 0
	}
	if th.supported || minSESet {
		return tp.minSE
	}
	return 0
}

// sessionTooBrief returns the Min-SE to answer a new INVITE with (422)
// when the Session-Expires it asks for is below ours, else 0. Checked
// before anything else, as FreeSWITCH does.
func (p *profile) sessionTooBrief(req *sip.Request) int {
	th := readTimerHeaders(req)
	if th.expires == 0 {
		return 0
	}
	tp := timerPrefs{enabled: !p.cfg.NoTimer, minSE: max(p.cfg.MinSE, minMinSE)}
	return tp.tooBrief(th, p.cfg.MinSESet)
}

// negotiateUAS settles the session timer of a request we answer
// (sofia-sip's session_timer_negotiate as UAS).
func (tp timerPrefs) negotiateUAS(th timerHeaders) timerDeal {
	if !tp.enabled {
		return timerDeal{}
	}
	var d timerDeal
	switch {
	case !th.supported && !th.required:
		d.weRefresh = true
	case th.refresher == "uac":
		d.weRefresh = false
	case th.refresher == "uas":
		d.weRefresh = true
	case th.required:
		d.weRefresh = true
	default:
		d.weRefresh = false // the UAC refreshes
	}
	d.interval = clampInterval(th.expires, tp, th.minSE)
	d.uacRefreshes = !d.weRefresh
	if d.interval == 0 {
		return timerDeal{}
	}
	return d
}

// negotiateUAC settles the session timer from the 2xx to a request of
// ours (sofia-sip's session_timer_negotiate as UAC).
func (tp timerPrefs) negotiateUAC(th timerHeaders, asked int) timerDeal {
	if !tp.enabled {
		return timerDeal{}
	}
	var d timerDeal
	switch {
	case !th.supported && !th.required && th.expires == 0:
		d.weRefresh = true
	case th.refresher == "uas":
		d.weRefresh = false
	default:
		d.weRefresh = true
	}
	expires := th.expires
	if expires == 0 {
		expires = asked
	}
	d.interval = clampInterval(expires, tp, th.minSE)
	d.uacRefreshes = d.weRefresh
	if d.interval == 0 {
		return timerDeal{}
	}
	return d
}

// clampInterval is the interval for a far end asking for expires: our
// own when it asks for none, never above our own, never below either
// Min-SE.
func clampInterval(expires int, tp timerPrefs, theirMinSE int) int {
	iv := expires
	if iv == 0 {
		iv = tp.expires
	}
	if tp.expires != 0 && iv > tp.expires {
		iv = tp.expires
	}
	if iv != 0 {
		iv = max(iv, tp.minSE, theirMinSE)
	}
	return iv
}

// responseHeaders adds the session timer of a 2xx we send: Session-Expires
// with the refresher, Require: timer when the UAC refreshes.
func (d timerDeal) responseHeaders(res *sip.Response) {
	if d.interval == 0 {
		return
	}
	who := "uas"
	if d.uacRefreshes {
		who = "uac"
	}
	res.AppendHeader(sip.NewHeader("Session-Expires", strconv.Itoa(d.interval)+";refresher="+who))
	if d.uacRefreshes {
		res.AppendHeader(sip.NewHeader("Require", "timer"))
	}
	res.AppendHeader(sip.NewHeader("Supported", "timer"))
}

// requestHeaders adds the session timer of a request of ours: an
// interval (0: none) we refresh (refresher=uac) or they do
// (refresher=uas), our Min-SE, Supported: timer.
func (tp timerPrefs) requestHeaders(req *sip.Request, interval int, weRefresh bool) {
	if !tp.enabled {
		return
	}
	req.AppendHeader(sip.NewHeader("Supported", "timer"))
	if interval == 0 {
		return
	}
	who := "uac"
	if !weRefresh {
		who = "uas"
	}
	req.AppendHeader(sip.NewHeader("Session-Expires", strconv.Itoa(interval)+";refresher="+who))
	req.AppendHeader(sip.NewHeader("Min-SE", strconv.Itoa(tp.minSE)))
}

// sessionTimer is a leg's running session timer.
type sessionTimer struct {
	mu        sync.Mutex
	interval  int
	weRefresh bool
	timer     *time.Timer
	gen       uint64 // bumped at every arm and stop: older callbacks do nothing
	stopped   bool
}

// current returns the running interval and whether we refresh.
func (st *sessionTimer) current() (int, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.interval, st.weRefresh
}

// unit is the real length of one second of the session intervals.
func (l *leg) unit() time.Duration {
	if u := l.p.e.cfg.Timers.SessionUnit; u > 0 {
		return u
	}
	return time.Second
}

// armTimer (re)starts the leg's session timer per d; a zero deal stops it.
func (l *leg) armTimer(d timerDeal) {
	st := &l.st
	st.mu.Lock()
	defer st.mu.Unlock()
	st.gen++
	if st.timer != nil {
		st.timer.Stop()
		st.timer = nil
	}
	st.interval, st.weRefresh = d.interval, d.weRefresh
	if st.stopped || d.interval == 0 {
		return
	}
	gen := st.gen
	u := l.unit()
	if d.weRefresh {
		st.timer = time.AfterFunc(time.Duration(d.interval)*u/2, func() {
			defer l.recoverPanic()
			l.refreshSession(gen)
		})
		return
	}
	left := d.interval - min(32, d.interval/10)
	st.timer = time.AfterFunc(time.Duration(left)*u, func() {
		defer l.recoverPanic()
		l.sessionExpired(gen)
	})
}

// stopTimer stops the session timer for good (the leg is over).
func (l *leg) stopTimer() {
	st := &l.st
	st.mu.Lock()
	defer st.mu.Unlock()
	st.stopped = true
	st.gen++
	if st.timer != nil {
		st.timer.Stop()
		st.timer = nil
	}
}

// timerCurrent reports whether gen is still the running arm.
func (l *leg) timerCurrent(gen uint64) bool {
	l.st.mu.Lock()
	defer l.st.mu.Unlock()
	return l.st.gen == gen && !l.st.stopped
}

// sessionExpired ends a call whose far end did not refresh in time.
func (l *leg) sessionExpired(gen uint64) {
	if !l.timerCurrent(gen) || l.hungup.Load() {
		return
	}
	iv, _ := l.st.current()
	l.logger().Info("sip: session timer expired: no refresh from the far end; hanging up", "session_expires", iv)
	l.vars.Set("sip_reason", sessionTimeoutReason)
	l.hangupSession(cause.CNormalClearing)
}

// refreshSession sends the refresh re-INVITE we owe the far end.
func (l *leg) refreshSession(gen uint64) {
	if !l.timerCurrent(gen) || l.hungup.Load() {
		return
	}
	iv, _ := l.st.current()
	body, err := l.refreshSDP()
	if err != nil {
		l.logger().Warn("sip: session refresh: no SDP to offer", "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 64*sip.T1)
	defer cancel()
	res, err := l.offer(ctx, body, iv, true)
	switch {
	case err != nil && errors.Is(err, errLegOver):
		return
	case err != nil && errors.Is(err, errOfferPending):
		// Another offer (a relayed hold, a bypassed re-INVITE) is in
		// flight: it refreshes the session too once answered; try
		// again at the next half.
		if l.timerCurrent(gen) {
			l.armTimer(timerDeal{interval: iv, weRefresh: true, uacRefreshes: true})
		}
		return
	case err != nil:
		// RFC 4028 §10: a refresh that times out ends the session.
		l.logger().Info("sip: session refresh failed; hanging up", "err", err)
		l.hangupSession(cause.CRecoveryOnTimerExpire)
		return
	case res.StatusCode == 408 || res.StatusCode == 481:
		l.logger().Info("sip: session refresh refused; hanging up", "status", res.StatusCode)
		l.hangupSession(cause.FromSIP(res.StatusCode))
		return
	case !res.IsSuccess():
		// The session goes on as it was; try again at the next half.
		l.logger().Info("sip: session refresh refused", "status", res.StatusCode)
		if l.timerCurrent(gen) {
			l.armTimer(timerDeal{interval: iv, weRefresh: true, uacRefreshes: true})
		}
	}
}

// refreshSDP is the SDP of a session refresh: the one we sent last, so
// that its version does not move, or a new offer of the current media.
func (l *leg) refreshSDP() ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sentSDP != nil {
		return l.sentSDP, nil
	}
	if !l.haveMedia {
		return nil, errors.New("sip: no media negotiated")
	}
	lm := localMedia{
		addr:   netip.AddrPortFrom(l.mediaIP(), l.stream.LocalAddr().Port()),
		codecs: []media.Codec{l.params.codec},
		tePT:   l.params.tePT,
		dir:    dirSendRecv,
	}
	body, err := buildSDP(&l.origin, lm, nil, 0)
	if err != nil {
		return nil, err
	}
	l.sentSDP = body
	return body, nil
}

// errLegOver is returned for a request the leg can no longer send.
var errLegOver = errors.New("sip: the call is over")

// errOfferPending is returned when an offer of ours or of the far end is
// under way (RFC 3261 §14).
var errOfferPending = errors.New("sip: another offer is under way")

// offer sends a re-INVITE of ours with body (our SDP offer) and the
// session timer (interval, we refresh when weRefresh), ACKs a 2xx, applies
// the SDP answer and restarts the session timer from it. 491 (glare) is
// retried after a random pause, 422 once with the far end's Min-SE. It
// returns the final response.
func (l *leg) offer(ctx context.Context, body []byte, interval int, weRefresh bool) (*sip.Response, error) {
	tp := l.timerPrefs()
	for try := 0; ; try++ {
		res, err := l.reinviteOnce(ctx, body, tp, interval, weRefresh)
		if errors.Is(err, errOfferPending) && try < 3 {
			// The far end's own re-INVITE is being answered: ours waits.
			if !sleepCtx(ctx, l.ended(), time.Duration(100+rand.IntN(400))*time.Millisecond) {
				return nil, errLegOver
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		switch {
		case res.StatusCode == 491 && try < 3:
			// RFC 3261 §14.1: try again after a random 2.1-4 s.
			if !sleepCtx(ctx, l.ended(), time.Duration(2100+rand.IntN(1900))*time.Millisecond) {
				return nil, errLegOver
			}
			continue
		case res.StatusCode == 422 && try < 3:
			th := readTimerHeaders(res)
			if th.minSE > interval && interval != 0 {
				interval = th.minSE
				continue
			}
		case res.IsSuccess():
			if len(res.Body()) > 0 && isSDPResponse(res) {
				if err := l.takeAnswer(res.Body()); err != nil {
					l.logger().Info("sip: the answer to our re-INVITE is unusable", "err", err)
				}
			}
			l.armTimer(tp.negotiateUAC(readTimerHeaders(res), interval))
		}
		return res, nil
	}
}

// retryWithMinSE answers a 422 to the INVITE: the same INVITE asking for
// the far end's Min-SE, once (sofia-sip's session_timer_check_restart).
// It reports whether the new INVITE went out.
func (o *outCall) retryWithMinSE(r *runState, res *sip.Response) bool {
	r.seTried = true
	th := readTimerHeaders(res)
	tp := o.timerPrefs()
	if !tp.enabled || th.minSE <= readTimerHeaders(o.invite).expires {
		return false
	}
	tp.minSE = max(tp.minSE, th.minSE)
	return o.resendInvite(r, "with a longer Session-Expires", func(inv *sip.Request) {
		inv.RemoveHeader("Supported")
		inv.RemoveHeader("Session-Expires")
		inv.RemoveHeader("Min-SE")
		tp.requestHeaders(inv, tp.minSE, true)
	})
}

// sleepCtx waits d; false when ctx or over ended first.
func sleepCtx(ctx context.Context, over <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-over:
	}
	return false
}
