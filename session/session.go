package session

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/dialplan"
	"github.com/switchboard-voip/switchboard/events"
	"github.com/switchboard-voip/switchboard/vars"
)

// Endpoint is the signalling side of one call leg (a SIP dialog). The
// session calls it from the call's goroutine; Hangup is called exactly
// once, when the session ends.
type Endpoint interface {
	// Name is the channel name, e.g. "sofia/internal/1000@127.0.0.1".
	Name() string
	// Answer answers the call (200 OK with SDP); a no-op once answered.
	Answer(ctx context.Context) error
	// PreAnswer opens early media (183 with SDP); a no-op once media is up.
	PreAnswer(ctx context.Context) error
	// RingReady signals ringing: 180, or 182 when queued.
	RingReady(ctx context.Context, queued bool) error
	// Respond sends a SIP response on an unanswered call; a final
	// response ends the dialog (the session then hangs up).
	Respond(ctx context.Context, code int, reason string) error
	// Redirect sends the caller to contact (302 before answer, REFER after).
	Redirect(ctx context.Context, contact string) error
	// Media returns the negotiated media (nil before SDP negotiation).
	Media() Media
	// Hangup ends the leg with c: a final response mapped from c when
	// unanswered, BYE with a Reason header when answered, nothing when the
	// far end already ended it.
	Hangup(c cause.Cause)
}

// Session is one call leg.
type Session struct {
	m       *Manager
	uuid    string
	ep      Endpoint
	log     *slog.Logger // &logger
	vars    *vars.Store
	dtmf    *dtmfQueue
	created time.Time

	logger slog.Logger    // over logH
	logH   callLogHandler // the manager's handler with uuid and channel

	ctx    context.Context // done at hangup
	cancel context.CancelFunc
	done   chan struct{} // closed once the session is destroyed

	mu       sync.Mutex
	profile  *caller.Profile
	snap     *conf.Snapshot // the config this call was routed with
	answered bool
	early    bool
	ringing  bool
	transfer bool // a transfer is pending: re-route after the running app
	parked   bool
	hangTmr  *time.Timer

	state    atomic.Int32
	hungup   atomic.Bool
	cause    atomic.Int32
	depth    int // execute_extension nesting
	lastApp  string
	lastData string

	ctl control // queue, break and hold (control.go)

	inband   inbandState  // in-band DTMF detection (inband.go)
	callRecs callRecState // record_session recordings (callrec.go)

	dm digitState // bind_digit_action and bind_meta_app (digit_actions.go)

	outbound  bool            // a leg we placed (outbound.go)
	nextSteps []dialplan.Step // run instead of the next hunt (RunApp)
	bridge    *bridgeLink     // the bridge this leg is in (bridge.go)
	nextBrg   *Session        // bridge to this leg instead of the next hunt (BridgeWith)
}

var _ apps.Session = (*Session)(nil)

// maxExecDepth bounds execute_extension nesting (SWITCH_MAX_STACKS).
const maxExecDepth = 16

// UUID returns the channel's UUID.
func (s *Session) UUID() string { return s.uuid }

// Context is done once the call has hung up.
func (s *Session) Context() context.Context { return s.ctx }

// State returns the channel state.
func (s *Session) State() State { return State(s.state.Load()) }

func (s *Session) setState(st State) {
	s.state.Store(int32(st))
	if s.log.Enabled(s.ctx, slog.LevelDebug) {
		s.log.Debug("state change", "state", st.String())
	}
	s.fire("CHANNEL_STATE", nil)
}

// Profile returns a copy of the current caller profile.
func (s *Session) Profile() *caller.Profile {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.profile.Clone()
}

// Vars returns the channel variables.
func (s *Session) Vars() *vars.Store { return s.vars }

// Get looks a name up as the executor does: channel variables, caller
// profile fields, runtime globals, the snapshot's globals.
func (s *Session) Get(name string) (string, bool) {
	if v, ok := s.vars.Get(name); ok {
		return v, true
	}
	s.mu.Lock()
	p, snap := s.profile, s.snap
	s.mu.Unlock()
	if v, ok := p.Get(name); ok {
		return v, true
	}
	if v, ok := s.m.cfg.Globals.Get(name); ok {
		return v, true
	}
	if snap != nil {
		return snap.Get(name)
	}
	if cur := s.m.cfg.Snapshot(); cur != nil {
		return cur.Get(name)
	}
	return "", false
}

