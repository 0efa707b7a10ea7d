package say

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/beevik/etree"

	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/dialplan"
)

// Phrase macros: FreeSWITCH's lang/<lang>/*.xml, included into
//
//	<section name="languages">
//	  <language name="en" say-module="en" sound-prefix="..." tts-engine="flite" tts-voice="slt">
//	    <phrases>
//	      <macros>
//	        <macro name="msgcount" pause="100">
//	          <input pattern="^(\d+)$" break_on_match="true">
//	            <match>
//	              <action function="play-file" data="voicemail/vm-you_have.wav"/>
//	              <action function="say" data="$1" method="pronounced" type="items"/>
//	            </match>
//	            <nomatch>...</nomatch>
//	          </input>
//	        </macro>
//	      </macros>
//	      <macros name="group" sound-prefix="...">...</macros>
//	    </phrases>
//	  </language>
//	</section>
//
// or, in the older layout, <section name="phrases"><macros><language
// name="en">, the macros directly inside the language. This file finds
// languages and macros and decides which actions an input runs; package
// apps plays them.

// ErrNotFound is wrapped by the errors of FindLanguage and
// Language.Macro when the configuration lacks the language, the macro or
// a part of the layout.
var ErrNotFound = errors.New("not found")

// Language is one <language> of the configuration.
type Language struct {
	Name string
	// SayModule is the say module for this language: the say-module
	// attribute, else the deprecated module attribute, else Name.
	SayModule string
	// SoundPrefix replaces the channel's sound_prefix while the language
	// speaks (sound-prefix, sound-path or sound_path); empty leaves it.
	SoundPrefix string
	// TTSEngine and TTSVoice are the speak-text defaults (tts-engine,
	// tts-voice, or the same with underscores).
	TTSEngine, TTSVoice string

	el      *etree.Element
	phrases *etree.Element // nil in the older layout
	macros  *etree.Element // the first <macros>, or el in the older layout
}

// FindLanguage finds the language called name (ignoring case) in the
// configuration document whose root is root: in <section
// name="languages">, or in the older <section name="phrases"> when there
// is no languages section. A name with a region ("en-US") falls back to
// the part before the '-' when it is not found itself.
func FindLanguage(root *etree.Element, name string) (*Language, error) {
	l, err := findLanguage(root, name)
	if err != nil {
		if base, _, ok := strings.Cut(name, "-"); ok {
			if l, err2 := findLanguage(root, base); err2 == nil {
				return l, nil
			}
		}
		return nil, err
	}
	return l, nil
}

func findLanguage(root *etree.Element, name string) (*Language, error) {
	if root == nil {
		return nil, fmt.Errorf("language %s: no configuration: %w", name, ErrNotFound)
	}
	l := &Language{Name: name}
	if sec := child(root, "section", "languages"); sec != nil {
		l.el = child(sec, "language", name)
		if l.el == nil {
			return nil, fmt.Errorf("language %s: %w in the languages section", name, ErrNotFound)
		}
		if l.phrases = l.el.SelectElement("phrases"); l.phrases == nil {
			return nil, fmt.Errorf("language %s: no <phrases>: %w", name, ErrNotFound)
		}
		if l.macros = l.phrases.SelectElement("macros"); l.macros == nil {
			return nil, fmt.Errorf("language %s: no <macros> in <phrases>: %w", name, ErrNotFound)
		}
	} else {
		sec := child(root, "section", "phrases")
		if sec == nil {
			return nil, fmt.Errorf("language %s: the configuration has no languages section: %w", name, ErrNotFound)
		}
		macros := sec.SelectElement("macros")
		if macros == nil {
			return nil, fmt.Errorf("language %s: no <macros> in the phrases section: %w", name, ErrNotFound)
		}
		if l.el = child(macros, "language", name); l.el == nil {
			return nil, fmt.Errorf("language %s: %w in the phrases section", name, ErrNotFound)
		}
		l.macros = l.el
	}
	l.SayModule = firstAttr(l.el, "say-module", "module")
	if l.SayModule == "" {
		l.SayModule = name
	}
	l.SoundPrefix = firstAttr(l.el, "sound-prefix", "sound-path", "sound_path")
	l.TTSEngine = firstAttr(l.el, "tts-engine", "tts_engine")
	l.TTSVoice = firstAttr(l.el, "tts-voice", "tts_voice")
	return l, nil
}

