package dialplan

import (
	"slices"
	"testing"

	"github.com/switchboard-voip/switchboard/vars"
)

func TestSubmatchesUnset(t *testing.T) {
	tests := []struct {
		expr, subject string
		caps          []string
		unset         []bool // nil: every group took part
	}{
		{`^(\d+)$`, "42", []string{"42", "42"}, nil},
		// Group 1 did not take part; it is inside the match count.
		{`^(a)?(b)$`, "b", []string{"b", "", "b"}, []bool{false, true, false}},
		// Group 1 took part and matched the empty string.
		{`^(a?)(b)$`, "b", []string{"b", "", "b"}, nil},
		// The same through the backtracking engine (a backreference).
		{`^(a)?(b)\2$`, "bb", []string{"bb", "", "b"}, []bool{false, true, false}},
		{`^(a?)(b)\2$`, "bb", []string{"bb", "", "b"}, nil},
		{`^x$`, "y", nil, nil},
	}
	for _, tt := range tests {
		re, err := CompileRegex(tt.expr)
		if err != nil {
			t.Fatalf("CompileRegex(%q): %v", tt.expr, err)
		}
		caps, unset := re.SubmatchesUnset(tt.subject)
		if !slices.Equal(caps, tt.caps) || (caps == nil) != (tt.caps == nil) || !slices.Equal(unset, tt.unset) {
			t.Errorf("%q =~ %q: got %q %v, want %q %v", tt.subject, tt.expr, caps, unset, tt.caps, tt.unset)
		}
	}
}

func TestSetCaptures(t *testing.T) {
	tests := []struct {
		name  string
		caps  []string
		unset []bool
		want  string // "" = variable absent
	}{
		{"all set", []string{"1234", "1", "234"}, nil, "ARRAY::1234|:1|:234"},
		{"unset group skipped", []string{"b", "", "b"}, []bool{false, true, false}, "ARRAY::b|:b"},
		{"empty group deletes what came before", []string{"*42", "", "", "42"}, nil, "42"},
		{"empty last group deletes all", []string{"x", ""}, nil, ""},
		{"no captures", nil, nil, ""},
	}
	for _, tt := range tests {
		s := vars.NewStore()
		s.Set("DP_MATCH", "old")
		setCaptures(s, "DP_MATCH", tt.caps, tt.unset)
		if got, _ := s.Get("DP_MATCH"); got != tt.want {
			t.Errorf("%s: DP_MATCH = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestExpandsAtHunt(t *testing.T) {
	tests := []struct {
		expr string
		want bool
	}{
		{`^(\d+)$`, false},
		{`^\$5$`, false},
		{`^${prefix}\d+$`, true},
		{`^$\{x}$`, true},
		{`^a\\d$`, true},
		{`^(\w+)\s(\w+)$`, true},
		{`^\t$`, true},
		{`^it\'s$`, true},
		{`^\d\.\w$`, false},
	}
	for _, tt := range tests {
		if got := vars.NeedsExpansion(tt.expr); got != tt.want {
			t.Errorf("vars.NeedsExpansion(%q) = %v, want %v", tt.expr, got, tt.want)
		}
	}
}
