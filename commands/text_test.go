package commands

import (
	"strings"
	"testing"

	"github.com/switchboard-voip/switchboard/dialplan"
)

func TestEchoMD5(t *testing.T) {
	env := newEnv(t)
	tests := []struct{ cmd, args, want string }{
		{"echo", "hello  world", "hello  world"},
		{"echo", "${domain}", "${domain}"}, // not expanded
		{"md5", "abc", "900150983cd24fb0d6963f7d28e17f72"},
		{"md5", "", "!err!"},
	}
	for _, tt := range tests {
		if got := run(env, tt.cmd, tt.args); got != tt.want {
			t.Errorf("%s %q = %q, want %q", tt.cmd, tt.args, got, tt.want)
		}
	}
}

func TestRegex(t *testing.T) {
	env := newEnv(t)
	tests := []struct{ args, want string }{
		{"1234|^12", "true"},
		{"1234|^34", "false"},
		{"1234|^(\\d\\d)(\\d\\d)$|%2%1", "3412"},
		{"1234|^(\\d\\d)(\\d\\d)$|$2-${1}", "34-12"},
		{"1234|^(\\d\\d)(\\d\\d)$|%0 %3 %", "1234  $"}, // missing group: ""
		{"1234|^5|x", "1234"},                          // no match: the data
		{"1234|^5|x|n", ""},
		{"1234|^5|x|b", "false"},
		{"1234|^1|x|b", "x"},
		{"Hello|/^hello$/i", "true"},
		{"Hello|^hello$", "false"},
		{"2125551234|_NXXNXXXXXX", "true"},
		{"a|b|c|(", "a"},   // fourth field: flags, none known
		{"abc|(", "false"}, // a pattern that does not compile does not match
		{"m:~a|b~^a\\|b$", "true"},
		{"m:~a|b~^(a)\\|(b)$~%2|%1", "b|a"},
		{"m:/x/x", "true"},
		{"1234|^1(2)?(9)?", "true"},
		{"1234|^1(9)?(2)|[%1][%2]", "[][2]"},
		{"1234", "-ERR"},
		{"", "-ERR"},
		// Output is cut at (len(data)+len(template)+10)×captures-1 bytes.
		{"a|a|" + strings.Repeat("%0", 20), strings.Repeat("a", 20)},
		{"a|(a)|" + strings.Repeat("%1", 40), strings.Repeat("a", 40)},
	}
	for _, tt := range tests {
		if got := run(env, "regex", tt.args); got != tt.want {
			t.Errorf("regex %q = %q, want %q", tt.args, got, tt.want)
		}
	}
}

func TestSubstituteLimit(t *testing.T) {
	tests := []struct {
		tmpl  string
		caps  []string
		limit int
		want  string
	}{
		{"$1$1$1", []string{"x", "abc"}, 8, "abcabca"},
		{"$1", []string{"x", "abc"}, 1, ""},
		{"${1}0 $10 $x ${ ${1", []string{"x", "a"}, 100, "a0  $x ${ ${1"},
		{"$1234567890", []string{"x"}, 100, "0"}, // nine digits at most
		{"$257", make([]string, 300), 100, ""},
	}
	for _, tt := range tests {
		if got := dialplan.Substitute(tt.tmpl, tt.caps, tt.limit); got != tt.want {
			t.Errorf("dialplan.Substitute(%q, %d) = %q, want %q", tt.tmpl, tt.limit, got, tt.want)
		}
	}
}

func TestCond(t *testing.T) {
	env := newEnv(t)
	tests := []struct{ args, want string }{
		{"1 == 1 ? a : b", "a"},
		{"1 == 2 ? a : b", "b"},
		{"1 != 2 ? a : b", "a"},
		{"2 > 10 ? a : b", "b"},   // numbers compare as numbers
		{"10 >= 10 ? a : b", "a"}, //
		{"1.5 < 1.50 ? a : b", "b"},
		{"-1 <= 0 ? a : b", "a"},
		{"1.0 == 1 ? a : b", "a"},
		{"abc == abc ? a : b", "a"},
		{"abc == abd ? a : b", "b"},
		{"abc != abd ? a : b", "a"},
		{"abc > ab ? a : b", "a"},    // strings compare by length
		{"abc == 3 ? a : b", "a"},    // a number on one side: the other's length
		{"'1' == '01' ? a : b", "b"}, // quoted: never numbers
		{"1 == 01 ? a : b", "a"},
		{"'a b' == 'a b' ? same : diff", "same"},
		{`'it\'s' == 'it\'s' ? same : diff`, "same"},
		{"1 == 2 ? a", ""}, // no false value
		{"1 == 1 ? a", "a"},
		{"1 == 1 ? 'x : y' : z", "x : y"},
		{"1 == 1 ? a : b : c", "a"},
		{"1 == 1 ?a:b", "a"},
		{"1   ==   1   ?   a   :   b", "a"},
		{"1 ==1 ? a : b", "-ERR"}, // the character after the operator is skipped
		{"1 == 1", "-ERR"},
		{"1 = 1 ? a : b", "-ERR"},
		{"1 ! 1 ? a : b", "-ERR"},
		{"1 <> 1 ? a : b", "b"}, // "<", then ">" is the skipped character
		{"1 == 1 : a : b", "-ERR"},
		{"'1 == 1 ? a : b", "-ERR"},
		{"'1'== 1 ? a : b", "-ERR"},
		{"1", "-ERR"},
		{"", "-ERR"},
		{"1 ==", "-ERR"},
	}
	for _, tt := range tests {
		if got := run(env, "cond", tt.args); got != tt.want {
			t.Errorf("cond %q = %q, want %q", tt.args, got, tt.want)
		}
	}
}

func TestNumbers(t *testing.T) {
	for _, tt := range []struct {
		s   string
		num bool
		f   float64
	}{
		{"12", true, 12}, {"-1.5", true, -1.5}, {"+3", true, 3}, {"1.2.3", true, 1.2},
		{"", true, 0}, {".", true, 0}, {"-", true, 0}, {"1e5", false, 0}, {"a", false, 0},
	} {
		if got := isNumber(tt.s); got != tt.num {
			t.Errorf("isNumber(%q) = %v", tt.s, got)
		}
		if tt.num {
			if got := atof(tt.s); got != tt.f {
				t.Errorf("atof(%q) = %v, want %v", tt.s, got, tt.f)
			}
		}
	}
}
