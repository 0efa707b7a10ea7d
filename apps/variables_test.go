package apps

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-voip/switchboard/vars"
)

// step is one application run.
type step struct{ app, data string }

func TestVariableApps(t *testing.T) {
	tests := []struct {
		name        string
		vars        []string // channel variables before, name/value pairs
		globals     []string // global variables before
		steps       []step
		want        map[string]string // every channel variable after
		wantGlobals map[string]string // every global after (nil: not checked)
		wantErr     bool              // the last step returns a *UsageError
	}{
		// set
		{name: "set", steps: []step{{"set", "foo=bar"}}, want: map[string]string{"foo": "bar"}},
		{name: "set value keeps later =", steps: []step{{"set", "foo=a=b"}}, want: map[string]string{"foo": "a=b"}},
		{name: "set comma when no =", steps: []step{{"set", "foo,bar"}}, want: map[string]string{"foo": "bar"}},
		{name: "set = wins over an earlier comma", steps: []step{{"set", "foo,a=b"}}, want: map[string]string{"foo,a": "b"}},
		{name: "set comma stays in value", steps: []step{{"set", "foo=a,b"}}, want: map[string]string{"foo": "a,b"}},
		{name: "set expands the value again", vars: []string{"bar", "baz"}, steps: []step{{"set", "foo=${bar}"}},
			want: map[string]string{"bar": "baz", "foo": "baz"}},
		{name: "set runs APIs in the value", steps: []step{{"set", "foo=${upper(abc)}"}}, want: map[string]string{"foo": "ABC"}},
		{name: "set sees globals", globals: []string{"domain", "example.com"}, steps: []step{{"set", "d=${domain}"}},
			want: map[string]string{"d": "example.com"}},
		{name: "set does not expand the name", vars: []string{"n", "x"}, steps: []step{{"set", "${n}=1"}},
			want: map[string]string{"n": "x", "${n}": "1"}},
		{name: "set empty value unsets", vars: []string{"foo", "1", "keep", "2"}, steps: []step{{"set", "foo="}},
			want: map[string]string{"keep": "2"}},
		{name: "set value expanding to empty unsets", vars: []string{"foo", "1"}, steps: []step{{"set", "foo=${nothing}"}},
			want: map[string]string{}},
		{name: "set name only unsets", vars: []string{"foo", "1"}, steps: []step{{"set", "foo"}}, want: map[string]string{}},
		{name: "set ignores case of existing name", vars: []string{"Foo", "1"}, steps: []step{{"set", "FOO=2"}},
			want: map[string]string{"Foo": "2"}},
		{name: "set ARRAY:: makes an array", steps: []step{{"set", "a=ARRAY::x|:y"}}, want: map[string]string{"a": "ARRAY::x|:y"}},
		{name: "set empty data", steps: []step{{"set", ""}}, want: map[string]string{}, wantErr: true},
		{name: "set empty name", steps: []step{{"set", "=x"}}, want: map[string]string{}, wantErr: true},

		// push / unshift
		{name: "push creates", steps: []step{{"push", "a=x"}}, want: map[string]string{"a": "x"}},
		{name: "push appends", steps: []step{{"push", "a=x"}, {"push", "a=y"}, {"push", "a=z"}},
			want: map[string]string{"a": "ARRAY::x|:y|:z"}},
		{name: "push onto a scalar", vars: []string{"a", "x"}, steps: []step{{"push", "a=y"}}, want: map[string]string{"a": "ARRAY::x|:y"}},
		{name: "push comma form", steps: []step{{"push", "a,x"}, {"push", "a,y"}}, want: map[string]string{"a": "ARRAY::x|:y"}},
		{name: "push expands", vars: []string{"v", "1"}, steps: []step{{"push", "a=${v}"}, {"push", "a=${v}2"}},
			want: map[string]string{"v": "1", "a": "ARRAY::1|:12"}},
		{name: "push empty value unsets", vars: []string{"a", "x"}, steps: []step{{"push", "a="}}, want: map[string]string{}},
		{name: "unshift prepends", vars: []string{"a", "x"}, steps: []step{{"unshift", "a=y"}, {"unshift", "a=z"}},
			want: map[string]string{"a": "ARRAY::z|:y|:x"}},
		{name: "push then unshift", steps: []step{{"push", "a=2"}, {"unshift", "a=1"}, {"push", "a=3"}},
			want: map[string]string{"a": "ARRAY::1|:2|:3"}},
		{name: "push empty data", steps: []step{{"push", ""}}, want: map[string]string{}, wantErr: true},
		{name: "unshift empty data", steps: []step{{"unshift", ""}}, want: map[string]string{}, wantErr: true},

		// multiset
		{name: "multiset spaces", steps: []step{{"multiset", "a=1 b=2  c=3"}}, want: map[string]string{"a": "1", "b": "2", "c": "3"}},
		{name: "multiset quoted value", steps: []step{{"multiset", "a='x y' b=2"}}, want: map[string]string{"a": "x y", "b": "2"}},
		{name: "multiset custom delimiter", steps: []step{{"multiset", "^^;a=1;b=x y"}}, want: map[string]string{"a": "1", "b": "x y"}},
		{name: "multiset comma form per item", steps: []step{{"multiset", "^^|a,1|b=2"}}, want: map[string]string{"a": "1", "b": "2"}},
		{name: "multiset expands each value", vars: []string{"v", "V"}, steps: []step{{"multiset", "a=${v} b=${upper(x)}"}},
			want: map[string]string{"v": "V", "a": "V", "b": "X"}},
		{name: "multiset unsets empty values", vars: []string{"a", "1"}, steps: []step{{"multiset", "a= b=2"}}, want: map[string]string{"b": "2"}},
		{name: "multiset empty data", steps: []step{{"multiset", ""}}, want: map[string]string{}},
		{name: "multiset bad item still sets the rest", steps: []step{{"multiset", "a=1 =2 b=3"}},
			want: map[string]string{"a": "1", "b": "3"}, wantErr: true},
		{name: "multiset ^^ without delimiter", steps: []step{{"multiset", "^^"}}, want: map[string]string{}, wantErr: true},

		// unset / multiunset
		{name: "unset", vars: []string{"foo", "1", "bar", "2"}, steps: []step{{"unset", "foo"}}, want: map[string]string{"bar": "2"}},
		{name: "unset ignores case", vars: []string{"foo", "1"}, steps: []step{{"unset", "FOO"}}, want: map[string]string{}},
		{name: "unset missing", vars: []string{"foo", "1"}, steps: []step{{"unset", "nope"}}, want: map[string]string{"foo": "1"}},
		{name: "unset takes data as the name", vars: []string{"foo", "1"}, steps: []step{{"unset", "foo bar"}},
			want: map[string]string{"foo": "1"}},
		{name: "unset empty data", vars: []string{"foo", "1"}, steps: []step{{"unset", ""}}, want: map[string]string{"foo": "1"}, wantErr: true},
		{name: "multiunset", vars: []string{"a", "1", "b", "2", "c", "3"}, steps: []step{{"multiunset", "a  c"}},
			want: map[string]string{"b": "2"}},
		{name: "multiunset custom delimiter", vars: []string{"a", "1", "b", "2", "c", "3"}, steps: []step{{"multiunset", "^^,a,b"}},
			want: map[string]string{"c": "3"}},
		{name: "multiunset empty data", vars: []string{"a", "1"}, steps: []step{{"multiunset", ""}}, want: map[string]string{"a": "1"}},

		// set_global
		{name: "set_global", steps: []step{{"set_global", "g=1"}}, want: map[string]string{}, wantGlobals: map[string]string{"g": "1"}},
		{name: "set_global does not expand again", vars: []string{"x", "1"}, steps: []step{{"set_global", "g=${x}"}},
			want: map[string]string{"x": "1"}, wantGlobals: map[string]string{"g": "${x}"}},
		{name: "set_global empty value unsets", globals: []string{"g", "1", "h", "2"}, steps: []step{{"set_global", "g="}},
			want: map[string]string{}, wantGlobals: map[string]string{"h": "2"}},
		{name: "set_global has no comma form", steps: []step{{"set_global", "g,1"}},
			want: map[string]string{}, wantGlobals: map[string]string{}},
		{name: "set_global empty data", steps: []step{{"set_global", ""}}, want: map[string]string{}, wantGlobals: map[string]string{}, wantErr: true},

		// export / bridge_export
		{name: "export", steps: []step{{"export", "foo=bar"}}, want: map[string]string{"foo": "bar", "export_vars": "foo"}},
		{name: "export appends", vars: []string{"export_vars", "a"}, steps: []step{{"export", "foo=bar"}},
			want: map[string]string{"foo": "bar", "export_vars": "a,foo"}},
		{name: "export twice lists twice", steps: []step{{"export", "foo=1"}, {"export", "foo=2"}},
			want: map[string]string{"foo": "2", "export_vars": "foo,foo"}},
		{name: "export nolocal: keeps the prefix locally", steps: []step{{"export", "nolocal:foo=bar"}},
			want: map[string]string{"nolocal:foo": "bar", "export_vars": "nolocal:foo"}},
		{name: "export _nolocal_", steps: []step{{"export", "_nolocal_foo=bar"}},
			want: map[string]string{"_nolocal_foo": "bar", "export_vars": "_nolocal_foo"}},
		{name: "export does not expand again", steps: []step{{"export", "foo=${x}"}},
			want: map[string]string{"foo": "${x}", "export_vars": "foo"}},
		{name: "export has no comma form", steps: []step{{"export", "foo,bar"}}, want: map[string]string{}},
		{name: "export empty value unsets, list unchanged", vars: []string{"foo", "1", "export_vars", "foo"},
			steps: []step{{"export", "foo="}}, want: map[string]string{"export_vars": "foo"}},
		{name: "export empty data", steps: []step{{"export", ""}}, want: map[string]string{}, wantErr: true},
		{name: "export empty name", steps: []step{{"export", "=x"}}, want: map[string]string{}, wantErr: true},
		{name: "bridge_export", vars: []string{"export_vars", "a"}, steps: []step{{"bridge_export", "foo=bar"}},
			want: map[string]string{"export_vars": "a", "foo": "bar", "bridge_export_vars": "foo"}},
		{name: "bridge_export refuses a variable reference but lists it", steps: []step{{"bridge_export", "foo=$\\{x}"}},
			want: map[string]string{"bridge_export_vars": "foo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := newFake(tt.vars...)
			for i := 0; i+1 < len(tt.globals); i += 2 {
				ch.globals.Set(tt.globals[i], tt.globals[i+1])
			}
			var err error
			for _, s := range tt.steps {
				err = run(t, ch, s.app, s.data)
				if err != nil && !tt.wantErr {
					t.Fatalf("%s %q: %v", s.app, s.data, err)
				}
			}
			if tt.wantErr {
				var ue *UsageError
				if !errors.As(err, &ue) {
					t.Fatalf("error = %v, want a *UsageError", err)
				}
			}
			if got := ch.vars.Map(); !maps.Equal(got, tt.want) {
				t.Errorf("variables = %q, want %q", got, tt.want)
			}
			if tt.wantGlobals != nil {
				if got := ch.globals.Map(); !maps.Equal(got, tt.wantGlobals) {
					t.Errorf("globals = %q, want %q", got, tt.wantGlobals)
				}
			}
		})
	}
}

