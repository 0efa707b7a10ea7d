package vars

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeAPI is the API used by the tests: echo, upper and wrap; any other
// command fails. It records the calls it receives.
type fakeAPI struct{ calls []string }

func (f *fakeAPI) Execute(cmd, args string) (string, error) {
	f.calls = append(f.calls, cmd+"|"+args)
	switch cmd {
	case "echo":
		return args, nil
	case "upper":
		return strings.ToUpper(args), nil
	case "wrap":
		return "[" + args + "]", nil
	}
	return "", fmt.Errorf("api %q: %w", cmd, errors.New("no such command"))
}

func storeOf(t testing.TB, kv map[string]string) *Store {
	t.Helper()
	s := NewStore()
	for k, v := range kv {
		s.Set(k, v)
	}
	return s
}

// TestExpandFreeSWITCHGolden replays testdata/fs_expand.json: inputs run
// through FreeSWITCH's own switch_channel_expand_variables_check (built
// from the mirrored source with stub variable and API back ends matching
// the ones here) and the outputs it produced. Random inputs are mixed with
// hand-picked ones.
func TestExpandFreeSWITCHGolden(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "fs_expand.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Vars  map[string]string `json:"vars"`
		Cases [][2]string       `json:"cases"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatalf("decode fs_expand.json: %v", err)
	}
	if len(g.Cases) == 0 {
		t.Fatal("no cases")
	}
	st := storeOf(t, g.Vars)
	for _, c := range g.Cases {
		if got := Expand(c[0], st, &fakeAPI{}); got != c[1] {
			t.Errorf("Expand(%q) = %q, FreeSWITCH gives %q", c[0], got, c[1])
		}
	}
}

func TestExpand(t *testing.T) {
	st := storeOf(t, map[string]string{
		"a":                "A-val",
		"b":                "${a}",
		"ext":              "1234",
		"Domain":           "example.com",
		"arr":              "ARRAY::x|:y|:z",
		"long":             "abcdefghij",
		"ptr":              "a",
		"cmd":              "upper",
		"self":             "${self}",
		"escaped":          `\${a} and ${a}`,
		"with_api":         "${upper(${a})}",
		"dialed_extension": "1001",
	})
	globals := storeOf(t, map[string]string{"domain_name": "sb.local", "a": "global-a"})
	chain := Chain{st, nil, globals}

	tests := []struct {
		name, in, want string
		fs             string // the FreeSWITCH behaviour the case pins down
	}{
		{"plain", "hello", "hello", "no ${ and no escape: returned as is"},
		{"var", "${a}", "A-val", "${name} is the value"},
		{"unset", "[${nope}]", "[]", "an unset variable expands to nothing"},
		{"case", "${DOMAIN}", "example.com", "names are case-insensitive"},
		{"global", "$${a}", "A-val", "$${} at run time is ${}"},
		{"chain fallback", "${domain_name}", "sb.local", "channel, then globals"},
		{"chain order", "${a}", "A-val", "the channel variable shadows the global"},
		{"vanilla substring", "30${dialed_extension:2}", "3001", "vanilla 30${dialed_extension:2}"},
		{"offset", "${long:3}", "defghij", "positive offset skips"},
		{"negative offset", "${long:-3}", "hij", "negative offset counts from the end"},
		{"offset len", "${long:2:3}", "cde", "offset then length"},
		{"neg offset len", "${long:-4:2}", "gh", "length after a negative offset"},
		{"offset at end", "${long:10}", "", "offset == len gives the empty tail"},
		{"offset past end", "${long:11}", "", "offset > len gives empty"},
		{"neg offset too far", "${long:-11}", "abcdefghij", "|offset| > len is ignored"},
		{"zero len", "${long:2:0}", "cdefghij", "len 0 is ignored"},
		{"negative len", "${long:2:-1}", "cdefghij", "negative len is ignored"},
		{"empty offset", "${long::4}", "abcd", "atoi(\"\") is 0"},
		{"garbage offset", "${long:x}", "abcdefghij", "atoi(\"x\") is 0"},
		{"array elem", "${arr[1]}", "y", "array element"},
		{"array last", "${arr[2]}", "z", "array element"},
		{"array out of range", "[${arr[3]}]", "[]", "index past the end: NULL"},
		{"array negative", "${arr[-1]}", "ARRAY::x|:y|:z", "idx < 0 gives the serialised value"},
		{"array substring", "${arr[2]:0:1}", "z", "':' is split off before '['"},
		{"scalar index 0", "${a[0]}", "A-val", "deviation: a scalar is a one-element array"},
		{"scalar index 1", "[${a[1]}]", "[]", "past the end"},
		{"recursive value", "${b}", "A-val", "values are expanded when read"},
		{"nested name", "${${ptr}}", "A-val", "the name is expanded first"},
		{"computed index", "${arr[${ptr:9}1]}", "y", "the index can be expanded"},
		{"api paren", "${upper(hi)}", "HI", "${api(args)}"},
		{"api space", "${upper hi there}", "HI THERE", "${api args}"},
		{"api args expanded", "${upper(${a})}", "A-VAL", "arguments are expanded first"},
		{"api name expanded", "${${cmd}(x)}", "X", "the command name is expanded first"},
		{"api nested", "${wrap(${upper(${echo(${b})})})}", "[A-VAL]", "nesting with matched braces"},
		{"api output not expanded", "${echo(\\${a})}", "${a}", "the API's output is inserted verbatim"},
		{"api unknown", "[${nope(x)}]", "[]", "a failing API gives \"\""},
		{"api empty args", "[${echo()}]", "[]", "empty args"},
		{"api parens inside", "${echo(a(b)c)d}", "a(b)c", "parens nest; text after the closing ) is dropped"},
		{"api space form parens", "${echo a(b)c}", "a(b", "space form: a ) closing an inner ( ends the args"},
		{"api from value", "${with_api}", "A-VAL", "a value holding an API call runs it"},
		{"escaped dollar", `\${a}`, "${a}", `\$ is a literal $`},
		{"escaped double dollar", `\$${a}`, "${a}", `\$$ is a single $`},
		{"escaped backslash", `\\${a}`, `\A-val`, `\\ is \`},
		{"escaped quote", `it\'s ${a}`, "its A-val", `\' is dropped`},
		{"other backslash", `a\nb ${a}`, `a\nb A-val`, `other backslashes stay`},
		{"escape only without ${", `cost \$5`, `cost \$5`, "no ${ and no \\\\,\\n,\\s,\\t,\\': untouched"},
		{"escape with ${", `cost \$5 ${a}`, "cost $5 A-val", "the same escape is decoded once the string is processed"},
		{"escaped in value", "${escaped}", "${a} and A-val", "escapes in values are decoded"},
		{"double dollar text", "$$x ${a}", "$x A-val", "$$ not followed by { gives one $"},
		{"dollar at end", "${a}$", "A-val$", "a trailing $ stays"},
		{"after brace literal", `${a}\${a}`, `A-val\A-val`, "the character after } is copied without escape handling"},
		{"adjacent", "${a}${a}", "A-valA-val", "a $ right after } starts a reference"},
		{"unterminated", "x ${a", "x A-val", "an unterminated ${ runs to the end"},
		{"unterminated api", "${upper(x", "X", "unterminated with an open paren"},
		{"first brace", "${{a}}", "}", "a { as the first name character does not nest"},
		{"inner braces", "${a{b}c}", "", "braces nest inside the name"},
		{"empty name", "[${}]", "[]", "an empty name is unset"},
		{"leading space", "[${ a}]", "[]", "a leading space makes an API call with an empty name"},
		{"self reference", "${self}", "${self}", "recursion stops after 100 levels, leaving the text"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Expand(tc.in, chain, &fakeAPI{}); got != tc.want {
				t.Errorf("Expand(%q) = %q, want %q (FreeSWITCH: %s)", tc.in, got, tc.want, tc.fs)
			}
		})
	}
}

