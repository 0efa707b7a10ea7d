package say

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

const languagesDoc = `<document type="freeswitch/xml">
  <section name="configuration"/>
  <section name="languages">
    <language name="en" say-module="en" sound-prefix="/snd/en" tts-engine="flite" tts-voice="slt">
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
            <input pattern="(.*)">
              <match><action function="speak-text" data="got $1" tts-voice="kal"/></match>
            </input>
          </macro>
          <macro name="literal" pause="0">
            <input pattern="^\d+$"><match><action function="play-file" data="$1 and ${x}"/></match></input>
          </macro>
          <macro name="fielded" pause="-3">
            <input field="${caller}" pattern="^(1\d+)$"><match><action function="break"/></match></input>
          </macro>
          <macro name="nomatch-only" pause="250">
            <input pattern="^a"><nomatch><action function="execute" data="sleep(10)"/></nomatch></input>
          </macro>
          <macro name="empty"/>
        </macros>
        <macros name="vm" sound-prefix="/snd/vm" sound-prefix-enforced="true">
          <macro name="hello"><input><match><action function="play-file" data="hello.wav"/></match></input></macro>
        </macros>
      </phrases>
    </language>
    <language name="de" module="de"><phrases/></language>
    <language name="fr"><phrases><macros><macro name="bad"><input pattern="(unclosed"/></macro></macros></phrases></language>
  </section>
</document>`

const legacyDoc = `<document>
  <section name="phrases">
    <macros>
      <language name="en" sound_path="/old/en">
        <macro name="hi"><input pattern="(.*)"><match><action function="play-file" data="$1.wav"/></match></input></macro>
      </language>
    </macros>
  </section>
</document>`

func parseDoc(t *testing.T, text string) *etree.Element {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromString(text); err != nil {
		t.Fatal(err)
	}
	return doc.Root()
}

func TestFindLanguage(t *testing.T) {
	root := parseDoc(t, languagesDoc)
	tests := []struct {
		name                     string
		wantName, module, prefix string
		engine, voice            string
		wantErr                  bool
	}{
		{name: "en", wantName: "en", module: "en", prefix: "/snd/en", engine: "flite", voice: "slt"},
		{name: "EN", wantName: "EN", module: "en", prefix: "/snd/en", engine: "flite", voice: "slt"},
		{name: "en-US", wantName: "en", module: "en", prefix: "/snd/en", engine: "flite", voice: "slt"},
		{name: "de", wantErr: true}, // no <macros>
		{name: "it", wantErr: true},
		{name: "it-IT", wantErr: true},
	}
	for _, tt := range tests {
		l, err := FindLanguage(root, tt.name)
		if tt.wantErr {
			if err == nil || !errors.Is(err, ErrNotFound) {
				t.Errorf("FindLanguage(%s) = %v, %v; want ErrNotFound", tt.name, l, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("FindLanguage(%s): %v", tt.name, err)
			continue
		}
		if l.Name != tt.wantName || l.SayModule != tt.module || l.SoundPrefix != tt.prefix || l.TTSEngine != tt.engine || l.TTSVoice != tt.voice {
			t.Errorf("FindLanguage(%s) = %+v", tt.name, l)
		}
	}
	if _, err := FindLanguage(nil, "en"); !errors.Is(err, ErrNotFound) {
		t.Errorf("no configuration: %v", err)
	}
	if _, err := FindLanguage(parseDoc(t, `<document><section name="dialplan"/></document>`), "en"); !errors.Is(err, ErrNotFound) {
		t.Errorf("no languages section: %v", err)
	}

	legacy, err := FindLanguage(parseDoc(t, legacyDoc), "en")
	if err != nil {
		t.Fatal(err)
	}
	if legacy.SoundPrefix != "/old/en" || legacy.SayModule != "en" {
		t.Errorf("legacy layout: %+v", legacy)
	}
	m, err := legacy.Macro("hi")
	if err != nil {
		t.Fatal(err)
	}
	if acts, ran := m.Inputs[0].Apply("x"); !ran || len(acts) != 1 || acts[0].Data != "x.wav" {
		t.Errorf("legacy macro: %v %v", acts, ran)
	}
	if _, err := legacy.Macro("hi@group"); !errors.Is(err, ErrNotFound) {
		t.Errorf("groups in the legacy layout: %v", err)
	}
}

func TestMacro(t *testing.T) {
	l, err := FindLanguage(parseDoc(t, languagesDoc), "en")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		pause    int
		prefix   string
		enforced bool
		inputs   int
		wantErr  string
	}{
		{name: "msgcount", pause: 100, prefix: "/snd/en", inputs: 2},
		{name: "MsgCount", pause: 100, prefix: "/snd/en", inputs: 2},
		{name: "literal", pause: 0, prefix: "/snd/en", inputs: 1},
		{name: "fielded", pause: 100, prefix: "/snd/en", inputs: 1},
		{name: "nomatch-only", pause: 250, prefix: "/snd/en", inputs: 1},
		{name: "hello@vm", pause: 100, prefix: "/snd/vm", enforced: true, inputs: 1},
		{name: "empty", wantErr: "no <input>"},
		{name: "hello", wantErr: "no such macro"},
		{name: "hello@nogroup", wantErr: "no macros group"},
	}
	for _, tt := range tests {
		m, err := l.Macro(tt.name)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrNotFound) {
				t.Errorf("Macro(%s) error %v, want %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Macro(%s): %v", tt.name, err)
			continue
		}
		if m.Pause != tt.pause || m.SoundPrefix != tt.prefix || m.SoundPrefixEnforced != tt.enforced || len(m.Inputs) != tt.inputs {
			t.Errorf("Macro(%s) = pause %d prefix %q enforced %v, %d inputs", tt.name, m.Pause, m.SoundPrefix, m.SoundPrefixEnforced, len(m.Inputs))
		}
	}
	fr, err := FindLanguage(parseDoc(t, languagesDoc), "fr")
	if err != nil {
		t.Fatal(err)
	}
	if fr.SayModule != "fr" {
		t.Errorf("a language without say-module uses its name: %q", fr.SayModule)
	}
	if _, err := fr.Macro("bad"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("a bad pattern: %v", err)
	}
}

