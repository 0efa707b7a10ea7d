package commands

import (
	"strings"
	"testing"
)

func TestEval(t *testing.T) {
	env := newEnv(t)
	env.Globals().Set("who", "world")
	tests := []struct{ args, want string }{
		{"", ""},
		{"plain text", "plain text"},
		{"${domain}", "example.com"},
		{"$${domain}", "example.com"},
		{"hello ${who} at ${DOMAIN}", "hello world at example.com"},
		{"[${nosuch}]", "[]"},
		{"${echo(${who})}", "world"},
		{"${greeting}", "hello %{caller_id_name}"}, // globals are stored defused
		{"uuid:1234 ${who}", "world"},              // no channel scope yet: globals only
		{"UUID:1234 ${who}", "world"},
		{"uuid:1234", ""},
		{`\${who}`, "${who}"},
	}
	for _, tt := range tests {
		if got := run(env, "eval", tt.args); got != tt.want {
			t.Errorf("eval %q = %q, want %q", tt.args, got, tt.want)
		}
	}
}

func TestExpand(t *testing.T) {
	env := newEnv(t)
	tests := []struct{ args, want string }{
		{"", "-ERR No input\n"},
		{"uuid:1234", "-ERR No input\n"},
		{"echo ${domain}", "example.com"},
		{"uuid:1234 echo ${domain}", "example.com"},
		{"echo", ""},
		{"global_getvar ${nosuch}answer", "42"},
		{"${domain} x", "INVALID COMMAND!\n-ERR Cannot execute command\n"}, // the name is not expanded
		{"nosuch ${domain}", "INVALID COMMAND!\n-ERR Cannot execute command\n"},
		{"zz_test_fail x", "partialCOMMAND RETURNED ERROR!\n-ERR Cannot execute command\n"},
	}
	for _, tt := range tests {
		if got := run(env, "expand", tt.args); got != tt.want {
			t.Errorf("expand %q = %q, want %q", tt.args, got, tt.want)
		}
	}
}

func TestGlobalGetvar(t *testing.T) {
	env := newEnv(t)
	tests := []struct{ args, want string }{
		{"domain", "example.com"},
		{"DOMAIN", "example.com"},
		{"answer", "42"},
		{"hostname", "sb-test"},
		{"nosuch", ""},
	}
	for _, tt := range tests {
		if got := run(env, "global_getvar", tt.args); got != tt.want {
			t.Errorf("global_getvar %q = %q, want %q", tt.args, got, tt.want)
		}
	}

	all := run(env, "global_getvar", "")
	snapGlobals := env.Snapshot().Globals()
	lines := strings.Split(strings.TrimSuffix(all, "\n"), "\n")
	if len(lines) != len(snapGlobals) {
		t.Fatalf("global_getvar lists %d variables, want %d:\n%s", len(lines), len(snapGlobals), all)
	}
	for i, l := range lines {
		name, value, _ := strings.Cut(l, "=")
		if snapGlobals[name] != value {
			t.Errorf("line %q: configuration says %q", l, snapGlobals[name])
		}
		if i > 0 && lines[i-1] > l {
			t.Errorf("not sorted: %q before %q", lines[i-1], l)
		}
	}

	// Runtime values replace the configuration's and come last, in the
	// order they were set.
	env.Globals().Set("zzz", "1")
	env.Globals().Set("Domain", "runtime.example")
	all = run(env, "global_getvar", "")
	if strings.Contains(all, "domain=example.com\n") {
		t.Error("the configuration's domain is still listed")
	}
	if !strings.HasSuffix(all, "\nzzz=1\nDomain=runtime.example\n") {
		t.Errorf("runtime globals are not last:\n%s", all)
	}
	if got := run(env, "global_getvar", "domain"); got != "runtime.example" {
		t.Errorf("global_getvar domain = %q after a runtime set", got)
	}
}

func TestGlobalSetvar(t *testing.T) {
	usage := "-USAGE: <var>=<value> [=<value2>]\n"
	tests := []struct {
		name   string
		before map[string]string // runtime globals first
		args   string
		out    string
		check  string // variable to read afterwards
		want   string // its value, via global_getvar
	}{
		{"set", nil, "a=1", "+OK", "a", "1"},
		{"spaces trimmed", nil, " b = two words ", "+OK", "b", "two words"},
		{"quotes removed", nil, "c='x=y'", "+OK", "c", "x=y"},
		{"overrides config", nil, "domain=other.example", "+OK", "domain", "other.example"},
		{"defused", nil, "d=${domain} $${domain}", "+OK", "d", "%{domain} $%{domain}"},
		{"empty value unsets", map[string]string{"e": "1"}, "e=", "+OK", "e", ""},
		{"no = unsets", map[string]string{"e": "1"}, "e", "+OK", "e", ""},
		{"conditional match", map[string]string{"f": "old"}, "f=new=old", "+OK", "f", "new"},
		{"conditional mismatch", map[string]string{"f": "other"}, "f=new=old", "+OK", "f", "other"},
		{"conditional unset", nil, "f=new=old", "+OK", "f", ""},
		{"conditional on config", nil, "domain=new=example.com", "+OK", "domain", "new"},
		{"conditional unsets", map[string]string{"g": "old"}, "g==old", "+OK", "g", ""},
		{"third = splits", nil, "url=http://x?a=1", "+OK", "url", ""}, // a conditional set, as in FreeSWITCH
		{"no name", nil, "=1", usage, "", ""},
		{"nothing", nil, "", usage, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t)
			for k, v := range tt.before {
				env.Globals().Set(k, v)
			}
			if got := run(env, "global_setvar", tt.args); got != tt.out {
				t.Errorf("global_setvar %q = %q, want %q", tt.args, got, tt.out)
			}
			if tt.check == "" {
				if n := env.Globals().Len(); n != 0 {
					t.Errorf("%d runtime globals set", n)
				}
				return
			}
			if got := run(env, "global_getvar", tt.check); got != tt.want {
				t.Errorf("afterwards %s = %q, want %q", tt.check, got, tt.want)
			}
		})
	}
}
