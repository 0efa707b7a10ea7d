package scripting

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/commands"
	"github.com/switchboard-voip/switchboard/events"
)

// Session is a script's handle on a channel: FreeSWITCH's CoreSession and
// the Lua binding's additions (input callback, hangup hook), written once
// so that every language binds the same behaviour. Method names follow
// the script API (Answer is session:answer, GetDigits session:getDigits),
// and so do the results: the int methods return FreeSWITCH's 1/0 (and
// -1 on an object without a channel), the bool ones bools, the string
// ones strings.
//
// A Session is used from the script's goroutine only. The language
// binding supplies the callbacks through SetHooks.
//
// Differences from FreeSWITCH that follow from the call core are in
// docs/COMPATIBILITY.md ("Lua").
type Session struct {
	sess apps.Session // nil for an object without a channel
	uuid string
	env  commands.Env
	log  *slog.Logger
	ctx  context.Context // the run's context (time limit); never nil

	allocated  bool
	autoHangup bool // S_HUP: hang up when destroyed
	cause      cause.Cause

	hooks     Hooks
	input     bool   // an input callback is set
	hook      bool   // a hangup hook is set and has not run
	hookBase  string // hookState() when the hook was set
	downNoted bool   // noteHangup ran

	ttsEngine, ttsVoice string

	mu     sync.Mutex
	events []*events.Event // events queued to this session (sendEvent)
}

// Hooks are the language binding's callbacks.
type Hooks interface {
	// Input runs the input callback for one digit or event and returns
	// what it returned, converted to a string as lua_tostring converts
	// it: "" for nil, booleans and other non-strings; "SCRIPT_ERROR"
	// when the callback failed (the binding logs the error).
	Input(in Input) string
	// HangupHook runs the hangup hook with "hangup" or "transfer". A hook
	// that returns "exit" or "die" ends the script: the binding raises
	// its language's error from here.
	HangupHook(state string)
}

// Input is what an input callback receives: a digit, or an event.
type Input struct {
	Digit    rune
	Duration int           // the digit's duration in samples
	Event    *events.Event // nil for a digit
}

// DefaultDTMFDuration is the duration input callbacks are given for a
// digit, in samples (FreeSWITCH's SWITCH_DEFAULT_DTMF_DURATION); the
// call core does not keep the received one.
const DefaultDTMFDuration = 2000

// NewSession returns the object for the channel a script runs on: bound
// to s, not hung up when the script ends.
func NewSession(s apps.Session, env commands.Env, log *slog.Logger) *Session {
	if log == nil {
		log = channelLogger(s)
	}
	return &Session{sess: s, uuid: s.UUID(), env: env, log: log, ctx: context.Background(), allocated: true, cause: cause.CNone}
}

// NewEmptySession returns an object without a channel, as
// freeswitch.Session() without arguments makes one for Originate.
func NewEmptySession(env commands.Env, log *slog.Logger) *Session {
	if log == nil {
		log = slog.Default()
	}
	return &Session{env: env, log: log, ctx: context.Background(), cause: cause.CNone}
}

// Originator is implemented by an Env that can place outbound calls (the
// switch does, through its call core). Without one every originate fails
// as FreeSWITCH's does for a channel type it does not know
// (CHAN_NOT_IMPLEMENTED).
type Originator interface {
	// Originate calls dial (a FreeSWITCH dial string) for up to timeout,
	// aLeg being the calling channel (nil: none), and returns the
	// answered channel, or nil and the cause of the failure. With an
	// aLeg, the originate's result variables (originate_disposition,
	// DIALSTATUS, ...) are set on it, it hears the ring-back, and its
	// hangup cancels the call. The answered channel waits, doing nothing,
	// for the script to use it.
	Originate(ctx context.Context, aLeg apps.Session, dial string, timeout time.Duration) (apps.Session, cause.Cause)
}

