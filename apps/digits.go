package apps

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/switchboard-voip/switchboard/dialplan"
	"github.com/switchboard-voip/switchboard/vars"
)

// The digit family: read and play_and_get_digits, which play a prompt and
// collect DTMF digits into a channel variable, as switch_ivr_read and
// switch_play_and_get_digits do.

func init() {
	for _, a := range []App{
		{Name: "read", Usage: "<min> <max> <file> <var_name> <timeout> <terminators> <digit_timeout>", Description: "Play a prompt and collect digits", Run: readApp},
		{Name: "play_and_get_digits", Usage: "\n\t<min> <max> <tries> <timeout> <terminators> <file> <invalid_file> <var_name> <regexp> [<digit_timeout>] ['<failure_ext> [failure_dp [failure_context]]']", Description: "Prompt for digits and check them against a regex", Run: playAndGetDigitsApp},
	} {
		Register(a)
	}
}

// Variables the digit applications set.
const (
	varReadResult     = "read_result"
	varReadTerminator = "read_terminator_used"
)

// readStatus is the outcome of one read, FreeSWITCH's switch_status_t
// values that switch_ivr_read returns.
type readStatus int

const (
	readSuccess  readStatus = iota
	readTimeout             // the first or inter-digit timeout expired
	readTooSmall            // fewer than min digits, or a required terminator missing
	readRestart             // an 'x'-marked terminator: the caller restarts
	readFailed              // hangup, or the prompt could not be played
)

// minReadTimeout is the smallest timeout read and play_and_get_digits
// accept; shorter ones are raised to it, as FreeSWITCH does.
const minReadTimeout = 1000

// readArgs are the arguments of one switch_ivr_read.
type readArgs struct {
	min, max     int
	prompt       string
	variable     string
	timeout      time.Duration // before the first digit
	digitTimeout time.Duration // between digits; 0 means timeout
	terminators  string
}

// readApp is `read <min> <max> <file> <var_name> <timeout> <terminators>
// [<digit_timeout>]`. min is at least 1, max at least min, timeout at
// least 1000 ms, terminators "#" when empty; the prompt "silence" (or
// none) plays nothing. read_result becomes success, timeout or failure,
// read_terminator_used the terminator pressed, and <var_name> the digits.
func readApp(ctx context.Context, ch Channel, data string) error {
	s, err := sessionOf(ch, "read")
	if err != nil {
		return err
	}
	if strings.TrimSpace(data) == "" {
		s.Log(slog.LevelError, "No arguments specified.")
		return nil
	}
	argv := vars.Separate(data, ' ', 7)
	a := readArgs{min: catoi(arg(argv, 0)), max: catoi(arg(argv, 1)), prompt: arg(argv, 2), variable: arg(argv, 3), terminators: arg(argv, 5)}
	timeout := minReadTimeout
	if len(argv) > 4 {
		timeout = catoi(arg(argv, 4))
	}
	if a.min <= 1 {
		a.min = 1
	}
	if a.max < a.min {
		a.max = a.min
	}
	if timeout <= minReadTimeout {
		timeout = minReadTimeout
	}
	if a.terminators == "" {
		a.terminators = "#"
	}
	a.timeout = time.Duration(timeout) * time.Millisecond
	a.digitTimeout = time.Duration(atoui(arg(argv, 6))) * time.Millisecond
	_, _, err = ivrReadDigits(ctx, s, a)
	return quiet(err)
}

