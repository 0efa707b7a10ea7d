package commands

import (
	"context"
	"errors"
	"testing"

	"github.com/switchboard-voip/switchboard/vars"
)

func TestExecute(t *testing.T) {
	env := newEnv(t)
	tests := []struct {
		cmd, args, want string
	}{
		{"nosuch", "x", "-ERR nosuch Command not found!\n"},
		{"  nosuch\t", "", "-ERR nosuch Command not found!\n"}, // the name is trimmed first
		{"", "", "-ERR  Command not found!\n"},
		{"echo", "  hi there \t\r\n", "hi there"}, // args trimmed, inner space kept
		{"ECHO", "case", "case"},
		{"echo", "", ""},
		{"zz_test_fail", "", "-ERR zz_test_fail: boom\n"},
	}
	for _, tt := range tests {
		if got := run(env, tt.cmd, tt.args); got != tt.want {
			t.Errorf("Execute(%q, %q) = %q, want %q", tt.cmd, tt.args, got, tt.want)
		}
	}
}

func TestCall(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	_, err := Call(ctx, env, "nosuch", "")
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.Name != "nosuch" {
		t.Errorf("Call(nosuch) error = %v, want a NotFoundError", err)
	}
	out, err := Call(ctx, env, "zz_test_fail", "")
	if out != "partial" || err == nil || err.Error() != "zz_test_fail: boom" {
		t.Errorf("Call(zz_test_fail) = %q, %v", out, err)
	}
	if out, err := Call(ctx, env, "echo", " x "); out != "x" || err != nil {
		t.Errorf("Call(echo) = %q, %v", out, err)
	}
}

func TestExecuteStream(t *testing.T) {
	env := newEnv(t)
	tests := []struct {
		cmd, args, want string
		ok              bool
	}{
		{"echo", "hi", "hi", true},
		{"nosuch", "hi", "INVALID COMMAND!\n", false},
		{"zz_test_fail", "", "partialCOMMAND RETURNED ERROR!\n", false},
	}
	for _, tt := range tests {
		got, ok := ExecuteStream(context.Background(), env, tt.cmd, tt.args)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ExecuteStream(%q, %q) = %q, %v; want %q, %v", tt.cmd, tt.args, got, ok, tt.want, tt.ok)
		}
	}
}

// ${cmd(args)} and ${cmd args} in dialplan data, through vars.Expand.
func TestAsAPIExpansion(t *testing.T) {
	env := newEnv(t)
	chanVars := vars.NewStore()
	chanVars.Set("n", "7")
	chanVars.Set("dest", "1234")
	lookup := vars.Chain{chanVars, GlobalLookup(env)}
	api := AsAPI(context.Background(), env)
	tests := []struct {
		in, want string
	}{
		{"${strftime(%Y)}", "2024"},
		{"${strftime(%a, %d %b %Y %T %z)}", "Mon, 04 Mar 2024 02:00:00 -0500"},
		{"year ${strftime %Y} ok", "year 2024 ok"},
		{"${strepoch()}", "1709535600"},
		{"${cond(1 == 1 ? a : b)}", "a"},
		{"${cond ${n} > 10 ? big : small}", "small"},
		{"${cond(${n} >= 7 ? yes)}", "yes"},
		{"${regex(${dest}|^(\\d\\d)(\\d\\d)$|%2-%1)}", "34-12"},
		{"${regex(${dest}|^5)}", "false"},
		{"${module_exists(mod_sofia)}", "true"},
		{"${module_exists(mod_enum)}", "false"},
		{"${eval(${domain})}", "example.com"},
		{"${expand echo $${domain}}", "example.com"},
		{"${md5(abc)}", "900150983cd24fb0d6963f7d28e17f72"},
		{"${echo(${echo(nested)})}", "nested"},
		{"[${nosuch(x)}]", "[]"},       // unknown command: ""
		{"[${zz_test_fail(x)}]", "[]"}, // failing command: ""
		{"${regex(x)}", "-ERR"},        // an -ERR answer is output like any other
		{"${global_getvar(Answer)}", "42"},
	}
	for _, tt := range tests {
		if got := vars.Expand(tt.in, lookup, api); got != tt.want {
			t.Errorf("Expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNestingLimits(t *testing.T) {
	env := newEnv(t)
	linearCalls.Store(0)
	run(env, "zz_test_linear", "")
	if got := linearCalls.Load(); got != MaxDepth {
		t.Errorf("a command calling itself ran %d times, want MaxDepth = %d", got, MaxDepth)
	}
	forkCalls.Store(0)
	run(env, "zz_test_fork", "")
	if got := forkCalls.Load(); got > MaxCalls || got <= MaxDepth {
		t.Errorf("a command calling itself twice ran %d times, want between MaxDepth and MaxCalls (%d)", got, MaxCalls)
	}
	// A runtime global that expands into a call of itself terminates too.
	env.Globals().Set("loop", "${eval ${loop}}")
	if got := run(env, "eval", "${loop}"); len(got) > 1000 {
		t.Errorf("eval of a self-referencing variable grew to %d bytes", len(got))
	}
}

func TestGlobalLookup(t *testing.T) {
	env := newEnv(t)
	if v, ok := GlobalVar(env, "DOMAIN"); !ok || v != "example.com" {
		t.Errorf("GlobalVar(DOMAIN) = %q, %v", v, ok)
	}
	env.Globals().Set("domain", "runtime.example")
	if v, _ := GlobalVar(env, "domain"); v != "runtime.example" {
		t.Errorf("runtime global did not win: %q", v)
	}
	if _, ok := GlobalVar(env, "nosuch"); ok {
		t.Error("GlobalVar(nosuch) found something")
	}
	bare := &Host{Runtime: vars.NewStore()} // no configuration at all
	if _, ok := GlobalVar(bare, "domain"); ok {
		t.Error("GlobalVar without a configuration found something")
	}
	if got := run(bare, "global_getvar", "domain"); got != "" {
		t.Errorf("global_getvar without a configuration = %q", got)
	}
}
