package sip

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

func openTestDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	return db
}

func uris(cs []Contact) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.URI)
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRegistrarExpiry(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	r, err := OpenRegistrar(nil, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	type step struct {
		advance  time.Duration
		register *Contact
		unregAll bool
		want     []string // Contacts("1000", "pbx.test")
	}
	c := func(uri string, ttl time.Duration) *Contact {
		return &Contact{User: "1000", Realm: "pbx.test", URI: uri, Expires: clk.now().Add(ttl)}
	}
	steps := []func() step{
		func() step {
			return step{register: c("sip:1000@10.0.0.1", 120*time.Second), want: []string{"sip:1000@10.0.0.1"}}
		},
		func() step {
			return step{register: c("sip:1000@10.0.0.2", 300*time.Second), want: []string{"sip:1000@10.0.0.1", "sip:1000@10.0.0.2"}}
		},
		func() step { return step{advance: 121 * time.Second, want: []string{"sip:1000@10.0.0.2"}} },
		func() step {
			return step{register: c("sip:1000@10.0.0.2", 600*time.Second), want: []string{"sip:1000@10.0.0.2"}} // refresh, not a second entry
		},
		func() step { return step{advance: 500 * time.Second, want: []string{"sip:1000@10.0.0.2"}} },
		func() step { return step{register: c("sip:1000@10.0.0.2", 0), want: nil} }, // expires=0
		func() step {
			return step{register: c("sip:1000@10.0.0.3", 60*time.Second), want: []string{"sip:1000@10.0.0.3"}}
		},
		func() step { return step{unregAll: true, want: nil} },
	}
	for i, f := range steps {
		s := f()
		clk.advance(s.advance)
		if s.register != nil {
			if err := r.Register(ctx, *s.register); err != nil {
				t.Fatal(err)
			}
		}
		if s.unregAll {
			if err := r.UnregisterAll(ctx, "1000", "PBX.test"); err != nil {
				t.Fatal(err)
			}
		}
		if got := uris(r.Contacts("1000", "pbx.test")); !equalStrings(got, s.want) {
			t.Fatalf("step %d: contacts %v, want %v", i, got, s.want)
		}
		if got := uris(r.All()); !equalStrings(got, s.want) {
			t.Fatalf("step %d: all %v, want %v", i, got, s.want)
		}
	}
}

func TestRegistrarPersistence(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	path := filepath.Join(t.TempDir(), "reg.db")
	db := openTestDB(t, path)
	r, err := OpenRegistrar(db, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	want := Contact{User: "1000", Realm: "pbx.test", URI: "sip:1000@10.0.0.1:5062;transport=tcp", CallID: "abc", Expires: clk.now().Add(time.Hour),
		Profile: "internal", NetworkIP: "10.0.0.1", NetworkPort: 5062, Transport: "tcp", UserAgent: "phone/1"}
	for _, c := range []Contact{
		want,
		{User: "1001", Realm: "pbx.test", URI: "sip:1001@10.0.0.9", Expires: clk.now().Add(time.Minute)},
		{User: "1002", Realm: "pbx.test", URI: "sip:1002@10.0.0.8", Expires: clk.now().Add(time.Minute)},
	} {
		if err := r.Register(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Register(ctx, Contact{User: "1002", Realm: "pbx.test", URI: "sip:1002@10.0.0.8", Expires: clk.now()}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	clk.advance(2 * time.Minute) // 1001 lapses while the switch is down
	db = openTestDB(t, path)
	defer db.Close()
	r2, err := OpenRegistrar(db, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	got := r2.All()
	if len(got) != 1 || got[0] != want {
		t.Fatalf("after reopen: %+v, want only %+v", got, want)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sip_registrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d rows left, want the lapsed ones pruned", n)
	}
}
