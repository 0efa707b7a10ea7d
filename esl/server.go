package esl

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-voip/switchboard/acl"
	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/commands"
	"github.com/switchboard-voip/switchboard/events"
	"github.com/switchboard-voip/switchboard/vars"
)

// Channel is a live call as the event socket reaches it: `sendmsg` queues
// applications on it or hangs it up, `myevents <uuid>` follows it.
// *session.Session implements it.
type Channel interface {
	// UUID is the channel's unique id.
	UUID() string
	// Context is done once the call has hung up.
	Context() context.Context
	// Hangup ends the call with c; safe from any goroutine.
	Hangup(c cause.Cause)
	// EnqueueLoops queues app with data to run loops times at the call's
	// next event-parse point (loops < 0: until the call ends); safe from
	// any goroutine.
	EnqueueLoops(app, data string, loops int) error
}

// Config configures a Server.
type Config struct {
	// Settings are the listen address, password and ACLs
	// (SettingsFromSnapshot).
	Settings Settings
	// ACLs resolves the names in Settings.InboundACL; nil knows only
	// CIDRs written in place of a name.
	ACLs *acl.Lists
	// Env runs the API commands of `api` and `bgapi`.
	Env commands.Env
	// Events is the bus `event`, `myevents` and `sendevent` use, and
	// BACKGROUND_JOB is fired on. nil disables events (the commands then
	// answer -ERR).
	Events *events.Bus
	// Logs is the handler `log <level>` streams from; nil disables log
	// streaming (`log` answers -ERR).
	Logs *LogTee
	// Lookup finds a live call by UUID for `sendmsg` and `myevents`; nil
	// (or a nil Channel) means there is none.
	Lookup func(uuid string) Channel
	// Logger receives the server's own logs; nil uses slog.Default().
	Logger *slog.Logger

	// MaxConnections bounds the inbound connections open at once
	// (default 256); one more is rejected at once.
	MaxConnections int
	// AuthTimeout is how long a new connection has to authenticate
	// (default 25 s, FreeSWITCH's wait for the first command).
	AuthTimeout time.Duration
	// WriteTimeout bounds one write to a client (default 10 s); a client
	// that does not read for that long is disconnected.
	WriteTimeout time.Duration
	// MaxContentLength bounds a packet's body (default
	// DefaultMaxContentLength).
	MaxContentLength int
	// EventBuffer is how many events may wait for one connection
	// (default 10000); a connection that falls further behind is dropped
	// so that it never slows down the calls. LogBuffer is the same for
	// log lines (default 10000).
	EventBuffer, LogBuffer int
	// MaxJobs bounds the bgapi jobs one connection may have running
	// (default 128).
	MaxJobs int
	// HandleSocketApp makes this server the one the `socket` dialplan
	// application uses for its outbound connections (their Env, bus and
	// logs). The running switch sets it; only one server should.
	HandleSocketApp bool
}

// Server is an event-socket server: FreeSWITCH's mod_event_socket wire
// protocol over TCP, for fs_cli-like consoles and ESL libraries.
type Server struct {
	cfg    Config
	log    *slog.Logger
	auth   atomic.Pointer[authState]
	frames frameCache // events serialised for several connections

	ctx    context.Context // cancelled by Shutdown
	cancel context.CancelFunc

	mu      sync.Mutex
	ln      net.Listener
	conns   map[*conn]struct{}
	inbound int // inbound connections among conns
	closed  bool
	wg      sync.WaitGroup // connection goroutines and background jobs
}

// authState is what new connections are checked against; Reconfigure
// replaces it.
type authState struct {
	settings Settings // the listen address is the one the server started with
	lists    *acl.Lists
}

// NewServer returns a server; Listen or Serve starts it.
func NewServer(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = 256
	}
	if cfg.AuthTimeout <= 0 {
		cfg.AuthTimeout = 25 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	if cfg.MaxContentLength <= 0 {
		cfg.MaxContentLength = DefaultMaxContentLength
	}
	if cfg.EventBuffer <= 0 {
		cfg.EventBuffer = 10000
	}
	if cfg.LogBuffer <= 0 {
		cfg.LogBuffer = 10000
	}
	if cfg.MaxJobs <= 0 {
		cfg.MaxJobs = 128
	}
	if cfg.Env == nil {
		cfg.Env = &commands.Host{Runtime: vars.NewStore()}
	}
	if cfg.ACLs == nil {
		cfg.ACLs = builtinACLs()
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With("module", "mod_event_socket"), conns: map[*conn]struct{}{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.auth.Store(&authState{settings: cfg.Settings, lists: cfg.ACLs})
	if cfg.HandleSocketApp {
		outbound.Store(s)
	}
	return s
}

// Listen opens the configured address and serves it on a goroutine. The
// error names the address when it cannot be opened.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.cfg.Settings.Addr())
	if err != nil {
		return fmt.Errorf("event socket: listen on %s: %w", s.cfg.Settings.Addr(), err)
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.Serve(ln)
	}()
	return nil
}

// Start is Listen with FreeSWITCH's handling of an address that cannot be
// opened: an error when Settings.StopOnBindError is set; otherwise the
// failure is logged and the server keeps trying every retry until it
// listens or shuts down.
func (s *Server) Start(retry time.Duration) error {
	err := s.Listen()
	if err == nil || s.cfg.Settings.StopOnBindError {
		return err
	}
	s.log.Error("event socket cannot listen yet; retrying in the background (stop-on-bind-error makes this fatal)", "err", err, "retry", retry)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(retry)
		defer t.Stop()
		for {
			select {
			case <-s.ctx.Done():
				return
			case <-t.C:
			}
			ln, err := net.Listen("tcp", s.cfg.Settings.Addr())
			if err != nil {
				continue
			}
			s.mu.Lock()
			closed := s.closed
			if !closed {
				s.ln = ln
			}
			s.mu.Unlock()
			if closed {
				ln.Close()
				return
			}
			_ = s.Serve(ln)
			return
		}
	}()
	return nil
}

