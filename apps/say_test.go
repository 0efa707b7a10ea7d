package apps

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/beevik/etree"

	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/tts"
)

// langSession is a fake call whose configuration has a languages
// section (apps.Languages).
type langSession struct {
	*fakeSession
	root *etree.Element
}

func (l *langSession) ConfigRoot() *etree.Element { return l.root }

// testLanguages is the languages section the prompt tests use.
const testLanguages = `<document type="freeswitch/xml">
  <section name="languages">
    <language name="en" say-module="en" sound-prefix="/snd/en" tts-engine="apps-test" tts-voice="v0">
      <phrases>
        <macros>
          <macro name="msgcount">
            <input pattern="^(\d+)$" break_on_match="true">
              <match>
                <action function="play-file" data="voicemail/vm-you_have.wav"/>
                <action function="say" data="$1" method="pronounced" type="items"/>
                <action function="play-file" data="voicemail/vm-messages.wav"/>
              </match>
              <nomatch>
                <action function="play-file" data="ivr/ivr-that_was_an_invalid_entry.wav"/>
              </nomatch>
            </input>
          </macro>
          <macro name="speaker">
            <input pattern="^\d+$">
              <nomatch><action function="play-file" data="ivr/ivr-that_was_an_invalid_entry.wav"/></nomatch>
            </input>
            <input pattern="(.*)">
              <match><action function="speak-text" data="got $1 ${who}" tts-voice="v1"/></match>
            </input>
          </macro>
          <macro name="nested" pause="0">
            <input pattern="(.*)">
              <match>
                <action function="phrase" phrase="digit" data="$1"/>
                <action function="execute" data="set(ran=$1 ${who})"/>
                <action function="break"/>
                <action function="play-file" data="never.wav"/>
              </match>
            </input>
            <input><match><action function="play-file" data="never-either.wav"/></match></input>
          </macro>
          <macro name="digit" pause="0">
            <input pattern="^(\d)$"><match><action function="say" data="$1" method="iterated" type="number"/></match></input>
          </macro>
          <macro name="field" pause="0">
            <input field="${who}" pattern="^bob$">
              <match><action function="play-file" data="bob.wav"/></match>
              <nomatch><action function="play-file" data="stranger.wav"/></nomatch>
            </input>
          </macro>
          <macro name="loop" pause="0">
            <input><match><action function="phrase" phrase="loop"/></match></input>
          </macro>
          <macro name="oddities" pause="0">
            <input>
              <match>
                <action function="sleep" data="100"/>
                <action function="execute" data="no_such_app_x(1)"/>
                <action function="play-file" data="after.wav"/>
              </match>
            </input>
          </macro>
          <macro name="twice" pause="0">
            <input><match><action function="play-file" data="a.wav"/><action function="play-file" data="b.wav"/></match></input>
          </macro>
        </macros>
        <macros name="vm" sound-prefix="/snd/vm" sound-prefix-enforced="true">
          <macro name="hello" pause="0">
            <input><match><action function="play-file" data="hello.wav"/><action function="phrase" phrase="digit" data="4"/></match></input>
          </macro>
        </macros>
      </phrases>
    </language>
    <language name="english" say-module="en" sound-prefix="/snd/english">
      <phrases><macros>
        <macro name="tts"><input><match><action function="speak-text" data="hi"/></match></input></macro>
      </macros></phrases>
    </language>
  </section>
</document>`

// fakeTTS is a text-to-speech engine that writes a small file and
// records what it was asked.
type fakeTTS struct {
	mu    sync.Mutex
	calls []string // "voice:text"
	err   error
}

func (f *fakeTTS) Synthesize(_ context.Context, voice, text, path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, voice+":"+text)
	if f.err != nil {
		return f.err
	}
	return os.WriteFile(path, []byte("RIFF fake speech"), 0o600)
}

func (f *fakeTTS) reset() {
	f.mu.Lock()
	f.calls, f.err = nil, nil
	f.mu.Unlock()
}

