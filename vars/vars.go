// Package vars implements FreeSWITCH's variables: channel-variable stores
// with arrays, ${...} expansion with API calls, and the argument tokeniser
// (switch_separate_string) that applications use to split their data.
//
// One implementation serves the dialplan hunt, application data, scripts
// and the event socket.
package vars

// Lookup resolves a variable name (case-insensitive) to its value.
// Arrays are returned in their serialised "ARRAY::a|:b" form.
type Lookup interface {
	Get(name string) (string, bool)
}

// API runs an API command for ${cmd(args)} and ${cmd args} expansion.
// A command that does not exist returns an error.
type API interface {
	Execute(cmd, args string) (string, error)
}

// LookupFunc adapts a function to Lookup.
type LookupFunc func(name string) (string, bool)

// Get calls f.
func (f LookupFunc) Get(name string) (string, bool) { return f(name) }

// Chain looks names up in each Lookup in turn; nil entries are skipped.
type Chain []Lookup

// Get returns the first hit.
func (c Chain) Get(name string) (string, bool) {
	for _, l := range c {
		if l == nil {
			continue
		}
		if v, ok := l.Get(name); ok {
			return v, true
		}
	}
	return "", false
}
