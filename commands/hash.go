package commands

import (
	"context"
	"strings"
	"sync"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/vars"
)

func init() {
	Register(Command{Name: "hash", Usage: "[insert|delete|select]/<realm>/<key>/<value>", Description: "hash get/set", Module: "mod_hash", Run: hashCmd})
}

// hashAPIUsage is what FreeSWITCH's hash command prints for bad
// arguments.
const hashAPIUsage = "insert|insert_ifempty|select|delete|delete_ifmatch/realm/key[/value]"

// Hash is the in-memory store of the hash command and application
// (FreeSWITCH's mod_hash): values by realm and key, kept until the switch
// stops. Create one per running switch with NewHash. It is safe for
// concurrent use.
//
// As in FreeSWITCH, the entry is keyed by "<realm>_<key>", so realm "a_b"
// with key "c" is the same entry as realm "a" with key "b_c".
type Hash struct {
	mu sync.RWMutex
	m  map[string]string
}

var _ apps.DataStore = (*Hash)(nil)

// NewHash returns an empty store.
func NewHash() *Hash { return &Hash{m: make(map[string]string)} }

func hashKey(realm, key string) string { return realm + "_" + key }

// Select returns the value of realm/key.
func (h *Hash) Select(realm, key string) (string, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	v, ok := h.m[hashKey(realm, key)]
	return v, ok
}

// Insert sets the value of realm/key. It never fails.
func (h *Hash) Insert(realm, key, value string) error {
	h.mu.Lock()
	h.m[hashKey(realm, key)] = value
	h.mu.Unlock()
	return nil
}

// InsertIfEmpty sets the value of realm/key unless it has one.
func (h *Hash) InsertIfEmpty(realm, key, value string) (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := hashKey(realm, key)
	if _, ok := h.m[k]; ok {
		return false, nil
	}
	h.m[k] = value
	return true, nil
}

// Delete removes realm/key.
func (h *Hash) Delete(realm, key string) (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := hashKey(realm, key)
	_, ok := h.m[k]
	delete(h.m, k)
	return ok, nil
}

// DeleteIfMatch removes realm/key when its value is value.
func (h *Hash) DeleteIfMatch(realm, key, value string) (bool, error) {
	found, deleted := h.deleteIfMatch(realm, key, value)
	return found && deleted, nil
}

// deleteIfMatch removes realm/key when its value is value; found says
// whether it had a value.
func (h *Hash) deleteIfMatch(realm, key, value string) (found, deleted bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := hashKey(realm, key)
	v, ok := h.m[k]
	if !ok {
		return false, false
	}
	if v != value {
		return true, false
	}
	delete(h.m, k)
	return true, true
}

// hashCmd is `hash <op>/<realm>/<key>[/<value>]`, FreeSWITCH's mod_hash
// API, on the running switch's in-memory store:
//
//   - insert/<realm>/<key>/<value>: "+OK".
//   - insert_ifempty/...: "+OK", or "-ERR key already exists".
//   - select/<realm>/<key>: the value, nothing when there is none.
//   - delete/<realm>/<key>: "+OK", or "-ERR Not found".
//   - delete_ifmatch/<realm>/<key>/<value>: "+OK", "-ERR Doesn't match"
//     or "-ERR Not found".
//
// The arguments are split at '/' with switch_separate_string's rules into
// at most four fields (so the value may contain '/'); the operation's
// name ignores case. Anything else answers "-ERR Usage: hash ...".
func hashCmd(_ context.Context, env Env, args string) (string, error) {
	usage := "-ERR Usage: hash " + hashAPIUsage + "\n"
	argv := vars.Separate(args, '/', 4)
	if len(argv) < 3 {
		return usage, nil
	}
	st, ok := env.(Stores)
	if !ok || st.Hash() == nil {
		return needs("hash"), nil
	}
	h := st.Hash()
	realm, key := argv[1], argv[2]
	switch op := strings.ToLower(argv[0]); {
	case op == "insert" && len(argv) > 3:
		_ = h.Insert(realm, key, argv[3])
		return "+OK\n", nil
	case op == "insert_ifempty" && len(argv) > 3:
		if ok, _ := h.InsertIfEmpty(realm, key, argv[3]); !ok {
			return "-ERR key already exists\n", nil
		}
		return "+OK\n", nil
	case op == "delete":
		if ok, _ := h.Delete(realm, key); !ok {
			return "-ERR Not found\n", nil
		}
		return "+OK\n", nil
	case op == "delete_ifmatch" && len(argv) > 3:
		switch found, deleted := h.deleteIfMatch(realm, key, argv[3]); {
		case !found:
			return "-ERR Not found\n", nil
		case !deleted:
			return "-ERR Doesn't match\n", nil
		}
		return "+OK\n", nil
	case op == "select":
		v, _ := h.Select(realm, key)
		return v, nil
	}
	return usage, nil
}
