package esl

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/commands"
	"github.com/switchboard-voip/switchboard/events"
)

func init() {
	commands.Register(commands.Command{Name: "esltest_empty", Run: func(context.Context, commands.Env, string) (string, error) {
		return "", nil
	}})
	commands.Register(commands.Command{Name: "esltest_args", Run: func(_ context.Context, _ commands.Env, args string) (string, error) {
		return "[" + args + "]\n", nil
	}})
}

// TestWireTranscripts checks the exact bytes of the handshake and of the
// replies FreeSWITCH's clients parse.
func TestWireTranscripts(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dialRaw(t)
	buf := make([]byte, len(authRequest))
	if _, err := c.r.Read(buf); err != nil || string(buf) != authRequest {
		t.Fatalf("greeting %q, want %q", buf, authRequest)
	}
	c.send("api status\n\n")
	if got := c.expectType("command/reply").ReplyText(); got != "-ERR command not found" {
		t.Errorf("api before auth: %q", got)
	}
	c.send("auth secret\r\n\r\n")
	want := "Content-Type: command/reply\nReply-Text: +OK accepted\n\n"
	buf = make([]byte, len(want))
	if _, err := io_ReadFull(c, buf); err != nil || string(buf) != want {
		t.Fatalf("auth reply %q, want %q", buf, want)
	}
	c.send("api esltest_args a  b \n\n")
	want = "Content-Type: api/response\nContent-Length: 7\n\n[a  b]\n"
	buf = make([]byte, len(want))
	if _, err := io_ReadFull(c, buf); err != nil || string(buf) != want {
		t.Fatalf("api reply %q, want %q", buf, want)
	}
	c.send("exit\n\n")
	want = "Content-Type: command/reply\nReply-Text: +OK bye\n\n" +
		"Content-Type: text/disconnect-notice\nContent-Length: 67\n\n" + msgGoodbye
	buf = make([]byte, len(want))
	if _, err := io_ReadFull(c, buf); err != nil || string(buf) != want {
		t.Fatalf("exit: %q, want %q", buf, want)
	}
	if rest := c.expectClosed(); len(rest) != 0 {
		t.Errorf("frames after the disconnect notice: %+v", rest)
	}
}

func io_ReadFull(c *raw, buf []byte) (int, error) {
	_ = c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	n := 0
	for n < len(buf) {
		m, err := c.r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func TestWrongPassword(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dialRaw(t)
	c.expectType("auth/request")
	c.send("auth ClueCon\n\n")
	if got := c.expectType("command/reply").ReplyText(); got != "-ERR invalid" {
		t.Errorf("reply %q, want -ERR invalid", got)
	}
	rest := c.expectClosed()
	if len(rest) != 1 || rest[0].ContentType() != "text/disconnect-notice" {
		t.Errorf("after -ERR invalid: %+v, want a disconnect notice then close", rest)
	}
	// The server still works.
	ts.authed(t)

	c = ts.dialRaw(t)
	c.expectType("auth/request")
	if got := c.cmd("userauth 1000@example.com:pw"); got != "-ERR invalid" {
		t.Errorf("userauth: %q", got)
	}
	if rest := c.expectClosed(); len(rest) != 1 {
		t.Errorf("after userauth: %+v", rest)
	}
}

func TestAPI(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.authed(t)
	for _, tc := range []struct{ cmd, want string }{
		{"api echo hello", "hello"},
		{"api nosuchcommand x", "-ERR nosuchcommand Command not found!\n"},
		{"api esltest_empty", "-ERR no reply\n"},
		{"API esltest_args", "[]\n"},
	} {
		c.send(tc.cmd + "\n\n")
		p := c.expectType("api/response")
		if p.Body != tc.want {
			t.Errorf("%s: %q, want %q", tc.cmd, p.Body, tc.want)
		}
	}
	for _, tc := range []struct{ cmd, want string }{
		{"api", "-ERR command not found"},
		{"frobnicate", "-ERR command not found"},
		{"userauth a@b:c", "-ERR command not found"},
		{"linger", "-ERR not controlling a session"},
		{"nolinger", "-ERR not controlling a session"},
		{"divert_events on", "-ERR not controlling a session."},
		{"resume", "-ERR command not found"},
		{"getvar x", "-ERR command not found"},
	} {
		if got := c.cmd(tc.cmd); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.cmd, got, tc.want)
		}
	}
}

