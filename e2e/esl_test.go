package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/percipia/eslgo"
	"github.com/percipia/eslgo/command"

	"github.com/switchboard-voip/switchboard/e2e/harness"
	"github.com/switchboard-voip/switchboard/e2e/sipclient"
	"github.com/switchboard-voip/switchboard/esl"
	"github.com/switchboard-voip/switchboard/events"
)

// These tests drive the event socket of the real binary with third-party
// ESL clients (eslgo, the npm package modesl), `switchboard cli`, and by
// hand for the abuse cases, while real calls go through the switch.

// eslSwitch is a switch on testdata/conf whose event socket listens on
// eslAddr (password ClueCon).
type eslSwitch struct {
	*testSwitch
	eslAddr string
	eslPort int
}

func startESLSwitch(t *testing.T) *eslSwitch {
	t.Helper()
	requireRun(t)
	port, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	sounds, err := filepath.Abs(filepath.Join("testdata", "sounds"))
	if err != nil {
		t.Fatal(err)
	}
	sw := harness.Start(t, harness.Options{
		Binary:  build.bin,
		ConfDir: filepath.Join("testdata", "conf"),
		Set:     map[string]string{"test_sounds_dir": sounds, "esl_port": strconv.Itoa(port)},
	})
	ts := &testSwitch{Switch: sw}
	ts.base, err = sw.Vars(t.Context())
	if err != nil {
		t.Fatalf("debug variables: %v", err)
	}
	t.Cleanup(func() { sw.CheckSettled(t, ts.base, perTestSlack, 15*time.Second) })
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if !strings.Contains(sw.Logs(), "event_socket tcp/"+addr) {
		t.Fatalf("the ready line does not name the event socket %s:\n%s", addr, sw.Logs())
	}
	return &eslSwitch{testSwitch: ts, eslAddr: addr, eslPort: port}
}

// placeCall calls the echo extension, answers, and hangs up after hold.
func (s *eslSwitch) placeCall(ctx context.Context, hold time.Duration) error {
	c, err := sipclient.Dial(ctx, sipclient.Options{Target: s.SIPURI("9196")})
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Answer(ctx); err != nil {
		return fmt.Errorf("answer: %w (%v)", err, c)
	}
	select {
	case <-time.After(hold):
	case <-ctx.Done():
		return ctx.Err()
	}
	return c.Hangup(ctx)
}

// callEvents collects one call's CHANNEL_ANSWER and CHANNEL_HANGUP_COMPLETE.
type callEvents struct {
	mu       sync.Mutex
	answered map[string]map[string]string // Unique-ID → headers of CHANNEL_ANSWER
	complete map[string]map[string]string
	changed  chan struct{}
}

func newCallEvents() *callEvents {
	return &callEvents{answered: map[string]map[string]string{}, complete: map[string]map[string]string{}, changed: make(chan struct{}, 1)}
}

func (ce *callEvents) add(name, uuid string, headers map[string]string) {
	ce.mu.Lock()
	switch name {
	case "CHANNEL_ANSWER":
		ce.answered[uuid] = headers
	case "CHANNEL_HANGUP_COMPLETE":
		ce.complete[uuid] = headers
	}
	ce.mu.Unlock()
	select {
	case ce.changed <- struct{}{}:
	default:
	}
}

// wait returns the headers of both events of the first call that has
// both.
func (ce *callEvents) wait(ctx context.Context) (answer, complete map[string]string, err error) {
	for {
		ce.mu.Lock()
		for uuid, a := range ce.answered {
			if c, ok := ce.complete[uuid]; ok {
				ce.mu.Unlock()
				return a, c, nil
			}
		}
		ce.mu.Unlock()
		select {
		case <-ce.changed:
		case <-ctx.Done():
			return nil, nil, errors.New("no call with both CHANNEL_ANSWER and CHANNEL_HANGUP_COMPLETE")
		}
	}
}

