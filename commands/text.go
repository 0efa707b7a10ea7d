package commands

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/switchboard-voip/switchboard/dialplan"
	"github.com/switchboard-voip/switchboard/vars"
)

func init() {
	Register(Command{Name: "echo", Usage: "<data>", Description: "Echo", Run: echo})
	Register(Command{Name: "md5", Usage: "<data>", Description: "Return md5 hash", Run: md5Cmd})
	Register(Command{Name: "regex", Usage: "<data>|<pattern>[|<subst string>][n|b]", Description: "Evaluate a regex", Run: regexCmd})
	Register(Command{Name: "cond", Usage: "<expr> ? <true val> : <false val>", Description: "Evaluate a conditional", Run: cond})
}

// echo is `echo <data>`: the data, as given.
func echo(_ context.Context, _ Env, args string) (string, error) { return args, nil }

// md5Cmd is `md5 <data>`: the MD5 digest of the data in lower-case hex,
// or "!err!" without data.
func md5Cmd(_ context.Context, _ Env, args string) (string, error) {
	if args == "" {
		return "!err!", nil
	}
	sum := md5.Sum([]byte(args))
	return hex.EncodeToString(sum[:]), nil
}

// regexCmd is `regex [m:<d>]<data>|<pattern>[|<template>[|<flags>]]`.
//
//   - Without a template: "true" if the pattern matches the data, else
//     "false".
//   - With one: the template with %N (or $N, ${N}) replaced by capture N
//     when the pattern matches; otherwise the data itself, or "" with the
//     flag n, or "false" with the flag b.
//   - "m:" followed by '|', '~' or '/' makes that character the separator,
//     for patterns that contain '|'.
//   - Fewer than two fields: "-ERR".
//
// The pattern is a dialplan expression (PCRE syntax, /re/i, _NXX); one
// that does not compile does not match. As in FreeSWITCH, fields are
// split with switch_separate_string's rules (quotes and escapes), every
// '%' in the template becomes '$', and the output is cut at
// (len(data)+len(template)+10) × (number of captures) - 1 bytes.
func regexCmd(_ context.Context, _ Env, args string) (string, error) {
	const fail = "-ERR"
	d, delim := args, byte('|')
	if len(d) > 2 && d[0] == 'm' && d[1] == ':' && strings.IndexByte("|~/", d[2]) >= 0 {
		d, delim = d[3:], d[2]
	}
	argv := vars.Separate(d, delim, 4)
	if len(argv) < 2 {
		return fail, nil
	}
	data := argv[0]
	var caps []string
	if re, err := dialplan.CompileRegex(argv[1]); err == nil {
		caps = re.Submatches(data)
	}
	if len(argv) == 2 {
		return strconv.FormatBool(caps != nil), nil
	}
	tmpl := argv[2]
	if caps != nil {
		limit := (len(data) + len(tmpl) + 10) * len(caps)
		return dialplan.Substitute(strings.ReplaceAll(tmpl, "%", "$"), caps, limit), nil
	}
	flags := ""
	if len(argv) > 3 {
		flags = argv[3]
	}
	switch {
	case strings.Contains(flags, "n"):
		return "", nil
	case strings.Contains(flags, "b"):
		return "false", nil
	}
	return data, nil
}

