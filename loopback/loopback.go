// Package loopback is the "loopback" endpoint technology, FreeSWITCH's
// mod_loopback: dialing loopback/<exten>[/<context>[/<dialplan>]] places
// a call into this switch's own dialplan, and loopback/app=<app>[:<args>]
// a call that runs one application.
//
// Each call is a pair of channels. loopback/<exten>-a is the outbound leg
// the originator gets (a session.OutboundCall); loopback/<exten>-b is an
// inbound call that routes <exten> in <context> (default "default") with
// the configuration in force when it routes, as any inbound call does (a
// reloadxml applies to the next loopback call, not to one already
// routed). What B does reaches A: B ringing, pre-answering and answering
// are A's progress; a final response B sends before answering (respond
// 486), or B hanging up before it answers, fails A with the same cause;
// after the answer either leg's hangup ends the other with its cause.
//
// The media is real RTP: each leg has a media.Stream from the Engine, and
// the two send to each other over the loopback interface (the streams'
// own address when the engine binds one, else 127.0.0.1) in the first
// G.711 codec of the originator's (DialRequest.Codecs), else PCMU, with
// telephone-event on payload type 101. A bridged to a caller relays the caller's audio and
// DTMF into B's stream, where B's applications play, record and read
// digits.
//
// Variables: B gets a copy of the variables the originate gave A (the dial
// string's {} and [] lists, the originator's export_vars, the originate
// command's variables), without the ones that tie A to its originator
// (originator, originating_leg_uuid, originator_codec), plus those named
// in A's loopback_export (looked up on A as a dialplan would). Both legs
// get is_loopback=1, loopback_leg=A|B and other_loopback_leg_uuid (the
// other leg); A gets loopback_from_uuid (its originator) and B
// other_loopback_from_uuid. The app= form sets loopback_app and
// loopback_app_arg on both. B's caller id is A's (origination_caller_id_*
// or what the originate worked out); B's max_forwards is one less than
// the originator's (or the dial string's), and a loopback dialed with
// none left fails with EXCHANGE_ROUTING_ERROR, so a dialplan that loops
// through loopback/ ends instead of filling the switch. Dialing a
// loopback pre-answers the originator, as FreeSWITCH does, unless it has
// loopback_no_pre_answer=true.
//
// Trust: the B-leg routes in the context the dial string names, or
// "default" when it names none — as FreeSWITCH does, whatever context
// the originator was in. A dialplan must therefore never build a
// loopback/ target from what a caller sent (a destination number with a
// "/" in it would pick the context); the default configuration's public
// context has no bridge to loopback/. B is not more trusted than a
// caller otherwise: it has no network address, so no ACL matches it, and
// it carries only the variables listed above.
//
// Not implemented: loopback_bowout (FreeSWITCH, by default, replaces a
// loopback pair whose two legs are both bridged to other channels by a
// direct bridge of those channels) and loopback_bowout_on_execute; here
// the pair stays in the call until it ends, relaying the media through
// its two streams. FreeSWITCH ignores respond on a loopback B-leg; here it
// fails A as a SIP endpoint's response would.
package loopback

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/dialplan"
	"github.com/switchboard-voip/switchboard/media"
	"github.com/switchboard-voip/switchboard/session"
	"github.com/switchboard-voip/switchboard/vars"
)

// Tech is the technology name the Dialer is registered under.
const Tech = "loopback"

// dtmfPayloadType is the telephone-event payload type both legs use.
const dtmfPayloadType = 101

// defaultMaxForwards is the hop count of an originator that sets none
// (FreeSWITCH's default max_forwards).
const defaultMaxForwards = 70

// Config configures a Dialer.
type Config struct {
	// Manager creates and runs the B-legs; it must be the manager the
	// Dialer is registered with.
	Manager *session.Manager
	// Media gives each leg its RTP stream.
	Media *media.Engine
	// Logger receives the endpoint's logs; nil means slog.Default().
	Logger *slog.Logger
}

// Dialer places loopback calls: it implements session.Dialer for
// technology "loopback". It is safe for concurrent use.
type Dialer struct {
	m    *session.Manager
	eng  *media.Engine
	log  *slog.Logger
	live atomic.Int64 // pairs whose streams are not all released yet
}

var _ session.Dialer = (*Dialer)(nil)

// New returns a Dialer; register it with cfg.Manager.SetDialer(Tech, d).
func New(cfg Config) *Dialer {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Dialer{m: cfg.Manager, eng: cfg.Media, log: log.With("endpoint", Tech)}
}

