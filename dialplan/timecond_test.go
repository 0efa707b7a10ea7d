package dialplan

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// tvars is a channel-variable set for time tests.
type tvars map[string]string

func (m tvars) Get(k string) (string, bool) { v, ok := m[k]; return v, ok }

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("LoadLocation(%q): %v", name, err)
	}
	return loc
}

func mustInstant(t testing.TB, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return ts
}

func mustCompileTime(t testing.TB, spec TimeSpec) *timeCheck {
	t.Helper()
	tc, err := compileTime(&spec)
	if err != nil {
		t.Fatalf("compileTime(%+v): %v", spec, err)
	}
	if tc == nil {
		t.Fatalf("compileTime(%+v) = nil for a non-empty spec", spec)
	}
	return tc
}

type timeCase struct {
	name  string
	spec  TimeSpec
	at    string // RFC 3339 instant
	vars  tvars
	local string // server zone; "" is UTC
	want  bool
}

func runTimeCases(t *testing.T, cases []timeCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tc := mustCompileTime(t, c.spec)
			local := time.UTC
			if c.local != "" {
				local = mustZone(t, c.local)
			}
			if got := tc.matchIn(mustInstant(t, c.at), c.vars, local); got != c.want {
				t.Errorf("%+v at %s (vars %v, local %s) = %v, want %v", c.spec, c.at, c.vars, local, got, c.want)
			}
		})
	}
}

func TestCompileTimeEmpty(t *testing.T) {
	for _, spec := range []*TimeSpec{nil, {}} {
		tc, err := compileTime(spec)
		if tc != nil || err != nil {
			t.Errorf("compileTime(%v) = %v, %v; want nil, nil", spec, tc, err)
		}
	}
}

