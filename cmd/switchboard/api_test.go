package main

import (
	"bytes"
	"strings"
	"testing"
)

// apiConf is a configuration with two globals of its own.
const apiConf = `<?xml version="1.0"?>
<document type="freeswitch/xml">
  <X-PRE-PROCESS cmd="set" data="domain=example.com"/>
  <X-PRE-PROCESS cmd="set" data="answer=42"/>
  <section name="dialplan"></section>
</document>
`

// runAPICLI calls runAPI directly (the subcommand is wired into run by
// main.go's command list).
func runAPICLI(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := runAPI(args, &stdout, &stderr)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func TestAPI(t *testing.T) {
	dir := writeTree(t, map[string]string{"freeswitch.xml": apiConf})
	state := t.TempDir()
	base := []string{"--conf", dir, "--state-dir", state}
	tests := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"global", []string{"global_getvar", "domain"}, 0, "example.com\n"},
		{"--set wins", []string{"--set", "domain=set.test", "global_getvar", "domain"}, 0, "set.test\n"},
		{"eval", []string{"eval", "${domain}:${answer}"}, 0, "example.com:42\n"},
		{"args joined", []string{"echo", "a", "b", "c"}, 0, "a b c\n"},
		{"dashes after the command are arguments", []string{"cond", "-1", "<", "0", "?", "yes", ":", "no"}, 0, "yes\n"},
		{"output ending in a newline", []string{"show", "api", "echo"}, 0, "name,description,syntax,ikey\necho,Echo,<data>,mod_commands\n\n1 total.\n"},
		{"empty output", []string{"global_getvar", "nosuch"}, 0, ""},
		{"unknown command", []string{"nosuch", "x"}, 1, "-ERR nosuch Command not found!\n"},
		{"-ERR answer", []string{"regex", "x"}, 1, "-ERR\n"},
		{"-USAGE answer", []string{"global_setvar"}, 1, "-USAGE: <var>=<value> [=<value2>]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runAPICLI(t, append(append([]string{}, base...), tt.args...)...)
			if r.code != tt.code || r.stdout != tt.out || r.stderr != "" {
				t.Errorf("switchboard api %s:\n%s\nwant exit %d, stdout %q", strings.Join(tt.args, " "), r, tt.code, tt.out)
			}
		})
	}
}

func TestAPIErrors(t *testing.T) {
	broken := writeTree(t, map[string]string{"freeswitch.xml": "<document><section name=\"dialplan\">\n"})
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string // a part of it
	}{
		{"no command", nil, exitUsage, "usage: switchboard api"},
		{"only flags", []string{"--conf", broken}, exitUsage, "usage: switchboard api"},
		{"unknown flag", []string{"--bogus", "echo"}, exitUsage, "flag provided but not defined"},
		{"bad --set", []string{"--set", "novalue", "echo"}, exitUsage, "novalue"},
		{"broken configuration", []string{"--conf", broken, "--state-dir", t.TempDir(), "echo", "x"}, exitError, "freeswitch.xml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runAPICLI(t, tt.args...)
			if r.code != tt.code || r.stdout != "" || !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("%s\nwant exit %d and stderr containing %q", r, tt.code, tt.stderr)
			}
		})
	}
}

// Without --conf the embedded default configuration is used.
func TestAPIEmbedded(t *testing.T) {
	r := runAPICLI(t, "--state-dir", t.TempDir(), "global_getvar", "default_password")
	if r.code != 0 || r.stdout != "1234\n" {
		t.Errorf("global_getvar default_password:\n%s", r)
	}
}
