package dialplan

import (
	"strings"
	"testing"
)

func TestCompileRegex(t *testing.T) {
	tests := []struct {
		expr      string
		subject   string
		match     bool
		backtrack bool
		caps      []string
	}{
		{expr: `^9196$`, subject: "9196", match: true},
		{expr: `^9196$`, subject: "91960", match: false},
		{expr: `19`, subject: "9196", match: true}, // unanchored search, like pcre2_match
		{expr: `^(35\d{2}).*?-screen$`, subject: "3500-x-screen", match: true, caps: []string{"3500-x-screen", "3500"}},
		// Lookahead is PCRE-only: vanilla's ^((?!6000)60\d{2})$.
		{expr: `^((?!6000)60\d{2})$`, subject: "6001", match: true, backtrack: true, caps: []string{"6001", "6001"}},
		{expr: `^((?!6000)60\d{2})$`, subject: "6000", match: false, backtrack: true},
		// Backreference.
		{expr: `^(\d)\1$`, subject: "33", match: true, backtrack: true, caps: []string{"33", "3"}},
		// /re/flags: i and s honoured.
		{expr: `/^abc$/i`, subject: "ABC", match: true},
		{expr: `/^a.c$/s`, subject: "a\nc", match: true},
		{expr: `/^a.c$/`, subject: "a\nc", match: false},
		// Asterisk patterns.
		{expr: `_1NXX`, subject: "1234", match: true},
		{expr: `_1NXX`, subject: "1034", match: false},
		{expr: `_1NXX`, subject: "12345", match: false},
		{expr: `_9Z.`, subject: "91555", match: true},
		{expr: `_9Z.`, subject: "90", match: false},
		// The count stops at the highest group that took part.
		{expr: `^(a)(b)?$`, subject: "a", match: true, caps: []string{"a", "a"}},
		{expr: `^(a)?(b)$`, subject: "b", match: true, caps: []string{"b", "", "b"}},
	}
	for _, tt := range tests {
		re, err := CompileRegex(tt.expr)
		if err != nil {
			t.Errorf("CompileRegex(%q): %v", tt.expr, err)
			continue
		}
		if got := re.MatchString(tt.subject); got != tt.match {
			t.Errorf("%q =~ %q: got %v, want %v", tt.subject, tt.expr, got, tt.match)
		}
		if re.Backtracking() != tt.backtrack {
			t.Errorf("%q: backtracking engine = %v, want %v", tt.expr, re.Backtracking(), tt.backtrack)
		}
		if tt.caps != nil {
			if got := re.Submatches(tt.subject); strings.Join(got, "|") != strings.Join(tt.caps, "|") || len(got) != len(tt.caps) {
				t.Errorf("%q =~ %q: captures %q, want %q", tt.subject, tt.expr, got, tt.caps)
			}
		}
	}
}

func TestCompileRegexErrors(t *testing.T) {
	for _, expr := range []string{`/abc`, `/`, `^(abc$`, `[z-a]`, `(?<=a+)b(`} {
		if _, err := CompileRegex(expr); err == nil {
			t.Errorf("CompileRegex(%q): want an error", expr)
		}
	}
}

func TestRegexTimeoutIsNoMatch(t *testing.T) {
	// Catastrophic backtracking needs the PCRE engine (the backreference
	// forces it); the match timeout turns it into "no match".
	re, err := CompileRegex(`^(\1?a|b)*(a+)+$`)
	if err != nil {
		t.Skipf("engine rejects the pattern: %v", err)
	}
	if !re.Backtracking() {
		t.Fatal("expected the backtracking engine")
	}
	if re.MatchString(strings.Repeat("a", 64) + "!") {
		t.Fatal("unexpected match")
	}
}

func TestSubstitute(t *testing.T) {
	caps := []string{"1005", "10", "05"}
	tests := []struct {
		data  string
		limit int
		want  string
	}{
		{"user/$1$2", 100, "user/1005"},
		{"${1}-${2}", 100, "10-05"},
		{"$0", 100, "1005"},
		{"$3$9 end", 100, " end"},             // missing groups are ""
		{"${var} $$ $x", 100, "${var} $$ $x"}, // not captures: copied
		{"$1${domain}", 100, "10${domain}"},
		{"$1$1$1$1", 6, "10101"},        // cut at limit-1, as the C buffer is
		{"$1", 0, ""},                   // proceed 0: FreeSWITCH's buffer is empty
		{"${1", 100, "${1"},             // unterminated brace: literal
		{"$2000000000000", 100, "0000"}, // 9 digits read, out of range: nothing; the rest is text
	}
	for _, tt := range tests {
		if got := Substitute(tt.data, caps, tt.limit); got != tt.want {
			t.Errorf("Substitute(%q, limit %d) = %q, want %q", tt.data, tt.limit, got, tt.want)
		}
	}
}
