package dialstring

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/switchboard-voip/switchboard/vars"
)

// vs builds Vars from name, value pairs.
func vs(kv ...string) Vars {
	var out Vars
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, Var{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

// leg builds a leg; kv are its variables as name, value pairs.
func leg(ep string, kv ...string) Leg { return Leg{Vars: vs(kv...), Endpoint: ep} }

// try builds a try.
func try(legs ...Leg) Try { return Try{Legs: legs} }

// group builds a group with the given variables.
func group(v Vars, tries ...Try) Group { return Group{Vars: v, Tries: tries} }

// one builds a dial string with one group.
func one(v Vars, tries ...Try) *DialString { return &DialString{Groups: []Group{group(v, tries...)}} }

// Each case is one rule, checked against FreeSWITCH's source (and, for all
// of these inputs, against FreeSWITCH's own functions: see
// testdata/freeswitch.txt).
var parseTests = []struct {
	name, in string
	want     *DialString
}{
	{"sofia endpoint", "sofia/internal/1000@1.2.3.4",
		one(nil, try(leg("sofia/internal/1000@1.2.3.4")))},
	{"error endpoint", "error/USER_BUSY",
		one(nil, try(leg("error/USER_BUSY")))},
	{"comma rings legs at once", "user/1000@dom,user/1001@dom",
		one(nil, try(leg("user/1000@dom"), leg("user/1001@dom")))},
	{"pipe is failover", "user/1000|error/USER_BUSY",
		one(nil, try(leg("user/1000")), try(leg("error/USER_BUSY")))},
	{"comma binds tighter than pipe", "a/1,b/2|c/3",
		one(nil, try(leg("a/1"), leg("b/2")), try(leg("c/3")))},
	{"enterprise groups", "a/1:_:b/2|c/3",
		&DialString{Groups: []Group{
			group(nil, try(leg("a/1"))),
			group(nil, try(leg("b/2")), try(leg("c/3"))),
		}}},
	{"global vars", "{a=1,b=2}x/1",
		one(vs("a", "1", "b", "2"), try(leg("x/1")))},
	{"global vars belong to the group, for every try", "{ignore_early_media=true}a/1|b/2",
		one(vs("ignore_early_media", "true"), try(leg("a/1")), try(leg("b/2")))},
	{"global and per-leg vars", "{originate_timeout=10}[leg_timeout=5]user/1000,[leg_timeout=9]user/1001",
		one(vs("originate_timeout", "10"), try(leg("user/1000", "leg_timeout", "5"), leg("user/1001", "leg_timeout", "9")))},
	{"several blocks merge", "{a=1}{b=2}[c=3][d=4]x/1",
		one(vs("a", "1", "b", "2"), try(leg("x/1", "c", "3", "d", "4")))},
	{"ultra-global vars", "<u=1>{g=1}a/1:_:{g=2}b/2",
		&DialString{Vars: vs("u", "1"), Groups: []Group{
			group(vs("g", "1"), try(leg("a/1"))),
			group(vs("g", "2"), try(leg("b/2"))),
		}}},
	{"ultra-global vars without enterprise", "<u=1>{g=1}x/1",
		&DialString{Vars: vs("u", "1"), Groups: []Group{group(vs("g", "1"), try(leg("x/1")))}}},
	{"a group's own <> vars", "a/1:_:<x=1>{y=2}b/2",
		&DialString{Groups: []Group{
			group(nil, try(leg("a/1"))),
			group(vs("x", "1", "y", "2"), try(leg("b/2"))),
		}}},
	{"quotes protect commas in {}", "{a=1,b='x,y'}x/1",
		one(vs("a", "1", "b", "x,y"), try(leg("x/1")))},
	{"{} is taken off before the pipe split", "{a=x|y,b=p,q}a/1|b/2",
		one(vs("a", "x|y", "b", "p"), try(leg("a/1")), try(leg("b/2")))},
	{"^^ changes the separator in {}", "{^^:sip_invite_domain=x:presence_id=1000@x}user/1000",
		one(vs("sip_invite_domain", "x", "presence_id", "1000@x"), try(leg("user/1000")))},
	{"vanilla dial-string before expansion",
		"{^^:sip_invite_domain=${dialed_domain}:presence_id=${dialed_user}@${dialed_domain}}${sofia_contact(*/${dialed_user}@${dialed_domain})}",
		one(vs("sip_invite_domain", "${dialed_domain}", "presence_id", "${dialed_user}@${dialed_domain}"),
			try(leg("${sofia_contact(*/${dialed_user}@${dialed_domain})}")))},
	{"vanilla dial-string after expansion",
		"{^^:sip_invite_domain=example.com:presence_id=1000@example.com}sofia/internal/1000@127.0.0.1:5070;fs_path=<sip:x>",
		one(vs("sip_invite_domain", "example.com", "presence_id", "1000@example.com"),
			try(leg("sofia/internal/1000@127.0.0.1:5070;fs_path=<sip:x>")))},
	{"two registrations", "sofia/internal/sip:1000@10.0.0.5:5060;fs_path=<sip:10.0.0.1;lr>,sofia/internal/sip:1000@10.0.0.6:5060",
		one(nil, try(leg("sofia/internal/sip:1000@10.0.0.5:5060;fs_path=<sip:10.0.0.1;lr>"), leg("sofia/internal/sip:1000@10.0.0.6:5060")))},
	{"^^ changes the separator in []", "[^^;a=x,y;b=2]x/1",
		one(nil, try(leg("x/1", "a", "x,y", "b", "2")))},
	{"^^ inside a [] value is just text", "[leg_timeout=60,absolute_codec_string=^^:PCMA:PCMU]sofia/gateway/gw1/123",
		one(nil, try(leg("sofia/gateway/gw1/123", "leg_timeout", "60", "absolute_codec_string", "^^:PCMA:PCMU")))},
	{"quotes do not protect commas in [] (the pipe split removed them)", "[a='x,y']x/1",
		one(nil, try(leg("x/1", "a", "x")))},
	{"backslash protects a comma in []", `[a=x\,y]x/1`,
		one(nil, try(leg("x/1", "a", "x,y")))},
	{"escaped quotes do protect commas in []", `[a=\'x,y\']x/1`,
		one(nil, try(leg("x/1", "a", "x,y")))},
	{"quotes protect a pipe in []", "[a='x|y']x/1",
		one(nil, try(leg("x/1", "a", "x|y")))},
	{"commas inside any [] of a try do not split legs", "sofia/internal/1000@[::1]:5060,x/[1,2],y/3",
		one(nil, try(leg("sofia/internal/1000@[::1]:5060"), leg("x/[1\x022]"), leg("y/3")))},
	{"spaces around separators are trimmed", "  { a = 1 , b = 2 } a/1 , [ c = 3 ] b/2 | c/3  :_:  d/4 ",
		&DialString{Groups: []Group{
			group(vs("a", "1", "b", "2"), try(leg("a/1"), leg("b/2", "c", "3")), try(leg("c/3"))),
			group(nil, try(leg("d/4"))),
		}}},
	{"a space ends the {} blocks", "{a=1} {b=2}x/1",
		one(vs("a", "1"), try(leg("{b=2}x/1")))},
	{"a space ends the [] blocks", "[a=1] [b]x/1",
		one(nil, try(leg("[b]x/1", "a", "1")))},
	{"{} on a later try is part of its endpoint", "a/1|{b=2}b/2",
		one(nil, try(leg("a/1")), try(leg("{b=2}b/2")))},
	{"{} on a later leg is part of its endpoint", "a/1,[c=3]{b=2}b/2",
		one(nil, try(leg("a/1"), leg("{b=2}b/2", "c", "3")))},
	{"empty legs are kept", "a/1,,b/2, ,c/3,",
		one(nil, try(leg("a/1"), leg(""), leg("b/2"), leg(""), leg("c/3")))},
	{"a leg of only variables", "[a=1],b/2",
		one(nil, try(leg("", "a", "1"), leg("b/2")))},
	{"empty tries are kept", "a/1||b/2| |c/3|",
		one(nil, try(leg("a/1")), try(), try(leg("b/2")), try(), try(leg("c/3")))},
	{"empty groups are kept", ":_:a/1:_:{x=1}:_:",
		&DialString{Groups: []Group{group(nil), group(nil, try(leg("a/1"))), group(vs("x", "1")), group(nil)}}},
	{"items without a value are ignored", "{a=,b,c=1,=d}x/1",
		one(vs("c", "1", "", "d"), try(leg("x/1")))},
	{"an empty value needs escaped quotes in {}", `{a='',b=\'\'}x/1`,
		one(vs("b", ""), try(leg("x/1")))},
	{"doc: quotes and later '='", "{a='x, y',b=c=d}x",
		one(vs("a", "x, y", "b", "c=d"), try(leg("x")))},
	{"doc: escapes are decoded once per split", `{a=x\sy,b=1\s,c=1\\s}x`,
		one(vs("a", "x y", "b", "1", "c", "1 "), try(leg("x")))},
	{"doc: items without a value", "{a=,b,c=''}x",
		one(nil, try(leg("x")))},
	{"a value keeps later '='", "{a=b=c}x/1",
		one(vs("a", "b=c"), try(leg("x/1")))},
	{"escapes are decoded twice in {}", `{a=x\sy,b=1\\s,c=\\\'q\\\'}x/1`,
		one(vs("a", "x y", "b", "1 ", "c", "'q'"), try(leg("x/1")))},
	{"nested braces in {} values", "{a=${b},c=${d(${e})},f={g}}x/1",
		one(vs("a", "${b}", "c", "${d(${e})}", "f", "{g}"), try(leg("x/1")))},
	{"repeated names are kept in order", "{a=1,a=2}[b=1,b=2]x/1",
		one(vs("a", "1", "a", "2"), try(leg("x/1", "b", "1", "b", "2")))},
	{"^^ at the start of the try list", "{a=1}^^;a/1;b/2",
		one(vs("a", "1"), try(leg("a/1")), try(leg("b/2")))},
	{"^^ at the start of a try's leg list", "a/1|^^;b/2;c/3",
		one(nil, try(leg("a/1")), try(leg("b/2"), leg("c/3")))},
	{"^^ with a space separator", "{^^ a=1  b='x y'}x/1",
		one(vs("a", "1", "b", "x y"), try(leg("x/1")))},
	{"quotes protect a pipe in an endpoint, not a comma", "loopback/app='echo:a,b|c'",
		one(nil, try(leg("loopback/app=echo:a"), leg("b|c")))},
	{"backslash protects a comma in an endpoint", `loopback/app=echo:a\,b`,
		one(nil, try(leg("loopback/app=echo:a,b")))},
	{"a lone quote is text", "[a=it's]x/1",
		one(nil, try(leg("x/1", "a", "it's")))},
	{"a < inside the string is text", "<u=1> <b>x/1",
		&DialString{Vars: vs("u", "1"), Groups: []Group{group(nil, try(leg("<b>x/1")))}}},
}

func TestParse(t *testing.T) {
	for _, tt := range parseTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(norm(got), norm(tt.want)) {
				t.Errorf("Parse(%q) =\n%s\nwant\n%s", tt.in, dump(got), dump(tt.want))
			}
		})
	}
}