// testTTS is registered as engine "apps-test".
var testTTS = &fakeTTS{}

func init() { tts.Register("apps-test", testTTS) }

func newLangSession(t *testing.T, withConfig bool, kv ...string) *langSession {
	t.Helper()
	l := &langSession{fakeSession: newSession(kv...)}
	if withConfig {
		doc := etree.NewDocument()
		if err := doc.ReadFromString(testLanguages); err != nil {
			t.Fatal(err)
		}
		l.root = doc.Root()
	}
	return l
}

// promptCase is one run of say, phrase or speak on a fake call.
type promptCase struct {
	name       string
	data       string
	vars       []string       // channel variables before
	noConfig   bool           // the call has no languages section
	script     map[int]string // digits arriving during the first play, by frame
	missing    []string
	wantPlays  []string
	wantPrefix []string // sound_prefix during each play ("-" for unset)
	wantVars   map[string]string
	wantErr    string // part of the error; "" for none
	wantTTS    []string
}

func runPromptCase(t *testing.T, app string, tc promptCase) *langSession {
	t.Helper()
	testTTS.reset()
	s := newLangSession(t, !tc.noConfig, tc.vars...)
	for k, v := range tc.script {
		s.media.script[k] = v
	}
	for _, m := range tc.missing {
		s.media.missing[m] = true
	}
	var prefixes []string
	seen := 0
	s.media.onFrame = func(int) {
		for seen < len(s.media.plays) {
			p, ok := s.Vars().Get("sound_prefix")
			if !ok {
				p = "-"
			}
			prefixes = append(prefixes, p)
			seen++
		}
	}
	err := run(t, s, app, tc.data)
	switch {
	case tc.wantErr == "" && err != nil:
		t.Fatalf("%s %s: %v", app, tc.data, err)
	case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
		t.Fatalf("%s %s: error %v, want %q", app, tc.data, err, tc.wantErr)
	}
	plays := slices.Clone(s.media.plays)
	for i, p := range plays {
		if strings.Contains(p, "switchboard-tts-") { // a temporary file of speech
			plays[i] = "TTS"
		}
	}
	if !slices.Equal(plays, tc.wantPlays) {
		t.Errorf("played\n %q\nwant\n %q", plays, tc.wantPlays)
	}
	if tc.wantPrefix != nil && !slices.Equal(prefixes, tc.wantPrefix) {
		t.Errorf("sound_prefix while playing %q, want %q", prefixes, tc.wantPrefix)
	}
	checkVars(t, s.fakeSession, tc.wantVars)
	if !slices.Equal(testTTS.calls, tc.wantTTS) {
		t.Errorf("TTS calls %q, want %q", testTTS.calls, tc.wantTTS)
	}
	return s
}

