package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-voip/switchboard/cause"
)

// What the far end of a bridged leg does that concerns the other leg:
// the phone puts the call on hold (a hold re-INVITE), or hands the other
// party on (a REFER, blind transfer). The endpoint reads the signalling
// and calls FarEndHold or BlindTransfer; the session decides what the
// other leg hears and where it goes.

// HoldSignaller is implemented by an Endpoint that can tell its far end
// that the call is on hold and back (a SIP re-INVITE offering a=sendonly,
// then a=sendrecv). FarEndHold relays a hold this way when there is no
// hold music.
type HoldSignaller interface {
	SignalHold(ctx context.Context, hold bool) error
}

// ErrNotBridged is returned by BlindTransfer for a channel in no bridge.
var ErrNotBridged = errors.New("the channel is not bridged")

// holdSignalTimeout bounds one relayed hold or unhold.
const holdSignalTimeout = 30 * time.Second

// FarEndHold records that the far end of s has put the call on hold (its
// phone sent a=sendonly, a=inactive or c=0.0.0.0), as FreeSWITCH's
// switch_core_media_toggle_hold does: s is marked held (callstate HELD,
// CHANNEL_HOLD) and, when s is bridged, the other leg hears the hold
// music: temp_hold_music, else hold_music (channel variables, then
// globals; ${} expanded), else profileMusic (the profile's hold-music).
// "silence" plays nothing. With no hold music at all, or
// "indicate_hold", the hold is relayed: the other leg's endpoint is asked
// to signal hold to its own far end (HoldSignaller).
//
// The returned function takes the call off hold (the phone resumed):
// the music stops, a relayed hold is undone, s is unheld
// (CHANNEL_UNHOLD), and the bridge carries both directions again. The
// music also stops, and a relayed hold is undone, when the bridge ends
// first. Safe from any goroutine; the function may be called once.
func (s *Session) FarEndHold(profileMusic string) (release func()) {
	err := s.Hold()
	if err != nil && !errors.Is(err, ErrAlreadyHeld) {
		return func() {}
	}
	// A leg already held (uuid_hold) stays held when the phone resumes:
	// only the hold this call made is undone by release.
	h := &bridgeHold{s: s, done: make(chan struct{}), ours: err == nil}
	s.mu.Lock()
	link := s.bridge
	s.mu.Unlock()
	if link == nil {
		close(h.done)
		return h.release
	}
	p := link.a
	if p == s {
		p = link.b
	}
	music := s.holdMusic(profileMusic)
	relay := music == "" || strings.EqualFold(music, "indicate_hold")
	if strings.EqualFold(music, "silence") {
		music = ""
	}
	ctx, cancel := context.WithCancel(p.ctx)
	stop := context.AfterFunc(s.ctx, cancel)
	h.cancel = func() { stop(); cancel() }
	go h.run(ctx, p, link, music, relay)
	return h.release
}

// holdMusic is what the other leg hears while s holds the call.
func (s *Session) holdMusic(profileMusic string) string {
	for _, name := range []string{"temp_hold_music", "hold_music"} {
		if v, ok := s.Get(name); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(s.Expand(v))
		}
	}
	return strings.TrimSpace(profileMusic)
}

// bridgeHold is one hold of a bridged call by the far end of s.
type bridgeHold struct {
	s      *Session
	cancel context.CancelFunc // nil when s was not bridged
	done   chan struct{}      // closed when run has finished
	once   sync.Once
	ours   bool // this hold put s on hold (it was not held already)
}

// run plays music to p (or relays the hold to p's far end) until ctx
// ends: released, or either leg hung up; or until the bridge is over.
func (h *bridgeHold) run(ctx context.Context, p *Session, link *bridgeLink, music string, relay bool) {
	defer close(h.done)
	defer p.recoverPanic()
	go func() {
		select {
		case <-link.done:
			h.cancel()
		case <-ctx.Done():
		}
	}()
	relayed := false
	if relay {
		// Seen through even when released meanwhile: the unhold below
		// must follow a hold the far end took.
		relayed = h.signal(p.ctx, p, true)
	}
	if music != "" {
		h.play(ctx, p, music)
	}
	<-ctx.Done()
	if relayed && p.Ready() {
		// Resume the other leg, whether the phone resumed or the bridge
		// ended: its phone must not stay on hold in whatever it does next.
		sctx, cancel := context.WithTimeout(p.ctx, holdSignalTimeout)
		defer cancel()
		h.signal(sctx, p, false)
	}
}

