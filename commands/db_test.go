package commands

import (
	"path/filepath"
	"testing"
)

func TestDBCommand(t *testing.T) {
	env := newLive(t)
	path := filepath.Join(t.TempDir(), "db", DBFile)
	db, err := OpenDB(path, "sb-test")
	if err != nil {
		t.Fatal(err)
	}
	env.db = db
	steps := []struct{ args, want string }{
		{"", "!err!"},
		{"bogus/a/b", "!err!"},
		{"insert/a/b", "!err!"},
		{"select/a", "!err!"},
		{"count/a/b", "!err!"},
		{"list/a/b", "!err!"},
		{"count", "0"},
		{"list", ""},
		{"select/dnd/1000", ""},
		{"exists/dnd/1000", "false"},
		{"insert/dnd/1000/on", "+OK"},
		{"INSERT/dnd/1000/off/really", "+OK"},
		{"select/dnd/1000", "off/really"},
		{"exists/dnd/1000", "true"},
		{"insert/dnd/1001/on", "+OK"},
		{"insert/fwd/1000/2000", "+OK"},
		{"insert/empty/k/''", "+OK"},
		{"exists/empty/k", "false"},
		{"count", "3"},
		{"count/dnd", "2"},
		{"list", "dnd,empty,fwd"},
		{"list/dnd", "1000,1001"},
		{"delete/dnd/1001", "+OK"},
		{"delete/dnd/nosuch", "+OK"},
		{"list/dnd", "1000"},
		{"insert/'it''s'/k/'a;b'", "+OK"},
	}
	for _, st := range steps {
		if got := run(env, "db", st.args); got != st.want {
			t.Errorf("db %s = %q, want %q", st.args, got, st.want)
		}
	}

	// The data survives closing and opening the file again (a restart).
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if got := run(env, "db", "select/dnd/1000"); got[:4] != "-ERR" {
		t.Errorf("select on a closed database = %q", got)
	}
	db2, err := OpenDB(path, "sb-test")
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	env.db = db2
	for args, want := range map[string]string{
		"select/dnd/1000": "off/really",
		"select/fwd/1000": "2000",
		"list":            "dnd,empty,fwd,its",
		"select/its/k":    "a;b",
	} {
		if got := run(env, "db", args); got != want {
			t.Errorf("after reopening: db %s = %q, want %q", args, got, want)
		}
	}
}

func TestDBStore(t *testing.T) {
	db, err := OpenDB(filepath.Join(t.TempDir(), DBFile), "sb-test")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if ok, err := db.InsertIfEmpty("r", "k", "1"); !ok || err != nil {
		t.Errorf("InsertIfEmpty on an empty key = %v, %v", ok, err)
	}
	if ok, err := db.InsertIfEmpty("r", "k", "2"); ok || err != nil {
		t.Errorf("InsertIfEmpty on a set key = %v, %v", ok, err)
	}
	if ok, err := db.DeleteIfMatch("r", "k", "2"); ok || err != nil {
		t.Errorf("DeleteIfMatch with another value = %v, %v", ok, err)
	}
	if v, ok, err := db.Select("r", "k"); v != "1" || !ok || err != nil {
		t.Errorf("Select = %q, %v, %v", v, ok, err)
	}
	if ok, err := db.DeleteIfMatch("r", "k", "1"); !ok || err != nil {
		t.Errorf("DeleteIfMatch = %v, %v", ok, err)
	}
	if ok, err := db.Delete("r", "k"); ok || err != nil {
		t.Errorf("Delete of a missing key = %v, %v", ok, err)
	}
	var host string
	if err := db.db.QueryRow(`SELECT count(*) FROM db_data`).Scan(new(int)); err != nil {
		t.Fatal(err)
	}
	_ = db.Insert("r", "k", "v")
	if err := db.db.QueryRow(`SELECT hostname FROM db_data WHERE realm = 'r'`).Scan(&host); err != nil || host != "sb-test" {
		t.Errorf("hostname column = %q, %v", host, err)
	}
}
