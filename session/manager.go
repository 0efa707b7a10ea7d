// Package session is the call core: channels with their UUID, caller
// profile, variables and CS_* state machine; the routing → execute loop of
// FreeSWITCH's state machine (hunt with the config snapshot taken at
// routing, run the action list, transfer re-hunts, hang up at the end); and
// hangup causes. Endpoints (SIP) create sessions and implement Endpoint;
// applications see a session as an apps.Session.
package session

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/events"
	"github.com/switchboard-voip/switchboard/media"
	"github.com/switchboard-voip/switchboard/vars"
)

// Config configures a Manager.
type Config struct {
	// Snapshot returns the configuration in force; each routing (first
	// hunt, transfer) takes it once and the call keeps it until it is
	// routed again.
	Snapshot func() *conf.Snapshot
	// Globals are the runtime global variables (set_global,
	// global_setvar), looked up before the snapshot's own globals.
	Globals *vars.Store
	// API runs ${api args} during expansion; nil expands API calls to "".
	API vars.API
	// MaxSessions and SessionsPerSecond limit new calls (switch.conf
	// max-sessions, sessions-per-second); 0 means no limit.
	MaxSessions       int
	SessionsPerSecond int
	// Logger receives the core's logs; nil uses slog.Default().
	Logger *slog.Logger
	// Events receives the channel events (CHANNEL_CREATE, CHANNEL_ANSWER,
	// DTMF, ...); nil fires none.
	Events *events.Bus
	// Reporters are called once per leg, in order, on the call's
	// goroutine at CS_REPORTING: after the hangup variables are set and
	// before the session leaves the manager. CDR writers and metrics hang
	// here; a panic in one is logged and does not stop the others.
	Reporters []func(*Session)
	// LocalStreams opens local_stream://<name> (music on hold) at a rate;
	// nil means no local streams.
	LocalStreams func(name string, rate int) (media.Source, error)
	// Observer, when not nil, is told how long hunts and applications
	// take (metrics); see Observer.
	Observer Observer
	// Stores are the switch's data stores that the db and hash
	// applications change (Session.DataStore); nil means none.
	Stores apps.DataStores
}

// ErrOverloaded is returned by Admit when a limit is reached; endpoints
// answer 503.
var ErrOverloaded = errors.New("session limit reached")

// ErrShuttingDown is returned by Admit once Shutdown has begun.
var ErrShuttingDown = errors.New("shutting down")

// Manager owns every live session.
type Manager struct {
	cfg    Config
	log    *slog.Logger
	mu     sync.Mutex
	byUUID map[string]*Session
	closed atomic.Bool

	rateMu    sync.Mutex
	rateStart time.Time
	rateCount int

	created atomic.Uint64
	limits  atomic.Pointer[Limits] // set by SetLimits; nil: cfg's
	ctl     managerControl         // pause and statistics (control.go)
	dialers map[string]Dialer      // by technology (outbound.go)
}