// LegBridger is implemented by channels that can be bridged in place to
// another channel of the same switch (the call core's sessions):
// BridgeLeg connects the two, answering the receiver first if needed,
// and returns when the bridge is over; the other channel is hung up then
// unless it was transferred.
type LegBridger interface {
	BridgeLeg(other apps.Session) error
}

// OpenSession is freeswitch.Session(dial_or_uuid [, aLeg]): a string
// without '/' that names a live channel attaches to it (not hung up when
// the object goes); anything else is originated with a 60 s timeout, and
// the object hangs the new channel up when it goes unless SetAutoHangup
// says otherwise. A failed originate leaves an object whose Ready is
// false and whose HangupCause tells why.
func OpenSession(ctx context.Context, env commands.Env, log *slog.Logger, dial string, aLeg *Session) *Session {
	s := NewEmptySession(env, log)
	s.ctx = ctx
	if !strings.Contains(dial, "/") {
		if c, ok := env.(commands.Core); ok && c.Sessions() != nil {
			if live := c.Sessions().Get(dial); live != nil {
				s.sess, s.uuid, s.allocated = live, live.UUID(), true
				return s
			}
		}
	}
	s.cause = cause.CDestinationOutOfOrder
	if s.originate(aLeg, dial, 60*time.Second) {
		s.autoHangup = true
	}
	return s
}

// SetContext sets the context that bounds the object's waits (the run's
// context, with its time limit); nil is ignored. The runner sets it for
// the channel's own object; a binding sets it for the objects a script
// creates.
func (s *Session) SetContext(ctx context.Context) {
	if ctx != nil {
		s.ctx = ctx
	}
}

// SetHooks installs the binding's callbacks.
func (s *Session) SetHooks(h Hooks) { s.hooks = h }

// Channel returns the channel the object is bound to, or nil.
func (s *Session) Channel() apps.Session {
	if !s.allocated {
		return nil
	}
	return s.sess
}

// UUID returns the channel's UUID ("" for an object without a channel).
func (s *Session) UUID() string { return s.uuid }

// Allocated reports whether the object still holds a channel (not
// destroyed, not a failed originate).
func (s *Session) Allocated() bool { return s.allocated && s.sess != nil }

// Logger returns the logger the object logs with.
func (s *Session) Logger() *slog.Logger { return s.log }

// sane is FreeSWITCH's sanity_check: false, and an error logged, for an
// object without a channel.
func (s *Session) sane() bool {
	if s.allocated && s.sess != nil {
		return true
	}
	s.log.Error("session is not initalized")
	return false
}

// callCtx is done when the run's context or the call's is: media waits
// end at hangup and at the time limit.
func (s *Session) callCtx() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(s.ctx)
	if cc := s.sess.Context(); cc != nil {
		if cc.Err() != nil {
			cancel()
			return ctx, cancel
		}
		stop := context.AfterFunc(cc, cancel)
		return ctx, func() { stop(); cancel() }
	}
	return ctx, cancel
}

// transferring reports whether a transfer of the channel is pending.
func (s *Session) transferring() bool {
	t, ok := s.sess.(interface{ TransferPending() bool })
	return ok && t.TransferPending()
}

// stateName is the channel state FreeSWITCH would report: CS_HANGUP once
// hung up, CS_ROUTING while a transfer is pending (FreeSWITCH changes the
// state at once; the call core when the running application returns).
func (s *Session) stateName() string {
	switch {
	case !s.sess.Ready():
		return "CS_HANGUP"
	case s.transferring():
		return "CS_ROUTING"
	}
	if n, ok := s.sess.(interface{ StateName() string }); ok {
		return n.StateName()
	}
	return "CS_EXECUTE"
}

// channelReady is switch_channel_ready: up, past routing, not being
// transferred.
func (s *Session) channelReady() bool {
	if !s.sess.Ready() || s.transferring() {
		return false
	}
	switch s.stateName() {
	case "CS_NEW", "CS_INIT", "CS_ROUTING", "CS_HANGUP", "CS_RESET", "CS_REPORTING", "CS_DESTROY":
		return false
	}
	return true
}

