// Package xmltree holds XML configuration trees with source positions.
//
// FreeSWITCH configuration is one XML document assembled by a line-based
// preprocessor from many files. Errors must name the original file and line,
// so every element parsed here remembers where it came from (a Pos), even
// though the tree itself is a github.com/beevik/etree document.
package xmltree

import (
	"fmt"
	"strings"
)

// Pos is a position in an original configuration file, with the chain of
// X-PRE-PROCESS include directives that brought the file in.
type Pos struct {
	File string // path of the original file as the loader names it
	Line int    // 1-based line in that file; 0 when unknown
	From *Pos   // the include directive that pulled File in, or nil
}

// String renders "file:line" without the include chain.
func (p Pos) String() string {
	if p.File == "" {
		return fmt.Sprintf("line %d", p.Line)
	}
	if p.Line <= 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// Chain renders the include chain, innermost first, as
// "included from a.xml:3, freeswitch.xml:10"; empty when there is none.
func (p Pos) Chain() string {
	if p.From == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString("included from ")
	for f, first := p.From, true; f != nil; f, first = f.From, false {
		if !first {
			b.WriteString(", ")
		}
		b.WriteString(f.String())
	}
	return b.String()
}

// Error is an error tied to a source position.
type Error struct {
	Pos Pos
	Msg string
	Err error // optional wrapped cause
}

// Errorf returns an *Error at pos.
func Errorf(pos Pos, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// Error renders "file:line: message (included from ...)".
func (e *Error) Error() string {
	msg := e.Msg
	if e.Err != nil {
		if msg == "" {
			msg = e.Err.Error()
		} else {
			msg += ": " + e.Err.Error()
		}
	}
	s := e.Pos.String() + ": " + msg
	if c := e.Pos.Chain(); c != "" {
		s += " (" + c + ")"
	}
	return s
}

// Unwrap returns the wrapped cause.
func (e *Error) Unwrap() error { return e.Err }

// ErrorList is a list of positioned problems, reported one per line.
type ErrorList []*Error

// Error renders every problem on its own line.
func (l ErrorList) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Err returns nil for an empty list and the list otherwise.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}
