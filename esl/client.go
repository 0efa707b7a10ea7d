package esl

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-voip/switchboard/events"
)

// Client is an inbound event-socket client: what `switchboard cli`, the
// tests and the benchmarks use to talk to a server (this one or
// FreeSWITCH's). Commands are answered in order; events, log lines and the
// disconnect notice arrive on Notices.
type Client struct {
	nc      net.Conn
	wmu     sync.Mutex // one command at a time, waiting for its reply
	replies chan *Packet
	notices chan *Packet
	done    chan struct{} // closed when the reader stops
	err     error         // why the reader stopped; read after done
	// Dropped counts notices lost because Notices was not read fast
	// enough.
	dropped int64
	mu      sync.Mutex
}

// ErrAuth reports a password the server refused.
var ErrAuth = errors.New("esl: authentication failed")

// noticeBuffer is how many events and log lines may wait on Notices.
const noticeBuffer = 4096

// Dial connects to addr, waits for auth/request and authenticates with
// password. The context bounds the whole handshake.
func Dial(ctx context.Context, addr, password string) (*Client, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("esl: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	r := bufio.NewReader(nc)
	first, err := ReadFrame(r, DefaultMaxContentLength*16)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("esl: waiting for auth/request: %w", err)
	}
	switch first.ContentType() {
	case "auth/request":
	case "text/rude-rejection":
		nc.Close()
		return nil, fmt.Errorf("esl: connection refused by %s: %s", addr, strings.TrimSpace(first.Body))
	default:
		nc.Close()
		return nil, fmt.Errorf("esl: expected auth/request, got %q", first.ContentType())
	}
	if _, err := nc.Write([]byte("auth " + password + "\n\n")); err != nil {
		nc.Close()
		return nil, fmt.Errorf("esl: %w", err)
	}
	rep, err := ReadFrame(r, DefaultMaxContentLength*16)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("esl: waiting for the auth reply: %w", err)
	}
	if !strings.HasPrefix(rep.ReplyText(), "+OK") {
		nc.Close()
		return nil, fmt.Errorf("%w: %s", ErrAuth, rep.ReplyText())
	}
	_ = nc.SetDeadline(time.Time{})
	c := &Client{
		nc:      nc,
		replies: make(chan *Packet, 1),
		notices: make(chan *Packet, noticeBuffer),
		done:    make(chan struct{}),
	}
	go c.read(r)
	return c, nil
}

// read sorts incoming frames: replies to the waiting command, everything
// else to notices.
func (c *Client) read(r *bufio.Reader) {
	defer close(c.done)
	defer close(c.notices)
	for {
		p, err := ReadFrame(r, DefaultMaxContentLength*16)
		if err != nil {
			c.err = err
			return
		}
		switch p.ContentType() {
		case "command/reply", "api/response":
			select {
			case c.replies <- p:
			default:
				// A reply nobody waits for (the command timed out).
			}
		default:
			select {
			case c.notices <- p:
			default:
				c.mu.Lock()
				c.dropped++
				c.mu.Unlock()
			}
		}
	}
}

// Notices returns the frames that are not replies: text/event-*,
// log/data and text/disconnect-notice. It is closed when the connection
// ends. Frames that find it full are dropped (see Dropped).
func (c *Client) Notices() <-chan *Packet { return c.notices }

// Dropped returns how many notices were dropped because Notices was full.
func (c *Client) Dropped() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropped
}

// Done is closed when the connection has ended.
func (c *Client) Done() <-chan struct{} { return c.done }

// Send sends one command (its first line, then optional headers and a
// body) and returns the reply: a command/reply or api/response frame.
func (c *Client) Send(ctx context.Context, command string, headers []events.Header, body string) (*Packet, error) {
	if strings.ContainsAny(command, "\r\n") {
		return nil, errors.New("esl: a command is one line")
	}
	var b strings.Builder
	b.WriteString(command)
	b.WriteByte('\n')
	for _, h := range headers {
		if strings.ContainsAny(h.Name+h.Value, "\r\n") {
			return nil, fmt.Errorf("esl: header %s: a header is one line", h.Name)
		}
		b.WriteString(h.Name)
		b.WriteString(": ")
		b.WriteString(h.Value)
		b.WriteByte('\n')
	}
	if body != "" {
		b.WriteString("Content-Length: ")
		b.WriteString(strconv.Itoa(len(body)))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(body)

	c.wmu.Lock()
	defer c.wmu.Unlock()
	select {
	case <-c.replies: // the late reply of a command that gave up
	default:
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.nc.SetWriteDeadline(dl)
	} else {
		_ = c.nc.SetWriteDeadline(time.Time{})
	}
	if _, err := c.nc.Write([]byte(b.String())); err != nil {
		return nil, fmt.Errorf("esl: %s: %w", firstWord(command), err)
	}
	select {
	case p := <-c.replies:
		return p, nil
	case <-c.done:
		if c.err != nil {
			return nil, fmt.Errorf("esl: %s: connection closed: %w", firstWord(command), c.err)
		}
		return nil, fmt.Errorf("esl: %s: connection closed", firstWord(command))
	case <-ctx.Done():
		return nil, fmt.Errorf("esl: %s: %w", firstWord(command), ctx.Err())
	}
}

// API runs `api <command>` and returns the response body.
func (c *Client) API(ctx context.Context, command string) (string, error) {
	p, err := c.Send(ctx, "api "+command, nil, "")
	if err != nil {
		return "", err
	}
	if p.ContentType() != "api/response" {
		return "", fmt.Errorf("esl: api %s: unexpected %s %q", firstWord(command), p.ContentType(), p.ReplyText())
	}
	return p.Body, nil
}

// Command sends a command that answers with a command/reply and returns
// its Reply-Text; a reply starting with -ERR is returned as an error too.
func (c *Client) Command(ctx context.Context, command string) (string, error) {
	p, err := c.Send(ctx, command, nil, "")
	if err != nil {
		return "", err
	}
	text := p.ReplyText()
	if strings.HasPrefix(text, "-ERR") {
		return text, fmt.Errorf("esl: %s: %s", firstWord(command), text)
	}
	return text, nil
}

// Close sends exit and closes the connection.
func (c *Client) Close() error {
	_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = c.nc.Write([]byte("exit\n\n"))
	err := c.nc.Close()
	<-c.done
	return err
}

func firstWord(s string) string {
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i]
	}
	return s
}

// ParseEvent reads the body of a text/event-plain frame back into an
// event (values URL-decoded).
func ParseEvent(body string) (*events.Event, error) {
	head, rest, _ := strings.Cut(body, "\n\n")
	var e *events.Event
	for _, line := range strings.Split(head, "\n") {
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ": ")
		if !ok {
			return nil, fmt.Errorf("esl: event line %q has no ': '", line)
		}
		value = events.URLDecode(value)
		if e == nil {
			if name != "Event-Name" {
				return nil, fmt.Errorf("esl: event starts with %q, not Event-Name", name)
			}
			e = events.New(value)
			continue
		}
		if name == "Content-Length" {
			n, err := strconv.Atoi(value)
			if err != nil || n > len(rest) {
				return nil, fmt.Errorf("esl: event body length %q", value)
			}
			e.Body = rest[:n]
			continue
		}
		e.Add(name, value)
	}
	if e == nil {
		return nil, errors.New("esl: empty event")
	}
	return e, nil
}