// Addr returns the address the server listens on (nil before Listen or
// Serve).
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Serve accepts connections on ln until Shutdown; it returns nil then, or
// the error that stopped it.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.ln = ln
	s.mu.Unlock()
	s.log.Info("event socket listening", "addr", ln.Addr().String())
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("event socket: accept: %w", err)
			}
			// Out of file descriptors and the like: wait and try again,
			// as net/http does.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.log.Warn("event socket accept failed; retrying", "err", err, "delay", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		s.accept(nc)
	}
}

func (s *Server) accept(nc net.Conn) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		nc.Close()
		return
	}
	if s.inbound >= s.cfg.MaxConnections {
		s.mu.Unlock()
		s.log.Warn("event socket connection refused: too many connections", "remote", nc.RemoteAddr().String(), "limit", s.cfg.MaxConnections)
		_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = nc.Write(rudeRejection(msgTooMany))
		nc.Close()
		return
	}
	c := newConn(s, nc, nil)
	s.conns[c] = struct{}{}
	s.inbound++
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		c.serveInbound()
	}()
}

// track adds an outbound connection; false when the server is shutting
// down.
func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true
}

// forget removes a finished connection.
func (s *Server) forget(c *conn) {
	s.mu.Lock()
	if _, ok := s.conns[c]; ok {
		delete(s.conns, c)
		if c.out == nil {
			s.inbound--
		}
	}
	s.mu.Unlock()
}

// Connections returns how many connections are open (inbound and
// outbound).
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Reconfigure applies settings that take effect without a restart (the
// password and the inbound ACLs, for new connections) and returns the
// names of those that need one (the listen address).
func (s *Server) Reconfigure(set Settings, lists *acl.Lists) (restart []string) {
	old := s.cfg.Settings
	if set.ListenIP != old.ListenIP {
		restart = append(restart, "event_socket.conf listen-ip")
	}
	if set.ListenPort != old.ListenPort {
		restart = append(restart, "event_socket.conf listen-port")
	}
	if set.Enabled != old.Enabled {
		restart = append(restart, "modules.conf mod_event_socket")
	}
	if lists == nil {
		lists = builtinACLs()
	}
	cur := set
	cur.Enabled, cur.ListenIP, cur.ListenPort = old.Enabled, old.ListenIP, old.ListenPort
	s.auth.Store(&authState{settings: cur, lists: lists})
	return restart
}

// Settings returns the settings in force: the listen address the server
// started with, the password and ACLs of the last Reconfigure.
func (s *Server) Settings() Settings { return s.auth.Load().settings }

// Shutdown stops accepting, sends every client the disconnect notice,
// closes the connections and waits (until ctx ends) for their goroutines
// and running background jobs.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	ln := s.ln
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	outbound.CompareAndSwap(s, nil)
	s.cancel()
	if ln != nil {
		ln.Close()
	}
	for _, c := range conns {
		c.kill(msgShutdown)
	}
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("event socket: shutdown: %w", ctx.Err())
	}
}

// allowed checks a client's address against the inbound ACLs.
func (s *Server) allowed(addr net.Addr) (bool, string) {
	st := s.auth.Load()
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return true, ""
	}
	ip, ok := netip.AddrFromSlice(tcp.IP)
	if !ok {
		return false, ""
	}
	ip = ip.Unmap()
	for _, name := range st.settings.InboundACL {
		if !st.lists.Check(name, ip) {
			return false, name
		}
	}
	return true, ""
}

// builtinACLs returns the built-in lists (loopback.auto, ...) only.
func builtinACLs() *acl.Lists {
	ls, err := acl.Parse(nil, acl.Options{})
	if err != nil {
		// Parse fails only on a configuration element, and there is none.
		panic(fmt.Sprintf("esl: built-in ACLs: %v", err))
	}
	return ls
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
