package dialplan

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	_ "time/tzdata" // timezone names must resolve on hosts without a zoneinfo database

	"github.com/switchboard-voip/switchboard/caller"
)

// timeCheck is a compiled set of time attributes (switch_xml.c:
// switch_xml_std_datetime_check). Every attribute that was written must
// pass; they are tested in TimeAttrs order and the first failure decides.
//
// Clock rules, re-read from the channel variables on every match:
//   - tod_tz_offset, when it is a number in switch_is_number's sense (sign,
//     digits, dots), is truncated like atoi and the clock is UTC plus that
//     many hours;
//   - otherwise timezone, when set, names an IANA zone. A name that does not
//     resolve falls back to server local time (FreeSWITCH leaves its broken
//     time uninitialised there, so any defined answer is an improvement);
//   - otherwise server local time.
//
// Exceptions, as in FreeSWITCH: dst always looks at server local time, and
// date-time always parses its stamps in server local time, whatever the
// variables say. tz-offset compares the clock's UTC offset in whole hours,
// truncated toward zero (+05:30 is 5, -03:30 is -3).
//
// Values FreeSWITCH would misread (letters in hour, "mon, tue" in wday,
// "25:00" in time-of-day, a space after a comma in date-time, an empty list
// item, …) and list items that can never match (hour="24") are compile
// errors rather than silent never-matches. dst is the exception: any value
// other than a switch_true one is accepted and never matches, which is
// FreeSWITCH's dst="false" quirk.
type timeCheck struct {
	hasTzOffset bool
	tzOffset    int // hours
	dst         dstMode
	dateTime    []dateRange

	year, yday, mon, mday, week, mweek, wday spans
	hour, minute, minuteOfDay                spans
	timeOfDay                                spans // seconds of the day

	// needClock is set when an attribute reads the (possibly
	// variable-dependent) clock, i.e. anything but dst and date-time.
	needClock bool

	// zone caches the last timezone name resolved by this check, so that a
	// steady stream of calls with the same timezone variable neither
	// allocates nor re-reads the zone database.
	zone atomic.Pointer[zoneEntry]
}

type dstMode uint8

const (
	dstAbsent dstMode = iota
	dstTrue
	dstNever // any value switch_true rejects: FreeSWITCH never passes it
)

type zoneEntry struct {
	name string
	loc  *time.Location // nil: the name did not resolve
}

// span is an inclusive range lo..hi; lo > hi wraps around (18-8 is 18..max
// and min..8). A single value N is N..N.
type span struct{ lo, hi int }

type spans []span

func (s spans) contains(v int) bool {
	for _, r := range s {
		if r.lo <= r.hi {
			if v >= r.lo && v <= r.hi {
				return true
			}
		} else if v >= r.lo || v <= r.hi {
			return true
		}
	}
	return false
}

// dateRange is one START~END item of date-time: START inclusive, END
// exclusive.
type dateRange struct{ start, end stamp }

// stamp is a wall-clock instant in server local time. A timeOnly stamp
// takes its date from the day being tested.
type stamp struct {
	timeOnly              bool
	year, mon, day        int
	hour, minute, seconds int
}

// numericAttr describes the domain of a numeric attribute and where its
// compiled list goes.
type numericAttr struct {
	field    func(*timeCheck) *spans
	min, max int
	what     string
}

func lookupNumericAttr(name string) (numericAttr, bool) {
	switch name {
	case "year":
		return numericAttr{func(t *timeCheck) *spans { return &t.year }, 1, 9999, "year"}, true
	case "yday":
		return numericAttr{func(t *timeCheck) *spans { return &t.yday }, 1, 366, "day of the year"}, true
	case "mon":
		return numericAttr{func(t *timeCheck) *spans { return &t.mon }, 1, 12, "month"}, true
	case "mday":
		return numericAttr{func(t *timeCheck) *spans { return &t.mday }, 1, 31, "day of the month"}, true
	case "week":
		return numericAttr{func(t *timeCheck) *spans { return &t.week }, 1, 53, "week of the year"}, true
	case "mweek":
		return numericAttr{func(t *timeCheck) *spans { return &t.mweek }, 1, 6, "week of the month"}, true
	case "hour":
		return numericAttr{func(t *timeCheck) *spans { return &t.hour }, 0, 23, "hour"}, true
	case "minute":
		return numericAttr{func(t *timeCheck) *spans { return &t.minute }, 0, 59, "minute"}, true
	case "minute-of-day":
		return numericAttr{func(t *timeCheck) *spans { return &t.minuteOfDay }, 1, 1440, "minute of the day"}, true
	}
	return numericAttr{}, false
}

