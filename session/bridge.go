package session

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/events"
	"github.com/switchboard-voip/switchboard/media"
)

// bridgeLink joins two bridged legs; done closes when either side leaves
// the bridge without hanging up (a transfer of the B-leg).
type bridgeLink struct {
	a, b *Session
	done chan struct{}
	once sync.Once
	// left is set by the B side when a transfer takes it out of the
	// bridge, before its goroutine takes the transfer flag: whoever ends
	// the bridge then knows not to hang it up.
	left atomic.Bool
}

func (l *bridgeLink) end() { l.once.Do(func() { close(l.done) }) }

// Bridge is the bridge application: it originates dial and connects the
// caller to the leg that answers, then applies FreeSWITCH's rules for
// what follows (spec §7.3 on failure, §7.4 after the bridge). It returns
// when the bridge is over; the caller's action list goes on unless the
// rules hung it up, parked or transferred it.
func (s *Session) Bridge(ctx context.Context, dial string) error {
	dial = strings.TrimSpace(dial)
	if dial == "" {
		return fmt.Errorf("bridge: no dial string")
	}
	early := &earlyBridge{a: s}
	res := s.m.Originate(ctx, dial, OriginateOptions{Caller: s, OnEarlyMedia: early.start})
	early.stop()
	if res.Leg == nil {
		s.logInfo(fmt.Sprintf("Originate Failed.  Cause: %s", res.Cause))
		s.handleCause(res.Cause)
		return nil
	}
	b := res.Leg
	if !s.Ready() {
		b.Hangup(s.HangupCause())
		return nil
	}
	if s.pendingStop() {
		// Transferred, parked or intercepted while the leg answered.
		b.Hangup(cause.COriginatorCancel)
		return nil
	}
	if sdp := bypassSDP(b); sdp != nil {
		// bypass_media (bypass.go): answer with the leg's SDP; the bridge
		// carries the signalling only.
		if err := s.proxyAnswer(sdp); err != nil {
			b.Hangup(cause.CNormalClearing)
			return fmt.Errorf("bridge: %w", err)
		}
		s.bridgeLegs(b, false)
		s.afterBridge(b)
		return nil
	}
	if err := s.Answer(); err != nil {
		b.Hangup(cause.CNormalClearing)
		return fmt.Errorf("bridge: answer: %w", err)
	}
	s.bridgeTo(b)
	s.afterBridge(b)
	return nil
}

// bridgeTo connects s and b (both answered) until either hangs up, s is
// transferred or parked, or b is taken out of the bridge. b is hung up
// afterwards unless it was transferred.
func (s *Session) bridgeTo(b *Session) { s.bridgeLegs(b, true) }

// bridgeLegs is bridgeTo; relay false bridges the signalling only (no
// media.Bridge), for bypass_media.
func (s *Session) bridgeLegs(b *Session, relay bool) {
	link := &bridgeLink{a: s, b: b, done: make(chan struct{})}
	s.mu.Lock()
	s.bridge = link
	s.mu.Unlock()
	b.mu.Lock()
	b.bridge = link
	b.mu.Unlock()
	for _, p := range [][2]*Session{{s, b}, {b, s}} {
		me, peer := p[0], p[1]
		me.vars.Set("bridge_to", peer.uuid)
		me.vars.Set("signal_bond", peer.uuid)
		me.vars.Set("bridge_uuid", peer.uuid)
		me.vars.Set("last_bridge_to", peer.uuid)
		me.vars.Set("bridge_channel", peer.Profile().ChanName)
		me.vars.Set("bridge_hangup_cause", "")
		me.setState(CSExchangeMedia)
	}
	s.vars.Set("last_sent_callee_id_name", b.Profile().CallerIDName)
	s.fire("CHANNEL_BRIDGE", func(e *events.Event) {
		e.Add("Bridge-A-Unique-ID", s.uuid)
		e.Add("Bridge-B-Unique-ID", b.uuid)
		e.Add("Other-Leg-Unique-ID", b.uuid)
	})
	s.logInfo(fmt.Sprintf("Bridge %s to %s", s.Profile().ChanName, b.Profile().ChanName))

	mctx, cancel := context.WithCancel(s.ctx)
	mdone := make(chan error, 1)
	if relay {
		go func() { mdone <- s.safely(func() error { return mediaBridge(mctx, s, b) }) }()
	} else {
		mdone = nil // bypass_media: nothing to relay, nothing ends on its own
	}

	s.ctl.mu.Lock()
	wake := s.ctl.wakeChan()
	s.ctl.mu.Unlock()
	stop, left := false, false
	for !stop {
		select {
		case <-s.ctx.Done():
			stop = true
		case <-b.ctx.Done():
			stop = true
		case <-link.done:
			// b left the bridge: it was transferred and routes again on
			// its own goroutine (which has taken its transfer flag).
			stop, left = true, true
		case err := <-mdone:
			if err != nil {
				s.log.Warn("bridge media", "err", err)
			}
			mdone = nil
			// The media ended on its own (a stream closed): the call
			// ends with it.
			stop = true
		case <-wake:
			stop = s.pendingStop()
		}
	}
	cancel()
	if mdone != nil {
		<-mdone
	}
	s.mu.Lock()
	s.bridge = nil
	s.mu.Unlock()
	b.mu.Lock()
	transferred := b.transfer || left || link.left.Load()
	b.bridge = nil
	b.mu.Unlock()
	link.end()
	s.dtmf.Flush()
	b.dtmf.Flush()
	s.fire("CHANNEL_UNBRIDGE", func(e *events.Event) {
		e.Add("Bridge-A-Unique-ID", s.uuid)
		e.Add("Bridge-B-Unique-ID", b.uuid)
		e.Add("Other-Leg-Unique-ID", b.uuid)
	})
	if b.Ready() && !transferred {
		c := cause.CNormalClearing
		if !s.Ready() {
			c = s.HangupCause()
		}
		b.Hangup(c)
	}
	if s.Ready() && !s.pendingStop() {
		s.setState(CSExecute)
	}
}

