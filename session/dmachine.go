package session

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-voip/switchboard/dialplan"
)

// A DigitMachine is FreeSWITCH's digit parser (switch_ivr_dmachine): it
// collects digits and matches them against bindings grouped in realms,
// one realm active at a time. bind_digit_action drives one per call.
//
// A binding is a digit string ("123") or, after a "~", a regular
// expression ("~^2\d$"), which may carry a replacement after "~~"
// ("~^(\d)#$~~key$1": the match then reports "key5" for "5#"). A leading
// "=" makes the binding match as soon as it can (first match). Matching
// follows FreeSWITCH's rules:
//
//   - A digit binding that equals the digits collected matches at once
//     when no longer digit binding could still match, when it is a
//     priority or first-match binding, or when the realm has no regex
//     binding; otherwise the machine waits for more digits and the
//     binding matches when the digit timeout expires.
//   - A regex binding that matches matches at once only when it is the
//     realm's only binding, a first-match one, or a priority one while no
//     digit binding equals the digits; otherwise at the digit timeout.
//   - A terminator of the realm (SetTerminators) ends the digits: they are
//     cut at its last occurrence and matched as if the timeout expired.
//   - Digits that no binding can match, and digits still unmatched when
//     the timeout expires, fail: Feed or Ping reports them as a negative
//     match and the machine starts again.
//
// The machine has no goroutine or timer of its own: Feed adds a digit,
// Ping checks the timeouts, and NextTimeout tells the owner when to Ping
// next. Its methods are safe for concurrent use.
type DigitMachine struct {
	name string
	now  func() time.Time
	log  *slog.Logger

	mu           sync.Mutex
	digitTimeout time.Duration // after a digit, with digits collected
	inputTimeout time.Duration // with no digits collected
	realms       map[string]*digitRealm
	realm        *digitRealm // the active realm; nil when none is
	digits       string      // collected (may be cut short by a terminator)
	count        int         // digits fed since the last clear
	maxLen       int         // the longest binding; MaxMachineDigits once a regex is bound
	lastDigit    time.Time   // zero: not started (set at the next check)
	lastMatch    *digitBinding
	matchDigits  string // what lastMatch matched (or its substitution)
}

// MaxMachineDigits is how many digits a DigitMachine collects at most,
// and the longest binding it accepts (FreeSWITCH's DMACHINE_MAX_DIGIT_LEN
// less its terminating NUL).
const MaxMachineDigits = 127

// DigitMachineConfig configures NewDigitMachine.
type DigitMachineConfig struct {
	// Name appears in the machine's log lines ("DPTOOLS" for
	// bind_digit_action).
	Name string
	// DigitTimeout is how long the machine waits for the next digit once
	// it has some; 0 waits for ever.
	DigitTimeout time.Duration
	// InputTimeout is how long it waits for a first digit before
	// reporting a (digitless) timeout; 0 waits for ever.
	InputTimeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives the machine's logs; nil discards them.
	Logger *slog.Logger
}