// compileTime validates and compiles t; it returns (nil, nil) when t has no
// attributes. The error names every malformed attribute (in TimeAttrs
// order, joined with "; "); the caller adds the position.
//
// Errors, where FreeSWITCH would silently misread or never match: anything
// but digits, "-", "," and white space before a number in the numeric
// attributes; an empty list item; a single value outside the attribute's
// domain (hour="24", mday="0") or a range holding none of it; a wday item
// that is not 1-7 or a three-letter day name (so "monday" and "mon, tue"
// fail); time-of-day fields outside 0-23/0-59 (24:00 is allowed as the end
// of the day); date-time stamps that are not YYYY-MM-DD[ HH[:MM[:SS]]] or
// HH[:MM[:SS]], items without "~", impossible dates, years before 1970,
// a range that ends at or before its start; a non-numeric tz-offset
// (FreeSWITCH lets it pass always) or one outside -24..24.
//
// Accepted as FreeSWITCH reads them: ranges that stick out of the domain
// (hour="0-24", minute-of-day="0-539"), reversed ranges, which wrap, and any
// dst value (only a switch_true one can ever pass).
func compileTime(t *TimeSpec) (*timeCheck, error) {
	if t == nil || t.IsZero() {
		return nil, nil
	}
	tc := &timeCheck{}
	var problems []string
	for _, a := range TimeAttrs {
		v := *a.Ptr(t)
		if v == "" {
			continue
		}
		if err := tc.compileAttr(a.Name, v); err != nil {
			problems = append(problems, fmt.Sprintf("%s=%q: %v", a.Name, v, err))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return tc, nil
}

func (tc *timeCheck) compileAttr(name, v string) error {
	switch name {
	case "tz-offset":
		h, err := parseTzOffset(v)
		if err != nil {
			return err
		}
		tc.hasTzOffset, tc.tzOffset, tc.needClock = true, h, true
	case "dst":
		tc.dst = dstNever
		if caller.True(v) {
			tc.dst = dstTrue
		}
	case "date-time":
		r, err := parseDateTime(v)
		if err != nil {
			return err
		}
		tc.dateTime = r
	case "wday":
		s, err := parseWday(v)
		if err != nil {
			return err
		}
		tc.wday, tc.needClock = s, true
	case "time-of-day":
		s, err := parseTimeOfDay(v)
		if err != nil {
			return err
		}
		tc.timeOfDay, tc.needClock = s, true
	default:
		na, ok := lookupNumericAttr(name)
		if !ok {
			return fmt.Errorf("unknown time attribute")
		}
		s, err := parseSpans(v, na.min, na.max, na.what)
		if err != nil {
			return err
		}
		*na.field(tc) = s
		tc.needClock = true
	}
	return nil
}

// timeVars is the read side of a channel's variables.
type timeVars = interface{ Get(string) (string, bool) }

// match reports whether the instant now passes every attribute, using
// FreeSWITCH's clock rules read from vars at call time (see timeCheck).
// Server local time is time.Local.
func (tc *timeCheck) match(now time.Time, vars timeVars) bool {
	return tc.matchIn(now, vars, time.Local)
}

// matchIn is match with an explicit server local zone.
func (tc *timeCheck) matchIn(now time.Time, vars timeVars, local *time.Location) bool {
	var wall time.Time
	offset := 0
	if tc.needClock {
		wall, offset = tc.clock(now, vars, local)
	}
	if tc.hasTzOffset && tc.tzOffset != offset {
		return false
	}
	switch tc.dst {
	case dstNever:
		return false
	case dstTrue:
		if !now.In(local).IsDST() {
			return false
		}
	}
	if len(tc.dateTime) > 0 && !matchDateTime(tc.dateTime, now, local) {
		return false
	}
	if !tc.needClock {
		return true
	}
	year, month, mday := wall.Date()
	yday := wall.YearDay() // 1-based
	wday := int(wall.Weekday())
	hour, minute, sec := wall.Clock()
	if len(tc.year) > 0 && !tc.year.contains(year) {
		return false
	}
	if len(tc.yday) > 0 && !tc.yday.contains(yday) {
		return false
	}
	if len(tc.mon) > 0 && !tc.mon.contains(int(month)) {
		return false
	}
	if len(tc.mday) > 0 && !tc.mday.contains(mday) {
		return false
	}
	if len(tc.week) > 0 && !tc.week.contains((yday-1)/7+1) {
		return false
	}
	if len(tc.mweek) > 0 && !tc.mweek.contains(weekOfMonth(mday, wday)) {
		return false
	}
	if len(tc.wday) > 0 && !tc.wday.contains(wday+1) {
		return false
	}
	if len(tc.hour) > 0 && !tc.hour.contains(hour) {
		return false
	}
	if len(tc.minute) > 0 && !tc.minute.contains(minute) {
		return false
	}
	if len(tc.minuteOfDay) > 0 && !tc.minuteOfDay.contains(hour*60+minute+1) {
		return false
	}
	if len(tc.timeOfDay) > 0 && !tc.timeOfDay.contains(hour*3600+minute*60+sec) {
		return false
	}
	return true
}

// weekOfMonth is FreeSWITCH's mweek: weeks start on Sunday and week 1 is
// the (possibly partial) week holding the 1st. wday is 0 for Sunday.
func weekOfMonth(mday, wday int) int {
	// Weekday of the 1st, written the way FreeSWITCH computes it (C and Go
	// share truncating %, so a negative left operand behaves the same).
	first := (7 - (mday-(wday+1))%7) % 7
	return (mday + first + 6) / 7
}

// clock returns the wall clock the calendar attributes read and its UTC
// offset in whole hours (truncated toward zero, like tm_gmtoff/3600).
func (tc *timeCheck) clock(now time.Time, vars timeVars, local *time.Location) (time.Time, int) {
	if vars != nil {
		if v, ok := vars.Get("tod_tz_offset"); ok && v != "" && isNumber(v) {
			h := leadingInt(v)
			return now.UTC().Add(time.Duration(h) * time.Hour), h
		}
		if name, ok := vars.Get("timezone"); ok && name != "" {
			if loc := tc.location(name); loc != nil {
				w := now.In(loc)
				_, off := w.Zone()
				return w, off / 3600
			}
		}
	}
	w := now.In(local)
	_, off := w.Zone()
	return w, off / 3600
}

// location resolves an IANA zone name through the check's one-entry cache.
// "Local" is treated as unknown so that it means the injected server zone.
func (tc *timeCheck) location(name string) *time.Location {
	if e := tc.zone.Load(); e != nil && e.name == name {
		return e.loc
	}
	var loc *time.Location
	if name != "Local" {
		if l, err := time.LoadLocation(name); err == nil {
			loc = l
		}
	}
	tc.zone.Store(&zoneEntry{name: name, loc: loc})
	return loc
}

// isNumber is switch_is_number: an optional sign, then only digits and dots
// (a lone sign or dot counts).
func isNumber(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '.' && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}

// maxOffsetHours clamps absurd tod_tz_offset values so that the shift cannot
// overflow a time.Duration.
const maxOffsetHours = 1_000_000

// leadingInt reads an optional sign and the digits after it, like atoi on a
// string isNumber accepted, clamped to ±maxOffsetHours.
func leadingInt(s string) int {
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	n := 0
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int(s[i]-'0')
		if n > maxOffsetHours {
			n = maxOffsetHours
		}
	}
	if neg {
		return -n
	}
	return n
}

func matchDateTime(ranges []dateRange, now time.Time, local *time.Location) bool {
	var ty, td int
	var tm time.Month
	haveToday := false
	ts := now.UnixMicro()
	for i := range ranges {
		r := &ranges[i]
		if (r.start.timeOnly || r.end.timeOnly) && !haveToday {
			ty, tm, td = now.In(local).Date()
			haveToday = true
		}
		start := r.start.unixMicro(ty, int(tm), td, local)
		end := r.end.unixMicro(ty, int(tm), td, local)
		if start <= ts && ts < end {
			return true
		}
	}
	return false
}

// unixMicro converts s to an instant the way switch_str_time does: the
// fields are first read as UTC, and the server zone's offset at that instant
// is subtracted. Around a DST change this differs from time.Date (a stamp in
// the spring-forward gap lands an hour earlier).
func (s *stamp) unixMicro(ty, tm, td int, local *time.Location) int64 {
	y, m, d := s.year, s.mon, s.day
	if s.timeOnly {
		y, m, d = ty, tm, td
	}
	u := time.Date(y, time.Month(m), d, s.hour, s.minute, s.seconds, 0, time.UTC)
	_, off := u.In(local).Zone()
	return u.UnixMicro() - int64(off)*1_000_000
}

// ---- parsers ----

const cSpace = " \t\n\v\f\r"

func isSpace(c byte) bool { return strings.IndexByte(cSpace, c) >= 0 }

// splitItems splits a comma list and rejects empty items, which FreeSWITCH
// reads as 0 (numbers) or skips (the others).
func splitItems(v string) ([]string, error) {
	items := strings.Split(v, ",")
	for i, it := range items {
		if strings.Trim(it, cSpace) == "" {
			return nil, fmt.Errorf("empty item %d in the comma list", i+1)
		}
	}
	return items, nil
}

// parseTzOffset accepts what switch_is_number accepts with at least one
// digit before any fraction ("5", "-3", "+5.5"); atoi keeps the integer
// part. Non-numbers, which FreeSWITCH silently treats as always passing,
// are errors.
func parseTzOffset(v string) (int, error) {
	s := v
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	if !allDigits(intPart) || (hasFrac && frac != "" && !allDigits(frac)) {
		return 0, fmt.Errorf("want a whole number of hours such as -5 or +1")
	}
	h := leadingInt(v)
	if h < -24 || h > 24 {
		return 0, fmt.Errorf("offset outside -24..24 hours")
	}
	return h, nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseSpans parses switch_number_cmp's syntax: a comma list of N or A-B,
// with optional white space before each number (strtol skips it) and at the
// very end. Every item must be able to match a value in min..max.
func parseSpans(v string, min, max int, what string) (spans, error) {
	items, err := splitItems(strings.TrimRight(v, cSpace))
	if err != nil {
		return nil, err
	}
	out := make(spans, 0, len(items))
	for _, it := range items {
		a, rest, err := leadingNumber(it)
		if err != nil {
			return nil, fmt.Errorf("item %q: %w", it, err)
		}
		b := a
		if strings.HasPrefix(rest, "-") {
			b, rest, err = leadingNumber(rest[1:])
			if err != nil {
				return nil, fmt.Errorf("item %q: %w", it, err)
			}
		}
		if rest != "" {
			return nil, fmt.Errorf("item %q: unexpected %q (want N or A-B)", it, rest)
		}
		if !intersects(a, b, min, max) {
			if a == b {
				return nil, fmt.Errorf("%d is not a valid %s (%d-%d)", a, what, min, max)
			}
			return nil, fmt.Errorf("range %d-%d holds no valid %s (%d-%d)", a, b, what, min, max)
		}
		out = append(out, span{a, b})
	}
	return out, nil
}

// intersects reports whether the (possibly wrapping) range a-b contains any
// value of min..max.
func intersects(a, b, min, max int) bool {
	if a <= b {
		return a <= max && b >= min
	}
	return a <= max || b >= min
}

// leadingNumber reads optional white space and up to 9 digits.
func leadingNumber(s string) (int, string, error) {
	s = strings.TrimLeft(s, cSpace)
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		if s == "" {
			return 0, "", fmt.Errorf("missing number")
		}
		return 0, "", fmt.Errorf("want a number, found %q", s)
	}
	if i > 9 {
		return 0, "", fmt.Errorf("number %q too long", s[:i])
	}
	n, err := strconv.Atoi(s[:i])
	if err != nil {
		return 0, "", fmt.Errorf("number %q: %w", s[:i], err)
	}
	return n, s[i:], nil
}

var dayNames = [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// parseWday parses switch_dow_cmp's syntax strictly: a comma list of D or
// D-D, where D is 1-7 (1 = Sunday) or a three-letter name in any case.
// FreeSWITCH's tokenizer stops at the first character it does not know
// (a space, the "day" of "monday"), silently dropping the rest of the list,
// so such values are errors here.
func parseWday(v string) (spans, error) {
	items, err := splitItems(v)
	if err != nil {
		return nil, err
	}
	out := make(spans, 0, len(items))
	for _, it := range items {
		parts := strings.Split(it, "-")
		if len(parts) > 2 {
			return nil, fmt.Errorf("item %q: want D or D-D", it)
		}
		a, err := parseDay(parts[0])
		if err != nil {
			return nil, fmt.Errorf("item %q: %w", it, err)
		}
		b := a
		if len(parts) == 2 {
			if b, err = parseDay(parts[1]); err != nil {
				return nil, fmt.Errorf("item %q: %w", it, err)
			}
		}
		out = append(out, span{a, b})
	}
	return out, nil
}

func parseDay(s string) (int, error) {
	if len(s) == 1 && s[0] >= '1' && s[0] <= '7' {
		return int(s[0] - '0'), nil
	}
	for i, n := range dayNames {
		if strings.EqualFold(s, n) {
			return i + 1, nil
		}
	}
	return 0, fmt.Errorf("bad day %q (want 1-7 or sun, mon, tue, wed, thu, fri, sat)", s)
}

// parseTimeOfDay parses switch_tod_cmp's syntax: a comma list of
// HH:MM[:SS]-HH:MM[:SS], inclusive at both ends, wrapping past midnight
// when the start is later than the end. 24:00[:00] is accepted as the end
// of the day.
func parseTimeOfDay(v string) (spans, error) {
	items, err := splitItems(v)
	if err != nil {
		return nil, err
	}
	out := make(spans, 0, len(items))
	for _, it := range items {
		from, to, ok := strings.Cut(it, "-")
		if !ok || strings.Contains(to, "-") {
			return nil, fmt.Errorf("item %q: want HH:MM[:SS]-HH:MM[:SS]", it)
		}
		a, err := parseClock(from, true)
		if err != nil {
			return nil, fmt.Errorf("item %q: %w", it, err)
		}
		b, err := parseClock(to, true)
		if err != nil {
			return nil, fmt.Errorf("item %q: %w", it, err)
		}
		out = append(out, span{a, b})
	}
	return out, nil
}

// parseClock parses H[:M[:S]] (1-2 digits each) into seconds of the day.
// The time-of-day syntax (tod) needs the minutes and, like atol, tolerates
// white space around each field; date-time stamps take neither.
func parseClock(s string, tod bool) (int, error) {
	parts := strings.Split(s, ":")
	if len(parts) > 3 {
		return 0, fmt.Errorf("bad time %q (want HH:MM[:SS])", s)
	}
	if tod && len(parts) < 2 {
		return 0, fmt.Errorf("bad time %q (want HH:MM[:SS])", s)
	}
	var f [3]int
	for i, p := range parts {
		if tod {
			p = strings.Trim(p, cSpace)
		}
		if len(p) == 0 || len(p) > 2 || !allDigits(p) {
			return 0, fmt.Errorf("bad time %q (want HH:MM[:SS])", s)
		}
		f[i], _ = strconv.Atoi(p)
	}
	switch {
	case f[0] == 24 && f[1] == 0 && f[2] == 0:
	case f[0] > 23:
		return 0, fmt.Errorf("bad time %q: hour %d is outside 0-23", s, f[0])
	case f[1] > 59:
		return 0, fmt.Errorf("bad time %q: minute %d is outside 0-59", s, f[1])
	case f[2] > 59:
		return 0, fmt.Errorf("bad time %q: second %d is outside 0-59", s, f[2])
	}
	return f[0]*3600 + f[1]*60 + f[2], nil
}

// parseDateTime parses switch_fulldate_cmp's syntax: a comma list of
// START~END, each YYYY-MM-DD[ HH[:MM[:SS]]] or, meaning today,
// HH[:MM[:SS]]. START is inclusive and END exclusive; nothing wraps, so a
// range whose end is not after its start is an error. FreeSWITCH stops at
// the first stamp it cannot parse (a leading space after a comma, for
// instance) and skips items without "~"; both are errors here.
func parseDateTime(v string) ([]dateRange, error) {
	items, err := splitItems(v)
	if err != nil {
		return nil, err
	}
	out := make([]dateRange, 0, len(items))
	for _, it := range items {
		from, to, ok := strings.Cut(it, "~")
		if !ok || strings.Contains(to, "~") {
			return nil, fmt.Errorf("item %q: want START~END", it)
		}
		a, err := parseStamp(from)
		if err != nil {
			return nil, fmt.Errorf("item %q: %w", it, err)
		}
		b, err := parseStamp(to)
		if err != nil {
			return nil, fmt.Errorf("item %q: %w", it, err)
		}
		if a.timeOnly == b.timeOnly && !a.before(b) {
			return nil, fmt.Errorf("item %q: the end is not after the start, so it never matches", it)
		}
		out = append(out, dateRange{a, b})
	}
	return out, nil
}

func (s stamp) before(o stamp) bool {
	x := [...]int{s.year, s.mon, s.day, s.hour, s.minute, s.seconds}
	y := [...]int{o.year, o.mon, o.day, o.hour, o.minute, o.seconds}
	for i := range x {
		if x[i] != y[i] {
			return x[i] < y[i]
		}
	}
	return false
}

func parseStamp(s string) (stamp, error) {
	bad := func(why string) (stamp, error) {
		return stamp{}, fmt.Errorf("bad date-time %q (want YYYY-MM-DD HH:MM[:SS] or HH:MM[:SS]): %s", s, why)
	}
	if s == "" {
		return bad("empty")
	}
	if isSpace(s[0]) {
		return bad("leading white space")
	}
	if !strings.Contains(s, "-") {
		secs, err := parseClock(s, false)
		if err != nil {
			return bad("bad time")
		}
		return stamp{timeOnly: true, hour: secs / 3600, minute: secs / 60 % 60, seconds: secs % 60}, nil
	}
	s2 := strings.TrimRight(s, cSpace)
	date, clock := s2, ""
	if i := strings.IndexAny(s2, cSpace); i >= 0 {
		date, clock = s2[:i], strings.TrimLeft(s2[i:], cSpace)
	}
	f := strings.Split(date, "-")
	if len(f) != 3 || len(f[0]) != 4 || !allDigits(f[0]) ||
		len(f[1]) > 2 || !allDigits(f[1]) || len(f[2]) > 2 || !allDigits(f[2]) {
		return bad("bad date")
	}
	var st stamp
	st.year, _ = strconv.Atoi(f[0])
	st.mon, _ = strconv.Atoi(f[1])
	st.day, _ = strconv.Atoi(f[2])
	if st.year < 1970 {
		return bad("years before 1970 are not supported")
	}
	if st.mon < 1 || st.mon > 12 {
		return bad("month outside 1-12")
	}
	if last := time.Date(st.year, time.Month(st.mon)+1, 0, 0, 0, 0, 0, time.UTC).Day(); st.day < 1 || st.day > last {
		return bad(fmt.Sprintf("day outside 1-%d", last))
	}
	if clock != "" {
		secs, err := parseClock(clock, false)
		if err != nil {
			return bad("bad time")
		}
		st.hour, st.minute, st.seconds = secs/3600, secs/60%60, secs%60
	}
	return st, nil
}