// hookState is "hangup" once the channel hung up, "transfer" while it is
// being transferred, "" otherwise.
func (s *Session) hookState() string {
	switch {
	case !s.sess.Ready():
		return "hangup"
	case s.transferring():
		return "transfer"
	}
	return ""
}

// allowThreads is where FreeSWITCH's begin/end_allow_threads run a
// pending hangup hook: before and after every blocking method, and in
// Ready. The hook runs once, when the channel's state changed to hangup
// or transfer since it was set.
func (s *Session) allowThreads() {
	if s.sess == nil {
		return
	}
	if !s.downNoted && !s.sess.Ready() {
		s.noteHangup()
	}
	if !s.hook || s.hooks == nil {
		return
	}
	st := s.hookState()
	if st == "" || st == s.hookBase {
		return
	}
	s.hook = false
	s.hooks.HangupHook(st)
}

// noteHangup is the part of FreeSWITCH's hangup state processing a
// script sees: hangup_cause and hangup_cause_q850 are set on the channel
// (the call core sets them again when the channel is destroyed).
func (s *Session) noteHangup() {
	s.downNoted = true
	hc, ok := s.sess.(interface{ HangupCause() cause.Cause })
	if !ok {
		return
	}
	c := hc.HangupCause()
	if c == cause.CNone {
		c = cause.CNormalClearing
	}
	v := s.sess.Vars()
	if _, set := v.Get("hangup_cause"); !set {
		v.Set("hangup_cause", c.String())
		v.Set("hangup_cause_q850", strconv.Itoa(c.Q850()))
	}
}

// Answer answers the channel: 1 on success, 0 on failure.
func (s *Session) Answer() int {
	if !s.sane() {
		return -1
	}
	return status(s.sess.Answer() == nil)
}

// PreAnswer opens early media: 1 on success, 0 on failure.
func (s *Session) PreAnswer() int {
	if !s.sane() {
		return -1
	}
	return status(s.sess.PreAnswer() == nil)
}

// Hangup hangs the channel up with the cause called name (a cause name
// or number; unknown names are NORMAL_CLEARING).
func (s *Session) Hangup(name string) {
	if !s.sane() {
		return
	}
	s.log.Debug("CoreSession::hangup")
	s.allowThreads()
	s.sess.Hangup(cause.Parse(name))
	s.allowThreads()
}

// HangupState lets a hung-up channel's hangup processing run: the
// hangup_cause variables are set, and a pending hangup hook runs. (Every
// blocking method does as much; the call core does the rest on its own.)
func (s *Session) HangupState() {
	if !s.sane() {
		return
	}
	s.allowThreads()
	s.allowThreads()
}

// HangupCause returns the cause the object holds: the originate cause
// for an object that placed a call, "NONE" for the script's own channel
// whatever happened to it (read the hangup_cause variable instead).
func (s *Session) HangupCause() string { return s.cause.String() }

// Ready reports whether the channel is up, past routing and not being
// transferred; it also runs a pending hangup hook.
func (s *Session) Ready() bool {
	if s.sess == nil || !s.allocated {
		return false
	}
	r := s.channelReady()
	s.allowThreads()
	return r
}

// Answered reports whether the channel was answered.
func (s *Session) Answered() bool {
	if !s.sane() {
		return false
	}
	return s.sess.Answered()
}

// MediaReady reports whether the channel has media (answered or early).
func (s *Session) MediaReady() bool {
	if !s.sane() {
		return false
	}
	if m, ok := s.sess.(interface{ MediaReady() bool }); ok {
		return s.sess.Ready() && m.MediaReady()
	}
	return s.sess.Ready() && s.sess.Answered()
}

// Bridged reports whether the channel is up and bridged to another.
func (s *Session) Bridged() bool {
	if s.sess == nil || !s.allocated {
		return false
	}
	b, ok := s.sess.(interface{ Bridged() bool })
	return ok && s.sess.Ready() && b.Bridged()
}