// Expand performs ${} expansion in this channel's scope.
func (s *Session) Expand(str string) string { return vars.Expand(str, s, s.m.cfg.API) }

// SetGlobal sets a runtime global variable; like FreeSWITCH, a ${
// reference in the value is defused to %{.
func (s *Session) SetGlobal(name, value string) { s.m.cfg.Globals.Set(name, vars.Defuse(value)) }

// Log writes to the channel's log.
func (s *Session) Log(level slog.Level, msg string) { s.log.Log(s.ctx, level, msg) }

// Logger returns the channel's logger.
func (s *Session) Logger() *slog.Logger { return s.log }

// Ready reports whether the call is still up.
func (s *Session) Ready() bool { return !s.hungup.Load() }

// Answered reports whether the call was answered.
func (s *Session) Answered() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.answered
}

// HangupCause returns the cause the call ended with (0 while it is up).
func (s *Session) HangupCause() cause.Cause { return cause.Cause(s.cause.Load()) }

// Answer answers the call.
func (s *Session) Answer() error { return s.answerWith(s.ep.Answer) }

// answerWith answers the call with send (the endpoint's answer, or
// bypass_media's answer with the B-leg's SDP) and does the bookkeeping:
// answer time and variables, CHANNEL_ANSWER. Once answered it does
// nothing.
func (s *Session) answerWith(send func(context.Context) error) error {
	if !s.Ready() {
		return fmt.Errorf("channel is hung up")
	}
	s.mu.Lock()
	done := s.answered
	s.mu.Unlock()
	if done {
		return nil
	}
	if err := send(s.ctx); err != nil {
		return err
	}
	now := time.Now().UnixMicro()
	s.mu.Lock()
	s.answered, s.early = true, true
	s.profile.AnsweredTime = now
	s.mu.Unlock()
	epoch, uepoch := epochs(now)
	s.vars.Set("answer_epoch", epoch)
	s.vars.Set("answer_uepoch", uepoch)
	s.fire("CHANNEL_ANSWER", nil)
	return nil
}

// PreAnswer opens early media.
func (s *Session) PreAnswer() error { return s.preAnswerWith(s.ep.PreAnswer) }

// preAnswerWith is answerWith for early media: send, then the progress
// media time and CHANNEL_PROGRESS_MEDIA, once.
func (s *Session) preAnswerWith(send func(context.Context) error) error {
	if !s.Ready() {
		return fmt.Errorf("channel is hung up")
	}
	s.mu.Lock()
	done := s.early
	s.mu.Unlock()
	if done {
		return nil
	}
	if err := send(s.ctx); err != nil {
		return err
	}
	s.mu.Lock()
	s.early = true
	s.profile.ProgressMediaTime = time.Now().UnixMicro()
	s.mu.Unlock()
	s.fire("CHANNEL_PROGRESS_MEDIA", nil)
	return nil
}

// RingReady signals ringing.
func (s *Session) RingReady(queued bool) error {
	if !s.Ready() {
		return fmt.Errorf("channel is hung up")
	}
	if err := s.ep.RingReady(s.ctx, queued); err != nil {
		return err
	}
	s.markRinging()
	return nil
}

// Respond sends a SIP response on an unanswered call.
func (s *Session) Respond(code int, reason string) error {
	if s.Answered() {
		return fmt.Errorf("respond: the call is already answered")
	}
	return s.ep.Respond(s.ctx, code, reason)
}

// Redirect sends the caller to contact.
func (s *Session) Redirect(contact string) error { return s.ep.Redirect(s.ctx, contact) }

// Hangup ends the call with c; the first cause wins. Safe from any
// goroutine: it cancels the call's context, so blocking applications
// return, and the call's goroutine finishes the hangup.
func (s *Session) Hangup(c cause.Cause) {
	if s.hungup.Swap(true) {
		return
	}
	s.cause.Store(int32(c))
	if s.log.Enabled(s.ctx, slog.LevelInfo) {
		s.log.Info("hangup", "cause", c.String())
	}
	s.cancel()
}