// afterBridge applies spec §7.4 once a bridge to b is over.
func (s *Session) afterBridge(b *Session) {
	bc := b.HangupCause()
	if bc != cause.CNone {
		s.vars.Set("bridge_hangup_cause", bc.String())
		s.vars.Set("last_bridge_hangup_cause", bc.String())
	}
	if !s.Ready() || s.pendingStop() {
		return
	}
	hab := s.varOr("hangup_after_bridge", "false")
	if strings.EqualFold(hab, "explicit") {
		s.Hangup(orNormal(bc))
		return
	}
	if caller.True(s.varOr("park_after_bridge", "false")) {
		s.Park()
		return
	}
	if t := s.varOr("transfer_after_bridge", ""); t != "" {
		exten, rest, _ := strings.Cut(t, ":")
		dp, ctxName, _ := strings.Cut(rest, ":")
		if err := s.Transfer(exten, dp, ctxName); err != nil {
			s.log.Warn("transfer_after_bridge", "err", err)
		}
		return
	}
	if caller.True(hab) {
		s.Hangup(orNormal(bc))
	}
}

func orNormal(c cause.Cause) cause.Cause {
	if c == cause.CNone {
		return cause.CNormalClearing
	}
	return c
}

// handleCause is switch_channel_handle_cause (spec §7.3): after a failed
// originate the caller continues its action list, is transferred, or is
// hung up with the originate's cause.
func (s *Session) handleCause(c cause.Cause) {
	if !s.Ready() {
		return
	}
	tof := strings.Fields(s.varOr("transfer_on_fail", ""))
	failureCauses, hasFC := s.vars.Get("failure_causes")
	if c != cause.CAttendedTransfer {
		cof, hasCOF := s.vars.Get("continue_on_fail")
		if hasCOF || hasFC {
			if hasFC && !causeListed(failureCauses, c) {
				return
			}
			if hasCOF && (caller.True(cof) || causeListed(cof, c)) {
				return
			}
		} else if c == cause.CNoAnswer || c == cause.CNoUserResponse || c == cause.COriginatorCancel {
			return
		}
	}
	if len(tof) > 0 {
		exten := c.String()
		if len(tof) > 1 && !strings.EqualFold(tof[1], "auto_cause") {
			exten = tof[1]
		}
		dp, ctxName := "", ""
		if len(tof) > 2 {
			dp = tof[2]
		}
		if len(tof) > 3 {
			ctxName = tof[3]
		}
		if caller.True(tof[0]) || causeListed(tof[0], c) {
			if err := s.Transfer(exten, dp, ctxName); err == nil {
				return
			}
		}
	}
	s.Hangup(c)
}

