package session

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-voip/switchboard/apps"
)

// Received digits, before applications see them: bind_digit_action's
// digit machine and bind_meta_app's meta keys, as FreeSWITCH's
// switch_core_session_recv_dtmf runs them.
//
// A digit the call receives goes first to the leg's digit machine, when
// it has one (it has bindings): the machine consumes it, so it is neither
// queued for applications nor fired as a DTMF event (FreeSWITCH fires
// those when an application takes the digit). Digits the machine cannot
// match come back afterwards, queued as if sent by an application
// (DTMF-Source APP). The meta-key hook then sees the digit too: the meta
// key and the key after it are consumed as well.
//
// The machine runs on a goroutine of its own per call (started by the
// first binding, ended at hangup), which feeds it, checks its timeouts
// and runs the actions, so an endpoint never waits for an action.
// Actions that run applications queue them on the call (Enqueue): they
// run at its next break point, nested in a running playback, which
// resumes afterwards, as FreeSWITCH's broadcast does.
//
// Switchboard does not bridge calls yet, so "peer" targets have no other
// leg: a peer digit machine is kept (clear_digit_action and
// digit_action_set_realm act on it) but no digits reach it, event targets
// peer and both act on this leg, and meta bindings for the B leg never
// fire.

// digitState is a session's digit machines and meta bindings.
type digitState struct {
	mu       sync.Mutex
	machines [2]*DigitMachine // by apps.DigitTarget: self, peer
	pending  []rune           // received digits for the self machine, not fed yet
	wake     chan struct{}    // capacity 1: pending digits or a new binding
	running  bool             // the machine goroutine runs
	meta     *[2]metaLeg      // meta bindings: digits received (A leg), sent (B leg); nil: none yet
	now      func() time.Time // the clock of new machines and meta keys; nil: time.Now
}

// metaLeg is the meta-key state of one direction (FreeSWITCH's
// dtmf_meta_settings_t).
type metaLeg struct {
	up   bool             // has bindings
	meta rune             // the meta key
	on   bool             // the meta key was pressed: the next key is a binding's
	last int64            // Unix second of the last digit
	keys [14]metaBindItem // by key
}

// metaBindItem is one key's binding.
type metaBindItem struct {
	app   string
	flags apps.MetaFlags
}

// digitAction is a digit binding's action (FreeSWITCH's action_binding).
type digitAction struct {
	realm, input, action, value string
	eventTarget                 apps.DigitTarget
}

var (
	_ apps.DigitActions = (*Session)(nil)
	_ apps.MetaApps     = (*Session)(nil)
)

func (st *digitState) clock() time.Time {
	if st.now != nil {
		return st.now()
	}
	return time.Now()
}

// consumeDigit hands a received digit to the digit machine and the meta
// keys; it reports whether either consumed it. Safe from any goroutine.
func (s *Session) consumeDigit(d rune) bool {
	st := &s.dm
	st.mu.Lock()
	fed := st.machines[apps.DigitTargetSelf] != nil
	if fed {
		st.pending = append(st.pending, d)
		st.signal()
	}
	st.mu.Unlock()
	return s.metaDigit(d) || fed
}

// signal wakes the machine goroutine; st.mu is held.
func (st *digitState) signal() {
	if st.wake == nil {
		st.wake = make(chan struct{}, 1)
	}
	select {
	case st.wake <- struct{}{}:
	default:
	}
}

