package apps

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/switchboard-voip/switchboard/vars"
)

// The digit-action family: bind_digit_action, clear_digit_action and
// digit_action_set_realm (mod_dptools over switch_ivr_dmachine).

const (
	bindDigitActionUsage  = "<realm>,<digits|~regex>,<string>[,<value>][,<dtmf target leg>][,<event target leg>]"
	clearDigitActionUsage = "<realm>|all[,target]"
	setRealmUsage         = "<realm>[,<target>]"
)

func init() {
	for _, a := range []App{
		{Name: "bind_digit_action", Usage: bindDigitActionUsage, Description: "Bind a digit sequence or regex to an action", Run: bindDigitActionApp},
		{Name: "clear_digit_action", Usage: clearDigitActionUsage, Description: "Remove digit action bindings", Run: clearDigitActionApp},
		{Name: "digit_action_set_realm", Usage: setRealmUsage, Description: "Switch the active digit action realm", Run: digitActionSetRealmApp},
	} {
		a.Flags = SupportNoMedia
		Register(a)
	}
}

// DigitTarget names a leg of a digit action: the one whose digits are
// matched (dtmf target) or the one the action acts on (event target).
type DigitTarget int

// Digit action targets, as FreeSWITCH's switch_digit_action_target_t.
const (
	// DigitTargetSelf is this leg: the digits it receives, actions on it.
	DigitTargetSelf DigitTarget = iota
	// DigitTargetPeer is the bridged leg: the digits sent to this leg,
	// actions on the other leg.
	DigitTargetPeer
	// DigitTargetBoth is both legs.
	DigitTargetBoth
)

// ParseDigitTarget reads a target as FreeSWITCH's str2target does: "peer"
// and "both" (any case), anything else is self.
func ParseDigitTarget(s string) DigitTarget {
	switch {
	case strings.EqualFold(s, "peer"):
		return DigitTargetPeer
	case strings.EqualFold(s, "both"):
		return DigitTargetBoth
	}
	return DigitTargetSelf
}

// String returns "self", "peer" or "both".
func (t DigitTarget) String() string {
	switch t {
	case DigitTargetPeer:
		return "peer"
	case DigitTargetBoth:
		return "both"
	}
	return "self"
}

// DigitAction is one bind_digit_action binding.
type DigitAction struct {
	// Realm groups bindings; one realm of a leg is active at a time.
	Realm string
	// Digits is what to match: digits ("123"), "~regex", or
	// "~regex~~replacement"; a leading "=" matches as soon as possible.
	Digits string
	// Action is what to do on a match: "exec:<app>" (run app with Value
	// at the call's next break point, nested in a running playback, as
	// FreeSWITCH's broadcast does), "exec[<flags>]:<app>" (flag i runs it
	// inline, ahead of anything queued; flag P makes the binding a
	// priority one), "api:<command>" (run the API command with Value as
	// its arguments; the output goes to bind_digit_action_api_result), or
	// any other string (only FreeSWITCH's CHANNEL_DATA event names it).
	Action string
	// Value is the application data or API arguments.
	Value string
	// Target is the leg whose digits are matched; EventTarget the leg the
	// action acts on.
	Target, EventTarget DigitTarget
	// DigitTimeout and InputTimeout configure the leg's digit machine
	// when this binding creates it (bind_digit_digit_timeout, default
	// 1500 ms; bind_digit_input_timeout, default 0: none).
	DigitTimeout, InputTimeout time.Duration
	// Terminators, when HasTerminators, become the active realm's
	// terminators after binding (bda_terminators).
	Terminators    string
	HasTerminators bool
}

// DigitActions is implemented by a Session whose received digits can
// drive bound actions. A leg with bindings hands every digit it receives
// to its digit machine instead of queueing it for applications; digits
// that match no binding are queued afterwards.
type DigitActions interface {
	// BindDigitAction adds a binding, creating the leg's digit machine
	// on the first one.
	BindDigitAction(a DigitAction) error
	// ClearDigitActions removes realm's bindings, or the whole digit
	// machine when realm is "" or "all" (any case).
	ClearDigitActions(realm string, target DigitTarget)
	// SetDigitActionRealm makes realm the active realm.
	SetDigitActionRealm(realm string, target DigitTarget) error
}