func TestSay(t *testing.T) {
	tests := []promptCase{
		{
			name: "iterated, no languages section", data: "en number iterated 123", noConfig: true,
			vars:       []string{"sound_prefix", "/chan"},
			wantPlays:  []string{"file_string://digits/1.wav!digits/2.wav!digits/3.wav"},
			wantPrefix: []string{"/chan"},
			wantVars:   map[string]string{"sound_prefix": "/chan", "playback_ms": "1000"},
		},
		{
			name: "pronounced under the language's sound prefix", data: "en number pronounced 21",
			wantPlays:  []string{"file_string://digits/20.wav!digits/1.wav"},
			wantPrefix: []string{"/snd/en"},
			wantVars:   map[string]string{"sound_prefix": ""},
		},
		{
			name: "the prefix is restored", data: "en:en currency pronounced $1.01", vars: []string{"sound_prefix", "/chan"},
			wantPlays:  []string{"file_string://digits/1.wav!currency/dollar.wav!currency/and.wav!digits/1.wav!currency/cent.wav"},
			wantPrefix: []string{"/snd/en"},
			wantVars:   map[string]string{"sound_prefix": "/chan"},
		},
		{
			name: "sound_prefix_enforced keeps the channel's", data: "en number pronounced 7",
			vars:       []string{"sound_prefix", "/chan", "sound_prefix_enforced", "true"},
			wantPlays:  []string{"file_string://digits/7.wav"},
			wantPrefix: []string{"/chan"},
		},
		{
			name: "a language's say module", data: "english items counted 3",
			wantPlays: []string{"file_string://digits/h-3.wav"}, wantPrefix: []string{"/snd/english"},
		},
		{
			name: "the language after the colon", data: "xx:english number pronounced 3",
			wantPlays: []string{"file_string://digits/3.wav"}, wantPrefix: []string{"/snd/english"},
		},
		{
			name: "five arguments: a gender", data: "en number pronounced FEMININE 1,000,000",
			wantPlays: []string{"file_string://digits/1.wav!digits/million.wav"},
		},
		{
			name: "quotes keep a text together", data: "en name_spelled pronounced 'a b'",
			wantPlays: []string{"file_string://ascii/97.wav!ascii/32.wav!ascii/98.wav"},
		},
		{
			name: "telephone number pauses", data: "en telephone_number iterated 1-2",
			wantPlays: []string{"file_string://digits/1.wav!silence_stream://100!digits/2.wav"},
		},
		{
			name: "the timezone variable", data: "en current_time pronounced 1709649000", vars: []string{"timezone", "3600"},
			wantPlays: []string{"file_string://digits/3.wav!digits/30.wav!time/p-m.wav"},
		},
		{
			name: "a bad timezone", data: "en current_time pronounced 1709649000", vars: []string{"timezone", "Mars/Olympus"},
			wantErr: "unknown time zone Mars/Olympus",
		},
		{
			name: "a terminator stops it", data: "en number iterated 42", script: map[int]string{3: "5*"},
			wantPlays: []string{"file_string://digits/4.wav!digits/2.wav"},
			wantVars:  map[string]string{"playback_terminator_used": "*", "playback_ms": "60"},
		},
		{
			name: "wrong number of arguments", data: "en number 1",
			wantErr: "3 arguments, want 4 or 5",
		},
		{
			name: "unknown type", data: "en numbers pronounced 1",
			wantErr: `unknown say type "numbers"`,
		},
		{
			name: "unknown module", data: "xx number pronounced 1", noConfig: true,
			wantErr: `no say module "xx"`,
		},
		{
			name: "not a number", data: "en number pronounced 12a",
			wantErr: "parse error",
		},
		{
			name: "a method numbers do not have", data: "en number sideways 12",
			wantErr: "cannot say a number",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runPromptCase(t, "say", tc) })
	}
}

func TestSayHangupAndNoSession(t *testing.T) {
	s := newLangSession(t, true)
	s.media.onFrame = func(f int) {
		if f == 2 {
			s.Hangup(cause.CNormalClearing)
		}
	}
	if err := run(t, s, "say", "en number pronounced 5"); err != nil {
		t.Errorf("hangup while saying: %v", err)
	}
	if err := run(t, newFake(), "say", "en number pronounced 5"); !errors.Is(err, ErrNoSession) {
		t.Errorf("without a call: %v", err)
	}
	for _, app := range []string{"phrase", "speak"} {
		if err := run(t, newFake(), app, "x"); !errors.Is(err, ErrNoSession) {
			t.Errorf("%s without a call: %v", app, err)
		}
	}
}

const pause = "silence_stream://100"