// earlyBridge connects the caller to a ringing leg's early media.
type earlyBridge struct {
	a      *Session
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// start pre-answers the caller and bridges it to leg's early media.
func (e *earlyBridge) start(leg *Session) {
	if sdp := bypassSDP(leg); sdp != nil {
		// bypass_media: the caller gets the leg's early SDP; no media.
		if err := e.a.proxyPreAnswer(sdp); err != nil {
			e.a.log.Warn("early media: pre-answer failed", "err", err)
		}
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cancel != nil {
		return
	}
	if err := e.a.PreAnswer(); err != nil {
		e.a.log.Warn("early media: pre-answer failed", "err", err)
		return
	}
	ctx, cancel := context.WithCancel(e.a.ctx)
	e.cancel, e.done = cancel, make(chan struct{})
	done := e.done
	go func() {
		defer close(done)
		defer e.a.recoverPanic()
		stop := context.AfterFunc(leg.ctx, cancel)
		defer stop()
		if err := mediaBridge(ctx, e.a, leg); err != nil && ctx.Err() == nil {
			e.a.log.Warn("early media bridge", "err", err)
		}
	}()
}

// stop ends the early-media bridge and waits for it.
func (e *earlyBridge) stop() {
	e.mu.Lock()
	cancel, done := e.cancel, e.done
	e.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// errNoStream is returned when a leg has no RTP stream to bridge.
var errNoStream = errors.New("leg has no RTP stream")

// mediaBridge relays audio between two legs' streams until ctx is done.
func mediaBridge(ctx context.Context, a, b *Session) error {
	as, ok1 := a.ep.Media().(*media.Stream)
	bs, ok2 := b.ep.Media().(*media.Stream)
	if !ok1 || !ok2 || as == nil || bs == nil {
		return errNoStream
	}
	return media.Bridge(ctx, as, bs, media.BridgeOptions{})
}

// ringback plays ringback (or transfer_ringback) to a caller while its
// legs ring, or signals ringing when it has none.
type ringback struct {
	a       *Session
	mu      sync.Mutex
	started bool
	// signalOnly: bypass_media legs ring, so no ringback is played.
	signalOnly bool
	cancel     context.CancelFunc
	done       chan struct{}
}

func newRingback(a *Session) *ringback { return &ringback{a: a} }

// ringing is called whenever a leg rings (or has early media the caller
// will not hear).
func (r *ringback) ringing(_ *Session) {
	if r.a == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return
	}
	r.started = true
	a := r.a
	rb := a.varOr("ringback", "")
	if a.Answered() {
		if t := a.varOr("transfer_ringback", ""); t != "" {
			rb = t
		}
	}
	if rb == "" || r.signalOnly {
		if !a.MediaReady() {
			if err := a.RingReady(false); err != nil {
				a.log.Warn("ring_ready", "err", err)
			}
		}
		return
	}
	uri := ringbackURI(rb)
	ctx, cancel := context.WithCancel(a.ctx)
	r.cancel, r.done = cancel, make(chan struct{})
	done := r.done
	go func() {
		defer close(done)
		defer a.recoverPanic()
		m, err := a.Media()
		if err != nil {
			return
		}
		for ctx.Err() == nil {
			res, err := m.Play(ctx, uri, nil)
			if err != nil {
				if ctx.Err() == nil {
					a.log.Warn("ringback", "uri", uri, "err", err)
				}
				return
			}
			if res.Samples == 0 {
				return
			}
		}
	}()
}

// stop ends the ringback and waits for it.
func (r *ringback) stop() {
	r.mu.Lock()
	cancel, done := r.cancel, r.done
	r.cancel, r.done = nil, nil
	r.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// ringbackURI turns a ringback variable into something Play opens: a
// teletone spec "%(...)" becomes tone_stream://, and it loops.
func ringbackURI(v string) string {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "%(") {
		return "{loops=-1}tone_stream://" + v
	}
	return v
}

// Partner returns the leg s is bridged to, or nil.
func (s *Session) Partner() *Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.bridge
	if l == nil {
		return nil
	}
	if l.a == s {
		return l.b
	}
	return l.a
}

// BridgeWith takes s and b out of whatever they are doing and bridges
// them, as uuid_bridge does: s runs the bridge (its action list is over
// when the bridge ends, unless park_after_bridge or transfer_after_bridge
// say otherwise), b waits in it. A leg bridged elsewhere leaves that
// bridge first; its old partner is hung up.
func (s *Session) BridgeWith(b *Session) error {
	if b == nil || s == b {
		return fmt.Errorf("cannot bridge a channel to itself")
	}
	if !s.Ready() || !b.Ready() {
		return fmt.Errorf("channel is hung up")
	}
	if err := b.RunApp("park", ""); err != nil {
		return err
	}
	s.mu.Lock()
	s.nextBrg = b
	s.nextSteps = nil
	s.transfer = true
	s.parked = false
	s.mu.Unlock()
	s.ctl.signal()
	return nil
}

// takeNextBridge returns and clears the leg BridgeWith asked for.
func (s *Session) takeNextBridge() *Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.nextBrg
	s.nextBrg = nil
	return b
}

