package vars

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestSeparateFreeSWITCHGolden replays testdata/fs_separate.json: inputs run
// through FreeSWITCH's own switch_separate_string (built from the mirrored
// source) and the items it produced. max 0 stands for "no limit" (the C
// harness used an array of 64).
func TestSeparateFreeSWITCHGolden(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "fs_separate.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		In    string   `json:"in"`
		Delim string   `json:"delim"`
		Max   int      `json:"max"`
		Out   []string `json:"out"`
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatalf("decode fs_separate.json: %v", err)
	}
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range cases {
		if len(c.Delim) != 1 {
			t.Fatalf("case %q: bad delimiter %q", c.In, c.Delim)
		}
		got := Separate(c.In, c.Delim[0], c.Max)
		if !slices.Equal(got, c.Out) {
			t.Errorf("Separate(%q, %q, %d) = %q, FreeSWITCH gives %q", c.In, c.Delim, c.Max, got, c.Out)
		}
	}
}

func TestSeparate(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		delim byte
		max   int
		want  []string
		fs    string // the FreeSWITCH behaviour the case pins down
	}{
		{"read example", "11 11 'tone_stream://%(10000,0,350,440)' digits 5000 #", ' ', 0,
			[]string{"11", "11", "tone_stream://%(10000,0,350,440)", "digits", "5000", "#"}, "spec §5: 6 arguments"},
		{"empty", "", ' ', 0, nil, "no items"},
		{"space runs", "  a   b  ", ' ', 0, []string{"a", "b"}, "runs of spaces collapse"},
		{"only spaces", "   ", ' ', 0, []string{""}, "one empty item"},
		{"quotes group", "'a b' c", ' ', 0, []string{"a b", "c"}, "quotes group and are removed"},
		{"quoted spaces kept", "' a '", ' ', 0, []string{" a "}, "spaces inside quotes stay"},
		{"empty quotes", "'' x", ' ', 0, []string{"", "x"}, "an empty quoted item"},
		{"unbalanced quote blank", "a 'b c", ' ', 0, []string{"a", "'b c"}, "blank mode: a lone quote runs to the end and stays"},
		{"escaped space kept", `a\ b c`, ' ', 0, []string{`a\ b`, "c"}, `\space protects but is not decoded`},
		{"decoded escapes", `x\ny\tz\sw\rv\qu`, ' ', 0, []string{"x\ny\tz w\rv\\qu"}, `\n \t \s \r decode; \q stays`},
		{"escaped quotes", `\'a\' \"b\"`, ' ', 0, []string{"'a'", `"b"`}, `\' and \" decode`},
		{"escaped backslash", `a\\ b`, ' ', 0, []string{`a\`, "b"}, `\\ is \ and does not protect the space`},
		{"max remainder", "1000 XML default extra words", ' ', 3, []string{"1000", "XML", "default extra words"}, "the last item keeps the rest"},
		{"max remainder spaces", "INFO Hello   world ", ' ', 2, []string{"INFO", "Hello   world"}, "inner spaces kept, trailing trimmed"},
		{"max remainder quotes", "a 'b c' 'd'", ' ', 2, []string{"a", "b c d"}, "quotes in the remainder are removed"},
		{"max not reached", "a b", ' ', 5, []string{"a", "b"}, "fewer items than max"},
		{"max one", "  a b  ", ' ', 1, []string{"a b"}, "one item: the whole string trimmed"},
		{"comma trim", "a, b ,c ", ',', 0, []string{"a", "b", "c"}, "items trimmed of spaces"},
		{"comma empty middle", "a,,b", ',', 0, []string{"a", "", "b"}, "empty items kept"},
		{"comma trailing", "a,", ',', 0, []string{"a"}, "a final delimiter adds nothing"},
		{"comma trailing space", "a, ", ',', 0, []string{"a", ""}, "but a final blank item is kept"},
		{"comma leading", ",a", ',', 0, []string{"", "a"}, "a leading empty item"},
		{"comma quoted", "k=v,k2='x,y'", ',', 0, []string{"k=v", "k2=x,y"}, "quotes protect the delimiter"},
		{"comma lone quote", "'a,b,c", ',', 0, []string{"'a", "b", "c"}, "a quote without a partner is text"},
		{"comma escaped", `a\,b,c`, ',', 0, []string{"a,b", "c"}, `\<delim> decodes`},
		{"pipe max", "a| 'b|c' |d", '|', 2, []string{"a", "b|c |d"}, "remainder unquoted"},
		{"caret delim", "^^;a=1;b=2", ' ', 0, []string{"a=1", "b=2"}, "^^<d> changes the delimiter"},
		{"caret delim over comma", "^^|a|b c| d", ',', 0, []string{"a", "b c", "d"}, "^^ overrides the caller's delimiter"},
		{"caret too short", "^^;", ' ', 0, []string{"^^;"}, "^^<d> needs a character after it"},
		{"delim n", `n\nn`, 'n', 0, []string{"", "n"}, `\<delim> wins over \n`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Separate(tc.in, tc.delim, tc.max)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Separate(%q, %q, %d) = %q, want %q (FreeSWITCH: %s)", tc.in, tc.delim, tc.max, got, tc.want, tc.fs)
			}
		})
	}
}

func TestSeparateTrailingBackslash(t *testing.T) {
	// FreeSWITCH reads past the end of the buffer here; we stop at the end.
	tests := []struct {
		in    string
		delim byte
		want  []string
	}{
		{`a b\`, ' ', []string{"a", `b\`}},
		{`a,b\`, ',', []string{"a", `b\`}},
		{`\`, ' ', []string{`\`}},
	}
	for _, tc := range tests {
		if got := Separate(tc.in, tc.delim, 0); !slices.Equal(got, tc.want) {
			t.Errorf("Separate(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSeparateAllocs(t *testing.T) {
	var got []string
	allocs := testing.AllocsPerRun(100, func() {
		got = Separate("1000 XML default", ' ', 3)
	})
	if len(got) != 3 {
		t.Fatalf("got %q", got)
	}
	// The span list and the result: plain items are substrings of the input.
	if allocs > 4 {
		t.Errorf("Separate allocates %v times", allocs)
	}
}

func BenchmarkSeparate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Separate("11 11 'tone_stream://%(10000,0,350,440)' digits 5000 #", ' ', 0)
	}
}