// norm makes empty slices nil so that DeepEqual compares content.
func norm(d *DialString) *DialString {
	out := &DialString{Vars: normVars(d.Vars)}
	for _, g := range d.Groups {
		ng := Group{Vars: normVars(g.Vars)}
		for _, t := range g.Tries {
			nt := Try{Vars: normVars(t.Vars)}
			for _, l := range t.Legs {
				nt.Legs = append(nt.Legs, Leg{Vars: normVars(l.Vars), Endpoint: l.Endpoint})
			}
			ng.Tries = append(ng.Tries, nt)
		}
		out.Groups = append(out.Groups, ng)
	}
	return out
}

func normVars(v Vars) Vars {
	if len(v) == 0 {
		return nil
	}
	return v
}

var errorTests = []struct {
	name, in string
	off      int
	msg      string
}{
	{"empty", "", 0, "empty dial string"},
	{"only spaces", "   ", 0, "empty dial string"},
	{"no endpoint", "{a=1}", 5, "no endpoint"},
	{"only separators", "|,|", 3, "no endpoint"},
	{"only groups", ":_::_:", 6, "no endpoint"},
	{"unbalanced {", "{a=1", 0, `unbalanced '{'`},
	{"unbalanced <", " <a=1", 1, `unbalanced '<'`},
	{"unbalanced [", "x/1|[a=1", 4, `unbalanced '['`},
	{"unbalanced [ after a leg", "x/1,y/2|z/3,[a=1]q/1,[b=2", 21, `unbalanced '['`},
	{"pipe inside [] splits it", "[a=x|y]x/1", 0, `unbalanced '['`},
	{":_: splits even inside {}", "{a=':_:'}x/1", 0, `unbalanced '{'`},
	{"unbalanced { in a group", "a/1:_:{b", 6, `unbalanced '{'`},
	{"^^ without a separator", "{^^}x/1", 1, "^^ without a separator"},
	{"^^ without a separator in []", "x/1,[^^]y/2", 5, "^^ without a separator"},
	{"block after a block starting with two brackets", "{a=1}{{b=2}}x/1", 6, "must not start with"},
	{"'[' closed in another leg", "a/1|^^;x/[a;b]", 9, "closed in another leg"},
	{"NUL byte", "a/1\x00", 3, "NUL byte"},
	{"too many legs", strings.Repeat("x/1,", maxPeers) + "x/1", 4 * maxPeers, "more than 128 legs"},
	{"too many tries", strings.Repeat("x/1|", maxPeers) + "x/1", 4 * maxPeers, "more than 128 | tries"},
	{"too many groups", strings.Repeat("x/1:_:", maxPeers) + "x/1", 6 * maxPeers, "more than 128 :_: groups"},
	{"too many variables in a block", "{" + strings.Repeat("a=1,", maxVars) + "a=1}x/1", 1 + 4*maxVars, "more than 1024 variables"},
	{"too many variables in a list", "[" + strings.Repeat("a=1,", maxVars-1) + "a=1][a=2]x/1", 4*maxVars + 1, "more than 1024 variables"},
}