// playAndGetDigitsApp is `play_and_get_digits <min> <max> <tries>
// <timeout> <terminators> <file> <invalid_file> <var_name> <regexp>
// [<digit_timeout>] ['<failure_ext> [<failure_dp> [<failure_context>]]']`.
//
// It reads up to <tries> times: digits that satisfy min and match regexp
// (when given) end it with <var_name> set; otherwise <var_name>_invalid
// holds the rejected digits, invalid_file plays and the prompt repeats.
// When every try fails and a failure extension is given, the call is
// transferred there.
func playAndGetDigitsApp(ctx context.Context, ch Channel, data string) error {
	s, err := sessionOf(ch, "play_and_get_digits")
	if err != nil {
		return err
	}
	if strings.TrimSpace(data) == "" {
		s.Log(slog.LevelError, "No arguments specified.")
		return nil
	}
	argv := vars.Separate(data, ' ', 11)
	a := readArgs{min: catoi(arg(argv, 0)), max: catoi(arg(argv, 1)), terminators: arg(argv, 4), prompt: arg(argv, 5), variable: arg(argv, 7)}
	tries := catoi(arg(argv, 2))
	timeout := minReadTimeout
	if len(argv) > 3 {
		timeout = catoi(arg(argv, 3))
	}
	invalid, regex, failure := arg(argv, 6), arg(argv, 8), arg(argv, 10)
	if a.min < 0 {
		a.min = 0
	}
	if a.max < a.min {
		a.max = a.min
	}
	if timeout <= minReadTimeout {
		timeout = minReadTimeout
	}
	if a.terminators == "" {
		a.terminators = "#"
	}
	a.timeout = time.Duration(timeout) * time.Millisecond
	a.digitTimeout = time.Duration(atoui(arg(argv, 9))) * time.Millisecond
	var re *dialplan.Regex
	if regex != "" {
		if re, err = dialplan.CompileRegex(regex); err != nil {
			// FreeSWITCH's match fails on a bad expression: every try is
			// then invalid.
			s.Log(slog.LevelError, fmt.Sprintf("play_and_get_digits: %v", err))
		}
	}
	err = playAndGetDigits(ctx, s, a, tries, invalid, regex, re, failure)
	return quiet(err)
}

// playAndGetDigits is switch_play_and_get_digits.
func playAndGetDigits(ctx context.Context, s Session, a readArgs, tries int, invalid, regex string, re *dialplan.Regex, failure string) error {
	v := s.Vars()
	if regex != "" && a.variable != "" {
		v.Unset(a.variable + "_invalid")
	}
	for ; s.Ready() && tries > 0; tries-- {
		digits, status, err := ivrReadDigits(ctx, s, a)
		if status == readRestart {
			return nil
		}
		if status == readTimeout && len(digits) >= a.min {
			status = readSuccess
		}
		if _, used := v.Get(varReadTerminator); a.min == 0 && digits == "" && used {
			// Also when the terminator was pressed on an earlier try or
			// by an earlier read: FreeSWITCH never clears the variable.
			return nil
		}
		if status == readSuccess && digits != "" {
			if regex == "" {
				return nil
			}
			if re != nil && re.MatchString(digits) {
				return nil
			}
			v.Unset(a.variable)
			if a.variable != "" {
				v.Set(a.variable+"_invalid", digits)
			}
		}
		if err != nil && !s.Ready() {
			return err
		}
		if !s.Ready() {
			break
		}
		if invalid != "" {
			if m, merr := mediaOf(ctx, s, "play_and_get_digits"); merr == nil {
				// No digit handling here: digits pressed during the
				// invalid prompt stay queued for the next try.
				if _, perr := m.Play(ctx, invalid, nil); perr != nil && ctx.Err() == nil {
					s.Log(slog.LevelWarn, fmt.Sprintf("play_and_get_digits: invalid prompt %s: %v", invalid, perr))
				}
			}
		}
	}
	if !s.Ready() {
		return errHungUp
	}
	if failure == "" {
		return nil
	}
	target := vars.Separate(failure, ' ', 4)
	if len(target) == 0 || target[0] == "" {
		s.Log(slog.LevelError, fmt.Sprintf("Bad target for PAGD failure: [%s]", failure))
		return nil
	}
	ext, dp, cx := target[0], "", ""
	if len(target) > 1 {
		dp = target[1]
	}
	if len(target) > 2 {
		cx = target[2]
	}
	s.Log(slog.LevelWarn, fmt.Sprintf("PAGD failure! Transfer to: %s / %s / %s", ext, dp, cx))
	return s.Transfer(ext, dp, cx)
}