// TestESLWithEslgo: github.com/percipia/eslgo connects, authenticates,
// runs api and bgapi, and sees a real call's events.
func TestESLWithEslgo(t *testing.T) {
	sw := startESLSwitch(t)
	ctx := callCtx(t)
	opts := eslgo.DefaultInboundOptions
	opts.Password = "ClueCon"
	opts.Logger = eslgo.NilLogger{}
	conn, err := opts.Dial(sw.eslAddr)
	if err != nil {
		t.Fatalf("eslgo: %v", err)
	}
	defer conn.ExitAndClose()

	res, err := conn.SendCommand(ctx, command.API{Command: "status"})
	if err != nil {
		t.Fatal(err)
	}
	if body := string(res.Body); !strings.HasPrefix(body, "UP ") || !strings.Contains(body, "Switchboard (Version") {
		t.Errorf("api status: %q", body)
	}

	// Listen before asking: the job may finish before bgapi's reply is
	// read.
	jobs := make(chan *eslgo.Event, 16)
	conn.RegisterEventListener(eslgo.EventListenAll, func(e *eslgo.Event) {
		if e.GetName() == "BACKGROUND_JOB" {
			jobs <- e
		}
	})
	if err := conn.EnableEvents(ctx); err != nil { // event plain all
		t.Fatal(err)
	}
	res, err = conn.SendCommand(ctx, command.API{Command: "echo", Arguments: "from-eslgo", Background: true})
	if err != nil || !res.IsOk() {
		t.Fatalf("bgapi: %v %v", res, err)
	}
	job := res.GetHeader("Job-UUID")
	select {
	case e := <-jobs:
		if e.GetHeader("Job-UUID") != job || string(e.Body) != "from-eslgo" {
			t.Errorf("background job %s %q, want %s", e.GetHeader("Job-UUID"), e.Body, job)
		}
	case <-ctx.Done():
		t.Fatal("no BACKGROUND_JOB event")
	}

	seen := newCallEvents()
	conn.RegisterEventListener(eslgo.EventListenAll, func(e *eslgo.Event) {
		h := map[string]string{}
		for k := range e.Headers {
			h[k] = e.GetHeader(k)
		}
		seen.add(e.GetName(), e.GetHeader("Unique-ID"), h)
	})
	if err := sw.placeCall(ctx, 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	answer, complete, err := seen.wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// eslgo keys headers in net/textproto's canonical form.
	if answer["Caller-Destination-Number"] != "9196" || answer["Answer-State"] != "answered" {
		t.Errorf("CHANNEL_ANSWER headers: %v", answer)
	}
	if complete["Hangup-Cause"] != "NORMAL_CLEARING" || complete["Variable_sip_req_user"] != "9196" || complete["Unique-Id"] != answer["Unique-Id"] {
		t.Errorf("CHANNEL_HANGUP_COMPLETE headers: %v", complete)
	}
}

// TestESLWithModesl: the npm package modesl does the same from Node.js.
func TestESLWithModesl(t *testing.T) {
	script := nodeClient(t)
	sw := startESLSwitch(t)
	ctx := callCtx(t)
	cmd := exec.CommandContext(ctx, "node", script, "127.0.0.1", strconv.Itoa(sw.eslPort), "ClueCon")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	lines := make(chan map[string]string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var m map[string]string
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				m = map[string]string{"error": "unparsable line " + sc.Text()}
			}
			lines <- m
		}
	}()
	next := func(what string) map[string]string {
		t.Helper()
		select {
		case m, ok := <-lines:
			if !ok {
				t.Fatalf("modesl client ended before %s\n%s", what, stderr.String())
			}
			if m["error"] != "" {
				t.Fatalf("modesl client: %s\n%s", m["error"], stderr.String())
			}
			return m
		case <-ctx.Done():
			t.Fatalf("modesl client: no %s", what)
		}
		return nil
	}
	if m := next("api reply"); !strings.HasPrefix(m["api"], "UP ") {
		t.Errorf("api status: %q", m["api"])
	}
	if m := next("bgapi event"); m["bgapi"] != "from-modesl" || m["job"] == "" {
		t.Errorf("bgapi: %v", m)
	}
	if m := next("subscription"); m["subscribed"] != "+OK event listener enabled plain" {
		t.Errorf("subscription: %v", m)
	}
	calls := make(chan error, 1)
	go func() { calls <- sw.placeCall(ctx, 200*time.Millisecond) }()
	answer := next("CHANNEL_ANSWER")
	complete := next("CHANNEL_HANGUP_COMPLETE")
	if answer["event"] != "CHANNEL_ANSWER" || answer["dest"] != "9196" || complete["event"] != "CHANNEL_HANGUP_COMPLETE" ||
		complete["uuid"] != answer["uuid"] || complete["cause"] != "NORMAL_CLEARING" {
		t.Errorf("events %v then %v", answer, complete)
	}
	if err := <-calls; err != nil {
		t.Fatal(err)
	}
}

