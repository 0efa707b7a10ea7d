package commands

import (
	"context"
	"sort"
	"strings"
	"testing"
)

func nop(context.Context, Env, string) (string, error) { return "", nil }

func TestRegisterPanics(t *testing.T) {
	tests := []struct {
		name string
		cmds []Command
		want string // in the panic message
	}{
		{"empty name", []Command{{Name: "", Run: nop}}, "empty command name"},
		{"space in name", []Command{{Name: "show me", Run: nop}}, "white space"},
		{"tab in name", []Command{{Name: "a\tb", Run: nop}}, "white space"},
		{"nil Run", []Command{{Name: "x"}}, "nil Run"},
		{"duplicate", []Command{{Name: "x", Run: nop}, {Name: "x", Run: nop}}, "registered twice"},
		{"duplicate ignoring case", []Command{{Name: "Echo", Run: nop}, {Name: "eCHO", Run: nop}}, `already registered as "Echo"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRegistry()
			defer func() {
				p := recover()
				if p == nil {
					t.Fatal("no panic")
				}
				if msg, _ := p.(string); !strings.Contains(msg, tt.want) {
					t.Errorf("panic %q, want it to mention %q", p, tt.want)
				}
			}()
			for _, c := range tt.cmds {
				r.register(c)
			}
		})
	}
}

func TestRegistryLookupAndList(t *testing.T) {
	r := newRegistry()
	r.register(Command{Name: "b_cmd", Run: nop})
	r.register(Command{Name: "A_cmd", Module: "mod_x", Run: nop})
	r.register(Command{Name: "a_cmd2", Run: nop})

	c, ok := r.lookup("B_CMD")
	if !ok || c.Name != "b_cmd" {
		t.Fatalf("lookup(B_CMD) = %v, %v", c, ok)
	}
	if c.Module != DefaultModule {
		t.Errorf("module of a command registered without one = %q, want %q", c.Module, DefaultModule)
	}
	if c, _ := r.lookup("a_cmd"); c.Module != "mod_x" {
		t.Errorf("module = %q, want mod_x", c.Module)
	}
	if _, ok := r.lookup("c_cmd"); ok {
		t.Error("lookup of an unregistered name succeeded")
	}
	var names []string
	for _, c := range r.list() {
		names = append(names, c.Name)
	}
	// Byte order, as SQLite sorts show's rows: upper case first.
	if got, want := strings.Join(names, " "), "A_cmd a_cmd2 b_cmd"; got != want {
		t.Errorf("list = %s, want %s", got, want)
	}
}

// The commands this package provides, under their FreeSWITCH names.
func TestBuiltinCommandsRegistered(t *testing.T) {
	want := map[string]string{
		"cond": "mod_commands", "create_uuid": "mod_commands", "echo": "mod_commands",
		"eval": "mod_commands", "expand": "mod_commands", "global_getvar": "mod_commands",
		"global_setvar": "mod_commands", "help": "mod_commands", "hostname": "mod_commands",
		"md5": "mod_commands", "module_exists": "mod_commands", "regex": "mod_commands",
		"show": "mod_commands", "strepoch": "mod_dptools", "strftime": "mod_dptools",
		"version": "mod_commands",
	}
	for name, module := range want {
		c, ok := Lookup(strings.ToUpper(name))
		if !ok {
			t.Errorf("%s is not registered", name)
			continue
		}
		if c.Name != name || c.Module != module || c.Description == "" {
			t.Errorf("%s registered as %+v, want module %s and a description", name, c, module)
		}
	}
	list := List()
	if !sort.SliceIsSorted(list, func(i, j int) bool { return list[i].Name < list[j].Name }) {
		t.Error("List is not sorted by name")
	}
}