func TestTimeNumericAttributes(t *testing.T) {
	runTimeCases(t, []timeCase{
		{"year hit", TimeSpec{Year: "2024"}, "2024-05-01T12:00:00Z", nil, "", true},
		{"year miss", TimeSpec{Year: "2023"}, "2024-05-01T12:00:00Z", nil, "", false},
		{"year list", TimeSpec{Year: "2020,2024"}, "2024-05-01T12:00:00Z", nil, "", true},
		{"year range miss", TimeSpec{Year: "2020-2023"}, "2024-05-01T12:00:00Z", nil, "", false},
		{"year wrap above", TimeSpec{Year: "2023-2020"}, "2024-05-01T12:00:00Z", nil, "", true},
		{"year wrap gap", TimeSpec{Year: "2025-2020"}, "2024-05-01T12:00:00Z", nil, "", false},

		{"yday first is 1", TimeSpec{Yday: "1"}, "2024-01-01T00:00:00Z", nil, "", true},
		{"yday second", TimeSpec{Yday: "1"}, "2024-01-02T00:00:00Z", nil, "", false},
		{"yday leap last", TimeSpec{Yday: "366"}, "2024-12-31T23:59:59Z", nil, "", true},
		{"yday common last", TimeSpec{Yday: "365"}, "2023-12-31T12:00:00Z", nil, "", true},
		{"yday wrap", TimeSpec{Yday: "360-5"}, "2024-01-03T12:00:00Z", nil, "", true},

		{"mon hit", TimeSpec{Mon: "5"}, "2024-05-01T12:00:00Z", nil, "", true},
		{"mon miss", TimeSpec{Mon: "6"}, "2024-05-31T12:00:00Z", nil, "", false},
		{"mon wrap winter", TimeSpec{Mon: "11-2"}, "2024-01-15T12:00:00Z", nil, "", true},
		{"mon wrap summer", TimeSpec{Mon: "11-2"}, "2024-05-15T12:00:00Z", nil, "", false},
		{"mon range end inclusive", TimeSpec{Mon: "3-5"}, "2024-05-31T12:00:00Z", nil, "", true},

		{"mday list hit", TimeSpec{Mday: "1,15,31"}, "2024-03-15T12:00:00Z", nil, "", true},
		{"mday list miss", TimeSpec{Mday: "1,15,31"}, "2024-03-16T12:00:00Z", nil, "", false},
		{"mday spaces after commas", TimeSpec{Mday: "1, 16, 31"}, "2024-03-16T12:00:00Z", nil, "", true},
		{"mday wrap", TimeSpec{Mday: "25-5"}, "2024-03-28T12:00:00Z", nil, "", true},

		{"week day 7 is week 1", TimeSpec{Week: "1"}, "2024-01-07T12:00:00Z", nil, "", true},
		{"week day 8 is week 2", TimeSpec{Week: "2"}, "2024-01-08T12:00:00Z", nil, "", true},
		{"week day 8 not week 1", TimeSpec{Week: "1"}, "2024-01-08T12:00:00Z", nil, "", false},
		{"week leap year end is 53", TimeSpec{Week: "53"}, "2024-12-31T12:00:00Z", nil, "", true},
		{"week common year end is 53", TimeSpec{Week: "53"}, "2023-12-31T12:00:00Z", nil, "", true},
		{"week dec 30 common is 52", TimeSpec{Week: "52"}, "2023-12-30T12:00:00Z", nil, "", true},

		// 2024-06-01 is a Saturday: week 1 is that one day.
		{"mweek saturday first", TimeSpec{Mweek: "1"}, "2024-06-01T12:00:00Z", nil, "", true},
		{"mweek next sunday is 2", TimeSpec{Mweek: "2"}, "2024-06-02T12:00:00Z", nil, "", true},
		{"mweek next sunday not 1", TimeSpec{Mweek: "1"}, "2024-06-02T12:00:00Z", nil, "", false},
		{"mweek 30th is 6", TimeSpec{Mweek: "6"}, "2024-06-30T12:00:00Z", nil, "", true},
		// 2024-09-01 is a Sunday: week 1 is full.
		{"mweek sunday first", TimeSpec{Mweek: "1"}, "2024-09-07T12:00:00Z", nil, "", true},
		{"mweek sunday first next", TimeSpec{Mweek: "2"}, "2024-09-08T12:00:00Z", nil, "", true},

		{"hour wrap evening", TimeSpec{Hour: "18-8"}, "2024-05-01T23:00:00Z", nil, "", true},
		{"hour wrap morning", TimeSpec{Hour: "18-8"}, "2024-05-01T08:59:59Z", nil, "", true},
		{"hour wrap day", TimeSpec{Hour: "18-8"}, "2024-05-01T12:00:00Z", nil, "", false},
		{"hour range end inclusive", TimeSpec{Hour: "9-17"}, "2024-05-01T17:59:00Z", nil, "", true},
		{"hour range after", TimeSpec{Hour: "9-17"}, "2024-05-01T18:00:00Z", nil, "", false},
		{"hour zero", TimeSpec{Hour: "0"}, "2024-05-01T00:30:00Z", nil, "", true},
		{"hour out-of-range end", TimeSpec{Hour: "20-24"}, "2024-05-01T23:30:00Z", nil, "", true},

		{"minute hit", TimeSpec{Minute: "0-29"}, "2024-05-01T10:15:00Z", nil, "", true},
		{"minute miss", TimeSpec{Minute: "0-29"}, "2024-05-01T10:45:00Z", nil, "", false},
		{"minute wrap", TimeSpec{Minute: "45-15"}, "2024-05-01T10:50:00Z", nil, "", true},

		{"minute-of-day midnight is 1", TimeSpec{MinuteOfDay: "1"}, "2024-05-01T00:00:30Z", nil, "", true},
		{"minute-of-day 9am is 541", TimeSpec{MinuteOfDay: "541"}, "2024-05-01T09:00:00Z", nil, "", true},
		{"minute-of-day 9am not 540", TimeSpec{MinuteOfDay: "540"}, "2024-05-01T09:00:00Z", nil, "", false},
		{"minute-of-day last is 1440", TimeSpec{MinuteOfDay: "1440"}, "2024-05-01T23:59:59Z", nil, "", true},
		{"minute-of-day wrap", TimeSpec{MinuteOfDay: "1380-60"}, "2024-05-01T00:30:00Z", nil, "", true},
		{"minute-of-day zero-based range", TimeSpec{MinuteOfDay: "0-539"}, "2024-05-01T08:58:00Z", nil, "", true},
	})
}