func TestBgapi(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.authed(t)
	if got := c.cmd("event plain BACKGROUND_JOB"); got != "+OK event listener enabled plain" {
		t.Fatalf("event: %q", got)
	}
	c.send("bgapi esltest_args x y\nJob-UUID: my-job\n\n")
	p := c.expectType("command/reply")
	if p.ReplyText() != "+OK Job-UUID: my-job" || p.Get("Job-UUID") != "my-job" {
		t.Fatalf("bgapi reply %+v", p)
	}
	e := c.event()
	for h, want := range map[string]string{
		"Event-Name": "BACKGROUND_JOB", "Job-UUID": "my-job", "Job-Owner-UUID": "_undef_", // empty, as FreeSWITCH writes it
		"Job-Command": "esltest_args", "Job-Command-Arg": "x y", "Core-UUID": "core-1",
	} {
		if got, ok := e.Lookup(h); !ok || got != want {
			t.Errorf("%s = %q (%v), want %q", h, got, ok, want)
		}
	}
	if e.Body != "[x y]\n" {
		t.Errorf("body %q", e.Body)
	}
	// Without a Job-UUID header the server makes one; no argument means
	// no Job-Command-Arg.
	c.send("bgapi nosuch\n\n")
	p = c.expectType("command/reply")
	job := p.Get("Job-UUID")
	if len(job) != 36 || p.ReplyText() != "+OK Job-UUID: "+job {
		t.Fatalf("bgapi reply %+v", p)
	}
	e = c.event()
	if e.Get("Job-UUID") != job || e.Body != "-ERR nosuch Command not found!\n" {
		t.Errorf("job event %v body %q", e.Headers(), e.Body)
	}
	if _, ok := e.Lookup("Job-Command-Arg"); ok {
		t.Error("Job-Command-Arg without an argument")
	}
}

func TestEventSubscriptionAndFormats(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.authed(t)
	for _, tc := range []struct{ cmd, want string }{
		{"event", "-ERR no keywords supplied"},
		{"event plain", "-ERR no keywords supplied"},
		{"event plain NOT_AN_EVENT", "-ERR no keywords supplied"},
		{"noevents", "-ERR not listening for events"},
		{"event plain channel_answer SWITCH_EVENT_DTMF", "+OK event listener enabled plain"},
	} {
		if got := c.cmd(tc.cmd); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.cmd, got, tc.want)
		}
	}
	ts.bus.Fire(channelEvent("CHANNEL_HANGUP", "u1")) // not subscribed
	ts.bus.Fire(channelEvent("CHANNEL_ANSWER", "u1"))
	if e := c.event(); e.Name() != "CHANNEL_ANSWER" {
		t.Errorf("got %s", e.Name())
	}
	ts.bus.Fire(channelEvent("DTMF", "u1"))
	if e := c.event(); e.Name() != "DTMF" {
		t.Errorf("got %s", e.Name())
	}

	if got := c.cmd("event json CHANNEL_ANSWER"); got != "+OK event listener enabled json" {
		t.Fatalf("json: %q", got)
	}
	e := events.New("CHANNEL_ANSWER")
	e.Add("Unique-ID", "u2")
	e.Body = "b"
	ts.bus.Fire(e)
	p := c.expectType("text/event-json")
	var m map[string]string
	if err := json.Unmarshal([]byte(p.Body), &m); err != nil {
		t.Fatalf("json body %q: %v", p.Body, err)
	}
	if m["Event-Name"] != "CHANNEL_ANSWER" || m["Unique-ID"] != "u2" || m["_body"] != "b" {
		t.Errorf("json event %v", m)
	}
	if got := c.cmd("event xml CHANNEL_ANSWER"); got != "+OK event listener enabled xml" {
		t.Fatalf("xml: %q", got)
	}
	ts.bus.Fire(channelEvent("CHANNEL_ANSWER", "u3"))
	p = c.expectType("text/event-xml")
	if !strings.HasPrefix(p.Body, "<event>") || !strings.Contains(p.Body, "<Unique-ID>u3</Unique-ID>") {
		t.Errorf("xml event %q", p.Body)
	}

	if got := c.cmd("noevents"); got != "+OK no longer listening for events" {
		t.Errorf("noevents: %q", got)
	}
	ts.bus.Fire(channelEvent("CHANNEL_ANSWER", "u4"))
	if got := c.cmd("nolog"); got != "-ERR not loging" || len(c.pending) != 0 {
		t.Errorf("nolog: %q, %d events after noevents", got, len(c.pending))
	}
	if ts.bus.Subscribers() != 0 {
		t.Errorf("%d subscribers after noevents", ts.bus.Subscribers())
	}
}