// nodeClient returns the modesl client script, installing its package
// (npm ci) when needed. Without node or npm the test is skipped, or fails
// with SWITCHBOARD_E2E_STRICT=1.
func nodeClient(t *testing.T) string {
	t.Helper()
	requireTool(t, "node")
	dir, err := filepath.Abs(filepath.Join("testdata", "node"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "modesl", "package.json")); err != nil {
		requireTool(t, "npm")
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			msg := fmt.Sprintf("npm ci in %s: %v\n%s", dir, err, out)
			if os.Getenv(strictEnv) == "1" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	return filepath.Join(dir, "modesl_client.js")
}

// TestCLIExecute: `switchboard cli -x` against the running binary.
func TestCLIExecute(t *testing.T) {
	sw := startESLSwitch(t)
	port := strconv.Itoa(sw.eslPort)
	home := []string{"HOME=" + t.TempDir()}
	r := runSwitchboard(t, home, "cli", "-P", port, "-x", "status")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "UP ") || !strings.Contains(r.stdout, "is ready") {
		t.Errorf("cli -x status:\n%s", r)
	}
	r = runSwitchboard(t, home, "cli", "-H", "127.0.0.1", "-P", port, "-p", "ClueCon", "-x", "nosuch")
	if r.code != 1 || r.stdout != "-ERR nosuch Command not found!\n" {
		t.Errorf("cli -x nosuch:\n%s", r)
	}
	r = runSwitchboard(t, home, "cli", "-P", port, "-p", "wrong", "-x", "status")
	if r.code != 1 || !strings.Contains(r.stderr, "-ERR invalid") {
		t.Errorf("cli with a wrong password:\n%s", r)
	}
}

