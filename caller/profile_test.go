package caller

import (
	"strconv"
	"testing"
)

// TestTrue: switch_true's words in any case, and integers by value.
func TestTrue(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"", false}, {"yes", true}, {"YES", true}, {"On", true}, {"true", true}, {"t", true},
		{"enabled", true}, {"Active", true}, {"allow", true}, {"no", false}, {"false", false},
		{"1", true}, {"0", false}, {"-1", true}, {"+7", true}, {"+0", false}, {"007", true},
		{"00", false}, {"+", false}, {"-", false}, {"1x", false}, {" 1", false}, {"1_000", false},
		{"99999999999999999999", false}, // out of range for Atoi
		{"tru", false}, {"ye", false},
	}
	for _, tc := range tests {
		if got := True(tc.in); got != tc.want {
			t.Errorf("True(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestIsIntegerMatchesAtoi: isInteger accepts exactly the strings Atoi
// parses, apart from values out of range.
func TestIsIntegerMatchesAtoi(t *testing.T) {
	for _, s := range []string{"", "0", "12", "-3", "+4", "+", "-", "--1", "+-1", "1-", "1.0", "0x10", "1_0", " 1", "1 ", "١", "99999999999999999999"} {
		_, err := strconv.Atoi(s)
		parses := err == nil || err.(*strconv.NumError).Err == strconv.ErrRange
		if got := isInteger(s); got != parses {
			t.Errorf("isInteger(%q) = %v, Atoi parses it: %v", s, got, parses)
		}
	}
}
