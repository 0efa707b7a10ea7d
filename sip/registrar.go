package sip

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Registration limits used when a profile sets none.
const (
	// DefaultRegisterExpires is the lifetime of a registration whose
	// REGISTER names none.
	DefaultRegisterExpires = 3600 * time.Second
	// MinRegisterExpires is the shortest lifetime accepted; shorter asks
	// get 423 Interval Too Brief.
	MinRegisterExpires = 60 * time.Second
	// MaxRegisterExpires caps the lifetime a phone may ask for.
	MaxRegisterExpires = 7200 * time.Second
)

// Contact is one registered contact of a directory user.
type Contact struct {
	User        string    // the user's id, as it authenticated
	Realm       string    // the domain
	URI         string    // the Contact URI, e.g. sip:1000@192.0.2.10:5060
	CallID      string    // Call-ID of the REGISTER (FreeSWITCH's token)
	Expires     time.Time // when it lapses
	Profile     string    // the sofia profile it registered on
	NetworkIP   string    // source address of the REGISTER
	NetworkPort int
	Transport   string // udp or tcp
	UserAgent   string
}

// Registrar keeps the registered contacts, in memory and (with a
// database) in the sip_registrations table, so a restart loses none.
// Lapsed contacts are never returned and are deleted as they are met. It
// is safe for concurrent use.
type Registrar struct {
	db  *sql.DB
	now func() time.Time

	mu       sync.Mutex
	contacts map[string][]Contact // lower-case user@realm → contacts
}

// registrarSchema creates the registrations table.
var registrarSchema = []string{
	`CREATE TABLE IF NOT EXISTS sip_registrations (
   reg_user      VARCHAR(255),
   realm         VARCHAR(255),
   contact       VARCHAR(1024),
   call_id       VARCHAR(255),
   expires       INTEGER,
   profile_name  VARCHAR(255),
   network_ip    VARCHAR(255),
   network_port  INTEGER,
   network_proto VARCHAR(16),
   user_agent    VARCHAR(255)
)`,
	`CREATE UNIQUE INDEX IF NOT EXISTS sr_user_realm_contact ON sip_registrations (reg_user, realm, contact)`,
}

// OpenRegistrar returns a registrar backed by db (nil: memory only),
// creating its table and loading the contacts that have not lapsed. now
// is the clock (nil: time.Now).
func OpenRegistrar(db *sql.DB, now func() time.Time) (*Registrar, error) {
	if now == nil {
		now = time.Now
	}
	r := &Registrar{db: db, now: now, contacts: map[string][]Contact{}}
	if db == nil {
		return r, nil
	}
	for _, stmt := range registrarSchema {
		if _, err := db.Exec(stmt); err != nil {
			return nil, fmt.Errorf("registrar: creating the schema: %w", err)
		}
	}
	if _, err := db.Exec(`DELETE FROM sip_registrations WHERE expires <= ?`, now().Unix()); err != nil {
		return nil, fmt.Errorf("registrar: pruning: %w", err)
	}
	rows, err := db.Query(`SELECT reg_user, realm, contact, call_id, expires, profile_name, network_ip, network_port, network_proto, user_agent FROM sip_registrations ORDER BY rowid`)
	if err != nil {
		return nil, fmt.Errorf("registrar: loading: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c Contact
		var exp int64
		if err := rows.Scan(&c.User, &c.Realm, &c.URI, &c.CallID, &exp, &c.Profile, &c.NetworkIP, &c.NetworkPort, &c.Transport, &c.UserAgent); err != nil {
			return nil, fmt.Errorf("registrar: loading: %w", err)
		}
		c.Expires = time.Unix(exp, 0)
		k := regKey(c.User, c.Realm)
		r.contacts[k] = append(r.contacts[k], c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("registrar: loading: %w", err)
	}
	return r, nil
}

func regKey(user, realm string) string { return strings.ToLower(user + "@" + realm) }

// Register adds or refreshes c (same user, realm and URI replace the
// old entry) or, when c.Expires is not after now, removes it.
func (r *Registrar) Register(ctx context.Context, c Contact) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := regKey(c.User, c.Realm)
	list := r.live(k)
	kept := list[:0]
	for _, x := range list {
		if x.URI != c.URI {
			kept = append(kept, x)
		}
	}
	remove := !c.Expires.After(r.now())
	if !remove {
		kept = append(kept, c)
	}
	r.set(k, kept)
	if r.db == nil {
		return nil
	}
	if _, err := r.db.ExecContext(ctx, `DELETE FROM sip_registrations WHERE reg_user = ? AND realm = ? AND contact = ?`, c.User, c.Realm, c.URI); err != nil {
		return fmt.Errorf("registrar: %w", err)
	}
	if remove {
		return nil
	}
	_, err := r.db.ExecContext(ctx, `INSERT INTO sip_registrations (reg_user, realm, contact, call_id, expires, profile_name, network_ip, network_port, network_proto, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.User, c.Realm, c.URI, c.CallID, c.Expires.Unix(), c.Profile, c.NetworkIP, c.NetworkPort, c.Transport, c.UserAgent)
	if err != nil {
		return fmt.Errorf("registrar: %w", err)
	}
	return nil
}

// UnregisterAll removes every contact of user@realm (REGISTER with
// Contact: * and Expires: 0).
func (r *Registrar) UnregisterAll(ctx context.Context, user, realm string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.contacts, regKey(user, realm))
	if r.db == nil {
		return nil
	}
	if _, err := r.db.ExecContext(ctx, `DELETE FROM sip_registrations WHERE lower(reg_user) = lower(?) AND lower(realm) = lower(?)`, user, realm); err != nil {
		return fmt.Errorf("registrar: %w", err)
	}
	return nil
}

// Contacts returns the live contacts of user@realm, oldest registration
// first; none when the user is not registered.
func (r *Registrar) Contacts(user, realm string) []Contact {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Contact(nil), r.live(regKey(user, realm))...)
}

// All returns every live contact, by user@realm then registration order.
func (r *Registrar) All() []Contact {
	r.mu.Lock()
	defer r.mu.Unlock()
	keys := make([]string, 0, len(r.contacts))
	for k := range r.contacts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []Contact
	for _, k := range keys {
		out = append(out, r.live(k)...)
	}
	return out
}

// Prune deletes the lapsed contacts from memory and the database.
func (r *Registrar) Prune(ctx context.Context) error {
	r.mu.Lock()
	for k := range r.contacts {
		r.live(k)
	}
	r.mu.Unlock()
	if r.db == nil {
		return nil
	}
	if _, err := r.db.ExecContext(ctx, `DELETE FROM sip_registrations WHERE expires <= ?`, r.now().Unix()); err != nil {
		return fmt.Errorf("registrar: pruning: %w", err)
	}
	return nil
}

// live drops the lapsed contacts of k and returns the rest. r.mu is held.
func (r *Registrar) live(k string) []Contact {
	now := r.now()
	list := r.contacts[k]
	kept := list[:0]
	for _, c := range list {
		if c.Expires.After(now) {
			kept = append(kept, c)
		}
	}
	r.set(k, kept)
	return kept
}

func (r *Registrar) set(k string, list []Contact) {
	if len(list) == 0 {
		delete(r.contacts, k)
		return
	}
	r.contacts[k] = list
}
