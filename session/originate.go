package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/dialplan"
	"github.com/switchboard-voip/switchboard/dialstring"
	"github.com/switchboard-voip/switchboard/vars"
)

// DefaultCallTimeout is how long an originate waits for an answer when
// neither originate_timeout nor call_timeout says otherwise (FreeSWITCH's
// 60 seconds).
const DefaultCallTimeout = 60 * time.Second

// maxUserDepth bounds user/ and group/ endpoints that resolve to further
// user/ or group/ endpoints.
const maxUserDepth = 4

// OriginateOptions describes an originate: the bridge application's (with
// a Caller) or the originate API command's (without one).
type OriginateOptions struct {
	// Caller is the A-leg, or nil. Its exported variables (export_vars)
	// go to every new leg; it hears ringback or the B-leg's early media
	// while the legs ring; its hangup cancels the originate.
	Caller *Session
	// Timeout overrides call_timeout; originate_timeout in the dial
	// string's {} still wins. Zero: the caller's call_timeout, else 60 s.
	Timeout time.Duration
	// Vars are set on every new leg before the dial string's own (the
	// originate API's origination variables).
	Vars [][2]string
	// CallerIDName and CallerIDNumber are the new legs' caller id when
	// the dial string sets no origination_caller_id_*; empty: the
	// caller's (or the globals' outbound_caller_id_*).
	CallerIDName, CallerIDNumber string
	// OnEarlyMedia, when set, is called once with the leg whose early
	// media (183 with SDP) the caller should hear; the bridge connects
	// it. The originate stops its ringback first.
	OnEarlyMedia func(leg *Session)
}

// OriginateResult is what an originate ended with.
type OriginateResult struct {
	// Leg is the answered leg, nil when the originate failed.
	Leg *Session
	// Cause is SUCCESS with a Leg, otherwise why it failed.
	Cause cause.Cause
	// Legs lists every leg placed, in the order they were placed: their
	// UUIDs and causes make originated_legs and originate_causes.
	Legs []PlacedLeg
}

// PlacedLeg is one leg an originate placed.
type PlacedLeg struct {
	UUID     string
	Endpoint string
	Cause    cause.Cause
	// CalleeName and CalleeNumber are the leg's callee_id_name and
	// callee_id_number, when the far end told them.
	CalleeName, CalleeNumber string
}

// leg is one attempt of an originate in progress.
type leg struct {
	ep       string
	sess     *Session
	call     OutboundCall
	deadline time.Time // leg_timeout; zero: none
	state    ProgressKind
	cause    cause.Cause
	done     bool
	bypass   bool // dialed with the caller's SDP (bypass_media)
}

type legEvent struct {
	i int
	p Progress
}

// Originate places the calls of dial (a FreeSWITCH dial string, already
// ${}-expanded) and waits for the first answer, as switch_ivr_originate:
// legs separated by ',' ring at once, '|' tries the next group when every
// leg of one failed, ':_:' runs groups in parallel. The loser legs are
// hung up (LOSE_RACE), a timeout ends the ringing legs with NO_ANSWER,
// the caller's hangup with ORIGINATOR_CANCEL. With a Caller, the result
// variables (originate_disposition, DIALSTATUS, originated_legs,
// originate_causes) are set on it.
func (m *Manager) Originate(ctx context.Context, dial string, o OriginateOptions) OriginateResult {
	res := m.originate(ctx, dial, o)
	if a := o.Caller; a != nil {
		setOriginateVars(a, res)
	}
	return res
}

func (m *Manager) originate(ctx context.Context, dial string, o OriginateOptions) OriginateResult {
	ds, err := dialstring.Parse(dial)
	if err != nil {
		m.log.Error("invalid dial string", "dial", dial, "err", err)
		return OriginateResult{Cause: cause.CInvalidNumberFormat}
	}
	if len(ds.Groups) == 1 {
		return m.originateGroup(ctx, ds.Groups[0], ds.Vars, o)
	}
	// FreeSWITCH connects no early media in an enterprise originate.
	ds.Vars = append(ds.Vars, dialstring.Var{Name: "ignore_early_media", Value: "true"})
	// Enterprise originate: every group runs at once; the first answer
	// wins and the other groups are cancelled.
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan OriginateResult, len(ds.Groups))
	for _, g := range ds.Groups {
		go func() { results <- m.originateGroup(gctx, g, ds.Vars, o) }()
	}
	var out OriginateResult
	for range ds.Groups {
		r := <-results
		out.Legs = append(out.Legs, r.Legs...)
		if r.Leg != nil && out.Leg == nil {
			out.Leg, out.Cause = r.Leg, cause.CSuccess
			cancel()
			continue
		}
		if r.Leg != nil {
			r.Leg.Hangup(cause.CLoseRace)
			continue
		}
		if out.Leg == nil {
			out.Cause = r.Cause
		}
	}
	return out
}

