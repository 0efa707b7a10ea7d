package commands

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/session"
)

func TestHashCommand(t *testing.T) {
	env := newLive(t)
	usage := "-ERR Usage: hash " + hashAPIUsage + "\n"
	steps := []struct{ args, want string }{
		{"", usage},
		{"insert/realm", usage},
		{"insert/realm/key", usage},
		{"bogus/realm/key", usage},
		{"select/realm/key", ""},
		{"insert/realm/key/a/b c", "+OK\n"},
		{"select/realm/key", "a/b c"},
		{"SELECT/realm/key", "a/b c"},
		{"select/realm/KEY", ""},
		{"insert_ifempty/realm/key/other", "-ERR key already exists\n"},
		{"insert_ifempty/realm/key2/v2", "+OK\n"},
		{"select/realm/key2", "v2"},
		{"delete_ifmatch/realm/key/nope", "-ERR Doesn't match\n"},
		{"delete_ifmatch/realm/key", usage},
		{"delete_ifmatch/realm/key/a/b c", "+OK\n"},
		{"delete_ifmatch/realm/key/a/b c", "-ERR Not found\n"},
		{"delete/realm/key2", "+OK\n"},
		{"delete/realm/key2", "-ERR Not found\n"},
		// FreeSWITCH's key is realm + "_" + key.
		{"insert/a_b/c/joined", "+OK\n"},
		{"select/a/b_c", "joined"},
	}
	for _, st := range steps {
		if got := run(env, "hash", st.args); got != st.want {
			t.Errorf("hash %s = %q, want %q", st.args, got, st.want)
		}
	}
}

// The hash and db applications reach the switch's stores through the
// session; the commands see what they changed.
func TestDataStoreApplications(t *testing.T) {
	env := newLive(t)
	db, err := OpenDB(filepath.Join(t.TempDir(), DBFile), "sb-test")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	env.db = db
	s, _ := startCall(t, env, "park", "1000", session.CSPark)
	for _, a := range [][2]string{
		{"hash", "insert/calls/${caller_id_number}/${destination_number}"},
		{"hash", "insert_ifempty/calls/1000/ignored"},
		{"db", "insert/dnd/${caller_id_number}/on"},
		{"db", "insert/tmp/x/1"},
		{"db", "delete/tmp/x"},
		{"test_cmd_note", "done"},
	} {
		if err := s.Enqueue(a[0], a[1]); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the applications", func() bool { return len(notes(s.UUID())) == 1 })
	for _, c := range []struct{ cmd, args, want string }{
		{"hash", "select/calls/1000", "park"},
		{"db", "select/dnd/1000", "on"},
		{"db", "exists/tmp/x", "false"},
	} {
		if got := run(env, c.cmd, c.args); got != c.want {
			t.Errorf("%s %s = %q, want %q", c.cmd, c.args, got, c.want)
		}
	}
}

func TestHashConcurrent(t *testing.T) {
	h := NewHash()
	done := make(chan bool)
	for i := range 8 {
		go func() {
			ok, _ := h.InsertIfEmpty("r", "k", string(rune('a'+i)))
			done <- ok
		}()
	}
	won := 0
	timeout := time.After(10 * time.Second)
	for range 8 {
		select {
		case ok := <-done:
			if ok {
				won++
			}
		case <-timeout:
			t.Fatal("InsertIfEmpty blocked")
		}
	}
	if won != 1 {
		t.Errorf("%d InsertIfEmpty calls won, want 1", won)
	}
}
