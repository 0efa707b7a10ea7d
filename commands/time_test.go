package commands

import (
	"strings"
	"testing"
)

// The test clock is 2024-03-04 02:00:00 EST (UTC-5), Unix 1709535600.
func TestStrftime(t *testing.T) {
	env := newEnv(t)
	tests := []struct{ args, want string }{
		{"", "2024-03-04 02:00:00"},
		{"%Y", "2024"},
		{"%Y-%m-%d %H:%M:%S", "2024-03-04 02:00:00"},
		{"%a, %d %b %Y %T %z", "Mon, 04 Mar 2024 02:00:00 -0500"},
		{"week %U/%W day %j", "week 09/10 day 064"},
		{"%s", ""},  // not in FreeSWITCH's list of conversions
		{"%F", ""},  // nor this
		{"%-d", ""}, // nor flags
		{"no conversions", "no conversions"},
		// Unix time 1700000000 is 2023-11-14 22:13:20 UTC, 17:13:20 here.
		{"1700000000| %Y-%m-%d %H:%M", "2023-11-14 17:13"},
		{"1700000000|%Y-%m-%d", "Y-11-14"}, // the character after | is skipped
		{"1700000000|", "2023-11-14 17:13:20"},
		{"1700000000|x", "2023-11-14 17:13:20"},
		{"junk| %Y", "1969"},                                   // atol("junk") is 0: the epoch, in UTC-5
		{strings.Repeat("%Y", 19), strings.Repeat("2024", 19)}, // 76 bytes fit FreeSWITCH's 80-byte buffer
		{strings.Repeat("%Y", 20), ""},                         // 80 do not
	}
	for _, tt := range tests {
		if got := run(env, "strftime", tt.args); got != tt.want {
			t.Errorf("strftime %q = %q, want %q", tt.args, got, tt.want)
		}
	}
}

func TestStrepoch(t *testing.T) {
	env := newEnv(t)
	tests := []struct{ args, want string }{
		{"", "1709535600"},
		{"2024-03-04 02:00:00", "1709535600"},
		{"2024-03-04 02:00", "1709535600"},
		{"2024-03-04", "1709528400"},
		{"2024-3-4 2:0:0 trailing text", "1709535600"},
		{"20240304020000Z", "1709535600"},
		{"20240304020000", "0"}, // digits alone are an hour: 20240304020000 wraps negative
		{"10:30", "1709566200"}, // today, 15:30 UTC
		{"10:30:00", "1709566200"},
		{"2024-13-01", "1735707600"}, // month 13 carries into 2025
		{"1969-12-31 00:00:00", "0"},
		{"2040-01-01", "-2085960496"}, // printed as a 32-bit number, as FreeSWITCH does
		{"next tuesday", "0"},
	}
	for _, tt := range tests {
		if got := run(env, "strepoch", tt.args); got != tt.want {
			t.Errorf("strepoch %q = %q, want %q", tt.args, got, tt.want)
		}
	}
}

func TestAtol(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"", 0}, {"12", 12}, {"  -12x", -12}, {"+7", 7}, {"x1", 0},
		{"99999999999999999999", 1<<63 - 1},
	}
	for _, tt := range tests {
		if got := atol(tt.in); got != tt.want {
			t.Errorf("atol(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}
