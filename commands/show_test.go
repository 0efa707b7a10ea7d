package commands

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-voip/switchboard/apps"
)

func init() {
	RegisterShow("zz_test_report", func(_ context.Context, _ Env, args []string) (*Table, error) {
		switch strings.Join(args, " ") {
		case "empty":
			return &Table{Columns: []string{"name", "value"}}, nil
		case "fail":
			return nil, errors.New("broken")
		}
		return &Table{
			Columns: []string{"name", "value"},
			Rows: [][]string{
				{"a", `x<y&"z"`},
				{"b", "é\tq\n"},
			},
		}, nil
	})
}

// checkTable checks FreeSWITCH's delimited table: the header, one row
// per name whose first field is the next of names (a row may go on over
// several lines when a value holds a newline, as play_and_get_digits'
// syntax does), a blank line and "N total.".
func checkTable(t *testing.T, out, header string, names []string) {
	t.Helper()
	if len(names) == 0 {
		if out != "\n0 total.\n" {
			t.Errorf("empty table = %q", out)
		}
		return
	}
	body, ok := strings.CutSuffix(out, fmt.Sprintf("\n\n%d total.\n", len(names)))
	if !ok {
		t.Fatalf("no \"%d total.\" trailer:\n%s", len(names), out)
	}
	lines := strings.Split(body, "\n")
	if lines[0] != header {
		t.Errorf("header %q, want %q", lines[0], header)
	}
	i := 0
	for _, line := range lines[1:] {
		first, _, _ := strings.Cut(line, ",")
		if i < len(names) && first == names[i] {
			i++
			continue
		}
		// Otherwise the line goes on the row before it.
		if i == 0 || slices.Contains(names, first) {
			t.Errorf("line %q is out of place", line)
		}
	}
	if i != len(names) {
		t.Errorf("%d rows found, want %d:\n%s", i, len(names), out)
	}
}

func TestShowApplication(t *testing.T) {
	env := newEnv(t)
	var names []string
	for _, a := range apps.List() {
		if a.Description != "" {
			names = append(names, a.Name)
		}
	}
	if len(names) == 0 {
		t.Fatal("no applications registered")
	}
	out := run(env, "show", "application")
	checkTable(t, out, "name,description,syntax,ikey", names)

	a, _ := apps.Lookup("set")
	row := "set," + a.Description + "," + a.Usage + ",mod_dptools\n"
	if !strings.Contains(out, "\n"+row) {
		t.Errorf("no row %q in\n%s", row, out)
	}
	if got := run(env, "show", "application set"); got != "name,description,syntax,ikey\n"+row+"\n1 total.\n" {
		t.Errorf("show application set = %q", got)
	}
	if got := run(env, "show", "application SET"); got != "\n0 total.\n" {
		t.Errorf("names are compared exactly; show application SET = %q", got)
	}
	if got := run(env, "SHOW", "APPLICATION"); got != out {
		t.Error("the report name is not case-insensitive")
	}
}

func TestShowAPI(t *testing.T) {
	env := newEnv(t)
	var names []string
	for _, c := range List() {
		if c.Description != "" {
			names = append(names, c.Name)
		}
	}
	checkTable(t, run(env, "show", "api"), "name,description,syntax,ikey", names)
	tests := []struct{ args, want string }{
		{"api echo", "name,description,syntax,ikey\necho,Echo,<data>,mod_commands\n\n1 total.\n"},
		{"api strftime", "name,description,syntax,ikey\nstrftime,strftime,<format_string>,mod_dptools\n\n1 total.\n"},
		{"api nosuch", "\n0 total.\n"},
	}
	for _, tt := range tests {
		if got := run(env, "show", tt.args); got != tt.want {
			t.Errorf("show %s = %q, want %q", tt.args, got, tt.want)
		}
	}
}