func TestEventAllNixAndCustom(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.authed(t)
	if got := c.cmd("event plain ALL"); got != "+OK event listener enabled plain" {
		t.Fatal(got)
	}
	if got := c.cmd("nixevent DTMF"); got != "+OK events nixed" {
		t.Fatal(got)
	}
	if got := c.cmd("nixevent"); got != "-ERR no keywords supplied" {
		t.Errorf("nixevent alone: %q", got)
	}
	// ALL is now every name but DTMF. As in FreeSWITCH, CUSTOM events
	// need their subclass named again.
	ts.bus.Fire(channelEvent("DTMF", "u"))
	ts.bus.Fire(events.NewCustom("my::thing"))
	ts.bus.Fire(channelEvent("CHANNEL_HANGUP", "u"))
	if e := c.event(); e.Name() != "CHANNEL_HANGUP" {
		t.Errorf("after nixevent DTMF got %s/%s, want CHANNEL_HANGUP", e.Name(), e.Subclass())
	}

	d := ts.authed(t)
	if got := d.cmd("event plain CUSTOM a::b c::d"); got != "+OK event listener enabled plain" {
		t.Fatal(got)
	}
	ts.bus.Fire(events.NewCustom("x::y"))
	ts.bus.Fire(events.NewCustom("c::d"))
	if e := d.event(); e.Subclass() != "c::d" {
		t.Errorf("got subclass %q, want c::d", e.Subclass())
	}
	if got := d.cmd("nixevent CUSTOM c::d"); got != "+OK events nixed" {
		t.Fatal(got)
	}
	ts.bus.Fire(events.NewCustom("c::d"))
	ts.bus.Fire(events.NewCustom("a::b"))
	if e := d.event(); e.Subclass() != "a::b" {
		t.Errorf("got subclass %q, want a::b", e.Subclass())
	}
}

