package dialstring

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, that every error is a
// *SyntaxError pointing into the input, and that String round-trips
// whatever parses.
func FuzzParse(f *testing.F) {
	for _, tt := range parseTests {
		f.Add(tt.in)
	}
	for _, tt := range errorTests {
		if len(tt.in) < 200 {
			f.Add(tt.in)
		}
	}
	f.Add("[\x01a=1,b='x,y']x/[1,2]|^^;a;[b]c:_:<u=1> <v>")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			se, ok := err.(*SyntaxError)
			if !ok || se.Offset < 0 || se.Offset > len(s) {
				t.Fatalf("Parse(%q): %#v", s, err)
			}
			return
		}
		out := d.String()
		if strings.IndexByte(out, 0) >= 0 {
			t.Fatalf("Parse(%q).String() = %q has a NUL", s, out)
		}
		d2, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q: %v", s, out, err)
		}
		if !reflect.DeepEqual(d, d2) {
			t.Fatalf("Parse(%q).String() = %q reads back as\n%s\nwant\n%s", s, out, dump(d2), dump(d))
		}
	})
}
