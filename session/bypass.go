package session

import (
	"context"
	"fmt"

	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/vars"
)

// bypass_media (FreeSWITCH's CF_PROXY_MODE): the bridge carries the
// signalling only. The caller's SDP offer goes to the B-leg as it is
// (DialRequest.SDP), the B-leg's answer goes back to the caller in its
// 183 and 200 (ProxyAnswerer), and the RTP flows between the two phones
// without touching the switch. Neither leg then has Media, so media
// applications fail on them ("no media on this channel").
//
// Endpoints opt in through the optional interfaces below; a leg whose
// endpoint lacks them (a loopback leg, a caller whose INVITE had no SDP)
// is bridged through the media engine as usual, with a warning.

// SDPAnswerer is implemented by an OutboundCall that can be dialed with
// DialRequest.SDP.
type SDPAnswerer interface {
	// RemoteSDP returns the far end's SDP answer to the offer the leg
	// was dialed with (from its early media or its answer), verbatim; nil
	// while there is none or when the leg was dialed without an offer
	// of the caller's (it then has media of its own).
	RemoteSDP() []byte
}

// ProxyAnswerer is implemented by an inbound Endpoint that can answer
// with another leg's SDP instead of its own media.
type ProxyAnswerer interface {
	// OfferSDP returns the SDP offer of the call's INVITE, verbatim; nil
	// for a call that came without one (a late offer).
	OfferSDP() []byte
	// PreAnswerSDP sends early media (183) with sdp as its body; the
	// leg's own media is given up for good.
	PreAnswerSDP(ctx context.Context, sdp []byte) error
	// AnswerSDP answers (200) with sdp as its body; the leg's own media
	// is given up for good.
	AnswerSDP(ctx context.Context, sdp []byte) error
}

// Endpoint returns the call's endpoint (the SIP leg behind it), for
// endpoints that relay between the two legs of a bypassed bridge.
func (s *Session) Endpoint() Endpoint { return s.ep }

// wantsBypass reports whether a new leg is to be dialed with the
// caller's SDP: bypass_media is true in the leg's variables (the dial
// string's {} and []) or on the caller.
func (s *Session) wantsBypass(leg *vars.Store) bool {
	if v, ok := leg.Get("bypass_media"); ok {
		return caller.True(v)
	}
	return caller.True(s.varOr("bypass_media", "false"))
}

// bypassOffer returns the SDP a new leg of the caller s is to be dialed
// with under bypass_media, or nil when the leg is to have media of its
// own: bypass_media is off, the caller has media already (it was
// answered or pre-answered with media of ours), or its endpoint cannot hand its offer on
// (another technology, or an INVITE without SDP: the late-offer case,
// which FreeSWITCH cannot bypass either).
func (s *Session) bypassOffer(leg *vars.Store) []byte {
	if !s.wantsBypass(leg) {
		return nil
	}
	// A caller pre-answered with an earlier leg's SDP has no media of its
	// own (Media nil) and stays bypassed; one with media keeps it.
	if s.MediaReady() && s.ep.Media() != nil {
		s.log.Warn("bypass_media: the caller already has media; bridging through the switch")
		return nil
	}
	pa, ok := s.ep.(ProxyAnswerer)
	if !ok {
		s.log.Warn("bypass_media: the caller's endpoint cannot pass its SDP on; bridging through the switch")
		return nil
	}
	offer := pa.OfferSDP()
	if len(offer) == 0 {
		s.log.Warn("bypass_media: the caller sent no SDP offer (late offer); bridging through the switch")
		return nil
	}
	return offer
}

// bypassSDP returns the SDP answer of a leg dialed with the caller's
// offer, nil when the leg has media of its own.
func bypassSDP(leg *Session) []byte {
	if leg == nil {
		return nil
	}
	if a, ok := leg.ep.(SDPAnswerer); ok {
		return a.RemoteSDP()
	}
	return nil
}

// proxyPreAnswer pre-answers s with the B-leg's SDP (PreAnswer's
// bookkeeping, ProxyAnswerer's 183).
func (s *Session) proxyPreAnswer(sdp []byte) error {
	pa, ok := s.ep.(ProxyAnswerer)
	if !ok {
		return s.noProxyAnswer()
	}
	return s.preAnswerWith(func(ctx context.Context) error {
		if err := pa.PreAnswerSDP(ctx, sdp); err != nil {
			return fmt.Errorf("bypass_media: pre-answer: %w", err)
		}
		return nil
	})
}

// proxyAnswer answers s with the B-leg's SDP (Answer's bookkeeping,
// ProxyAnswerer's 200).
func (s *Session) proxyAnswer(sdp []byte) error {
	pa, ok := s.ep.(ProxyAnswerer)
	if !ok {
		return s.noProxyAnswer()
	}
	return s.answerWith(func(ctx context.Context) error {
		if err := pa.AnswerSDP(ctx, sdp); err != nil {
			return fmt.Errorf("bypass_media: answer: %w", err)
		}
		return nil
	})
}

// noProxyAnswer is the error of an endpoint that cannot answer with SDP
// (a hung-up channel says so first, as Answer does).
func (s *Session) noProxyAnswer() error {
	if !s.Ready() {
		return fmt.Errorf("channel is hung up")
	}
	return fmt.Errorf("bypass_media: the caller's endpoint cannot answer with SDP")
}

// bypassing reports whether any leg of an originate was dialed with the
// caller's SDP: the caller then hears no ringback of ours.
func bypassing(ls []*leg) bool {
	for _, l := range ls {
		if l.bypass {
			return true
		}
	}
	return false
}