// originateGroup runs the tries of one group in order until one answers.
func (m *Manager) originateGroup(ctx context.Context, g dialstring.Group, ultra dialstring.Vars, o OriginateOptions) OriginateResult {
	var out OriginateResult
	out.Cause = cause.CDestinationOutOfOrder
	var first dialstring.Vars // the first try's {} apply to the later ones
	for i, t := range g.Tries {
		if ctx.Err() != nil || (o.Caller != nil && !o.Caller.Ready()) {
			out.Cause = cause.COriginatorCancel
			break
		}
		global := append(append(append(dialstring.Vars(nil), ultra...), g.Vars...), first...)
		global = append(global, t.Vars...)
		if i == 0 {
			first = append(first, t.Vars...)
		}
		r := m.originateTry(ctx, t.Legs, global, o, 0)
		out.Legs = append(out.Legs, r.Legs...)
		out.Cause = r.Cause
		if r.Leg != nil {
			out.Leg = r.Leg
			return out
		}
		if r.Cause == cause.COriginatorCancel {
			break
		}
	}
	return out
}

// resolvedLeg is an endpoint to place with its variables.
type resolvedLeg struct {
	ep   string
	vars dialstring.Vars
	fail cause.Cause // error/ endpoints and failed lookups
}

// resolve turns user/ and group/ endpoints into the endpoints they dial.
func (m *Manager) resolve(l dialstring.Leg, global dialstring.Vars, o OriginateOptions, depth int) []resolvedLeg {
	tech, rest := dialstring.SplitEndpoint(l.Endpoint)
	vs := append(append(dialstring.Vars(nil), global...), l.Vars...)
	switch strings.ToLower(tech) {
	case "error":
		c, ok := cause.Lookup(rest)
		if !ok {
			c = cause.Parse(rest)
		}
		return []resolvedLeg{{ep: l.Endpoint, vars: vs, fail: c}}
	case "user":
		if depth >= maxUserDepth {
			return []resolvedLeg{{ep: l.Endpoint, vars: vs, fail: cause.CExchangeRoutingError}}
		}
		return m.resolveUser(rest, vs, o, depth)
	case "group":
		if depth >= maxUserDepth {
			return []resolvedLeg{{ep: l.Endpoint, vars: vs, fail: cause.CExchangeRoutingError}}
		}
		return m.resolveGroup(rest, vs, o, depth)
	}
	return []resolvedLeg{{ep: l.Endpoint, vars: vs}}
}

