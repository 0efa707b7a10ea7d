package scripting

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/dialplan"
	"github.com/switchboard-voip/switchboard/media"
	"github.com/switchboard-voip/switchboard/say"
	"github.com/switchboard-voip/switchboard/tts"
)

// The media methods: what a script plays, records and collects. Those
// that take the input callback (streamFile, sleep, recordFile, say,
// speak, collectDigits) run it on the script's goroutine; without one,
// received digits are left queued for the next method that reads
// digits, as FreeSWITCH leaves them.

// rate is the sample rate positions are counted in (the call's G.711).
const rate = 8000

// fileHandle is the state a callback's result acts on during streamFile
// and recordFile (switch_ivr_process_fh): position, pause, volume, speed.
type fileHandle struct {
	record bool
	pos    int64 // samples played
	paused bool
	vol    int
	speed  int
	trunc  bool // recordFile: "truncate"
}

// process applies a callback's result and reports whether the operation
// goes on, as switch_ivr_process_fh does; fh is nil outside streamFile and
// recordFile, where only "", "true" and "undefined" go on.
func process(ret string, fh *fileHandle) bool {
	if ret == "" {
		return true
	}
	if fh != nil {
		low := strings.ToLower(ret)
		switch {
		case strings.HasPrefix(low, "speed"):
			n, ok := adjust(ret, 1, fh.speed)
			fh.speed = n
			return ok
		case strings.HasPrefix(low, "volume"):
			n, ok := adjust(ret, 1, fh.vol)
			fh.vol = n
			return ok
		case low == "pause":
			fh.paused = !fh.paused
			return true
		case low == "stop":
			return false
		case low == "truncate":
			fh.trunc = true
		case low == "restart":
			fh.pos, fh.speed = 0, 0
			return true
		case strings.HasPrefix(low, "seek"):
			if _, arg, ok := strings.Cut(ret, ":"); ok {
				if arg != "" && (arg[0] == '+' || arg[0] == '-') {
					step := atoi(arg)
					if step == 0 {
						step = 1000
					}
					fh.pos = max(fh.pos+int64(step)*rate/1000, 0)
				} else {
					fh.pos = int64(max(atoi(arg), 0)) * rate / 1000
				}
			}
			return true
		}
	}
	return ret == "true" || ret == "undefined"
}

// adjust reads "name:+N", "name:-N" (a step, 1 when N is 0) or
// "name:N" (a value); ok is false without a colon.
func adjust(ret string, step, cur int) (int, bool) {
	_, arg, ok := strings.Cut(ret, ":")
	if !ok {
		return cur, false
	}
	if arg != "" && (arg[0] == '+' || arg[0] == '-') {
		n := atoi(arg)
		if n == 0 {
			n = step
			if arg[0] == '-' {
				n = -step
			}
		}
		return cur + n, true
	}
	return atoi(arg), true
}

// volumeChart is the gain of each volume step, as switch_change_sln_volume
// has it (steps -4..4; 0 leaves the audio alone).
var volumeChart = [...]float64{0.20, 0.40, 0.60, 0.80, 1, 1.3, 2.3, 3.3, 4.3}

// filtered is a Source that starts skip samples in and applies a volume
// step.
type filtered struct {
	media.Source
	skip int64
	gain float64
}

func (f *filtered) Read(pcm []int16) (int, error) {
	for f.skip > 0 {
		n := int64(len(pcm))
		if n > f.skip {
			n = f.skip
		}
		got, err := f.Source.Read(pcm[:n])
		f.skip -= int64(got)
		if err != nil {
			return 0, err
		}
		if got == 0 {
			return 0, io.ErrNoProgress
		}
	}
	n, err := f.Source.Read(pcm)
	if f.gain != 1 {
		for i := range pcm[:n] {
			v := float64(pcm[i]) * f.gain
			switch {
			case v > 32767:
				v = 32767
			case v < -32768:
				v = -32768
			}
			pcm[i] = int16(v)
		}
	}
	return n, err
}

// filteredPlayer is a channel that can play from a sample offset through
// a filter (the call core's session).
type filteredPlayer interface {
	PlayFiltered(ctx context.Context, uri string, filter func(media.Source) (media.Source, error), stop func() bool) (apps.PlayResult, error)
}