// ScheduleHangup hangs the call up with c after d; d <= 0 cancels.
func (s *Session) ScheduleHangup(d time.Duration, c cause.Cause) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hangTmr != nil {
		s.hangTmr.Stop()
		s.hangTmr = nil
	}
	if d > 0 {
		s.hangTmr = time.AfterFunc(d, func() { s.Hangup(c) })
	}
}

// DTMF returns the queue of received digits.
func (s *Session) DTMF() apps.DTMFQueue { return s.dtmf }

// QueueDTMF adds a received digit to the queue; endpoints call it (from
// any goroutine).
func (s *Session) QueueDTMF(d rune) { s.queueDigit(d, "RTP") }

// queueDigit queues a received digit and fires its DTMF event; source is
// the DTMF-Source header (RTP, INBAND_AUDIO). A digit consumed by the
// digit machine or a meta key (digit_actions.go) is neither queued nor
// fired, as FreeSWITCH's switch_core_session_recv_dtmf drops digits it
// has fed to them.
func (s *Session) queueDigit(d rune, source string) {
	if s.consumeDigit(d) {
		return
	}
	s.pushDigit(d, source)
}

// pushDigit queues a digit for applications and fires its DTMF event,
// past the digit machine and meta keys.
func (s *Session) pushDigit(d rune, source string) {
	s.dtmf.push(d)
	s.fire("DTMF", func(e *events.Event) {
		e.Add("DTMF-Digit", string(d))
		e.Add("DTMF-Source", source)
	})
}

// Park stops the action list and keeps the call up until it is
// transferred or hung up.
func (s *Session) Park() {
	s.mu.Lock()
	s.parked = true
	s.mu.Unlock()
}

// Start runs the session on its own goroutine.
func (s *Session) Start() {
	if s.m.closed.Load() {
		s.Hangup(cause.CSystemShutdown)
	}
	s.fire("CHANNEL_CREATE", nil)
	go s.run()
}

// run is the channel's state machine: init, routing, execute (looping
// back to routing on transfer), park, hangup, reporting, destroy.
func (s *Session) run() {
	defer s.finish()
	s.setState(CSInit)
	s.routeLoop()
}

// routeLoop routes and executes until the call ends or parks for good:
// a transfer routes again.
func (s *Session) routeLoop() {
	for s.Ready() {
		if b := s.takeNextBridge(); b != nil {
			// uuid_bridge or intercept: the bridge is this call's
			// whole action list.
			s.setState(CSExecute)
			s.runBridgeWith(b)
		} else {
			s.setState(CSRouting)
			steps, ok := s.route()
			if !ok {
				s.log.Info("No Route, Aborting")
				s.Hangup(cause.CNoRouteDestination)
				break
			}
			s.setState(CSExecute)
			s.execute(steps)
		}
		if s.takeTransfer() {
			continue
		}
		if s.takePark() {
			s.setState(CSPark)
			s.waitParked()
			if s.takeTransfer() {
				continue
			}
			break
		}
		if s.Ready() {
			s.log.Info("has executed the last dialplan instruction, hanging up")
			s.Hangup(cause.CNormalClearing)
		}
	}
}

func (s *Session) takeTransfer() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.transfer
	s.transfer = false
	return t && !s.hungup.Load()
}

func (s *Session) takePark() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.parked
	s.parked = false
	return p && !s.hungup.Load()
}

// waitParked blocks until the call hangs up or is transferred.
func (s *Session) waitParked() {
	s.fire("CHANNEL_PARK", nil)
	defer s.fire("CHANNEL_UNPARK", nil)
	s.parkLoop()
}

// route takes the current snapshot and hunts the caller's context.
func (s *Session) route() ([]dialplan.Step, bool) {
	snap := s.m.cfg.Snapshot()
	s.mu.Lock()
	s.snap = snap
	p := s.profile
	if steps := s.nextSteps; steps != nil {
		s.nextSteps = nil
		s.mu.Unlock()
		return steps, true
	}
	s.mu.Unlock()
	res := s.hunt(snap, p)
	if !res.Found {
		return nil, false
	}
	return res.Actions, true
}

