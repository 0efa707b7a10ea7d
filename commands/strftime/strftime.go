// Package strftime formats times with C strftime(3) conversions, as the
// FreeSWITCH strftime API command and application do (through APR, in the
// C locale).
//
// It is its own package so that both the API commands and the dialplan
// applications can use it: the commands package imports apps, so apps
// cannot import commands.
package strftime

import (
	"strconv"
	"strings"
	"time"
)

// DefaultFormat is the format FreeSWITCH's strftime uses when it is given
// none: "2024-01-15 10:30:00".
const DefaultFormat = "%Y-%m-%d %T"

// Check reports whether every conversion in format is one FreeSWITCH's
// switch_strftime accepts. It refuses the rest (including flags such as
// %-d, modifiers such as %Ez, and a lone % at the end) so that a dialplan
// cannot ask the C library for a locale- or platform-dependent one; the
// strftime command prints nothing for a format that fails the check.
//
// Accepted: %a %A %b %B %c %C %d %D %e %H %I %j %m %M %p %r %R %S %T %U
// %w %W %x %X %y %Y %z %Z and %%.
func Check(format string) bool {
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		if i == len(format) || !strings.ContainsRune("CDrRTeaAbBcdHIjmMpSUwWxXyYzZ%", rune(format[i])) {
			return false
		}
	}
	return true
}

var (
	dayNames   = [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	monthNames = [...]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
)

// Format returns t formatted by format, as glibc's strftime does in the C
// locale. Besides every conversion Check accepts it understands %F %g %G
// %h %k %l %n %P %s %t %u and %V. The E and O modifiers are accepted and
// ignored; flags and field widths are not supported. An unknown conversion
// is copied as it is, and so is a '%' at the end of format.
func Format(format string, t time.Time) string {
	b := make([]byte, 0, len(format)+16)
	return string(appendFormat(b, format, t))
}

func appendFormat(b []byte, format string, t time.Time) []byte {
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 == len(format) {
			b = append(b, c)
			continue
		}
		start := i
		i++
		if format[i] == 'E' || format[i] == 'O' {
			if i+1 == len(format) {
				b = append(b, format[start:]...)
				break
			}
			i++
		}
		b = appendConv(b, format[i], format[start:i+1], t)
	}
	return b
}

// appendConv appends one conversion; raw is its text, copied when the
// conversion is unknown.
func appendConv(b []byte, conv byte, raw string, t time.Time) []byte {
	switch conv {
	case 'a':
		return append(b, dayNames[t.Weekday()][:3]...)
	case 'A':
		return append(b, dayNames[t.Weekday()]...)
	case 'b', 'h':
		return append(b, monthNames[t.Month()-1][:3]...)
	case 'B':
		return append(b, monthNames[t.Month()-1]...)
	case 'c':
		return appendFormat(b, "%a %b %e %H:%M:%S %Y", t)
	case 'C':
		return pad(b, floorDiv(t.Year(), 100), 2, '0')
	case 'd':
		return pad(b, t.Day(), 2, '0')
	case 'D', 'x':
		return appendFormat(b, "%m/%d/%y", t)
	case 'e':
		return pad(b, t.Day(), 2, ' ')
	case 'F':
		return appendFormat(b, "%Y-%m-%d", t)
	case 'g':
		y, _ := t.ISOWeek()
		return pad(b, mod(y, 100), 2, '0')
	case 'G':
		y, _ := t.ISOWeek()
		return strconv.AppendInt(b, int64(y), 10)
	case 'H':
		return pad(b, t.Hour(), 2, '0')
	case 'I':
		return pad(b, hour12(t), 2, '0')
	case 'j':
		return pad(b, t.YearDay(), 3, '0')
	case 'k':
		return pad(b, t.Hour(), 2, ' ')
	case 'l':
		return pad(b, hour12(t), 2, ' ')
	case 'm':
		return pad(b, int(t.Month()), 2, '0')
	case 'M':
		return pad(b, t.Minute(), 2, '0')
	case 'n':
		return append(b, '\n')
	case 'p':
		if t.Hour() < 12 {
			return append(b, "AM"...)
		}
		return append(b, "PM"...)
	case 'P':
		if t.Hour() < 12 {
			return append(b, "am"...)
		}
		return append(b, "pm"...)
	case 'r':
		return appendFormat(b, "%I:%M:%S %p", t)
	case 'R':
		return appendFormat(b, "%H:%M", t)
	case 's':
		return strconv.AppendInt(b, t.Unix(), 10)
	case 'S':
		return pad(b, t.Second(), 2, '0')
	case 't':
		return append(b, '\t')
	case 'T', 'X':
		return appendFormat(b, "%H:%M:%S", t)
	case 'u':
		return strconv.AppendInt(b, int64((int(t.Weekday())+6)%7+1), 10)
	case 'U':
		return pad(b, (t.YearDay()-1+7-int(t.Weekday()))/7, 2, '0')
	case 'V':
		_, w := t.ISOWeek()
		return pad(b, w, 2, '0')
	case 'w':
		return strconv.AppendInt(b, int64(t.Weekday()), 10)
	case 'W':
		return pad(b, (t.YearDay()-1+7-(int(t.Weekday())+6)%7)/7, 2, '0')
	case 'y':
		return pad(b, mod(t.Year(), 100), 2, '0')
	case 'Y':
		return strconv.AppendInt(b, int64(t.Year()), 10)
	case 'z':
		_, off := t.Zone()
		sign := byte('+')
		if off < 0 {
			sign, off = '-', -off
		}
		b = append(b, sign)
		b = pad(b, off/3600, 2, '0')
		return pad(b, off%3600/60, 2, '0')
	case 'Z':
		name, _ := t.Zone()
		return append(b, name...)
	case '%':
		return append(b, '%')
	}
	return append(b, raw...)
}

// pad appends n right-aligned in width characters filled with fill. A
// negative n gets its sign before the padding.
func pad(b []byte, n, width int, fill byte) []byte {
	if n < 0 {
		b = append(b, '-')
		n = -n
		width--
	}
	var digits [20]byte
	s := strconv.AppendInt(digits[:0], int64(n), 10)
	for k := len(s); k < width; k++ {
		b = append(b, fill)
	}
	return append(b, s...)
}

func hour12(t time.Time) int {
	h := t.Hour() % 12
	if h == 0 {
		h = 12
	}
	return h
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func mod(a, b int) int {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}