// resolveUser is FreeSWITCH's user/ endpoint: the directory user's
// dial-string (the user's param, else its domain's), expanded with
// dialed_user and dialed_domain, called with the user's variables.
func (m *Manager) resolveUser(rest string, vs dialstring.Vars, o OriginateOptions, depth int) []resolvedLeg {
	id, domain, _ := strings.Cut(rest, "@")
	snap := m.cfg.Snapshot()
	if domain == "" {
		if v, ok := m.cfg.Globals.Get("domain"); ok {
			domain = v
		} else if snap != nil {
			domain, _ = snap.Get("domain")
		}
	}
	fail := func(c cause.Cause) []resolvedLeg {
		return []resolvedLeg{{ep: "user/" + rest, vars: vs, fail: c}}
	}
	if id == "" || snap == nil {
		return fail(cause.CSubscriberAbsent)
	}
	d := snap.Domain(domain)
	if d == nil {
		return fail(cause.CSubscriberAbsent)
	}
	u := d.User(id)
	if u == nil {
		return fail(cause.CSubscriberAbsent)
	}
	dialStr := u.Params["dial-string"]
	if dialStr == "" {
		dialStr = d.Params["dial-string"]
	}
	if dialStr == "" {
		m.log.Warn("no dial-string for user", "user", id, "domain", d.Name)
		return fail(cause.CDestinationOutOfOrder)
	}
	// The user's variables reach the new legs; dialed_* tell the
	// dial-string whom it calls.
	uvars := dialstring.Vars{{Name: "dialed_user", Value: id}, {Name: "dialed_domain", Value: d.Name}}
	for _, name := range sortedKeys(d.Variables) {
		uvars = append(uvars, dialstring.Var{Name: name, Value: d.Variables[name]})
	}
	for _, name := range sortedKeys(u.Variables) {
		uvars = append(uvars, dialstring.Var{Name: name, Value: u.Variables[name]})
	}
	lookup := vars.LookupFunc(func(name string) (string, bool) {
		for i := len(uvars) - 1; i >= 0; i-- {
			if uvars[i].Name == name {
				return uvars[i].Value, true
			}
		}
		for i := len(vs) - 1; i >= 0; i-- {
			if vs[i].Name == name {
				return vs[i].Value, true
			}
		}
		if o.Caller != nil {
			return o.Caller.Get(name)
		}
		if v, ok := m.cfg.Globals.Get(name); ok {
			return v, true
		}
		return snap.Get(name)
	})
	expanded := vars.Expand(dialStr, lookup, m.cfg.API)
	ds, err := dialstring.Parse(expanded)
	if err != nil || len(ds.Groups) == 0 {
		return fail(cause.CDestinationOutOfOrder)
	}
	base := append(append(append(dialstring.Vars(nil), vs...), uvars...), ds.Vars...)
	var out []resolvedLeg
	for _, g := range ds.Groups {
		for _, t := range g.Tries {
			gv := append(append(append(dialstring.Vars(nil), base...), g.Vars...), t.Vars...)
			for _, l := range t.Legs {
				out = append(out, m.resolve(l, gv, o, depth+1)...)
			}
		}
	}
	if len(out) == 0 {
		return fail(cause.CUserNotRegistered)
	}
	return out
}

// resolveGroup is group/<name>[@domain]: as FreeSWITCH's group endpoint,
// the dial string ${group_call(name@domain)} makes, every member rung at
// once (whichever delimiter it holds).
func (m *Manager) resolveGroup(rest string, vs dialstring.Vars, o OriginateOptions, depth int) []resolvedLeg {
	name, domain, _ := strings.Cut(rest, "@")
	snap := m.cfg.Snapshot()
	if domain == "" && snap != nil {
		domain, _ = snap.Get("domain")
	}
	fail := []resolvedLeg{{ep: "group/" + rest, vars: vs, fail: cause.CDestinationOutOfOrder}}
	if name == "" || domain == "" {
		return fail
	}
	dial := vars.Expand("${group_call("+name+"@"+domain+")}", vars.LookupFunc(func(string) (string, bool) { return "", false }), m.cfg.API)
	ds, err := dialstring.Parse(dial)
	if strings.TrimSpace(dial) == "" || err != nil {
		return fail
	}
	var out []resolvedLeg
	for _, g := range ds.Groups {
		for _, t := range g.Tries {
			gv := append(append(append(dialstring.Vars(nil), vs...), ds.Vars...), g.Vars...)
			for _, l := range t.Legs {
				out = append(out, m.resolve(l, gv, o, depth+1)...)
			}
		}
	}
	if len(out) == 0 {
		return fail
	}
	return out
}