// Calls returns the number of loopback pairs in progress: placed and not
// yet ended on both legs.
func (d *Dialer) Calls() int { return int(d.live.Load()) }

// target is a parsed DialRequest.Target.
type target struct {
	exten    string // the B-leg's destination_number, and the channel names' part
	context  string
	dialplan string
	app      string // app= form: the application, else ""
	appArg   string
	isApp    bool
}

// parseTarget reads "<exten>[/<context>[/<dialplan>]]" or
// "app=<app>[:<args>]" as mod_loopback does: the app form's destination is
// the application's name, and the first two slashes of the destination
// split off the context and the dialplan.
func parseTarget(s string) (target, error) {
	var t target
	dest := s
	if len(s) >= 4 && strings.EqualFold(s[:4], "app=") {
		t.isApp = true
		app, arg, _ := strings.Cut(s[4:], ":")
		t.app, t.appArg = app, arg
		dest = app
	}
	exten, rest, _ := strings.Cut(dest, "/")
	ctxName, dp, _ := strings.Cut(rest, "/")
	t.exten, t.context, t.dialplan = exten, ctxName, dp
	if t.context == "" {
		t.context = "default"
	}
	if t.dialplan == "" {
		t.dialplan = "XML"
	}
	switch {
	case t.isApp && strings.TrimSpace(t.app) == "":
		return t, fmt.Errorf("no application in %q", s)
	case strings.TrimSpace(t.exten) == "":
		return t, fmt.Errorf("no extension in %q", s)
	case strings.ContainsAny(s, "\x00\r\n"):
		return t, fmt.Errorf("bad destination %q", s)
	}
	return t, nil
}

// dialError wraps an error in a session.DialError with cause c.
func dialError(c cause.Cause, format string, a ...any) error {
	return &session.DialError{Cause: c, Err: fmt.Errorf("loopback: "+format, a...)}
}

// Dial places a loopback call (session.Dialer). The targets are
// "<exten>[/<context>[/<dialplan>]]" and "app=<app>[:<args>]". It opens
// both legs' streams and returns the A-leg; the B-leg starts routing when
// the originator binds A to its session. Errors are *session.DialError:
// INVALID_NUMBER_FORMAT for a target without an extension or application,
// EXCHANGE_ROUTING_ERROR when max_forwards is used up, SWITCH_CONGESTION
// when the manager admits no more calls, DESTINATION_OUT_OF_ORDER when
// there is no RTP port.
func (d *Dialer) Dial(_ context.Context, req session.DialRequest) (session.OutboundCall, error) {
	t, err := parseTarget(req.Target)
	if err != nil {
		return nil, dialError(cause.CInvalidNumberFormat, "%v", err)
	}
	st := req.Vars
	if st == nil {
		st = vars.NewStoreSize(32)
	}
	origUUID, _ := st.Get("originator")
	orig := (*session.Session)(nil)
	if origUUID != "" {
		orig = d.m.Get(origUUID)
	}
	hops := maxForwards(st, orig) - 1
	if hops <= 0 {
		return nil, dialError(cause.CExchangeRoutingError, "max_forwards used up dialing %q: the call is looping", req.Target)
	}
	if err := d.m.Admit(); err != nil {
		return nil, dialError(cause.CSwitchCongestion, "B-leg not admitted: %v", err)
	}
	codec := media.PCMU
	for _, name := range req.Codecs {
		if c, ok := media.CodecByName(name); ok {
			codec = c
			break
		}
	}
	as, bs, err := d.openPair(codec)
	if err != nil {
		return nil, dialError(cause.CDestinationOutOfOrder, "%v", err)
	}

	p := &pair{
		d:        d,
		t:        t,
		aName:    "loopback/" + t.exten + "-a",
		bName:    "loopback/" + t.exten + "-b",
		aStream:  as,
		bStream:  bs,
		bUUID:    session.NewUUID(),
		cidName:  req.CallerIDName,
		cidNum:   req.CallerIDNumber,
		progress: make(chan session.Progress, 3), // ringing, early media, final: never blocks
	}
	// B's variables: what the originate gave A, before A's session adds
	// its own, without those that place A in the originate (B is a call
	// of its own).
	p.bStore = st.Clone()
	for _, name := range [...]string{"originator", "originating_leg_uuid", "originator_codec"} {
		p.bStore.Unset(name)
	}
	p.bStore.Set("max_forwards", strconv.Itoa(hops))
	// A group confirmation is B's to run (its bridge), not A's.
	st.UnsetPrefix("group_confirm_")
	setMediaVars(st, codec)
	setMediaVars(p.bStore, codec)
	st.Set("is_loopback", "1")
	st.Set("loopback_leg", "A")
	st.Set("other_loopback_leg_uuid", p.bUUID)
	if origUUID != "" {
		st.Set("loopback_from_uuid", origUUID)
	}
	if t.isApp {
		for _, s := range []*vars.Store{st, p.bStore} {
			s.Set("loopback_app", t.app)
			if t.appArg != "" {
				s.Set("loopback_app_arg", t.appArg)
			}
		}
	}
	d.live.Add(1)

	// Received digits go to the leg's session once there is one.
	as.OnDTMF(func(dg media.Digit) {
		if s := p.aSess.Load(); s != nil {
			s.QueueDTMF(dg.Digit)
		}
	})
	bs.OnDTMF(func(dg media.Digit) {
		if s := p.bSess.Load(); s != nil {
			s.QueueDTMF(dg.Digit)
		}
	})
	as.Start()
	bs.Start()

	// FreeSWITCH pre-answers the channel that dials a loopback.
	if noPre, _ := origVar(orig, "loopback_no_pre_answer"); orig != nil && orig.Ready() && !caller.True(noPre) {
		if err := orig.PreAnswer(); err != nil {
			d.log.Debug("loopback: pre-answer of the originator failed", "originator", origUUID, "err", err)
		}
	}
	return &aLeg{p}, nil
}

