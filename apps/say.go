package apps

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/say"
	"github.com/switchboard-voip/switchboard/tts"
	"github.com/switchboard-voip/switchboard/vars"
)

// The prompt family: say (numbers, money, dates... from recorded
// words), phrase (the macros of lang/<lang>/*.xml) and speak (text to
// speech). Their sounds play with playback's terminator handling.

func init() {
	for _, a := range []App{
		{Name: "say", Usage: sayUsage, Description: "Say a number, date or other value", Run: sayApp},
		{Name: "phrase", Usage: "<macro_name>,<data>", Description: "Speak a phrase macro", Run: phraseApp},
		{Name: "speak", Usage: "<engine>|<voice>|<text>", Description: "Speak text", Run: speakApp},
	} {
		Register(a)
	}
}

const sayUsage = "<module_name>[:<lang>] <say_type> <say_method> [<say_gender>] <text>"

// Languages is an optional interface of a Channel whose switch has a
// configuration: the say, phrase and speak applications find its
// languages section there (FreeSWITCH's lang/<lang>/*.xml: each
// language's say module, sound prefix, TTS defaults and phrase macros).
// The call session of a running switch implements it.
type Languages interface {
	// ConfigRoot returns the root element (<document>) of the
	// configuration the call was routed with, or nil when there is none.
	ConfigRoot() *etree.Element
}

// Values of current_application_response after phrase.
const (
	respPhrasePlayed = "PHRASE PLAYED"
	respNothing      = "NOTHING"
	respUnknownError = "UNKNOWN ERROR"
)

// maxPhraseDepth bounds phrase macros that call phrases (directly or
// through execute), which would otherwise recurse without end.
const maxPhraseDepth = 16

// phraseDepthKey is the context key of the current phrase nesting.
type phraseDepthKey struct{}

// sayApp is `say <module>[:<lang>] <type> <method> [<gender>] <text>`
// (switch_ivr_say): it says text with the say module of language lang
// (module when no lang is given), for example `say en number iterated
// 123` or `say en:en current_date_time pronounced ${strepoch()}`. The
// data is split at spaces into at most five arguments, the last taking
// the rest, so a text with spaces needs quotes or a gender.
//
// The language's <language> in the configuration gives the say module
// (say-module) and the sound prefix used while it speaks (unless
// sound_prefix_enforced is true). Types, methods and genders are
// FreeSWITCH's names in any case (number, items, persons, messages,
// currency, time_measurement, current_date, current_time,
// current_date_time, short_date_time, telephone_number, ip_address,
// name_spelled, name_phonetic; pronounced, iterated, counted,
// pronounced_year). The sounds play as one file_string:// with
// playback's terminators (playback_terminators; the one used is in
// playback_terminator_used) and the playback_* result variables.
// Dates and times are said in the zone of the timezone variable (see
// say.Args).
//
// Deviations: when the configuration has no such language, FreeSWITCH
// says nothing; we say it with the say module named <module> and the
// channel's sound_prefix. A value the module cannot say is an error and
// nothing is played, where FreeSWITCH may play the part it had built.
func sayApp(ctx context.Context, ch Channel, data string) error {
	s, err := sessionOf(ch, "say")
	if err != nil {
		return err
	}
	argv := vars.Separate(data, ' ', 5)
	if len(argv) != 4 && len(argv) != 5 {
		return &UsageError{App: "say", Usage: sayUsage, Reason: fmt.Sprintf("%d arguments, want 4 or 5", len(argv))}
	}
	module, lang, hasLang := strings.Cut(argv[0], ":")
	if module == "" {
		module = "en"
	}
	if !hasLang || lang == "" {
		lang = module
	}
	text, gender := argv[3], ""
	if len(argv) == 5 {
		gender, text = argv[3], argv[4]
	}
	a, err := sayArgs(argv[1], argv[2], gender)
	if err != nil {
		return &UsageError{App: "say", Usage: sayUsage, Reason: err.Error()}
	}
	s.Vars().Unset(varPlaybackTerminator)
	prefix := ""
	l, err := languageOf(s, lang)
	if err != nil {
		s.Log(slog.LevelDebug, fmt.Sprintf("say: %v; saying it with module %s and the channel's sound_prefix", err, module))
	} else {
		module, prefix = l.SayModule, l.SoundPrefix
	}
	restore := withSoundPrefix(s, prefix)
	defer restore()
	_, err = sayText(ctx, s, "say", module, a, text)
	return quiet(err)
}