// originateTry rings legs at once and waits for the first answer.
func (m *Manager) originateTry(ctx context.Context, legs []dialstring.Leg, global dialstring.Vars, o OriginateOptions, depth int) OriginateResult {
	var rl []resolvedLeg
	for _, l := range legs {
		rl = append(rl, m.resolve(l, global, o, depth)...)
	}
	var out OriginateResult
	if len(rl) == 0 {
		out.Cause = cause.CDestinationOutOfOrder
		return out
	}
	timeout := o.Timeout
	if timeout <= 0 && o.Caller != nil {
		timeout = secondsVar(o.Caller.vars, "call_timeout")
	}
	if v, ok := global.Get("originate_timeout"); ok {
		if d := parseSeconds(v); d > 0 {
			timeout = d
		}
	}
	if timeout <= 0 {
		timeout = DefaultCallTimeout
	}
	start := time.Now()
	deadline := start.Add(timeout)

	attempts := make([]*leg, 0, len(rl))
	evs := make(chan legEvent, 8*len(rl))
	// The forwarders drain every leg's progress until the endpoint closes
	// it, but stop handing it on once this try is over (quit), so that a
	// loser's slow CANCEL never holds the winner up.
	quit := make(chan struct{})
	defer close(quit)
	lastFail := cause.CNone
	for _, r := range rl {
		lg := &leg{ep: r.ep}
		attempts = append(attempts, lg)
		if r.fail != 0 {
			lg.done, lg.cause = true, r.fail
			lastFail = r.fail
			out.Legs = append(out.Legs, PlacedLeg{Endpoint: r.ep, Cause: r.fail})
			continue
		}
		if v, ok := r.vars.Get("leg_timeout"); ok {
			if d := parseSeconds(v); d > 0 {
				lg.deadline = start.Add(d)
			}
		}
		if err := m.placeLeg(ctx, lg, r, o); err != nil {
			lg.done = true
			var de *DialError
			if errors.As(err, &de) {
				lg.cause = de.Cause
			} else {
				lg.cause = cause.CDestinationOutOfOrder
			}
			lastFail = lg.cause
			m.log.Warn("cannot place call", "endpoint", r.ep, "err", err)
			out.Legs = append(out.Legs, PlacedLeg{Endpoint: r.ep, Cause: lg.cause})
			continue
		}
		idx := len(attempts) - 1
		go func() {
			for p := range lg.call.Progress() {
				select {
				case evs <- legEvent{idx, p}:
				case <-quit:
				}
			}
		}()
	}

	var callerDone <-chan struct{}
	var callerWake chan struct{}
	if o.Caller != nil {
		callerDone = o.Caller.ctx.Done()
		o.Caller.ctl.mu.Lock()
		callerWake = o.Caller.ctl.wakeChan()
		o.Caller.ctl.mu.Unlock()
	}
	ring := newRingback(o.Caller)
	// bypass_media: the caller gets the ringing signal, never media of ours.
	ring.signalOnly = bypassing(attempts)
	defer ring.stop()
	earlyGiven := false

	var winner *leg
	reason := cause.CNone
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for winner == nil && reason == cause.CNone {
		if pending(attempts) == 0 {
			// Every leg failed: the last one's cause, in dial-string
			// order, as switch_ivr_originate reports it.
			reason = lastFail
			for _, lg := range attempts {
				if lg.cause != cause.CNone {
					reason = lg.cause
				}
			}
			if reason == cause.CNone {
				reason = cause.CDestinationOutOfOrder
			}
			break
		}
		next := deadline
		for _, lg := range attempts {
			if !lg.done && !lg.deadline.IsZero() && lg.deadline.Before(next) {
				next = lg.deadline
			}
		}
		timer.Reset(time.Until(next))
		select {
		case <-ctx.Done():
			reason = cause.COriginatorCancel
		case <-callerDone:
			reason = cause.COriginatorCancel
		case <-callerWake:
			// A transfer, park or intercept of the caller cancels the
			// originate; anything else (a queued application) waits.
			// The wake is passed on: the other groups of an enterprise
			// originate wait on the same one.
			if o.Caller.pendingStop() {
				reason = cause.COriginatorCancel
				o.Caller.ctl.signal()
			}
		case <-timer.C:
			now := time.Now()
			if !now.Before(deadline) {
				reason = cause.CNoAnswer
				break
			}
			for _, lg := range attempts {
				if !lg.done && !lg.deadline.IsZero() && !now.Before(lg.deadline) {
					lg.done, lg.cause = true, cause.CNoAnswer
					lg.sess.Hangup(cause.CNoAnswer)
				}
			}
		case ev := <-evs:
			lg := attempts[ev.i]
			if lg.done {
				continue
			}
			switch ev.p.Kind {
			case ProgressRinging:
				lg.sess.markRinging()
				// Once the caller hears a leg's early media, no ringback
				// is generated over it.
				if o.Caller != nil && !earlyGiven {
					ring.ringing(lg.sess)
				}
			case ProgressEarlyMedia:
				lg.sess.markEarly()
				if o.Caller != nil {
					switch {
					case earlyGiven:
					case ignoreEarly(lg.sess.varOr("ignore_early_media", "false")) || o.OnEarlyMedia == nil:
						ring.ringing(lg.sess)
					default:
						earlyGiven = true
						ring.stop()
						o.OnEarlyMedia(lg.sess)
					}
				}
			case ProgressAnswered:
				lg.sess.markAnswered()
				winner = lg
			case ProgressFailed:
				lg.done = true
				lg.cause = ev.p.Cause
				if lg.cause == cause.CNone {
					lg.cause = cause.FromSIP(ev.p.Code)
				}
				lastFail = lg.cause
				lg.sess.Hangup(lg.cause)
				if v, ok := lg.sess.vars.Get("fail_on_single_reject"); ok && singleReject(v, lg.cause) {
					reason = lg.cause
				}
			}
		}
	}
	// Every other leg ends: lost the race, timed out or cancelled.
	for _, lg := range attempts {
		if lg == winner || lg.sess == nil {
			continue
		}
		if !lg.done {
			c := reason
			if winner != nil {
				c = cause.CLoseRace
				if len(attempts) == 1 {
					c = cause.CNoAnswer
				}
				lg.sess.vars.Set("group_dial_status", "loser")
			}
			lg.done, lg.cause = true, c
			lg.sess.Hangup(c)
		}
		out.Legs = append(out.Legs, lg.placed())
	}
	if winner != nil {
		out.Leg = winner.sess
		out.Cause = cause.CSuccess
		winner.cause = cause.CSuccess
		out.Legs = append(out.Legs, winner.placed())
		return out
	}
	out.Cause = reason
	return out
}