func TestFilterCommand(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.authed(t)
	for _, tc := range []struct{ cmd, want string }{
		{"filter Unique-ID", "-ERR invalid syntax"},
		{"filter Unique-ID keep", "+OK filter added. [Unique-ID]=[keep]"},
		{"filter add Caller-Number /^10[0-9]$/", "+OK filter added. [Caller-Number]=[/^10[0-9]$/]"},
		{"filter Unique-ID -drop", "+OK filter added. [Unique-ID]=[-drop]"},
		{"filter X /(a)\\1/", "-ERR invalid filter: /(a)\\1/ needs lookaround or backreferences, which event filters do not allow"},
		{"event plain CHANNEL_ANSWER", "+OK event listener enabled plain"},
	} {
		if got := c.cmd(tc.cmd); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.cmd, got, tc.want)
		}
	}
	fire := func(uuid, number string) {
		e := channelEvent("CHANNEL_ANSWER", uuid)
		if number != "" {
			e.Add("Caller-Number", number)
		}
		ts.bus.Fire(e)
	}
	fire("other", "")
	fire("drop", "")
	fire("other", "105")
	if e := c.event(); e.Get("Caller-Number") != "105" {
		t.Errorf("first event through the filters: %v", e.Headers())
	}
	fire("KEEP", "") // compared without regard to case
	if e := c.event(); e.Get("Unique-ID") != "KEEP" {
		t.Errorf("got %v", e.Headers())
	}
	if got := c.cmd("filter delete Unique-ID keep"); got != "+OK filter deleted. [Unique-ID][keep]" {
		t.Errorf("delete: %q", got)
	}
	fire("keep", "")
	fire("x", "101")
	if e := c.event(); e.Get("Unique-ID") != "x" {
		t.Errorf("after delete got %v", e.Headers())
	}
	if got := c.cmd("filter delete all"); got != "+OK filter deleted. [all][]" {
		t.Errorf("delete all: %q", got)
	}
	fire("drop", "")
	if e := c.event(); e.Get("Unique-ID") != "drop" {
		t.Errorf("after delete all got %v", e.Headers())
	}
}

func TestSendevent(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.authed(t)
	listener := ts.authed(t)
	listener.cmd("event plain CUSTOM my::event")
	c.send("sendevent CUSTOM\nEvent-Subclass: my::event\nFoo: bar baz\nContent-Length: 5\n\nhello")
	reply := c.expectType("command/reply").ReplyText()
	id, ok := strings.CutPrefix(reply, "+OK ")
	if !ok || len(id) != 36 {
		t.Fatalf("sendevent reply %q", reply)
	}
	e := listener.event()
	if e.Name() != "CUSTOM" || e.Subclass() != "my::event" || e.Get("Foo") != "bar baz" || e.Get("Event-UUID") != id || e.Body != "hello" {
		t.Errorf("event %v body %q", e.Headers(), e.Body)
	}
	if n := strings.Count(fmt.Sprint(e.Headers()), "Event-Subclass"); n != 1 {
		t.Errorf("Event-Subclass %d times", n)
	}
	if got := c.cmd("sendevent NOPE"); got != "-ERR invalid event name" {
		t.Errorf("unknown name: %q", got)
	}
}

func TestSendmsg(t *testing.T) {
	ts := startServer(t, nil)
	call := ts.addCall("call-1")
	c := ts.authed(t)
	for _, tc := range []struct{ msg, want string }{
		{"sendmsg nosuch\ncall-command: execute\nexecute-app-name: playback\n\n", "-ERR invalid session id [nosuch]"},
		{"sendmsg\ncall-command: execute\n\n", "-ERR invalid session id []"},
		{"sendmsg call-1\ncall-command: execute\nexecute-app-name: playback\nexecute-app-arg: a.wav\n\n", "+OK"},
		{"sendmsg call-1\ncall-command: execute\nexecute-app-name: playback\nloops: 3\ncontent-type: text/plain\ncontent-length: 5\n\nb.wav", "+OK"},
		{"sendmsg\nsession-id: call-1\ncall-command: execute\nexecute-app-name: log\nexecute-app-arg: INFO hi\n\n", "+OK"},
		{"sendmsg call-1\ncall-command: execute\n\n", "-ERR missing execute-app-name"},
		{"sendmsg call-1\ncall-command: unicast\n\n", "-ERR call-command unicast is not supported"},
		{"sendmsg call-1\n\n", "-ERR missing call-command"},
		{"sendmsg call-1\ncall-command: hangup\nhangup-cause: USER_BUSY\n\n", "+OK"},
	} {
		c.send(tc.msg)
		if got := c.expectType("command/reply").ReplyText(); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.msg, got, tc.want)
		}
	}
	queued, c2 := call.snapshot()
	want := []string{"playback(a.wav)x1", "playback(b.wav)x3", "log(INFO hi)x1"}
	if fmt.Sprint(queued) != fmt.Sprint(want) {
		t.Errorf("queued %q, want %q", queued, want)
	}
	if c2 != cause.CUserBusy {
		t.Errorf("hangup cause %v", c2)
	}
}

