package say

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

func init() { Register("en", English{}) }

// English is the say module of language "en", FreeSWITCH's mod_say_en.
// It uses the sound files of FreeSWITCH's English prompts: digits/0 to
// digits/19, digits/20 to digits/90 by tens, digits/hundred, thousand,
// million and dot, the ordinals digits/h-1 to h-9 and h-20 to h-90,
// currency/dollar(s), cent(s), and, negative, time/hour(s), minute(s),
// second(s), today, yesterday, at, oh, oclock, a-m, p-m, day-0 (Sunday)
// to day-6, mon-0 (January) to mon-11, ascii/<code> and
// phonetic-ascii/<code> for letters.
//
// Where FreeSWITCH says odd things the same files are chosen (counted
// 13 is "thirteen", not "thirteenth"; cents "12.5" is "five cents"), so
// prompts sound as they do there.
type English struct{}

// errParse is FreeSWITCH's "Parse Error!".
var errParse = errors.New("parse error")

// Files returns the sounds that say text; see Module.
func (English) Files(text string, a Args) ([]string, error) {
	var sh files
	var err error
	switch a.Type {
	case Number, Items, Persons, Messages:
		err = sh.count(text, a.Method)
	case TimeMeasurement:
		err = sh.duration(text, a)
	case CurrentDate, CurrentTime, CurrentDateTime, ShortDateTime:
		err = sh.datetime(text, a)
	case IPAddress:
		err = sh.ip(text, a.Method)
	case NameSpelled, NamePhonetic:
		sh.spell(text, a.Type)
	case Currency:
		err = sh.money(text, a.Method)
	case TelephoneNumber:
		sh.telephone(text)
	default:
		return nil, fmt.Errorf("say en: cannot say type %v", a.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("say en %v %v %q: %w", a.Type, a.Method, text, err)
	}
	if len(sh) == 0 {
		return nil, fmt.Errorf("say en %v %v %q: nothing to say", a.Type, a.Method, text)
	}
	return sh, nil
}

// files accumulates the sounds of one value (switch_say_file).
type files []string

func (f *files) add(name string) { *f = append(*f, name) }

// stripCommas keeps the digits of s, dropping commas; ok is false when s
// holds anything else (switch_strip_commas).
func stripCommas(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
		case c != ',':
			return "", false
		}
	}
	return b.String(), true
}

// count says a whole number (en_say_general_count): digit by digit when
// iterated, otherwise in words, up to nine digits.
func (f *files) count(text string, m Method) error {
	digits, ok := stripCommas(text)
	if !ok {
		return errParse
	}
	if m == Iterated {
		for i := 0; i < len(digits); i++ {
			f.add("digits/" + digits[i:i+1])
		}
		return nil
	}
	if len(digits) > 9 {
		return fmt.Errorf("%w: more than nine digits", errParse)
	}
	n := atoi(digits)
	if n == 0 {
		f.add("digits/0")
		return nil
	}
	switch m {
	case PronouncedYear:
		hi, lo := n/100, n%100
		if lo == 0 || hi%10 == 0 {
			return f.count(strconv.Itoa(n), Pronounced)
		}
		_ = f.count(strconv.Itoa(hi), Pronounced)
		return f.count(strconv.Itoa(lo), Pronounced)
	case Pronounced, Counted:
		f.group(Pronounced, n/100000000, n/10000000%10, n/1000000%10, "digits/million")
		f.group(Pronounced, n/100000%10, n/10000%10, n/1000%10, "digits/thousand")
		f.group(m, n/100%10, n/10%10, n%10, "")
		return nil
	}
	return fmt.Errorf("method %v cannot say a number", m)
}