// play plays uri from fh's position at its volume; stop may be nil.
func (s *Session) play(ctx context.Context, uri string, fh *fileHandle, stop func() bool) (apps.PlayResult, error) {
	if p, ok := s.sess.(filteredPlayer); ok && fh != nil && (fh.pos > 0 || fh.vol != 0) {
		v := min(max(fh.vol, -4), 4)
		skip, gain := fh.pos, volumeChart[v+4]
		if isLive(uri) {
			skip = 0 // a live stream goes on where it is; it cannot seek
		}
		return p.PlayFiltered(ctx, uri, func(src media.Source) (media.Source, error) {
			return &filtered{Source: src, skip: skip, gain: gain}, nil
		}, stop)
	}
	m, err := s.sess.Media()
	if err != nil {
		return apps.PlayResult{}, err
	}
	if fh != nil && fh.pos > 0 {
		s.log.Debug(fmt.Sprintf("this channel cannot start %s at sample %d; playing it from the start", uri, fh.pos))
	}
	return m.Play(ctx, uri, stop)
}

// isLive reports whether uri is a live stream (local_stream://), which
// plays in real time and cannot be skipped into.
func isLive(uri string) bool {
	u := strings.TrimLeft(uri, " ")
	for strings.HasPrefix(u, "{") {
		end := strings.IndexByte(u, '}')
		if end < 0 {
			break
		}
		u = strings.TrimLeft(u[end+1:], " ")
	}
	_, ok := cutFold(u, "local_stream://")
	return ok
}

// inputPending is the stop function of media with an input callback: a
// queued digit or event ends the media so that the callback can run on
// the script's goroutine.
func (s *Session) inputPending() bool { return s.sess.DTMF().Len() > 0 || s.hasEvent() }

// takeInput takes the next digit, or else the next event.
func (s *Session) takeInput() (Input, bool) {
	if d, ok := s.sess.DTMF().Pop(); ok {
		return Input{Digit: d, Duration: DefaultDTMFDuration}, true
	}
	if e := s.popEvent(); e != nil {
		return Input{Event: e}, true
	}
	return Input{}, false
}

// waitInput waits up to d (d <= 0: until ctx is done) for a digit or an
// event; ok is false on timeout, hangup or ctx.
func (s *Session) waitInput(ctx context.Context, d time.Duration) (Input, bool) {
	var deadline time.Time
	if d > 0 {
		deadline = time.Now().Add(d)
	}
	q := s.sess.DTMF()
	for {
		if e := s.popEvent(); e != nil {
			return Input{Event: e}, true
		}
		step := 20 * time.Millisecond
		if !deadline.IsZero() {
			left := time.Until(deadline)
			if left <= 0 {
				return Input{}, false
			}
			step = min(step, left)
		}
		if dg, ok := q.Wait(ctx, step); ok {
			return Input{Digit: dg, Duration: DefaultDTMFDuration}, true
		}
		if ctx.Err() != nil || !s.sess.Ready() {
			return Input{}, false
		}
	}
}

// callback runs the input callback.
func (s *Session) callback(in Input) string {
	if s.hooks == nil {
		return ""
	}
	return s.hooks.Input(in)
}

// StreamFile plays file (any media URI; phrase: and say: too) from
// sample start: 1 when it played to its end, 0 when it could not be
// played, was stopped (callback, uuid_break) or the call hung up.
//
// Without an input callback received digits do not stop it and stay
// queued. With one, each digit and event stops the audio, the callback
// runs, and its result decides: continue, stop, pause (until the next
// input), seek, restart, volume; speed is accepted and ignored.
func (s *Session) StreamFile(file string, start int) int {
	if !s.sane() {
		return -1
	}
	s.allowThreads()
	r := s.streamFile(file, int64(max(start, 0)))
	s.allowThreads()
	return r
}

func (s *Session) streamFile(file string, start int64) int {
	if rest, ok := cutFold(file, "phrase:"); ok {
		name, data, _ := strings.Cut(rest, ":")
		return status(s.phrase(name, data, ""))
	}
	if text, ok := cutFold(file, "say:"); ok {
		engine, _ := s.GetVariable("tts_engine")
		voice, _ := s.GetVariable("tts_voice")
		return status(s.speak(engine, voice, text))
	}
	ctx, cancel := s.callCtx()
	defer cancel()
	fh := &fileHandle{pos: start}
	return status(s.playLoop(ctx, file, fh))
}

