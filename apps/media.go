package apps

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/vars"
)

// The media family: playback, gentones, sleep, echo, delay_echo and
// send_dtmf. They drive the call's audio through Session.Media and return
// as soon as the call hangs up.

func init() {
	for _, a := range []App{
		{Name: "playback", Usage: "<path>", Description: "Play a file", Run: playbackApp},
		{Name: "gentones", Usage: "<tgml_script>[|<loops>]", Description: "Generate tones", Run: gentonesApp},
		{Name: "delay_echo", Usage: "<delay ms>", Description: "Echo audio back after a delay", Run: delayEchoApp},
		{Name: "echo", Flags: SupportTextOnly, Description: "Echo received media back", Run: echoApp},
		{Name: "sleep", Flags: SupportNoMedia, Usage: "<pausemilliseconds>", Description: "Pause for a number of milliseconds", Run: sleepApp},
		{Name: "send_dtmf", Flags: SupportNoMedia, Usage: "<dtmf_data>", Description: "Send DTMF", Run: sendDTMFApp},
	} {
		Register(a)
	}
}

// Values of current_application_response after playback.
const (
	respFilePlayed    = "FILE PLAYED"
	respFileNotFound  = "FILE NOT FOUND"
	respPlaybackError = "PLAYBACK ERROR"
)

// playbackApp is `playback <path>[@@<start_sample>]`.
//
// The path is any URI Media.Play accepts. While it plays, received digits
// are taken from the queue: a digit in playback_terminators (see
// terminatorsOf) stops playback and is stored in playback_terminator_used;
// any other digit is discarded. Afterwards current_application_response
// is "FILE PLAYED" (played to the end or stopped by a terminator), "FILE
// NOT FOUND" (Play's error wraps fs.ErrNotExist) or "PLAYBACK ERROR"
// (anything else, hangup included), and playback_seconds, playback_ms and
// playback_samples say how much was played.
//
// Deviation: a start sample given with "@@" is recognised and removed
// from the path but not honoured yet (Media.Play cannot seek); the file
// plays from its start and a warning is logged.
func playbackApp(ctx context.Context, ch Channel, data string) error {
	s, err := sessionOf(ch, "playback")
	if err != nil {
		return err
	}
	v := s.Vars()
	file := data
	if i := strings.IndexByte(file, '@'); i >= 0 && strings.HasPrefix(file[i+1:], "@") {
		if start := catoi(file[i+2:]); start > 0 {
			s.Log(slog.LevelWarn, fmt.Sprintf("playback: starting at sample %d is not supported; playing %s from the start", start, file[:i]))
		}
		file = file[:i]
	}
	v.Unset(varPlaybackTerminator)
	if file == "" {
		v.Set(varApplicationResponse, respPlaybackError)
		return &UsageError{App: "playback", Usage: "<path>", Reason: "no file specified"}
	}
	err = playWatched(ctx, s, "playback", file)
	v.Set(varApplicationResponse, playbackResponse(err))
	return quiet(err)
}

// playbackResponse maps playWatched's outcome to the value of
// current_application_response.
func playbackResponse(err error) string {
	switch {
	case err == nil:
		return respFilePlayed
	case errors.Is(err, fs.ErrNotExist):
		return respFileNotFound
	}
	return respPlaybackError
}

// errHungUp reports that the call hung up before or while the media
// played. Applications return quiet(err), which turns it into nil: a
// hangup is not an application failure.
var errHungUp = errors.New("the call hung up")

// quiet returns err, or nil when err is errHungUp.
func quiet(err error) error {
	if errors.Is(err, errHungUp) {
		return nil
	}
	return err
}

// mediaOf returns the call's media, opening early media if need be. It
// returns errHungUp when that fails because the call has hung up (ctx is
// done).
func mediaOf(ctx context.Context, s Session, app string) (Media, error) {
	m, err := s.Media()
	switch {
	case err == nil:
		return m, nil
	case ctx.Err() != nil:
		return nil, errHungUp
	}
	return nil, fmt.Errorf("%s: no media: %w", app, err)
}