// group says one group of three digits a (hundreds), b (tens), c (units)
// followed by what when the group is not zero (play_group). Counted
// makes the last word an ordinal, except for 10 to 19.
func (f *files) group(m Method, a, b, c int, what string) {
	if a != 0 {
		f.add("digits/" + strconv.Itoa(a))
		f.add("digits/hundred")
	}
	if b != 0 {
		if b > 1 {
			if c == 0 && m == Counted {
				f.add("digits/h-" + strconv.Itoa(b) + "0")
			} else {
				f.add("digits/" + strconv.Itoa(b) + "0")
			}
		} else {
			f.add("digits/1" + strconv.Itoa(c))
			c = 0
		}
	}
	if c != 0 {
		if m == Counted {
			f.add("digits/h-" + strconv.Itoa(c))
		} else {
			f.add("digits/" + strconv.Itoa(c))
		}
	}
	if what != "" && (a != 0 || b != 0 || c != 0) {
		f.add(what)
	}
}

// num says n with method m, as the say_num helper does: n is formatted
// as an unsigned number first.
func (f *files) num(n int, m Method) error { return f.count(utoa(n), m) }

// duration says a time measurement: "h:m:s", "m:s", or a number of
// seconds (0 or less: the seconds since the epoch, as FreeSWITCH does).
// Every unit is said, zero ones included.
func (f *files) duration(text string, a Args) error {
	var h, m, s int64
	if i := strings.LastIndexByte(text, ':'); i >= 0 {
		s = atol(text[i+1:])
		rest := text[:i]
		if j := strings.IndexByte(rest, ':'); j >= 0 {
			m = atol(rest[j+1:])
			h = atol(rest[:j])
		} else {
			m = atol(rest)
		}
	} else {
		if s = atol(text); s <= 0 {
			s = a.now().Unix()
		}
		if s >= 60 {
			m, s = s/60, s%60
		}
		if m >= 60 {
			h, m = m/60, m%60
		}
	}
	for _, u := range []struct {
		n          int64
		one, other string
	}{{h, "time/hour", "time/hours"}, {m, "time/minute", "time/minutes"}, {s, "time/second", "time/seconds"}} {
		if u.n == 0 {
			f.add("digits/0")
			f.add(u.other)
			continue
		}
		if err := f.num(int(u.n), Pronounced); err != nil {
			return err
		}
		if u.n == 1 {
			f.add(u.one)
		} else {
			f.add(u.other)
		}
	}
	return nil
}

// datetime says a date, a time or both (en_say_time); see When for how
// text names the moment.
func (f *files) datetime(text string, a Args) error {
	tm, now, err := When(text, a)
	if err != nil {
		return err
	}
	var sayDate, sayTime, sayYear, sayMonth, sayDow, sayDay, sayYesterday, sayToday bool
	switch a.Type {
	case CurrentDateTime:
		sayDate, sayTime = true, true
	case CurrentDate:
		sayDate = true
	case CurrentTime:
		sayTime = true
	case ShortDateTime:
		sayTime = true
		ty, tmo, td := tm.Date()
		ny, nmo, nd := now.Date()
		switch {
		case ty > ny || ty == ny && tmo > nmo || ty == ny && tmo == nmo && td > nd:
			sayDate = true // in the future
		case ty != ny:
			sayDate = true
		case tm.YearDay() == now.YearDay():
			sayToday = true
		case tm.YearDay() == now.YearDay()-1:
			sayYesterday = true
		case tm.YearDay() >= now.YearDay()-5:
			sayDow = true
		default:
			sayMonth, sayDay, sayDow = true, true, true
		}
	}
	if sayDate {
		sayYear, sayMonth, sayDay, sayDow = true, true, true, true
		sayToday, sayYesterday = false, false
	}
	if sayToday {
		f.add("time/today")
	}
	if sayYesterday {
		f.add("time/yesterday")
	}
	if sayDow {
		f.add("time/day-" + strconv.Itoa(int(tm.Weekday())))
	}
	if sayMonth {
		f.add("time/mon-" + strconv.Itoa(int(tm.Month())-1))
	}
	if sayDay {
		if err := f.num(tm.Day(), Counted); err != nil {
			return err
		}
	}
	if sayYear {
		if err := f.num(tm.Year(), PronouncedYear); err != nil {
			return err
		}
	}
	if !sayTime {
		return nil
	}
	if sayDate || sayToday || sayYesterday || sayDow {
		f.add("time/at")
	}
	hour, min := tm.Hour(), tm.Minute()
	if a.Method == Iterated { // the 24-hour clock: "fourteen thirty hours"
		if hour == 0 && min == 0 {
			hour = 24
		}
		if hour < 10 {
			f.add("digits/0")
		}
		if err := f.num(hour, Pronounced); err != nil {
			return err
		}
		switch {
		case min > 9:
			if err := f.num(min, Pronounced); err != nil {
				return err
			}
		case min > 0:
			f.add("digits/0")
			if err := f.num(min, Pronounced); err != nil {
				return err
			}
		default:
			f.add("digits/hundred")
		}
		f.add("time/hours")
		return nil
	}
	pm := hour >= 12
	switch {
	case hour > 12:
		hour -= 12
	case hour == 0:
		hour = 12
	}
	if err := f.num(hour, Pronounced); err != nil {
		return err
	}
	switch {
	case min > 9:
		if err := f.num(min, Pronounced); err != nil {
			return err
		}
	case min > 0:
		f.add("time/oh")
		if err := f.num(min, Pronounced); err != nil {
			return err
		}
	default:
		f.add("time/oclock")
	}
	if pm {
		f.add("time/p-m")
	} else {
		f.add("time/a-m")
	}
	return nil
}

