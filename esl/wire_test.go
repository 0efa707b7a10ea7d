package esl

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/switchboard-voip/switchboard/events"
)

func TestReadCommand(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		cmd      string
		headers  string // name=value;...
		body     string
		err      error
	}{
		{name: "bare", in: "api status\n\n", cmd: "api status"},
		{name: "crlf", in: "auth ClueCon\r\n\r\n", cmd: "auth ClueCon"},
		{name: "blank lines first", in: "\n\r\n\nexit\n\n", cmd: "exit"},
		{name: "headers", in: "sendmsg u\ncall-command: execute\nexecute-app-arg:  a b: c\nno colon\n\n",
			cmd: "sendmsg u", headers: "call-command=execute;execute-app-arg=a b: c;"},
		{name: "body", in: "sendevent CUSTOM\nContent-Length: 3\n\nabcexit\n\n", cmd: "sendevent CUSTOM",
			headers: "Content-Length=3;", body: "abc"},
		{name: "zero length", in: "x\ncontent-length: 0\n\n", cmd: "x", headers: "content-length=0;"},
		{name: "negative", in: "x\nContent-Length: -1\n\n", err: ErrBadContentLength},
		{name: "too big", in: "x\nContent-Length: 101\n\n", err: ErrBadContentLength},
		{name: "huge", in: "x\nContent-Length: 184467440737095516160\n\n", err: ErrBadContentLength},
		{name: "not a number", in: "x\nContent-Length: ten\n\n", err: ErrBadContentLength},
		{name: "trailing junk", in: "x\nContent-Length: 1x\n\n", err: ErrBadContentLength},
		{name: "empty", in: "x\nContent-Length:\n\n", err: ErrBadContentLength},
		{name: "short body", in: "x\nContent-Length: 10\n\nabc", err: io.ErrUnexpectedEOF},
		{name: "eof", in: "", err: io.EOF},
		{name: "eof in headers", in: "api status\n", err: io.ErrUnexpectedEOF},
		{name: "long line", in: strings.Repeat("a", maxHeaderBytes+1) + "\n\n", err: ErrHeaderTooLong},
		{name: "many lines", in: "x\n" + strings.Repeat("H: v\n", maxHeaderBytes/5+1) + "\n", err: ErrHeaderTooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ReadCommand(bufio.NewReader(strings.NewReader(tc.in)), 100)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var hs strings.Builder
			for _, h := range p.Headers {
				fmt.Fprintf(&hs, "%s=%s;", h.Name, h.Value)
			}
			if p.Command != tc.cmd || hs.String() != tc.headers || p.Body != tc.body {
				t.Errorf("got %q %q %q, want %q %q %q", p.Command, hs.String(), p.Body, tc.cmd, tc.headers, tc.body)
			}
		})
	}
}