// sayArgs parses a say type, method and gender. An unknown type is an
// error; an unknown method or gender is kept as invalid for the module
// to refuse where it matters, as FreeSWITCH does.
func sayArgs(typ, method, gender string) (say.Args, error) {
	t, ok := say.ParseType(typ)
	if !ok {
		return say.Args{}, fmt.Errorf("unknown say type %q", typ)
	}
	m, _ := say.ParseMethod(method)
	g, _ := say.ParseGender(gender)
	return say.Args{Type: t, Method: m, Gender: g}, nil
}

// sayText says text with the say module called module under the current
// sound prefix, and reports whether a terminator stopped it.
func sayText(ctx context.Context, s Session, app, module string, a say.Args, text string) (stopped bool, err error) {
	m, ok := say.Lookup(module)
	if !ok {
		return false, fmt.Errorf("%s: no say module %q (there are: %s)", app, module, strings.Join(say.Modules(), ", "))
	}
	// Like the say modules, only the channel's own variables count here.
	a.Timezone, _ = s.Vars().Get("timezone")
	files, err := m.Files(text, a)
	if err != nil {
		return false, fmt.Errorf("%s: %w", app, err)
	}
	return playStop(ctx, s, app, say.FileString(files, "wav"))
}

// playStop is playWatched that also reports whether a playback
// terminator stopped the media.
func playStop(ctx context.Context, s Session, app, uri string) (stopped bool, err error) {
	v := s.Vars()
	v.Unset(varPlaybackTerminator)
	err = playWatched(ctx, s, app, uri)
	t, _ := v.Get(varPlaybackTerminator)
	return err == nil && t != "", err
}

// languageOf finds language lang in the channel's configuration.
func languageOf(ch Channel, lang string) (*say.Language, error) {
	l, ok := ch.(Languages)
	if !ok {
		return nil, fmt.Errorf("language %s: %w: no configuration on this channel", lang, say.ErrNotFound)
	}
	return say.FindLanguage(l.ConfigRoot(), lang)
}

