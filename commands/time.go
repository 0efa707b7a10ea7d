package commands

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-voip/switchboard/commands/strftime"
)

func init() {
	Register(Command{Name: "strftime", Usage: "<format_string>", Description: "strftime", Module: "mod_dptools", Run: strftimeCmd})
	Register(Command{Name: "strepoch", Usage: "<string>", Description: "Convert a date string into epoch time", Module: "mod_dptools", Run: strepoch})
}

// strftimeMax is the size of FreeSWITCH's strftime buffer, terminating NUL
// included.
const strftimeMax = 80

// strftimeCmd is `strftime [<epoch>|][<format>]`: the local time (now, or
// the Unix time <epoch>) formatted with C strftime conversions, by default
// "%Y-%m-%d %T".
//
// FreeSWITCH's quirks, kept:
//
//   - After the '|' one character is skipped before the format starts, so
//     "1700000000|%Y" formats "Y"; write "1700000000| %Y".
//   - A format using a conversion outside switch_strftime's list (such as
//     %s or %F, or flags like %-d) prints nothing; see strftime.Check.
//   - A result that does not fit FreeSWITCH's 80-byte buffer prints
//     nothing.
func strftimeCmd(_ context.Context, env Env, args string) (string, error) {
	t := now(env)
	format := args
	if epoch, rest, ok := strings.Cut(args, "|"); ok {
		t = time.Unix(atol(epoch), 0).In(t.Location())
		format = ""
		if len(rest) > 1 {
			format = rest[1:]
		}
	}
	var out string
	switch {
	case format == "":
		out = strftime.Format(strftime.DefaultFormat, t)
	case strftime.Check(format):
		out = strftime.Format(format, t)
	}
	if len(out) >= strftimeMax {
		out = ""
	}
	return out, nil
}

// The forms switch_str_time reads, tried in this order.
var (
	timeOnlyRe = regexp.MustCompile(`^(\d*):?(\d*):?(\d*)$`)
	dateTimeRe = regexp.MustCompile(`^(\d+)-(\d+)-(\d+)\s*(\d*):?(\d*):?(\d*)`)
	compactRe  = regexp.MustCompile(`^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})`)
)

// strepoch is `strepoch [<date>]`: the Unix time of a local date, or of
// now without one. Dates are read as switch_str_time reads them:
//
//   - "HH[:MM[:SS]]" is that time today. So digits alone are an hour,
//     read like C's atoi into a 32-bit int: "20240304020000" is no date.
//   - "YYYY-MM-DD[ HH[:MM[:SS]]]" (anything may follow);
//   - "YYYYMMDDHHMMSS" followed by something that is not a digit or ':'.
//
// Anything else, or a date before 1970, gives 0. Out-of-range fields
// carry over (month 13 is January of the next year). As in FreeSWITCH the
// result is printed as a 32-bit signed number, so dates after 2038 wrap.
func strepoch(_ context.Context, env Env, args string) (string, error) {
	t := now(env)
	if args != "" {
		t = strTime(args, t)
	}
	return strconv.Itoa(int(int32(uint32(t.Unix())))), nil
}

// strTime parses s as switch_str_time does, in now's location; it returns
// the Unix epoch when s cannot be read.
func strTime(s string, now time.Time) time.Time {
	var f [6]int // year, month, day, hour, minute, second
	if m := timeOnlyRe.FindStringSubmatch(s); m != nil {
		f = [6]int{now.Year(), int(now.Month()), now.Day(), atoi(m[1]), atoi(m[2]), atoi(m[3])}
	} else {
		m := dateTimeRe.FindStringSubmatch(s)
		if m == nil {
			m = compactRe.FindStringSubmatch(s)
		}
		if m == nil {
			return time.Unix(0, 0)
		}
		for i := range f {
			f[i] = atoi(m[i+1])
		}
	}
	// FreeSWITCH reads the fields as UTC, takes the local UTC offset in
	// force at that instant, and subtracts it; dates before 1970 fail.
	guess := time.Date(f[0], time.Month(f[1]), f[2], f[3], f[4], f[5], 0, time.UTC).Unix()
	if guess < 0 {
		return time.Unix(0, 0)
	}
	_, off := time.Unix(guess, 0).In(now.Location()).Zone()
	return time.Unix(guess-int64(off), 0)
}

// atol reads a decimal number the way C's atol does: leading white space,
// an optional sign, then digits up to the first non-digit; 0 when there
// are none. It saturates instead of overflowing.
func atol(s string) int64 {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	var n int64
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		d := int64(s[i] - '0')
		if n > (1<<63-1-d)/10 {
			n = 1<<63 - 1
			break
		}
		n = n*10 + d
	}
	if neg {
		return -n
	}
	return n
}

// atoi is C's atoi: atol truncated to a 32-bit int.
func atoi(s string) int { return int(int32(atol(s))) }
