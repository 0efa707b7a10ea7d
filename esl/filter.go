package esl

import (
	"fmt"
	"strings"

	"github.com/switchboard-voip/switchboard/dialplan"
	"github.com/switchboard-voip/switchboard/events"
)

// filter is one `filter <header> <value>` of a connection.
type filter struct {
	header, value string
	// compare is the value after its leading +, - and spaces.
	compare string
	// exclude is true when the last of those signs was '-'.
	exclude bool
	// re is the compiled expression when value starts with '/'.
	re *dialplan.Regex
}

// newFilter parses a filter value as mod_event_socket does: leading '+'
// (include, the default), '-' (exclude) and spaces are read off; a value
// that starts with '/' (before any sign) is a /regex/flags expression,
// anything else is compared without regard to case. A regular expression
// that needs the backtracking engine is refused: filters run on the
// goroutine that fires the event, which must never be slowed down.
func newFilter(header, value string) (filter, error) {
	f := filter{header: header, value: value}
	i := 0
	for ; i < len(value); i++ {
		switch value[i] {
		case '+':
			f.exclude = false
			continue
		case '-':
			f.exclude = true
			continue
		case ' ':
			continue
		}
		break
	}
	f.compare = value[i:]
	if strings.HasPrefix(value, "/") {
		re, err := dialplan.CompileRegex(value)
		if err != nil {
			return f, err
		}
		if re.Backtracking() {
			return f, fmt.Errorf("%s needs lookaround or backreferences, which event filters do not allow", value)
		}
		f.re = re
	}
	return f, nil
}

// filterSet is a connection's filters, in the order they were added.
// With none, every subscribed event passes.
type filterSet []filter

// pass reports whether e passes the filters, with FreeSWITCH's rules:
// among the filters whose header the event has, an include filter that
// matches lets it through (later include filters are then skipped) and an
// exclude filter that matches stops it at once.
func (fs filterSet) pass(e *events.Event) bool {
	if len(fs) == 0 {
		return true
	}
	send := false
	for i := range fs {
		f := &fs[i]
		v, ok := e.Lookup(f.header)
		if !ok {
			continue
		}
		if send && !f.exclude {
			continue
		}
		var match bool
		if f.re != nil {
			match = f.re.MatchString(v)
		} else {
			match = strings.EqualFold(v, f.compare)
		}
		if !match {
			continue
		}
		if f.exclude {
			return false
		}
		send = true
	}
	return send
}

// without returns the set minus the filters on header (compared without
// regard to case) whose value is value, or all of them when value is "".
func (fs filterSet) without(header, value string) filterSet {
	out := make(filterSet, 0, len(fs))
	for _, f := range fs {
		if strings.EqualFold(f.header, header) && (value == "" || f.value == value) {
			continue
		}
		out = append(out, f)
	}
	return out
}
