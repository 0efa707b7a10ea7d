package vars

import (
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
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
//
// The variables live in one slice in insertion order; a store of more
// than a few variables also keeps an open-addressing hash index of their
// lower-case names into that slice. A store sized for its variables
// (NewStoreSize) therefore costs three allocations however many scalar
// variables it holds, and lookups never allocate, whatever the case of the
// name.
type Store struct {
	mu   sync.RWMutex
	ents []entry  // the variables, in insertion order
	idx  []uint32 // hash index: position in ents + 1, 0 = free; nil while small
	seed uint64   // hash seed, random per store
}

// entry is one variable: 40 bytes for the usual scalar with an ASCII name.
type entry struct {
	name  string    // as first set
	value string    // scalar value, or the serialised array when ext.vals != nil
	ext   *entryExt // arrays and names that are not ASCII; nil otherwise
}

type entryExt struct {
	key  string   // strings.ToLower(name) when name is not ASCII, else ""
	vals []string // array elements (nil for a scalar)
}

func (e *entry) vals() []string {
	if e.ext == nil {
		return nil
	}
	return e.ext.vals
}

// lowerKey is e's name in lower case, and whether it is the ASCII name
// itself (still in its own spelling: compare it with asciiFoldEqual).
func (e *entry) lowerKey() (string, bool) {
	if e.ext != nil && e.ext.key != "" {
		return e.ext.key, false
	}
	return e.name, true
}

// smallStore is the number of variables a store holds before it builds
// its hash index; below it a lookup compares names in a linear scan.
const smallStore = 8

// NewStore returns an empty store.
func NewStore() *Store { return &Store{seed: rand.Uint64()} }

// NewStoreSize returns an empty store with room for n variables, so that
// filling it up to n does not grow it.
func NewStoreSize(n int) *Store {
	s := NewStore()
	if n > 0 {
		s.ents = make([]entry, 0, n)
		if n > smallStore {
			s.idx = make([]uint32, indexSize(n))
		}
	}
	return s
}

// indexSize is the index length for n variables: a power of two at least
// twice n, so probes stay short.
func indexSize(n int) int {
	size := 16
	for size < 2*n {
		size <<= 1
	}
	return size
}

// foldHash hashes s as if its ASCII letters were lower case, eight bytes
// at a time. ascii reports whether s is pure ASCII; otherwise only
// strings.ToLower knows its lower case, and callers hash that instead
// (folding is then the identity, so the two agree).
func (s *Store) foldHash(str string) (h uint64, ascii bool) {
	const (
		hi  = 0x8080808080808080
		k1  = 0x9e3779b97f4a7c15
		k2  = 0xff51afd7ed558ccd
		low = 0x3f3f3f3f3f3f3f3f // c + 0x3f has bit 7 set when c >= 'A'
		top = 0x2525252525252525 // c + 0x25 has bit 7 set when c > 'Z'
	)
	h = s.seed ^ uint64(len(str))*k1
	var high uint64
	mix := func(w uint64) {
		high |= w & hi
		b7 := w &^ hi
		upper := (b7 + low) &^ (b7 + top) &^ w & hi
		w |= upper >> 2 // 'A'..'Z' + 0x20
		h = (h ^ w) * k1
		h ^= h >> 29
	}
	i := 0
	for ; i+8 <= len(str); i += 8 {
		mix(uint64(str[i]) | uint64(str[i+1])<<8 | uint64(str[i+2])<<16 | uint64(str[i+3])<<24 |
			uint64(str[i+4])<<32 | uint64(str[i+5])<<40 | uint64(str[i+6])<<48 | uint64(str[i+7])<<56)
	}
	if i < len(str) {
		var w uint64
		for j := len(str) - 1; j >= i; j-- {
			w = w<<8 | uint64(str[j])
		}
		mix(w)
	}
	h ^= h >> 33
	h *= k2
	h ^= h >> 33
	return h, high == 0
}

// foldEqual reports whether name, its ASCII letters lower-cased, is key
// (which is in lower case).
func foldEqual(key, name string) bool {
	if len(key) != len(name) {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if key[i] != c {
			return false
		}
	}
	return true
}

// asciiFoldEqual reports whether a and b are equal once the ASCII
// letters of both are lower-cased.
func asciiFoldEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// lookupKey returns what find needs for name: the hash of its lower-case
// form and what to compare names with — name itself when it is ASCII,
// else its lower case.
func (s *Store) lookupKey(name string) (h uint64, cmp string) {
	if h, ok := s.foldHash(name); ok {
		return h, name
	}
	cmp = strings.ToLower(name)
	h, _ = s.foldHash(cmp)
	return h, cmp
}

// matches reports whether e is the variable a lookup compares with cmp
// (see lookupKey).
func (e *entry) matches(cmp string) bool {
	if len(e.name) != len(cmp) && e.ext == nil {
		return false // an ASCII name folds to its own length
	}
	if e.name == cmp {
		return true // the same spelling: the usual case
	}
	key, ascii := e.lowerKey()
	if ascii {
		return asciiFoldEqual(key, cmp)
	}
	return foldEqual(key, cmp)
}

// hashOf is the hash of e's lower-case name.
func (s *Store) hashOf(e *entry) uint64 {
	key, _ := e.lowerKey()
	h, _ := s.foldHash(key)
	return h
}

// find returns the position of name in s.ents, or -1, and the hash of
// its lower-case form. Caller holds mu.
func (s *Store) find(name string) (int, uint64) {
	h, cmp := s.lookupKey(name)
	if s.idx == nil {
		for i := range s.ents {
			if s.ents[i].matches(cmp) {
				return i, h
			}
		}
		return -1, h
	}
	mask := uint64(len(s.idx) - 1)
	for p := h & mask; ; p = (p + 1) & mask {
		v := s.idx[p]
		if v == 0 {
			return -1, h
		}
		if s.ents[v-1].matches(cmp) {
			return int(v - 1), h
		}
	}
}

// insertIndex records position i, whose name hashes to h, in the index.
func (s *Store) insertIndex(i int, h uint64) {
	mask := uint64(len(s.idx) - 1)
	p := h & mask
	for s.idx[p] != 0 {
		p = (p + 1) & mask
	}
	s.idx[p] = uint32(i + 1)
}

// reindex rebuilds the index after positions moved or it must grow.
// Caller holds mu.
func (s *Store) reindex() {
	if len(s.ents) <= smallStore && s.idx == nil {
		return
	}
	if n := indexSize(len(s.ents)); len(s.idx) < n {
		s.idx = make([]uint32, n)
	} else {
		clear(s.idx)
	}
	for i := range s.ents {
		s.insertIndex(i, s.hashOf(&s.ents[i]))
	}
}

// Get returns a variable's value; arrays come back serialised.
func (s *Store) Get(name string) (string, bool) {
	if s == nil {
		return "", false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, _ := s.find(name)
	if i < 0 {
		return "", false
	}
	return s.ents[i].value, true
}

// Array returns the elements of a variable: an array's elements, a scalar
// as a one-element slice, or nil when unset.
func (s *Store) Array(name string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, _ := s.find(name)
	if i < 0 {
		return nil
	}
	if vals := s.ents[i].vals(); vals != nil {
		return append([]string(nil), vals...)
	}
	return []string{s.ents[i].value}
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
	s.put(name, value, nil)
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
	s.put(name, serialise(vals), vals)
	s.mu.Unlock()
}

// put assigns name. Caller holds mu.
func (s *Store) put(name, value string, vals []string) {
	i, h := s.find(name)
	if i >= 0 {
		e := &s.ents[i]
		e.value = value
		switch {
		case e.ext != nil && e.ext.key != "":
			e.ext = &entryExt{key: e.ext.key, vals: vals}
		case vals != nil:
			e.ext = &entryExt{vals: vals}
		default:
			e.ext = nil
		}
		return
	}
	e := entry{name: name, value: value}
	if !isASCII(name) || vals != nil {
		e.ext = &entryExt{vals: vals}
		if !isASCII(name) {
			e.ext.key = strings.ToLower(name)
		}
	}
	s.ents = append(s.ents, e)
	n := len(s.ents)
	switch {
	case n <= smallStore && s.idx == nil:
	case s.idx == nil || 2*n > len(s.idx):
		s.reindex()
	default:
		s.insertIndex(n-1, h)
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
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
	if i, _ := s.find(name); i >= 0 {
		if old := s.ents[i].vals(); old != nil {
			vals = append(vals, old...)
		} else {
			vals = []string{s.ents[i].value}
		}
	}
	if front {
		vals = append([]string{value}, vals...)
	} else {
		vals = append(vals, value)
	}
	// A one-element array still serialises as its element but stays an
	// array.
	s.put(name, serialise(vals), vals)
}

// Unset removes a variable.
func (s *Store) Unset(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, _ := s.find(name)
	if i < 0 {
		return
	}
	s.ents = append(s.ents[:i], s.ents[i+1:]...)
	s.ents[len(s.ents) : len(s.ents)+1][0] = entry{} // drop the references
	s.reindex()
}

// UnsetPrefix removes every variable whose name starts with prefix
// (case-insensitive), like switch_channel_del_variable_prefix.
func (s *Store) UnsetPrefix(prefix string) {
	p := prefix
	if !isASCII(p) {
		p = strings.ToLower(p)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.ents[:0]
	for _, e := range s.ents {
		key, ascii := e.lowerKey()
		if len(key) >= len(p) {
			if ascii && asciiFoldEqual(key[:len(p)], p) || !ascii && foldEqual(key[:len(p)], p) {
				continue
			}
		}
		kept = append(kept, e)
	}
	if len(kept) == len(s.ents) {
		return
	}
	clear(s.ents[len(kept):])
	s.ents = kept
	s.reindex()
}

// Len returns the number of variables.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.ents)
}

// Range calls f for every variable in insertion order until f returns
// false. Arrays are passed serialised. f must not modify s.
func (s *Store) Range(f func(name, value string) bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for i := range s.ents {
		if !f(s.ents[i].name, s.ents[i].value) {
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
	c := &Store{seed: s.seed, ents: append([]entry(nil), s.ents...)}
	if s.idx != nil {
		c.idx = append([]uint32(nil), s.idx...)
	}
	for i := range c.ents {
		if e := &c.ents[i]; e.ext != nil {
			e.ext = &entryExt{key: e.ext.key, vals: append([]string(nil), e.ext.vals...)}
		}
	}
	return c
}