func TestExpandNilAPIAndLookup(t *testing.T) {
	st := storeOf(t, map[string]string{"a": "1"})
	if got := Expand("<${upper(x)}${a}>", st, nil); got != "<1>" {
		t.Errorf("nil api: got %q, want %q", got, "<1>")
	}
	if got := Expand("<${a}${echo x}>", nil, &fakeAPI{}); got != "<x>" {
		t.Errorf("nil lookup: got %q, want %q", got, "<x>")
	}
}

func TestExpandAPICalls(t *testing.T) {
	st := storeOf(t, map[string]string{"n": "2", "v": "${echo(inner)}"})
	api := &fakeAPI{}
	got := Expand("${wrap(${n} ${v})} ${nope}", st, api)
	if got != "[2 inner] " {
		t.Errorf("got %q", got)
	}
	want := []string{"echo|inner", "wrap|2 inner"}
	if fmt.Sprint(api.calls) != fmt.Sprint(want) {
		t.Errorf("API calls %q, want %q (inner first, ${nope} is a variable)", api.calls, want)
	}
}

// TestExpandDepthLimit checks the exact cut-off: FreeSWITCH expands up to
// recursion level 100 and returns the text of level 101 untouched.
func TestExpandDepthLimit(t *testing.T) {
	st := NewStore()
	for i := 0; i < 150; i++ {
		st.Set(fmt.Sprintf("v%d", i), fmt.Sprintf("${v%d}", i+1))
	}
	st.Set("v150", "end")
	// v_k's value is expanded at level k+1, so v100's value stays as text.
	if got, want := Expand("${v0}", st, nil), "${v101}"; got != want {
		t.Errorf("chain: got %q, want %q", got, want)
	}
	if got, want := Expand("${v60}", st, nil), "end"; got != want {
		t.Errorf("chain of 90: got %q, want %q", got, want)
	}
}