func TestTimeWday(t *testing.T) {
	// 2024-06-01 Sat, 06-02 Sun, 06-03 Mon, 06-05 Wed, 06-07 Fri.
	runTimeCases(t, []timeCase{
		{"number monday", TimeSpec{Wday: "2"}, "2024-06-03T12:00:00Z", nil, "", true},
		{"number sunday is 1", TimeSpec{Wday: "1"}, "2024-06-02T12:00:00Z", nil, "", true},
		{"number saturday is 7", TimeSpec{Wday: "7"}, "2024-06-01T12:00:00Z", nil, "", true},
		{"number miss", TimeSpec{Wday: "3"}, "2024-06-03T12:00:00Z", nil, "", false},
		{"name", TimeSpec{Wday: "mon"}, "2024-06-03T12:00:00Z", nil, "", true},
		{"name upper", TimeSpec{Wday: "MON"}, "2024-06-03T12:00:00Z", nil, "", true},
		{"name mixed case range", TimeSpec{Wday: "Mon-Fri"}, "2024-06-07T12:00:00Z", nil, "", true},
		{"range miss weekend", TimeSpec{Wday: "mon-fri"}, "2024-06-01T12:00:00Z", nil, "", false},
		{"numeric range", TimeSpec{Wday: "2-6"}, "2024-06-05T12:00:00Z", nil, "", true},
		{"list weekend sat", TimeSpec{Wday: "sat,sun"}, "2024-06-01T12:00:00Z", nil, "", true},
		{"list weekend mon", TimeSpec{Wday: "sat,sun"}, "2024-06-03T12:00:00Z", nil, "", false},
		{"wrap fri-mon monday", TimeSpec{Wday: "fri-mon"}, "2024-06-03T12:00:00Z", nil, "", true},
		{"wrap fri-mon sunday", TimeSpec{Wday: "fri-mon"}, "2024-06-02T12:00:00Z", nil, "", true},
		{"wrap fri-mon wednesday", TimeSpec{Wday: "fri-mon"}, "2024-06-05T12:00:00Z", nil, "", false},
		{"mixed name and number", TimeSpec{Wday: "1,mon-3"}, "2024-06-04T12:00:00Z", nil, "", true},
	})
}

func TestTimeOfDay(t *testing.T) {
	runTimeCases(t, []timeCase{
		{"start inclusive", TimeSpec{TimeOfDay: "09:00-17:00"}, "2024-05-01T09:00:00Z", nil, "", true},
		{"before start", TimeSpec{TimeOfDay: "09:00-17:00"}, "2024-05-01T08:59:59Z", nil, "", false},
		{"end inclusive", TimeSpec{TimeOfDay: "09:00-17:00"}, "2024-05-01T17:00:00Z", nil, "", true},
		{"after end", TimeSpec{TimeOfDay: "09:00-17:00"}, "2024-05-01T17:00:01Z", nil, "", false},
		{"seconds", TimeSpec{TimeOfDay: "06:00:00-06:00:30"}, "2024-05-01T06:00:30Z", nil, "", true},
		{"seconds after", TimeSpec{TimeOfDay: "06:00:00-06:00:30"}, "2024-05-01T06:00:31Z", nil, "", false},
		{"wrap late", TimeSpec{TimeOfDay: "22:00-06:00"}, "2024-05-01T23:30:00Z", nil, "", true},
		{"wrap early", TimeSpec{TimeOfDay: "22:00-06:00"}, "2024-05-01T03:00:00Z", nil, "", true},
		{"wrap day", TimeSpec{TimeOfDay: "22:00-06:00"}, "2024-05-01T12:00:00Z", nil, "", false},
		{"list second item", TimeSpec{TimeOfDay: "08:00-09:00,13:00-14:00"}, "2024-05-01T13:30:00Z", nil, "", true},
		{"list gap", TimeSpec{TimeOfDay: "08:00-09:00,13:00-14:00"}, "2024-05-01T11:00:00Z", nil, "", false},
		{"spaces and short hours", TimeSpec{TimeOfDay: " 9:00 - 17:00 "}, "2024-05-01T16:00:00Z", nil, "", true},
		{"end of day 24:00", TimeSpec{TimeOfDay: "18:00-24:00"}, "2024-05-01T23:59:59Z", nil, "", true},
	})
}