// playLoop plays uri with the input callback (if any) in control, and
// reports whether it played to its end.
func (s *Session) playLoop(ctx context.Context, uri string, fh *fileHandle) bool {
	for {
		if !s.sess.Ready() || ctx.Err() != nil {
			return false
		}
		if fh != nil && fh.paused {
			in, ok := s.waitInput(ctx, 0)
			if !ok {
				return false
			}
			if !process(s.callback(in), fh) {
				return false
			}
			continue
		}
		var stop func() bool
		if s.input {
			stop = s.inputPending
		}
		res, err := s.play(ctx, uri, fh, stop)
		if fh != nil {
			fh.pos += res.Samples
		}
		if err != nil {
			if ctx.Err() == nil && s.sess.Ready() {
				s.log.Warn(fmt.Sprintf("cannot play %s: %v", uri, err))
			}
			return false
		}
		if !res.Stopped {
			return true
		}
		if !s.input || !s.sess.Ready() {
			return false
		}
		in, ok := s.takeInput()
		if !ok {
			return false // a break
		}
		if !process(s.callback(in), fh) {
			return false
		}
	}
}

// Sleep waits ms milliseconds: 1 when the time ran out, 0 when the input
// callback stopped it or the call hung up. Without a callback digits do
// not interrupt it and stay queued. sync is accepted and ignored.
func (s *Session) Sleep(ms, sync int) int {
	if !s.sane() {
		return -1
	}
	s.allowThreads()
	r := s.sleep(time.Duration(max(ms, 0)) * time.Millisecond)
	s.allowThreads()
	return r
}

func (s *Session) sleep(d time.Duration) int {
	if !s.sess.Ready() {
		return 0
	}
	ctx, cancel := s.callCtx()
	defer cancel()
	deadline := time.Now().Add(d)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return 1
		}
		if !s.input {
			t := time.NewTimer(left)
			select {
			case <-ctx.Done():
				t.Stop()
				return 0
			case <-t.C:
				return 1
			}
		}
		in, ok := s.waitInput(ctx, left)
		if !ok {
			if ctx.Err() != nil || !s.sess.Ready() {
				return 0
			}
			continue
		}
		if !process(s.callback(in), nil) {
			return 0
		}
	}
}

// GetDigits collects up to max digits (those already queued first) until
// a terminator (not returned), timeout before the first digit, interdigit
// between later ones (0: timeout), or abstimeout in all; all in ms, 0
// meaning no limit. It returns the digits collected.
func (s *Session) GetDigits(max int, terminators string, timeout, interdigit, abstimeout int) string {
	if !s.sane() {
		return ""
	}
	s.allowThreads()
	digits := s.getDigits(max, terminators, timeout, interdigit, abstimeout)
	if s.log.Enabled(context.Background(), slog.LevelDebug) {
		if v, _ := s.GetVariable("sensitive_dtmf"); !caller.True(v) {
			s.log.Debug("getDigits dtmf_buf: " + digits)
		}
	}
	s.allowThreads()
	return digits
}

// maxDigits is the size of FreeSWITCH's digit buffer.
const maxDigits = 511

func (s *Session) getDigits(maxN int, terminators string, first, digit, abs int) string {
	maxN = min(maxN, maxDigits)
	if maxN <= 0 {
		return ""
	}
	ctx, cancel := s.callCtx()
	defer cancel()
	var absEnd time.Time
	if abs > 0 {
		absEnd = time.Now().Add(time.Duration(abs) * time.Millisecond)
	}
	var eff time.Duration
	switch {
	case digit > 0 && first > 0:
		eff = time.Duration(first) * time.Millisecond
	case digit > 0:
		eff = time.Duration(digit) * time.Millisecond
	case first > 0:
		digit = first
		eff = time.Duration(first) * time.Millisecond
	}
	var digitEnd time.Time
	if eff > 0 {
		digitEnd = time.Now().Add(eff)
	}
	q := s.sess.DTMF()
	var buf []rune
	for s.sess.Ready() {
		wait := time.Hour
		now := time.Now()
		if !absEnd.IsZero() {
			if !now.Before(absEnd) {
				break
			}
			wait = min(wait, absEnd.Sub(now))
		}
		if !digitEnd.IsZero() {
			if !now.Before(digitEnd) {
				break
			}
			wait = min(wait, digitEnd.Sub(now))
		}
		d, ok := q.Wait(ctx, wait)
		if !ok {
			if ctx.Err() != nil {
				break
			}
			continue
		}
		if eff > 0 {
			digitEnd = time.Now().Add(time.Duration(digit) * time.Millisecond)
		}
		if terminators != "" && strings.ContainsRune(terminators, d) {
			break
		}
		buf = append(buf, d)
		if len(buf) >= maxN {
			break
		}
	}
	return string(buf)
}