// BindDigitAction adds a bind_digit_action binding (apps.DigitActions).
// The action string's "exec[...P...]:" or "api:[...P...]" flags make the
// binding a priority one.
func (s *Session) BindDigitAction(a apps.DigitAction) error {
	var targets []apps.DigitTarget
	switch a.Target {
	case apps.DigitTargetPeer:
		targets = []apps.DigitTarget{apps.DigitTargetPeer}
	case apps.DigitTargetBoth:
		targets = []apps.DigitTarget{apps.DigitTargetPeer, apps.DigitTargetSelf}
	default:
		targets = []apps.DigitTarget{apps.DigitTargetSelf}
	}
	act := &digitAction{realm: a.Realm, input: a.Digits, action: a.Action, value: a.Value, eventTarget: a.EventTarget}
	prio := actionPriority(a.Action)
	st := &s.dm
	for _, t := range targets {
		st.mu.Lock()
		m, created := st.machines[t], false
		if m == nil {
			m = NewDigitMachine(DigitMachineConfig{
				Name:         "DPTOOLS",
				DigitTimeout: a.DigitTimeout,
				InputTimeout: a.InputTimeout,
				Now:          st.now,
				Logger:       s.log,
			})
			created = true
		}
		st.mu.Unlock()
		if err := m.Bind(a.Realm, a.Digits, prio, 0, act); err != nil {
			return err // a machine created for nothing is dropped
		}
		if a.HasTerminators {
			if err := m.SetTerminators(a.Terminators); err != nil {
				s.log.Warn("bda_terminators", "err", err)
			}
		}
		st.mu.Lock()
		if created && st.machines[t] == nil {
			st.machines[t] = m
		}
		st.signal()
		start := !st.running
		st.running = true
		st.mu.Unlock()
		if start {
			go s.digitLoop()
		}
	}
	return nil
}

// actionPriority reports whether an action string carries the P flag:
// "exec[...P...]:" or, read the same way, "api:[...P...]:".
func actionPriority(action string) bool {
	if len(action) < 4 || !(strings.EqualFold(action[:4], "exec") || strings.EqualFold(action[:4], "api:")) {
		return false
	}
	flags, _, ok := bracketFlags(action[4:])
	return ok && strings.Contains(flags, "P")
}

// bracketFlags reads "[flags]:rest" (brackets may nest): it returns the
// flags, what follows the colon, and whether s had that shape.
func bracketFlags(s string) (flags, rest string, ok bool) {
	if !strings.HasPrefix(s, "[") {
		return "", "", false
	}
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			depth++
		case ']':
			depth--
			if depth == 0 {
				if i+1 < len(s) && s[i+1] == ':' {
					return s[1:i], s[i+2:], true
				}
				return "", "", false
			}
		}
	}
	return "", "", false
}

// ClearDigitActions removes a realm's bindings, or the whole machine for
// "" or "all" (apps.DigitActions).
func (s *Session) ClearDigitActions(realm string, target apps.DigitTarget) {
	targets := []apps.DigitTarget{target}
	if target == apps.DigitTargetBoth {
		targets = []apps.DigitTarget{apps.DigitTargetPeer, apps.DigitTargetSelf}
	}
	st := &s.dm
	for _, t := range targets {
		st.mu.Lock()
		m := st.machines[t]
		if m != nil && (realm == "" || strings.EqualFold(realm, "all")) {
			st.machines[t] = nil
			if t == apps.DigitTargetSelf {
				st.pending = nil
			}
			st.signal()
		}
		st.mu.Unlock()
		switch {
		case m == nil:
		case realm == "" || strings.EqualFold(realm, "all"):
			s.log.Info("Digit parser DPTOOLS: Clearing all realms")
		default:
			if err := m.ClearRealm(realm); err != nil {
				s.log.Warn("clear_digit_action", "err", err)
			}
		}
	}
}

// SetDigitActionRealm makes realm the active realm of the target leg's
// machine (apps.DigitActions). Target both names no machine, as in
// FreeSWITCH: apps.ErrNoDigitMachine.
func (s *Session) SetDigitActionRealm(realm string, target apps.DigitTarget) error {
	var m *DigitMachine
	if target == apps.DigitTargetSelf || target == apps.DigitTargetPeer {
		s.dm.mu.Lock()
		m = s.dm.machines[target]
		s.dm.mu.Unlock()
	}
	if m == nil {
		return apps.ErrNoDigitMachine
	}
	if err := m.SetRealm(realm); err != nil {
		return err
	}
	s.dm.mu.Lock()
	s.dm.signal()
	s.dm.mu.Unlock()
	return nil
}