func TestTimeDateTime(t *testing.T) {
	const berlin = "Europe/Berlin"
	ny := tvars{"timezone": "America/New_York"}
	runTimeCases(t, []timeCase{
		// 2024-06-01 12:00 CEST is 10:00Z.
		{"start inclusive", TimeSpec{DateTime: "2024-06-01 12:00~2024-06-01 13:00"}, "2024-06-01T10:00:00Z", nil, berlin, true},
		{"before start", TimeSpec{DateTime: "2024-06-01 12:00~2024-06-01 13:00"}, "2024-06-01T09:59:59Z", nil, berlin, false},
		{"end exclusive", TimeSpec{DateTime: "2024-06-01 12:00~2024-06-01 13:00"}, "2024-06-01T11:00:00Z", nil, berlin, false},
		{"seconds", TimeSpec{DateTime: "2024-06-01 12:00:30~2024-06-01 13:00"}, "2024-06-01T10:00:29Z", nil, berlin, false},
		{"ignores timezone var", TimeSpec{DateTime: "2024-06-01 12:00~2024-06-01 13:00"}, "2024-06-01T10:30:00Z", ny, berlin, true},
		{"ignores timezone var (NY noon)", TimeSpec{DateTime: "2024-06-01 12:00~2024-06-01 13:00"}, "2024-06-01T16:30:00Z", ny, berlin, false},
		{"ignores tod_tz_offset", TimeSpec{DateTime: "2024-06-01 12:00~2024-06-01 13:00"}, "2024-06-01T10:30:00Z", tvars{"tod_tz_offset": "-8"}, berlin, true},
		{"date only", TimeSpec{DateTime: "2024-12-24~2024-12-27"}, "2024-12-26T22:59:59Z", nil, berlin, true},
		{"date only end", TimeSpec{DateTime: "2024-12-24~2024-12-27"}, "2024-12-26T23:00:00Z", nil, berlin, false},
		{"hour only", TimeSpec{DateTime: "2024-12-24 9~2024-12-24 10"}, "2024-12-24T08:30:00Z", nil, berlin, true},
		{"list second", TimeSpec{DateTime: "2024-01-01~2024-01-02,2024-06-01~2024-06-02"}, "2024-06-01T12:00:00Z", nil, "", true},
		{"list miss", TimeSpec{DateTime: "2024-01-01~2024-01-02,2024-06-01~2024-06-02"}, "2024-03-01T12:00:00Z", nil, "", false},
		{"trailing space after date", TimeSpec{DateTime: "2024-06-01 ~2024-06-02 "}, "2024-06-01T12:00:00Z", nil, "", true},
		// A time-only stamp means today in server local time.
		{"time only today", TimeSpec{DateTime: "09:00~17:00"}, "2024-06-01T07:00:00Z", nil, berlin, true},
		{"time only end exclusive", TimeSpec{DateTime: "09:00~17:00"}, "2024-06-01T15:00:00Z", nil, berlin, false},
		{"time only other day", TimeSpec{DateTime: "09:00~17:00"}, "2024-11-20T12:00:00Z", nil, berlin, true},
		// Berlin skips 02:00-03:00 on 2024-03-31 (01:00Z). switch_str_time
		// reads 02:30 as UTC, finds +02:00 there and lands on 00:30Z, an
		// hour before where time.Date would put it.
		{"dst gap start like FreeSWITCH", TimeSpec{DateTime: "2024-03-31 02:30~2024-03-31 05:00"}, "2024-03-31T00:45:00Z", nil, berlin, true},
		{"dst gap before start", TimeSpec{DateTime: "2024-03-31 02:30~2024-03-31 05:00"}, "2024-03-31T00:15:00Z", nil, berlin, false},
	})
}

func TestTimeTzOffset(t *testing.T) {
	const ny = "America/New_York"
	runTimeCases(t, []timeCase{
		{"server winter", TimeSpec{TzOffset: "-5"}, "2024-01-15T12:00:00Z", nil, ny, true},
		{"server winter wrong", TimeSpec{TzOffset: "-4"}, "2024-01-15T12:00:00Z", nil, ny, false},
		{"server summer", TimeSpec{TzOffset: "-4"}, "2024-07-15T12:00:00Z", nil, ny, true},
		{"timezone var", TimeSpec{TzOffset: "-4"}, "2024-07-15T12:00:00Z", tvars{"timezone": ny}, "", true},
		{"timezone var half hour truncates", TimeSpec{TzOffset: "5"}, "2024-07-15T12:00:00Z", tvars{"timezone": "Asia/Kolkata"}, "", true},
		{"timezone var plus sign", TimeSpec{TzOffset: "+5"}, "2024-07-15T12:00:00Z", tvars{"timezone": "Asia/Kolkata"}, "", true},
		{"attribute fraction truncates", TimeSpec{TzOffset: "5.5"}, "2024-07-15T12:00:00Z", tvars{"timezone": "Asia/Kolkata"}, "", true},
		{"negative half hour truncates toward zero", TimeSpec{TzOffset: "-3"}, "2024-01-15T12:00:00Z", tvars{"timezone": "America/St_Johns"}, "", true},
		{"tod_tz_offset", TimeSpec{TzOffset: "2"}, "2024-01-15T12:00:00Z", tvars{"tod_tz_offset": "2"}, ny, true},
		{"tod_tz_offset wrong", TimeSpec{TzOffset: "3"}, "2024-01-15T12:00:00Z", tvars{"tod_tz_offset": "2"}, ny, false},
		{"tod_tz_offset atoi", TimeSpec{TzOffset: "2"}, "2024-01-15T12:00:00Z", tvars{"tod_tz_offset": "2.7"}, ny, true},
		{"utc zero", TimeSpec{TzOffset: "0"}, "2024-01-15T12:00:00Z", nil, "", true},
	})
}