// cond is `cond <a> <op> <b> ? <true> [: <false>]`, with op one of ==, !=,
// <, >, <=, >=. It follows FreeSWITCH's parser exactly:
//
//   - a and b end at a space, or are quoted with '...' (a backslash keeps
//     the next ' or \ from ending the quote, and stays in the value); a
//     closing quote must be followed by white space.
//   - A side is a number when it is made only of digits and dots (after an
//     optional sign) and was not quoted; a side that is not a number
//     counts as its length. == and != compare the strings when neither
//     side is a number, and the numbers otherwise; the others always
//     compare numbers (so "abc > ab" is true).
//   - One character after the operator is skipped whatever it is, so
//     "1 ==1 ? ..." compares 1 with what follows the second "1".
//   - After '?' the rest is split at ':' into at most two values with
//     switch_separate_string's rules (quotes, escapes, spaces trimmed).
//     With no false value a false condition gives "".
//   - Anything malformed gives "-ERR".
func cond(_ context.Context, _ Env, args string) (string, error) {
	const fail = "-ERR"
	s := args
	a, i, aQuoted, ok := condOperand(s, 0)
	if !ok {
		return fail, nil
	}
	i = skipSpace(s, i)
	var op string
	switch {
	case strings.HasPrefix(s[i:], "=="), strings.HasPrefix(s[i:], "!="),
		strings.HasPrefix(s[i:], "<="), strings.HasPrefix(s[i:], ">="):
		op = s[i : i+2]
	case i < len(s) && (s[i] == '<' || s[i] == '>'):
		op = s[i : i+1]
	default:
		return fail, nil
	}
	i += len(op) + 1 // FreeSWITCH skips one character after the operator
	if i > len(s) {
		return fail, nil
	}
	i = skipSpace(s, i)
	b, i, bQuoted, ok := condOperand(s, i)
	if !ok {
		return fail, nil
	}
	i = skipSpace(s, i)
	if i == len(s) || s[i] != '?' {
		return fail, nil
	}
	vals := vars.Separate(":"+s[i+1:], ':', 3)
	if len(vals) < 2 {
		return fail, nil
	}
	aNum, bNum := !aQuoted && isNumber(a), !bQuoted && isNumber(b)
	af, bf := float64(len(a)), float64(len(b))
	if aNum {
		af = atof(a)
	}
	if bNum {
		bf = atof(b)
	}
	var yes bool
	switch op {
	case "==":
		if !aNum && !bNum {
			yes = a == b
		} else {
			yes = af == bf
		}
	case "!=":
		if !aNum && !bNum {
			yes = a != b
		} else {
			yes = af != bf
		}
	case ">":
		yes = af > bf
	case ">=":
		yes = af >= bf
	case "<":
		yes = af < bf
	case "<=":
		yes = af <= bf
	}
	switch {
	case yes:
		return vals[1], nil
	case len(vals) == 3:
		return vals[2], nil
	}
	return "", nil
}

// condOperand reads one operand of cond starting at s[i]: a quoted string
// (its escapes left as they are), which must be followed by white space,
// or the text up to the next space, which must exist. It returns the
// operand, the index after it and its separator, and whether it was
// quoted.
func condOperand(s string, i int) (v string, next int, quoted, ok bool) {
	if i < len(s) && s[i] == '\'' {
		for j := i + 1; j < len(s); j++ {
			switch s[j] {
			case '\\':
				if j+1 < len(s) && (s[j+1] == '\\' || s[j+1] == '\'') {
					j++
				}
			case '\'':
				if j+1 == len(s) || !isSpace(s[j+1]) {
					return "", 0, false, false
				}
				return s[i+1 : j], j + 1, true, true
			}
		}
		return "", 0, false, false
	}
	k := strings.IndexByte(s[i:], ' ')
	if k < 0 {
		return "", 0, false, false
	}
	return s[i : i+k], i + k + 1, false, true
}

// isSpace is C's isspace in the C locale.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// isNumber is switch_is_number: an optional sign, then only digits and
// dots (so "", "-" and "1.2.3" count).
func isNumber(s string) bool {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '.' && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}

// atof is C's atof on a string isNumber accepts: the longest prefix that
// reads as a decimal number ("1.2.3" is 1.2, "" and "." are 0).
func atof(s string) float64 {
	end, dot := 0, false
	if end < len(s) && (s[end] == '-' || s[end] == '+') {
		end++
	}
	for end < len(s) {
		if s[end] == '.' {
			if dot {
				break
			}
			dot = true
		} else if s[end] < '0' || s[end] > '9' {
			break
		}
		end++
	}
	f, err := strconv.ParseFloat(s[:end], 64)
	if err != nil {
		return 0
	}
	return f
}