func TestShowFormats(t *testing.T) {
	env := newEnv(t)
	tests := []struct{ args, want string }{
		{"zz_test_report", "name,value\na,x<y&\"z\"\nb,é\tq\n\n\n2 total.\n"},
		{"zz_test_report as csv", "name,value\na,x<y&\"z\"\nb,é\tq\n\n\n2 total.\n"},
		{"zz_test_report as delim |", "name|value\na|x<y&\"z\"\nb|é\tq\n\n\n2 total.\n"},
		{"zz_test_report as json", `{"row_count":2,"rows":[{"name":"a","value":"x<y&\"z\""},{"name":"b","value":"é\tq\n"}]}`},
		{"zz_test_report as xml", "<result row_count=\"2\">\n" +
			"  <row row_id=\"1\">\n    <name>a</name>\n    <value>x&lt;y&amp;\"z\"</value>\n  </row>\n" +
			"  <row row_id=\"2\">\n    <name>b</name>\n    <value>&#xE9;\tq\n    </value>\n  </row>\n" +
			"</result>\n"},
		{"zz_test_report AS JSON", `{"row_count":2,"rows":[{"name":"a","value":"x<y&\"z\""},{"name":"b","value":"é\tq\n"}]}`},
		{"zz_test_report empty", "\n0 total.\n"},
		{"zz_test_report empty as json", "{\"row_count\": 0}\n"},
		{"zz_test_report empty as xml", "<result row_count=\"0\"/>\n"},
		{"zz_test_report as yaml", "-ERR Cannot find format yaml\n"},
		{"zz_test_report fail", "-ERR show: zz_test_report: broken\n"},
	}
	for _, tt := range tests {
		if got := run(env, "show", tt.args); got != tt.want {
			t.Errorf("show %s =\n%q\nwant\n%q", tt.args, got, tt.want)
		}
	}
	js := run(env, "show", "api as json")
	if !strings.HasPrefix(js, fmt.Sprintf(`{"row_count":%d,"rows":[{"name":"`, len(List()))) ||
		!strings.Contains(js, `{"name":"echo","description":"Echo","syntax":"<data>","ikey":"mod_commands"}`) {
		t.Errorf("show api as json = %.300s", js)
	}
	if got := run(env, "show", "application as xml"); !strings.HasPrefix(got, "<result row_count=") ||
		!strings.Contains(got, "    <name>answer</name>\n") {
		t.Errorf("show application as xml = %.300s", got)
	}
}

func TestShowOther(t *testing.T) {
	env := newEnv(t)
	usage := "-USAGE: " + showUsage + "\n"
	tests := []struct{ args, want string }{
		{"", usage},
		{"bogus", usage},
		{"codecs", "-ERR show codecs is not supported\n"},
		{"detailed_calls", "-ERR show detailed_calls is not supported\n"},
		{"channels as json", "-ERR show channels needs a running switch\n"},
	}
	for _, tt := range tests {
		if got := run(env, "show", tt.args); got != tt.want {
			t.Errorf("show %q = %q, want %q", tt.args, got, tt.want)
		}
	}
	// show status forwards to the status command.
	want, _ := ExecuteStream(context.Background(), env, "status", "")
	if _, ok := Lookup("status"); !ok && want != "INVALID COMMAND!\n" {
		t.Fatalf("ExecuteStream(status) = %q", want)
	}
	if got := run(env, "show", "status"); got != want && !strings.HasPrefix(got, "UP ") {
		t.Errorf("show status = %q, want %q", got, want)
	}
}

func TestHelp(t *testing.T) {
	env := newEnv(t)
	out := run(env, "help", "")
	const head = "\nValid Commands:\n\n"
	if !strings.HasPrefix(out, head) {
		t.Fatalf("help starts %q", out[:min(len(out), 40)])
	}
	lines := strings.Split(strings.TrimSuffix(out[len(head):], "\n"), "\n")
	list := List()
	if len(lines) != len(list) {
		t.Fatalf("help lists %d commands, want %d", len(lines), len(list))
	}
	for i, c := range list {
		if want := c.Name + "," + c.Usage + "," + c.Description + "," + c.Module; lines[i] != want {
			t.Errorf("line %d = %q, want %q", i, lines[i], want)
		}
	}
	tests := []struct{ args, want string }{
		{"echo", "echo,<data>,Echo,mod_commands\n"},
		{"nosuch", "-ERR No such command\n"},
	}
	for _, tt := range tests {
		if got := run(env, "help", tt.args); got != tt.want {
			t.Errorf("help %s = %q, want %q", tt.args, got, tt.want)
		}
	}
}

func TestRegisterShowPanics(t *testing.T) {
	f := func(context.Context, Env, []string) (*Table, error) { return nil, nil }
	tests := []struct {
		name string
		f    ShowFunc
	}{
		{"", f},
		{"two words", f},
		{"x_nil", nil},
		{"API", f},
		{"status", f},
		{"ZZ_TEST_REPORT", f}, // registered in init above
	}
	for _, tt := range tests {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("RegisterShow(%q) did not panic", tt.name)
				}
			}()
			RegisterShow(tt.name, tt.f)
		}()
	}
}
