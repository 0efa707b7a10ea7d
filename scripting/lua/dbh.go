package lua

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"

	// The pure-Go SQLite driver, registered as "sqlite".
	_ "modernc.org/sqlite"

	"github.com/switchboard-voip/switchboard/commands"
)

// freeswitch.Dbh: database handles on SQLite files, as FreeSWITCH's
// core database handles (switch_cache_db) open them. A handle holds one
// connection of a pool shared by every script (one pool per file), so
// affected_rows and transactions see its own statements.

const dbhType = "LUA::Dbh *"

// dbPool keeps one *sql.DB per database file.
type dbPool struct {
	mu  sync.Mutex
	dbs map[string]*sql.DB
}

// open returns the pool of the database at path (a DSN for the driver).
func (p *dbPool) open(dsn string) (*sql.DB, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if db, ok := p.dbs[dsn]; ok {
		return db, nil
	}
	if path, ok := strings.CutPrefix(dsn, "file:"); ok && !strings.Contains(dsn, "mode=memory") {
		path, _, _ = strings.Cut(path, "?")
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, err
		}
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	if p.dbs == nil {
		p.dbs = make(map[string]*sql.DB)
	}
	p.dbs[dsn] = db
	return db, nil
}

// Close closes every database the engine opened for Dbh handles.
func (e *Engine) Close() error {
	e.dbs.mu.Lock()
	defer e.dbs.mu.Unlock()
	var first error
	for k, db := range e.dbs.dbs {
		if err := db.Close(); err != nil && first == nil {
			first = err
		}
		delete(e.dbs.dbs, k)
	}
	return first
}

// dbh is a Dbh userdata's value.
type dbh struct {
	r    *runtime
	conn *sql.Conn // nil when not connected or released
	err  string    // last error
}

func (*dbh) swigType() string { return dbhType }

func init() { types[dbhType] = typeInfo{methods: dbhMethods} }

// sqliteDSN maps a FreeSWITCH DSN to the driver's: "sqlite://name" and a
// bare "name" (FreeSWITCH's core database form) are db_dir/name.db, or
// the path itself when it starts with '/'; "sqlite://memory://name" is an
// in-memory database shared by name. ok is false for the other kinds
// (pgsql://, odbc://, dsn:user:pass).
func sqliteDSN(dsn, dbDir string) (string, bool) {
	name, isSQLite := strings.CutPrefix(dsn, "sqlite://")
	if !isSQLite {
		if strings.Contains(dsn, "://") || (len(dsn) > 2 && strings.Contains(dsn[2:], ":")) {
			return "", false
		}
		name = dsn
	}
	if mem, ok := strings.CutPrefix(name, "memory://"); ok {
		return "file:" + url.PathEscape(mem) + "?mode=memory&cache=shared", true
	}
	if name == "" {
		return "", false
	}
	path := name
	if !strings.HasPrefix(name, "/") {
		path = filepath.Join(dbDir, name+".db")
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	return "file:" + path + "?" + q.Encode(), true
}

// newDbh is freeswitch.Dbh(dsn [, user [, pass]]).
func newDbh(r *runtime, L *lua.LState) int {
	const fn = "LUA::Dbh::Dbh"
	nargs(L, fn, 1, 3)
	dsn, user, pass := str(L, 1, fn), optStr(L, 2, fn, ""), optStr(L, 3, fn, "")
	_, _ = user, pass // SQLite has no users
	h := &dbh{r: r}
	dir, _ := commands.GlobalVar(r.env, "db_dir")
	if d, ok := sqliteDSN(dsn, dir); ok {
		if db, err := r.eng.dbs.open(d); err != nil {
			r.log.Error(fmt.Sprintf("Connection failed.  DBH NOT Connected. (%v)", err))
		} else if conn, err := db.Conn(r.ctx); err != nil {
			r.log.Error(fmt.Sprintf("Connection failed.  DBH NOT Connected. (%v)", err))
		} else {
			h.conn = conn
		}
	} else {
		r.log.Error(fmt.Sprintf("Connection failed.  DBH NOT Connected. (%q: only SQLite databases are supported)", dsn))
	}
	r.atEnd(func() { h.release() })
	L.Push(r.newObject(dbhType, h))
	return 1
}

// release returns the connection; false when there was none.
func (h *dbh) release() bool {
	if h.conn == nil {
		return false
	}
	h.conn.Close()
	h.conn = nil
	return true
}

// text renders a column value as SQLite's text conversion does; NULL is
// "" (FreeSWITCH passes switch_str_nil).
func text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case []byte:
		return string(v)
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		if v == float64(int64(v)) && v < 1e15 && v > -1e15 {
			return strconv.FormatFloat(v, 'f', 1, 64)
		}
		return strconv.FormatFloat(v, 'g', 15, 64)
	case bool:
		if v {
			return "1"
		}
		return "0"
	case time.Time:
		return v.Format("2006-01-02 15:04:05")
	}
	return fmt.Sprint(v)
}

// rows runs a query and calls each for every row (names and values); each
// returns false to stop.
func (h *dbh) rows(ctx context.Context, q string, each func(cols, vals []string) bool) error {
	rows, err := h.conn.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	raw := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	vals := make([]string, len(cols))
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, v := range raw {
			vals[i] = text(v)
		}
		if !each(cols, vals) {
			return nil
		}
	}
	return rows.Err()
}

// dm is a Dbh method's receiver.
func dm(L *lua.LState, fn string) *dbh { return self[*dbh](L, fn, dbhType) }