// CollectDigits feeds received digits and events to the input callback
// until it stops, digitTimeout passes without a digit, absTimeout passes
// in all (ms, 0: no limit) or the call hangs up. Without a callback it
// returns at once. It returns 0.
func (s *Session) CollectDigits(digitTimeout, absTimeout int) int {
	if !s.sane() {
		return -1
	}
	s.allowThreads()
	s.collectDigits(digitTimeout, absTimeout)
	s.allowThreads()
	return 0
}

func (s *Session) collectDigits(digitTimeout, absTimeout int) {
	if !s.input {
		return
	}
	ctx, cancel := s.callCtx()
	defer cancel()
	var absEnd, digitEnd time.Time
	if absTimeout > 0 {
		absEnd = time.Now().Add(time.Duration(absTimeout) * time.Millisecond)
	}
	if digitTimeout > 0 {
		digitEnd = time.Now().Add(time.Duration(digitTimeout) * time.Millisecond)
	}
	for s.sess.Ready() {
		wait := time.Duration(0)
		for _, end := range []time.Time{absEnd, digitEnd} {
			if end.IsZero() {
				continue
			}
			left := time.Until(end)
			if left <= 0 {
				return
			}
			if wait == 0 || left < wait {
				wait = left
			}
		}
		in, ok := s.waitInput(ctx, wait)
		if !ok {
			if ctx.Err() != nil {
				return
			}
			continue
		}
		ret := s.callback(in)
		if in.Event == nil && digitTimeout > 0 {
			digitEnd = time.Now().Add(time.Duration(digitTimeout) * time.Millisecond)
		}
		if !process(ret, nil) {
			return
		}
	}
}

// tmpVar is the channel variable Read and PlayAndGetDigits collect into
// when the script names none; it is removed afterwards.
const tmpVar = "__script_collected_digits"

// runApp runs a registered application directly (no events, no
// expansion), as CoreSession calls the IVR functions.
func (s *Session) runApp(ctx context.Context, name, data string) {
	a, ok := apps.Lookup(name)
	if !ok {
		s.log.Error(fmt.Sprintf("application %s is not available", name))
		return
	}
	if err := a.Run(ctx, s.sess, data); err != nil {
		s.log.Warn(fmt.Sprintf("%s: %v", name, err))
	}
}

// Read plays prompt and collects min to max digits (at least 1 each)
// until a terminator or timeout (ms), as switch_ivr_read: it sets
// read_result and read_terminator_used and returns the digits. The read
// application underneath raises a timeout under 1000 ms to 1000.
func (s *Session) Read(minDigits, maxDigits int, prompt string, timeout int, terminators string, digitTimeout int) string {
	if !s.sane() {
		return ""
	}
	minDigits, maxDigits, timeout = max(minDigits, 1), max(maxDigits, 1), max(timeout, 1)
	s.allowThreads()
	defer s.allowThreads()
	ctx, cancel := s.callCtx()
	defer cancel()
	v := s.sess.Vars()
	s.runApp(ctx, "read", join(strconv.Itoa(minDigits), strconv.Itoa(maxDigits), prompt, tmpVar,
		strconv.Itoa(timeout), terminators, strconv.Itoa(max(digitTimeout, 0))))
	digits, _ := v.Get(tmpVar)
	v.Unset(tmpVar)
	return digits
}