// dst="false" never matches in FreeSWITCH: only a switch_true value can pass.
func TestTimeDSTFalseNeverMatchesQuirk(t *testing.T) {
	const ny = "America/New_York"
	runTimeCases(t, []timeCase{
		{"false in winter", TimeSpec{DST: "false"}, "2024-01-15T12:00:00Z", nil, ny, false},
		{"false in summer", TimeSpec{DST: "false"}, "2024-07-15T12:00:00Z", nil, ny, false},
		{"false without dst zone", TimeSpec{DST: "false"}, "2024-07-15T12:00:00Z", nil, "", false},
		{"garbage", TimeSpec{DST: "maybe"}, "2024-07-15T12:00:00Z", nil, ny, false},
		{"false with passing hour", TimeSpec{DST: "false", Hour: "0-23"}, "2024-01-15T12:00:00Z", nil, ny, false},
		{"true in summer", TimeSpec{DST: "true"}, "2024-07-15T12:00:00Z", nil, ny, true},
		{"yes in summer", TimeSpec{DST: "yes"}, "2024-07-15T12:00:00Z", nil, ny, true},
		{"true in winter", TimeSpec{DST: "true"}, "2024-01-15T12:00:00Z", nil, ny, false},
	})
}

// dst reads server local time even when the timezone variable names a zone
// that is in DST.
func TestTimeDSTUsesServerLocalQuirk(t *testing.T) {
	runTimeCases(t, []timeCase{
		{"utc server, NY var", TimeSpec{DST: "true"}, "2024-07-15T12:00:00Z", tvars{"timezone": "America/New_York"}, "", false},
		{"berlin server, UTC var", TimeSpec{DST: "true"}, "2024-07-15T12:00:00Z", tvars{"timezone": "UTC"}, "Europe/Berlin", true},
		{"berlin server, offset var", TimeSpec{DST: "true"}, "2024-07-15T12:00:00Z", tvars{"tod_tz_offset": "0"}, "Europe/Berlin", true},
	})
}

func TestTimeClockSources(t *testing.T) {
	const at = "2024-07-01T16:00:00Z" // Berlin 18:00, New York 12:00
	const berlin = "Europe/Berlin"
	ny := "America/New_York"
	runTimeCases(t, []timeCase{
		{"server local", TimeSpec{Hour: "18"}, at, nil, berlin, true},
		{"server local no vars", TimeSpec{Hour: "18"}, at, tvars{}, berlin, true},
		{"timezone var", TimeSpec{Hour: "12"}, at, tvars{"timezone": ny}, berlin, true},
		{"timezone var not server", TimeSpec{Hour: "18"}, at, tvars{"timezone": ny}, berlin, false},
		{"tod_tz_offset", TimeSpec{Hour: "9"}, at, tvars{"tod_tz_offset": "-7"}, berlin, true},
		{"tod_tz_offset plus", TimeSpec{Hour: "19"}, at, tvars{"tod_tz_offset": "+3"}, berlin, true},
		{"tod_tz_offset beats timezone", TimeSpec{Hour: "9"}, at, tvars{"tod_tz_offset": "-7", "timezone": ny}, berlin, true},
		{"non-numeric tod_tz_offset falls to timezone", TimeSpec{Hour: "12"}, at, tvars{"tod_tz_offset": "abc", "timezone": ny}, berlin, true},
		{"empty tod_tz_offset falls to timezone", TimeSpec{Hour: "12"}, at, tvars{"tod_tz_offset": "", "timezone": ny}, berlin, true},
		{"lone sign tod_tz_offset is zero", TimeSpec{Hour: "16"}, at, tvars{"tod_tz_offset": "-"}, berlin, true},
		{"empty timezone is server local", TimeSpec{Hour: "18"}, at, tvars{"timezone": ""}, berlin, true},
		{"unknown timezone is server local", TimeSpec{Hour: "18"}, at, tvars{"timezone": "Mars/Olympus_Mons"}, berlin, true},
		{"Local timezone is server local", TimeSpec{Hour: "18"}, at, tvars{"timezone": "Local"}, berlin, true},
		{"path-like timezone is server local", TimeSpec{Hour: "18"}, at, tvars{"timezone": "../../etc/passwd"}, berlin, true},
		{"offset crosses midnight for mday", TimeSpec{Mday: "2", Wday: "tue"}, "2024-07-01T22:00:00Z", tvars{"tod_tz_offset": "3"}, "", true},
		{"timezone before spring forward", TimeSpec{Hour: "1"}, "2024-03-10T06:30:00Z", tvars{"timezone": ny}, "", true},
		{"timezone after spring forward", TimeSpec{Hour: "3"}, "2024-03-10T07:30:00Z", tvars{"timezone": ny}, "", true},
		{"timezone after fall back", TimeSpec{Hour: "1"}, "2024-11-03T06:30:00Z", tvars{"timezone": ny}, "", true},
		{"combined business hours", TimeSpec{Wday: "mon-fri", Hour: "9-17", Mon: "7"}, at, tvars{"timezone": ny}, "", true},
		{"combined one fails", TimeSpec{Wday: "sat-sun", Hour: "9-17", Mon: "7"}, at, tvars{"timezone": ny}, "", false},
	})
}

