package strftime

import (
	"testing"
	"time"
)

// Expected values are glibc strftime's output in the C locale
// (LC_ALL=C date -d @<epoch> +<format>).
func TestFormat(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("no tzdata: %v", err)
	}
	newYearsEve := time.Unix(1704067199, 0).UTC() // Sun 2023-12-31 23:59:59 UTC
	monday := time.Unix(1709535600, 0).In(ny)     // Mon 2024-03-04 02:00:00 EST
	tests := []struct {
		format string
		t      time.Time
		want   string
	}{
		{"%a %A %b %B %h", newYearsEve, "Sun Sunday Dec December Dec"},
		{"%c", newYearsEve, "Sun Dec 31 23:59:59 2023"},
		{"%c", monday, "Mon Mar  4 02:00:00 2024"},
		{"%C %y %Y", newYearsEve, "20 23 2023"},
		{"%d %e %D %x %F", monday, "04  4 03/04/24 03/04/24 2024-03-04"},
		{"%H %I %k %l %p %P", newYearsEve, "23 11 23 11 PM pm"},
		{"%H %I %k %l %p %P", monday, "02 02  2  2 AM am"},
		{"%j %m %M %S", monday, "064 03 00 00"},
		{"%r|%R|%T|%X", newYearsEve, "11:59:59 PM|23:59|23:59:59|23:59:59"},
		{"%s", monday, "1709535600"},
		{"%u %w %U %W %V %G %g", newYearsEve, "7 0 53 52 52 2023 23"},
		{"%u %w %U %W %V %G %g", monday, "1 1 09 10 10 2024 24"},
		{"%z %Z", newYearsEve, "+0000 UTC"},
		{"%z %Z", monday, "-0500 EST"},
		{"%a, %d %b %Y %T %z", monday, "Mon, 04 Mar 2024 02:00:00 -0500"}, // vanilla's format
		{DefaultFormat, monday, "2024-03-04 02:00:00"},
		{"100%% %n%t", monday, "100% \n\t"},
		{"%Ey %Od", monday, "24 04"},
		{"%q and %", monday, "%q and %"},
		{"%E", monday, "%E"},
		{"no verbs", monday, "no verbs"},
		{"", monday, ""},
	}
	for _, tt := range tests {
		if got := Format(tt.format, tt.t); got != tt.want {
			t.Errorf("Format(%q, %v) = %q, want %q", tt.format, tt.t, got, tt.want)
		}
	}
}

func TestFormatBeforeEpoch(t *testing.T) {
	// 1906-08-16 20:26:40 UTC, a Thursday: negative Unix times work too.
	got := Format("%Y-%m-%d %H:%M:%S %a %j %s", time.Unix(-2000000000, 0).UTC())
	if want := "1906-08-16 20:26:40 Thu 228 -2000000000"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		format string
		ok     bool
	}{
		{"", true},
		{"plain text", true},
		{"%Y-%m-%d %T", true},
		{"%a, %d %b %Y %T %z", true},
		{"%C%D%r%R%T%e%a%A%b%B%c%d%H%I%j%m%M%p%S%U%w%W%x%X%y%Y%z%Z%%", true},
		{"%s", false},  // not in FreeSWITCH's list
		{"%F", false},  // likewise
		{"%-d", false}, // flags are refused
		{"%Ey", false}, // so are modifiers
		{"%Y%", false}, // a trailing % too
		{"100%%", true},
	}
	for _, tt := range tests {
		if got := Check(tt.format); got != tt.ok {
			t.Errorf("Check(%q) = %v, want %v", tt.format, got, tt.ok)
		}
	}
}