// TestReadCommandSequence: packets follow one another on a connection.
func TestReadCommandSequence(t *testing.T) {
	r := bufio.NewReader(strings.NewReader("api a\n\nbgapi b\nJob-UUID: j\n\nsendevent C\nContent-Length: 2\n\nxy\n\nexit\n\n"))
	var got []string
	for {
		p, err := ReadCommand(r, 100)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p.Command+"|"+p.Get("job-uuid")+"|"+p.Body)
	}
	want := []string{"api a||", "bgapi b|j|", "sendevent C||xy", "exit||"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestFrames(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  []byte
		want string
	}{
		{"reply", commandReply("+OK accepted"), "Content-Type: command/reply\nReply-Text: +OK accepted\n\n"},
		{"reply with headers", commandReply("+OK Job-UUID: j", events.Header{Name: "Job-UUID", Value: "j"}),
			"Content-Type: command/reply\nReply-Text: +OK Job-UUID: j\nJob-UUID: j\n\n"},
		{"reply keeps to one line", commandReply("a\nb\r"), "Content-Type: command/reply\nReply-Text: a b \n\n"},
		{"api", apiResponse("UP 0 years\n"), "Content-Type: api/response\nContent-Length: 11\n\nUP 0 years\n"},
		{"event", eventFrame("plain", []byte("Event-Name: X\n\n")), "Content-Length: 15\nContent-Type: text/event-plain\n\nEvent-Name: X\n\n"},
		{"disconnect", disconnectNotice("bye\n", ""), "Content-Type: text/disconnect-notice\nContent-Length: 4\n\nbye\n"},
		{"disconnect session", disconnectNotice("bye\n", "u1"),
			"Content-Type: text/disconnect-notice\nControlled-Session-UUID: u1\nContent-Disposition: disconnect\nContent-Length: 4\n\nbye\n"},
		{"linger", lingerNotice("u1", "sofia/internal/1000", -1),
			"Content-Type: text/disconnect-notice\nControlled-Session-UUID: u1\nContent-Disposition: linger\nChannel-Name: sofia/internal/1000\nLinger-Time: -1\nContent-Length: 0\n\n"},
		{"rude", rudeRejection(msgDenied), "Content-Type: text/rude-rejection\nContent-Length: 24\n\nAccess Denied, go away.\n"},
		{"log", logFrame(&logLine{level: 6, file: "f.go", function: "pkg.F", line: 3, uuid: "u", text: "line\n"}),
			"Content-Type: log/data\nContent-Length: 5\nLog-Level: 6\nText-Channel: 3\nLog-File: f.go\nLog-Func: pkg.F\nLog-Line: 3\nUser-Data: u\n\nline\n"},
	} {
		if string(tc.got) != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, tc.got, tc.want)
		}
		// Every frame reads back as one frame with nothing left over.
		r := bufio.NewReader(strings.NewReader(string(tc.got)))
		if _, err := ReadFrame(r, 1<<20); err != nil {
			t.Errorf("%s: reading it back: %v", tc.name, err)
		}
		if _, err := r.Peek(1); err != io.EOF {
			t.Errorf("%s: bytes left after the frame", tc.name)
		}
	}
}

func TestParseEvent(t *testing.T) {
	e := events.New("CUSTOM")
	e.Add("Event-Subclass", "a::b")
	e.Add("Odd", "x: y%\n")
	e.Add("Empty", "")
	e.Body = "body\n\nwith blank line"
	got, err := ParseEvent(string(e.Plain()))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got.Headers()) != fmt.Sprint([]events.Header{{Name: "Event-Name", Value: "CUSTOM"}, {Name: "Event-Subclass", Value: "a::b"}, {Name: "Odd", Value: "x: y%\n"}, {Name: "Empty", Value: "_undef_"}}) || got.Body != e.Body {
		t.Errorf("round trip: %v %q", got.Headers(), got.Body)
	}
	for _, bad := range []string{"", "Foo: x\n\n", "Event-Name: X\nContent-Length: 99\n\nshort", "Event-Name: X\nnocolon\n\n"} {
		if _, err := ParseEvent(bad); err == nil {
			t.Errorf("ParseEvent(%q): no error", bad)
		}
	}
}

// FuzzReadCommand: no input makes the reader panic, read past a body's
// limit or return a packet with a longer body than allowed.
func FuzzReadCommand(f *testing.F) {
	for _, s := range []string{
		"api status\n\n", "auth x\r\n\r\n", "sendevent C\nContent-Length: 3\n\nabc",
		"x\nContent-Length: -1\n\n", "\n\n\n", "a:b\n:\n\n", "x\nContent-Length: 0001\n\n1",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bufio.NewReader(strings.NewReader(string(in)))
		for range 100 {
			p, err := ReadCommand(r, 64)
			if err != nil {
				return
			}
			if len(p.Body) > 64 {
				t.Fatalf("body of %d bytes", len(p.Body))
			}
			if strings.ContainsAny(p.Command, "\n") {
				t.Fatalf("command %q spans lines", p.Command)
			}
		}
	})
}