// PlayAndGetDigits is switch_play_and_get_digits: up to tries times, play
// file and collect min..max digits until a terminator or timeout; digits
// matching regex (when given) end it, others play invalidFile. It returns
// the digits, "" when every try failed (then transferring to
// failureExt when given). varName, when given, receives them.
func (s *Session) PlayAndGetDigits(minDigits, maxDigits, tries, timeout int, terminators, file, invalidFile, regex, varName string, digitTimeout int, failureExt string) string {
	if !s.sane() {
		return ""
	}
	s.allowThreads()
	defer s.allowThreads()
	ctx, cancel := s.callCtx()
	defer cancel()
	v := s.sess.Vars()
	name := varName
	if name == "" {
		name = tmpVar
	}
	s.runApp(ctx, "play_and_get_digits", join(strconv.Itoa(max(minDigits, 0)), strconv.Itoa(max(maxDigits, 0)), strconv.Itoa(max(tries, 0)),
		strconv.Itoa(max(timeout, 0)), terminators, file, invalidFile, name, regex, strconv.Itoa(max(digitTimeout, 0)), failureExt))
	digits, _ := v.Get(name)
	if varName == "" {
		v.Unset(tmpVar)
		v.Unset(tmpVar + "_invalid")
	}
	// The application leaves the digits of a last try that was too short
	// in the variable; FreeSWITCH's function returns "" then.
	if len([]rune(digits)) < minDigits {
		return ""
	}
	if regex != "" {
		re, err := dialplan.CompileRegex(regex)
		if err != nil || !re.MatchString(digits) {
			return ""
		}
	}
	return digits
}

// join quotes each argument so that application data splitting
// (vars.Separate) gives them back exactly.
func join(args ...string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(quoteArg(a))
	}
	return b.String()
}

// quoteArg quotes a for vars.Separate: empty and spaced arguments in
// single quotes, backslashes and quotes escaped.
func quoteArg(a string) string {
	if a != "" && !strings.ContainsAny(a, " '\\\"") && a[0] != '^' {
		return a
	}
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, `"`, `\"`)
	return "'" + r.Replace(a) + "'"
}

// RecordFile records the caller into path (relative: under
// recordings_dir) for up to timeLimit seconds (0: no limit), stopping
// after silenceHits seconds below silenceThreshold (0: no silence
// detection): 1 when the limit or silence ended it, 0 when the input
// callback stopped it, the call hung up or the file could not be written.
// Without a callback digits do not stop it and stay queued.
func (s *Session) RecordFile(path string, timeLimit, silenceThreshold, silenceHits int) int {
	if !s.sane() {
		return -1
	}
	if path == "" {
		return 0
	}
	s.allowThreads()
	r := s.recordFile(path, timeLimit, silenceThreshold, silenceHits)
	s.allowThreads()
	return r
}

func (s *Session) recordFile(path string, timeLimit, thresh, hits int) int {
	if !filepath.IsAbs(path) {
		if dir, ok := s.GetVariable("recordings_dir"); ok && dir != "" {
			path = filepath.Join(dir, path)
		}
	}
	ctx, cancel := s.callCtx()
	defer cancel()
	m, err := s.sess.Media()
	if err != nil {
		return 0
	}
	rec, ok := m.(apps.Recorder)
	if !ok {
		s.log.Error("this call's media cannot record")
		return 0
	}
	v := s.sess.Vars()
	o := apps.RecordOptions{
		Limit:            time.Duration(max(timeLimit, 0)) * time.Second,
		SilenceThreshold: max(thresh, 0),
		SilenceHits:      time.Duration(max(hits, 0)) * time.Second,
		Append:           varTrue(v.Get("RECORD_APPEND")),
	}
	fh := &fileHandle{record: true}
	type result struct {
		res apps.RecordResult
		err error
	}
	done := make(chan result, 1)
	asks := make(chan chan bool)
	if s.input {
		o.Stop = func() bool {
			if !s.inputPending() {
				return false
			}
			reply := make(chan bool, 1)
			select {
			case asks <- reply:
			case <-ctx.Done():
				return true
			}
			select {
			case goOn := <-reply:
				return !goOn
			case <-ctx.Done():
				return true
			}
		}
	}
	rctx, rcancel := context.WithCancel(ctx)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{err: fmt.Errorf("the recorder panicked: %v", p)}
			}
		}()
		res, err := rec.Record(rctx, path, o)
		done <- result{res, err}
	}()
	// However the callback ends (even by a script error unwinding this
	// goroutine), the recorder stops and is waited for.
	var r result
	finished := false
	defer func() {
		if !finished {
			rcancel()
			<-done
		}
		rcancel()
	}()
	for !finished {
		select {
		case r = <-done:
			finished = true
		case reply := <-asks:
			goOn := true
			if in, ok := s.takeInput(); ok {
				goOn = process(s.callback(in), fh)
			}
			reply <- goOn
		}
	}
	v.Set("record_seconds", strconv.FormatInt(int64(r.res.Duration/time.Second), 10))
	v.Set("record_ms", strconv.FormatInt(r.res.Duration.Milliseconds(), 10))
	v.Set("record_samples", strconv.FormatInt(r.res.Samples, 10))
	if fh.trunc {
		if w, err := media.CreateWAV(path, rate, 1, false); err == nil {
			_ = w.Close()
		}
	}
	if r.err != nil {
		if s.sess.Ready() {
			s.log.Error(fmt.Sprintf("recordFile %s: %v", path, r.err))
		}
		return 0
	}
	return status(r.res.Reason == "limit" || r.res.Reason == "silence")
}

