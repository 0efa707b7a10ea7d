package commands

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/vars"

	// The pure-Go SQLite driver, registered as "sqlite".
	_ "modernc.org/sqlite"
)

func init() {
	Register(Command{Name: "db", Usage: "[insert|delete|select|exists|count|list]/<realm>/<key>/<value>", Description: "db get/set", Module: "mod_db", Run: dbCmd})
}

// DBFile is the name of the db store's file in db_dir: FreeSWITCH's
// mod_db keeps its table in the same file.
const DBFile = "call_limit.db"

// dbSchema creates mod_db's db_data table and its indexes.
var dbSchema = []string{
	`CREATE TABLE IF NOT EXISTS db_data (
   hostname   VARCHAR(255),
   realm      VARCHAR(255),
   data_key   VARCHAR(255),
   data       VARCHAR(255)
)`,
	`CREATE INDEX IF NOT EXISTS dd_realm ON db_data (realm)`,
	`CREATE UNIQUE INDEX IF NOT EXISTS dd_data_key_realm ON db_data (data_key, realm)`,
}

// DB is the persistent store of the db command and application
// (FreeSWITCH's mod_db): values by realm and key in the db_data table of
// an SQLite database, which survives restarts. Open one per running
// switch with OpenDB. It is safe for concurrent use.
type DB struct {
	db       *sql.DB
	hostname string
}

var _ apps.DataStore = (*DB)(nil)

// OpenDB opens (creating it and its directory if need be) the SQLite
// database at path and makes sure it has the db_data table. hostname is
// recorded with every value, as FreeSWITCH does.
func OpenDB(path, hostname string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("db: %w", err)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("db: opening %s: %w", path, err)
	}
	// One connection: writes are serialised anyway, and this keeps
	// SQLITE_BUSY out of the picture.
	db.SetMaxOpenConns(1)
	for _, stmt := range dbSchema {
		if _, err := db.Exec(stmt); err != nil {
			db.Close()
			return nil, fmt.Errorf("db: creating the schema in %s: %w", path, err)
		}
	}
	return &DB{db: db, hostname: hostname}, nil
}

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

// SQL returns the underlying database, for the switch's other tables
// (the SIP registrar's).
func (d *DB) SQL() *sql.DB { return d.db }

// Select returns the value of realm/key.
func (d *DB) Select(realm, key string) (string, bool, error) {
	var v sql.NullString
	err := d.db.QueryRow(`SELECT data FROM db_data WHERE realm = ? AND data_key = ?`, realm, key).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("db select: %w", err)
	}
	return v.String, true, nil
}