func TestParseErrors(t *testing.T) {
	for _, tt := range errorTests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(tt.in)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) = %v, %v; want a *SyntaxError", tt.in, d, err)
			}
			if se.Offset != tt.off || !strings.Contains(se.Msg, tt.msg) {
				t.Errorf("Parse(%q): %v; want offset %d and %q", tt.in, err, tt.off, tt.msg)
			}
			if !strings.HasPrefix(err.Error(), fmt.Sprintf("dialstring: offset %d: ", tt.off)) {
				t.Errorf("Error() = %q", err.Error())
			}
		})
	}
}

// String writes canonical syntax: ',' between variables, no spaces, and only
// the escapes needed.
var stringTests = []struct{ in, want string }{
	{"{originate_timeout=10}[leg_timeout=5]user/1000,[leg_timeout=9]user/1001", "{originate_timeout=10}[leg_timeout=5]user/1000,[leg_timeout=9]user/1001"},
	{"{^^:a=1:b=2}x/1", "{a=1,b=2}x/1"},
	{"  <u=1> { a = 1 } a/1 , b/2 | c/3 :_: d/4 ", "<u=1>{a=1}a/1,b/2|c/3:_:d/4"},
	{"{a='x, y'}x/1", `{a=x\, y}x/1`},
	{"[^^;a=x,y;b=2]x/1", `[a=x\,y,b=2]x/1`},
	{"loopback/app='echo:a|b'", `loopback/app=echo:a\|b`},
	{`loopback/app=echo:a\,b`, `loopback/app=echo:a\,b`},
	{`[a=C:\dir,b=2]x/1`, `[a=C:\dir,b=2]x/1`},
	{"{a=b:_c}x/1", "{a=b:''_c}x/1"},
	{"{a=b=c,d=${e}}x/1", "{a=b=c,d=${e}}x/1"},
	{`{a=\'\'}x/1`, `{a=\'\'}x/1`},
	{`{a=1\\s}x/1`, `{a=1\\s}x/1`},
	{"a/1|{b=2}b/2", "a/1|{b=2}b/2"},
	{"{a=1} {b=2}x/1", "{a=1}''{b=2}x/1"},
	{"[] [b]x/1", "[] [b]x/1"},
	{"a/1,,b/2,", "a/1,,b/2"},
	{"a/1||b/2||", "a/1||b/2||"},
	{"x/1:_:", "x/1:_:"},
	// A quote in a leg variable goes through four unescaping passes.
	{"[a=it's]x/1", "[^^;a=it" + strings.Repeat(`\`, 15) + "'s]x/1"},
}

func TestString(t *testing.T) {
	for _, tt := range stringTests {
		d, err := Parse(tt.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.in, err)
		}
		if got := d.String(); got != tt.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestStringBuilt renders values that need every kind of protection, and
// a Try.Vars, which Parse never sets.
func TestStringBuilt(t *testing.T) {
	hard := []string{"", " ", "x,y", "x|y", "it's", `a\`, `\n`, "^^;a", " lead", "trail ", "=", "a:_:b", "{", "}", "[", "]", "<", ">", "\x02", `\'`}
	for _, v := range hard {
		for _, d := range []*DialString{
			{Vars: vs("u"+v, v), Groups: []Group{group(vs("g", v), try(leg("x/1")))}},
			one(vs(v, "1"), try(leg("x/1", "l", v, v, "2"), leg("y/"+v))),
			{Groups: []Group{group(nil, try(leg("x/1"))), group(vs("g", v), try(leg("y/"+v, "l", v)))}},
		} {
			s := d.String()
			got, err := Parse(s)
			if err != nil {
				t.Errorf("value %q: Parse(%q): %v", v, s, err)
				continue
			}
			if !reflect.DeepEqual(norm(got), norm(d)) {
				t.Errorf("value %q: Parse(%q) =\n%s\nwant\n%s", v, s, dump(got), dump(d))
			}
		}
	}

	d := &DialString{Groups: []Group{{Tries: []Try{{Vars: vs("t", "1"), Legs: []Leg{leg("x/1", "l", "2"), leg("y/2")}}}}}}
	if got, want := d.String(), "[t=1,l=2]x/1,[t=1]y/2"; got != want {
		t.Errorf("Try.Vars: String() = %q, want %q", got, want)
	}
}

func TestRoundTrip(t *testing.T) {
	var ins []string
	for _, tt := range parseTests {
		ins = append(ins, tt.in)
	}
	for _, tt := range stringTests {
		ins = append(ins, tt.in)
	}
	for _, c := range readOracle(t) {
		ins = append(ins, c.in)
	}
	for _, in := range ins {
		d, err := Parse(in)
		if err != nil {
			continue
		}
		s := d.String()
		d2, err := Parse(s)
		if err != nil {
			t.Errorf("Parse(%q) -> %q: %v", in, s, err)
			continue
		}
		if !reflect.DeepEqual(d, d2) {
			t.Errorf("Parse(%q) -> %q reads back as\n%s\nwant\n%s", in, s, dump(d2), dump(d))
		}
	}
}

// dump writes d in the format of testdata/freeswitch.txt: the ultra-global
// vars first, then per group G, its vars, T per try, L per leg with its
// vars and its endpoint.
func dump(d *DialString) string {
	var b strings.Builder
	v := func(tag string, l Vars) {
		for _, x := range l {
			fmt.Fprintf(&b, "%s %q %q\n", tag, x.Name, x.Value)
		}
	}
	v("U", d.Vars)
	for _, g := range d.Groups {
		b.WriteString("G\n")
		v("GV", g.Vars)
		for _, t := range g.Tries {
			b.WriteString("T\n")
			v("TV", t.Vars)
			for _, l := range t.Legs {
				b.WriteString("L\n")
				v("LV", l.Vars)
				fmt.Fprintf(&b, "E %q\n", l.Endpoint)
			}
		}
	}
	return b.String()
}

type oracleCase struct {
	line int
	in   string
	want string // dump, or "error"
}

// readOracle reads testdata/freeswitch.txt: "in" lines with a quoted dial
// string, each followed by what FreeSWITCH's own code made of it.
func readOracle(t *testing.T) []oracleCase {
	t.Helper()
	f, err := os.Open("testdata/freeswitch.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []oracleCase
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "in "):
			in, err := strconv.Unquote(line[3:])
			if err != nil {
				t.Fatalf("freeswitch.txt:%d: %v", n, err)
			}
			cases = append(cases, oracleCase{line: n, in: in})
		case len(cases) == 0:
			t.Fatalf("freeswitch.txt:%d: result before the first input", n)
		default:
			cases[len(cases)-1].want += line + "\n"
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 100 {
		t.Fatalf("freeswitch.txt: only %d cases", len(cases))
	}
	return cases
}

// TestFreeSWITCH compares Parse with what FreeSWITCH's own splitting code
// (switch_separate_string, switch_find_end_paren and
// switch_event_create_brackets, driven the way switch_ivr_originate and
// switch_ivr_enterprise_originate drive them) made of each input. "error"
// means FreeSWITCH logged "Parse Error!".
func TestFreeSWITCH(t *testing.T) {
	for _, c := range readOracle(t) {
		d, err := Parse(c.in)
		if c.want == "error\n" {
			if err == nil {
				t.Errorf("freeswitch.txt:%d: Parse(%q) succeeded; FreeSWITCH fails it", c.line, c.in)
			}
			continue
		}
		if err != nil {
			t.Errorf("freeswitch.txt:%d: Parse(%q): %v", c.line, c.in, err)
			continue
		}
		if got := dump(d); got != c.want {
			t.Errorf("freeswitch.txt:%d: Parse(%q) =\n%swant\n%s", c.line, c.in, got, c.want)
		}
	}
}

func TestVarsGet(t *testing.T) {
	v := vs("a", "1", "b", "2", "a", "3", "e", "")
	for _, tt := range []struct {
		name, want string
		ok         bool
	}{{"a", "3", true}, {"b", "2", true}, {"e", "", true}, {"A", "", false}, {"x", "", false}} {
		if got, ok := v.Get(tt.name); got != tt.want || ok != tt.ok {
			t.Errorf("Get(%q) = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
	if _, ok := Vars(nil).Get("a"); ok {
		t.Error("nil Vars has a")
	}
}

func TestSplitEndpoint(t *testing.T) {
	for _, tt := range []struct{ in, tech, rest string }{
		{"sofia/internal/1000@x", "sofia", "internal/1000@x"},
		{"user/1000@dom", "user", "1000@dom"},
		{"error/USER_BUSY", "error", "USER_BUSY"},
		{"loopback/app=echo", "loopback", "app=echo"},
		{"{b=2}sofia/x", "{b=2}sofia", "x"},
		{"nothing", "nothing", ""},
		{"", "", ""},
	} {
		if tech, rest := SplitEndpoint(tt.in); tech != tt.tech || rest != tt.rest {
			t.Errorf("SplitEndpoint(%q) = %q, %q; want %q, %q", tt.in, tech, rest, tt.tech, tt.rest)
		}
	}
}

func TestEnterprise(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{{"a/1|b/2", false}, {"<a=1>x/1", false}, {"a/1:_:b/2", true}, {"a/1:_:", true}} {
		d, err := Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.Enterprise(); got != tt.want {
			t.Errorf("Parse(%q).Enterprise() = %v", tt.in, got)
		}
	}
}

// TestSeparateMatchesVars checks the splitter against vars.Separate, the
// project's other rendering of switch_separate_string.
func TestSeparateMatchesVars(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	const alphabet = `ab ,|;='\^nsx"`
	for i := 0; i < 20000; i++ {
		b := make([]byte, rng.Intn(16))
		for j := range b {
			b[j] = alphabet[rng.Intn(len(alphabet))]
		}
		s := string(b)
		if strings.HasSuffix(s, `\`) {
			continue // a final backslash: both keep it, see separate
		}
		for _, delim := range []byte{',', '|', ';', '=', ' '} {
			limit := 1 + rng.Intn(4)
			var got []string
			for _, it := range separate(newText(s), delim, limit) {
				got = append(got, string(it.b))
			}
			if want := vars.Separate(s, delim, limit); !reflect.DeepEqual(got, want) {
				t.Fatalf("separate(%q, %q, %d) = %q; vars.Separate gives %q", s, delim, limit, got, want)
			}
		}
	}
}

// TestPositions checks that errors found after unquoting point into the
// input.
func TestPositions(t *testing.T) {
	in := `{a='x'}y/1|'q'/2,[b=\'1\',c=2`
	_, err := Parse(in)
	var se *SyntaxError
	if !errors.As(err, &se) || in[se.Offset] != '[' {
		t.Fatalf("Parse(%q): %v; want the offset of the last '['", in, err)
	}
}
