package session

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/vars"
)

// A Dialer places outbound call legs for one endpoint technology: the
// "sofia" of "sofia/internal/1001@example.com". Endpoints register
// theirs with Manager.SetDialer.
type Dialer interface {
	// Dial starts placing one leg and returns as soon as the request is
	// on its way (a SIP INVITE sent); the leg's progress arrives on the
	// returned call's Progress channel. An error means nothing was sent:
	// a bad target, an unknown profile or gateway (the error should wrap
	// a cause.Error naming the hangup cause, see DialError).
	Dial(ctx context.Context, req DialRequest) (OutboundCall, error)
}

// DialRequest is one leg for a Dialer to place.
type DialRequest struct {
	// Target is the dial-string endpoint after the technology and its
	// slash: "internal/1001@127.0.0.1:5070", "gateway/gw1/18005551212".
	Target string
	// UUID is the new leg's channel UUID.
	UUID string
	// CallerIDName and CallerIDNumber go into the From header (the
	// origination_caller_id_* or effective_caller_id_* the originator
	// worked out).
	CallerIDName, CallerIDNumber string
	// Vars are the leg's variables: the dial string's {} and [] lists
	// and the exported variables of the A-leg (sip_h_X-*, sip_invite_domain,
	// absolute_codec_string, sip_auth_username, ...). The endpoint reads
	// them and may add its own (sip_* of the responses) as the call
	// progresses. The store becomes the B-leg session's variable store.
	Vars *vars.Store
	// Codecs are the A-leg's codec names ("PCMU", "PCMA"), to be offered
	// first so that the bridge needs no transcoding; empty means the
	// profile's outbound-codec-prefs.
	Codecs []string
	// SDP, when set, is the caller's SDP offer to send as it is instead
	// of opening a media stream of our own (bypass_media, see bypass.go);
	// endpoints that cannot do so ignore it.
	SDP []byte
}

// ProgressKind says what a Progress reports.
type ProgressKind int

// Kinds of progress of an outbound leg.
const (
	// ProgressRinging is a 180 (or a 183 without SDP).
	ProgressRinging ProgressKind = iota + 1
	// ProgressEarlyMedia is a 183 (or 180) with SDP: Media is ready.
	ProgressEarlyMedia
	// ProgressAnswered is the 2xx (ACKed): Media is ready.
	ProgressAnswered
	// ProgressFailed is the end of an attempt that was never answered:
	// a final error response, a timeout, a transport error or our CANCEL.
	ProgressFailed
)

// String names the kind.
func (k ProgressKind) String() string {
	switch k {
	case ProgressRinging:
		return "ringing"
	case ProgressEarlyMedia:
		return "early-media"
	case ProgressAnswered:
		return "answered"
	case ProgressFailed:
		return "failed"
	}
	return "ProgressKind(" + strconv.Itoa(int(k)) + ")"
}

// Progress is one step of an outbound leg.
type Progress struct {
	Kind ProgressKind
	// Code and Reason are the SIP status line behind the step (0 when
	// there was none, e.g. a timeout).
	Code   int
	Reason string
	// Cause is the hangup cause of a failure: from the response's Reason
	// header when it has a Q.850 one, else mapped from Code.
	Cause cause.Cause
}

// An OutboundCall is the signalling side of a leg we place. As an
// Endpoint: Answer, PreAnswer and RingReady are no-ops (the far end
// answers), Respond fails, Media is nil until an SDP answer arrived, and
// Hangup sends CANCEL before the answer (ACK and BYE if a 200 crosses it)
// and BYE after it.
type OutboundCall interface {
	Endpoint
	// Progress delivers the far end's progress in order; it is closed
	// after the final step (ProgressAnswered or ProgressFailed).
	Progress() <-chan Progress
	// Bind tells the call which session it belongs to, so that a BYE
	// from the far end, received DTMF and media timeouts reach it. If
	// the far end already hung up, Bind hangs s up at once.
	Bind(s *Session)
}

// DialError is an error of a Dialer that carries the hangup cause the
// attempt ends with.
type DialError struct {
	Cause cause.Cause
	Err   error
}

// Error implements error.
func (e *DialError) Error() string {
	if e.Err == nil {
		return e.Cause.String()
	}
	return e.Cause.String() + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *DialError) Unwrap() error { return e.Err }

// SetDialer registers d as the Dialer of technology tech ("sofia").
// Registering the same technology again replaces it.
func (m *Manager) SetDialer(tech string, d Dialer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dialers == nil {
		m.dialers = make(map[string]Dialer)
	}
	m.dialers[tech] = d
}

// dialer returns the Dialer of tech, or nil.
func (m *Manager) dialer(tech string) Dialer {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dialers[tech]
}

// Outbound describes a new outbound call leg.
type Outbound struct {
	Call    OutboundCall
	Profile *caller.Profile
	// Store is the leg's variable store (the DialRequest's Vars).
	Store *vars.Store
	// UUID is the leg's channel UUID (the DialRequest's UUID).
	UUID string
}

// newOutbound creates the session of a leg being placed. It is not
// started: the originator drives it until it is answered and bridged,
// parked or routed.
func (m *Manager) newOutbound(o Outbound) (*Session, error) {
	if o.Call == nil {
		return nil, fmt.Errorf("outbound leg without a call")
	}
	s := m.NewInbound(Inbound{Endpoint: o.Call, Profile: o.Profile, Store: o.Store, UUID: o.UUID})
	s.vars.Set("direction", "outbound")
	s.outbound = true
	now := time.Now()
	s.vars.Set("originate_start_epoch", strconv.FormatInt(now.Unix(), 10))
	o.Call.Bind(s)
	return s, nil
}