// playWatched plays uri with playback's terminator handling and sets the
// playback_* result variables. It returns nil when the media played to
// its end or a terminator stopped it, an error wrapping fs.ErrNotExist
// when the media does not exist, errHungUp when the call hung up, and any
// other failure wrapped.
func playWatched(ctx context.Context, s Session, app, uri string) error {
	// FreeSWITCH's file player also takes phrase:<macro>[:<data>] and
	// say:<text> (text-to-speech with tts_engine and tts_voice).
	if rest, ok := cutPrefixFold(uri, "phrase:"); ok {
		name, data, _ := strings.Cut(rest, ":")
		lang, _ := lookupVar(s, "language")
		return runPhrase(ctx, s, name, data, lang)
	}
	if text, ok := cutPrefixFold(uri, "say:"); ok {
		engine, _ := lookupVar(s, "tts_engine")
		voice, _ := lookupVar(s, "tts_voice")
		if engine == "" {
			return fmt.Errorf("%s %s: no tts_engine set", app, uri)
		}
		_, err := speakText(ctx, s, app, engine, voice, text)
		return err
	}
	ctx, cancel := callContext(ctx, s)
	defer cancel()
	m, err := mediaOf(ctx, s, app)
	if err != nil {
		return err
	}
	v := s.Vars()
	w := newTerminatorWatch(s.DTMF(), terminatorsOf(v))
	res, err := m.Play(ctx, uri, w.stop)
	w.record(v)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", app, err)
	}
	setPlaybackVars(v, res)
	switch {
	case (ctx.Err() != nil || !s.Ready()) && !res.Stopped:
		return errHungUp
	case err != nil:
		return fmt.Errorf("%s %s: %w", app, uri, err)
	}
	return nil
}

// setPlaybackVars stores how much Play played.
func setPlaybackVars(v *vars.Store, res PlayResult) {
	v.Set("playback_seconds", strconv.FormatInt(int64(res.Duration/time.Second), 10))
	v.Set("playback_ms", strconv.FormatInt(res.Duration.Milliseconds(), 10))
	v.Set("playback_samples", strconv.FormatInt(res.Samples, 10))
}

// gentonesApp is `gentones <tgml_script>[|<loops>]`: it plays
// tone_stream://<tgml_script>, looped <loops> more times (a negative
// count loops until stopped), with playback's terminators. Unlike
// playback it sets no result variables other than
// playback_terminator_used.
func gentonesApp(ctx context.Context, ch Channel, data string) error {
	const usage = "<tgml_script>[|<loops>]"
	s, err := sessionOf(ch, "gentones")
	if err != nil {
		return err
	}
	script, count, hasLoops := strings.Cut(data, "|")
	if script == "" {
		return &UsageError{App: "gentones", Usage: usage, Reason: "no tone script specified"}
	}
	uri := "tone_stream://" + script
	if hasLoops {
		loops := catoi(count)
		if loops < 0 {
			loops = -1
		}
		if loops != 0 {
			uri = "{loops=" + strconv.Itoa(loops) + "}" + uri
		}
	}
	v := s.Vars()
	v.Unset(varPlaybackTerminator)
	ctx, cancel := callContext(ctx, s)
	defer cancel()
	m, err := mediaOf(ctx, s, "gentones")
	if err != nil {
		return quiet(err)
	}
	w := newTerminatorWatch(s.DTMF(), terminatorsOf(v))
	_, err = m.Play(ctx, uri, w.stop)
	w.record(v)
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("gentones %s: %w", script, err)
	}
	return nil
}

// sleepApp is `sleep <ms>`: it waits ms milliseconds (C atoi; 0 or less
// returns at once, where FreeSWITCH would read a negative count as about
// 49 days), sending silence when the call has media.
//
// By default any received digit ends the sleep early and stays queued for
// the next application. With sleep_eat_digits true, digits are taken from
// the queue as playback takes them: a playback terminator ends the sleep
// and is stored in playback_terminator_used, other digits are discarded.
// A call without media (not answered nor pre-answered) just waits,
// ignoring digits, and is not pre-answered: sleep is not a media
// application.
func sleepApp(ctx context.Context, ch Channel, data string) error {
	s, err := sessionOf(ch, "sleep")
	if err != nil {
		return err
	}
	if data == "" {
		return &UsageError{App: "sleep", Usage: "<pausemilliseconds>", Reason: "no timeout specified"}
	}
	ms := catoi(data)
	v := s.Vars()
	eat := false
	if e, ok := v.Get("sleep_eat_digits"); ok && caller.True(e) {
		eat = true
		v.Unset(varPlaybackTerminator)
	}
	if ms <= 0 {
		return nil
	}
	ctx, cancel := callContext(ctx, s)
	defer cancel()
	if ctx.Err() != nil {
		return nil
	}
	d := time.Duration(ms) * time.Millisecond
	if !mediaReady(s) {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		return nil
	}
	q := s.DTMF()
	stop := func() bool { return q.Len() > 0 }
	var w *terminatorWatch
	if eat {
		w = newTerminatorWatch(q, terminatorsOf(v))
		stop = w.stop
	}
	if !stop() {
		m, err := mediaOf(ctx, s, "sleep")
		if err != nil {
			return quiet(err)
		}
		_, err = m.Play(ctx, "silence_stream://"+strconv.Itoa(ms), stop)
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("sleep %d: %w", ms, err)
		}
	}
	if w != nil {
		w.record(v)
	}
	return nil
}

// echoApp sends the caller's audio back until the call hangs up.
func echoApp(ctx context.Context, ch Channel, _ string) error {
	return echo(ctx, ch, "echo", 0)
}