// digitLoop feeds the self machine the digits received, pings it when
// its timeout expires and runs what it decides, until the call hangs up.
func (s *Session) digitLoop() {
	st := &s.dm
	st.mu.Lock()
	if st.wake == nil {
		st.wake = make(chan struct{}, 1)
	}
	wake := st.wake
	st.mu.Unlock()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-wake:
		case <-timer.C:
		}
		st.mu.Lock()
		m := st.machines[apps.DigitTargetSelf]
		digits := st.pending
		st.pending = nil
		st.mu.Unlock()
		if m == nil {
			timer.Stop()
			continue
		}
		for _, d := range digits {
			s.digitResult(m.Feed(d))
		}
		// A decision clears the machine; the next Ping restarts its
		// clock, so the input timeout keeps counting.
		for {
			r := m.Ping()
			s.digitResult(r)
			if r.Match == nil {
				break
			}
		}
		if at, ok := m.NextTimeout(); ok {
			timer.Reset(time.Until(at))
		} else {
			timer.Stop()
		}
	}
}

// digitResult runs the action of a machine's decision.
func (s *Session) digitResult(r DigitResult) {
	switch {
	case r.Match == nil:
	case r.Match.Positive:
		if act, ok := r.Match.Data.(*digitAction); ok {
			s.digitMatched(act, r.Match.Digits)
		}
	default:
		s.digitNotMatched(r.Match.Digits)
	}
}

// setOrUnset sets a variable, or removes it for an empty value, as
// switch_channel_set_variable does.
func (s *Session) setOrUnset(name, value string) {
	if value == "" {
		s.vars.Unset(name)
		return
	}
	s.vars.Set(name, value)
}

// digitMatched runs a binding's action (digit_action_callback). There is
// no bridged leg, so every event target is this leg.
//
// FreeSWITCH also queues a CHANNEL_DATA event ("<action>: <value>",
// "digits", "execute") to the session, where only an outbound event
// socket with divert_events reads it; Switchboard has no such queue, so
// the event is only logged.
func (s *Session) digitMatched(act *digitAction, digits string) {
	s.setOrUnset("last_matching_digits", digits)
	str, exec, api := act.action, 0, false
	switch {
	case len(str) >= 4 && strings.EqualFold(str[:4], "exec"):
		str = str[4:]
		if strings.HasPrefix(str, ":") {
			str, exec = str[1:], 1
		} else if flags, rest, ok := bracketFlags(str); ok {
			str, exec = rest, 1
			if strings.Contains(flags, "i") {
				exec = 2
			}
		}
	case len(str) >= 4 && strings.EqualFold(str[:4], "api:"):
		str, api = str[4:], true
	}
	if s.log.Enabled(s.ctx, slog.LevelDebug) {
		s.log.Debug(fmt.Sprintf("%s Digit match binding [%s][%s]", s.profileName(), act.action, act.value),
			"digits", digits, "realm", act.realm, "binding", act.input)
	}
	switch {
	case exec == 2:
		if err := s.enqueueFront(str, act.value); err != nil {
			s.log.Warn("digit action", "action", act.action, "err", err)
		}
	case exec == 1:
		s.broadcast(str+"::"+act.value, false)
	case api:
		s.digitActionAPI(str, act)
	}
}

// digitActionAPI runs an api: action and keeps its output in
// bind_digit_action_api_result.
func (s *Session) digitActionAPI(cmd string, act *digitAction) {
	if s.m.cfg.API == nil {
		s.log.Warn("digit action: no API commands", "action", act.action)
		return
	}
	out, err := s.m.cfg.API.Execute(cmd, act.value)
	if err != nil {
		s.log.Warn("digit action", "action", act.action, "err", err)
	}
	if out != "" {
		s.vars.Set("bind_digit_action_api_result", out)
	}
	s.log.Debug(fmt.Sprintf("%s Digit match binding [%s][%s] api executed", s.profileName(), act.action, act.value))
}