// NewDigitMachine returns a machine with no bindings.
func NewDigitMachine(cfg DigitMachineConfig) *DigitMachine {
	m := &DigitMachine{
		name:         cfg.Name,
		now:          cfg.Now,
		log:          cfg.Logger,
		digitTimeout: cfg.DigitTimeout,
		inputTimeout: cfg.InputTimeout,
		realms:       make(map[string]*digitRealm),
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	return m
}

// digitRealm is a named list of bindings.
type digitRealm struct {
	name        string
	bindings    []*digitBinding // in binding order
	terminators string
}

// digitBinding is one binding of a realm.
type digitBinding struct {
	digits     string          // the digits, or the expression of a regex binding
	re         *dialplan.Regex // nil for a digit binding
	repl       string          // replacement of a regex binding ("" with hasRepl false: none)
	hasRepl    bool
	firstMatch bool // "=" prefix
	priority   bool
	key        int
	data       any

	// State of the last check, as FreeSWITCH keeps it on the binding.
	rmatch      bool   // the regex matched
	substituted string // its replacement, when rmatch and hasRepl
}

// DigitStatus is what Feed and Ping report (FreeSWITCH's switch_status_t
// from switch_ivr_dmachine_ping).
type DigitStatus int

// Digit machine statuses.
const (
	// DigitContinue: nothing decided; more digits may come (SUCCESS).
	DigitContinue DigitStatus = iota
	// DigitFound: a binding matched (FOUND).
	DigitFound
	// DigitTimeout: the timeout expired, or no binding can match the
	// digits (TIMEOUT).
	DigitTimeout
	// DigitNotFound: the digits reached the longest binding's length
	// without a match (NOTFOUND).
	DigitNotFound
	// DigitOverflow: more digits than the machine may hold (FALSE).
	DigitOverflow
)

// String returns the status as FreeSWITCH names it.
func (s DigitStatus) String() string {
	switch s {
	case DigitContinue:
		return "SUCCESS"
	case DigitFound:
		return "FOUND"
	case DigitTimeout:
		return "TIMEOUT"
	case DigitNotFound:
		return "NOTFOUND"
	case DigitOverflow:
		return "FALSE"
	}
	return fmt.Sprintf("DigitStatus(%d)", int(s))
}

// DigitMatch is a decision of the machine: a binding matched (Positive),
// or the digits collected matched nothing.
type DigitMatch struct {
	// Positive is true when a binding matched.
	Positive bool
	// Digits are the digits that matched (a regex binding's replacement
	// when it has one), or those that failed.
	Digits string
	// Key and Data are the matching binding's (zero on a failure).
	Key  int
	Data any
}

// DigitResult is the outcome of Feed or Ping.
type DigitResult struct {
	Status DigitStatus
	// Match is the decision taken, nil when none was (DigitContinue, or a
	// digit refused by DigitOverflow).
	Match *DigitMatch
}

// Bind adds a binding to realm ("" means "default"), creating the realm,
// and makes realm the active one. digits is a digit string, "~regex" or
// "~regex~~replacement", optionally after "=" (first match). priority
// lets a binding match as soon as it can. key and data come back in the
// binding's DigitMatch.
//
// Binding the same digits (or regex) again in a realm only replaces its
// data. An expression that does not compile is an error, as is a binding
// longer than MaxMachineDigits.
func (m *DigitMachine) Bind(realm, digits string, priority bool, key int, data any) error {
	if len(digits) > MaxMachineDigits {
		return fmt.Errorf("digit binding %q: longer than %d characters", digits, MaxMachineDigits)
	}
	if realm == "" {
		realm = "default"
	}
	b := &digitBinding{key: key, data: data, priority: priority}
	spec := digits
	if strings.HasPrefix(spec, "=") {
		b.firstMatch = true
		spec = spec[1:]
	}
	if strings.HasPrefix(spec, "~") {
		spec = spec[1:]
		// Only the first "~" can start the replacement, and only as "~~".
		if i := strings.IndexByte(spec, '~'); i >= 0 && i+1 < len(spec) && spec[i+1] == '~' {
			b.repl, b.hasRepl = spec[i+2:], true
			spec = spec[:i]
		}
		re, err := dialplan.CompileRegex(spec)
		if err != nil {
			return fmt.Errorf("digit binding %q: %w", digits, err)
		}
		b.re = re
	}
	b.digits = spec

	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.realms[realm]
	if r == nil {
		r = &digitRealm{name: realm}
		m.realms[realm] = r
	}
	for _, old := range r.bindings {
		// FreeSWITCH compares a regex binding with the new digits less
		// their first character (the "~"), a digit binding with all.
		if (old.re != nil && digits != "" && old.digits == digits[1:]) || old.digits == digits {
			old.data = data
			m.log.Debug(fmt.Sprintf("Reuse Existing Digit parser %s: binding %s/%s/%d", m.name, digits, realm, key))
			return nil
		}
	}
	r.bindings = append(r.bindings, b)
	if m.realm != r {
		m.realm = r
		m.log.Info(fmt.Sprintf("Digit parser %s: Setting realm to '%s'", m.name, realm))
	}
	// The raw length counts the "=" and "~" prefixes, as FreeSWITCH's does.
	switch {
	case b.re != nil:
		m.maxLen = MaxMachineDigits
	case len(digits) > m.maxLen:
		m.maxLen = len(digits)
	}
	m.log.Debug(fmt.Sprintf("Digit parser %s: binding %s/%s/%d", m.name, digits, realm, key))
	return nil
}

// ErrNoRealm is returned by SetRealm for a realm that has no bindings and
// by SetTerminators when no realm is active.
var ErrNoRealm = errors.New("no such digit realm")

// SetRealm makes realm the active one; ErrNoRealm when it has no
// bindings (the active realm does not change then).
func (m *DigitMachine) SetRealm(realm string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.realms[realm]
	if r == nil {
		m.log.Error(fmt.Sprintf("Digit parser %s: Error Setting realm to '%s'", m.name, realm))
		return fmt.Errorf("digit parser %s: %w: %q", m.name, ErrNoRealm, realm)
	}
	m.realm = r
	m.log.Info(fmt.Sprintf("Digit parser %s: Setting realm to '%s'", m.name, realm))
	return nil
}

// Realm returns the active realm's name, "" when none is active.
func (m *DigitMachine) Realm() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.realm == nil {
		return ""
	}
	return m.realm.name
}