// match reads time.Local; with tod_tz_offset set the result does not depend
// on the machine's zone.
func TestTimeMatchUsesVars(t *testing.T) {
	tc := mustCompileTime(t, TimeSpec{Hour: "9", TzOffset: "-7"})
	at := mustInstant(t, "2024-07-01T16:00:00Z")
	if !tc.match(at, tvars{"tod_tz_offset": "-7"}) {
		t.Errorf("match with tod_tz_offset=-7 at %s = false, want true", at)
	}
	if tc.match(at, tvars{"tod_tz_offset": "-6"}) {
		t.Errorf("match with tod_tz_offset=-6 at %s = true, want false", at)
	}
}

// weekOfMonth must agree with counting Sundays: week 1 holds the 1st and
// every Sunday after it starts a new week.
func TestWeekOfMonthMatchesSundayCount(t *testing.T) {
	day := time.Date(2023, 1, 1, 12, 0, 0, 0, time.UTC)
	end := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for ; day.Before(end); day = day.AddDate(0, 0, 1) {
		want := 1
		for d := 2; d <= day.Day(); d++ {
			if time.Date(day.Year(), day.Month(), d, 0, 0, 0, 0, time.UTC).Weekday() == time.Sunday {
				want++
			}
		}
		if got := weekOfMonth(day.Day(), int(day.Weekday())); got != want {
			t.Fatalf("weekOfMonth(%s) = %d, want %d", day.Format("2006-01-02 Mon"), got, want)
		}
		tc := mustCompileTime(t, TimeSpec{Mweek: fmt.Sprint(want)})
		if !tc.matchIn(day, nil, time.UTC) {
			t.Fatalf("mweek=%d does not match %s", want, day.Format("2006-01-02"))
		}
	}
}

func TestCompileTimeAccepts(t *testing.T) {
	for _, spec := range []TimeSpec{
		{Hour: "0-24"},
		{Hour: "9- 17"},
		{Hour: "9-17 "},
		{Hour: " 9"},
		{MinuteOfDay: "0-539"},
		{Year: "2024-1999"},
		{Wday: "Sun,MON,tUe"},
		{Wday: "7-1"},
		{TimeOfDay: "9:0-17:0:5"},
		{TimeOfDay: "00:00-24:00:00"},
		{DateTime: "2024-1-2 3:04~2024-01-02 03:05:06"},
		{DateTime: "9~17"},
		{DateTime: "2024-06-01 12:00~17:00"}, // mixed forms: FreeSWITCH allows them
		{TzOffset: "+5"},
		{TzOffset: "-3.5"},
		{TzOffset: "5."},
		{DST: "FALSE"},
	} {
		if _, err := compileTime(&spec); err != nil {
			t.Errorf("compileTime(%+v): %v", spec, err)
		}
	}
}