// signal asks p's endpoint to signal hold (or its end) to its far end.
func (h *bridgeHold) signal(ctx context.Context, p *Session, hold bool) bool {
	hs, ok := p.ep.(HoldSignaller)
	if !ok {
		return false
	}
	sctx, cancel := context.WithTimeout(ctx, holdSignalTimeout)
	defer cancel()
	if err := hs.SignalHold(sctx, hold); err != nil {
		if ctx.Err() == nil {
			p.log.Warn("relaying the hold to the other leg failed", "hold", hold, "err", err)
		}
		return false
	}
	return true
}

// play loops music to p until ctx ends. While it plays, the bridge drops
// what it would relay to p (a stream's own playback comes first).
func (h *bridgeHold) play(ctx context.Context, p *Session, music string) {
	m, err := p.Media()
	if err != nil {
		return
	}
	uri := ringbackURI(music)
	for ctx.Err() == nil {
		res, err := m.Play(ctx, uri, nil)
		if err != nil {
			if ctx.Err() == nil {
				p.log.Warn("hold music", "uri", uri, "err", err)
			}
			return
		}
		if res.Samples == 0 || (res.Stopped && ctx.Err() == nil && !p.Ready()) {
			return
		}
	}
}

// release takes the call off hold.
func (h *bridgeHold) release() {
	h.once.Do(func() {
		if h.cancel != nil {
			h.cancel()
		}
		<-h.done
		if !h.ours {
			return
		}
		if err := h.s.Unhold(); err != nil && !errors.Is(err, ErrNotHeld) {
			h.s.log.Warn("unhold", "err", err)
		}
	})
}

// BlindTransferOptions describe a blind transfer asked by the far end of
// a bridged leg (BlindTransfer).
type BlindTransferOptions struct {
	// Exten is where the other leg goes: a destination number hunted in
	// that leg's own context and dialplan (force_transfer_context and
	// force_transfer_dialplan apply), as switch_ivr_session_transfer does.
	Exten string
	// PartnerVars are set on the other leg before it is transferred
	// (sip_refer_to, sip_h_Referred-By, ...).
	PartnerVars [][2]string
	// Notify, when set, runs once the transfer is under way and before s
	// hangs up (the endpoint reports the outcome to the phone).
	Notify func()
}

// BlindTransfer transfers the leg bridged to s (the transferee) to
// o.Exten and hangs s up with BLIND_TRANSFER: a REFER from the phone on
// s (sofia_handle_sip_i_refer transfers the other leg). It returns
// the transferee, or ErrNotBridged when s is in no bridge, or the error of
// the transfer (the loop guard). Safe from any goroutine.
func (s *Session) BlindTransfer(o BlindTransferOptions) (*Session, error) {
	if !s.Ready() {
		return nil, ErrHungUp
	}
	s.mu.Lock()
	link := s.bridge
	s.mu.Unlock()
	if link == nil {
		return nil, ErrNotBridged
	}
	p := link.a
	if p == s {
		p = link.b
	}
	if !p.Ready() {
		return nil, ErrNotBridged
	}
	for _, kv := range o.PartnerVars {
		p.vars.Set(kv[0], kv[1])
	}
	notify := func() {
		if o.Notify != nil {
			o.Notify()
		}
	}
	if link.a == p {
		// The transferee runs the bridge and hangs the other side up when
		// it ends, unless that side was transferred: marked so, s is left
		// for its own BLIND_TRANSFER hangup below.
		s.mu.Lock()
		s.transfer = true
		s.mu.Unlock()
		if err := p.Transfer(o.Exten, "", ""); err != nil {
			s.mu.Lock()
			s.transfer = false
			s.mu.Unlock()
			return nil, fmt.Errorf("blind transfer: %w", err)
		}
		notify()
		s.Hangup(cause.CBlindTransfer)
		return p, nil
	}
	// s runs the bridge; the transferee waits in it. The link is marked
	// as left first, so the end of the bridge does not hang the
	// transferee up; s hangs up with BLIND_TRANSFER before its bridge can
	// end any other way (hangup_after_bridge would say NORMAL_CLEARING);
	// then the transferee is routed.
	notify()
	link.left.Store(true)
	s.Hangup(cause.CBlindTransfer)
	if err := p.Transfer(o.Exten, "", ""); err != nil {
		p.Hangup(cause.CNormalClearing)
		return nil, fmt.Errorf("blind transfer: %w", err)
	}
	return p, nil
}