func varTrue(v string, _ bool) bool { return caller.True(v) }

// Say says text with the say module of module ("en", or "en:en" with a
// language), of type typ ("number", "currency", ...), method ("pronounced",
// "iterated", ...) and gender, as switch_ivr_say does; the input callback
// (with "pause" and the like ending it) is in control.
func (s *Session) Say(text, module, typ, method, gender string) {
	if !s.sane() {
		return
	}
	if module == "" || typ == "" || method == "" {
		s.log.Error("Error! invalid args.")
		return
	}
	s.allowThreads()
	s.say(text, module, typ, method, gender)
	s.allowThreads()
}

func (s *Session) say(text, module, typ, method, gender string) bool {
	mod, lang, hasLang := strings.Cut(module, ":")
	if !hasLang || lang == "" {
		lang = mod
	}
	t, ok := say.ParseType(typ)
	if !ok {
		s.log.Error(fmt.Sprintf("say: unknown say type %q", typ))
		return false
	}
	m, _ := say.ParseMethod(method)
	g, _ := say.ParseGender(gender)
	a := say.Args{Type: t, Method: m, Gender: g}
	prefix := ""
	if l, ok := s.sess.(apps.Languages); ok {
		if found, err := say.FindLanguage(l.ConfigRoot(), lang); err == nil {
			mod, prefix = found.SayModule, found.SoundPrefix
		}
	}
	sm, ok := say.Lookup(mod)
	if !ok {
		s.log.Error(fmt.Sprintf("say: no say module %q", mod))
		return false
	}
	a.Timezone, _ = s.sess.Vars().Get("timezone")
	files, err := sm.Files(text, a)
	if err != nil {
		s.log.Error(fmt.Sprintf("say: %v", err))
		return false
	}
	restore := s.withSoundPrefix(prefix)
	defer restore()
	ctx, cancel := s.callCtx()
	defer cancel()
	return s.playLoop(ctx, say.FileString(files, "wav"), nil)
}

// withSoundPrefix sets sound_prefix while a language speaks, unless
// sound_prefix_enforced is true; it returns the function that restores it.
func (s *Session) withSoundPrefix(prefix string) func() {
	if prefix == "" {
		return func() {}
	}
	if e, _ := s.GetVariable("sound_prefix_enforced"); caller.True(e) {
		return func() {}
	}
	v := s.sess.Vars()
	old, had := v.Get("sound_prefix")
	v.Set("sound_prefix", prefix)
	return func() {
		if had {
			v.Set("sound_prefix", old)
		} else {
			v.Unset("sound_prefix")
		}
	}
}

// SayPhrase runs the phrase macro name with data in language lang (empty:
// the channel's language), as the phrase application does. The input
// callback is not consulted while a phrase plays; digits act as
// playback_terminators say.
func (s *Session) SayPhrase(name, data, lang string) {
	if !s.sane() {
		return
	}
	if name == "" {
		s.log.Error("Error! invalid args.")
		return
	}
	s.allowThreads()
	s.phrase(name, data, lang)
	s.allowThreads()
}