// runBridgeWith bridges s to b for BridgeWith.
func (s *Session) runBridgeWith(b *Session) {
	if !b.Ready() {
		return
	}
	// b reaches its park first, so that bridgeTo finds it idle.
	if !b.waitParkedState(s.ctx) {
		return
	}
	for _, leg := range []*Session{s, b} {
		if !leg.Answered() && !leg.outbound {
			if err := leg.Answer(); err != nil {
				leg.log.Warn("bridge: answer failed", "err", err)
				return
			}
		}
	}
	s.bridgeTo(b)
	s.afterBridge(b)
}

// Intercept is the intercept application: the call uuid (with bleg, the
// leg bridged to it) is taken over by s. Whatever the target was doing
// stops: a bridge it was in ends and the old partner is hung up with
// PICKED_OFF, an originate it was ringing is cancelled; then s is answered
// and bridged to it.
func (s *Session) Intercept(uuid string, bleg bool) error {
	t := s.m.Get(uuid)
	if t == nil {
		return fmt.Errorf("intercept: no such channel %s", uuid)
	}
	if bleg {
		p := t.Partner()
		if p == nil {
			return fmt.Errorf("intercept: %s is not bridged", uuid)
		}
		t = p
	}
	if t == s {
		return fmt.Errorf("intercept: cannot intercept itself")
	}
	// The target is marked first, so that when its partner hangs up the
	// bridge it was in sees a transfer (no hangup_after_bridge, no
	// hangup of a B-leg) and lets it go to its park.
	p := t.Partner()
	t.vars.Set("intercepted_by", s.uuid)
	s.vars.Set("intercepted_uuid", t.uuid)
	if err := t.RunApp("park", ""); err != nil {
		return fmt.Errorf("intercept: %w", err)
	}
	if p != nil && p != s {
		p.vars.Set("intercepted_by", s.uuid)
		p.Hangup(cause.CPickedOff)
	}
	if !t.waitParkedState(s.ctx) {
		return fmt.Errorf("intercept: %s did not let go", t.uuid)
	}
	if err := s.Answer(); err != nil {
		return fmt.Errorf("intercept: %w", err)
	}
	s.bridgeTo(t)
	s.afterBridge(t)
	return nil
}

// parkWait bounds how long BridgeWith and Intercept wait for the other
// leg to stop what it was doing.
const parkWait = 5 * time.Second

// waitParkedState waits until s is parked (CS_PARK), it hangs up, ctx
// ends or parkWait passes; it reports whether s is parked.
func (s *Session) waitParkedState(ctx context.Context) bool {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	deadline := time.After(parkWait)
	for {
		if s.State() == CSPark {
			return true
		}
		select {
		case <-s.ctx.Done():
			return false
		case <-ctx.Done():
			return false
		case <-deadline:
			return false
		case <-t.C:
		}
	}
}

// BridgeLeg bridges s to other in place and returns when the bridge is
// over, as freeswitch.bridge (switch_ivr_multi_threaded_bridge) does: the
// other leg is hung up afterwards unless it was transferred, and s
// follows hangup_after_bridge, park_after_bridge and
// transfer_after_bridge (spec §7.4).
func (s *Session) BridgeLeg(other apps.Session) error {
	b, ok := other.(*Session)
	if !ok || b == nil {
		return fmt.Errorf("not a channel of this switch")
	}
	if b == s {
		return fmt.Errorf("cannot bridge a channel to itself")
	}
	if !s.Ready() || !b.Ready() {
		return fmt.Errorf("channel is hung up")
	}
	if s.Partner() != nil || b.Partner() != nil {
		return fmt.Errorf("a channel is already bridged")
	}
	if !s.Answered() {
		if err := s.Answer(); err != nil {
			return err
		}
	}
	s.bridgeTo(b)
	s.afterBridge(b)
	return nil
}

// Bridged reports whether the call is in a bridge now.
func (s *Session) Bridged() bool { return s.Partner() != nil }

// BridgedAsB reports whether the call is the B side of a bridge: the leg
// another one bridged to (show calls lists the pair under the A-leg).
func (s *Session) BridgedAsB() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bridge != nil && s.bridge.b == s
}

// recoverPanic, deferred at the top of a goroutine a call starts beside
// its own (media bridges, ringback, hold music), turns a panic there into
// the end of that call only: logged with its stack, hung up with CRASH.
func (s *Session) recoverPanic() {
	if r := recover(); r != nil {
		s.log.Error("call goroutine panicked; ending this call", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		s.Hangup(cause.CCrash)
	}
}

// safely runs f, returning a panic in it as an error after recoverPanic's
// handling.
func (s *Session) safely(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("call goroutine panicked; ending this call", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			s.Hangup(cause.CCrash)
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return f()
}