// placed describes the leg for OriginateResult.Legs.
func (l *leg) placed() PlacedLeg {
	p := PlacedLeg{Endpoint: l.ep, Cause: l.cause}
	if l.sess != nil {
		p.UUID = l.sess.uuid
		p.CalleeName, _ = l.sess.vars.Get("callee_id_name")
		p.CalleeNumber, _ = l.sess.vars.Get("callee_id_number")
	}
	return p
}

// ignoreEarly reports whether an ignore_early_media value keeps a leg's
// early media from the caller: true, ring_ready or consume.
func ignoreEarly(v string) bool {
	return caller.True(v) || strings.EqualFold(v, "ring_ready") || strings.EqualFold(v, "consume")
}

// pending counts the legs still ringing.
func pending(ls []*leg) int {
	n := 0
	for _, l := range ls {
		if !l.done {
			n++
		}
	}
	return n
}

// singleReject reports whether fail_on_single_reject's value v covers c:
// "true" any cause, else a list of names or numbers ("!" negates).
func singleReject(v string, c cause.Cause) bool {
	v = strings.TrimSpace(v)
	if caller.True(v) {
		return true
	}
	neg := strings.HasPrefix(v, "!")
	v = strings.TrimPrefix(v, "!")
	hit := causeListed(v, c)
	return hit != neg
}

// causeListed reports whether a comma-separated list of cause names or
// Q.850 numbers holds c.
func causeListed(list string, c cause.Cause) bool {
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if n, err := strconv.Atoi(f); err == nil {
			if n == c.Q850() {
				return true
			}
			continue
		}
		if lc, ok := cause.Lookup(f); ok && lc == c {
			return true
		}
	}
	return false
}

