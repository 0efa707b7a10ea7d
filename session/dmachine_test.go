package session

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// dmClock is a settable clock for digit machines.
type dmClock struct{ t time.Time }

func (c *dmClock) now() time.Time          { return c.t }
func (c *dmClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// dmBind is one binding a machine test starts with: realm, digits,
// priority; the data is the digits themselves.
type dmBind struct {
	realm, digits string
	priority      bool
}

// dmStep is one step of a machine test: feed a digit (feed != 0) or
// advance the clock by wait and ping; then the result must be want.
type dmStep struct {
	feed rune
	wait time.Duration
	do   func(*DigitMachine) // instead of feeding or pinging
	want string              // "STATUS" or "STATUS +digits/data" or "STATUS -digits"
}

// describe renders a result the way dmStep.want spells it.
func describe(r DigitResult) string {
	s := r.Status.String()
	switch {
	case r.Match == nil:
	case r.Match.Positive:
		s += " +" + r.Match.Digits + "/" + r.Match.Data.(string)
	default:
		s += " -" + r.Match.Digits
	}
	return s
}

func TestDigitMachine(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		name         string
		digitTimeout time.Duration
		inputTimeout time.Duration
		terminators  string // set on the active realm after binding
		binds        []dmBind
		steps        []dmStep
	}{
		{
			name:  "exact digits match at once",
			binds: []dmBind{{"demo", "1", false}, {"demo", "2", false}},
			steps: []dmStep{{feed: '2', want: "FOUND +2/2"}, {feed: '1', want: "FOUND +1/1"}},
		},
		{
			name:  "a longer binding makes the machine wait",
			binds: []dmBind{{"demo", "1", false}, {"demo", "12", false}},
			steps: []dmStep{{feed: '1', want: "SUCCESS"}, {feed: '2', want: "FOUND +12/12"}},
		},
		{
			name:         "the digit timeout fires a pending exact match",
			digitTimeout: 1500 * ms,
			binds:        []dmBind{{"demo", "1", false}, {"demo", "12", false}},
			steps: []dmStep{
				{feed: '1', want: "SUCCESS"},
				{wait: 1500 * ms, want: "SUCCESS"}, // FreeSWITCH waits for more than the timeout
				{wait: 1 * ms, want: "FOUND +1/1"},
				{wait: 10 * time.Second, want: "SUCCESS"}, // cleared: nothing more happens
			},
		},
		{
			name:  "no digit timeout: a pending match waits for ever",
			binds: []dmBind{{"demo", "1", false}, {"demo", "12", false}},
			steps: []dmStep{{feed: '1', want: "SUCCESS"}, {wait: time.Hour, want: "SUCCESS"}, {feed: '2', want: "FOUND +12/12"}},
		},
		{
			name:         "a regex in the realm delays exact digit matches until the timeout",
			digitTimeout: 1000 * ms,
			binds:        []dmBind{{"demo", "1", false}, {"demo", `~^2\d$`, false}},
			steps: []dmStep{
				{feed: '1', want: "SUCCESS"},
				{wait: 1001 * ms, want: "FOUND +1/1"},
				{feed: '2', want: "SUCCESS"},
				{feed: '3', want: "SUCCESS"},
				{wait: 1001 * ms, want: `FOUND +23/~^2\d$`},
			},
		},
		{
			name:  "a realm's only binding, a regex, matches at once",
			binds: []dmBind{{"demo", `~^2\d$`, false}},
			steps: []dmStep{{feed: '2', want: "SUCCESS"}, {feed: '3', want: `FOUND +23/~^2\d$`}},
		},
		{
			name:  "a regex replacement is what matched",
			binds: []dmBind{{"demo", `~^(\d)#$~~key$1`, false}},
			steps: []dmStep{{feed: '5', want: "SUCCESS"}, {feed: '#', want: `FOUND +key5/~^(\d)#$~~key$1`}},
		},
		{
			name:  "digits no binding can match fail at once",
			binds: []dmBind{{"demo", "12", false}},
			steps: []dmStep{{feed: '1', want: "SUCCESS"}, {feed: '3', want: "TIMEOUT -13"}, {feed: '1', want: "SUCCESS"}, {feed: '2', want: "FOUND +12/12"}},
		},
		{
			name:         "a partial match that times out fails",
			digitTimeout: 500 * ms,
			binds:        []dmBind{{"demo", "12", false}},
			steps:        []dmStep{{feed: '1', want: "SUCCESS"}, {wait: 501 * ms, want: "TIMEOUT -1"}},
		},
		{
			name:  "priority matches without waiting for a longer binding",
			binds: []dmBind{{"demo", "1", true}, {"demo", "12", false}},
			steps: []dmStep{{feed: '1', want: "FOUND +1/1"}},
		},
		{
			name:  "a priority regex matches when no digit binding equals the digits",
			binds: []dmBind{{"demo", `~^1$`, true}, {"demo", "12", false}},
			steps: []dmStep{{feed: '1', want: "FOUND +1/~^1$"}},
		},
		{
			name:  "first match (=) matches without waiting",
			binds: []dmBind{{"demo", "=1", false}, {"demo", "12", false}},
			steps: []dmStep{{feed: '1', want: "FOUND +1/=1"}},
		},
		{
			name:  "the last realm bound is active; SetRealm switches",
			binds: []dmBind{{"demo", "1", false}, {"other", "2", false}},
			steps: []dmStep{
				{feed: '1', want: "TIMEOUT -1"},
				{feed: '2', want: "FOUND +2/2"},
				{do: func(m *DigitMachine) { _ = m.SetRealm("demo") }, want: "SUCCESS"},
				{feed: '2', want: "TIMEOUT -2"},
				{feed: '1', want: "FOUND +1/1"},
				{do: func(m *DigitMachine) { _ = m.SetRealm("nope") }, want: "SUCCESS"},
				{feed: '1', want: "FOUND +1/1"}, // still demo
			},
		},
		{
			name:  "clearing the active realm leaves none: digits fail at the longest length",
			binds: []dmBind{{"demo", "12", false}, {"other", "3", false}},
			steps: []dmStep{
				{do: func(m *DigitMachine) { _ = m.ClearRealm("other") }, want: "SUCCESS"},
				{feed: '3', want: "SUCCESS"},
				{feed: '4', want: "NOTFOUND -34"},
				{do: func(m *DigitMachine) { _ = m.SetRealm("demo") }, want: "SUCCESS"},
				{feed: '1', want: "SUCCESS"},
				{feed: '2', want: "FOUND +12/12"},
			},
		},
		{
			name:  "Clear forgets the digits collected",
			binds: []dmBind{{"demo", "12", false}},
			steps: []dmStep{
				{feed: '1', want: "SUCCESS"},
				{do: func(m *DigitMachine) { m.Clear() }, want: "SUCCESS"},
				{feed: '2', want: "TIMEOUT -2"},
			},
		},
		{
			name:        "a terminator cuts the digits and decides at once",
			terminators: "#",
			binds:       []dmBind{{"demo", `~^(\d+)#$~~$1`, false}, {"demo", "9", false}},
			steps:       []dmStep{{feed: '4', want: "SUCCESS"}, {feed: '2', want: "SUCCESS"}, {feed: '#', want: `FOUND +42/~^(\d+)#$~~$1`}},
		},
		{
			// FreeSWITCH counts the bindings that could match before it
			// cuts the terminator, so digit bindings alone never match a
			// terminated input: the digits fail.
			name:        "a terminator after digit bindings fails the digits",
			terminators: "#",
			binds:       []dmBind{{"demo", "12", false}, {"demo", "123", false}},
			steps:       []dmStep{{feed: '1', want: "SUCCESS"}, {feed: '2', want: "SUCCESS"}, {feed: '#', want: "TIMEOUT -12"}},
		},
		{
			name:         "the input timeout reports no digits",
			inputTimeout: 3 * time.Second,
			binds:        []dmBind{{"demo", "1", false}},
			steps: []dmStep{
				{wait: 0, want: "SUCCESS"}, // starts the clock
				{wait: 3 * time.Second, want: "SUCCESS"},
				{wait: 1 * ms, want: "TIMEOUT -"},
			},
		},
		{
			name:  "a machine without bindings refuses digits",
			steps: []dmStep{{feed: '1', want: "FALSE"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &dmClock{t: time.Unix(1700000000, 0)}
			m := NewDigitMachine(DigitMachineConfig{Name: "TEST", DigitTimeout: tt.digitTimeout, InputTimeout: tt.inputTimeout, Now: clk.now})
			for _, b := range tt.binds {
				if err := m.Bind(b.realm, b.digits, b.priority, 0, b.digits); err != nil {
					t.Fatal(err)
				}
			}
			if tt.terminators != "" {
				if err := m.SetTerminators(tt.terminators); err != nil {
					t.Fatal(err)
				}
			}
			for i, st := range tt.steps {
				var r DigitResult
				switch {
				case st.do != nil:
					st.do(m)
					r = m.Ping()
				case st.feed != 0:
					r = m.Feed(st.feed)
				default:
					clk.advance(st.wait)
					r = m.Ping()
				}
				if got := describe(r); got != st.want {
					t.Fatalf("step %d: got %q, want %q", i, got, st.want)
				}
			}
		})
	}
}

func TestDigitMachineReuseKeepsNewData(t *testing.T) {
	m := NewDigitMachine(DigitMachineConfig{})
	for _, data := range []string{"old", "new"} {
		if err := m.Bind("", "1", false, 0, data); err != nil {
			t.Fatal(err)
		}
	}
	if got := m.Realm(); got != "default" {
		t.Errorf("realm %q, want default", got)
	}
	r := m.Feed('1')
	if r.Match == nil || r.Match.Data != "new" {
		t.Fatalf("match %+v, want the new data", r.Match)
	}
}

func TestDigitMachineErrors(t *testing.T) {
	m := NewDigitMachine(DigitMachineConfig{})
	if err := m.Bind("demo", "~^(1$", false, 0, nil); err == nil {
		t.Error("a regex that does not compile was bound")
	}
	if err := m.Bind("demo", strings.Repeat("1", MaxMachineDigits+1), false, 0, nil); err == nil {
		t.Error("a binding longer than the machine holds was bound")
	}
	if err := m.SetTerminators("#"); !errors.Is(err, ErrNoRealm) {
		t.Errorf("SetTerminators with no realm: %v, want ErrNoRealm", err)
	}
	if err := m.SetRealm("demo"); !errors.Is(err, ErrNoRealm) {
		t.Errorf("SetRealm of a realm with no bindings: %v, want ErrNoRealm", err)
	}
	if err := m.ClearRealm(""); err == nil {
		t.Error("ClearRealm accepted an empty name")
	}
}

func TestDigitMachineNextTimeout(t *testing.T) {
	clk := &dmClock{t: time.Unix(1700000000, 0)}
	m := NewDigitMachine(DigitMachineConfig{DigitTimeout: 2 * time.Second, InputTimeout: 5 * time.Second, Now: clk.now})
	if err := m.Bind("demo", "12", false, 0, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.NextTimeout(); ok {
		t.Error("a timeout is pending before the clock started")
	}
	m.Ping()
	if at, ok := m.NextTimeout(); !ok || !at.Equal(clk.t.Add(5*time.Second+time.Millisecond)) {
		t.Errorf("input timeout at %v (%v), want 5.001 s from now", at, ok)
	}
	clk.advance(time.Second)
	m.Feed('1')
	if at, ok := m.NextTimeout(); !ok || !at.Equal(clk.t.Add(2*time.Second+time.Millisecond)) {
		t.Errorf("digit timeout at %v (%v), want 2.001 s after the digit", at, ok)
	}
}