func (s *Session) phrase(name, data, lang string) bool {
	v := s.sess.Vars()
	if lang != "" {
		old, had := v.Get("language")
		v.Set("language", lang)
		defer func() {
			if had {
				v.Set("language", old)
			} else {
				v.Unset("language")
			}
		}()
	}
	ctx, cancel := s.callCtx()
	defer cancel()
	arg := name
	if data != "" {
		arg += "," + data
	}
	s.runApp(ctx, "phrase", arg)
	r, _ := v.Get("current_application_response")
	return r == "PHRASE PLAYED"
}

// Speak speaks text with the engine and voice SetTTSParams set: 1 when it
// was spoken, 0 when not. Without an engine or a voice it logs an error
// and returns 1, FreeSWITCH's SWITCH_STATUS_FALSE.
func (s *Session) Speak(text string) int {
	if !s.sane() {
		return -1
	}
	if s.ttsEngine == "" {
		s.log.Error("No TTS engine specified")
		return 1
	}
	if s.ttsVoice == "" {
		s.log.Error("No TTS voice specified")
		return 1
	}
	s.allowThreads()
	ok := s.speak(s.ttsEngine, s.ttsVoice, text)
	s.allowThreads()
	return status(ok)
}

func (s *Session) speak(engine, voice, text string) bool {
	e, ok := tts.Lookup(engine)
	if !ok {
		s.log.Error(fmt.Sprintf("speak: no text-to-speech engine %q (there are: %s)", engine, strings.Join(tts.Engines(), ", ")))
		return false
	}
	star, ok := s.GetVariable("star_replace")
	if !ok {
		star = "star"
	}
	pound, ok := s.GetVariable("pound_replace")
	if !ok {
		pound = "pound"
	}
	text = strings.NewReplacer("*", star, "#", pound).Replace(text)
	ctx, cancel := s.callCtx()
	defer cancel()
	if _, err := s.sess.Media(); err != nil {
		return false
	}
	dir, _ := s.GetVariable("temp_dir")
	f, err := os.CreateTemp(dir, "switchboard-tts-*.wav")
	if err != nil {
		s.log.Error(fmt.Sprintf("speak: %v", err))
		return false
	}
	path := f.Name()
	f.Close()
	defer os.Remove(path)
	if err := e.Synthesize(ctx, voice, text, path); err != nil {
		if ctx.Err() == nil {
			s.log.Error(fmt.Sprintf("speak: %v", err))
		}
		return false
	}
	return s.playLoop(ctx, path, nil)
}

// InsertFile inserts insertFile into file at sample point (at 8000 Hz),
// rewriting file as an 8 kHz 16-bit WAV: 1 on success, 0 on failure.
func (s *Session) InsertFile(file, insertFile string, sample int) int {
	if !s.sane() {
		return -1
	}
	if err := insertInto(file, insertFile, int64(max(sample, 0))); err != nil {
		s.log.Error(fmt.Sprintf("insertFile: %v", err))
		return 0
	}
	return 1
}

func insertInto(file, insert string, at int64) error {
	open := func(name string) (media.Source, error) {
		return media.OpenSource(name, media.SourceOptions{Rate: rate})
	}
	orig, err := open(file)
	if err != nil {
		return err
	}
	defer orig.Close()
	ins, err := open(insert)
	if err != nil {
		return err
	}
	defer ins.Close()
	tmp := file + ".insert.tmp"
	w, err := media.CreateWAV(tmp, rate, 1, false)
	if err != nil {
		return err
	}
	copyN := func(src media.Source, n int64) error {
		buf := make([]int16, 1024)
		for n != 0 {
			want := len(buf)
			if n > 0 && n < int64(want) {
				want = int(n)
			}
			got, err := src.Read(buf[:want])
			if got > 0 {
				if werr := w.Write(buf[:got]); werr != nil {
					return werr
				}
				if n > 0 {
					n -= int64(got)
				}
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if got == 0 {
				return io.ErrNoProgress
			}
		}
		return nil
	}
	err = copyN(orig, at)
	if err == nil {
		err = copyN(ins, -1)
	}
	if err == nil {
		err = copyN(orig, -1)
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, file)
}

// cutFold is strings.CutPrefix ignoring case.
func cutFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return "", false
}
