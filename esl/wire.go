package esl

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/switchboard-voip/switchboard/events"
)

// Limits of the framing that protect the server from a client that sends
// too much.
const (
	// DefaultMaxContentLength is the largest body a packet may carry
	// unless Config.MaxContentLength says otherwise. FreeSWITCH allows
	// 16 MiB; nothing a client sends (sendmsg, sendevent) needs more than
	// a fraction of this.
	DefaultMaxContentLength = 1 << 20
	// maxHeaderBytes bounds the command line plus header lines of one
	// packet.
	maxHeaderBytes = 256 << 10
)

// ErrBadContentLength reports a Content-Length that is not a decimal
// number from 0 to the limit; the connection is dropped, as FreeSWITCH
// drops one with an out-of-range length.
var ErrBadContentLength = errors.New("esl: bad Content-Length")

// ErrHeaderTooLong reports a packet whose header block exceeds the limit.
var ErrHeaderTooLong = errors.New("esl: header block too long")

// Packet is one message on the wire: a header block, then a body of
// Content-Length bytes. In a command a client sends, the first line is the
// command (Command) and the following "Name: value" lines are its headers;
// in a frame the server sends every line is a header.
type Packet struct {
	// Command is the first line of a command packet ("api status"); empty
	// for a frame read with ReadFrame.
	Command string
	// Headers are the "Name: value" lines in order, values as sent (not
	// URL-decoded).
	Headers []events.Header
	// Body is the Content-Length bytes after the header block.
	Body string
}

// Get returns the value of the first header called name, compared without
// regard to case, or "".
func (p *Packet) Get(name string) string {
	v, _ := p.Lookup(name)
	return v
}

// Lookup returns the value of the first header called name (compared
// without regard to case) and whether there is one.
func (p *Packet) Lookup(name string) (string, bool) {
	for _, h := range p.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

// ContentType returns the Content-Type header.
func (p *Packet) ContentType() string { return p.Get("Content-Type") }

// ReplyText returns the Reply-Text header of a command/reply frame.
func (p *Packet) ReplyText() string { return p.Get("Reply-Text") }

// ReadCommand reads one command packet the way mod_event_socket's
// read_packet does: blank lines before it are skipped; the first line is
// the command; each later line holding a ':' is a header (spaces after
// the colon are dropped, a line without one is ignored); CR before LF is
// removed; a blank line ends the block. A Content-Length header announces
// a body of that many bytes; a value that is not a decimal number from 0
// to maxBody gives ErrBadContentLength and the body is not read. io.EOF
// means the peer closed the connection between packets.
func ReadCommand(r *bufio.Reader, maxBody int) (*Packet, error) {
	return readPacket(r, maxBody, true)
}

// ReadFrame reads one frame the server sent (auth/request, command/reply,
// api/response, text/event-*, log/data, text/disconnect-notice): every
// line of the header block is a header.
func ReadFrame(r *bufio.Reader, maxBody int) (*Packet, error) {
	return readPacket(r, maxBody, false)
}

func readPacket(r *bufio.Reader, maxBody int, command bool) (*Packet, error) {
	p := &Packet{}
	budget := maxHeaderBytes
	first := true
	for {
		line, err := readLine(r, &budget)
		if err != nil {
			if err == io.EOF && !first {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if line == "" {
			if first {
				continue // blank lines between packets
			}
			break
		}
		if first && command {
			p.Command = line
			first = false
			continue
		}
		first = false
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		value = strings.TrimLeft(value, " ")
		p.Headers = append(p.Headers, events.Header{Name: name, Value: value})
	}
	cl, ok := p.Lookup("Content-Length")
	if !ok {
		return p, nil
	}
	n, err := parseLength(cl, maxBody)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("esl: reading a %d-byte body: %w", n, err)
		}
		p.Body = string(body)
	}
	return p, nil
}

// parseLength reads a Content-Length value strictly: decimal digits only,
// at most maxBody.
func parseLength(s string, maxBody int) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 12 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%w %q", ErrBadContentLength, s)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > maxBody {
		return 0, fmt.Errorf("%w %q (the limit is %d)", ErrBadContentLength, s, maxBody)
	}
	return n, nil
}