func (s *Session) hunt(snap *conf.Snapshot, p *caller.Profile) *dialplan.Result {
	env := &dialplan.Env{
		Profile:     p,
		Vars:        s.vars,
		Globals:     vars.Chain{s.m.cfg.Globals, snap},
		API:         s.m.cfg.API,
		Inline:      s.inline,
		ChannelName: p.ChanName,
	}
	if s.log.Enabled(s.ctx, slog.LevelDebug) {
		env.Trace = func(line string) { s.log.Debug(line) }
	}
	if s.log.Enabled(s.ctx, slog.LevelInfo) {
		s.log.Info(fmt.Sprintf("Processing %s <%s>->%s in context %s", p.CallerIDName, p.CallerIDNumber, p.DestinationNumber, p.Context))
	}
	start := time.Now()
	res := snap.Dialplan.Hunt(env)
	s.m.huntDone(res.Found, start)
	return res
}

// inline runs an inline="true" action during the hunt, as exec_app does.
func (s *Session) inline(app, data string) {
	flags, known := apps.FlagsOf(app)
	if _, ok := apps.Lookup(app); !ok || !known {
		s.log.Error("Invalid Application " + app)
		s.Hangup(cause.CDestinationOutOfOrder)
		return
	}
	if flags&apps.RoutingExec == 0 {
		s.log.Error("This application cannot be executed inline", "app", app)
		return
	}
	s.exec(app, data)
}

// execute runs an action list until it ends or the channel leaves
// CS_EXECUTE (hangup, transfer, park).
func (s *Session) execute(steps []dialplan.Step) {
	for _, st := range steps {
		s.runQueued()
		if !s.Ready() || s.pendingStop() {
			return
		}
		s.exec(st.App, st.Data)
	}
	s.runQueued()
}

func (s *Session) pendingStop() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transfer || s.parked
}

// exec runs one application the way switch_core_session_execute_application
// does: unknown → DESTINATION_OUT_OF_ORDER; after hangup only zombie apps;
// media apps pre-answer first; data is ${}-expanded; a panic ends this
// call only.
func (s *Session) exec(app, data string) {
	a, ok := apps.Lookup(app)
	if !ok {
		s.log.Error("Invalid Application " + app)
		s.Hangup(cause.CDestinationOutOfOrder)
		return
	}
	if !s.Ready() && a.Flags&apps.ZombieExec == 0 {
		return
	}
	if a.Flags&apps.SupportNoMedia == 0 && s.Ready() {
		s.mu.Lock()
		early := s.early
		s.mu.Unlock()
		if !early {
			if err := s.PreAnswer(); err != nil {
				s.log.Warn("pre-answer failed", "app", app, "err", err)
			}
		}
	}
	if v, _ := s.vars.Get("app_disable_expand_variables"); !caller.True(v) {
		data = s.Expand(data)
	}
	s.vars.Set("current_application", app)
	s.vars.Set("current_application_data", data)
	s.vars.Unset("current_application_response")
	s.mu.Lock()
	s.lastApp, s.lastData = app, data
	s.mu.Unlock()
	if s.log.Enabled(s.ctx, slog.LevelDebug) {
		s.log.Debug(fmt.Sprintf("EXECUTE [depth=%d] %s %s(%s)", s.depth, s.profile.ChanName, app, data))
	}
	s.fire("CHANNEL_EXECUTE", func(e *events.Event) {
		e.Add("Application", app)
		e.Add("Application-Data", data)
	})
	defer s.fire("CHANNEL_EXECUTE_COMPLETE", func(e *events.Event) {
		resp, ok := s.vars.Get("current_application_response")
		if !ok || resp == "" {
			resp = "_none_"
		}
		e.Add("Application", app)
		e.Add("Application-Data", data)
		e.Add("Application-Response", resp)
	})
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("application panicked; ending this call", "app", app, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			s.Hangup(cause.CCrash)
		}
	}()
	start := time.Now()
	if err := a.Run(s.ctx, s, data); err != nil {
		s.log.Warn("application failed", "app", app, "data", data, "err", err)
	}
	s.m.appDone(app, start)
}