// placeLeg creates the leg's session and asks its endpoint to call.
func (m *Manager) placeLeg(ctx context.Context, lg *leg, r resolvedLeg, o OriginateOptions) error {
	tech, rest := dialstring.SplitEndpoint(r.ep)
	d := m.dialer(strings.ToLower(tech))
	if d == nil {
		return &DialError{Cause: cause.CChanNotImplemented, Err: fmt.Errorf("no endpoint %q", tech)}
	}
	if err := m.Admit(); err != nil {
		return &DialError{Cause: cause.CSwitchCongestion, Err: err}
	}
	store := vars.NewStoreSize(64)
	a := o.Caller
	if a != nil {
		// export_vars: the variables the A-leg exports to its B-legs.
		if list, ok := a.vars.Get("export_vars"); ok {
			for _, name := range strings.Split(list, ",") {
				name = strings.TrimSpace(name)
				if name == "" {
					continue
				}
				if v, ok := a.vars.Get(name); ok {
					store.Set(name, v)
				}
			}
		}
	}
	for _, kv := range o.Vars {
		store.Set(kv[0], kv[1])
	}
	for _, v := range r.vars {
		store.Set(v.Name, v.Value)
	}
	uuid := NewUUID()
	if v, ok := store.Get("origination_uuid"); ok && v != "" && m.Get(v) == nil {
		uuid = v
	}
	cidName, cidNum := m.callerID(store, o)
	p := &caller.Profile{
		CallerIDName:      cidName,
		CallerIDNumber:    cidNum,
		DestinationNumber: destinationOf(tech, rest),
		Context:           "default",
		Dialplan:          "XML",
	}
	if a != nil {
		ap := a.Profile()
		p.ANI, p.Context, p.Dialplan = ap.CallerIDNumber, ap.Context, ap.Dialplan
		store.Set("originator", a.uuid)
		store.Set("originating_leg_uuid", a.uuid)
		store.Set("originator_codec", a.varOr("read_codec", ""))
	}
	store.Set("origination_caller_id_name", cidName)
	store.Set("origination_caller_id_number", cidNum)
	req := DialRequest{Target: rest, UUID: uuid, CallerIDName: cidName, CallerIDNumber: cidNum, Vars: store}
	if a != nil {
		if c, ok := a.vars.Get("read_codec"); ok && c != "" {
			req.Codecs = []string{c}
		}
		// bypass_media (bypass.go): the caller's offer goes out as it is.
		req.SDP = a.bypassOffer(store)
		lg.bypass = req.SDP != nil
	}
	call, err := d.Dial(ctx, req)
	if err != nil {
		return err
	}
	sess, err := m.newOutbound(Outbound{Call: call, Profile: p, Store: store, UUID: uuid})
	if err != nil {
		call.Hangup(cause.CDestinationOutOfOrder)
		return err
	}
	if a != nil {
		sess.log.Info(fmt.Sprintf("New Channel %s [%s]", call.Name(), uuid), "originator", a.uuid)
	}
	sess.startOutbound()
	lg.sess, lg.call = sess, call
	return nil
}

// callerID is the new leg's caller id: origination_caller_id_* of the
// dial string, the options', the caller's effective or own, the globals'.
func (m *Manager) callerID(store *vars.Store, o OriginateOptions) (name, num string) {
	name, _ = store.Get("origination_caller_id_name")
	num, _ = store.Get("origination_caller_id_number")
	if name == "" {
		name = o.CallerIDName
	}
	if num == "" {
		num = o.CallerIDNumber
	}
	if a := o.Caller; a != nil {
		ap := a.Profile()
		if name == "" {
			name = a.varOr("effective_caller_id_name", ap.CallerIDName)
		}
		if num == "" {
			num = a.varOr("effective_caller_id_number", ap.CallerIDNumber)
		}
	}
	if name == "" {
		name = "Outbound Call"
	}
	if num == "" {
		num = "0000000000"
	}
	return name, num
}

// destinationOf is the leg's destination_number: the user part of a
// sofia target ("internal/1001@host" → "1001"), the extension of a
// loopback one ("200/other" → "200").
func destinationOf(tech, rest string) string {
	if strings.EqualFold(tech, "loopback") {
		exten, _, _ := strings.Cut(rest, "/")
		return exten
	}
	s := rest
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	s = strings.TrimPrefix(strings.TrimPrefix(s, "sip:"), "sips:")
	if i := strings.IndexAny(s, "@;"); i >= 0 {
		s = s[:i]
	}
	return s
}