// ivrReadDigits is switch_ivr_read: it clears read_result and the target
// variable, plays the prompt (the first digit pressed stops it and
// counts), collects digits until max, a terminator or a timeout, and sets
// read_result, read_terminator_used and the target variable. It returns
// the digits collected.
func ivrReadDigits(ctx context.Context, s Session, a readArgs) (string, readStatus, error) {
	v := s.Vars()
	termRequired := strings.HasPrefix(a.terminators, "=")
	if a.digitTimeout <= 0 {
		a.digitTimeout = a.timeout
	}
	if a.max < a.min {
		a.max = a.min
	}
	v.Unset(varReadResult)
	if a.variable != "" {
		v.Unset(a.variable)
	}
	ctx, cancel := callContext(ctx, s)
	defer cancel()
	m, err := mediaOf(ctx, s, "read")
	if err != nil {
		return "", readFailed, err
	}
	q := s.DTMF()
	var buf []rune
	status := readSuccess
	if a.prompt != "" && !strings.EqualFold(a.prompt, "silence") {
		_, err := m.Play(ctx, a.prompt, func() bool {
			if d, ok := q.Pop(); ok {
				buf = append(buf, d)
				return true
			}
			return false
		})
		if err != nil || !s.Ready() {
			// The prompt failed (not found, or the call hung up): no
			// result at all, as FreeSWITCH's "goto end".
			if ctx.Err() != nil || !s.Ready() {
				err = errHungUp
			} else {
				s.Log(slog.LevelWarn, fmt.Sprintf("read: prompt %s: %v", a.prompt, err))
				err = nil
			}
			return finishRead(v, a, buf, readFailed, false), readFailed, err
		}
	}
	var term rune
	if len(buf) < a.max {
		var first time.Duration
		if len(buf) > 0 {
			first = a.digitTimeout
		} else {
			first = a.timeout
		}
		buf, term, status = collectDigits(ctx, s, buf, a.max, a.terminators, first, a.digitTimeout)
	}
	restart := false
	if term != 0 {
		v.Set(varReadTerminator, string(term))
		if i := strings.IndexRune(a.terminators, term); i >= 1 {
			switch a.terminators[i-1] {
			case '+':
				buf = append(buf, term)
			case 'x':
				buf = append(buf, term)
				status, restart = readRestart, true
			}
		}
	} else if termRequired {
		status = readTooSmall
	}
	if a.min > 0 && len(buf) < a.min {
		status = readTooSmall
	}
	switch status {
	case readSuccess:
		v.Set(varReadResult, "success")
	case readTimeout:
		v.Set(varReadResult, "timeout")
	default:
		v.Set(varReadResult, "failure")
	}
	digits := finishRead(v, a, buf, status, restart)
	if status == readFailed && !s.Ready() {
		return digits, status, errHungUp
	}
	return digits, status, nil
}

// finishRead applies switch_ivr_read's ending: a single digit that is a
// terminator is dropped when max is 1, and the digits go into the target
// variable when there are any.
func finishRead(v *vars.Store, a readArgs, buf []rune, status readStatus, restart bool) string {
	if !restart && a.max == 1 && len(buf) == 1 && strings.ContainsRune(a.terminators, buf[0]) {
		buf = buf[:0]
	}
	digits := string(buf)
	if a.variable != "" && digits != "" {
		v.Set(a.variable, digits)
	}
	return digits
}

// collectDigits is switch_ivr_collect_digits_count: digits already in buf
// are checked for a terminator first; then it waits first for the first
// digit and digit between digits, until max digits, a terminator
// (returned, not stored) or a timeout.
func collectDigits(ctx context.Context, s Session, buf []rune, max int, terminators string, first, digit time.Duration) ([]rune, rune, readStatus) {
	if len(buf) >= max {
		return buf, 0, readFailed
	}
	for i, d := range buf {
		if terminators != "" && strings.ContainsRune(terminators, d) {
			return buf[:i], d, readSuccess
		}
	}
	q := s.DTMF()
	wait := first
	for s.Ready() {
		d, ok := q.Wait(ctx, wait)
		if !ok {
			if ctx.Err() != nil || !s.Ready() {
				return buf, 0, readFailed
			}
			return buf, 0, readTimeout
		}
		wait = digit
		if terminators != "" && strings.ContainsRune(terminators, d) {
			return buf, d, readSuccess
		}
		buf = append(buf, d)
		if len(buf) >= max {
			return buf, 0, readSuccess
		}
	}
	return buf, 0, readFailed
}

// atoui is switch_atoui: a non-negative C atoi.
func atoui(s string) int {
	if n := catoi(s); n > 0 {
		return n
	}
	return 0
}