// withSoundPrefix sets the channel's sound_prefix to prefix and returns
// the function that restores it. It does nothing when prefix is empty or
// sound_prefix_enforced is true.
func withSoundPrefix(ch Channel, prefix string) func() {
	if prefix == "" {
		return func() {}
	}
	if e, _ := lookupVar(ch, "sound_prefix_enforced"); caller.True(e) {
		return func() {}
	}
	v := ch.Vars()
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

// lookupVar returns a channel variable, falling back as
// switch_channel_get_variable does to the caller profile and the global
// variables when the channel offers them (the call session does).
func lookupVar(ch Channel, name string) (string, bool) {
	if v, ok := ch.Vars().Get(name); ok {
		return v, true
	}
	if g, ok := ch.(interface{ Get(string) (string, bool) }); ok {
		return g.Get(name)
	}
	return "", false
}

// phraseApp is `phrase <macro_name>[,<data>]` (switch_ivr_phrase_macro):
// it runs the phrase macro <macro_name> of the channel's language (the
// language variable, else default_language, else "en"; "en-US" falls
// back to "en"), matching <data> against its inputs. A name written
// macro@group is looked for in the <macros name="group"> of the
// language's phrases.
//
// Each input's pattern (".*" when absent) is matched against its field
// attribute, or the data, ${}-expanded; its first <match> or <nomatch>
// runs, $1... in the actions' data replaced by the captures, each
// action's data then ${}-expanded. Action functions: play-file (a sound
// under the language's sound prefix), say (with the language's say
// module; type, method and gender attributes), phrase (another macro,
// its name in the phrase attribute, the data as its data), execute
// ("app(args)"), speak-text (with the tts-engine and tts-voice of the
// action or the language) and break (stop the macro); other functions
// do nothing. After each action the macro pauses for its pause
// attribute (100 ms). A playback terminator (playback_terminators)
// stops the whole phrase; break_on_match="true" stops after an input
// that ran its match or nomatch.
//
// current_application_response is "PHRASE PLAYED" when the macro ran to
// its end, a break or a terminator, "NOTHING" without data, and
// "UNKNOWN ERROR" when the language or macro is missing or an action
// failed (a missing file, an unknown application, a TTS failure), which
// stops the macro as in FreeSWITCH.
func phraseApp(ctx context.Context, ch Channel, data string) error {
	s, err := sessionOf(ch, "phrase")
	if err != nil {
		return err
	}
	v := s.Vars()
	if data == "" {
		v.Set(varApplicationResponse, respNothing)
		return &UsageError{App: "phrase", Usage: "<macro_name>,<data>", Reason: "no macro name"}
	}
	name, mdata, _ := strings.Cut(data, ",")
	lang, _ := lookupVar(s, "language")
	v.Unset(varPlaybackTerminator)
	err = runPhrase(ctx, s, name, mdata, lang)
	if err != nil {
		v.Set(varApplicationResponse, respUnknownError)
		return quiet(err)
	}
	v.Set(varApplicationResponse, respPhrasePlayed)
	return nil
}

// runPhrase runs macro name of language lang (empty: default_language,
// else "en") with data.
func runPhrase(ctx context.Context, s Session, name, data, lang string) error {
	if name == "" {
		return errors.New("phrase: no macro name")
	}
	if lang == "" {
		if lang, _ = lookupVar(s, "default_language"); lang == "" {
			lang = "en"
		}
	}
	l, err := languageOf(s, lang)
	if err != nil {
		return fmt.Errorf("phrase %s: %w", name, err)
	}
	depth, _ := ctx.Value(phraseDepthKey{}).(int)
	p := &phraser{s: s, lang: l, depth: depth}
	_, err = p.run(ctx, name, data)
	return err
}

// phraser runs the macros of one language on a call.
type phraser struct {
	s     Session
	lang  *say.Language
	depth int
}

// run runs macro name with data and reports whether a terminator
// stopped it.
func (p *phraser) run(ctx context.Context, name, data string) (stopped bool, err error) {
	if p.depth >= maxPhraseDepth {
		return false, fmt.Errorf("phrase %s: phrases nested more than %d deep", name, maxPhraseDepth)
	}
	p.depth++
	defer func() { p.depth-- }()
	ctx = context.WithValue(ctx, phraseDepthKey{}, p.depth)
	m, err := p.lang.Macro(name)
	if err != nil {
		return false, err
	}
	s := p.s
	enforced, _ := lookupVar(s, "sound_prefix_enforced")
	restore := withSoundPrefix(s, m.SoundPrefix) // nothing when enforced
	defer restore()
	if m.SoundPrefixEnforced && !caller.True(enforced) {
		s.Vars().Set("sound_prefix_enforced", "true")
		defer s.Vars().Unset("sound_prefix_enforced")
	}
	ctx, cancel := callContext(ctx, s)
	defer cancel()
	if _, err := mediaOf(ctx, s, "phrase"); err != nil {
		return false, err
	}
	ran := false
	for i := range m.Inputs {
		in := &m.Inputs[i]
		field := in.Field
		if field == "" {
			field = data
		}
		acts, chosen := in.Apply(s.Expand(field))
		ran = ran || chosen
		for _, a := range acts {
			stopped, done, err := p.action(ctx, a, s.Expand(a.Data))
			p.pause(ctx, m.Pause)
			if err != nil || stopped {
				return stopped, err
			}
			if done {
				return false, nil
			}
		}
		if chosen && in.BreakOnMatch {
			break
		}
	}
	if !ran {
		s.Log(slog.LevelWarn, fmt.Sprintf("phrase %s: %q did not match any patterns", name, data))
	}
	return false, nil
}

// action runs one action with its expanded data. stopped reports a
// playback terminator, done the break function.
func (p *phraser) action(ctx context.Context, a say.Action, data string) (stopped, done bool, err error) {
	s := p.s
	switch fn := strings.ToLower(a.Function); fn {
	case "play-file":
		stopped, err = playStop(ctx, s, "phrase", data)
	case "say":
		var args say.Args
		if args, err = sayArgs(a.Type, a.Method, a.Gender); err != nil {
			return false, false, fmt.Errorf("phrase: say: %w", err)
		}
		stopped, err = sayText(ctx, s, "phrase", p.lang.SayModule, args, data)
	case "phrase":
		stopped, err = p.run(ctx, a.Phrase, data)
	case "break":
		done = true
	case "execute":
		name, args := parenArgs(data)
		app, ok := Lookup(name)
		if !ok {
			return false, false, fmt.Errorf("phrase: execute: no application %q", name)
		}
		if e := app.Run(ctx, s, args); e != nil {
			s.Log(slog.LevelError, fmt.Sprintf("phrase: execute %s(%s): %v", name, args, e))
		}
	case "speak-text":
		engine, voice := a.TTSEngine, a.TTSVoice
		if engine == "" {
			engine = p.lang.TTSEngine
		}
		if voice == "" {
			voice = p.lang.TTSVoice
		}
		if engine == "" || voice == "" {
			s.Log(slog.LevelError, fmt.Sprintf("phrase: speak-text: TTS is not configured for language %s (tts-engine and tts-voice)", p.lang.Name))
			return false, false, nil
		}
		stopped, err = speakText(ctx, s, "phrase", engine, voice, data)
	default:
		s.Log(slog.LevelWarn, fmt.Sprintf("phrase: unknown action function %q ignored", a.Function))
	}
	return stopped, done, err
}

// pause sends ms of silence between actions; digits that arrive stay
// queued for the next action.
func (p *phraser) pause(ctx context.Context, ms int) {
	if ms <= 0 || ctx.Err() != nil || !p.s.Ready() {
		return
	}
	m, err := p.s.Media()
	if err != nil {
		return
	}
	_, _ = m.Play(ctx, "silence_stream://"+strconv.Itoa(ms), nil)
}

// parenArgs splits "app(args)" as switch_separate_paren_args does: the
// name before '(' (trailing spaces removed) and the text up to the ')'
// that balances it; without '(' the whole is the name.
func parenArgs(s string) (name, args string) {
	i := strings.IndexByte(s, '(')
	if i < 0 {
		return s, ""
	}
	name, rest := strings.TrimRight(s[:i], " "), s[i+1:]
	depth := 1
	for j := 0; j < len(rest); j++ {
		switch rest[j] {
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				return name, rest[:j]
			}
		}
	}
	return name, rest
}

