package esl

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/commands"
	"github.com/switchboard-voip/switchboard/events"
	"github.com/switchboard-voip/switchboard/vars"
)

// testServer is a server on a loopback port with its own bus, log tee and
// calls.
type testServer struct {
	*Server
	addr  string
	bus   *events.Bus
	tee   *LogTee
	log   *slog.Logger // logs through tee
	calls map[string]*fakeChannel
	mu    sync.Mutex
}

// startServer starts a server; edit may change its configuration first.
func startServer(t testing.TB, edit func(*Config)) *testServer {
	t.Helper()
	ts := &testServer{calls: map[string]*fakeChannel{}}
	ts.bus = events.NewBus(events.BusConfig{CoreUUID: "core-1", Hostname: "testhost", Logger: slog.New(slog.DiscardHandler)})
	ts.tee = NewLogTee(slog.DiscardHandler)
	ts.log = slog.New(ts.tee)
	cfg := Config{
		Settings: Settings{Enabled: true, ListenIP: "127.0.0.1", ListenPort: 0, Password: "secret", InboundACL: []string{DefaultInboundACL}},
		Env:      &commands.Host{Runtime: vars.NewStore()},
		Events:   ts.bus,
		Logs:     ts.tee,
		Logger:   slog.New(slog.DiscardHandler),
		Lookup: func(uuid string) Channel {
			ts.mu.Lock()
			defer ts.mu.Unlock()
			if c, ok := ts.calls[uuid]; ok {
				return c
			}
			return nil
		},
	}
	if edit != nil {
		edit(&cfg)
	}
	ts.Server = NewServer(cfg)
	if err := ts.Listen(); err != nil {
		t.Fatal(err)
	}
	ts.addr = ts.Addr().String()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := ts.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return ts
}

// addCall registers a fake call the server can find.
func (ts *testServer) addCall(uuid string) *fakeChannel {
	c := newFakeChannel(uuid)
	ts.mu.Lock()
	ts.calls[uuid] = c
	ts.mu.Unlock()
	return c
}

// raw is a test client speaking the wire protocol by hand.
type raw struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
	// pending holds events (and log lines) read while waiting for a
	// reply; frame returns them first.
	pending []*Packet
}

func (ts *testServer) dialRaw(t *testing.T) *raw {
	t.Helper()
	nc, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &raw{t: t, nc: nc, r: bufio.NewReader(nc)}
}

// authed dials and authenticates.
func (ts *testServer) authed(t *testing.T) *raw {
	t.Helper()
	c := ts.dialRaw(t)
	c.expectType("auth/request")
	c.send("auth secret\n\n")
	if got := c.frame().ReplyText(); got != "+OK accepted" {
		t.Fatalf("auth: %q", got)
	}
	return c
}

func (c *raw) send(s string) {
	c.t.Helper()
	if _, err := c.nc.Write([]byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

// frame reads the next frame (failing the test after 5 s).
func (c *raw) frame() *Packet {
	c.t.Helper()
	if len(c.pending) > 0 {
		p := c.pending[0]
		c.pending = c.pending[1:]
		return p
	}
	p, err := c.next(5 * time.Second)
	if err != nil {
		c.t.Fatalf("reading a frame: %v", err)
	}
	return p
}

func (c *raw) next(d time.Duration) (*Packet, error) {
	_ = c.nc.SetReadDeadline(time.Now().Add(d))
	return ReadFrame(c.r, 1<<24)
}

// expectType reads the next frame, which must be of type ct. Waiting for
// a reply, it sets events and log lines aside for later.
func (c *raw) expectType(ct string) *Packet {
	c.t.Helper()
	var p *Packet
	for {
		if ct == "command/reply" || ct == "api/response" {
			q, err := c.next(5 * time.Second)
			if err != nil {
				c.t.Fatalf("waiting for %s: %v", ct, err)
			}
			if strings.HasPrefix(q.ContentType(), "text/event-") || q.ContentType() == "log/data" {
				c.pending = append(c.pending, q)
				continue
			}
			p = q
			break
		}
		p = c.frame()
		break
	}
	if p.ContentType() != ct {
		c.t.Fatalf("got a %q frame (%+v), want %s", p.ContentType(), p, ct)
	}
	return p
}

// cmd sends a command and returns the reply text.
func (c *raw) cmd(s string) string {
	c.t.Helper()
	c.send(s + "\n\n")
	return c.expectType("command/reply").ReplyText()
}

// expectClosed reads until the server closes the connection and returns
// the frames it sent first.
func (c *raw) expectClosed() []*Packet {
	c.t.Helper()
	var got []*Packet
	for {
		p, err := c.next(5 * time.Second)
		if err == io.EOF || err != nil && strings.Contains(err.Error(), "reset") {
			return got
		}
		if err != nil {
			c.t.Fatalf("waiting for the server to close: %v (after %d frames)", err, len(got))
		}
		got = append(got, p)
	}
}

// event reads frames until an event arrives and parses it.
func (c *raw) event() *events.Event {
	c.t.Helper()
	for {
		p := c.frame()
		if p.ContentType() != "text/event-plain" {
			c.t.Fatalf("got a %q frame, want an event: %+v", p.ContentType(), p)
		}
		e, err := ParseEvent(p.Body)
		if err != nil {
			c.t.Fatal(err)
		}
		return e
	}
}

// fakeChannel is a call for sendmsg and myevents.
type fakeChannel struct {
	uuid   string
	ctx    context.Context
	cancel context.CancelFunc
	vars   *vars.Store

	mu     sync.Mutex
	queued []string // "app(data)xN"
	cause  cause.Cause
}

func newFakeChannel(uuid string) *fakeChannel {
	ctx, cancel := context.WithCancel(context.Background())
	f := &fakeChannel{uuid: uuid, ctx: ctx, cancel: cancel, vars: vars.NewStore()}
	f.vars.Set("channel_name", "fake/"+uuid)
	return f
}

func (f *fakeChannel) UUID() string             { return f.uuid }
func (f *fakeChannel) Context() context.Context { return f.ctx }
func (f *fakeChannel) Vars() *vars.Store        { return f.vars }
func (f *fakeChannel) Hangup(c cause.Cause) {
	f.mu.Lock()
	if f.cause == 0 {
		f.cause = c
	}
	f.mu.Unlock()
	f.cancel()
}
func (f *fakeChannel) EnqueueLoops(app, data string, loops int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queued = append(f.queued, app+"("+data+")x"+itoa(loops))
	return nil
}

func (f *fakeChannel) snapshot() ([]string, cause.Cause) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.queued...), f.cause
}

// channelEvent is an event about the call uuid.
func channelEvent(name, uuid string) *events.Event {
	e := events.New(name)
	e.Add("Unique-ID", uuid)
	return e
}

// waitFor polls cond for up to 5 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