// digitNotMatched handles digits no binding matched
// (digit_nomatch_action_callback): they are queued for applications.
func (s *Session) digitNotMatched(digits string) {
	s.setOrUnset("last_non_matching_digits", digits)
	s.log.Debug(fmt.Sprintf("%s Digit NOT match binding [%s]", s.profileName(), digits))
	for _, d := range digits {
		if apps.IsDTMF(d) {
			s.pushDigit(d, "APP")
		}
	}
}

// profileName returns the channel name for log lines.
func (s *Session) profileName() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.profile.ChanName
}

// broadcast runs path on this call the way switch_ivr_broadcast does for
// the A leg: "app::args" runs app with args, anything else is played; an
// app written "app!cause" hangs up with cause (NORMAL_CLEARING when empty)
// afterwards. Inline puts it ahead of anything already queued.
func (s *Session) broadcast(path string, inline bool) {
	app, arg := "playback", path
	if i := strings.IndexByte(path, ':'); i >= 0 && i+1 < len(path) && path[i+1] == ':' {
		app, arg = path[:i], path[i+2:]
	}
	hangup := ""
	if i := strings.IndexByte(app, '!'); i >= 0 {
		app, hangup = app[:i], app[i+1:]
		if hangup == "" {
			hangup = "normal_clearing"
		}
	}
	var err error
	if inline {
		err = s.enqueueFront(app, arg)
	} else {
		err = s.Enqueue(app, arg)
	}
	if err != nil {
		s.log.Warn("broadcast", "app", app, "err", err)
	}
	if hangup != "" {
		if err := s.Enqueue("hangup", hangup); err != nil {
			s.log.Warn("broadcast", "app", "hangup", "err", err)
		}
	}
}

// enqueueFront is Enqueue at the head of the queue: the application runs
// before those already waiting (FreeSWITCH runs inline actions at once).
func (s *Session) enqueueFront(app, data string) error {
	if !s.Ready() {
		return ErrHungUp
	}
	if _, ok := apps.Lookup(app); !ok {
		return fmt.Errorf("%w: %s", ErrUnknownApp, app)
	}
	c := &s.ctl
	c.mu.Lock()
	if len(c.queue) >= MaxQueued {
		c.mu.Unlock()
		return ErrQueueFull
	}
	c.queue = append([]queued{{app: app, data: data, loops: 1}}, c.queue...)
	c.pending.Store(int32(len(c.queue)))
	c.mu.Unlock()
	c.signal()
	return nil
}

// BindMetaApp binds the meta key then b.Key to b.App (apps.MetaApps);
// an empty App removes the key's binding.
func (s *Session) BindMetaApp(b apps.MetaBinding) error {
	if b.Key < 0 || b.Key >= len(metaLeg{}.keys) {
		return fmt.Errorf("invalid key %d", b.Key)
	}
	name := dtmfKey(b.Key)
	st := &s.dm
	st.mu.Lock()
	defer st.mu.Unlock()
	for leg, flag := range [2]apps.MetaFlags{apps.MetaDialA, apps.MetaDialB} {
		if b.Flags&flag == 0 {
			continue
		}
		if st.meta == nil {
			st.meta = new([2]metaLeg) // made at the first binding: most calls have none
		}
		l := &st.meta[leg]
		legName := [2]string{"A-Leg", "B-Leg"}[leg]
		if b.App == "" {
			l.keys[b.Key] = metaBindItem{}
			s.log.Info(fmt.Sprintf("UnBound %s: %c%c", legName, b.Meta, name))
			continue
		}
		l.up, l.meta = true, b.Meta
		l.keys[b.Key] = metaBindItem{app: b.App, flags: b.Flags}
		s.log.Info(fmt.Sprintf("Bound %s: %c%c %s", legName, b.Meta, name, b.App))
	}
	return nil
}

