// Package events is the core event bus: FreeSWITCH's events (CHANNEL_ANSWER,
// DTMF, CUSTOM, BACKGROUND_JOB, ...) with their ordered headers, fired by the
// call core and the control plane and delivered to subscribers such as the
// event socket, without ever blocking the goroutine that fires them.
package events

import (
	"strconv"
	"strings"
)

// Header is one event header.
type Header struct {
	Name, Value string
}

// Event is one event: ordered headers (Event-Name first) and an optional
// body. An Event is built by one goroutine; once fired it is shared by
// every subscriber and must not be changed.
type Event struct {
	headers []Header
	// Body is the event's body (BACKGROUND_JOB's output, a log line, ...).
	Body string
}

// New returns an event named name (a FreeSWITCH event name such as
// CHANNEL_ANSWER); its first header is Event-Name.
func New(name string) *Event {
	e := &Event{headers: make([]Header, 1, 24)}
	e.headers[0] = Header{"Event-Name", name}
	return e
}

// NewCustom returns a CUSTOM event with the given Event-Subclass
// (e.g. "conference::maintenance").
func NewCustom(subclass string) *Event {
	e := New("CUSTOM")
	e.Add("Event-Subclass", subclass)
	return e
}

// Name returns the event's Event-Name.
func (e *Event) Name() string { return e.Get("Event-Name") }

// Subclass returns the event's Event-Subclass ("" when it has none).
func (e *Event) Subclass() string { return e.Get("Event-Subclass") }

// Add appends a header.
func (e *Event) Add(name, value string) { e.headers = append(e.headers, Header{name, value}) }

// Set replaces the value of the first header called name (compared
// without regard to case) or appends the header when there is none.
func (e *Event) Set(name, value string) {
	if i := e.index(name); i >= 0 {
		e.headers[i].Value = value
		return
	}
	e.Add(name, value)
}

// Get returns the value of the first header called name (case-insensitive),
// or "".
func (e *Event) Get(name string) string {
	v, _ := e.Lookup(name)
	return v
}

// Lookup returns the value of the first header called name
// (case-insensitive) and whether there is one.
func (e *Event) Lookup(name string) (string, bool) {
	if i := e.index(name); i >= 0 {
		return e.headers[i].Value, true
	}
	return "", false
}

// Del removes every header called name (case-insensitive).
func (e *Event) Del(name string) {
	out := e.headers[:0]
	for _, h := range e.headers {
		if !strings.EqualFold(h.Name, name) {
			out = append(out, h)
		}
	}
	clear(e.headers[len(out):])
	e.headers = out
}

// Headers returns the headers in order. The slice belongs to the event:
// do not change it.
func (e *Event) Headers() []Header { return e.headers }

// Clone returns a deep copy of e that may be changed freely.
func (e *Event) Clone() *Event {
	return &Event{headers: append([]Header(nil), e.headers...), Body: e.Body}
}

func (e *Event) index(name string) int {
	for i := range e.headers {
		if strings.EqualFold(e.headers[i].Name, name) {
			return i
		}
	}
	return -1
}

// Plain serialises e as FreeSWITCH's text/event-plain body does
// (switch_event_serialize with encoding): one "Name: value" line per
// header with the value URL-encoded and an empty value written as
// _undef_, then "Content-Length: n", a blank line and the body when there
// is a body, or a blank line when there is none.
func (e *Event) Plain() []byte {
	n := 0
	for _, h := range e.headers {
		n += len(h.Name) + len(h.Value) + 4
	}
	b := make([]byte, 0, n+len(e.Body)+32)
	for _, h := range e.headers {
		b = append(b, h.Name...)
		b = append(b, ':', ' ')
		if h.Value == "" {
			b = append(b, "_undef_"...)
		} else {
			b = AppendURLEncoded(b, h.Value)
		}
		b = append(b, '\n')
	}
	if e.Body != "" {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(len(e.Body)), 10)
		b = append(b, '\n', '\n')
		b = append(b, e.Body...)
	} else {
		b = append(b, '\n')
	}
	return b
}

// JSON serialises e as FreeSWITCH's text/event-json body does: one object
// with every header as a string member, in order, then Content-Length and
// _body when there is a body.
func (e *Event) JSON() []byte {
	b := make([]byte, 0, 64*len(e.headers)+len(e.Body))
	b = append(b, '{')
	for i, h := range e.headers {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, h.Name)
		b = append(b, ':')
		b = appendJSONString(b, h.Value)
	}
	if e.Body != "" {
		if len(e.headers) > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, "Content-Length")
		b = append(b, ':')
		b = appendJSONString(b, strconv.Itoa(len(e.Body)))
		b = append(b, ',')
		b = appendJSONString(b, "_body")
		b = append(b, ':')
		b = appendJSONString(b, e.Body)
	}
	return append(b, '}')
}

// XML serialises e as FreeSWITCH's text/event-xml body does
// (switch_event_xmlize): <event><headers> with one element per header
// holding its URL-encoded value, then Content-Length and <body> when there
// is a body. Control characters XML cannot carry are left out of the body.
func (e *Event) XML() []byte {
	b := make([]byte, 0, 80*len(e.headers)+len(e.Body))
	b = append(b, "<event>\n  <headers>\n"...)
	for _, h := range e.headers {
		b = append(b, "    <"...)
		b = append(b, h.Name...)
		b = append(b, '>')
		b = appendXMLText(b, string(AppendURLEncoded(nil, h.Value)))
		b = append(b, "</"...)
		b = append(b, h.Name...)
		b = append(b, ">\n"...)
	}
	b = append(b, "  </headers>\n"...)
	if e.Body != "" {
		b = append(b, "  <Content-Length>"...)
		b = strconv.AppendInt(b, int64(len(e.Body)), 10)
		b = append(b, "</Content-Length>\n  <body>"...)
		b = appendXMLText(b, e.Body)
		b = append(b, "</body>\n"...)
	}
	return append(b, "</event>"...)
}

// urlUnsafe are the printable characters FreeSWITCH's switch_url_encode
// escapes (SWITCH_URL_UNSAFE); control and non-ASCII bytes are escaped too.
const urlUnsafe = "\r\n #%&+:;<=>?@[\\]^`{|}\""

// mustEscape[c] is true for the bytes AppendURLEncoded escapes.
var mustEscape = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c < ' ' || c > '~' || strings.IndexByte(urlUnsafe, byte(c)) >= 0
	}
	return t
}()

// AppendURLEncoded appends s URL-encoded as switch_url_encode does: bytes
// below space or above '~' and the unsafe characters become %XX, anything
// else is kept.
func AppendURLEncoded(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !mustEscape[c] {
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, '%', hex[c>>4], hex[c&0x0f])
		start = i + 1
	}
	return append(b, s[start:]...)
}

// URLDecode reverses AppendURLEncoded (and '+' is kept as is, as
// switch_url_decode does); a malformed escape is kept literally.
func URLDecode(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if ok1 && ok2 {
				b = append(b, hi<<4|lo)
				i += 2
				continue
			}
		}
		b = append(b, s[i])
	}
	return string(b)
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

func appendXMLText(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '&':
			b = append(b, "&amp;"...)
		case '<':
			b = append(b, "&lt;"...)
		case '>':
			b = append(b, "&gt;"...)
		case '"':
			b = append(b, "&quot;"...)
		case '\t', '\n', '\r':
			b = append(b, c)
		default:
			if c < ' ' {
				continue // not allowed in XML 1.0 at all
			}
			b = append(b, c)
		}
	}
	return b
}