// Macro is a compiled <macro>.
type Macro struct {
	Name string
	// Pause is how long to pause after each action, in milliseconds (the
	// pause attribute; 100 when absent or negative).
	Pause int
	// SoundPrefix is the sound prefix to speak with: the macro group's
	// sound-prefix when it has one, else the language's.
	SoundPrefix string
	// SoundPrefixEnforced is the group's sound-prefix-enforced: while the
	// macro runs, nested say and phrase calls keep its sound prefix.
	SoundPrefixEnforced bool
	Inputs              []Input
}

// Input is one <input> of a macro.
type Input struct {
	// Field is the text matched against Pattern, before ${} expansion;
	// empty means the data the macro was called with.
	Field string
	// Pattern is the expression as written (".*" when absent).
	Pattern string
	// BreakOnMatch stops the macro after this input when it ran a
	// <match> or <nomatch> (break_on_match).
	BreakOnMatch bool
	// Match and NoMatch are the actions of the first <match> and first
	// <nomatch>; HasMatch and HasNoMatch say whether the elements exist.
	Match, NoMatch       []Action
	HasMatch, HasNoMatch bool

	re *dialplan.Regex
}

// Action is one <action> of a match or nomatch.
type Action struct {
	// Function is play-file, say, execute, phrase, speak-text or break
	// (compared ignoring case); others do nothing.
	Function string
	// Data is the data attribute, with $N not yet replaced.
	Data string
	// Type, Method and Gender are the say function's attributes.
	Type, Method, Gender string
	// Phrase is the phrase function's macro name.
	Phrase string
	// TTSEngine and TTSVoice override the language's for speak-text.
	TTSEngine, TTSVoice string
	// Volume is play-file's volume attribute.
	Volume string
}

// Macro finds and compiles the macro called name. "name@group" looks in
// the <macros name="group"> of the language's phrases (the newer layout
// only); a plain name in its first <macros>.
func (l *Language) Macro(name string) (*Macro, error) {
	macros, local := l.macros, name
	m := &Macro{Pause: 100, SoundPrefix: l.SoundPrefix}
	if l.phrases != nil {
		if n, group, ok := strings.Cut(name, "@"); ok {
			local = n
			if macros = child(l.phrases, "macros", group); macros == nil {
				return nil, fmt.Errorf("phrase %s: language %s has no macros group %s: %w", name, l.Name, group, ErrNotFound)
			}
		}
		if p := firstAttr(macros, "sound-prefix", "sound-path", "sound_path"); p != "" {
			m.SoundPrefix = p
		}
		m.SoundPrefixEnforced = caller.True(macros.SelectAttrValue("sound-prefix-enforced", ""))
	}
	el := child(macros, "macro", local)
	if el == nil {
		return nil, fmt.Errorf("phrase %s: language %s has no such macro: %w", name, l.Name, ErrNotFound)
	}
	m.Name = local
	if p := el.SelectAttr("pause"); p != nil {
		if n := atoi(p.Value); n >= 0 {
			m.Pause = n
		}
	}
	return m, m.compile(el)
}

// compile reads the inputs of macro element el.
func (m *Macro) compile(el *etree.Element) error {
	inputs := el.SelectElements("input")
	if len(inputs) == 0 {
		return fmt.Errorf("phrase %s: no <input>: %w", m.Name, ErrNotFound)
	}
	for _, in := range inputs {
		x := Input{
			Field:        in.SelectAttrValue("field", ""),
			Pattern:      in.SelectAttrValue("pattern", ".*"),
			BreakOnMatch: caller.True(in.SelectAttrValue("break_on_match", "")),
		}
		re, err := dialplan.CompileRegex(x.Pattern)
		if err != nil {
			return fmt.Errorf("phrase %s: input pattern: %w", m.Name, err)
		}
		x.re = re
		if e := in.SelectElement("match"); e != nil {
			x.HasMatch, x.Match = true, actions(e)
		}
		if e := in.SelectElement("nomatch"); e != nil {
			x.HasNoMatch, x.NoMatch = true, actions(e)
		}
		m.Inputs = append(m.Inputs, x)
	}
	return nil
}

