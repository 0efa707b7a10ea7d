package preprocess

import (
	"testing"

	"github.com/switchboard-voip/switchboard/vars"
)

func TestIndexFold(t *testing.T) {
	tests := []struct {
		s, sub string
		want   int
	}{
		{"<X-PRE-PROCESS", "X-PRE-PROCESS", 1},
		{"<x-pre-process", "X-PRE-PROCESS", 1},
		{"<X-NO-PRE-PROCESS", "X-PRE-PROCESS", -1},
		{"<XX-PRE-PROCESS", "X-PRE-PROCESS", 2}, // preceded by X, not <
		{"X-PRE-PROCES", "X-PRE-PROCESS", -1},
		{"ſet", "set", -1}, // no Unicode folding
		{"a CMD=", "cmd", 2},
		{"", "cmd", -1},
	}
	for _, tt := range tests {
		if got := indexFold(tt.s, tt.sub); got != tt.want {
			t.Errorf("indexFold(%q, %q) = %d, want %d", tt.s, tt.sub, got, tt.want)
		}
	}
}

func TestDisableVarRefs(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"${x}", "%{x}"},
		{"$${x}", "$%{x}"},
		{`$\\{x}`, `%\\{x}`},
		{"$ {x}", "$ {x}"},
		{"a$b{c}", "a$b{c}"},
		{"${a}${b}", "%{a}%{b}"},
	}
	for _, tt := range tests {
		got := vars.Defuse(tt.in)
		if got != tt.want {
			t.Errorf("vars.Defuse(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if again := vars.Defuse(got); again != got {
			t.Errorf("second pass changed %q to %q", got, again)
		}
	}
}