// NewManager returns a Manager.
func NewManager(cfg Config) *Manager {
	if cfg.Globals == nil {
		cfg.Globals = vars.NewStore()
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Manager{cfg: cfg, log: log, byUUID: make(map[string]*Session)}
}

// Snapshot returns the configuration in force.
func (m *Manager) Snapshot() *conf.Snapshot { return m.cfg.Snapshot() }

// Globals returns the runtime global variables.
func (m *Manager) Globals() *vars.Store { return m.cfg.Globals }

// Admit reserves room for one new session, enforcing max-sessions and
// sessions-per-second; call it before creating the session.
func (m *Manager) Admit() error {
	if m.closed.Load() {
		return ErrShuttingDown
	}
	if err := m.admitPaused(); err != nil {
		return err
	}
	lim := m.Limits()
	if n := lim.MaxSessions; n > 0 && m.Count() >= n {
		return ErrOverloaded
	}
	if n := lim.SessionsPerSecond; n > 0 {
		m.rateMu.Lock()
		defer m.rateMu.Unlock()
		now := time.Now()
		if now.Sub(m.rateStart) >= time.Second {
			m.rateStart, m.rateCount = now, 0
		}
		if m.rateCount >= n {
			return ErrOverloaded
		}
		m.rateCount++
	}
	return nil
}

// Inbound describes a new inbound call leg.
type Inbound struct {
	Endpoint Endpoint
	Profile  *caller.Profile // destination_number, context, dialplan, caller id, network_addr, ...
	// Vars are the leg's initial channel variables (sip_*, ...), in order.
	Vars [][2]string
	// Store, if set, becomes the leg's variable store as it is: an
	// endpoint that collects its variables in a vars.Store (sized for
	// the whole call) hands it over instead of copying it through Vars.
	// Vars, if any, are set into it.
	Store *vars.Store
	// UUID, if set, is used as the channel's UUID; otherwise one is made.
	UUID string
}

// NewInbound creates a session for an inbound leg; Start runs it.
func (m *Manager) NewInbound(in Inbound) *Session {
	id := in.UUID
	if id == "" {
		id = NewUUID()
	}
	p := in.Profile
	if p == nil {
		p = &caller.Profile{}
	}
	p.UUID = id
	if p.Dialplan == "" {
		p.Dialplan = "XML"
	}
	if p.Context == "" {
		p.Context = "default"
	}
	now := time.Now()
	p.CreatedTime = now.UnixMicro()
	p.ProfileCreatedTime = p.CreatedTime
	if in.Endpoint != nil {
		p.ChanName = in.Endpoint.Name()
	}
	ctx, cancel := context.WithCancel(context.Background())
	store := in.Store
	if store == nil {
		store = vars.NewStoreSize(len(in.Vars) + 32) // room for what the call core sets
	}
	s := &Session{
		m:       m,
		uuid:    id,
		ep:      in.Endpoint,
		profile: p,
		vars:    store,
		ctx:     ctx,
		cancel:  cancel,
		dtmf:    newDTMFQueue(),
		created: now,
		done:    make(chan struct{}),
	}
	s.logH.init(m.log.Handler(), id, p.ChanName)
	s.logger = *slog.New(&s.logH)
	s.log = &s.logger
	for _, kv := range in.Vars {
		s.vars.Set(kv[0], kv[1])
	}
	s.vars.Set("uuid", id)
	s.vars.Set("call_uuid", id)
	s.vars.Set("direction", "inbound")
	s.vars.Set("channel_name", p.ChanName)
	epoch, uepoch := epochs(p.CreatedTime)
	s.vars.Set("start_epoch", epoch)
	s.vars.Set("start_uepoch", uepoch)
	s.state.Store(int32(CSNew))
	m.mu.Lock()
	m.byUUID[id] = s
	m.mu.Unlock()
	m.created.Add(1)
	m.noteCreated(s)
	return s
}

// Get returns the live session with uuid, or nil.
func (m *Manager) Get(uuid string) *Session {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.byUUID[uuid]
}

// Count returns the number of live sessions.
func (m *Manager) Count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.byUUID)
}

// Created returns how many sessions were ever created.
func (m *Manager) Created() uint64 { return m.created.Load() }

// List returns the live sessions, oldest first.
func (m *Manager) List() []*Session {
	m.mu.Lock()
	out := make([]*Session, 0, len(m.byUUID))
	for _, s := range m.byUUID {
		out = append(out, s)
	}
	m.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].created.Before(out[j].created) })
	return out
}

func (m *Manager) remove(s *Session) {
	m.mu.Lock()
	delete(m.byUUID, s.uuid)
	m.mu.Unlock()
}

// HangupAll hangs every live session up with c.
func (m *Manager) HangupAll(c cause.Cause) {
	for _, s := range m.List() {
		s.Hangup(c)
	}
}

// Shutdown refuses new sessions (Admit returns ErrShuttingDown), hangs
// the live ones up with SYSTEM_SHUTDOWN and waits until they have finished
// or ctx is done.
func (m *Manager) Shutdown(ctx context.Context) error {
	m.closed.Store(true)
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		// Hang up again on every round: a session admitted just before
		// the flag was set may have been created since.
		m.HangupAll(cause.CSystemShutdown)
		if m.Count() == 0 {
			return nil
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// NewUUID returns a random RFC 4122 version-4 UUID string.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	hex.Encode(out[9:13], b[4:6])
	hex.Encode(out[14:18], b[6:8])
	hex.Encode(out[19:23], b[8:10])
	hex.Encode(out[24:36], b[10:16])
	out[8], out[13], out[18], out[23] = '-', '-', '-', '-'
	return string(out[:])
}
