package apps

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// digitSession is a fakeSession that records its digit-action and meta
// calls.
type digitSession struct {
	*fakeSession
	binds    []DigitAction
	clears   []string // "realm/target"
	realms   []string // "realm/target"
	realmErr error
	metas    []MetaBinding
	unbinds  []int
}

func (s *digitSession) BindDigitAction(a DigitAction) error {
	s.binds = append(s.binds, a)
	return nil
}

func (s *digitSession) ClearDigitActions(realm string, target DigitTarget) {
	s.clears = append(s.clears, realm+"/"+target.String())
}

func (s *digitSession) SetDigitActionRealm(realm string, target DigitTarget) error {
	s.realms = append(s.realms, realm+"/"+target.String())
	return s.realmErr
}

func (s *digitSession) BindMetaApp(b MetaBinding) error {
	s.metas = append(s.metas, b)
	return nil
}

func (s *digitSession) UnbindMetaApp(key int) error {
	s.unbinds = append(s.unbinds, key)
	return nil
}

func newDigitSession(kv ...string) *digitSession {
	return &digitSession{fakeSession: newSession(kv...)}
}

func TestBindDigitAction(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		name  string
		vars  []string
		data  string
		want  DigitAction
		usage bool
	}{
		{
			name: "realm, digits, exec action",
			data: "demo,1,exec:playback,'tone_stream://%(1000,0,700)'",
			want: DigitAction{Realm: "demo", Digits: "1", Action: "exec:playback", Value: "tone_stream://%(1000,0,700)", DigitTimeout: 1500 * ms},
		},
		{
			// As in FreeSWITCH, unquoted commas split the value.
			name: "commas split an unquoted value",
			data: "demo,1,exec:playback,tone_stream://%(1000,0,700)",
			want: DigitAction{Realm: "demo", Digits: "1", Action: "exec:playback", Value: "tone_stream://%(1000", DigitTimeout: 1500 * ms},
		},
		{
			name: "^^ picks another delimiter",
			data: "^^;demo;1;exec:playback;tone_stream://%(1000,0,700)",
			want: DigitAction{Realm: "demo", Digits: "1", Action: "exec:playback", Value: "tone_stream://%(1000,0,700)", DigitTimeout: 1500 * ms},
		},
		{
			name: "regex without a value",
			data: `demo,~^2\d$,api:status`,
			want: DigitAction{Realm: "demo", Digits: `~^2\d$`, Action: "api:status", DigitTimeout: 1500 * ms},
		},
		{
			name: "targets",
			data: "demo,1,exec:hangup,,PEER,both",
			want: DigitAction{Realm: "demo", Digits: "1", Action: "exec:hangup", Target: DigitTargetPeer, EventTarget: DigitTargetBoth, DigitTimeout: 1500 * ms},
		},
		{
			name: "an unknown target is self",
			data: "demo,1,exec:hangup,,other,self",
			want: DigitAction{Realm: "demo", Digits: "1", Action: "exec:hangup", DigitTimeout: 1500 * ms},
		},
		{
			name: "quotes keep a comma",
			data: `demo,'~^\d{2,3}$',exec:transfer,1000 XML default`,
			want: DigitAction{Realm: "demo", Digits: `~^\d{2,3}$`, Action: "exec:transfer", Value: "1000 XML default", DigitTimeout: 1500 * ms},
		},
		{
			name: "the machine's variables",
			vars: []string{"bind_digit_digit_timeout", "3000", "bind_digit_input_timeout", "5000x", "bda_terminators", "#"},
			data: "demo,1,x",
			want: DigitAction{Realm: "demo", Digits: "1", Action: "x", DigitTimeout: 3000 * ms, InputTimeout: 5000 * ms, Terminators: "#", HasTerminators: true},
		},
		{
			name: "a negative timeout is none",
			vars: []string{"bind_digit_digit_timeout", "-5"},
			data: "demo,1,x",
			want: DigitAction{Realm: "demo", Digits: "1", Action: "x"},
		},
		{name: "no data", data: "", usage: true},
		{name: "two arguments", data: "demo,1", usage: true},
		{name: "an empty realm", data: ",1,exec:hangup", usage: true},
		{name: "empty digits", data: "demo,,exec:hangup", usage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newDigitSession(tt.vars...)
			err := bindDigitActionApp(context.Background(), s, tt.data)
			if tt.usage {
				var ue *UsageError
				if !errors.As(err, &ue) {
					t.Fatalf("err = %v, want a usage error", err)
				}
				if len(s.binds) != 0 {
					t.Errorf("bound %+v", s.binds)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(s.binds) != 1 || !reflect.DeepEqual(s.binds[0], tt.want) {
				t.Errorf("bound %+v, want %+v", s.binds, tt.want)
			}
		})
	}
}

func TestClearAndSetRealm(t *testing.T) {
	s := newDigitSession()
	for _, data := range []string{"demo", "all,peer", "other,both"} {
		if err := clearDigitActionApp(context.Background(), s, data); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"demo/self", "all/peer", "other/both"}; !reflect.DeepEqual(s.clears, want) {
		t.Errorf("clears %q, want %q", s.clears, want)
	}
	var ue *UsageError
	if err := clearDigitActionApp(context.Background(), s, ""); !errors.As(err, &ue) {
		t.Errorf("clear_digit_action with no data: %v, want a usage error", err)
	}

	if err := digitActionSetRealmApp(context.Background(), s, "menu2,self"); err != nil {
		t.Fatal(err)
	}
	if want := []string{"menu2/self"}; !reflect.DeepEqual(s.realms, want) {
		t.Errorf("realms %q, want %q", s.realms, want)
	}
	if err := digitActionSetRealmApp(context.Background(), s, ""); !errors.As(err, &ue) {
		t.Errorf("digit_action_set_realm with no data: %v, want a usage error", err)
	}
	s.realmErr = fmt.Errorf("wrapped: %w", ErrNoDigitMachine)
	if err := digitActionSetRealmApp(context.Background(), s, "menu"); err != nil {
		t.Errorf("no digit machine: %v, want nothing done and no error", err)
	}
	s.realmErr = errors.New("no such digit realm")
	if err := digitActionSetRealmApp(context.Background(), s, "nope"); err == nil {
		t.Error("an unknown realm was not reported")
	}
}

func TestDigitActionAppsNeedTheInterface(t *testing.T) {
	s := newSession() // a Session without DigitActions
	for name, run := range map[string]Func{
		"bind_digit_action":      bindDigitActionApp,
		"clear_digit_action":     clearDigitActionApp,
		"digit_action_set_realm": digitActionSetRealmApp,
		"bind_meta_app":          bindMetaApp,
		"unbind_meta_app":        unbindMetaApp,
	} {
		if err := run(context.Background(), s, "demo,1,exec:hangup"); err == nil {
			t.Errorf("%s ran on a call without the interface", name)
		}
		if err := run(context.Background(), newFake(), "demo,1,exec:hangup"); !errors.Is(err, ErrNoSession) {
			t.Errorf("%s without a call: %v, want ErrNoSession", name, err)
		}
	}
}

func TestParseDigitTarget(t *testing.T) {
	for in, want := range map[string]DigitTarget{"": DigitTargetSelf, "self": DigitTargetSelf, "Peer": DigitTargetPeer, "BOTH": DigitTargetBoth, "x": DigitTargetSelf} {
		if got := ParseDigitTarget(in); got != want {
			t.Errorf("ParseDigitTarget(%q) = %v, want %v", in, got, want)
		}
	}
}
