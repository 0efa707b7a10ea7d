package commands

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/switchboard-voip/switchboard/session"
)

func TestShowChannels(t *testing.T) {
	env := newLive(t)
	a, _ := startCall(t, env, "park", "1000", session.CSPark)
	b, _ := startCall(t, env, "park", "2000", session.CSPark)
	b.Vars().Set("accountcode", "acme")

	out := run(env, "show", "channels")
	lines := strings.Split(out, "\n")
	if len(lines) != 6 || lines[0] != strings.Join(channelColumns, ",") || lines[3] != "" || lines[4] != "2 total." {
		t.Fatalf("show channels =\n%s", out)
	}
	ia := a.Info()
	wantA := []string{
		a.UUID(), "inbound", ia.Created.In(testNow.Location()).Format("2006-01-02 15:04:05"), strconv.FormatInt(ia.Created.Unix(), 10),
		"sofia/internal/1000@192.0.2.9", "CS_PARK", "Caller 1000", "1000", "192.0.2.9", "park", "park", "", "XML", "default",
		"", "", "", "", "", "", "", "sb-live", "", "", "", "DOWN", "", "", "", a.UUID(), "", "",
		"Caller 1000", "1000", "192.0.2.9", "park", "XML", "default",
	}
	if lines[1] != strings.Join(wantA, ",") {
		t.Errorf("first row\n%s\nwant\n%s", lines[1], strings.Join(wantA, ","))
	}
	if !strings.HasPrefix(lines[2], b.UUID()+",") {
		t.Errorf("second row is not the second call: %s", lines[2])
	}

	var js struct {
		RowCount int                 `json:"row_count"`
		Rows     []map[string]string `json:"rows"`
	}
	if err := json.Unmarshal([]byte(run(env, "show", "channels as json")), &js); err != nil {
		t.Fatal(err)
	}
	if js.RowCount != 2 || len(js.Rows) != 2 || js.Rows[1]["uuid"] != b.UUID() || js.Rows[1]["accountcode"] != "acme" || js.Rows[0]["state"] != "CS_PARK" {
		t.Errorf("show channels as json = %+v", js)
	}

	tests := []struct{ args, want string }{
		{"channels count", "\n2 total.\n"},
		{"channels count as json", `{"row_count":2,"rows":[]}`},
		{"channels count as xml", "<result row_count=\"2\"/>\n"},
		{"calls count", "\n2 total.\n"},
		{"channels like nobody", "\n0 total.\n"},
		{"channels like nobody as json", "{\"row_count\": 0}\n"},
	}
	for _, tt := range tests {
		if got := run(env, "show", tt.args); got != tt.want {
			t.Errorf("show %s = %q, want %q", tt.args, got, tt.want)
		}
	}
	likes := []struct {
		match string
		uuids []string
	}{
		{"2000@", []string{b.UUID()}},
		{"CALLER", []string{a.UUID(), b.UUID()}},
		{"acm", []string{b.UUID()}},
		{"sofia/%/1000@%", []string{a.UUID()}},
		{a.UUID()[:8], []string{a.UUID()}},
		{"caller_1%", []string{a.UUID()}}, // one word: "_" stands for the space
	}
	for _, l := range likes {
		out := run(env, "show", "channels like "+l.match+" as delim |")
		var got []string
		for _, line := range strings.Split(out, "\n")[1:] {
			if id, _, ok := strings.Cut(line, "|"); ok {
				got = append(got, id)
			}
		}
		if strings.Join(got, " ") != strings.Join(l.uuids, " ") {
			t.Errorf("show channels like %s: %q, want %q\n%s", l.match, got, l.uuids, out)
		}
	}

	calls := strings.Split(run(env, "show", "calls"), "\n")
	if calls[0] != strings.Join(callColumns, ",") || len(calls) != 6 {
		t.Fatalf("show calls =\n%s", strings.Join(calls, "\n"))
	}
	if fields := strings.Split(calls[1], ","); len(fields) != len(callColumns) || fields[0] != a.UUID() || fields[18] != "sb-live" || fields[21] != "" {
		t.Errorf("show calls row %q", calls[1])
	}
}

func TestLike(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"%", "", true},
		{"%abc%", "xxABCyy", true},
		{"abc", "abc", true},
		{"abc", "abcd", false},
		{"a_c", "abc", true},
		{"a_c", "ac", false},
		{"%a%b%", "xaybz", true},
		{"%a%b%", "xbya", false},
		{"é%", "é!", true},
		{"%1000@%", "sofia/internal/1000@host", true},
	}
	for _, tt := range tests {
		if got := like(tt.pattern, tt.s); got != tt.want {
			t.Errorf("like(%q, %q) = %v", tt.pattern, tt.s, got)
		}
	}
}
