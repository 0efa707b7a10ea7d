package events

import (
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
)

func TestPlain(t *testing.T) {
	tests := []struct {
		name string
		ev   func() *Event
		want string
	}{
		{"no body", func() *Event {
			e := New("CHANNEL_ANSWER")
			e.Add("Unique-ID", "abc")
			e.Add("Empty", "")
			return e
		}, "Event-Name: CHANNEL_ANSWER\nUnique-ID: abc\nEmpty: _undef_\n\n"},
		{"encoded values", func() *Event {
			e := New("CUSTOM")
			e.Add("Caller-Caller-ID-Name", "Jane Doe <1000>")
			e.Add("variable_sip_from_uri", "sip:1000@10.0.0.1:5060;tag=x")
			e.Add("Utf8", "é\n")
			return e
		}, "Event-Name: CUSTOM\nCaller-Caller-ID-Name: Jane%20Doe%20%3C1000%3E\nvariable_sip_from_uri: sip%3A1000%4010.0.0.1%3A5060%3Btag%3Dx\nUtf8: %C3%A9%0A\n\n"},
		{"body", func() *Event {
			e := New("BACKGROUND_JOB")
			e.Add("Job-UUID", "j1")
			e.Body = "+OK done\n"
			return e
		}, "Event-Name: BACKGROUND_JOB\nJob-UUID: j1\nContent-Length: 9\n\n+OK done\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(tt.ev().Plain()); got != tt.want {
				t.Errorf("Plain =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestURLDecodeRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain", "a b%c+d", "sip:1@2;x=y", "\x00\xff<>\"", "%zz%4"} {
		if got := URLDecode(string(AppendURLEncoded(nil, s))); got != s {
			t.Errorf("round trip of %q = %q", s, got)
		}
	}
	if got := URLDecode("%zz%4"); got != "%zz%4" {
		t.Errorf("malformed escapes changed: %q", got)
	}
}

func TestJSONAndXML(t *testing.T) {
	e := New("BACKGROUND_JOB")
	e.Add("Job-UUID", "j\"1")
	e.Add("Job-Command", "status & <more>")
	e.Body = "line1\nline2\t\x01"
	var m map[string]string
	if err := json.Unmarshal(e.JSON(), &m); err != nil {
		t.Fatalf("JSON %s: %v", e.JSON(), err)
	}
	want := map[string]string{"Event-Name": "BACKGROUND_JOB", "Job-UUID": "j\"1", "Job-Command": "status & <more>", "Content-Length": "13", "_body": e.Body}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("JSON[%q] = %q, want %q", k, m[k], v)
		}
	}
	if !strings.HasPrefix(string(e.JSON()), `{"Event-Name":"BACKGROUND_JOB","Job-UUID"`) {
		t.Errorf("JSON does not keep header order: %s", e.JSON())
	}
	var x struct {
		Headers struct {
			Items []struct {
				XMLName xml.Name
				Value   string `xml:",chardata"`
			} `xml:",any"`
		} `xml:"headers"`
		Length string `xml:"Content-Length"`
		Body   string `xml:"body"`
	}
	if err := xml.Unmarshal(e.XML(), &x); err != nil {
		t.Fatalf("XML %s: %v", e.XML(), err)
	}
	if len(x.Headers.Items) != 3 || x.Headers.Items[2].XMLName.Local != "Job-Command" || URLDecode(x.Headers.Items[2].Value) != "status & <more>" {
		t.Errorf("XML headers = %+v", x.Headers.Items)
	}
	if x.Body != "line1\nline2\t" || x.Length != "13" {
		t.Errorf("XML body = %q (length %q)", x.Body, x.Length)
	}
}

func TestHeaders(t *testing.T) {
	e := NewCustom("my::sub")
	e.Add("A", "1")
	e.Add("a", "2")
	e.Set("b", "3")
	e.Set("A", "4")
	if e.Name() != "CUSTOM" || e.Subclass() != "my::sub" {
		t.Fatalf("name/subclass = %q/%q", e.Name(), e.Subclass())
	}
	if got := e.Get("a"); got != "4" {
		t.Errorf("Get(a) = %q, want the first header's value 4", got)
	}
	c := e.Clone()
	e.Del("A")
	if _, ok := e.Lookup("a"); ok {
		t.Error("Del left a header behind")
	}
	if c.Get("A") != "4" || len(c.Headers()) != 5 {
		t.Errorf("Clone shares state with the original: %v", c.Headers())
	}
	if !Known("CHANNEL_HANGUP_COMPLETE") || !Known("ALL") || Known("channel_answer") || Known("NOPE") {
		t.Error("Known disagrees with FreeSWITCH's names")
	}
}