func TestMyEventsAndLinger(t *testing.T) {
	ts := startServer(t, nil)
	call := ts.addCall("call-1")
	c := ts.authed(t)
	if got := c.cmd("myevents nosuch"); got != "-ERR invalid uuid" {
		t.Errorf("unknown uuid: %q", got)
	}
	if got := c.cmd("myevents call-1"); got != "+OK Events Enabled" {
		t.Fatalf("myevents: %q", got)
	}
	for _, tc := range []struct{ cmd, want string }{
		{"myevents call-1", "-ERR aready enabled."},
		{"divert_events", "-ERR missing value."},
		{"divert_events off", "+OK events not diverted"},
		{"divert_events on", "-ERR divert_events is not supported"},
		{"linger", "+OK will linger"},
		{"linger -1", "+OK will linger"},
		{"linger 0", "+OK will linger 0 seconds"},
		{"nolinger", "+OK will not linger"},
		{"linger 1", "+OK will linger 1 seconds"},
	} {
		if got := c.cmd(tc.cmd); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.cmd, got, tc.want)
		}
	}
	ts.bus.Fire(channelEvent("CHANNEL_ANSWER", "other"))
	ts.bus.Fire(channelEvent("CHANNEL_ANSWER", "call-1"))
	if e := c.event(); e.Get("Unique-ID") != "call-1" {
		t.Errorf("got an event of %q", e.Get("Unique-ID"))
	}
	// sendmsg without a uuid goes to the followed call.
	c.send("sendmsg\ncall-command: execute\nexecute-app-name: answer\n\n")
	if got := c.expectType("command/reply").ReplyText(); got != "+OK" {
		t.Errorf("sendmsg: %q", got)
	}
	if q, _ := call.snapshot(); len(q) != 1 || q[0] != "answer()x1" {
		t.Errorf("queued %q", q)
	}
	call.Hangup(cause.CNormalClearing)
	p := c.expectType("text/disconnect-notice")
	if p.Get("Content-Disposition") != "linger" || p.Get("Controlled-Session-UUID") != "call-1" || p.Get("Linger-Time") != "1" || p.Get("Channel-Name") != "fake/call-1" {
		t.Errorf("linger notice %+v", p)
	}
	ts.bus.Fire(channelEvent("CHANNEL_HANGUP_COMPLETE", "call-1"))
	if e := c.event(); e.Name() != "CHANNEL_HANGUP_COMPLETE" {
		t.Errorf("lingering got %s", e.Name())
	}
	rest := c.expectClosed()
	if len(rest) != 1 || rest[0].Get("Content-Disposition") != "disconnect" || rest[0].Body != msgGoodbye {
		t.Errorf("after the linger time: %+v", rest)
	}
}

func TestMyEventsClosesOnHangup(t *testing.T) {
	ts := startServer(t, nil)
	call := ts.addCall("call-2")
	c := ts.authed(t)
	if got := c.cmd("myevents plain call-2"); got != "+OK Events Enabled" { // format first, as eslgo sends it
		t.Fatalf("myevents: %q", got)
	}
	call.Hangup(cause.CNormalClearing)
	rest := c.expectClosed()
	if len(rest) != 1 || rest[0].Get("Controlled-Session-UUID") != "call-2" || rest[0].Get("Content-Disposition") != "disconnect" {
		t.Errorf("after hangup: %+v", rest)
	}
}