func TestInputApply(t *testing.T) {
	l, err := FindLanguage(parseDoc(t, languagesDoc), "en")
	if err != nil {
		t.Fatal(err)
	}
	macro := func(name string) *Macro {
		m, err := l.Macro(name)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	msg, lit, fielded, nm := macro("msgcount"), macro("literal"), macro("fielded"), macro("nomatch-only")
	tests := []struct {
		name  string
		in    *Input
		field string
		want  []string // function:data
		ran   bool
	}{
		{"match with a capture", &msg.Inputs[0], "12", []string{"play-file:voicemail/vm-you_have.wav", "say:12", "play-file:voicemail/vm-messages.wav"}, true},
		{"nomatch", &msg.Inputs[0], "x", []string{"play-file:ivr/ivr-that_was_an_invalid_entry.wav"}, true},
		{"second input", &msg.Inputs[1], "x y", []string{"speak-text:got x y"}, true},
		{"no group: $1 is kept", &lit.Inputs[0], "42", []string{"play-file:$1 and ${x}"}, true},
		{"no nomatch element", &lit.Inputs[0], "x", nil, false},
		{"field", &fielded.Inputs[0], "1000", []string{"break:"}, true},
		{"nomatch only, matching", &nm.Inputs[0], "abc", nil, false},
		{"nomatch only", &nm.Inputs[0], "xyz", []string{"execute:sleep(10)"}, true},
	}
	for _, tt := range tests {
		acts, ran := tt.in.Apply(tt.field)
		var got []string
		for _, a := range acts {
			got = append(got, a.Function+":"+a.Data)
		}
		if !slices.Equal(got, tt.want) || ran != tt.ran {
			t.Errorf("%s: Apply(%q) = %q, %v; want %q, %v", tt.name, tt.field, got, ran, tt.want, tt.ran)
		}
	}
	if !msg.Inputs[0].BreakOnMatch || msg.Inputs[1].BreakOnMatch {
		t.Error("break_on_match not read")
	}
	if fielded.Inputs[0].Field != "${caller}" || msg.Inputs[0].Field != "" {
		t.Error("field not read")
	}
	a := msg.Inputs[0].Match[1]
	if a.Type != "items" || a.Method != "pronounced" {
		t.Errorf("say attributes: %+v", a)
	}
	if v := msg.Inputs[1].Match[0].TTSVoice; v != "kal" {
		t.Errorf("tts-voice = %q", v)
	}
	// Apply must not change the macro: the next call substitutes afresh.
	if msg.Inputs[0].Match[1].Data != "$1" {
		t.Errorf("Apply changed the macro: %q", msg.Inputs[0].Match[1].Data)
	}
}

func TestCheck(t *testing.T) {
	errs := Check(parseDoc(t, languagesDoc))
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	// "empty" has no input; fr's "bad" does not compile.
	if len(errs) != 2 || !strings.Contains(got[0], "language en: phrase empty") || !strings.Contains(got[1], "language fr: phrase bad") {
		t.Errorf("Check = %q", got)
	}
	if errs := Check(parseDoc(t, legacyDoc)); len(errs) != 0 {
		t.Errorf("Check(legacy) = %v", errs)
	}
}