func TestPushBuildsArray(t *testing.T) {
	ch := newFake()
	for _, d := range []string{"a=1", "a=2"} {
		if err := run(t, ch, "push", d); err != nil {
			t.Fatal(err)
		}
	}
	if got := ch.vars.Array("a"); !slices.Equal(got, []string{"1", "2"}) {
		t.Errorf("Array(a) = %q, want [1 2]", got)
	}
	if got := ch.Expand("${a[1]}"); got != "2" {
		t.Errorf("${a[1]} = %q, want 2", got)
	}
}

func TestVariableAppLogLines(t *testing.T) {
	tests := []struct {
		vars      []string
		app, data string
		want      logLine
	}{
		{nil, "set", "foo=bar", logLine{slog.LevelDebug, "SET [foo]=[bar]"}},
		{[]string{"channel_name", "sofia/internal/1000@example.com"}, "set", "foo=bar",
			logLine{slog.LevelDebug, "SET sofia/internal/1000@example.com [foo]=[bar]"}},
		{[]string{"v", "x"}, "set", "foo=${v}", logLine{slog.LevelDebug, "SET [foo]=[x]"}},
		{nil, "set", "foo", logLine{slog.LevelDebug, "SET [foo]=[UNDEF]"}},
		{nil, "set", "foo=${nothing}", logLine{slog.LevelDebug, "SET [foo]=[]"}},
		{nil, "push", "a=1", logLine{slog.LevelDebug, "PUSH [a]=[1]"}},
		{nil, "unshift", "a=1", logLine{slog.LevelDebug, "UNSHIFT [a]=[1]"}},
		{nil, "unset", "foo", logLine{slog.LevelDebug, "UNSET [foo]"}},
		{nil, "set_global", "g=1", logLine{slog.LevelDebug, "SET GLOBAL [g]=[1]"}},
		{nil, "set_global", "g", logLine{slog.LevelDebug, "SET GLOBAL [g]=[UNDEF]"}},
		{nil, "export", "foo=bar", logLine{slog.LevelDebug, "EXPORT (export_vars) [foo]=[bar]"}},
		{nil, "export", "nolocal:foo=bar", logLine{slog.LevelDebug, "EXPORT (export_vars) (REMOTE ONLY) [foo]=[bar]"}},
		{nil, "export", "NoLocal:foo=bar", logLine{slog.LevelDebug, "EXPORT (export_vars) (REMOTE ONLY) [foo]=[bar]"}},
		{nil, "export", "_nolocal_foo", logLine{slog.LevelDebug, "EXPORT (export_vars) (REMOTE ONLY) [foo]=[UNDEF]"}},
		{nil, "bridge_export", "foo=bar", logLine{slog.LevelDebug, "EXPORT (bridge_export_vars) [foo]=[bar]"}},
	}
	for _, tt := range tests {
		t.Run(tt.app+" "+tt.data, func(t *testing.T) {
			ch := newFake(tt.vars...)
			if err := run(t, ch, tt.app, tt.data); err != nil {
				t.Fatal(err)
			}
			if len(ch.logs) != 1 || ch.logs[0] != tt.want {
				t.Errorf("logged %v, want [%v]", ch.logs, tt.want)
			}
		})
	}
}