func TestPhrase(t *testing.T) {
	tests := []promptCase{
		{
			name: "match, say, break_on_match", data: "msgcount,12", vars: []string{"sound_prefix", "/chan"},
			wantPlays: []string{
				"voicemail/vm-you_have.wav", pause, "file_string://digits/12.wav", pause, "voicemail/vm-messages.wav", pause,
			},
			wantPrefix: []string{"/snd/en", "/snd/en", "/snd/en", "/snd/en", "/snd/en", "/snd/en"},
			wantVars:   map[string]string{"current_application_response": "PHRASE PLAYED", "sound_prefix": "/chan"},
		},
		{
			name: "break_on_match after a nomatch", data: "msgcount,many",
			wantPlays: []string{"ivr/ivr-that_was_an_invalid_entry.wav", pause},
			wantVars:  map[string]string{"current_application_response": "PHRASE PLAYED"},
		},
		{
			name: "nomatch, then the next input speaks", data: "speaker,many", vars: []string{"who", "ann"},
			wantPlays: []string{"ivr/ivr-that_was_an_invalid_entry.wav", pause, "TTS", pause},
			wantTTS:   []string{"v1:got many ann"},
			wantVars:  map[string]string{"current_application_response": "PHRASE PLAYED"},
		},
		{
			name: "a terminator stops the phrase", data: "msgcount,3", script: map[int]string{4: "#"},
			vars:      []string{"playback_terminators", "#"},
			wantPlays: []string{"voicemail/vm-you_have.wav", pause},
			wantVars:  map[string]string{"current_application_response": "PHRASE PLAYED", "playback_terminator_used": "#"},
		},
		{
			name: "a missing file stops it with an error", data: "msgcount,3", missing: []string{"voicemail/vm-you_have.wav"},
			wantPlays: []string{"voicemail/vm-you_have.wav", pause},
			wantVars:  map[string]string{"current_application_response": "UNKNOWN ERROR"},
			wantErr:   "does not exist",
		},
		{
			name: "nested phrase, execute, break", data: "nested,7", vars: []string{"who", "bob"},
			wantPlays: []string{"file_string://digits/7.wav"},
			wantVars:  map[string]string{"ran": "7 bob", "current_application_response": "PHRASE PLAYED"},
		},
		{
			name: "field", data: "field", vars: []string{"who", "bob"},
			wantPlays: []string{"bob.wav"},
		},
		{
			name: "field, nomatch", data: "field", vars: []string{"who", "eve"},
			wantPlays: []string{"stranger.wav"},
		},
		{
			name: "a group's enforced sound prefix", data: "hello@vm", vars: []string{"sound_prefix", "/chan"},
			wantPlays:  []string{"hello.wav", "file_string://digits/4.wav"},
			wantPrefix: []string{"/snd/vm", "/snd/vm"},
			wantVars:   map[string]string{"sound_prefix": "/chan", "sound_prefix_enforced": ""},
		},
		{
			name: "the channel's language, by its base", data: "twice", vars: []string{"language", "en-GB"},
			wantPlays: []string{"a.wav", "b.wav"},
		},
		{
			name: "default_language", data: "tts", vars: []string{"default_language", "english"},
			wantPlays: []string{pause},
			wantVars:  map[string]string{"current_application_response": "PHRASE PLAYED"},
		},
		{
			name: "unknown functions are ignored, unknown applications stop it", data: "oddities",
			wantVars: map[string]string{"current_application_response": "UNKNOWN ERROR"},
			wantErr:  `no application "no_such_app_x"`,
		},
		{
			name: "a macro that calls itself", data: "loop",
			wantVars: map[string]string{"current_application_response": "UNKNOWN ERROR"},
			wantErr:  "nested more than 16 deep",
		},
		{
			name: "no such macro", data: "nosuch,1",
			wantVars: map[string]string{"current_application_response": "UNKNOWN ERROR"},
			wantErr:  "no such macro",
		},
		{
			name: "no such language", data: "twice", vars: []string{"language", "fr"},
			wantVars: map[string]string{"current_application_response": "UNKNOWN ERROR"},
			wantErr:  "language fr",
		},
		{
			name: "no configuration", data: "twice", noConfig: true,
			wantVars: map[string]string{"current_application_response": "UNKNOWN ERROR"},
			wantErr:  "no configuration",
		},
		{
			name: "no data", data: "",
			wantVars: map[string]string{"current_application_response": "NOTHING"},
			wantErr:  "no macro name",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runPromptCase(t, "phrase", tc) })
	}
}

