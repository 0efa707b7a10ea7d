// Package registry is a name → value map for the plug-in registries that
// init() functions fill (say modules, TTS engines): names compare without
// regard to case, registering a name twice panics, and lookups are safe
// for concurrent use.
package registry

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Map holds values of type T by lower-case name. The zero value is ready
// to use.
type Map[T any] struct {
	what string // "say module", for panic messages
	mu   sync.RWMutex
	m    map[string]T
}

// New returns an empty Map; what names its values in panic messages.
func New[T any](what string) *Map[T] { return &Map[T]{what: what} }

// Add registers v as name. It panics when name is empty or already
// registered: both are programming errors found at start-up.
func (r *Map[T]) Add(name string, v T) {
	if name == "" {
		panic(fmt.Sprintf("registry: %s registered with an empty name", r.what))
	}
	k := strings.ToLower(name)
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.m[k]; dup {
		panic(fmt.Sprintf("registry: %s %q registered twice", r.what, name))
	}
	if r.m == nil {
		r.m = make(map[string]T)
	}
	r.m[k] = v
}

// Get returns the value registered as name, ignoring case.
func (r *Map[T]) Get(name string) (T, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	v, ok := r.m[strings.ToLower(name)]
	return v, ok
}

// Names returns the registered names (lower case), sorted.
func (r *Map[T]) Names() []string {
	r.mu.RLock()
	out := make([]string, 0, len(r.m))
	for k := range r.m {
		out = append(out, k)
	}
	r.mu.RUnlock()
	sort.Strings(out)
	return out
}
