package vars

import (
	"sort"
	"strings"
	"sync"
)

// ArrayPrefix starts the serialised form of an array variable:
// "ARRAY::a|:b|:c".
const ArrayPrefix = "ARRAY::"

// arraySep separates serialised array elements.
const arraySep = "|:"

// Store holds one channel's variables. Names are case-insensitive (the
// spelling of the first Set is kept for listing); a value is a string or
// an array of strings. Channel variables cannot hold "": setting a variable
// to the empty string removes it, as in FreeSWITCH.
//
// A Store is safe for concurrent use (the call's goroutine writes, the
// event socket may read).
type Store struct {
	mu    sync.RWMutex
	m     map[string]*entry // lower-case name → entry
	order []string          // lower-case names in insertion order
}

type entry struct {
	name  string   // as first set
	value string   // scalar value, or the serialised array when vals != nil
	vals  []string // array elements (nil for a scalar)
}

// NewStore returns an empty store.
func NewStore() *Store { return &Store{m: make(map[string]*entry)} }

func key(name string) string { return strings.ToLower(name) }

// Get returns a variable's value; arrays come back serialised.
func (s *Store) Get(name string) (string, bool) {
	if s == nil {
		return "", false
	}
	s.mu.RLock()
	e, ok := s.m[key(name)]
	s.mu.RUnlock()
	if !ok {
		return "", false
	}
	return e.value, true
}

// Array returns the elements of a variable: an array's elements, a scalar
// as a one-element slice, or nil when unset.
func (s *Store) Array(name string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.m[key(name)]
	if !ok {
		return nil
	}
	if e.vals != nil {
		return append([]string(nil), e.vals...)
	}
	return []string{e.value}
}

// Set assigns a variable. An empty value removes it; a value starting with
// "ARRAY::" becomes an array.
func (s *Store) Set(name, value string) {
	if value == "" {
		s.Unset(name)
		return
	}
	if strings.HasPrefix(value, ArrayPrefix) {
		s.SetArray(name, strings.Split(value[len(ArrayPrefix):], arraySep))
		return
	}
	s.mu.Lock()
	s.put(name, &entry{name: name, value: value})
	s.mu.Unlock()
}

// SetArray assigns an array; an empty slice removes the variable.
func (s *Store) SetArray(name string, values []string) {
	if len(values) == 0 {
		s.Unset(name)
		return
	}
	vals := append([]string(nil), values...)
	s.mu.Lock()
	s.put(name, &entry{name: name, value: serialise(vals), vals: vals})
	s.mu.Unlock()
}

func (s *Store) put(name string, e *entry) {
	k := key(name)
	if old, ok := s.m[k]; ok {
		e.name = old.name
	} else {
		s.order = append(s.order, k)
	}
	s.m[k] = e
}

func serialise(vals []string) string {
	if len(vals) == 1 {
		return vals[0]
	}
	n := len(ArrayPrefix) + len(arraySep)*(len(vals)-1)
	for _, v := range vals {
		n += len(v)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(ArrayPrefix)
	for i, v := range vals {
		if i > 0 {
			b.WriteString(arraySep)
		}
		b.WriteString(v)
	}
	return b.String()
}

// Push appends value to the array called name, creating it (or turning a
// scalar into an array) as needed. Empty values are ignored.
func (s *Store) Push(name, value string) { s.add(name, value, false) }

// Unshift prepends value to the array called name.
func (s *Store) Unshift(name, value string) { s.add(name, value, true) }

func (s *Store) add(name, value string, front bool) {
	if value == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var vals []string
	if e, ok := s.m[key(name)]; ok {
		if e.vals != nil {
			vals = append(vals, e.vals...)
		} else {
			vals = []string{e.value}
		}
	}
	if front {
		vals = append([]string{value}, vals...)
	} else {
		vals = append(vals, value)
	}
	e := &entry{name: name, vals: vals}
	e.value = serialise(vals)
	if len(vals) == 1 {
		// A one-element array still serialises as its element but stays an array.
		e.value = vals[0]
	}
	s.put(name, e)
}

// Unset removes a variable.
func (s *Store) Unset(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(name)
	if _, ok := s.m[k]; !ok {
		return
	}
	delete(s.m, k)
	for i, o := range s.order {
		if o == k {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
}

// UnsetPrefix removes every variable whose name starts with prefix
// (case-insensitive), like switch_channel_del_variable_prefix.
func (s *Store) UnsetPrefix(prefix string) {
	p := key(prefix)
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.order[:0]
	for _, k := range s.order {
		if strings.HasPrefix(k, p) {
			delete(s.m, k)
			continue
		}
		kept = append(kept, k)
	}
	s.order = kept
}

// Len returns the number of variables.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.m)
}

// Range calls f for every variable in insertion order until f returns
// false. Arrays are passed serialised. f must not modify s.
func (s *Store) Range(f func(name, value string) bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, k := range s.order {
		e := s.m[k]
		if !f(e.name, e.value) {
			return
		}
	}
}

// Map returns a copy of every variable, arrays serialised.
func (s *Store) Map() map[string]string {
	out := make(map[string]string, s.Len())
	s.Range(func(n, v string) bool { out[n] = v; return true })
	return out
}

// Names returns the variable names, sorted.
func (s *Store) Names() []string {
	var out []string
	s.Range(func(n, _ string) bool { out = append(out, n); return true })
	sort.Strings(out)
	return out
}

// Clone returns an independent copy of s.
func (s *Store) Clone() *Store {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c := &Store{m: make(map[string]*entry, len(s.m)), order: append([]string(nil), s.order...)}
	for k, e := range s.m {
		ce := *e
		if e.vals != nil {
			ce.vals = append([]string(nil), e.vals...)
		}
		c.m[k] = &ce
	}
	return c
}
