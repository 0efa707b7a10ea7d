package apps

import (
	"context"
	"fmt"
	"strings"

	"github.com/switchboard-voip/switchboard/vars"
)

// The data-store family: db (FreeSWITCH's mod_db, a table kept in SQLite
// that survives restarts) and hash (mod_hash, in memory). Both change
// values kept by realm and key in a store of the running switch, which
// the channel reaches through DataStores; the db and hash API commands
// read and change the same stores.

func init() {
	Register(App{Name: "db", Flags: SupportNoMedia | ZombieExec, Usage: dbUsage, Description: "Insert to the db", Run: dbApp})
	Register(App{Name: "hash", Flags: SupportNoMedia | ZombieExec, Usage: hashUsage, Description: "Insert into the hashtable", Run: hashApp})
}

const (
	dbUsage   = "[insert|delete]/<realm>/<key>/<val>"
	hashUsage = "[insert|insert_ifempty|delete|delete_ifmatch]/<realm>/<key>/<val>"
)

// Names of the switch's stores, for DataStores.DataStore.
const (
	StoreDB   = "db"   // persistent (mod_db)
	StoreHash = "hash" // in memory (mod_hash)
)

// DataStore is a table of values by realm and key. Implementations are
// safe for concurrent use.
type DataStore interface {
	// Insert sets the value of realm/key, replacing any.
	Insert(realm, key, value string) error
	// InsertIfEmpty sets the value of realm/key unless it has one; it
	// reports whether it did.
	InsertIfEmpty(realm, key, value string) (bool, error)
	// Delete removes realm/key; it reports whether there was a value.
	Delete(realm, key string) (bool, error)
	// DeleteIfMatch removes realm/key when its value is value; it
	// reports whether it did.
	DeleteIfMatch(realm, key, value string) (bool, error)
}

// DataStores is an optional interface of a Channel whose switch keeps
// data stores: the call session of a running switch implements it.
type DataStores interface {
	// DataStore returns the store called name (StoreDB, StoreHash), or
	// nil when the switch has none.
	DataStore(name string) DataStore
}

// storeOf returns the channel's store called name, or an error when the
// channel has none (for example under `switchboard route`).
func storeOf(ch Channel, app, name string) (DataStore, error) {
	if ds, ok := ch.(DataStores); ok {
		if st := ds.DataStore(name); st != nil {
			return st, nil
		}
	}
	return nil, fmt.Errorf("%s: no %s store on this channel (it needs a running switch)", app, name)
}

// dbApp is `db insert/<realm>/<key>/<value>` or `db delete/<realm>/<key>`:
// it sets or removes a value of the persistent store. The data is split
// at '/' with switch_separate_string's rules into at most four fields, so
// the value may contain '/'.
func dbApp(_ context.Context, ch Channel, data string) error {
	argv := vars.Separate(data, '/', 4)
	usage := &UsageError{App: "db", Usage: dbUsage, Reason: "bad arguments"}
	if len(argv) < 3 {
		return usage
	}
	op := strings.ToLower(argv[0])
	if op != "insert" && op != "delete" || op == "insert" && len(argv) < 4 {
		return usage
	}
	st, err := storeOf(ch, "db", StoreDB)
	if err != nil {
		return err
	}
	if op == "insert" {
		err = st.Insert(argv[1], argv[2], argv[3])
	} else {
		_, err = st.Delete(argv[1], argv[2])
	}
	if err != nil {
		return fmt.Errorf("db %s/%s/%s: %w", op, argv[1], argv[2], err)
	}
	return nil
}

// hashApp is `hash <op>/<realm>/<key>[/<value>]` with op insert,
// insert_ifempty, delete or delete_ifmatch: it changes a value of the
// in-memory store. Nothing is reported when insert_ifempty finds a value
// or delete_ifmatch a different one, as in FreeSWITCH.
func hashApp(_ context.Context, ch Channel, data string) error {
	argv := vars.Separate(data, '/', 4)
	usage := &UsageError{App: "hash", Usage: hashUsage, Reason: "bad arguments"}
	if len(argv) < 3 {
		return usage
	}
	op := strings.ToLower(argv[0])
	switch op {
	case "insert", "insert_ifempty", "delete_ifmatch":
		if len(argv) < 4 {
			return usage
		}
	case "delete":
	default:
		return usage
	}
	st, err := storeOf(ch, "hash", StoreHash)
	if err != nil {
		return err
	}
	realm, key := argv[1], argv[2]
	switch op {
	case "insert":
		err = st.Insert(realm, key, argv[3])
	case "insert_ifempty":
		_, err = st.InsertIfEmpty(realm, key, argv[3])
	case "delete":
		_, err = st.Delete(realm, key)
	case "delete_ifmatch":
		_, err = st.DeleteIfMatch(realm, key, argv[3])
	}
	if err != nil {
		return fmt.Errorf("hash %s/%s/%s: %w", op, realm, key, err)
	}
	return nil
}