func TestLogStreaming(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.authed(t)
	for _, tc := range []struct{ cmd, want string }{
		{"log bogus", "-ERR invalid log level"},
		{"log notice", "+OK log level notice [5]"},
	} {
		if got := c.cmd(tc.cmd); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.cmd, got, tc.want)
		}
	}
	ts.log.Info("not wanted")
	ts.log.With("uuid", "u-9").Warn("wanted", "k", "v w")
	p := c.expectType("log/data")
	if p.Get("Log-Level") != "4" || p.Get("User-Data") != "u-9" || p.Get("Text-Channel") != "3" || p.Get("Log-File") != "server_test.go" {
		t.Errorf("log headers %+v", p.Headers)
	}
	if !strings.Contains(p.Body, "[WARNING] server_test.go:") || !strings.HasSuffix(p.Body, ` wanted uuid=u-9 k="v w"`+"\n") {
		t.Errorf("log line %q", p.Body)
	}
	if got := c.cmd("log"); got != "+OK log level  [7]" {
		t.Errorf("log: %q", got)
	}
	ts.log.Debug("now wanted")
	if p := c.expectType("log/data"); !strings.Contains(p.Body, "now wanted") {
		t.Errorf("debug line %q", p.Body)
	}
	if got := c.cmd("nolog"); got != "+OK no longer logging" {
		t.Errorf("nolog: %q", got)
	}
	ts.log.Error("after nolog")
	if got := c.cmd("nolog"); got != "-ERR not loging" {
		t.Errorf("nolog again: %q", got)
	}
}

func TestContentLengthAbuse(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxContentLength = 1000 })
	for _, cl := range []string{"-1", "1001", "99999999999999999999", "abc", "", "12abc"} {
		t.Run(cl, func(t *testing.T) {
			c := ts.authed(t)
			c.send("sendevent CUSTOM\nContent-Length: " + cl + "\n\n")
			rest := c.expectClosed()
			if len(rest) != 1 || rest[0].ContentType() != "text/disconnect-notice" {
				t.Errorf("Content-Length %q: %+v, want a disconnect notice and a close", cl, rest)
			}
		})
	}
	c := ts.authed(t)
	c.send("sendevent CUSTOM\nEvent-Subclass: a::b\nContent-Length: 1000\n\n" + strings.Repeat("x", 1000))
	if got := c.expectType("command/reply").ReplyText(); !strings.HasPrefix(got, "+OK ") {
		t.Errorf("a body at the limit: %q", got)
	}
	c.send(strings.Repeat("y", maxHeaderBytes+10))
	if rest := c.expectClosed(); len(rest) != 1 {
		t.Errorf("an endless header line: %+v", rest)
	}
}

func TestAuthTimeoutAndConnectionLimit(t *testing.T) {
	ts := startServer(t, func(c *Config) {
		c.AuthTimeout = 200 * time.Millisecond
		c.MaxConnections = 3
	})
	idle := ts.dialRaw(t)
	idle.expectType("auth/request")
	if rest := idle.expectClosed(); len(rest) != 1 || rest[0].ContentType() != "text/disconnect-notice" {
		t.Errorf("an idle unauthenticated connection: %+v", rest)
	}
	waitFor(t, "the idle connection to be forgotten", func() bool { return ts.Connections() == 0 })

	var open []*raw
	for range 3 {
		open = append(open, ts.authed(t))
	}
	extra := ts.dialRaw(t)
	p := extra.frame()
	if p.ContentType() != "text/rude-rejection" || p.Body != msgTooMany {
		t.Errorf("over the limit: %+v", p)
	}
	open[0].cmd("exit")
	waitFor(t, "a free slot", func() bool { return ts.Connections() < 3 })
	ts.authed(t)
	// An authenticated connection has no read timeout.
	time.Sleep(300 * time.Millisecond)
	if got := open[1].cmd("noevents"); got != "-ERR not listening for events" {
		t.Errorf("an authenticated idle connection: %q", got)
	}
}

func TestInboundACL(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.Settings.InboundACL = []string{"10.0.0.0/8"} })
	c := ts.dialRaw(t)
	p := c.frame()
	if p.ContentType() != "text/rude-rejection" || p.Body != msgDenied {
		t.Errorf("rejected client got %+v", p)
	}
	ts.Reconfigure(Settings{Enabled: true, ListenIP: "127.0.0.1", ListenPort: 0, Password: "other", InboundACL: []string{"127.0.0.0/8"}}, nil)
	c = ts.dialRaw(t)
	c.expectType("auth/request")
	if got := c.cmd("auth other"); got != "+OK accepted" {
		t.Errorf("after Reconfigure: %q", got)
	}
}

