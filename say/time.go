package say

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	// Zone names in ${timezone} must work on hosts without a zoneinfo
	// database (static binaries in minimal containers).
	_ "time/tzdata"
)

// When returns the moment text names, for the date and time types, and
// the current time, both in the zone the value is said in. It follows
// FreeSWITCH's rules (shared by its say modules):
//
//   - text with a ':' is a date or time written out, read in a.Local:
//     "2024-03-05 14:30:00" (the time and seconds may be left out),
//     "20240305143000", or a time of day "14:30[:00]" (today);
//   - otherwise a positive number is seconds since the Unix epoch;
//   - anything else (0, empty, unparsable) means now.
//
// The zone is a.Timezone (see Args), else a.Local. An unknown zone name
// is an error; FreeSWITCH would say a zeroed date instead.
func When(text string, a Args) (target, now time.Time, err error) {
	now = a.now()
	var t int64
	if strings.Contains(text, ":") {
		if tm, ok := parseDateTime(text, now, a.local()); ok {
			t = tm.Unix()
		}
	}
	if t == 0 {
		t = atol(text)
	}
	if t > 0 {
		target = time.Unix(t, 0)
	} else {
		target = now
	}
	loc, err := a.zone()
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	return target.In(loc), now.In(loc), nil
}

// zone returns the location times are said in.
func (a Args) zone() (*time.Location, error) {
	tz := a.Timezone
	if tz == "" {
		return a.local(), nil
	}
	if off := atoi(tz); off != 0 {
		return time.FixedZone(tz, off), nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("say: timezone %q: %w", tz, err)
	}
	return loc, nil
}

// The forms switch_str_time accepts.
var (
	timeOfDay = regexp.MustCompile(`^(\d*):?(\d*):?(\d*)$`)
	dateTime  = regexp.MustCompile(`^(\d+)-(\d+)-(\d+)\s*(\d*):?(\d*):?(\d*)`)
	compact   = regexp.MustCompile(`^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})`)
)

// parseDateTime reads a written date and time in loc (out-of-range
// fields carry over, as mktime does); ok is false when text has none of
// the forms.
func parseDateTime(text string, now time.Time, loc *time.Location) (time.Time, bool) {
	if m := timeOfDay.FindStringSubmatch(text); m != nil {
		n := now.In(loc)
		return time.Date(n.Year(), n.Month(), n.Day(), atoi(m[1]), atoi(m[2]), atoi(m[3]), 0, loc), true
	}
	m := dateTime.FindStringSubmatch(text)
	if m == nil {
		m = compact.FindStringSubmatch(text)
	}
	if m == nil {
		return time.Time{}, false
	}
	return time.Date(atoi(m[1]), time.Month(atoi(m[2])), atoi(m[3]), atoi(m[4]), atoi(m[5]), atoi(m[6]), 0, loc), true
}

// atoi reads a number like C's atoi: leading white space, an optional
// sign, then digits; anything else ends it, and no digits read as 0.
func atoi(s string) int {
	return int(atol(s))
}

// atol is atoi for 64 bits.
func atol(s string) int64 {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	var n int64
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if n < 1<<53 {
			n = n*10 + int64(s[i]-'0')
		}
	}
	if neg {
		return -n
	}
	return n
}

// utoa formats n as C's "%u" does with an unsigned int.
func utoa(n int) string { return strconv.FormatUint(uint64(uint32(n)), 10) }
