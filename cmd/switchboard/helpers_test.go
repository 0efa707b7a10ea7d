package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/switchboard-voip/switchboard/conf/conftest"
)

// result is what one run of the command line produced.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI calls run with args, as main would, and fails the test if run
// panics: bad input must end in an exit code, never a crash.
func runCLI(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := func() (code int) {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("switchboard %s panicked: %v\n%s", strings.Join(args, " "), p, debug.Stack())
			}
		}()
		return run(args, &stdout, &stderr)
	}()
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// String renders the result for failure messages.
func (r result) String() string {
	return "exit " + strconv.Itoa(r.code) + "\n--- stdout:\n" + r.stdout + "--- stderr:\n" + r.stderr
}

// rootXML is a freeswitch.xml whose dialplan section includes
// dialplan/*.xml (line 4) and dialplan/*.yaml (line 5).
const rootXML = `<?xml version="1.0"?>
<document type="freeswitch/xml">
  <section name="dialplan">
    <X-PRE-PROCESS cmd="include" data="dialplan/*.xml"/>
    <X-PRE-PROCESS cmd="include" data="dialplan/*.yaml"/>
  </section>
</document>
`

// routeJSON is the documented shape of `route --json`: exactly these six
// keys. It is declared here, not taken from package dryrun, so that the
// test pins the wire format.
type routeJSON struct {
	Context   string            `json:"context"`
	Extension *string           `json:"extension"`
	Result    string            `json:"result"`
	Actions   []jsonAction      `json:"actions"`
	Inline    []jsonInline      `json:"inline"`
	Variables map[string]string `json:"variables"`
}

type jsonAction struct {
	App  string `json:"app"`
	Data string `json:"data"`
}

type jsonInline struct {
	App     string `json:"app"`
	Data    string `json:"data"`
	Skipped bool   `json:"skipped"`
}

// jsonKeys are the keys `route --json` prints, in order.
var jsonKeys = []string{"context", "extension", "result", "actions", "inline", "variables"}

// decodeRoute checks that out is exactly one JSON object with exactly the
// six documented keys (nothing before or after it, no unknown field at any
// level, none missing, actions and inline never null) and returns it.
func decodeRoute(t *testing.T, out string) routeJSON {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	var rep routeJSON
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("route --json output does not decode: %v\n%s", err, out)
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		t.Fatalf("route --json printed more than one JSON value (next: %s, err %v):\n%s", extra, err, out)
	}

	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("route --json output is not an object: %v", err)
	}
	var keys []string
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := slices.Clone(jsonKeys)
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Fatalf("route --json keys = %v, want %v", keys, want)
	}
	for _, k := range []string{"actions", "inline", "variables"} {
		if string(raw[k]) == "null" {
			t.Errorf("route --json %q is null, want an empty collection", k)
		}
	}
	if rep.Result != "route" && rep.Result != "no_route" {
		t.Errorf("route --json result = %q, want route or no_route", rep.Result)
	}
	if (rep.Result == "route") != (rep.Extension != nil) {
		t.Errorf("route --json result %q with extension %v", rep.Result, rep.Extension)
	}
	return rep
}

// ext renders an extension name for comparisons ("<null>" for nil).
func ext(p *string) string {
	if p == nil {
		return "<null>"
	}
	return *p
}

func writeTree(t *testing.T, files map[string]string) string { return conftest.WriteTree(t, files) }

func copyTree(t *testing.T, src string) string { return conftest.CopyTree(t, src) }
