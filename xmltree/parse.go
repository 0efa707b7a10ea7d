package xmltree

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// MaxElementDepth is the deepest element nesting Parse accepts. Deeper
// documents are rejected with a positioned error rather than risking
// unbounded memory or recursion in the code that walks the tree.
const MaxElementDepth = 1000

// Parse builds a Document from preprocessed lines. Every element remembers
// the Pos of the line its start tag begins on; errors are *Error values
// positioned on the original file and line (with the include chain).
//
// The accepted language follows FreeSWITCH's ezxml-derived parser rather
// than strict XML where the two differ in ways real configurations rely on:
//
//   - Attribute values may contain a raw '<' (common in SIP header values
//     such as data="sip_h_P-Asserted-Identity=<sip:1000@host>").
//   - In attribute values "\r\n" counts as one character and every literal
//     whitespace character (space, tab, CR, LF, VT, FF) becomes a space.
//     Whitespace written as a character reference (&#10;) is kept as is.
//   - &lt; &gt; &amp; &quot; &apos;, &#NN; and &#xNN; are decoded in text and
//     attribute values; any other entity (&nbsp;, a stray &) is left as
//     written, as ezxml does, instead of failing the whole configuration.
//   - CDATA sections become ordinary element text; adjacent text and CDATA
//     pieces are merged into one etree.CharData.
//   - Comments, processing instructions and <!DOCTYPE ...> are dropped.
//     Entities declared in a DOCTYPE are not supported (ezxml does
//     expand them; no FreeSWITCH configuration we know of uses them).
//   - A repeated attribute keeps its first value, which is the one
//     FreeSWITCH's attribute lookup returns.
//   - Unknown elements and attributes are kept; callers ignore them.
//   - An attribute without a quoted value (<a b> or <a b=c>) is read the
//     way encoding/xml's non-strict mode reads it (value "b", "c"); ezxml
//     would give "" for both. Neither occurs in working configurations.
//
// Rejected, with the position of the offending construct: unclosed or
// mismatched tags, unclosed comments (including "--" inside a comment, as
// in ezxml), unclosed CDATA sections and processing instructions, a second
// root element, non-whitespace text outside the root element, a document
// without a root element, and nesting deeper than MaxElementDepth.
func Parse(lines []Line) (*Document, error) {
	p := newPrepared(lines)
	if err := p.sanitize(); err != nil {
		return nil, err
	}
	return p.build()
}

// ParseFile parses one raw file; positions are that file's lines, named
// name. A leading UTF-8 byte order mark is ignored.
func ParseFile(name string, data []byte) (*Document, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	return Parse(splitLines(name, data))
}

// splitLines cuts data at "\r\n", "\n" and lone "\r" (FreeSWITCH ends a
// line at either character), numbering lines from 1.
func splitLines(name string, data []byte) []Line {
	var lines []Line
	n := 1
	for len(data) > 0 {
		i := bytes.IndexAny(data, "\r\n")
		if i < 0 {
			lines = append(lines, Line{Text: string(data), Pos: Pos{File: name, Line: n}})
			break
		}
		lines = append(lines, Line{Text: string(data[:i]), Pos: Pos{File: name, Line: n}})
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
		n++
	}
	return lines
}

// prepared is the document text as handed to encoding/xml, together with
// the maps from byte offsets back to input lines.
//
// The input lines are joined into src. sanitize rewrites src into out: it
// removes comments, processing instructions and DOCTYPEs (so encoding/xml
// never applies its stricter rules to them) and escapes the constructs
// ezxml accepts inside attribute values but encoding/xml does not. Line
// k of the input starts at srcStart[k] in src and at outStart[k] in out.
type prepared struct {
	lines    []Line
	src      string
	srcStart []int
	out      []byte
	outStart []int
	next     int // first line whose outStart is not yet known
}