// delayEchoApp is `delay_echo <ms>`: echo, delayed by ms milliseconds (C
// atoi; 1000 when the data is empty). A negative delay is refused:
// FreeSWITCH reads it as a delay of about 49 days.
func delayEchoApp(ctx context.Context, ch Channel, data string) error {
	ms := 1000
	if data != "" {
		ms = catoi(data)
	}
	if ms < 0 {
		return &UsageError{App: "delay_echo", Usage: "<delay ms>", Reason: "negative delay"}
	}
	return echo(ctx, ch, "delay_echo", time.Duration(ms)*time.Millisecond)
}

// echo runs Media.Echo with delay until the call hangs up.
func echo(ctx context.Context, ch Channel, app string, delay time.Duration) error {
	s, err := sessionOf(ch, app)
	if err != nil {
		return err
	}
	ctx, cancel := callContext(ctx, s)
	defer cancel()
	m, err := mediaOf(ctx, s, app)
	if err != nil {
		return quiet(err)
	}
	if err := m.Echo(ctx, delay, nil); err != nil && ctx.Err() == nil {
		return fmt.Errorf("%s: %w", app, err)
	}
	return nil
}

// DTMF durations FreeSWITCH applies to send_dtmf (switch_core's defaults
// at 8 kHz).
const (
	dtmfDefault = 250 * time.Millisecond // each digit's length unless @<ms> says otherwise
	dtmfMinMS   = 50                     // @<ms> at or below this is ignored
	dtmfMax     = 24 * time.Second       // longer @<ms> is cut to this
	dtmfGap     = 250 * time.Millisecond // pause counted after each digit
	dtmfMaxLen  = 99                     // longest string accepted
)

// sendDTMFApp is `send_dtmf [~]<digits>[@<ms>][+<digits>[@<ms>]...]`, as
// switch_core_session_send_dtmf_string reads it: the data (at most 99
// characters after the optional "~") is split on "+"; each group's digits
// (0-9 * # A-D, w and W for pauses, F; other characters are skipped) are
// sent with the group's duration: @<ms> when above 50 ms (at most 24 s),
// the default otherwise. last_dtmf_duration is set to the milliseconds the
// digits sent so far take, counting 250 ms after each.
func sendDTMFApp(ctx context.Context, ch Channel, data string) error {
	const usage = "<dtmf_data>"
	s, err := sessionOf(ch, "send_dtmf")
	if err != nil {
		return err
	}
	str := strings.TrimPrefix(data, "~")
	switch {
	case str == "":
		return &UsageError{App: "send_dtmf", Usage: usage, Reason: "no digits specified"}
	case len(str) > dtmfMaxLen:
		return &UsageError{App: "send_dtmf", Usage: usage, Reason: fmt.Sprintf("%d characters of digits, more than %d", len(str), dtmfMaxLen)}
	}
	ctx, cancel := callContext(ctx, s)
	defer cancel()
	m, err := mediaOf(ctx, s, "send_dtmf")
	if err != nil {
		return quiet(err)
	}
	var total time.Duration
	for _, group := range vars.Separate(str, '+', 256) {
		digits, dur := parseDTMFGroup(group)
		if digits == "" {
			continue
		}
		if dur > dtmfMax {
			s.Log(slog.LevelWarn, fmt.Sprintf("send_dtmf: digits %s of %v are too long; sending %v", digits, dur, dtmfMax))
			dur = dtmfMax
		}
		if err := m.SendDTMF(ctx, digits, dur); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("send_dtmf %s: %w", digits, err)
		}
		each := dur
		if each == 0 {
			each = dtmfDefault
		}
		total += time.Duration(len(digits)) * (each + dtmfGap)
		s.Vars().Set("last_dtmf_duration", strconv.FormatInt(total.Milliseconds(), 10))
	}
	return nil
}

// parseDTMFGroup splits one "+"-separated group of send_dtmf data into
// the digits to send and their duration (0 for the default).
func parseDTMFGroup(group string) (digits string, dur time.Duration) {
	digits, ms, hasDur := strings.Cut(group, "@")
	if hasDur {
		if n := catoi(ms); n > dtmfMinMS {
			dur = time.Duration(n) * time.Millisecond
		}
	}
	return strings.Map(func(r rune) rune {
		if isDTMF(r) {
			return r
		}
		return -1
	}, digits), dur
}

// isDTMF reports whether r is a character send_dtmf sends: FreeSWITCH's
// is_dtmf.
func isDTMF(r rune) bool {
	switch {
	case r >= '0' && r <= '9', r >= 'A' && r <= 'D', r >= 'a' && r <= 'd':
		return true
	}
	return strings.ContainsRune("#*wWfF", r)
}

// cutPrefixFold is strings.CutPrefix without regard to case.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}
