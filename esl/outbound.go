package esl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/events"
)

// outbound is the server whose configuration the socket application's
// connections use (Config.HandleSocketApp): the one running switch's
// event socket. It is the application's registration, set once at start.
var outbound atomic.Pointer[Server]

// DefaultOutboundPort is the port the socket application dials when its
// data names none, as FreeSWITCH does.
const DefaultOutboundPort = 8084

// dialTimeout bounds the socket application's connection attempt to one
// host.
const dialTimeout = 10 * time.Second

func init() {
	apps.Register(apps.App{
		Name:        "socket",
		Usage:       "<ip>[:<port>][|<ip>[:<port>]...] [async] [full]",
		Description: "Connect to a socket",
		Flags:       apps.SupportNoMedia,
		Run: func(ctx context.Context, ch apps.Channel, data string) error {
			s := outbound.Load()
			if s == nil {
				return errors.New("socket: the event socket (mod_event_socket) is not running")
			}
			return s.SocketApp(ctx, ch, data)
		},
	})
}

// OutboundChannel is what the socket application needs of its call:
// the live session, its queue of applications (sendmsg execute runs
// through it) and the way to run that queue on the call's goroutine.
// *session.Session implements it.
type OutboundChannel interface {
	apps.Session
	EnqueueLoops(app, data string, loops int) error
	Queued() <-chan struct{}
	RunQueued()
}

// outboundConn is the part of a connection that belongs to the socket
// application.
type outboundConn struct {
	sess  OutboundChannel
	async bool // "async": sendmsg queues and answers at once
	full  bool // "full": the whole inbound command set
	// run carries static-mode sendmsg executions to the call's goroutine.
	run chan runRequest
}

// runRequest asks the call's goroutine to run a message now.
type runRequest struct {
	m    message
	done chan error
}

// channelName returns a call's channel name ("" when ch does not say).
func channelName(ch Channel) string {
	if p, ok := ch.(interface{ Profile() *caller.Profile }); ok {
		return p.Profile().ChanName
	}
	if v := varsOf(ch); v != nil {
		name, _ := v.Get("channel_name")
		return name
	}
	return ""
}

// runNow runs m on the call's goroutine (static mode) and waits for it.
func (o *outboundConn) runNow(ctx context.Context, m message) error {
	req := runRequest{m: m, done: make(chan error, 1)}
	select {
	case o.run <- req:
	case <-ctx.Done():
		return errConnClosed
	case <-o.sess.Context().Done():
		return errors.New("the channel is hung up")
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return errConnClosed
	}
}

// SocketApp is the socket dialplan application on this server: it
// connects to an external ESL server ("<host>[:<port>][|<host>...]
// [async] [full]", trying each host in turn), which then controls the
// call over the event socket's outbound protocol. It returns when the
// external server closes the connection (the dialplan then continues) or
// the call hangs up; an unreachable server is an error and the dialplan
// continues.
func (s *Server) SocketApp(ctx context.Context, ch apps.Channel, data string) error {
	sess, ok := ch.(OutboundChannel)
	if !ok {
		return fmt.Errorf("socket: %w", apps.ErrNoSession)
	}
	args := strings.Fields(data)
	if len(args) == 0 {
		return &apps.UsageError{App: "socket", Usage: "<ip>[:<port>] [async] [full]", Reason: "no address"}
	}
	o := &outboundConn{sess: sess, run: make(chan runRequest)}
	for _, a := range args[1:] {
		switch strings.ToLower(a) {
		case "full":
			o.full = true
		case "async":
			o.async = true
		}
	}
	nc, err := s.dialOutbound(ctx, sess, args[0])
	if err != nil {
		return err
	}
	c := newConn(s, nc, o)
	c.authed = true
	c.setSession(sess)
	if !s.track(c) {
		nc.Close()
		return errors.New("socket: the event socket is shutting down")
	}
	go func() {
		defer s.wg.Done()
		c.serveOutbound()
	}()
	go c.watch(sess)

	for {
		select {
		case <-c.ctx.Done():
			return nil
		case <-sess.Context().Done():
			return nil
		case <-ctx.Done():
			return nil
		case <-sess.Queued():
			sess.RunQueued()
		case req := <-o.run:
			err := sess.EnqueueLoops(req.m.app, req.m.arg, req.m.loops)
			if err == nil {
				sess.RunQueued()
			}
			req.done <- err
		}
	}
}

// dialOutbound connects to the first reachable host of spec, setting
// socket_host (and socket_path) on the call as FreeSWITCH does.
func (s *Server) dialOutbound(ctx context.Context, sess OutboundChannel, spec string) (net.Conn, error) {
	var errs []error
	for _, host := range strings.Split(spec, "|") {
		if host == "" {
			continue
		}
		port := strconv.Itoa(DefaultOutboundPort)
		if i := strings.LastIndexByte(host, ':'); i >= 0 {
			host, port = host[:i], host[i+1:]
		}
		if i := strings.IndexByte(port, '/'); i >= 0 {
			sess.Vars().Set("socket_path", port[i+1:])
			port = port[:i]
		}
		host = strings.Trim(host, "[]")
		sess.Vars().Set("socket_host", host)
		sess.Log(apps.LogNotice.Slog(), "Trying host: "+net.JoinHostPort(host, port))
		d := net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
		nc, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
		if err == nil {
			return nc, nil
		}
		errs = append(errs, err)
		sess.Log(apps.LogErr.Slog(), "Socket Error: "+err.Error())
	}
	if len(errs) == 0 {
		return nil, &apps.UsageError{App: "socket", Usage: "<ip>[:<port>] [async] [full]", Reason: "no host"}
	}
	return nil, fmt.Errorf("socket: could not connect to %s: %w", spec, errors.Join(errs...))
}

// serveOutbound runs the outbound connection: the first command (normally
// connect) within 25 seconds, then commands until either side leaves.
func (c *conn) serveOutbound() {
	defer c.finish()
	_ = c.nc.SetReadDeadline(time.Now().Add(25 * time.Second))
	p, err := ReadCommand(c.r, c.srv.cfg.MaxContentLength)
	if err != nil {
		c.readFailed(err)
		return
	}
	_ = c.nc.SetReadDeadline(time.Time{})
	if !c.dispatch(p) {
		return
	}
	c.loop()
}

// connectReply is the answer to `connect`: the call's data as an
// event-plain block that is also a command/reply.
func connectReply(ch Channel, bus *events.Bus, async, full bool) []byte {
	e := events.New("CHANNEL_DATA")
	bus.Stamp(e) // the standard headers; nothing on a nil bus
	if p, ok := ch.(interface{ Profile() *caller.Profile }); ok {
		p.Profile().EventHeaders("Channel", "inbound", e.Add)
	}
	if d, ok := ch.(interface {
		AddEventData(e *events.Event, withVars bool)
	}); ok {
		d.AddEventData(e, true)
	} else {
		e.Add("Unique-ID", ch.UUID())
	}
	e.Add("Content-Type", "command/reply")
	e.Add("Reply-Text", "+OK\n")
	if async {
		e.Add("Socket-Mode", "async")
	} else {
		e.Add("Socket-Mode", "static")
	}
	if full {
		e.Add("Control", "full")
	} else {
		e.Add("Control", "single-channel")
	}
	return e.Plain()
}
