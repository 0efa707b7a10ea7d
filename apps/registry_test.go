package apps

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func noop(context.Context, Channel, string) error { return nil }

// panics reports the panic value of f, or nil.
func panics(f func()) (v any) {
	defer func() { v = recover() }()
	f()
	return nil
}

func TestRegisterPanics(t *testing.T) {
	tests := []struct {
		name string
		app  App
		want string // in the panic message
	}{
		{"empty name", App{Run: noop}, "empty"},
		{"space in name", App{Name: "my app", Run: noop}, "white space"},
		{"nil Run", App{Name: "x"}, "nil Run"},
		{"duplicate", App{Name: "taken", Run: noop}, "twice"},
		{"duplicate in other case", App{Name: "TAKEN", Run: noop}, "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRegistry()
			r.register(App{Name: "taken", Run: noop})
			v := panics(func() { r.register(tt.app) })
			msg, _ := v.(string)
			if !strings.Contains(msg, tt.want) {
				t.Errorf("panic = %v, want one mentioning %q", v, tt.want)
			}
			if got := len(r.list()); got != 1 {
				t.Errorf("registry holds %d apps after the panic, want 1", got)
			}
		})
	}
}

// The process registry refuses a second "set", whatever its case.
func TestRegisterDuplicateOfBuiltin(t *testing.T) {
	for _, name := range []string{"set", "Set"} {
		if v := panics(func() { Register(App{Name: name, Run: noop}) }); v == nil {
			t.Errorf("Register(%q) did not panic", name)
		}
	}
	if a, _ := Lookup("set"); a.Name != "set" {
		t.Errorf("Lookup(set) = %q after the failed registrations", a.Name)
	}
}

func TestLookupIgnoresCase(t *testing.T) {
	r := newRegistry()
	r.register(App{Name: "Playback", Flags: SupportNoMedia, Run: noop})
	for _, name := range []string{"Playback", "playback", "PLAYBACK"} {
		a, ok := r.lookup(name)
		if !ok || a.Name != "Playback" {
			t.Errorf("lookup(%q) = %v, %v", name, a, ok)
		}
	}
	if _, ok := r.lookup("play"); ok {
		t.Error("lookup(play) found an application")
	}
}

func TestListSorted(t *testing.T) {
	r := newRegistry()
	for _, n := range []string{"set", "Dial", "answer", "log", "bridge"} {
		r.register(App{Name: n, Run: noop})
	}
	var got []string
	for _, a := range r.list() {
		got = append(got, a.Name)
	}
	want := []string{"Dial", "answer", "bridge", "log", "set"}
	if !slices.Equal(got, want) {
		t.Errorf("list = %q, want %q", got, want)
	}
}

func TestListHoldsTheBuiltins(t *testing.T) {
	var got []string
	for _, a := range List() {
		got = append(got, a.Name)
	}
	if !slices.IsSorted(got) {
		t.Errorf("List() is not sorted: %q", got)
	}
	for _, n := range []string{"bridge_export", "eval", "export", "log", "multiset", "multiunset", "push", "set", "set_global", "stop", "unset", "unshift"} {
		if _, found := slices.BinarySearch(got, n); !found {
			t.Errorf("List() lacks %q", n)
		}
	}
}

func TestFlagsOfPrefersTheRegistry(t *testing.T) {
	r := newRegistry()
	r.register(App{Name: "playback", Flags: SupportNoMedia, Run: noop})
	tests := []struct {
		name   string
		want   Flags
		wantOK bool
	}{
		{"playback", SupportNoMedia, true},                 // registered: its own flags
		{"bridge", SupportNoMedia | SupportTextOnly, true}, // catalogued only
		{"LUA", SupportNoMedia | RoutingExec | ZombieExec | SupportTextOnly, true},
		{"no_such_app", 0, false},
	}
	for _, tt := range tests {
		got, ok := r.flagsOf(tt.name)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("flagsOf(%q) = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestFlagsString(t *testing.T) {
	tests := []struct {
		f    Flags
		want string
	}{
		{0, "-"},
		{SupportNoMedia, "N"},
		{SupportNoMedia | RoutingExec | ZombieExec, "NRZ"},
		{ZombieExec | SupportNoMedia, "NZ"},
		{MediaTap, "T"},
		{SupportNoMedia | NoLoopback, "NL"},
		{SupportNoMedia | SupportTextOnly, "NX"},
		{SupportNoMedia | 1<<9, "N?"},
	}
	for _, tt := range tests {
		if got := tt.f.String(); got != tt.want {
			t.Errorf("Flags(%#x).String() = %q, want %q", uint(tt.f), got, tt.want)
		}
	}
}