func TestCompileTimeErrors(t *testing.T) {
	for _, c := range []struct {
		spec TimeSpec
		want string // substring of the error
	}{
		{TimeSpec{Hour: "abc"}, `hour="abc"`},
		{TimeSpec{Hour: "24"}, "not a valid hour"},
		{TimeSpec{Hour: "25-30"}, "holds no valid hour"},
		{TimeSpec{Hour: "-5"}, "want a number"},
		{TimeSpec{Hour: "9 -17"}, "unexpected"},
		{TimeSpec{Hour: "9-17x"}, "unexpected"},
		{TimeSpec{Hour: "1,,2"}, "empty item"},
		{TimeSpec{Hour: "1,"}, "empty item"},
		{TimeSpec{Hour: "9-"}, "missing number"},
		{TimeSpec{Mday: "0"}, "day of the month"},
		{TimeSpec{Mday: "32"}, "day of the month"},
		{TimeSpec{Mon: "13"}, "month"},
		{TimeSpec{Mon: "jan"}, "want a number"},
		{TimeSpec{Yday: "367"}, "day of the year"},
		{TimeSpec{Week: "54"}, "week of the year"},
		{TimeSpec{Mweek: "7"}, "week of the month"},
		{TimeSpec{Minute: "60"}, "minute"},
		{TimeSpec{MinuteOfDay: "1441"}, "minute of the day"},
		{TimeSpec{Year: "12345678901"}, "too long"},
		{TimeSpec{Wday: "monday"}, "bad day"},
		{TimeSpec{Wday: "mon, tue"}, "bad day"},
		{TimeSpec{Wday: "mon-wed-fri"}, "want D or D-D"},
		{TimeSpec{Wday: "8"}, "bad day"},
		{TimeSpec{Wday: "12"}, "bad day"},
		{TimeSpec{Wday: "mon,"}, "empty item"},
		{TimeSpec{TimeOfDay: "25:00-26:00"}, "hour 25"},
		{TimeSpec{TimeOfDay: "09:00"}, "HH:MM[:SS]-HH:MM[:SS]"},
		{TimeSpec{TimeOfDay: "9-17"}, "want HH:MM[:SS]"},
		{TimeSpec{TimeOfDay: "09:60-10:00"}, "minute 60"},
		{TimeSpec{TimeOfDay: "09:00:61-10:00"}, "second 61"},
		{TimeSpec{TimeOfDay: "24:30-01:00"}, "hour 24"},
		{TimeSpec{TimeOfDay: "09:00-17:00-18:00"}, "HH:MM[:SS]-HH:MM[:SS]"},
		{TimeSpec{TimeOfDay: "9:00:00:00-10:00"}, "bad time"},
		{TimeSpec{DateTime: "2024-01-01"}, "want START~END"},
		{TimeSpec{DateTime: "2024-01-01~2024-01-02~2024-01-03"}, "want START~END"},
		{TimeSpec{DateTime: "2024-01-01 10:00~2024-01-01 09:00"}, "never matches"},
		{TimeSpec{DateTime: "2024-01-01 10:00~2024-01-01 10:00"}, "never matches"},
		{TimeSpec{DateTime: "17:00~09:00"}, "never matches"},
		{TimeSpec{DateTime: "2024-02-30~2024-03-01"}, "day outside 1-29"},
		{TimeSpec{DateTime: "2024-13-01~2025-01-01"}, "month outside"},
		{TimeSpec{DateTime: "2024-01-01~2024-01-02, 2024-02-01~2024-02-02"}, "leading white space"},
		{TimeSpec{DateTime: "1969-01-01~1970-01-02"}, "before 1970"},
		{TimeSpec{DateTime: "2024-01-01T10:00~2024-01-02"}, "bad date"},
		{TimeSpec{DateTime: "2024-01-01 930~2024-01-02"}, "bad time"},
		{TimeSpec{DateTime: "~2024-01-02"}, "empty"},
		{TimeSpec{DateTime: "9:~17:00"}, "bad time"},
		{TimeSpec{DateTime: "a~b"}, "bad time"},
		{TimeSpec{TzOffset: "abc"}, "whole number of hours"},
		{TimeSpec{TzOffset: "-"}, "whole number of hours"},
		{TimeSpec{TzOffset: "5.x"}, "whole number of hours"},
		{TimeSpec{TzOffset: "99"}, "outside -24..24"},
		{TimeSpec{TzOffset: "123456789012345678901234567890"}, "outside -24..24"},
	} {
		tc, err := compileTime(&c.spec)
		if err == nil {
			t.Errorf("compileTime(%+v) = %v, nil; want an error containing %q", c.spec, tc, c.want)
			continue
		}
		if tc != nil {
			t.Errorf("compileTime(%+v) returned a check with error %v", c.spec, err)
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("compileTime(%+v) error %q does not contain %q", c.spec, err, c.want)
		}
	}
}

