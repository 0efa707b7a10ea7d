package apps

import (
	"errors"
	"maps"
	"strings"
	"testing"
)

// mapStore is a DataStore over a map, recording failures on demand.
type mapStore struct {
	m    map[string]string
	fail error
}

func (s *mapStore) Insert(realm, key, value string) error {
	if s.fail != nil {
		return s.fail
	}
	s.m[realm+"/"+key] = value
	return nil
}

func (s *mapStore) InsertIfEmpty(realm, key, value string) (bool, error) {
	if _, ok := s.m[realm+"/"+key]; ok {
		return false, nil
	}
	s.m[realm+"/"+key] = value
	return true, nil
}

func (s *mapStore) Delete(realm, key string) (bool, error) {
	_, ok := s.m[realm+"/"+key]
	delete(s.m, realm+"/"+key)
	return ok, nil
}

func (s *mapStore) DeleteIfMatch(realm, key, value string) (bool, error) {
	if v, ok := s.m[realm+"/"+key]; !ok || v != value {
		return false, nil
	}
	delete(s.m, realm+"/"+key)
	return true, nil
}

// storeChannel is a fakeChannel whose switch has data stores.
type storeChannel struct {
	*fakeChannel
	stores map[string]DataStore
}

func (c *storeChannel) DataStore(name string) DataStore { return c.stores[name] }

func TestDataStoreApps(t *testing.T) {
	tests := []struct {
		app, data string
		start     map[string]string
		want      map[string]string
		err       string
	}{
		{"db", "insert/dnd/1000/on", nil, map[string]string{"dnd/1000": "on"}, ""},
		{"db", "INSERT/r/k/a/b", nil, map[string]string{"r/k": "a/b"}, ""},
		{"db", "delete/dnd/1000", map[string]string{"dnd/1000": "on", "dnd/1001": "on"}, map[string]string{"dnd/1001": "on"}, ""},
		{"db", "insert/dnd/1000", nil, map[string]string{}, "usage: db"},
		{"db", "insert_ifempty/r/k/v", nil, map[string]string{}, "usage: db"},
		{"db", "delete/dnd", nil, map[string]string{}, "usage: db"},
		{"db", "", nil, map[string]string{}, "usage: db"},
		{"hash", "insert/r/k/v", map[string]string{"r/k": "old"}, map[string]string{"r/k": "v"}, ""},
		{"hash", "insert_ifempty/r/k/v", map[string]string{"r/k": "old"}, map[string]string{"r/k": "old"}, ""},
		{"hash", "insert_ifempty/r/k/v", nil, map[string]string{"r/k": "v"}, ""},
		{"hash", "delete/r/k", map[string]string{"r/k": "old"}, map[string]string{}, ""},
		{"hash", "delete_ifmatch/r/k/old", map[string]string{"r/k": "old"}, map[string]string{}, ""},
		{"hash", "delete_ifmatch/r/k/new", map[string]string{"r/k": "old"}, map[string]string{"r/k": "old"}, ""},
		{"hash", "delete_ifmatch/r/k", map[string]string{"r/k": "old"}, map[string]string{"r/k": "old"}, "usage: hash"},
		{"hash", "select/r/k", nil, map[string]string{}, "usage: hash"},
	}
	for _, tt := range tests {
		st := &mapStore{m: maps.Clone(tt.start)}
		if st.m == nil {
			st.m = map[string]string{}
		}
		ch := &storeChannel{fakeChannel: newFake(), stores: map[string]DataStore{StoreDB: st, StoreHash: st}}
		err := run(t, ch, tt.app, tt.data)
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s %s: error %v, want %q", tt.app, tt.data, err, tt.err)
		}
		if !maps.Equal(st.m, tt.want) {
			t.Errorf("%s %s: store %v, want %v", tt.app, tt.data, st.m, tt.want)
		}
	}
}

func TestDataStoreAppsWithoutStore(t *testing.T) {
	for _, app := range []string{"db", "hash"} {
		err := run(t, newFake(), app, "insert/r/k/v")
		if err == nil || !strings.Contains(err.Error(), "needs a running switch") {
			t.Errorf("%s on a channel without stores: %v", app, err)
		}
		ch := &storeChannel{fakeChannel: newFake(), stores: map[string]DataStore{}}
		if err := run(t, ch, app, "insert/r/k/v"); err == nil {
			t.Errorf("%s on a switch without that store did not fail", app)
		}
	}
	boom := errors.New("disk full")
	ch := &storeChannel{fakeChannel: newFake(), stores: map[string]DataStore{StoreDB: &mapStore{m: map[string]string{}, fail: boom}}}
	if err := run(t, ch, "db", "insert/r/k/v"); !errors.Is(err, boom) {
		t.Errorf("a failing store: %v", err)
	}
}