// GetVariable returns a variable as switch_channel_get_variable does:
// the channel's, then the caller profile's fields, then the globals; ok is
// false when it is not set. An object without a channel returns "", true.
func (s *Session) GetVariable(name string) (value string, ok bool) {
	if !s.sane() {
		return "", true
	}
	if name == "" {
		return "", false
	}
	if g, isGetter := s.sess.(interface{ Get(string) (string, bool) }); isGetter {
		return g.Get(name)
	}
	return s.sess.Vars().Get(name)
}

// SetVariable sets a channel variable; an empty value unsets it.
func (s *Session) SetVariable(name, value string) {
	if !s.sane() || name == "" {
		return
	}
	if s.log.Enabled(context.Background(), slog.LevelDebug) {
		s.log.Debug(fmt.Sprintf("CoreSession::setVariable('%s', '%s')", name, value))
	}
	if value == "" {
		s.sess.Vars().Unset(name)
		return
	}
	s.sess.Vars().Set(name, value)
}

// Execute runs an application as a dialplan action runs: ${} expansion,
// automatic pre-answer, events, an unknown name hanging up with
// DESTINATION_OUT_OF_ORDER, only zombie applications after hangup. A
// transfer inside sets the channel to routing and the script goes on.
func (s *Session) Execute(app, data string) {
	if !s.sane() {
		return
	}
	if app == "" {
		s.log.Error("No application specified")
		return
	}
	s.allowThreads()
	Execute(s.sess, app, data)
	s.allowThreads()
}

// ExecuteString is Execute with the application and its data in one
// string, split at the first space. FreeSWITCH's CoreSession has no such
// method though the mod_lua documentation shows one; scripts that call it
// get what the documentation promises.
func (s *Session) ExecuteString(cmd string) {
	app, data, _ := strings.Cut(strings.TrimLeft(cmd, " "), " ")
	s.Execute(app, data)
}

// Execute runs app with data on the channel through the application
// registry, as the dialplan's execute loop does. A channel of the call
// core runs it through its own loop (ExecuteApp); any other gets the same
// rules applied here.
func Execute(ch apps.Session, app, data string) {
	if x, ok := ch.(interface{ ExecuteApp(app, data string) }); ok {
		x.ExecuteApp(app, data)
		return
	}
	a, ok := apps.Lookup(app)
	if !ok {
		ch.Log(slog.LevelError, "Invalid Application "+app)
		ch.Hangup(cause.CDestinationOutOfOrder)
		return
	}
	if !ch.Ready() && a.Flags&apps.ZombieExec == 0 {
		return
	}
	if a.Flags&apps.SupportNoMedia == 0 && ch.Ready() {
		_ = ch.PreAnswer()
	}
	data = ch.Expand(data)
	if err := a.Run(ch.Context(), ch, data); err != nil {
		ch.Log(slog.LevelWarn, fmt.Sprintf("application %s(%s) failed: %v", app, data, err))
	}
}

// ConsoleLog logs msg at the FreeSWITCH level called level (an unknown
// name logs at debug), with the channel's identity.
func (s *Session) ConsoleLog(level, msg string) { ConsoleLog(s.log, level, msg) }

// ConsoleLog logs msg at the FreeSWITCH level called level, as
// switch_log_str2level reads it: an unknown name (such as "error" or
// "warn") logs at debug. One trailing line break is dropped.
func ConsoleLog(log *slog.Logger, level, msg string) {
	l := apps.ParseLogLevel(level)
	if l == apps.LogInvalid {
		l = apps.LogDebug
	}
	log.Log(context.Background(), l.Slog(), strings.TrimSuffix(msg, "\n"))
}

// Transfer transfers the channel to ext in dialplan dp and context cx
// (empty: XML and the current context): 1 on success.
func (s *Session) Transfer(ext, dp, cx string) int {
	if !s.sane() {
		return -1
	}
	s.allowThreads()
	err := s.sess.Transfer(ext, dp, cx)
	if s.log.Enabled(context.Background(), slog.LevelDebug) {
		s.log.Debug(fmt.Sprintf("transfer result: %v", err))
	}
	s.allowThreads()
	return status(err == nil)
}

