package say_test

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/media"
	"github.com/switchboard-voip/switchboard/say"
)

// englishSounds returns every sound file the English module picks for a
// corpus that reaches all of its words.
func englishSounds(t *testing.T) []string {
	t.Helper()
	type input struct {
		text string
		typ  say.Type
		meth say.Method
	}
	var in []input
	for n := 0; n < 1000; n++ {
		for _, m := range []say.Method{say.Pronounced, say.Counted} {
			in = append(in, input{fmt.Sprint(n), say.Number, m})
		}
	}
	in = append(in,
		input{"1,001,000", say.Number, say.Pronounced},
		input{"-1.01", say.Currency, say.Pronounced},
		input{"2.02", say.Currency, say.Pronounced},
		input{"1:01:01", say.TimeMeasurement, say.Pronounced},
		input{"2:02:02", say.TimeMeasurement, say.Pronounced},
		input{"10.0.0.1", say.IPAddress, say.Pronounced},
		input{"abcdefghijklmnopqrstuvwxyz+-.@_ ", say.NameSpelled, say.Pronounced},
		input{"abcdefghijklmnopqrstuvwxyz", say.NamePhonetic, say.Pronounced},
		input{"+1 a", say.TelephoneNumber, say.Pronounced},
	)
	now := time.Date(2024, 12, 31, 12, 0, 0, 0, time.UTC)
	for d := 0; d < 366; d++ {
		at := fmt.Sprint(now.AddDate(0, 0, -d).Add(time.Duration(d) * 7 * time.Minute).Unix())
		for _, typ := range []say.Type{say.CurrentDateTime, say.ShortDateTime} {
			for _, m := range []say.Method{say.Pronounced, say.Iterated} {
				in = append(in, input{at, typ, m})
			}
		}
	}
	seen := map[string]bool{}
	for _, x := range in {
		files, err := say.English{}.Files(x.text, say.Args{Type: x.typ, Method: x.meth, Now: now, Local: time.UTC})
		if err != nil {
			t.Fatalf("%v %v %q: %v", x.typ, x.meth, x.text, err)
		}
		for _, f := range files {
			if !strings.Contains(f, "://") {
				seen[f] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for f := range seen {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// The default configuration ships every sound the English say module
// uses, found the way a call finds them: under sound_prefix, in the 8000
// rate directory, through the configuration's file system.
func TestDefaultConfigHasEnglishSounds(t *testing.T) {
	snap, err := conf.Load(conf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	prefix, ok := snap.Global("sound_prefix")
	if !ok || !strings.HasSuffix(prefix, "/sounds/en/us/callie") {
		t.Fatalf("sound_prefix = %q", prefix)
	}
	opts := media.SourceOptions{Rate: 8000, SoundPrefix: prefix, Open: func(name string) (fs.File, error) { return snap.Open(name) }}
	sounds := englishSounds(t)
	if len(sounds) < 145 { // 49 digits, 6 currency, 32 time, 32 ascii, 26 phonetic
		t.Fatalf("the corpus reaches only %d sounds", len(sounds))
	}
	for _, f := range sounds {
		src, err := media.OpenSource(f+".wav", opts)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		n, err := src.Read(make([]int16, 800))
		src.Close()
		if err != nil || n < 800 {
			t.Errorf("%s: %d samples, %v", f, n, err)
		}
	}

	// The English language and its phrase macros load, and every file
	// they play exists.
	l, err := say.FindLanguage(snap.Root(), "en")
	if err != nil {
		t.Fatal(err)
	}
	if l.SayModule != "en" || l.SoundPrefix != prefix || l.TTSEngine != "flite" {
		t.Errorf("language en = %+v", l)
	}
	if errs := say.Check(snap.Root()); len(errs) != 0 {
		t.Errorf("phrase macros: %v", errs)
	}
	for _, name := range []string{"msgcount", "saydate", "saytime", "timespec", "ip-addr", "money", "spell", "spell-phonetic", "queue_position", "invalid_entry", "digits"} {
		m, err := l.Macro(name)
		if err != nil {
			t.Errorf("macro %s: %v", name, err)
			continue
		}
		for _, in := range m.Inputs {
			for _, a := range append(in.Match, in.NoMatch...) {
				if a.Function != "play-file" {
					continue
				}
				src, err := media.OpenSource(a.Data, opts)
				if errors.Is(err, fs.ErrNotExist) {
					t.Errorf("macro %s plays %s: %v", name, a.Data, err)
					continue
				}
				if err != nil {
					t.Errorf("macro %s: %s: %v", name, a.Data, err)
					continue
				}
				src.Close()
			}
		}
	}
}