// money says an amount in dollars and cents (en_say_money): "$-12.34" is
// "negative twelve dollars and thirty four cents". Only digits, '.',
// '-' and '+' count; at most 15 characters.
func (f *files) money(text string, m Method) error {
	if len(text) > 15 {
		return fmt.Errorf("%w: longer than 15 characters", errParse)
	}
	buf := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r == '.' || r == '-' || r == '+' {
			return r
		}
		return -1
	}, text)
	dollars, cents, hasCents := strings.Cut(buf, ".")
	if len(cents) > 2 {
		cents = cents[:2]
	}
	switch {
	case strings.HasPrefix(buf, "+"):
		dollars = dollars[1:]
	case strings.HasPrefix(buf, "-"):
		f.add("currency/negative")
		dollars = dollars[1:]
	}
	// As in FreeSWITCH, a part that does not parse is skipped and the
	// unit still said.
	_ = f.count(dollars, m)
	if atoi(dollars) == 1 {
		f.add("currency/dollar")
	} else {
		f.add("currency/dollars")
	}
	if hasCents {
		f.add("currency/and")
		_ = f.count(cents, m)
		if atoi(cents) == 1 {
			f.add("currency/cent")
		} else {
			f.add("currency/cents")
		}
	}
	return nil
}

// ip says a dotted IPv4 address, each part as a number said with m.
func (f *files) ip(text string, m Method) error {
	parts := strings.SplitN(text, ".", 4)
	if len(parts) != 4 {
		return fmt.Errorf("%w: not a dotted address", errParse)
	}
	for i, p := range parts {
		if i > 0 {
			f.add("digits/dot")
		}
		if err := f.num(atoi(p), m); err != nil {
			return err
		}
	}
	return nil
}

// telephone says a telephone number: digits one by one, '+' and letters
// by name, and one 100 ms pause for each run of anything else.
func (f *files) telephone(text string) {
	silence := false
	for i := 0; i < len(text); i++ {
		c := lower(text[i])
		switch {
		case c >= '0' && c <= '9':
			f.add("digits/" + string(c))
			silence = false
		case c == '+' || c >= 'a' && c <= 'z':
			f.add("ascii/" + strconv.Itoa(int(c)))
			silence = false
		case !silence:
			f.add("silence_stream://100")
			silence = true
		}
	}
}

// spell says text character by character: digits as digits, the rest
// by character code from ascii/ (spelled) or phonetic-ascii/ (phonetic:
// "alpha", "bravo").
func (f *files) spell(text string, t Type) {
	dir := "ascii/"
	if t == NamePhonetic {
		dir = "phonetic-ascii/"
	}
	for i := 0; i < len(text); i++ {
		c := lower(text[i])
		if c >= '0' && c <= '9' {
			f.add("digits/" + string(c))
		} else {
			f.add(dir + strconv.Itoa(int(c)))
		}
	}
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