// Insert sets the value of realm/key, replacing any.
func (d *DB) Insert(realm, key, value string) error {
	return d.tx("insert", func(tx *sql.Tx) error {
		if _, err := tx.Exec(`DELETE FROM db_data WHERE realm = ? AND data_key = ?`, realm, key); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO db_data (hostname, realm, data_key, data) VALUES (?, ?, ?, ?)`, d.hostname, realm, key, value)
		return err
	})
}

// InsertIfEmpty sets the value of realm/key unless it has one.
func (d *DB) InsertIfEmpty(realm, key, value string) (bool, error) {
	r, err := d.db.Exec(`INSERT OR IGNORE INTO db_data (hostname, realm, data_key, data) VALUES (?, ?, ?, ?)`, d.hostname, realm, key, value)
	if err != nil {
		return false, fmt.Errorf("db insert: %w", err)
	}
	n, err := r.RowsAffected()
	return n > 0, err
}

// Delete removes realm/key.
func (d *DB) Delete(realm, key string) (bool, error) {
	return d.exec("delete", `DELETE FROM db_data WHERE realm = ? AND data_key = ?`, realm, key)
}

// DeleteIfMatch removes realm/key when its value is value.
func (d *DB) DeleteIfMatch(realm, key, value string) (bool, error) {
	return d.exec("delete", `DELETE FROM db_data WHERE realm = ? AND data_key = ? AND data = ?`, realm, key, value)
}

// Count returns how many realms have values (realm == "") or how many
// keys realm has.
func (d *DB) Count(realm string) (int, error) {
	q, args := `SELECT count(DISTINCT realm) FROM db_data`, []any{}
	if realm != "" {
		q, args = `SELECT count(data_key) FROM db_data WHERE realm = ?`, []any{realm}
	}
	var n int
	if err := d.db.QueryRow(q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("db count: %w", err)
	}
	return n, nil
}

// List returns the realms that have values (realm == "") or realm's keys,
// sorted.
func (d *DB) List(realm string) ([]string, error) {
	q, args := `SELECT DISTINCT realm FROM db_data ORDER BY realm`, []any{}
	if realm != "" {
		q, args = `SELECT DISTINCT data_key FROM db_data WHERE realm = ? ORDER BY data_key`, []any{realm}
	}
	rows, err := d.db.Query(q, args...)
	if err != nil {
		return nil, fmt.Errorf("db list: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s sql.NullString
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("db list: %w", err)
		}
		out = append(out, s.String)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db list: %w", err)
	}
	return out, nil
}

func (d *DB) exec(op, q string, args ...any) (bool, error) {
	r, err := d.db.Exec(q, args...)
	if err != nil {
		return false, fmt.Errorf("db %s: %w", op, err)
	}
	n, err := r.RowsAffected()
	return n > 0, err
}

func (d *DB) tx(op string, f func(*sql.Tx) error) error {
	tx, err := d.db.Begin()
	if err != nil {
		return fmt.Errorf("db %s: %w", op, err)
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("db %s: %w", op, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("db %s: %w", op, err)
	}
	return nil
}

// dbCmd is `db <op>/<realm>/<key>[/<value>]`, FreeSWITCH's mod_db API, on
// the running switch's persistent store:
//
//   - insert/<realm>/<key>/<value>: "+OK" (no newline, as there).
//   - delete/<realm>/<key>: "+OK".
//   - select/<realm>/<key>: the value, nothing when there is none.
//   - exists/<realm>/<key>: "true" when there is a non-empty value, else
//     "false".
//   - count: how many realms; count/<realm>: how many keys in it.
//   - list: the realms; list/<realm>: its keys; comma-separated, sorted.
//
// Anything else, and missing fields, answer "!err!". The arguments are
// split at '/' with switch_separate_string's rules into at most four
// fields (so the value may contain '/'); the operation's name ignores
// case.
//
// Deviation: FreeSWITCH cuts select's value at 255 bytes and list's reply
// at 4095; Switchboard does not.
func dbCmd(_ context.Context, env Env, args string) (string, error) {
	const bad = "!err!"
	argv := vars.Separate(args, '/', 4)
	if len(argv) < 1 || argv[0] == "" {
		return bad, nil
	}
	st, ok := env.(Stores)
	if !ok {
		return needs("db"), nil
	}
	d := st.DB()
	if d == nil {
		return "-ERR db: the database is not available (see the switch's log)\n", nil
	}
	op := strings.ToLower(argv[0])
	switch {
	case op == "insert" && len(argv) >= 4:
		if err := d.Insert(argv[1], argv[2], argv[3]); err != nil {
			return "", err
		}
		return "+OK", nil
	case op == "delete" && len(argv) >= 2:
		if _, err := d.Delete(argv[1], arg(argv, 2)); err != nil {
			return "", err
		}
		return "+OK", nil
	case op == "select" && len(argv) >= 3:
		v, _, err := d.Select(argv[1], argv[2])
		return v, err
	case op == "exists" && len(argv) >= 3:
		v, _, err := d.Select(argv[1], argv[2])
		if err != nil {
			return "", err
		}
		return strconv.FormatBool(v != ""), nil
	case op == "count" && len(argv) < 3:
		n, err := d.Count(arg(argv, 1))
		if err != nil {
			return "", err
		}
		return strconv.Itoa(n), nil
	case op == "list" && len(argv) < 3:
		l, err := d.List(arg(argv, 1))
		if err != nil {
			return "", err
		}
		return strings.Join(l, ","), nil
	}
	return bad, nil
}