// FlushDigits discards the queued digits; it returns 0.
func (s *Session) FlushDigits() int {
	if !s.sane() {
		return -1
	}
	s.sess.DTMF().Flush()
	return 0
}

// FlushEvents discards the events queued to the session; it returns 0.
func (s *Session) FlushEvents() int {
	if !s.sane() {
		return -1
	}
	s.mu.Lock()
	s.events = nil
	s.mu.Unlock()
	return 0
}

// SetAutoHangup says whether the channel is hung up when the object is
// destroyed (at the end of the script): 0, or -1 without a channel.
func (s *Session) SetAutoHangup(on bool) int {
	if !s.sane() {
		return -1
	}
	s.autoHangup = on
	return 0
}

// AutoHangup reports whether the channel is hung up when the object is
// destroyed.
func (s *Session) AutoHangup() bool { return s.autoHangup }

// SetInputCallback says whether an input callback is set; the binding
// keeps the callback itself and runs it from Hooks.Input.
func (s *Session) SetInputCallback(on bool) {
	if !s.sane() {
		return
	}
	s.input = on
}

// InputCallback reports whether an input callback is set.
func (s *Session) InputCallback() bool { return s.input }

// SetHangupHook arms (or, with false, disarms) the hangup hook: it runs
// once, at the next blocking method or Ready after the channel hangs up
// or is transferred.
func (s *Session) SetHangupHook(on bool) {
	if !s.sane() {
		return
	}
	s.hook = on
	s.hookBase = s.hookState()
}

// CheckHangupHook runs the hangup hook if its moment has come.
func (s *Session) CheckHangupHook() {
	if s.sess != nil && s.allocated {
		s.allowThreads()
	}
}

// SetTTSParams sets the engine and voice Speak uses.
func (s *Session) SetTTSParams(engine, voice string) {
	if !s.sane() {
		return
	}
	s.ttsEngine, s.ttsVoice = engine, voice
}

// GetState returns the channel state's name ("CS_EXECUTE", "CS_HANGUP",
// ...), or "ERROR" for an object without a channel.
func (s *Session) GetState() string {
	if s.sess == nil || !s.allocated {
		return "ERROR"
	}
	return s.stateName()
}

// SendEvent queues a copy of e to the session: the input callback gets it
// during the next streamFile, sleep, recordFile or collectDigits.
func (s *Session) SendEvent(e *events.Event) {
	if !s.sane() || e == nil {
		return
	}
	s.mu.Lock()
	s.events = append(s.events, e.Clone())
	s.mu.Unlock()
}

// SetEventData adds the channel's headers and variables to e.
func (s *Session) SetEventData(e *events.Event) {
	if !s.sane() || e == nil {
		return
	}
	if d, ok := s.sess.(interface {
		AddEventData(*events.Event, bool)
	}); ok {
		d.AddEventData(e, true)
		return
	}
	e.Add("Unique-ID", s.uuid)
}

// popEvent takes the first queued event.
func (s *Session) popEvent() *events.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.events) == 0 {
		return nil
	}
	e := s.events[0]
	s.events = s.events[1:]
	return e
}

func (s *Session) hasEvent() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.events) > 0
}

// WaitForAnswer waits until the channel is answered or gone (at most its
// call_timeout, 60 s by default). other is the calling channel, which
// FreeSWITCH would give ring-back to; it is not used yet.
func (s *Session) WaitForAnswer(other *Session) {
	if !s.sane() {
		return
	}
	limit := 60 * time.Second
	if v, ok := s.GetVariable("call_timeout"); ok {
		if n := atoi(v); n > 0 {
			limit = time.Duration(n) * time.Second
		}
	}
	ctx, cancel := s.callCtx()
	defer cancel()
	t := time.NewTimer(limit)
	defer t.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for s.sess.Ready() && !s.sess.Answered() {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			return
		case <-tick.C:
		}
	}
}