// Transfer re-routes the call (spec §2.9): the running action list stops
// after the current application and a full hunt of exten follows.
func (s *Session) Transfer(exten, dp, ctxName string) error {
	if !s.Ready() {
		return fmt.Errorf("channel is hung up")
	}
	limit := 70
	for _, name := range []string{"max_session_transfers", "max_forwards"} {
		if v, ok := s.vars.Get(name); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				limit = n
				break
			}
		}
	}
	limit--
	if limit <= 0 {
		s.log.Error("max transfers reached", "exten", exten)
		s.Hangup(cause.CExchangeRoutingError)
		return fmt.Errorf("too many transfers")
	}
	s.vars.Set("max_session_transfers", strconv.Itoa(limit))
	s.mu.Lock()
	old := s.profile
	s.mu.Unlock()
	if exten == "" {
		exten = "service"
	}
	if dp == "" {
		if v, ok := s.vars.Get("force_transfer_dialplan"); ok {
			dp = v
		} else if old.Dialplan != "" && !strings.EqualFold(old.Dialplan, "inline") {
			dp = old.Dialplan
		} else {
			dp = "XML"
		}
	}
	if ctxName == "" {
		if v, ok := s.vars.Get("force_transfer_context"); ok {
			ctxName = v
		} else if old.Context != "" {
			ctxName = old.Context
		} else {
			ctxName = "default"
		}
	}
	p := old.Clone()
	p.RDNIS = old.DestinationNumber
	p.DestinationNumber = exten
	p.Dialplan = dp
	p.Context = ctxName
	now := time.Now()
	p.TransferredTime = now.UnixMicro()
	src := fmt.Sprintf("%d:%s:bl_xfer:%s/%s/%s", now.Unix(), s.uuid, exten, ctxName, dp)
	p.TransferSource = src
	s.vars.Set("transfer_source", src)
	s.vars.Push("transfer_history", src)
	s.mu.Lock()
	s.profile = p
	s.transfer = true
	s.parked = false
	s.mu.Unlock()
	s.ctl.signal()
	s.log.Info(fmt.Sprintf("Transfer %s to %s[%s@%s]", old.ChanName, dp, exten, ctxName))
	return nil
}

// ExecuteExtension hunts exten with a cloned profile and runs the
// resulting actions nested, then returns; nothing found just returns.
func (s *Session) ExecuteExtension(exten, dp, ctxName string) error {
	if s.depth >= maxExecDepth {
		return fmt.Errorf("execute_extension nested too deep")
	}
	s.mu.Lock()
	old, snap := s.profile, s.snap
	s.mu.Unlock()
	if snap == nil {
		snap = s.m.cfg.Snapshot()
	}
	p := old.Clone()
	p.DestinationNumber = exten
	if dp != "" {
		p.Dialplan = dp
	}
	if ctxName != "" {
		p.Context = ctxName
	}
	res := s.hunt(snap, p)
	if !res.Found {
		return nil
	}
	s.mu.Lock()
	s.profile = p
	s.mu.Unlock()
	s.depth++
	s.execute(res.Actions)
	s.depth--
	s.mu.Lock()
	if !s.transfer {
		s.profile = old
	}
	s.mu.Unlock()
	return nil
}

// finish completes the hangup: the endpoint ends the leg, the hangup
// variables are set, and the session leaves the manager.
func (s *Session) finish() {
	if !s.hungup.Load() {
		s.Hangup(cause.CNormalClearing)
	}
	s.setState(CSHangup)
	s.mu.Lock()
	if s.hangTmr != nil {
		s.hangTmr.Stop()
	}
	s.mu.Unlock()
	c := s.HangupCause()
	func() {
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("endpoint hangup panicked", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			}
		}()
		s.ep.Hangup(c)
	}()
	// The media is gone: record_session files are complete; close them
	// before the CDR and the events that announce the end.
	s.StopCallRecording("all")
	now := time.Now()
	s.vars.Set("hangup_cause", c.String())
	s.vars.Set("hangup_cause_q850", strconv.Itoa(c.Q850()))
	s.fire("CHANNEL_HANGUP", nil)
	s.mu.Lock()
	s.profile.HungupTime = now.UnixMicro()
	s.mu.Unlock()
	s.setTimestamps()
	s.setState(CSReporting)
	s.fire("CHANNEL_HANGUP_COMPLETE", nil)
	s.report()
	s.setState(CSDestroy)
	s.fire("CHANNEL_DESTROY", nil)
	s.m.remove(s)
	if s.log.Enabled(s.ctx, slog.LevelInfo) {
		s.log.Info("session destroyed", "cause", c.String())
	}
	close(s.done)
}

// Done is closed once the session has been destroyed (hangup complete).
func (s *Session) Done() <-chan struct{} { return s.done }

// MediaReady reports whether the call has media (early or answered).
func (s *Session) MediaReady() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.early || s.answered
}
