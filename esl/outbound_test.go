package esl

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/conf/conftest"
	"github.com/switchboard-voip/switchboard/session"
)

// fakeEndpoint is the signalling side of a test call.
type fakeEndpoint struct {
	mu      sync.Mutex
	hangups []cause.Cause
}

func (f *fakeEndpoint) Name() string                               { return "fake/outbound" }
func (f *fakeEndpoint) Answer(context.Context) error               { return nil }
func (f *fakeEndpoint) PreAnswer(context.Context) error            { return nil }
func (f *fakeEndpoint) RingReady(context.Context, bool) error      { return nil }
func (f *fakeEndpoint) Respond(context.Context, int, string) error { return nil }
func (f *fakeEndpoint) Redirect(context.Context, string) error     { return nil }
func (f *fakeEndpoint) Media() session.Media                       { return nil }
func (f *fakeEndpoint) Hangup(c cause.Cause) {
	f.mu.Lock()
	f.hangups = append(f.hangups, c)
	f.mu.Unlock()
}

// outboundSetup is an event-socket server handling the socket
// application, a call core routing 200 to `socket <data>` then `set
// after_socket=yes`, and a listener standing in for the external server.
type outboundSetup struct {
	ts  *testServer
	mgr *session.Manager
	ext net.Listener
}

func newOutboundSetup(t *testing.T, flags string) *outboundSetup {
	t.Helper()
	ext, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ext.Close() })
	dir := conftest.WriteTree(t, map[string]string{
		"freeswitch.xml": `<document type="freeswitch/xml"><section name="dialplan"><context name="default">
  <extension name="out"><condition field="destination_number" expression="^200$">
    <action application="set" data="before_socket=yes"/>
    <action application="socket" data="` + ext.Addr().String() + ` ` + flags + `"/>
    <action application="set" data="after_socket=yes"/>
  </condition></extension>
  <extension name="unreachable"><condition field="destination_number" expression="^201$">
    <action application="socket" data="127.0.0.1:1|` + ext.Addr().String() + `x"/>
    <action application="set" data="after_socket=yes"/>
  </condition></extension>
</context></section></document>`,
	})
	snap, err := conf.Load(conf.Options{Dir: dir, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	o := &outboundSetup{ext: ext}
	var mgr *session.Manager
	o.ts = startServer(t, func(c *Config) {
		c.HandleSocketApp = true
		c.Lookup = func(uuid string) Channel {
			if s := mgr.Get(uuid); s != nil {
				return s
			}
			return nil
		}
	})
	mgr = session.NewManager(session.Config{
		Snapshot: func() *conf.Snapshot { return snap },
		Events:   o.ts.bus,
		Logger:   slog.New(slog.DiscardHandler),
	})
	o.mgr = mgr
	return o
}

// call starts a call to dest.
func (o *outboundSetup) call(dest string) *session.Session {
	s := o.mgr.NewInbound(session.Inbound{Endpoint: &fakeEndpoint{}, Profile: &caller.Profile{DestinationNumber: dest, CallerIDNumber: "1000"}})
	s.Start()
	return s
}

// accept waits for the socket application to connect.
func (o *outboundSetup) accept(t *testing.T) *raw {
	t.Helper()
	_ = o.ext.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
	nc, err := o.ext.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &raw{t: t, nc: nc, r: bufio.NewReader(nc)}
}

func waitDone(t *testing.T, s *session.Session) {
	t.Helper()
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the call did not end")
	}
}