// eslClient connects with the package's own client.
func eslClient(t *testing.T, ctx context.Context, addr string) *esl.Client {
	t.Helper()
	cl, err := esl.Dial(ctx, addr, "ClueCon")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// nextEvent waits for an event called name (with Application app, when
// given) on cl.
func nextEvent(t *testing.T, ctx context.Context, cl *esl.Client, name, app string) map[string]string {
	t.Helper()
	for {
		select {
		case n, ok := <-cl.Notices():
			if !ok {
				t.Fatalf("connection closed waiting for %s", name)
			}
			if n.ContentType() != "text/event-plain" {
				continue
			}
			e, err := esl.ParseEvent(n.Body)
			if err != nil {
				t.Fatal(err)
			}
			if e.Name() != name || app != "" && e.Get("Application") != app {
				continue
			}
			h := map[string]string{}
			for _, x := range e.Headers() {
				h[x.Name] = x.Value
			}
			return h
		case <-ctx.Done():
			t.Fatalf("no %s event", name)
		}
	}
}

// TestESLSendmsg: sendmsg execute runs an application on a live call,
// sendmsg hangup ends it with the cause given.
func TestESLSendmsg(t *testing.T) {
	sw := startESLSwitch(t)
	ctx := callCtx(t)
	cl := eslClient(t, ctx, sw.eslAddr)
	if _, err := cl.Command(ctx, "event plain CHANNEL_ANSWER CHANNEL_EXECUTE_COMPLETE"); err != nil {
		t.Fatal(err)
	}
	c := sw.dial(t, ctx, "9196", sipclient.Options{})
	if err := c.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	uuid := nextEvent(t, ctx, cl, "CHANNEL_ANSWER", "")["Unique-ID"]
	p, err := cl.Send(ctx, "sendmsg "+uuid, eslHeaders{
		{"call-command", "execute"}, {"execute-app-name", "set"}, {"execute-app-arg", "esl_marker=from-sendmsg"},
	}.headers(), "")
	if err != nil || p.ReplyText() != "+OK" {
		t.Fatalf("sendmsg execute: %v %v", p, err)
	}
	done := nextEvent(t, ctx, cl, "CHANNEL_EXECUTE_COMPLETE", "set")
	if done["Application-Data"] != "esl_marker=from-sendmsg" || done["Unique-ID"] != uuid {
		t.Errorf("CHANNEL_EXECUTE_COMPLETE %v", done)
	}
	if v, err := cl.API(ctx, "uuid_getvar "+uuid+" esl_marker"); err != nil || v != "from-sendmsg" {
		t.Errorf("uuid_getvar: %q %v", v, err)
	}
	p, err = cl.Send(ctx, "sendmsg "+uuid, eslHeaders{{"call-command", "hangup"}, {"hangup-cause", "USER_BUSY"}}.headers(), "")
	if err != nil || p.ReplyText() != "+OK" {
		t.Fatalf("sendmsg hangup: %v %v", p, err)
	}
	cause, err := c.WaitBye(ctx)
	if err != nil {
		t.Fatalf("no BYE after sendmsg hangup: %v", err)
	}
	if cause.Text != "USER_BUSY" {
		t.Errorf("BYE cause %+v, want USER_BUSY", cause)
	}
	p, err = cl.Send(ctx, "sendmsg "+uuid, eslHeaders{{"call-command", "hangup"}}.headers(), "")
	if err != nil || p.ReplyText() != "-ERR invalid session id ["+uuid+"]" {
		t.Errorf("sendmsg to a finished call: %v %v", p, err)
	}
}

type eslHeader struct{ name, value string }

type eslHeaders []eslHeader

func (hs eslHeaders) headers() []events.Header {
	out := make([]events.Header, len(hs))
	for i, h := range hs {
		out[i] = events.Header{Name: h.name, Value: h.value}
	}
	return out
}

// rawESL is a connection driven by hand.
type rawESL struct {
	nc net.Conn
	r  *bufio.Reader
}

func dialRawESL(t *testing.T, addr string) *rawESL {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	c := &rawESL{nc: nc, r: bufio.NewReader(nc)}
	if p := c.frame(t); p.ContentType() != "auth/request" {
		t.Fatalf("greeting %+v", p)
	}
	return c
}

func (c *rawESL) frame(t *testing.T) *esl.Packet {
	t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	p, err := esl.ReadFrame(c.r, 1<<24)
	if err != nil {
		t.Fatalf("reading a frame: %v", err)
	}
	return p
}

// closedAfterNotice reads until the server closes and reports whether the
// last frame was a disconnect notice.
func (c *rawESL) closedAfterNotice(t *testing.T) bool {
	t.Helper()
	var last *esl.Packet
	for {
		_ = c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		p, err := esl.ReadFrame(c.r, 1<<24)
		if err == io.EOF || err != nil && strings.Contains(err.Error(), "reset") {
			return last != nil && last.ContentType() == "text/disconnect-notice"
		}
		if err != nil {
			t.Fatalf("waiting for the server to close: %v", err)
		}
		last = p
	}
}

// TestESLAbuse: a wrong password, bad Content-Length values, 100 idle
// connections and a subscriber that never reads: the server stays up and
// calls keep flowing.
func TestESLAbuse(t *testing.T) {
	sw := startESLSwitch(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	bad := dialRawESL(t, sw.eslAddr)
	bad.nc.Write([]byte("auth guess\n\n"))
	if p := bad.frame(t); p.ReplyText() != "-ERR invalid" {
		t.Errorf("wrong password: %+v", p)
	}
	if !bad.closedAfterNotice(t) {
		t.Error("no disconnect notice after a wrong password")
	}

	for _, cl := range []string{"-1", "99999999999", "ten"} {
		c := dialRawESL(t, sw.eslAddr)
		c.nc.Write([]byte("auth ClueCon\n\n"))
		c.frame(t)
		c.nc.Write([]byte("sendevent CUSTOM\nContent-Length: " + cl + "\n\n"))
		if !c.closedAfterNotice(t) {
			t.Errorf("Content-Length %s: no disconnect notice and close", cl)
		}
	}

	var idle []net.Conn
	for range 100 {
		nc, err := net.DialTimeout("tcp", sw.eslAddr, 5*time.Second)
		if err != nil {
			t.Fatalf("idle connection %d: %v", len(idle), err)
		}
		idle = append(idle, nc)
	}
	defer func() {
		for _, nc := range idle {
			nc.Close()
		}
	}()

	// A subscriber that never reads, with a small receive buffer.
	stuck := dialRawESL(t, sw.eslAddr)
	if tcp, ok := stuck.nc.(*net.TCPConn); ok {
		_ = tcp.SetReadBuffer(4096)
	}
	stuck.nc.Write([]byte("auth ClueCon\n\nevent plain ALL\n\n"))
	stuck.frame(t)
	stuck.frame(t)

	// Calls go on while another client floods the bus with events the
	// stuck subscriber would have to take.
	ctl := eslClient(t, ctx, sw.eslAddr)
	if out, err := ctl.API(ctx, "status"); err != nil || !strings.HasPrefix(out, "UP ") {
		t.Fatalf("status with 100 idle connections: %q %v", out, err)
	}
	callErrs := make(chan error, 1)
	go func() {
		for i := range 10 {
			if err := sw.placeCall(ctx, 50*time.Millisecond); err != nil {
				callErrs <- fmt.Errorf("call %d: %w", i, err)
				return
			}
		}
		callErrs <- nil
	}()
	body := strings.Repeat("x", 2048)
	for i := 0; i < 20000; i++ {
		p, err := ctl.Send(ctx, "sendevent CUSTOM", eslHeaders{{"Event-Subclass", "e2e::flood"}}.headers(), body)
		if err != nil || !strings.HasPrefix(p.ReplyText(), "+OK ") {
			t.Fatalf("sendevent %d: %v %v", i, p, err)
		}
		if i%500 == 0 && strings.Contains(sw.Logs(), "fell behind on events") {
			break
		}
	}
	if err := <-callErrs; err != nil {
		t.Fatalf("a call failed while the subscriber was stuck: %v", err)
	}
	// Its subscription is dropped at once, and the connection with it.
	for !strings.Contains(sw.Logs(), "fell behind on events") {
		select {
		case <-ctx.Done():
			t.Fatalf("the stuck subscriber was not dropped:\n%s", sw.Logs())
		case <-time.After(100 * time.Millisecond):
		}
	}
	// Still up for everyone else.
	if out, err := ctl.API(ctx, "echo still here"); err != nil || out != "still here" {
		t.Errorf("after the abuse: %q %v", out, err)
	}
	for _, nc := range idle {
		nc.Close()
	}
}