// readLine reads one line without its line ending, charging its length
// to budget.
func readLine(r *bufio.Reader, budget *int) (string, error) {
	var long []byte
	for {
		chunk, err := r.ReadSlice('\n')
		*budget -= len(chunk)
		if *budget < 0 || *budget == 0 && err == bufio.ErrBufferFull {
			return "", ErrHeaderTooLong
		}
		switch err {
		case nil:
			if long != nil {
				chunk = append(long, chunk...)
			}
			chunk = bytes.TrimSuffix(chunk[:len(chunk)-1], []byte{'\r'})
			return string(chunk), nil
		case bufio.ErrBufferFull:
			long = append(long, chunk...)
		default:
			if err == io.EOF && (len(chunk) > 0 || long != nil) {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
	}
}

// Frame builders. Each returns one whole frame, written with one Write
// so that frames from different goroutines never interleave.

// authRequest is what an inbound connection receives first.
const authRequest = "Content-Type: auth/request\n\n"

// commandReply is a command/reply frame with Reply-Text text and extra
// headers after it.
func commandReply(text string, extra ...events.Header) []byte {
	b := make([]byte, 0, 64+len(text))
	b = append(b, "Content-Type: command/reply\nReply-Text: "...)
	b = appendOneLine(b, text)
	b = append(b, '\n')
	for _, h := range extra {
		b = append(b, h.Name...)
		b = append(b, ':', ' ')
		b = appendOneLine(b, h.Value)
		b = append(b, '\n')
	}
	return append(b, '\n')
}

// appendOneLine appends s with CR and LF replaced by spaces, so that a
// value can never end the header block early.
func appendOneLine(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		b = append(b, c)
	}
	return b
}

// apiResponse is an api/response frame carrying body.
func apiResponse(body string) []byte {
	b := make([]byte, 0, 64+len(body))
	b = append(b, "Content-Type: api/response\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, '\n', '\n')
	return append(b, body...)
}

// eventFrame wraps a serialised event. FreeSWITCH puts Content-Length
// before Content-Type in this frame only.
func eventFrame(format string, body []byte) []byte {
	b := make([]byte, 0, 64+len(body))
	b = append(b, "Content-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\nContent-Type: text/event-"...)
	b = append(b, format...)
	b = append(b, '\n', '\n')
	return append(b, body...)
}

// disconnectNotice is the text/disconnect-notice frame; uuid names the
// controlled session (outbound and myevents connections), disposition is
// "disconnect" then.
func disconnectNotice(msg, uuid string) []byte {
	b := make([]byte, 0, 128+len(msg))
	b = append(b, "Content-Type: text/disconnect-notice\n"...)
	if uuid != "" {
		b = append(b, "Controlled-Session-UUID: "...)
		b = append(b, uuid...)
		b = append(b, "\nContent-Disposition: disconnect\n"...)
	}
	b = append(b, "Content-Length: "...)
	b = strconv.AppendInt(b, int64(len(msg)), 10)
	b = append(b, '\n', '\n')
	return append(b, msg...)
}

// lingerNotice tells a lingering client that its channel hung up; the
// connection stays open for the remaining events. seconds is -1 for
// "until the client leaves".
func lingerNotice(uuid, channel string, seconds int) []byte {
	return fmt.Appendf(nil, "Content-Type: text/disconnect-notice\nControlled-Session-UUID: %s\nContent-Disposition: linger\nChannel-Name: %s\nLinger-Time: %d\nContent-Length: 0\n\n",
		uuid, channel, seconds)
}

// rudeRejection answers a connection the inbound ACL refuses (or one
// over the connection limit).
func rudeRejection(msg string) []byte {
	return fmt.Appendf(nil, "Content-Type: text/rude-rejection\nContent-Length: %d\n\n%s", len(msg), msg)
}

// Messages of the disconnect notices, as FreeSWITCH words them.
const (
	msgGoodbye  = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
	msgShutdown = "The system is being shut down.\n"
	msgDenied   = "Access Denied, go away.\n"
	msgLost     = "killed listener because of lost events\n"
	msgLostLogs = "killed listener because of lost log lines\n"
	msgTooMany  = "Too many connections, try again later.\n"
)