// Defaults of the variables a new digit machine reads.
const defaultBindDigitTimeout = 1500 * time.Millisecond

// digitActionsOf returns the call's DigitActions.
func digitActionsOf(ch Channel, app string) (DigitActions, error) {
	s, err := sessionOf(ch, app)
	if err != nil {
		return nil, err
	}
	d, ok := s.(DigitActions)
	if !ok {
		return nil, fmt.Errorf("%s: this call cannot bind digit actions", app)
	}
	return d, nil
}

// msVar reads a millisecond count from a variable (switch_atoul: the
// leading digits; a negative or missing number reads as 0), or def when
// the variable is not set.
func msVar(ch Channel, name string, def time.Duration) time.Duration {
	v, ok := lookupVar(ch, name)
	if !ok {
		return def
	}
	n := catoi(v)
	if n < 0 {
		n = 0
	}
	return time.Duration(n) * time.Millisecond
}

// bindDigitActionApp is `bind_digit_action <realm>,<digits|~regex>,
// <string>[,<value>][,<dtmf target leg>][,<event target leg>]`.
func bindDigitActionApp(_ context.Context, ch Channel, data string) error {
	d, err := digitActionsOf(ch, "bind_digit_action")
	if err != nil {
		return err
	}
	argv := vars.Separate(data, ',', 6)
	if len(argv) < 3 || argv[0] == "" || argv[1] == "" || argv[2] == "" {
		return &UsageError{App: "bind_digit_action", Usage: bindDigitActionUsage, Reason: "a realm, digits and an action are required"}
	}
	a := DigitAction{
		Realm:        argv[0],
		Digits:       argv[1],
		Action:       argv[2],
		Value:        arg(argv, 3),
		Target:       ParseDigitTarget(arg(argv, 4)),
		EventTarget:  ParseDigitTarget(arg(argv, 5)),
		DigitTimeout: msVar(ch, "bind_digit_digit_timeout", defaultBindDigitTimeout),
		InputTimeout: msVar(ch, "bind_digit_input_timeout", 0),
	}
	a.Terminators, a.HasTerminators = lookupVar(ch, "bda_terminators")
	if err := d.BindDigitAction(a); err != nil {
		return fmt.Errorf("bind_digit_action %s: %w", data, err)
	}
	return nil
}

// clearDigitActionApp is `clear_digit_action <realm>|all[,<target>]`.
func clearDigitActionApp(_ context.Context, ch Channel, data string) error {
	d, err := digitActionsOf(ch, "clear_digit_action")
	if err != nil {
		return err
	}
	if data == "" {
		return &UsageError{App: "clear_digit_action", Usage: clearDigitActionUsage, Reason: "no realm specified"}
	}
	realm, target, _ := strings.Cut(data, ",")
	d.ClearDigitActions(realm, ParseDigitTarget(target))
	return nil
}

// digitActionSetRealmApp is `digit_action_set_realm <realm>[,<target>]`.
// A realm with no bindings leaves the active realm as it was (logged).
func digitActionSetRealmApp(_ context.Context, ch Channel, data string) error {
	d, err := digitActionsOf(ch, "digit_action_set_realm")
	if err != nil {
		return err
	}
	realm, target, _ := strings.Cut(data, ",")
	if data == "" {
		return &UsageError{App: "digit_action_set_realm", Usage: setRealmUsage, Reason: "no realm specified"}
	}
	err = d.SetDigitActionRealm(realm, ParseDigitTarget(target))
	switch {
	case errors.Is(err, ErrNoDigitMachine):
		// Nothing to switch, as in FreeSWITCH.
		ch.Log(slog.LevelDebug, "digit_action_set_realm: "+err.Error())
		return nil
	case err != nil:
		return fmt.Errorf("digit_action_set_realm %s: %w", data, err)
	}
	return nil
}

// ErrNoDigitMachine is returned by SetDigitActionRealm for a leg that has
// no digit bindings (digit_action_set_realm then does nothing).
var ErrNoDigitMachine = errors.New("no digit bindings on this leg")