// TestExpandTerminates covers values that multiply on every level: in
// FreeSWITCH they take 2^100 steps; here the reference budget stops them
// and leaves the remaining references as text.
func TestExpandTerminates(t *testing.T) {
	st := storeOf(t, map[string]string{
		"dbl":  "${dbl}${dbl}",
		"tri":  "${tri}-${tri}-${tri}",
		"api":  "${echo(${api}${api})}",
		"name": "${${name}}",
	})
	tests := []struct {
		in     string
		pieces []string // what the output is made of
	}{
		{"${dbl}", []string{"${dbl}"}},
		{"${tri}", []string{"${tri}", "-"}},
		{"${api}", []string{"${api}", "${echo(", ")}"}},
	}
	for _, tc := range tests {
		got := Expand(tc.in, st, &fakeAPI{})
		if got == "" || len(got) > 64*maxRefs {
			t.Errorf("Expand(%q) gave %d bytes", tc.in, len(got))
		}
		rest := got
		for _, p := range tc.pieces {
			rest = strings.ReplaceAll(rest, p, "")
		}
		if rest != "" {
			t.Errorf("Expand(%q) left unexpected text %q", tc.in, short(rest))
		}
	}
	// The name grows on every level and never names a variable.
	if got := Expand("[${name}]", st, nil); got != "[]" {
		t.Errorf("self-naming variable: got %q, want %q", short(got), "[]")
	}
}

// short abbreviates s for error messages.
func short(s string) string {
	if len(s) > 80 {
		return fmt.Sprintf("%s...(%d bytes)", s[:80], len(s))
	}
	return s
}