// speakApp is `speak [[<engine>|]<voice>|]<text>`: it speaks text with a
// text-to-speech engine, the engine and voice defaulting to the
// tts_engine and tts_voice variables (switch_ivr_speak_text). The
// engines are those of package tts: "flite" runs the flite program
// (voices awb, kal, kal16, rms, slt). Each '*' in the text is spoken as
// ${star_replace} ("star") and each '#' as ${pound_replace} ("pound").
// The speech plays with playback's terminators and result variables.
//
// A missing engine, voice or text hangs the call up with
// DESTINATION_OUT_OF_ORDER, as FreeSWITCH does. An engine that cannot
// run (flite not installed) or an unknown voice is an error: nothing is
// played and the call goes on.
func speakApp(ctx context.Context, ch Channel, data string) error {
	const usage = "<engine>|<voice>|<text>"
	s, err := sessionOf(ch, "speak")
	if err != nil {
		return err
	}
	if data == "" {
		return &UsageError{App: "speak", Usage: usage, Reason: "no text"}
	}
	var engine, voice, text string
	switch parts := strings.SplitN(data, "|", 3); len(parts) {
	case 1:
		text = data
	case 2:
		voice, text = strings.TrimSpace(parts[0]), strings.TrimLeft(parts[1], " ")
	default:
		engine, voice, text = strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1]), strings.TrimLeft(parts[2], " ")
	}
	if engine == "" {
		engine, _ = lookupVar(s, "tts_engine")
	}
	if voice == "" {
		voice, _ = lookupVar(s, "tts_voice")
	}
	if engine == "" || voice == "" || text == "" {
		s.Hangup(cause.CDestinationOutOfOrder)
		return &UsageError{App: "speak", Usage: usage, Reason: fmt.Sprintf("invalid parameters [%s][%s][%s] (set tts_engine and tts_voice or name them)", orNULL(engine), orNULL(voice), orNULL(text))}
	}
	s.Vars().Unset(varPlaybackTerminator)
	_, err = speakText(ctx, s, "speak", engine, voice, text)
	return quiet(err)
}

func orNULL(s string) string {
	if s == "" {
		return "NULL"
	}
	return s
}

// speakText renders text with engine and voice into a temporary WAV
// file, plays it with playback's terminators and removes it.
func speakText(ctx context.Context, s Session, app, engine, voice, text string) (stopped bool, err error) {
	e, ok := tts.Lookup(engine)
	if !ok {
		return false, fmt.Errorf("%s: no text-to-speech engine %q (there are: %s)", app, engine, strings.Join(tts.Engines(), ", "))
	}
	star, ok := lookupVar(s, "star_replace")
	if !ok {
		star = "star"
	}
	pound, ok := lookupVar(s, "pound_replace")
	if !ok {
		pound = "pound"
	}
	text = strings.NewReplacer("*", star, "#", pound).Replace(text)

	cctx, cancel := callContext(ctx, s)
	defer cancel()
	if _, err := mediaOf(cctx, s, app); err != nil {
		return false, err
	}
	dir, _ := lookupVar(s, "temp_dir")
	f, err := os.CreateTemp(dir, "switchboard-tts-*.wav")
	if err != nil {
		return false, fmt.Errorf("%s: %w", app, err)
	}
	path := f.Name()
	f.Close()
	defer os.Remove(path)
	start := time.Now()
	if err := e.Synthesize(cctx, voice, text, path); err != nil {
		if cctx.Err() != nil {
			return false, errHungUp
		}
		return false, fmt.Errorf("%s: %w", app, err)
	}
	s.Log(slog.LevelDebug, fmt.Sprintf("%s: %s rendered %d characters in %v", app, engine, len(text), time.Since(start).Round(time.Millisecond)))
	return playStop(ctx, s, app, path)
}