var dbhMethods = map[string]method{
	"connected": func(r *runtime, L *lua.LState) int {
		const fn = "LUA::Dbh::connected"
		nargs(L, fn, 1, 1)
		return pushBool(L, dm(L, fn).conn != nil)
	},
	"release": func(r *runtime, L *lua.LState) int {
		const fn = "LUA::Dbh::release"
		nargs(L, fn, 1, 1)
		if dm(L, fn).release() {
			return pushBool(L, true)
		}
		r.log.Error("DBH NOT Connected.")
		return pushBool(L, false)
	},
	"query": func(r *runtime, L *lua.LState) int {
		const fn = "LUA::Dbh::query"
		nargs(L, fn, 2, 3)
		h := dm(L, fn)
		q := str(L, 2, fn)
		var cb *lua.LFunction
		if L.GetTop() == 3 {
			f, ok := L.Get(3).(*lua.LFunction)
			if !ok {
				badArg(L, fn, 3, "SWIGLUA_FN")
			}
			cb = f
		}
		h.err = ""
		if q == "" {
			r.log.Error("Missing SQL query.")
			return pushBool(L, false)
		}
		if h.conn == nil {
			r.log.Error("DBH NOT Connected.")
			return pushBool(L, false)
		}
		var err error
		if cb == nil {
			_, err = h.conn.ExecContext(r.ctx, q)
		} else {
			err = h.rows(r.ctx, q, func(cols, vals []string) bool {
				t := L.CreateTable(0, len(cols))
				for i, c := range cols {
					t.RawSetString(c, lua.LString(vals[i]))
				}
				ret, ok := r.docall(cb, t)
				if !ok {
					return false
				}
				return callbackGoesOn(ret)
			})
		}
		if err != nil {
			h.err = err.Error()
			r.log.Error(fmt.Sprintf("SQL ERR: [%s] %s", q, h.err))
			return pushBool(L, false)
		}
		return pushBool(L, true)
	},
	"query_rows": func(r *runtime, L *lua.LState) int {
		const fn = "LUA::Dbh::query_rows"
		nargs(L, fn, 2, 2)
		h := dm(L, fn)
		q := str(L, 2, fn)
		h.err = ""
		rows := L.NewTable()
		fail := func(msg string) int {
			L.Push(lua.LFalse)
			L.Push(rows)
			L.Push(lua.LString(msg))
			return 3
		}
		if q == "" {
			r.log.Error("Missing SQL query.")
			return fail("Missing SQL query.")
		}
		if h.conn == nil {
			r.log.Error("DBH NOT Connected.")
			return fail("DBH NOT Connected.")
		}
		n := 0
		err := h.rows(r.ctx, q, func(cols, vals []string) bool {
			t := L.CreateTable(0, len(cols))
			for i, c := range cols {
				t.RawSetString(c, lua.LString(vals[i]))
			}
			n++
			rows.RawSetInt(n, t)
			return true
		})
		if err != nil {
			h.err = err.Error()
			return fail(h.err)
		}
		L.Push(lua.LTrue)
		L.Push(rows)
		L.Push(lua.LNil)
		return 3
	},
	"affected_rows": func(r *runtime, L *lua.LState) int {
		const fn = "LUA::Dbh::affected_rows"
		nargs(L, fn, 1, 1)
		h := dm(L, fn)
		if h.conn == nil {
			r.log.Error("DBH NOT Connected.")
			return pushInt(L, 0)
		}
		var n int
		if err := h.conn.QueryRowContext(r.ctx, "SELECT changes()").Scan(&n); err != nil {
			h.err = err.Error()
			return pushInt(L, 0)
		}
		return pushInt(L, n)
	},
	"last_error": func(r *runtime, L *lua.LState) int {
		const fn = "LUA::Dbh::last_error"
		nargs(L, fn, 1, 1)
		h := dm(L, fn)
		return pushStr(L, h.err, h.err != "")
	},
	"clear_error": func(r *runtime, L *lua.LState) int {
		const fn = "LUA::Dbh::clear_error"
		nargs(L, fn, 1, 1)
		dm(L, fn).err = ""
		return 0
	},
	"test_reactive": func(r *runtime, L *lua.LState) int {
		const fn = "LUA::Dbh::test_reactive"
		nargs(L, fn, 2, 4)
		h := dm(L, fn)
		test, drop, reactive := str(L, 2, fn), optStr(L, 3, fn, ""), optStr(L, 4, fn, "")
		if h.conn == nil {
			r.log.Error("DBH NOT Connected.")
			return pushBool(L, false)
		}
		if test == "" || reactive == "" {
			r.log.Error("Missing parameters.")
			return pushBool(L, false)
		}
		if _, err := h.conn.ExecContext(r.ctx, test); err == nil {
			return pushBool(L, true)
		}
		if drop != "" {
			_, _ = h.conn.ExecContext(r.ctx, drop)
		}
		_, err := h.conn.ExecContext(r.ctx, reactive)
		return pushBool(L, err == nil)
	},
	"load_extension": func(r *runtime, L *lua.LState) int {
		const fn = "LUA::Dbh::load_extension"
		nargs(L, fn, 2, 2)
		dm(L, fn)
		r.log.Error("Dbh:load_extension: SQLite extensions are not supported")
		return pushInt(L, 0)
	},
}

// callbackGoesOn reads a row callback's result as lua_tonumber does:
// non-zero stops, anything else (nil, 0, true) goes on.
func callbackGoesOn(v lua.LValue) bool {
	switch v := v.(type) {
	case lua.LNumber:
		return v == 0
	case lua.LString:
		if f, ok := parseNumber(string(v)); ok {
			return f == 0
		}
	}
	return true
}