// Originate places a call from an empty object (session:originate):
// FreeSWITCH's inverted result, 0 on success and 1 on failure; 0 too,
// with an error logged, when dest is empty. Unlike OpenSession it does not
// turn auto-hangup on: as in FreeSWITCH, the new channel outlives the
// script unless the script hangs it up, bridges it, or calls
// SetAutoHangup(true).
func (s *Session) Originate(aLeg *Session, dest string, timeoutSec int) int {
	if dest == "" {
		s.log.Error("Missing destination.")
		return 0
	}
	if timeoutSec <= 0 {
		timeoutSec = 60
	}
	s.cause = cause.CDestinationOutOfOrder
	if aLeg != nil && aLeg.sess != nil {
		aLeg.allowThreads()
		defer aLeg.allowThreads()
	}
	if s.originate(aLeg, dest, time.Duration(timeoutSec)*time.Second) {
		return 0
	}
	return 1
}

func (s *Session) originate(aLeg *Session, dial string, timeout time.Duration) bool {
	o, ok := s.env.(Originator)
	if !ok {
		s.cause = cause.CChanNotImplemented
		s.log.Warn(fmt.Sprintf("Error Creating Outgoing Channel! [%s] (outbound calls are not supported yet)", dial))
		return false
	}
	var a apps.Session
	if aLeg != nil && aLeg.Allocated() {
		a = aLeg.sess
	}
	leg, c := o.Originate(s.ctx, a, dial, timeout)
	if leg == nil {
		if c == 0 {
			c = cause.CDestinationOutOfOrder
		}
		s.cause = c
		s.log.Warn(fmt.Sprintf("Error Creating Outgoing Channel! [%s]", dial))
		return false
	}
	s.sess, s.uuid, s.allocated, s.cause = leg, leg.UUID(), true, cause.CSuccess
	return true
}

// Bridge is freeswitch.bridge(a, b) with a the receiver: when both
// objects hold a ready channel, a is bridged to other until either hangs
// up (the hangup hook's moments before and after, as around every
// blocking method); other is hung up when the bridge ends unless it was
// transferred. Otherwise FreeSWITCH's "Channels not ready" is logged and
// nothing happens. Unlike FreeSWITCH, a's input callback does not see the
// digits dialled during the bridge.
func (s *Session) Bridge(other *Session) {
	if other == nil || !s.Allocated() || !other.Allocated() || !s.channelReady() || !other.channelReady() {
		s.log.Error("Channels not ready")
		return
	}
	b, ok := s.sess.(LegBridger)
	if !ok {
		s.log.Error("Channels not ready (this channel cannot be bridged)")
		return
	}
	s.allowThreads()
	if err := b.BridgeLeg(other.sess); err != nil {
		s.log.Error(fmt.Sprintf("bridge %s to %s: %v", s.uuid, other.uuid, err))
	}
	s.allowThreads()
}

// Destroy releases the channel: the callbacks are dropped, and the
// channel is hung up (NORMAL_CLEARING) when auto-hangup is on, it is up
// and it is not being transferred. The script's own channel has
// auto-hangup off, so the dialplan goes on after the script.
func (s *Session) Destroy() {
	if !s.allocated {
		return
	}
	s.allocated = false
	s.input, s.hook = false, false
	if s.sess == nil {
		return
	}
	s.log.Debug("destroy/unlink session from object")
	if s.autoHangup && s.sess.Ready() && !s.transferring() {
		s.sess.Hangup(cause.CNormalClearing)
	}
}

// status is FreeSWITCH's "status == SUCCESS ? 1 : 0".
func status(ok bool) int {
	if ok {
		return 1
	}
	return 0
}

// atoi reads a number like C's atoi.
func atoi(s string) int {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
		if n > 1<<31 {
			break
		}
	}
	if neg {
		return -n
	}
	return n
}