// UnbindMetaApp removes key's meta binding on both legs, or every meta
// binding for key 0 (apps.MetaApps).
func (s *Session) UnbindMetaApp(key int) error {
	st := &s.dm
	st.mu.Lock()
	defer st.mu.Unlock()
	if key == 0 {
		st.meta = nil
		s.log.Info("UnBound A-Leg: ALL")
		return nil
	}
	if key < 0 || key > 9 || st.meta == nil || (!st.meta[0].up && !st.meta[1].up) {
		return fmt.Errorf("invalid key %d", key)
	}
	st.meta[0].keys[key] = metaBindItem{}
	st.meta[1].keys[key] = metaBindItem{}
	s.log.Info(fmt.Sprintf("UnBound A-Leg: %d", key))
	return nil
}

// dtmfKey is switch_itodtmf: 0–9 as digits, 10–13 as A–D.
func dtmfKey(k int) rune {
	if k > 9 && k < 14 {
		return rune('A' + k - 10)
	}
	return rune('0' + k)
}

// metaTimeout is how many seconds may pass between the meta key and the
// key after it.
const metaTimeout = 5

// metaDigit is FreeSWITCH's meta_on_dtmf for a received digit: the meta
// key arms the bindings and is consumed (pressed twice, the second one
// gets through); the next key runs its binding, if any, and is consumed
// too. It reports whether it consumed d.
func (s *Session) metaDigit(d rune) bool {
	st := &s.dm
	st.mu.Lock()
	if st.meta == nil || !st.meta[0].up {
		st.mu.Unlock()
		return false
	}
	l := &st.meta[0]
	now := st.clock().Unix()
	if l.on && now-l.last > metaTimeout {
		l.on = false
		st.mu.Unlock()
		s.log.Error(fmt.Sprintf("%s Meta digit timeout parsing %c", s.profileName(), d))
		return false
	}
	l.last = now
	if d == l.meta {
		l.on = !l.on
		on := l.on
		st.mu.Unlock()
		return on
	}
	if !l.on {
		st.mu.Unlock()
		return false
	}
	l.on = false
	var item metaBindItem
	key := apps.DTMFToInt(string(d))
	if apps.IsDTMF(d) && key >= 0 && key < len(l.keys) && l.keys[key].flags&apps.MetaDialA != 0 {
		item = l.keys[key]
		if item.app != "" && item.flags&apps.MetaOnce != 0 {
			l.keys[key] = metaBindItem{}
		}
	}
	st.mu.Unlock()
	if item.app == "" {
		s.log.Warn(fmt.Sprintf("%s Ignoring meta digit '%c' not mapped", s.profileName(), d))
		return true
	}
	s.log.Debug(fmt.Sprintf("%s Processing meta digit '%c' [%s]", s.profileName(), d, item.app))
	if metaRunsOnB(item.flags) {
		s.log.Warn(fmt.Sprintf("%s meta digit '%c': no bridged leg to run %s on", s.profileName(), d, item.app))
		return true
	}
	s.broadcast(item.app, item.flags&apps.MetaExecInline != 0)
	if item.flags&apps.MetaOnce != 0 {
		s.log.Debug(fmt.Sprintf("%s Unbinding meta digit '%c'", s.profileName(), d))
	}
	return true
}

// metaRunsOnB reports whether a binding fired by digits this leg sends
// runs on the B leg: "o" (opposite) first, then "s" (same), "a", "b";
// the A leg by default.
func metaRunsOnB(f apps.MetaFlags) bool {
	switch {
	case f&apps.MetaExecOpposite != 0:
		return true
	case f&apps.MetaExecSame != 0, f&apps.MetaExecA != 0:
		return false
	}
	return f&apps.MetaExecB != 0
}