// origVar returns the originator's channel variable name ("" without an
// originator).
func origVar(orig *session.Session, name string) (string, bool) {
	if orig == nil {
		return "", false
	}
	return orig.Vars().Get(name)
}

// maxForwards is the hop count the new pair starts from: the dial
// string's max_forwards, else the originator's, else 70.
func maxForwards(st *vars.Store, orig *session.Session) int {
	v, ok := st.Get("max_forwards")
	if !ok {
		v, ok = origVar(orig, "max_forwards")
	}
	if ok {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			return n
		}
	}
	return defaultMaxForwards
}

// openPair opens the two legs' streams and points each at the other.
func (d *Dialer) openPair(codec media.Codec) (a, b *media.Stream, err error) {
	if d.eng == nil {
		return nil, nil, errors.New("no media engine")
	}
	a, err = d.eng.Open()
	if err != nil {
		return nil, nil, fmt.Errorf("no media port: %w", err)
	}
	b, err = d.eng.Open()
	if err != nil {
		_ = a.Close()
		return nil, nil, fmt.Errorf("no media port: %w", err)
	}
	errA := a.SetRemote(media.RemoteParams{Addr: sendAddr(b), Codec: codec, DTMFPayloadType: dtmfPayloadType})
	errB := b.SetRemote(media.RemoteParams{Addr: sendAddr(a), Codec: codec, DTMFPayloadType: dtmfPayloadType})
	if err := errors.Join(errA, errB); err != nil {
		_ = a.Close()
		_ = b.Close()
		return nil, nil, fmt.Errorf("media: %w", err)
	}
	return a, b, nil
}