func TestCompileTimeReportsEveryAttribute(t *testing.T) {
	_, err := compileTime(&TimeSpec{Hour: "x", Wday: "funday", DST: "true"})
	if err == nil {
		t.Fatal("want an error")
	}
	msg := err.Error()
	// Reported in FreeSWITCH's checking order: wday before hour.
	w, h := strings.Index(msg, `wday="funday"`), strings.Index(msg, `hour="x"`)
	if w < 0 || h < 0 || w > h {
		t.Errorf("error %q should name wday then hour", msg)
	}
}

func TestTimeMatchDoesNotAllocate(t *testing.T) {
	tc := mustCompileTime(t, TimeSpec{Wday: "mon-fri", Hour: "9-17", TimeOfDay: "09:00-17:30", TzOffset: "-4", Mweek: "1-6"})
	ny := mustZone(t, "America/New_York")
	at := mustInstant(t, "2024-07-01T16:00:00Z")
	for _, c := range []struct {
		name string
		vars tvars
	}{
		{"server local", tvars{}},
		{"timezone var cached", tvars{"timezone": "America/New_York"}},
		{"tod_tz_offset", tvars{"tod_tz_offset": "-4"}},
	} {
		if !tc.matchIn(at, c.vars, ny) { // also warms the zone cache
			t.Fatalf("%s: no match", c.name)
		}
		if n := testing.AllocsPerRun(100, func() { tc.matchIn(at, c.vars, ny) }); n != 0 {
			t.Errorf("%s: %v allocations per match, want 0", c.name, n)
		}
	}
}

// One compiled check is shared by concurrent hunts with different
// timezone variables; run with -race.
func TestTimeMatchConcurrentZones(t *testing.T) {
	tc := mustCompileTime(t, TimeSpec{Hour: "12"})
	at := mustInstant(t, "2024-07-01T16:00:00Z")
	zones := []struct {
		vars tvars
		want bool
	}{
		{tvars{"timezone": "America/New_York"}, true},
		{tvars{"timezone": "Europe/Berlin"}, false},
		{tvars{"timezone": "America/Chicago"}, false},
		{tvars{"timezone": "America/Toronto"}, true},
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				z := zones[(g+i)%len(zones)]
				if got := tc.matchIn(at, z.vars, time.UTC); got != z.want {
					errs <- fmt.Sprintf("%v: got %v want %v", z.vars, got, z.want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func FuzzCompileTime(f *testing.F) {
	for _, s := range []string{
		"1", "18-8", "mon-fri", "sat,sun", "09:00-17:00", "22:00-06:00:30",
		"2024-06-01 12:00~2024-06-01 13:00", "09:00~17:00", "-5", "true", "false",
		"1,,2", "24:00-00:00", "9- 17 ", "2024-1-2 3~2024-1-2 4", "+5.5",
	} {
		f.Add(s)
	}
	berlin := mustZone(f, "Europe/Berlin")
	instants := []time.Time{
		time.Date(2024, 3, 31, 0, 45, 0, 0, time.UTC),
		time.Date(2024, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	varSets := []tvars{nil, {"timezone": "America/New_York"}, {"tod_tz_offset": "-99999999999"}, {"timezone": "nope"}}
	f.Fuzz(func(t *testing.T, v string) {
		for _, a := range TimeAttrs {
			var spec TimeSpec
			*a.Ptr(&spec) = v
			tc, err := compileTime(&spec)
			if v == "" {
				if tc != nil || err != nil {
					t.Fatalf("%s=\"\": got %v, %v", a.Name, tc, err)
				}
				continue
			}
			if (tc == nil) == (err == nil) {
				t.Fatalf("%s=%q: check %v with error %v", a.Name, v, tc, err)
			}
			if err != nil {
				if !strings.Contains(err.Error(), a.Name+"=") {
					t.Fatalf("%s=%q: error %q does not name the attribute", a.Name, v, err)
				}
				continue
			}
			for _, at := range instants {
				for _, vs := range varSets {
					tc.matchIn(at, vs, berlin)
				}
			}
		}
	})
}
