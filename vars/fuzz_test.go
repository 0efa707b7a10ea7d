package vars

import (
	"slices"
	"strings"
	"testing"
)

func FuzzExpand(f *testing.F) {
	for _, s := range []string{
		"", "plain", "${a}", "$${a}", "${a:1:2}", "${arr[1]}", "${upper(${a})}", "${echo a(b)c}",
		`\${a}`, `\\${a}`, `it\'s`, "${a", "${{a}}", "${dbl}", "${api}", "${self}", "$$x ${a}",
		"${${ptr}}", "${c:-5}${n}", "${arr[${n}]}", "${upper(x", "${echo x)y",
	} {
		f.Add(s)
	}
	st := storeOf(f, map[string]string{
		"a":    "A-val",
		"b":    "${a}",
		"c":    "hello world",
		"n":    "1",
		"ptr":  "a",
		"arr":  "ARRAY::x|:y|:z",
		"self": "${self}",
		"dbl":  "${dbl}${dbl}",
		"api":  "${echo(${api}${api})}",
		"esc":  `\$x \'q\' \\ ${a}`,
	})
	f.Fuzz(func(t *testing.T, s string) {
		got := Expand(s, st, &fakeAPI{})
		if again := Expand(s, st, &fakeAPI{}); again != got {
			t.Fatalf("Expand(%q) not deterministic: %q then %q", s, short(got), short(again))
		}
		if !NeedsExpansion(s) && got != s {
			t.Fatalf("Expand(%q) = %q: a string without ${ or a decoded escape must come back unchanged", s, short(got))
		}
		if !strings.ContainsAny(s, `$\`) && got != s {
			t.Fatalf("Expand(%q) = %q: a string without $ or \\ must come back unchanged", s, short(got))
		}
		// With nothing defined and no API every output byte comes from a
		// distinct input byte.
		if empty := Expand(s, Chain{}, nil); len(empty) > len(s) {
			t.Fatalf("Expand(%q) with no variables grew to %q", s, short(empty))
		}
	})
}

func FuzzSeparate(f *testing.F) {
	for _, s := range []string{
		"", "a b c", "  a   b  ", "'a b' c", "a 'b c", `a\ b`, `x\ny\t`, "a,,b", "a,", "'a,b',c",
		"^^;a=1;b=2", "^^|a|b", "11 11 'tone_stream://%(10000,0,350,440)' digits 5000 #", `\`, `'\''`,
	} {
		f.Add(s, byte(' '), 0)
		f.Add(s, byte(','), 2)
	}
	f.Fuzz(func(t *testing.T, s string, delim byte, max int) {
		max %= 10
		all := Separate(s, delim, 0)
		got := Separate(s, delim, max)
		if max > 0 {
			// The split runs the same way until max items are started, so
			// the limited result is the unlimited one with its tail merged.
			if want := min(max, len(all)); len(got) != want {
				t.Fatalf("Separate(%q, %q, %d) has %d items, want %d (unlimited: %q)", s, delim, max, len(got), want, all)
			}
			if len(got) > 1 && !slices.Equal(got[:len(got)-1], all[:len(got)-1]) {
				t.Fatalf("Separate(%q, %q, %d) = %q is not a prefix of %q", s, delim, max, got, all)
			}
		} else if !slices.Equal(got, all) {
			t.Fatalf("Separate(%q, %q, %d) = %q differs from unlimited %q", s, delim, max, got, all)
		}
		if (s == "") != (len(all) == 0) {
			t.Fatalf("Separate(%q, %q, 0) = %q: only an empty string has no items", s, delim, all)
		}
		if strings.ContainsAny(s, `\'`) || strings.HasPrefix(s, "^^") {
			return
		}
		// Without quotes, escapes or ^^ the result is a plain split.
		if want := plainSplit(s, delim, max); !slices.Equal(got, want) {
			t.Fatalf("Separate(%q, %q, %d) = %q, plain split gives %q", s, delim, max, got, want)
		}
	})
}

// plainSplit is the tokeniser's behaviour on text without quotes, escapes
// or a ^^ prefix, written the simple way.
func plainSplit(s string, delim byte, max int) []string {
	if s == "" {
		return nil
	}
	trim := func(x string) string { return strings.Trim(x, " ") }
	var raw []string
	if delim == ' ' {
		fields := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' })
		if len(fields) == 0 {
			return []string{""}
		}
		if max > 0 && len(fields) > max {
			// The last item starts at the max-th field and runs to the end.
			rest := s
			for range max - 1 {
				rest = strings.TrimLeft(rest, " ")
				rest = rest[strings.IndexByte(rest, ' '):]
			}
			return append(fields[:max-1:max-1], trim(rest))
		}
		return fields
	}
	d := string([]byte{delim}) // not string(delim): bytes >= 0x80 are not runes
	raw = strings.Split(s, d)
	if max > 0 && len(raw) > max {
		raw = append(raw[:max-1:max-1], strings.Join(raw[max-1:], d))
	} else if s[len(s)-1] == delim {
		raw = raw[:len(raw)-1]
	}
	for i := range raw {
		raw[i] = trim(raw[i])
	}
	return raw
}