func TestOutboundAsyncFull(t *testing.T) {
	o := newOutboundSetup(t, "async full")
	s := o.call("200")
	c := o.accept(t)
	c.send("connect\n\n")
	p := c.expectType("command/reply")
	for h, want := range map[string]string{
		"Reply-Text": "%2BOK%0A", "Socket-Mode": "async", "Control": "full", "Event-Name": "CHANNEL_DATA",
		"Unique-ID": s.UUID(), "Channel-Destination-Number": "200", "Caller-Caller-ID-Number": "1000",
		"variable_before_socket": "yes", "variable_socket_host": "127.0.0.1", "Core-UUID": "core-1",
	} {
		if got := p.Get(h); got != want {
			t.Errorf("connect reply %s = %q, want %q", h, got, want)
		}
	}
	for _, tc := range []struct{ cmd, want string }{
		{"myevents", "+OK Events Enabled"},
		{"linger", "+OK will linger"},
		{"event plain BACKGROUND_JOB", "+OK event listener enabled plain"},
	} {
		if got := c.cmd(tc.cmd); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.cmd, got, tc.want)
		}
	}
	c.send("api echo full mode\n\n")
	if p := c.expectType("api/response"); p.Body != "full mode" {
		t.Errorf("api in full mode: %q", p.Body)
	}
	c.send("bgapi echo job\n\n")
	job := c.expectType("command/reply").Get("Job-UUID")
	if e := c.event(); e.Get("Job-UUID") != job || e.Get("Job-Owner-UUID") != s.UUID() {
		t.Errorf("background job %v", e.Headers())
	}

	c.send("sendmsg\ncall-command: execute\nexecute-app-name: set\nexecute-app-arg: foo=bar\n\n")
	if got := c.expectType("command/reply").ReplyText(); got != "+OK" {
		t.Fatalf("sendmsg: %q", got)
	}
	for {
		e := c.event()
		if e.Name() == "CHANNEL_EXECUTE_COMPLETE" && e.Get("Application") == "set" && e.Get("Application-Data") == "foo=bar" {
			break
		}
	}
	if got := c.cmd("getvar foo"); got != "bar" {
		t.Errorf("getvar foo: %q", got)
	}
	c.send("sendmsg " + s.UUID() + "\ncall-command: hangup\nhangup-cause: CALL_REJECTED\n\n")
	// The reply, and, lingering, the disconnect notice saying so and the
	// hangup events, in whatever order the two goroutines write them.
	sawReply, sawLinger, sawComplete := false, false, false
	for !sawReply || !sawLinger || !sawComplete {
		p := c.frame()
		switch p.ContentType() {
		case "command/reply":
			if p.ReplyText() != "+OK" {
				t.Fatalf("sendmsg hangup: %q", p.ReplyText())
			}
			sawReply = true
		case "text/disconnect-notice":
			if p.Get("Content-Disposition") != "linger" || p.Get("Controlled-Session-UUID") != s.UUID() || p.Get("Channel-Name") != "fake/outbound" {
				t.Errorf("linger notice %+v", p)
			}
			sawLinger = true
		case "text/event-plain":
			e, err := ParseEvent(p.Body)
			if err != nil {
				t.Fatal(err)
			}
			if e.Name() == "CHANNEL_HANGUP_COMPLETE" {
				if e.Get("Hangup-Cause") != "CALL_REJECTED" {
					t.Errorf("hangup cause %q", e.Get("Hangup-Cause"))
				}
				sawComplete = true
			}
		}
	}
	waitDone(t, s)
	c.send("exit\n\n")
	var rest []*Packet
	for _, p := range c.expectClosed() {
		if p.ContentType() != "text/event-plain" { // the call's last events
			rest = append(rest, p)
		}
	}
	if len(rest) != 2 || rest[0].ReplyText() != "+OK bye" || rest[1].Get("Content-Disposition") != "disconnect" {
		t.Errorf("after exit: %+v", rest)
	}
	waitFor(t, "the connection to end", func() bool { return o.ts.Connections() == 0 })
}

func TestOutboundStatic(t *testing.T) {
	o := newOutboundSetup(t, "")
	s := o.call("200")
	c := o.accept(t)
	c.send("connect\n\n")
	p := c.expectType("command/reply")
	if p.Get("Socket-Mode") != "static" || p.Get("Control") != "single-channel" {
		t.Errorf("connect reply %+v", p.Headers)
	}
	if got := c.cmd("api echo x"); got != "-ERR command not found" {
		t.Errorf("api without full: %q", got)
	}
	// Without "full" the command set is FreeSWITCH's short list.
	for _, cmd := range []string{"linger 5", "event plain ALL", "log info", "sendevent CUSTOM"} {
		if got := c.cmd(cmd); got != "-ERR command not found" {
			t.Errorf("%s without full: %q", cmd, got)
		}
	}
	// Static mode: the reply comes once the application has run.
	c.send("sendmsg\ncall-command: execute\nexecute-app-name: set\nexecute-app-arg: x=1\n\n")
	if got := c.expectType("command/reply").ReplyText(); got != "+OK" {
		t.Fatalf("sendmsg: %q", got)
	}
	if got := c.cmd("getvar x"); got != "1" {
		t.Errorf("getvar right after a static sendmsg: %q", got)
	}
	c.send("sendmsg\ncall-command: execute\nexecute-app-name: no_such_app\n\n")
	if got := c.expectType("command/reply").ReplyText(); !strings.HasPrefix(got, "-ERR") {
		t.Errorf("unknown app: %q", got)
	}
	if got := c.cmd("resume"); got != "+OK" {
		t.Errorf("resume: %q", got)
	}
	// The external server leaves: the dialplan goes on.
	c.nc.Close()
	waitDone(t, s)
	if v, _ := s.Vars().Get("after_socket"); v != "yes" {
		t.Error("the dialplan did not continue after the socket closed")
	}
	if v, _ := s.Vars().Get("socket_resume"); v != "true" {
		t.Errorf("socket_resume = %q", v)
	}
}

func TestOutboundHangupWithoutLinger(t *testing.T) {
	o := newOutboundSetup(t, "async")
	s := o.call("200")
	c := o.accept(t)
	c.send("connect\n\n")
	c.expectType("command/reply")
	s.Hangup(cause.CNormalClearing)
	rest := c.expectClosed()
	if len(rest) != 1 || rest[0].Get("Content-Disposition") != "disconnect" || rest[0].Get("Controlled-Session-UUID") != s.UUID() || rest[0].Body != msgGoodbye {
		t.Errorf("on hangup: %+v", rest)
	}
	waitDone(t, s)
}

func TestOutboundUnreachable(t *testing.T) {
	o := newOutboundSetup(t, "")
	// 127.0.0.1:1 refuses; the second host has no port number to dial.
	s := o.call("201")
	waitDone(t, s)
	if v, _ := s.Vars().Get("after_socket"); v != "yes" {
		t.Error("the dialplan did not continue after the socket failed")
	}
}