// sendAddr is where the other leg sends to reach s: its bound address,
// or 127.0.0.1 when it is bound to every interface. (An engine bound to
// "::" alone, rtp-ip "::", takes no IPv4 and leaves loopback calls
// without audio; the default, every interface, is dual-stack.)
func sendAddr(s *media.Stream) netip.AddrPort {
	ap := s.LocalAddr()
	ip := ap.Addr().Unmap()
	if !ip.IsValid() || ip.IsUnspecified() {
		ip = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	return netip.AddrPortFrom(ip, ap.Port())
}

// setMediaVars records the leg's codec as the SIP endpoint does.
func setMediaVars(st *vars.Store, c media.Codec) {
	rate := strconv.Itoa(c.ClockRate)
	st.Set("read_codec", c.Name)
	st.Set("write_codec", c.Name)
	st.Set("read_rate", rate)
	st.Set("write_rate", rate)
}

// pair is one loopback call: the two legs' shared state.
type pair struct {
	d                *Dialer
	t                target
	aName, bName     string
	aStream, bStream *media.Stream
	bUUID            string
	bStore           *vars.Store // B's variables until its session takes them
	cidName, cidNum  string
	progress         chan session.Progress

	aSess, bSess atomic.Pointer[session.Session]
	released     sync.Once

	mu       sync.Mutex
	final    bool // A's progress reached its last step and is closed
	answered bool // ... which was the answer
	early    bool
	ringing  bool
	bStarted bool // B's session exists and runs
	aDone    bool // A's Hangup ran
	bDone    bool // B's Hangup ran
}

// errGone is returned when B signals after A has ended.
var errGone = errors.New("loopback: the originating leg is gone")

// emit sends a step of A's progress, at most once per kind (a ringing
// after early media is dropped: the originator would start ringback over
// the early media) and nothing after the final one, which closes the
// channel. Call with p.mu held.
func (p *pair) emit(pr session.Progress) {
	if p.final {
		return
	}
	switch pr.Kind {
	case session.ProgressRinging:
		if p.ringing || p.early {
			return
		}
		p.ringing = true
	case session.ProgressEarlyMedia:
		if p.early {
			return
		}
		p.early = true
	case session.ProgressAnswered:
		p.final, p.answered = true, true
	case session.ProgressFailed:
		p.final = true
	}
	p.progress <- pr
	if p.final {
		close(p.progress)
	}
}

// release counts the pair out once both legs are over.
func (p *pair) release() {
	p.released.Do(func() { p.d.live.Add(-1) })
}

// startB creates the B-leg's session and starts it routing.
func (p *pair) startB(a *session.Session) {
	// loopback_export: A's variables (as a dialplan sees them) to copy.
	if list, ok := a.Get("loopback_export"); ok {
		for _, name := range strings.Split(list, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			if v, ok := a.Get(name); ok && v != "" {
				p.bStore.Set(name, v)
			}
		}
	}
	p.bStore.Set("is_loopback", "1")
	p.bStore.Set("loopback_leg", "B")
	p.bStore.Set("other_loopback_leg_uuid", a.UUID())
	if v, ok := a.Vars().Get("loopback_from_uuid"); ok {
		p.bStore.Set("other_loopback_from_uuid", v)
	}
	prof := a.Profile()
	prof.DestinationNumber = p.t.exten
	prof.Context = p.t.context
	prof.Dialplan = p.t.dialplan
	prof.CallerIDName, prof.CallerIDNumber = p.cidName, p.cidNum
	prof.Source = "mod_loopback"
	prof.ChanName, prof.UUID = "", ""
	prof.NetworkAddr = ""
	prof.ProfileCreatedTime, prof.CreatedTime, prof.AnsweredTime = 0, 0, 0
	prof.ProgressTime, prof.ProgressMediaTime, prof.HungupTime, prof.TransferredTime = 0, 0, 0, 0

	b := p.d.m.NewInbound(session.Inbound{Endpoint: &bLeg{p}, Profile: prof, Store: p.bStore, UUID: p.bUUID})
	p.bStore = nil
	p.bSess.Store(b)
	p.mu.Lock()
	p.bStarted = true
	p.mu.Unlock()
	if p.t.isApp {
		b.StartSteps([]dialplan.Step{{App: "pre_answer"}, {App: p.t.app, Data: p.t.appArg}})
		return
	}
	b.Start()
}

// aLeg is loopback/<exten>-a, the leg the originator holds.
type aLeg struct{ p *pair }

var _ session.OutboundCall = (*aLeg)(nil)

// Name is loopback/<exten>-a.
func (a *aLeg) Name() string { return a.p.aName }

// Progress delivers what the B-leg does until it answers or ends.
func (a *aLeg) Progress() <-chan session.Progress { return a.p.progress }

// Bind ties the leg to its session and starts the B-leg routing. When
// the pair already ended, s is hung up at once.
func (a *aLeg) Bind(s *session.Session) {
	p := a.p
	p.aSess.Store(s)
	p.mu.Lock()
	done, started := p.aDone, p.bStarted
	p.mu.Unlock()
	switch {
	case done:
		s.Hangup(cause.CNormalClearing)
	case !started:
		p.startB(s)
	}
}

// Media is the leg's RTP stream, which exchanges audio with the B-leg's.
func (a *aLeg) Media() session.Media { return a.p.aStream }

// Answer does nothing: the B-leg answers.
func (a *aLeg) Answer(context.Context) error { return nil }

// PreAnswer does nothing: the B-leg opens early media.
func (a *aLeg) PreAnswer(context.Context) error { return nil }

// RingReady does nothing: the B-leg rings.
func (a *aLeg) RingReady(context.Context, bool) error { return nil }

// Respond fails: an outbound leg sends no responses.
func (a *aLeg) Respond(_ context.Context, code int, _ string) error {
	return fmt.Errorf("loopback: the outbound leg cannot send a %d response", code)
}

// Redirect fails: an outbound leg cannot be redirected.
func (a *aLeg) Redirect(context.Context, string) error {
	return errors.New("loopback: the outbound leg cannot be redirected")
}

// Hangup ends the leg (called once by its session, or by the originator
// when it could not make one): an unanswered leg reports the failure on
// Progress, the B-leg is hung up with c, the stream is closed.
func (a *aLeg) Hangup(c cause.Cause) {
	p := a.p
	_ = p.aStream.Close()
	p.mu.Lock()
	if p.aDone {
		p.mu.Unlock()
		return
	}
	p.aDone = true
	p.emit(session.Progress{Kind: session.ProgressFailed, Code: c.SIP(), Cause: c})
	started, bDone := p.bStarted, p.bDone
	p.mu.Unlock()
	if !started {
		// Never bound: the B-leg does not exist, its stream is ours.
		_ = p.bStream.Close()
		p.release()
		return
	}
	if b := p.bSess.Load(); b != nil {
		b.Hangup(c)
	}
	if bDone {
		p.release()
	}
}

// bLeg is loopback/<exten>-b, the inbound leg that routes the extension.
type bLeg struct{ p *pair }

var _ session.Endpoint = (*bLeg)(nil)

// Name is loopback/<exten>-b.
func (b *bLeg) Name() string { return b.p.bName }

// Answer answers the A-leg.
func (b *bLeg) Answer(context.Context) error {
	return b.p.signal(session.Progress{Kind: session.ProgressAnswered, Code: 200, Reason: "OK"})
}

// PreAnswer gives the A-leg early media.
func (b *bLeg) PreAnswer(context.Context) error {
	return b.p.signal(session.Progress{Kind: session.ProgressEarlyMedia, Code: 183, Reason: "Session Progress"})
}

// RingReady makes the A-leg ring.
func (b *bLeg) RingReady(_ context.Context, queued bool) error {
	pr := session.Progress{Kind: session.ProgressRinging, Code: 180, Reason: "Ringing"}
	if queued {
		pr.Code, pr.Reason = 182, "Queued"
	}
	return b.p.signal(pr)
}

// signal passes a step of B to A; it fails once A is gone, and does
// nothing more once A has been answered.
func (p *pair) signal(pr session.Progress) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.aDone || (p.final && !p.answered) {
		return errGone
	}
	p.emit(pr)
	return nil
}