// ClearRealm removes realm and its bindings. When it was the active realm
// no realm is active afterwards: digits then match nothing. Clearing a
// realm that does not exist does nothing; an empty name is an error.
func (m *DigitMachine) ClearRealm(realm string) error {
	if realm == "" {
		return fmt.Errorf("digit parser %s: clear: no realm named", m.name)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.log.Info(fmt.Sprintf("Digit parser %s: Clearing realm '%s'", m.name, realm))
	r := m.realms[realm]
	if r != nil && r == m.realm {
		m.log.Warn(fmt.Sprintf("Digit parser %s: '%s' was the active realm, no realm currently selected.", m.name, realm))
		m.realm = nil
	}
	delete(m.realms, realm)
	return nil
}

// SetTerminators sets the active realm's terminators: digits that end
// the input (bda_terminators). ErrNoRealm when no realm is active.
func (m *DigitMachine) SetTerminators(terminators string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.realm == nil {
		m.log.Error("No realm selected.")
		return fmt.Errorf("digit parser %s: terminators: %w", m.name, ErrNoRealm)
	}
	m.realm.terminators = terminators
	m.log.Debug(fmt.Sprintf("Digit parser %s: Setting terminators for realm '%s' to '%s'", m.name, m.realm.name, terminators))
	return nil
}

// Clear forgets the digits collected so far.
func (m *DigitMachine) Clear() {
	m.mu.Lock()
	m.clear()
	m.mu.Unlock()
}

func (m *DigitMachine) clear() {
	m.digits, m.count, m.lastDigit = "", 0, time.Time{}
}

// Feed adds a received digit and checks for a match. A digit beyond the
// longest binding's length is refused (DigitOverflow, nothing collected).
func (m *DigitMachine) Feed(d rune) DigitResult {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.count >= m.maxLen {
		m.log.Error("dmachine overflow error!")
		return DigitResult{Status: DigitOverflow}
	}
	m.digits += string(d)
	m.count++
	now := m.now()
	m.lastDigit = now
	return m.ping(now)
}

// Ping checks the timeouts and the digits collected, as FreeSWITCH does
// on every frame it reads. The owner calls it at NextTimeout.
func (m *DigitMachine) Ping() DigitResult {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ping(m.now())
}

// NextTimeout returns when the pending timeout expires: the digit
// timeout with digits collected, the input timeout without. ok is false
// when that timeout is 0 (none) or the clock has not started (no Ping or
// Feed since the last match).
func (m *DigitMachine) NextTimeout() (at time.Time, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.timeout()
	if t <= 0 || m.lastDigit.IsZero() {
		return time.Time{}, false
	}
	// FreeSWITCH counts whole milliseconds and waits for more than the
	// timeout: the first instant that counts is a millisecond later.
	return m.lastDigit.Add(t + time.Millisecond), true
}

func (m *DigitMachine) timeout() time.Duration {
	if m.count > 0 {
		return m.digitTimeout
	}
	return m.inputTimeout
}

// timedOut reports whether the pending timeout has expired, starting the
// clock when it has not started.
func (m *DigitMachine) timedOut(now time.Time) bool {
	if m.lastDigit.IsZero() {
		m.lastDigit = now
	}
	t := m.timeout()
	return t > 0 && now.Sub(m.lastDigit) >= t+time.Millisecond
}

// matchKind is the result of checking the digits against the realm.
type matchKind int

const (
	matchNone    matchKind = iota
	matchExact             // a binding matches now
	matchPartial           // a longer binding may still match
	matchBoth              // one matches and a longer one may too
	matchNever             // no binding can match
)

// ping is switch_ivr_dmachine_ping; m.mu is held.
func (m *DigitMachine) ping(now time.Time) DigitResult {
	timedOut := m.timedOut(now)
	kind := m.check(timedOut)
	if kind == matchNever {
		timedOut = true
	}
	var res DigitResult
	switch {
	case m.digits == "" && !timedOut:
		res.Status = DigitContinue
	case m.count > m.maxLen:
		res.Status = DigitOverflow
	case (kind == matchExact || (kind == matchBoth && timedOut)) && m.lastMatch != nil:
		res.Status = DigitFound
		res.Match = &DigitMatch{Positive: true, Digits: m.matchDigits, Key: m.lastMatch.key, Data: m.lastMatch.data}
	case timedOut:
		res.Status = DigitTimeout
	case kind == matchNone && m.count == m.maxLen:
		res.Status = DigitNotFound
	default:
		res.Status = DigitContinue
	}
	switch res.Status {
	case DigitContinue:
		return res
	case DigitFound:
	default:
		res.Match = &DigitMatch{Digits: m.digits}
	}
	m.clear()
	return res
}

// check is switch_ivr_dmachine_check_match: it compares the digits with
// the active realm's bindings, cutting them at a terminator, and records
// the binding that matched. m.mu is held.
func (m *DigitMachine) check(timedOut bool) matchKind {
	r := m.realm
	if m.count == 0 || r == nil {
		return matchNone
	}
	var partials, exacts, regexes int
	// First pass: evaluate every regex (before any terminator is cut, as
	// FreeSWITCH does) and count the digit bindings that could match.
	for _, b := range r.bindings {
		if b.re != nil {
			b.rmatch, b.substituted = false, ""
			if b.hasRepl {
				if caps := b.re.Submatches(m.digits); caps != nil {
					limit := (len(m.digits) + len(b.digits) + 10) * len(caps)
					b.substituted = dialplan.Substitute(b.repl, caps, limit)
					b.rmatch = true
				}
			} else {
				b.rmatch = b.re.MatchString(m.digits)
			}
			regexes++
			partials++
			if b.rmatch && b.firstMatch {
				break
			}
			continue
		}
		if strings.HasPrefix(b.digits, m.digits) {
			partials++
			if m.count == len(b.digits) {
				exacts++
			}
		}
	}
	// A terminator cuts the digits at its last occurrence and decides now.
	for _, t := range r.terminators {
		if i := strings.LastIndex(m.digits, string(t)); i >= 0 {
			m.digits = m.digits[:i]
			timedOut = true
			break
		}
	}
	best := matchNone
	var exact, partial, both *digitBinding
	for i, b := range r.bindings {
		if b.re != nil {
			if !b.rmatch {
				continue
			}
			only := i == 0 && len(r.bindings) == 1
			if b.firstMatch || (b.priority && exacts == 0) || timedOut || only {
				best, exact = matchExact, b
				break
			}
			best = matchPartial
			continue
		}
		prefix := strings.HasPrefix(b.digits, m.digits)
		if exact == nil && prefix && b.digits == m.digits && (b.firstMatch || regexes == 0 || b.priority || timedOut) {
			best, exact = matchExact, b
			if b.firstMatch || b.priority || m.count == m.maxLen {
				break
			}
		}
		if (both == nil || partial == nil) && len(b.digits) != len(m.digits) && prefix {
			if exact != nil {
				best, both = matchBoth, b
			} else {
				best, partial = matchPartial, b
			}
		}
		if both != nil && exact != nil && partial != nil {
			break
		}
	}
	if partials == 0 {
		best = matchNever
	}
	var hit *digitBinding
	if timedOut && both != nil {
		hit = exact
	}
	if best == matchExact && exact != nil {
		hit = exact
	}
	if hit == nil {
		return best
	}
	m.lastMatch = hit
	if hit.re != nil && hit.hasRepl && hit.rmatch {
		m.matchDigits = hit.substituted
	} else {
		m.matchDigits = m.digits
	}
	return matchExact
}