func TestSpeak(t *testing.T) {
	tests := []promptCase{
		{
			name: "engine, voice and text", data: "apps-test|v9|press * or #, bob",
			wantPlays: []string{"TTS"}, wantTTS: []string{"v9:press star or pound, bob"},
			wantVars: map[string]string{"playback_ms": "1000"},
		},
		{
			name: "voice and text, the engine from tts_engine", data: "v2| a, b", vars: []string{"tts_engine", "apps-test"},
			wantPlays: []string{"TTS"}, wantTTS: []string{"v2:a, b"},
		},
		{
			name: "text only", data: "hello, world", vars: []string{"tts_engine", "apps-test", "tts_voice", "v3", "star_replace", "asterisk"},
			wantPlays: []string{"TTS"}, wantTTS: []string{"v3:hello, world"},
		},
		{
			name: "star_replace and pound_replace", data: "apps-test|v|*#", vars: []string{"star_replace", "asterisk", "pound_replace", "hash"},
			wantPlays: []string{"TTS"}, wantTTS: []string{"v:asteriskhash"},
		},
		{
			name: "unknown engine", data: "cepstral|callie|hi",
			wantErr: `no text-to-speech engine "cepstral"`,
		},
		{
			name: "no text", data: "",
			wantErr: "no text",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runPromptCase(t, "speak", tc) })
	}
}

// The speech is rendered to a temporary file that exists while it plays
// and is removed afterwards.
func TestSpeakTemporaryFile(t *testing.T) {
	testTTS.reset()
	dir := t.TempDir()
	s := newLangSession(t, true, "temp_dir", dir)
	var during []byte
	s.media.onFrame = func(f int) {
		if f == 0 {
			during, _ = os.ReadFile(s.media.plays[len(s.media.plays)-1])
		}
	}
	if err := run(t, s, "speak", "apps-test|v|hello"); err != nil {
		t.Fatal(err)
	}
	if len(s.media.plays) != 1 || !strings.HasPrefix(s.media.plays[0], dir+string(os.PathSeparator)) || !strings.HasSuffix(s.media.plays[0], ".wav") {
		t.Fatalf("played %q, want a .wav in %s", s.media.plays, dir)
	}
	if string(during) != "RIFF fake speech" {
		t.Errorf("while playing the file holds %q", during)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestSpeakFailures(t *testing.T) {
	// No voice: FreeSWITCH hangs up.
	s := newLangSession(t, true, "tts_engine", "apps-test")
	err := run(t, s, "speak", "hello")
	if err == nil || !strings.Contains(err.Error(), "[apps-test][NULL][hello]") {
		t.Errorf("no voice: %v", err)
	}
	if !slices.Equal(s.hangups, []cause.Cause{cause.CDestinationOutOfOrder}) {
		t.Errorf("no voice: hangups %v", s.hangups)
	}

	// An engine that cannot run is an error, and the call goes on.
	testTTS.reset()
	testTTS.err = fmt.Errorf("tts apps-test: %w: not installed", tts.ErrUnavailable)
	s = newLangSession(t, true)
	err = run(t, s, "speak", "apps-test|v|hello")
	if !errors.Is(err, tts.ErrUnavailable) {
		t.Errorf("unavailable engine: %v", err)
	}
	if len(s.media.plays) != 0 || len(s.hangups) != 0 {
		t.Errorf("unavailable engine: played %q, hangups %v", s.media.plays, s.hangups)
	}

	// In a phrase, a failing speak-text stops the macro; TTS that is not
	// configured is only logged.
	s = newLangSession(t, true)
	if err := run(t, s, "phrase", "speaker,x"); !errors.Is(err, tts.ErrUnavailable) {
		t.Errorf("phrase with an unavailable engine: %v", err)
	}
	if v, _ := s.Vars().Get(varApplicationResponse); v != respUnknownError {
		t.Errorf("response %q", v)
	}
	testTTS.reset()
}