func actions(el *etree.Element) []Action {
	var out []Action
	for _, a := range el.SelectElements("action") {
		out = append(out, Action{
			Function:  a.SelectAttrValue("function", ""),
			Data:      a.SelectAttrValue("data", ""),
			Type:      a.SelectAttrValue("type", ""),
			Method:    a.SelectAttrValue("method", ""),
			Gender:    a.SelectAttrValue("gender", ""),
			Phrase:    a.SelectAttrValue("phrase", ""),
			TTSEngine: a.SelectAttrValue("tts-engine", ""),
			TTSVoice:  a.SelectAttrValue("tts-voice", ""),
			Volume:    a.SelectAttrValue("volume", ""),
		})
	}
	return out
}

// Apply matches field (already expanded) against the input's pattern
// and returns the actions of <match> or <nomatch>, and whether that
// element exists (ran reports it: it counts as a match for the "did not
// match any patterns" warning and for break_on_match). In the actions of
// a match, $1... in Data are replaced by the captures when the pattern
// has a group, as switch_perform_substitution does.
func (in *Input) Apply(field string) (acts []Action, ran bool) {
	caps := in.re.Submatches(field)
	if caps == nil {
		return in.NoMatch, in.HasNoMatch
	}
	if !in.HasMatch {
		return nil, false
	}
	if !strings.Contains(in.Pattern, "(") {
		return in.Match, true
	}
	acts = make([]Action, len(in.Match))
	for i, a := range in.Match {
		if strings.Contains(a.Data, "$") {
			a.Data = dialplan.Substitute(a.Data, caps, math.MaxInt32)
		}
		acts[i] = a
	}
	return acts, true
}

// Check compiles every macro of every language of the configuration
// document whose root is root and returns the problems found (patterns
// that do not compile, macros without inputs), so that a mistake can be
// reported when the configuration loads rather than when a call speaks.
func Check(root *etree.Element) []error {
	var errs []error
	var langs []*etree.Element
	if sec := child(root, "section", "languages"); sec != nil {
		langs = sec.SelectElements("language")
	} else if sec := child(root, "section", "phrases"); sec != nil {
		for _, m := range sec.SelectElements("macros") {
			langs = append(langs, m.SelectElements("language")...)
		}
	}
	for _, lang := range langs {
		name := lang.SelectAttrValue("name", "")
		var groups []*etree.Element
		if ph := lang.SelectElement("phrases"); ph != nil {
			groups = ph.SelectElements("macros")
		} else {
			groups = []*etree.Element{lang}
		}
		for _, g := range groups {
			for _, el := range g.SelectElements("macro") {
				m := &Macro{Name: el.SelectAttrValue("name", "")}
				if err := m.compile(el); err != nil {
					errs = append(errs, fmt.Errorf("language %s: %w", name, err))
				}
			}
		}
	}
	return errs
}

// child returns the first child of el with tag whose name attribute is
// name, ignoring case (switch_xml_find_child).
func child(el *etree.Element, tag, name string) *etree.Element {
	if el == nil {
		return nil
	}
	for _, c := range el.SelectElements(tag) {
		if strings.EqualFold(c.SelectAttrValue("name", ""), name) {
			return c
		}
	}
	return nil
}

// firstAttr returns the value of the first of names el has.
func firstAttr(el *etree.Element, names ...string) string {
	for _, n := range names {
		if a := el.SelectAttr(n); a != nil {
			return a.Value
		}
	}
	return ""
}