func newPrepared(lines []Line) *prepared {
	p := &prepared{lines: lines, srcStart: make([]int, len(lines)), outStart: make([]int, len(lines))}
	var b strings.Builder
	for i, l := range lines {
		p.srcStart[i] = b.Len()
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	p.src = b.String()
	p.out = make([]byte, 0, len(p.src)+len(p.src)/16)
	return p
}

// mark records, for every line starting at or before src offset i whose
// place in out is still unknown, that it starts at the current end of out.
func (p *prepared) mark(i int) {
	for p.next < len(p.srcStart) && p.srcStart[p.next] <= i {
		p.outStart[p.next] = len(p.out)
		p.next++
	}
}

// emit copies src[i] to out.
func (p *prepared) emit(i int) {
	p.mark(i)
	p.out = append(p.out, p.src[i])
}

// replace writes s in place of the src bytes [i, j).
func (p *prepared) replace(i, j int, s string) {
	p.mark(j - 1)
	p.out = append(p.out, s...)
}

// skip drops the src bytes [i, j).
func (p *prepared) skip(i, j int) { p.mark(j - 1) }

// srcLine returns the index of the input line holding src offset i.
func (p *prepared) srcLine(i int) int {
	return sort.Search(len(p.srcStart), func(k int) bool { return p.srcStart[k] > i }) - 1
}

// outLine returns the index of the input line holding out offset i.
func (p *prepared) outLine(i int) int {
	return sort.Search(len(p.outStart), func(k int) bool { return p.outStart[k] > i }) - 1
}

// posAt returns the Pos of input line k (clamped into range).
func (p *prepared) posAt(k int) Pos {
	if len(p.lines) == 0 {
		return Pos{}
	}
	k = max(0, min(k, len(p.lines)-1))
	return p.lines[k].Pos
}

func (p *prepared) srcErr(i int, format string, args ...any) error {
	return Errorf(p.posAt(p.srcLine(i)), format, args...)
}

func (p *prepared) outErr(i int, format string, args ...any) error {
	return Errorf(p.posAt(p.outLine(i)), format, args...)
}

// isSpace reports the characters C's isspace accepts.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// sanitize fills out from src; see prepared.
func (p *prepared) sanitize() error {
	src := p.src
	n := len(src)
	for i := 0; i < n; {
		c := src[i]
		if c != '<' {
			// A literal "]]>" in text is accepted by ezxml; encoding/xml
			// needs the '>' escaped.
			if c == '>' && len(p.out) >= 2 && p.out[len(p.out)-1] == ']' && p.out[len(p.out)-2] == ']' {
				p.replace(i, i+1, "&gt;")
			} else {
				p.emit(i)
			}
			i++
			continue
		}
		rest := src[i:]
		switch {
		case strings.HasPrefix(rest, "<!--"):
			// Like ezxml, the first "--" must be followed by '>'.
			j := strings.Index(src[i+4:], "--")
			if j < 0 || i+4+j+2 >= n || src[i+4+j+2] != '>' {
				return p.srcErr(i, `unclosed comment <!-- (or "--" inside a comment)`)
			}
			end := i + 4 + j + 3
			p.skip(i, end)
			i = end
		case strings.HasPrefix(rest, "<![CDATA["):
			j := strings.Index(src[i+9:], "]]>")
			if j < 0 {
				return p.srcErr(i, "unclosed <![CDATA[")
			}
			end := i + 9 + j + 3
			for ; i < end; i++ {
				p.emit(i)
			}
		case strings.HasPrefix(rest, "<!DOCTYPE"):
			end := doctypeEnd(src, i)
			if end < 0 {
				return p.srcErr(i, "unclosed <!DOCTYPE")
			}
			p.skip(i, end)
			i = end
		case strings.HasPrefix(rest, "<!"):
			return p.srcErr(i, "unexpected <! (only comments, CDATA sections and DOCTYPE are allowed)")
		case strings.HasPrefix(rest, "<?"):
			// ezxml lets the '?' of "<?" also start the closing "?>".
			j := strings.Index(src[i+1:], "?>")
			if j < 0 {
				return p.srcErr(i, "unclosed processing instruction <?")
			}
			end := i + 1 + j + 2
			p.skip(i, end)
			i = end
		case strings.HasPrefix(rest, "</"):
			for ; i < n; i++ {
				p.emit(i)
				if src[i] == '>' {
					i++
					break
				}
			}
		default:
			i = p.startTag(i)
		}
	}
	p.mark(n)
	return nil
}

// startTag copies the start tag at src[i] ('<') and returns the offset after
// it. Inside quoted attribute values a raw '<' is escaped and whitespace is
// normalised to spaces as ezxml does. The tag ends at the first '>' outside
// quotes, or just before a '<' outside quotes (which encoding/xml will then
// report as malformed).
func (p *prepared) startTag(i int) int {
	src := p.src
	n := len(src)
	p.emit(i)
	i++
	var quote byte
	for i < n {
		c := src[i]
		if quote != 0 {
			switch {
			case c == quote:
				quote = 0
				p.emit(i)
			case c == '<':
				p.replace(i, i+1, "&lt;")
			case c == '\r' && i+1 < n && src[i+1] == '\n':
				p.replace(i, i+2, " ")
				i++
			case isSpace(c):
				p.replace(i, i+1, " ")
			default:
				p.emit(i)
			}
			i++
			continue
		}
		switch c {
		case '"', '\'':
			quote = c
		case '<':
			return i
		case '>':
			p.emit(i)
			return i + 1
		}
		p.emit(i)
		i++
	}
	return i
}

// doctypeEnd returns the offset after the <!DOCTYPE declaration at src[i],
// or -1 when it is not closed. A declaration with an internal subset
// ("[...]") ends at "]" followed by optional whitespace and ">".
func doctypeEnd(src string, i int) int {
	for j := i; j < len(src); j++ {
		switch src[j] {
		case '>':
			return j + 1
		case '[':
			for k := j + 1; k < len(src); k++ {
				if src[k] != ']' {
					continue
				}
				m := k + 1
				for m < len(src) && isSpace(src[m]) {
					m++
				}
				if m < len(src) && src[m] == '>' {
					return m + 1
				}
			}
			return -1
		}
	}
	return -1
}

// openElement is an element on the builder's stack.
type openElement struct {
	e    *etree.Element
	name string
	pos  Pos
}

// build runs encoding/xml over the sanitized text and assembles the tree.
func (p *prepared) build() (*Document, error) {
	doc := &Document{Doc: etree.NewDocument()}
	d := xml.NewDecoder(bytes.NewReader(p.out))
	// Non-strict mode leaves unknown entities alone; tag matching is
	// checked here instead, since RawToken does not.
	d.Strict = false
	var (
		stack []openElement
		root  *openElement // the first element, once seen
		text  strings.Builder
	)
	flush := func() {
		if text.Len() > 0 && len(stack) > 0 {
			stack[len(stack)-1].e.CreateText(text.String())
		}
		text.Reset()
	}
	for {
		off := int(d.InputOffset())
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			msg := err.Error()
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				msg = se.Msg
			}
			return nil, p.outErr(p.syntaxErrorOffset(msg, off, int(d.InputOffset())), "XML syntax error: %s", msg)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := fullName(t.Name)
			pos := p.posAt(p.outLine(off))
			if len(stack) == 0 && root != nil {
				return nil, Errorf(pos, "element <%s> after the root element <%s> (opened at %s) was closed", name, root.name, root.pos)
			}
			if len(stack) >= MaxElementDepth {
				return nil, Errorf(pos, "elements nested deeper than %d levels", MaxElementDepth)
			}
			flush()
			var e *etree.Element
			if len(stack) == 0 {
				e = doc.Doc.CreateElement(name)
			} else {
				e = stack[len(stack)-1].e.CreateElement(name)
			}
			for _, a := range t.Attr {
				key := fullName(a.Name)
				if e.SelectAttr(key) == nil {
					e.CreateAttr(key, a.Value)
				}
			}
			doc.SetPos(e, pos)
			stack = append(stack, openElement{e: e, name: name, pos: pos})
			if root == nil {
				root = &openElement{e: e, name: name, pos: pos}
			}
		case xml.EndElement:
			name := fullName(t.Name)
			if len(stack) == 0 {
				return nil, p.outErr(off, "unexpected closing tag </%s>", name)
			}
			top := stack[len(stack)-1]
			if top.name != name {
				return nil, p.outErr(off, "closing tag </%s> does not match <%s> opened at %s", name, top.name, top.pos)
			}
			flush()
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				text.Write(t)
				continue
			}
			if k := bytes.IndexFunc(t, func(r rune) bool { return !strings.ContainsRune(" \t\r\n", r) }); k >= 0 {
				at := off
				for at < len(p.out) && isSpace(p.out[at]) {
					at++
				}
				where := "before"
				if root != nil {
					where = "after"
				}
				return nil, p.outErr(at, "text %s the root element", where)
			}
		}
	}
	if len(stack) > 0 {
		top := stack[len(stack)-1]
		return nil, Errorf(top.pos, "element <%s> is not closed", top.name)
	}
	if root == nil {
		var pos Pos
		if len(p.lines) > 0 {
			pos = Pos{File: p.lines[0].Pos.File, From: p.lines[0].Pos.From}
		}
		return nil, Errorf(pos, "no root element")
	}
	return doc, nil
}

// syntaxErrorOffset picks the out offset to blame for an encoding/xml
// error: the start of the token for an unexpected end of input, the first
// bad character for character errors (encoding/xml checks them only after
// reading a whole text run), and otherwise the last byte the decoder read.
func (p *prepared) syntaxErrorOffset(msg string, start, cur int) int {
	switch {
	case strings.Contains(msg, "unexpected EOF"):
		return start
	case strings.HasPrefix(msg, "illegal character code"), strings.HasPrefix(msg, "invalid UTF-8"):
		for i := start; i < cur && i < len(p.out); {
			r, size := utf8.DecodeRune(p.out[i:])
			if (r == utf8.RuneError && size == 1) || !xmlChar(r) {
				return i
			}
			i += size
		}
	}
	return max(start, cur-1)
}

// xmlChar reports whether r is allowed in an XML document.
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// fullName renders an encoding/xml name as written ("prefix:local").
func fullName(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}