func TestBridgeExportLogsRefusedValue(t *testing.T) {
	ch := newFake()
	if err := run(t, ch, "bridge_export", "foo=${x}"); err != nil {
		t.Fatal(err)
	}
	var crit []string
	for _, l := range ch.logs {
		if l.level == SlogCrit {
			crit = append(crit, l.msg)
		}
	}
	if len(crit) != 1 || !strings.Contains(crit[0], "${foo}") {
		t.Errorf("crit lines = %q, want one naming ${foo}", crit)
	}
}

func TestHasVarRef(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"", false},
		{"plain", false},
		{"${x}", true},
		{"a${", true},
		{"$\\{x}", true},
		{"$\\\\{x}", true},
		{"$ {x}", false},
		{"$x{", false},
		{"{$}", false},
		{"cost $5 {", false},
	}
	for _, tt := range tests {
		if got := vars.HasReference(tt.s); got != tt.want {
			t.Errorf("vars.HasReference(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

// Zombie applications run after hangup with a cancelled context and must
// still work.
func TestVariableAppsIgnoreCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ch := newFake()
	for _, s := range []step{{"set", "a=1"}, {"export", "b=2"}, {"push", "c=3"}, {"set_global", "d=4"}, {"multiset", "e=5"}} {
		a, _ := Lookup(s.app)
		if err := a.Run(ctx, ch, s.data); err != nil {
			t.Errorf("%s %q with a cancelled context: %v", s.app, s.data, err)
		}
	}
	want := map[string]string{"a": "1", "b": "2", "export_vars": "b", "c": "3", "e": "5"}
	if got := ch.vars.Map(); !maps.Equal(got, want) {
		t.Errorf("variables = %q, want %q", got, want)
	}
	if got, _ := ch.globals.Get("d"); got != "4" {
		t.Errorf("global d = %q, want 4", got)
	}
}

func TestUsageErrorMessage(t *testing.T) {
	err := run(t, newFake(), "set", "")
	want := "set: no variable name specified (usage: set <varname>=<value>)"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}