// TestSlowConsumerDropped: a client that never reads is dropped once its
// buffer fills, and firing never blocks on it.
func TestSlowConsumerDropped(t *testing.T) {
	ts := startServer(t, func(c *Config) {
		c.EventBuffer = 16
		c.WriteTimeout = 200 * time.Millisecond
	})
	c := ts.authed(t)
	if got := c.cmd("event plain ALL"); got != "+OK event listener enabled plain" {
		t.Fatal(got)
	}
	if tcp, ok := c.nc.(*net.TCPConn); ok {
		_ = tcp.SetReadBuffer(4096)
	}
	big := strings.Repeat("z", 64<<10)
	for i := 0; i < 2000 && ts.bus.Subscribers() > 0; i++ {
		e := channelEvent("CHANNEL_ANSWER", "u")
		e.Body = big
		ts.bus.Fire(e)
	}
	waitFor(t, "the slow subscriber to be dropped", func() bool { return ts.bus.Subscribers() == 0 })
	waitFor(t, "the slow connection to be closed", func() bool { return ts.Connections() == 0 })
	// Others are unaffected.
	d := ts.authed(t)
	if got := d.cmd("noevents"); got != "-ERR not listening for events" {
		t.Error(got)
	}
}

func TestShutdownNotice(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.authed(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ts.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	rest := c.expectClosed()
	if len(rest) != 1 || rest[0].Body != msgShutdown {
		t.Errorf("on shutdown: %+v", rest)
	}
	if _, err := net.Dial("tcp", ts.addr); err == nil {
		t.Error("still accepting after Shutdown")
	}
}

func TestClient(t *testing.T) {
	ts := startServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := Dial(ctx, ts.addr, "wrong"); err == nil || !strings.Contains(err.Error(), "-ERR invalid") {
		t.Errorf("wrong password: %v", err)
	}
	cl, err := Dial(ctx, ts.addr, "secret")
	if err != nil {
		t.Fatal(err)
	}
	out, err := cl.API(ctx, "echo hi there")
	if err != nil || out != "hi there" {
		t.Errorf("API: %q %v", out, err)
	}
	if _, err := cl.Command(ctx, "event plain CUSTOM a::b"); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Command(ctx, "frob"); err == nil {
		t.Error("Command of an unknown command: no error")
	}
	e := events.NewCustom("a::b")
	e.Add("X", "1 2%")
	ts.bus.Fire(e)
	n := <-cl.Notices()
	got, err := ParseEvent(n.Body)
	if err != nil || got.Get("X") != "1 2%" || got.Get("Core-UUID") != "core-1" {
		t.Errorf("event %v %v", got, err)
	}
	if err := cl.Close(); err != nil {
		t.Error(err)
	}
	for range cl.Notices() {
	}
}

// TestStartRetriesBind: an address in use is retried in the background,
// unless stop-on-bind-error asks for an error.
func TestStartRetriesBind(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := busy.Addr().(*net.TCPAddr).Port
	set := Settings{Enabled: true, ListenIP: "127.0.0.1", ListenPort: port, Password: "pw", InboundACL: []string{DefaultInboundACL}, StopOnBindError: true}
	strict := NewServer(Config{Settings: set, Logger: slog.New(slog.DiscardHandler)})
	if err := strict.Start(10 * time.Millisecond); err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("stop-on-bind-error: %v", err)
	}
	set.StopOnBindError = false
	srv := NewServer(Config{Settings: set, Logger: slog.New(slog.DiscardHandler)})
	if err := srv.Start(10 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	if srv.Addr() != nil {
		t.Error("listening on a busy port")
	}
	busy.Close()
	waitFor(t, "the server to listen", func() bool { return srv.Addr() != nil })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cl, err := Dial(ctx, srv.Addr().String(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	cl.Close()
}