// setOriginateVars sets an originate's result variables on the caller.
func setOriginateVars(a *Session, r OriginateResult) {
	disp, dial := r.Cause.String(), r.Cause.String()
	switch r.Cause {
	case cause.CSuccess:
		// switch_ivr_originate's words, quirk included: an answered peer
		// gives DIALSTATUS "EARLY" (it tests CF_ANSWERED the wrong way
		// round), one that is only in early media "ANSWER".
		disp, dial = "call accepted", "EARLY"
		if r.Leg != nil && !r.Leg.Answered() {
			dial = "ANSWER"
		}
	case cause.COriginatorCancel:
		dial = "CANCEL"
	case cause.CUserBusy:
		dial = "BUSY"
	case cause.CNoAnswer:
		dial = "NOANSWER"
	case cause.CDestinationOutOfOrder, cause.CInvalidProfile:
		dial = "INVALIDARGS"
	case cause.CCallRejected:
		dial = "DONTCALL"
	}
	a.vars.Set("originate_disposition", disp)
	a.vars.Set("DIALSTATUS", dial)
	if r.Leg == nil {
		a.vars.Set("originate_failed_cause", r.Cause.String())
	}
	// Each originate adds to the arrays, as FreeSWITCH pushes onto them.
	for _, l := range r.Legs {
		if l.UUID == "" {
			continue
		}
		a.vars.Push("originated_legs", l.UUID+";"+l.CalleeName+";"+l.CalleeNumber)
		a.vars.Push("originate_causes", l.UUID+";"+l.Cause.String())
	}
}

// secondsVar reads a variable holding seconds.
func secondsVar(st *vars.Store, name string) time.Duration {
	v, _ := st.Get(name)
	return parseSeconds(v)
}

// parseSeconds parses a whole number of seconds; anything else is 0.
func parseSeconds(v string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// varOr returns the channel variable name, or def when it is unset.
func (s *Session) varOr(name, def string) string {
	if v, ok := s.vars.Get(name); ok && v != "" {
		return v
	}
	return def
}

// markRinging records that the call rings (our 180 went out, or the far
// end of an outbound leg rings): the progress time, and
// CHANNEL_PROGRESS the first time.
func (s *Session) markRinging() {
	s.mu.Lock()
	first := !s.ringing
	s.ringing = true
	s.profile.ProgressTime = time.Now().UnixMicro()
	s.mu.Unlock()
	if first {
		s.fire("CHANNEL_PROGRESS", nil)
	}
}

// markEarly records that an outbound leg has early media.
func (s *Session) markEarly() {
	s.mu.Lock()
	first := !s.early
	s.early = true
	s.profile.ProgressMediaTime = time.Now().UnixMicro()
	s.mu.Unlock()
	if first {
		s.fire("CHANNEL_PROGRESS_MEDIA", nil)
	}
}

// markAnswered records that the far end of an outbound leg answered.
func (s *Session) markAnswered() {
	now := time.Now()
	s.mu.Lock()
	if s.answered {
		s.mu.Unlock()
		return
	}
	s.answered, s.early = true, true
	s.profile.AnsweredTime = now.UnixMicro()
	s.mu.Unlock()
	s.vars.Set("answer_epoch", strconv.FormatInt(now.Unix(), 10))
	s.vars.Set("answer_uepoch", strconv.FormatInt(now.UnixMicro(), 10))
	s.fire("CHANNEL_ANSWER", nil)
}

// startOutbound runs a placed leg's goroutine: it waits, consuming
// media, until it is hung up, handed steps to run (RunSteps) or
// transferred, and then routes like an inbound call.
func (s *Session) startOutbound() {
	s.fire("CHANNEL_CREATE", nil)
	s.setState(CSInit)
	s.setState(CSConsumeMedia)
	go func() {
		defer s.finish()
		defer s.recoverPanic()
		s.parkLoop()
		s.mu.Lock()
		link := s.bridge
		s.mu.Unlock()
		if link != nil {
			link.end() // transferred out of its bridge
		}
		if s.takeTransfer() {
			s.routeLoop()
		}
	}()
}

// RunApp makes the call run app with data instead of its dialplan, then
// hang up as at the end of an action list: the originate command's
// &app(args) for the leg it placed. A call in an action list runs it
// after the current application, as a transfer would.
func (s *Session) RunApp(app, data string) error {
	if !s.Ready() {
		return fmt.Errorf("channel is hung up")
	}
	s.mu.Lock()
	s.nextSteps = []dialplan.Step{{App: app, Data: data}}
	s.transfer = true
	s.parked = false
	s.mu.Unlock()
	s.ctl.signal()
	return nil
}

// logInfo logs msg at info with the channel's identity, when info is
// enabled.
func (s *Session) logInfo(msg string, args ...any) {
	if s.log.Enabled(s.ctx, slog.LevelInfo) {
		s.log.Info(msg, args...)
	}
}

// sortedKeys returns m's keys in order.
func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