func TestExpandNoDollarNoAlloc(t *testing.T) {
	st := storeOf(t, map[string]string{"a": "1"})
	for _, s := range []string{"", "plain text", "bridge sofia/gateway/x/1000", `a\b c`, "$ $x {a}", "100%"} {
		var got string
		allocs := testing.AllocsPerRun(100, func() { got = Expand(s, st, nil) })
		if got != s {
			t.Errorf("Expand(%q) = %q", s, got)
		}
		if allocs != 0 {
			t.Errorf("Expand(%q) allocates %v times", s, allocs)
		}
	}
}

func TestExpandOneVarAllocs(t *testing.T) {
	st := storeOf(t, map[string]string{"destination_number": "1000"})
	var got string
	allocs := testing.AllocsPerRun(100, func() {
		got = Expand("user/${destination_number}@default", st, nil)
	})
	if got != "user/1000@default" {
		t.Fatalf("got %q", got)
	}
	if allocs > 1 {
		t.Errorf("one variable costs %v allocations, want at most 1 (the result)", allocs)
	}
}

func TestNeedsExpand(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"", false},
		{"abc", false},
		{"$x", false},
		{"${x}", true},
		{"$$x", false},
		{"$${x}", true},
		{`$\{x}`, true}, // FreeSWITCH skips backslashes after $
		{`$a{x}`, false},
		{`\$x`, false},
		{`\\`, true},
		{`\n`, true},
		{`\s`, true},
		{`\t`, true},
		{`\'`, true},
		{`\r`, false},
		{`a\`, false},
		{`\x\n`, true},
	}
	for _, tc := range tests {
		if got := NeedsExpansion(tc.in); got != tc.want {
			t.Errorf("NeedsExpansion(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestAtoi(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0}, {"12", 12}, {"-3", -3}, {"+4", 4}, {" \t7x", 7}, {"x7", 0}, {"2:5", 2}, {"- 1", 0},
		{"99999999999999999999", 1<<31 - 1}, {"-99999999999999999999", -(1 << 31)},
	}
	for _, tc := range tests {
		if got := atoi(tc.in); got != tc.want {
			t.Errorf("atoi(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestArrayElem(t *testing.T) {
	tests := []struct {
		v    string
		idx  int
		want string
		ok   bool
	}{
		{"ARRAY::a|:b|:c", 0, "a", true},
		{"ARRAY::a|:b|:c", 2, "c", true},
		{"ARRAY::a|:b|:c", 3, "", false},
		{"ARRAY::a||:|:c", 1, "", true},
		{"ARRAY::a||:|:c", 0, "a|", true},
		{"plain", 0, "plain", true},
		{"plain", 1, "", false},
	}
	for _, tc := range tests {
		got, ok := arrayElem(tc.v, tc.idx)
		if got != tc.want || ok != tc.ok {
			t.Errorf("arrayElem(%q, %d) = %q, %v; want %q, %v", tc.v, tc.idx, got, ok, tc.want, tc.ok)
		}
	}
}

func BenchmarkExpand(b *testing.B) {
	st := NewStore()
	st.Set("destination_number", "1000")
	st.Set("domain_name", "example.com")
	st.Set("indirect", "${destination_number}")
	benches := []struct{ name, in string }{
		{"no-dollar", "bridge sofia/internal/1000@example.com"},
		{"one-var", "user/${destination_number}@default"},
		{"recursive-value", "${indirect}"},
		{"substring", "30${destination_number:2}"},
		{"nested-api", "${wrap(${upper(${domain_name})}/${destination_number})}"},
	}
	api := &benchAPI{}
	for _, bb := range benches {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Expand(bb.in, st, api)
			}
		})
	}
}

// benchAPI is fakeAPI without call recording.
type benchAPI struct{}

func (benchAPI) Execute(cmd, args string) (string, error) {
	switch cmd {
	case "upper":
		return strings.ToUpper(args), nil
	case "wrap":
		return "[" + args + "]", nil
	}
	return "", errors.New("no such command")
}