// Respond treats code as a SIP endpoint would: 180-182 ring, 183
// pre-answers, 2xx answers, and a final error response fails the A-leg
// with the cause mapped from code and ends the B-leg with it.
func (b *bLeg) Respond(ctx context.Context, code int, reason string) error {
	p := b.p
	switch {
	case code == 183:
		return b.PreAnswer(ctx)
	case code > 100 && code < 200:
		return b.RingReady(ctx, code == 182)
	case code >= 200 && code < 300:
		return b.Answer(ctx)
	case code < 300 || code > 699:
		return fmt.Errorf("loopback: bad response code %d", code)
	}
	c := cause.FromSIP(code)
	p.mu.Lock()
	if p.final {
		p.mu.Unlock()
		return errors.New("loopback: a final response was already sent")
	}
	p.emit(session.Progress{Kind: session.ProgressFailed, Code: code, Reason: reason, Cause: c})
	p.mu.Unlock()
	if s := p.bSess.Load(); s != nil {
		s.Hangup(c)
	}
	return nil
}

// Redirect fails: a loopback call cannot be redirected.
func (b *bLeg) Redirect(context.Context, string) error {
	return errors.New("loopback: a loopback call cannot be redirected")
}

// Media is the leg's RTP stream, which exchanges audio with the A-leg's.
func (b *bLeg) Media() session.Media { return b.p.bStream }

// Hangup ends the leg (called once by its session): an A-leg not yet
// answered fails with c, an answered one is hung up with c; the stream
// is closed.
func (b *bLeg) Hangup(c cause.Cause) {
	p := b.p
	_ = p.bStream.Close()
	p.mu.Lock()
	if p.bDone {
		p.mu.Unlock()
		return
	}
	p.bDone = true
	p.emit(session.Progress{Kind: session.ProgressFailed, Code: c.SIP(), Cause: c})
	aDone := p.aDone
	p.mu.Unlock()
	if a := p.aSess.Load(); a != nil {
		a.Hangup(c)
	}
	if aDone {
		p.release()
	}
}
