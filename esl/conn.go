package esl

import (
	"bufio"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/commands"
	"github.com/switchboard-voip/switchboard/events"
	"github.com/switchboard-voip/switchboard/vars"
)

// Event formats of `event plain|json|xml`.
const (
	formatPlain int32 = iota
	formatJSON
	formatXML
)

var formatNames = [...]string{"plain", "json", "xml"}

// myEventNames are the events `myevents` subscribes to (mod_event_socket's
// list).
var myEventNames = []string{
	"CHANNEL_ANSWER", "CHANNEL_APPLICATION", "CHANNEL_BRIDGE", "CHANNEL_CREATE", "CHANNEL_DATA",
	"CHANNEL_DESTROY", "CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE", "CHANNEL_HANGUP",
	"CHANNEL_HANGUP_COMPLETE", "CHANNEL_ORIGINATE", "CHANNEL_UUID", "CHANNEL_OUTGOING",
	"CHANNEL_PARK", "CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA", "CHANNEL_STATE",
	"CHANNEL_UNBRIDGE", "CHANNEL_UNPARK", "DETECTED_SPEECH", "DTMF", "NOTALK", "TALK",
}

// conn is one event-socket connection: inbound (a client connected to
// us) or outbound (the socket application connected out for a call).
type conn struct {
	srv *Server
	nc  net.Conn
	r   *bufio.Reader
	log *slog.Logger
	out *outboundConn // nil for an inbound connection

	ctx  context.Context // done once the connection ends
	stop context.CancelFunc

	wmu      sync.Mutex // one frame at a time
	dead     bool       // guarded by wmu: nothing more is written
	killOnce sync.Once

	// The rest is owned by the reader goroutine, except where noted.
	authed   bool
	sess     Channel                // the controlled (outbound) or followed (myevents) call
	sessUUID atomic.Pointer[string] // sess's UUID, for kill on any goroutine
	myevents bool
	format   atomic.Int32 // read by the event pump
	stream   *eventStream
	all      bool // subscribed to ALL
	filters  filterSet
	logs     *logListener
	lingerOn atomic.Bool  // stay connected after the call hangs up
	linger   atomic.Int64 // for that many seconds; -1 until the client leaves
	jobs     chan struct{}
}

// eventStream is a connection's subscription and the goroutine writing
// its events.
type eventStream struct {
	sub     *events.Subscription
	stopped bool // guarded by the connection's wmu
	// While a write is in progress, watch fires every stuckCheck to see
	// whether the subscription was dropped meanwhile: the connection is
	// then closed at once instead of when the write times out.
	writing  atomic.Bool
	watch    *time.Timer
	reported atomic.Bool // the drop was logged
}

// stuckCheck is how often a blocked event write looks for a dropped
// subscription.
const stuckCheck = 250 * time.Millisecond

func newConn(s *Server, nc net.Conn, out *outboundConn) *conn {
	c := &conn{
		srv:  s,
		nc:   nc,
		r:    bufio.NewReader(nc),
		log:  s.log.With("remote", nc.RemoteAddr().String()),
		out:  out,
		jobs: make(chan struct{}, s.cfg.MaxJobs),
	}
	c.ctx, c.stop = context.WithCancel(s.ctx)
	if tcp, ok := nc.(*net.TCPConn); ok {
		_ = tcp.SetNoDelay(true)
	}
	return c
}

// errConnClosed is returned by write once the connection is dead.
var errConnClosed = errors.New("esl: connection closed")

// write sends one frame. A write that fails or times out kills the
// connection.
func (c *conn) write(frame []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeLocked(frame)
}

func (c *conn) writeLocked(frame []byte) error {
	if c.dead {
		return errConnClosed
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteTimeout))
	if _, err := c.nc.Write(frame); err != nil {
		c.dead = true
		c.nc.Close()
		c.stop()
		return fmt.Errorf("esl: write: %w", err)
	}
	return nil
}

// writeBuffersLocked sends several frames with one system call; c.wmu
// is held.
func (c *conn) writeBuffersLocked(bufs net.Buffers) error {
	if c.dead {
		return errConnClosed
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteTimeout))
	if _, err := bufs.WriteTo(c.nc); err != nil {
		c.dead = true
		c.nc.Close()
		c.stop()
		return fmt.Errorf("esl: write: %w", err)
	}
	return nil
}

func (c *conn) reply(text string, extra ...events.Header) error {
	return c.write(commandReply(text, extra...))
}

// kill sends the disconnect notice with msg (quickly: a client that does
// not read gets one second) and closes the connection. Only the first
// call acts.
func (c *conn) kill(msg string) {
	c.killOnce.Do(func() {
		// Unblock a writer stuck on a client that does not read.
		_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
		c.wmu.Lock()
		if !c.dead {
			uuid := ""
			if p := c.sessUUID.Load(); p != nil {
				uuid = *p
			}
			_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = c.nc.Write(disconnectNotice(msg, uuid))
			c.dead = true
		}
		c.nc.Close()
		c.wmu.Unlock()
		c.stop()
	})
}

// serveInbound runs an inbound connection: the ACL check, auth/request,
// then commands until the client leaves.
func (c *conn) serveInbound() {
	defer c.finish()
	if ok, list := c.srv.allowed(c.nc.RemoteAddr()); !ok {
		c.log.Warn("event socket connection rejected by ACL", "acl", list)
		_ = c.write(rudeRejection(msgDenied))
		return
	}
	c.log.Debug("event socket connection open")
	if c.write([]byte(authRequest)) != nil {
		return
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(c.srv.cfg.AuthTimeout))
	c.loop()
}

// loop reads and runs commands until the connection ends.
func (c *conn) loop() {
	for {
		p, err := ReadCommand(c.r, c.srv.cfg.MaxContentLength)
		if err != nil {
			c.readFailed(err)
			return
		}
		if !c.dispatch(p) {
			return
		}
	}
}

func (c *conn) readFailed(err error) {
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed), c.ctx.Err() != nil:
		c.log.Debug("event socket connection closed")
	case errors.Is(err, ErrBadContentLength), errors.Is(err, ErrHeaderTooLong):
		c.log.Warn("event socket: dropping the connection", "reason", err.Error())
	case errors.As(err, &ne) && ne.Timeout():
		c.log.Warn("event socket: dropping a connection that did not authenticate in time", "timeout", c.srv.cfg.AuthTimeout)
	default:
		c.log.Debug("event socket read failed", "err", err)
	}
}

// finish tears the connection down: subscriptions end, the disconnect
// notice is sent (unless the connection is already dead) and the socket
// closes.
func (c *conn) finish() {
	c.stopEvents()
	if c.logs != nil {
		c.logs.close()
		c.logs = nil
	}
	c.kill(msgGoodbye)
	c.srv.forget(c)
}

// dispatch runs one command as mod_event_socket's parse_command does
// (commands are matched by prefix, ignoring case, in its order) and
// reports whether the connection goes on.
func (c *conn) dispatch(p *Packet) bool {
	cmd := p.Command
	if hasPrefixFold(cmd, "exit") || strings.HasPrefix(cmd, "...") {
		_ = c.reply("+OK bye")
		return false
	}
	if !c.authed {
		return c.preAuth(cmd)
	}
	switch {
	case hasPrefixFold(cmd, "filter "):
		return c.replyText(c.filter(cmd[len("filter "):]))
	case c.sess != nil && hasPrefixFold(cmd, "resume"):
		if v := varsOf(c.sess); v != nil {
			v.Set("socket_resume", "true")
		}
		return c.replyText("+OK")
	}
	if c.sess != nil || hasPrefixFold(cmd, "myevents ") {
		switch {
		case c.sess != nil && hasPrefixFold(cmd, "connect"):
			async, full := true, true // an inbound connection following a call
			if c.out != nil {
				async, full = c.out.async, c.out.full
			}
			return c.write(connectReply(c.sess, c.srv.cfg.Events, async, full)) == nil
		case c.sess != nil && hasPrefixFold(cmd, "getvar"):
			value := ""
			if _, name, ok := strings.Cut(cmd, " "); ok {
				if v := varsOf(c.sess); v != nil {
					value, _ = v.Get(strings.TrimSpace(name))
				}
			}
			return c.replyText(value)
		case hasPrefixFold(cmd, "myevents"):
			return c.replyText(c.myEvents(cmd[len("myevents"):]))
		}
	}
	switch {
	case hasPrefixFold(cmd, "divert_events"):
		return c.replyText(c.divertEvents(cmd[len("divert_events"):]))
	case hasPrefixFold(cmd, "sendmsg"):
		return c.replyText(c.sendmsg(strings.TrimSpace(cmd[len("sendmsg"):]), p))
	}
	if c.out != nil && !c.out.full {
		return c.replyText("-ERR command not found")
	}
	switch {
	case hasPrefixFold(cmd, "sendevent"):
		return c.replyText(c.sendevent(strings.TrimLeft(cmd[len("sendevent"):], " \t"), p))
	case hasPrefixFold(cmd, "api "):
		return c.api(cmd[len("api "):])
	case hasPrefixFold(cmd, "bgapi "):
		return c.bgapi(cmd[len("bgapi "):], p)
	case hasPrefixFold(cmd, "log"):
		return c.replyText(c.logCmd(cmd[len("log"):]))
	case hasPrefixFold(cmd, "linger"):
		return c.replyText(c.lingerCmd(cmd[len("linger"):]))
	case hasPrefixFold(cmd, "nolinger"):
		if c.sess == nil {
			return c.replyText("-ERR not controlling a session")
		}
		c.lingerOn.Store(false)
		return c.replyText("+OK will not linger")
	case hasPrefixFold(cmd, "nolog"):
		if c.logs == nil {
			return c.replyText("-ERR not loging")
		}
		c.logs.close()
		c.logs = nil
		return c.replyText("+OK no longer logging")
	case hasPrefixFold(cmd, "event"):
		return c.replyText(c.eventCmd(cmd[len("event"):]))
	case hasPrefixFold(cmd, "nixevent"):
		return c.replyText(c.nixEvent(cmd[len("nixevent"):]))
	case hasPrefixFold(cmd, "noevents"):
		if c.stream == nil {
			return c.replyText("-ERR not listening for events")
		}
		c.stopEvents()
		c.all = false
		return c.replyText("+OK no longer listening for events")
	}
	return c.replyText("-ERR command not found")
}

// replyText sends a command/reply and reports whether the connection is
// still usable.
func (c *conn) replyText(text string) bool { return c.reply(text) == nil }

// preAuth handles a command before authentication: only auth succeeds.
func (c *conn) preAuth(cmd string) bool {
	switch {
	case hasPrefixFold(cmd, "auth "):
		pass := cmd[len("auth "):]
		want := c.srv.auth.Load().settings.Password
		if subtle.ConstantTimeCompare([]byte(pass), []byte(want)) == 1 {
			c.authed = true
			_ = c.nc.SetReadDeadline(time.Time{})
			c.log.Debug("event socket client authenticated")
			return c.replyText("+OK accepted")
		}
		c.log.Warn("event socket: wrong password")
		_ = c.reply("-ERR invalid")
		return false
	case hasPrefixFold(cmd, "userauth "):
		c.log.Warn("event socket: userauth is not supported")
		_ = c.reply("-ERR invalid")
		return false
	}
	return c.replyText("-ERR command not found")
}

// api runs an API command in the reader goroutine, as FreeSWITCH does:
// the connection waits for it.
func (c *conn) api(line string) bool {
	name, args, _ := strings.Cut(line, " ")
	out := commands.Execute(c.ctx, c.srv.cfg.Env, name, args)
	if out == "" {
		out = "-ERR no reply\n"
	}
	return c.write(apiResponse(out)) == nil
}

// bgapi answers with a Job-UUID at once and runs the command on its own
// goroutine; its output arrives as a BACKGROUND_JOB event.
func (c *conn) bgapi(line string, p *Packet) bool {
	name, args, hasArgs := strings.Cut(line, " ")
	job := strings.TrimSpace(p.Get("Job-UUID"))
	if job == "" {
		job = newUUID()
	}
	select {
	case c.jobs <- struct{}{}:
	default:
		return c.replyText("-ERR too many background jobs")
	}
	owner := ""
	if c.sess != nil {
		owner = c.sess.UUID()
	}
	if err := c.reply("+OK Job-UUID: "+job, events.Header{Name: "Job-UUID", Value: job}); err != nil {
		<-c.jobs
		return false
	}
	srv := c.srv
	srv.wg.Add(1)
	go func() {
		defer srv.wg.Done()
		defer func() { <-c.jobs }()
		out := commands.Execute(srv.ctx, srv.cfg.Env, name, args)
		e := events.New("BACKGROUND_JOB")
		e.Add("Job-UUID", job)
		e.Add("Job-Owner-UUID", owner)
		e.Add("Job-Command", name)
		if hasArgs {
			e.Add("Job-Command-Arg", args)
		}
		e.Body = out
		srv.cfg.Events.Fire(e)
	}()
	return true
}

// logCmd is `log [level]`.
func (c *conn) logCmd(arg string) string {
	if c.srv.cfg.Logs == nil {
		return "-ERR log streaming is not available"
	}
	arg = strings.TrimLeft(arg, " ")
	if i := strings.IndexByte(arg, ' '); i >= 0 {
		arg = arg[:i]
	}
	level := apps.LogDebug
	if arg != "" {
		level = apps.ParseLogLevel(arg)
	}
	if level == apps.LogInvalid {
		return "-ERR invalid log level"
	}
	if c.logs == nil {
		c.logs = c.srv.cfg.Logs.hub.subscribe(level, c.srv.cfg.LogBuffer)
		go c.pumpLogs(c.logs)
	} else {
		c.logs.setLevel(level)
	}
	return fmt.Sprintf("+OK log level %s [%d]", arg, level)
}

// pumpLogs writes a log listener's lines as log/data frames.
func (c *conn) pumpLogs(l *logListener) {
	for line := range l.ch {
		if c.write(logFrame(line)) != nil {
			l.close()
		}
	}
	if l.overflow.Load() {
		c.log.Warn("event socket client fell behind on log lines; disconnecting it", "buffer", cap(l.ch))
		c.kill(msgLostLogs)
	}
}

// logFrame is the log/data frame of one line.
func logFrame(l *logLine) []byte {
	channel := 0 // SWITCH_CHANNEL_ID_LOG
	if l.uuid != "" {
		channel = 3 // SWITCH_CHANNEL_ID_SESSION
	}
	b := fmt.Appendf(make([]byte, 0, 160+len(l.text)),
		"Content-Type: log/data\nContent-Length: %d\nLog-Level: %d\nText-Channel: %d\nLog-File: %s\nLog-Func: %s\nLog-Line: %d\nUser-Data: %s\n\n",
		len(l.text), int(l.level), channel, l.file, l.function, l.line, l.uuid)
	return append(b, l.text...)
}

// lingerCmd is `linger [seconds]`.
func (c *conn) lingerCmd(arg string) string {
	if c.sess == nil {
		return "-ERR not controlling a session"
	}
	n := -1
	if strings.HasPrefix(arg, " ") && len(arg) > 1 {
		n = atoi(arg[1:])
	}
	c.linger.Store(int64(n))
	c.lingerOn.Store(true)
	if n != -1 {
		return fmt.Sprintf("+OK will linger %d seconds", n)
	}
	return "+OK will linger"
}

// atoi reads a leading decimal number as C's atoi does (0 when there is
// none).
func atoi(s string) int {
	s = strings.TrimLeft(s, " \t")
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	n := 0
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9' && n < 1<<30; i++ {
		n = n*10 + int(s[i]-'0')
	}
	if neg {
		return -n
	}
	return n
}

// eventName reads an event name as switch_name_event does: ignoring case,
// with an optional SWITCH_EVENT_ prefix. ok is false for a name that is
// not an event.
func eventName(word string) (string, bool) {
	n := strings.ToUpper(word)
	if strings.HasPrefix(n, "SWITCH_EVENT_") && len(n) > len("SWITCH_EVENT_") {
		n = n[len("SWITCH_EVENT_"):]
	}
	return n, events.Known(n)
}

// eventCmd is `event [plain|json|xml] <names...>`.
func (c *conn) eventCmd(rest string) string {
	i := strings.IndexByte(rest, ' ')
	if i < 0 {
		return "-ERR no keywords supplied"
	}
	if c.srv.cfg.Events == nil {
		return "-ERR events are not available"
	}
	words := strings.Split(rest[i+1:], " ")
	var names, subclasses []string
	custom := false
	for n, w := range words {
		if n == 0 {
			switch strings.ToLower(w) {
			case "plain":
				c.format.Store(formatPlain)
				continue
			case "json":
				c.format.Store(formatJSON)
				continue
			case "xml":
				c.format.Store(formatXML)
				continue
			}
		}
		if custom {
			if w != "" {
				subclasses = append(subclasses, w)
			}
			continue
		}
		name, ok := eventName(w)
		if !ok {
			continue
		}
		names = append(names, name)
		if name == "CUSTOM" {
			custom = true
		}
	}
	if len(names) == 0 {
		return "-ERR no keywords supplied"
	}
	st := c.startEvents()
	if err := st.sub.Add(names...); err != nil {
		return "-ERR " + err.Error()
	}
	if len(subclasses) > 0 {
		st.sub.AddSubclass(subclasses...)
	}
	for _, n := range names {
		if n == "ALL" {
			c.all = true
		}
	}
	return "+OK event listener enabled " + formatNames[c.format.Load()]
}

// nixEvent is `nixevent <names...>`.
func (c *conn) nixEvent(rest string) string {
	i := strings.IndexByte(rest, ' ')
	if i < 0 {
		return "-ERR no keywords supplied"
	}
	if c.srv.cfg.Events == nil {
		return "-ERR events are not available"
	}
	st := c.startEvents()
	count := 0
	custom := false
	for _, w := range strings.Split(rest[i+1:], " ") {
		if custom {
			st.sub.RemoveSubclass(w)
			continue
		}
		name, ok := eventName(w)
		if !ok {
			continue
		}
		count++
		switch name {
		case "CUSTOM":
			custom = true
		case "ALL":
			st.sub.Clear()
			c.all = false
		default:
			if c.all {
				// ALL becomes every name but this one.
				every := make([]string, 0, 100)
				for _, n := range events.Names() {
					if n != "ALL" {
						every = append(every, n)
					}
				}
				_ = st.sub.Add(every...)
				st.sub.Remove("ALL")
				c.all = false
			}
			st.sub.Remove(name)
		}
	}
	if count == 0 {
		return "-ERR no keywords supplied"
	}
	return "+OK events nixed"
}

// startEvents returns the connection's event stream, subscribing and
// starting its writer when there is none yet.
func (c *conn) startEvents() *eventStream {
	if c.stream != nil {
		return c.stream
	}
	st := &eventStream{sub: c.srv.cfg.Events.Subscribe(c.srv.cfg.EventBuffer)}
	st.watch = time.AfterFunc(time.Hour, func() { c.checkStuck(st) })
	st.watch.Stop()
	c.stream = st
	c.applyFilter()
	go c.pumpEvents(st)
	return st
}

// stopEvents ends the event stream: no event is written after it
// returns, buffered ones are dropped.
func (c *conn) stopEvents() {
	st := c.stream
	if st == nil {
		return
	}
	c.stream = nil
	c.wmu.Lock()
	st.stopped = true
	c.wmu.Unlock()
	st.sub.Close()
}

// maxBatch bounds how many queued events one write carries.
const maxBatch = 64

// pumpEvents writes a stream's events in the connection's format. Events
// already queued are written together, with one system call.
func (c *conn) pumpEvents(st *eventStream) {
	ch := st.sub.C()
	bufs := make(net.Buffers, 0, maxBatch)
	for e := range ch {
		f := c.format.Load()
		bufs = append(bufs[:0], c.srv.frames.frame(e, f))
		open := true
	gather:
		for len(bufs) < maxBatch {
			select {
			case next, ok := <-ch:
				if !ok {
					open = false
					break gather
				}
				bufs = append(bufs, c.srv.frames.frame(next, f))
			default:
				break gather
			}
		}
		c.wmu.Lock()
		if st.stopped {
			c.wmu.Unlock()
			continue
		}
		st.writing.Store(true)
		st.watch.Reset(stuckCheck)
		err := c.writeBuffersLocked(bufs)
		st.writing.Store(false)
		st.watch.Stop()
		c.wmu.Unlock()
		if err != nil {
			st.sub.Close()
		}
		if !open {
			break
		}
	}
	c.dropped(st)
}

// checkStuck runs while an event write blocks: a subscription the bus
// dropped meanwhile ends the connection now.
func (c *conn) checkStuck(st *eventStream) {
	if !st.writing.Load() {
		return
	}
	if st.sub.Overflowed() {
		c.dropped(st)
		return
	}
	st.watch.Reset(stuckCheck)
}

// dropped disconnects a client whose subscription the bus dropped for
// falling behind.
func (c *conn) dropped(st *eventStream) {
	if !st.sub.Overflowed() || st.reported.Swap(true) {
		return
	}
	c.log.Warn("event socket client fell behind on events; disconnecting it", "buffer", c.srv.cfg.EventBuffer)
	c.kill(msgLost)
}

// applyFilter installs the connection's filters (and its myevents
// restriction) on the subscription; they run when an event is fired.
func (c *conn) applyFilter() {
	if c.stream == nil {
		return
	}
	fs := c.filters
	uuid := ""
	if c.myevents && c.sess != nil {
		uuid = c.sess.UUID()
	}
	if len(fs) == 0 && uuid == "" {
		c.stream.sub.SetFilter(nil)
		return
	}
	c.stream.sub.SetFilter(func(e *events.Event) bool {
		if !fs.pass(e) {
			return false
		}
		if uuid == "" {
			return true
		}
		if v, ok := e.Lookup("Unique-ID"); ok && v == uuid {
			return true
		}
		return e.Get("Job-Owner-UUID") == uuid
	})
}

// filter is `filter <header> <value>`, `filter add ...`, `filter delete
// <header> [<value>]` and `filter delete all`.
func (c *conn) filter(arg string) string {
	arg = strings.TrimLeft(arg, " ")
	header, value, ok := strings.Cut(arg, " ")
	switch {
	case strings.EqualFold(header, "delete") && ok:
		header, value, _ = strings.Cut(value, " ")
		if strings.EqualFold(header, "all") {
			c.filters = nil
		} else {
			c.filters = c.filters.without(header, value)
		}
		c.applyFilter()
		return fmt.Sprintf("+OK filter deleted. [%s][%s]", header, value)
	case ok:
		if strings.EqualFold(header, "add") {
			var has bool
			header, value, has = strings.Cut(value, " ")
			if !has {
				return "-ERR invalid syntax"
			}
		}
		f, err := newFilter(header, value)
		if err != nil {
			return "-ERR invalid filter: " + err.Error()
		}
		c.filters = append(c.filters[:len(c.filters):len(c.filters)], f)
		c.applyFilter()
		return fmt.Sprintf("+OK filter added. [%s]=[%s]", header, value)
	}
	return "-ERR invalid syntax"
}

// myEvents is `myevents [<uuid> [plain|json|xml]]`: follow one call's
// events (an outbound connection follows its own call).
func (c *conn) myEvents(arg string) string {
	if c.myevents {
		return "-ERR aready enabled."
	}
	if c.srv.cfg.Events == nil {
		return "-ERR events are not available"
	}
	words := strings.Fields(arg)
	if c.sess == nil {
		if len(words) == 0 {
			return "-ERR invalid uuid"
		}
		// Some libraries send the format first; take either order.
		if len(words) > 1 && isFormat(words[0]) && !isFormat(words[1]) {
			words[0], words[1] = words[1], words[0]
		}
		ch := c.lookup(words[0])
		if ch == nil {
			return "-ERR invalid uuid"
		}
		c.setSession(ch)
		go c.watch(ch)
		words = words[1:]
	}
	for _, w := range words {
		switch strings.ToLower(w) {
		case "plain":
			c.format.Store(formatPlain)
		case "json":
			c.format.Store(formatJSON)
		case "xml":
			c.format.Store(formatXML)
		}
	}
	c.myevents = true
	st := c.startEvents()
	_ = st.sub.Add(myEventNames...)
	c.applyFilter()
	return "+OK Events Enabled"
}

func isFormat(w string) bool {
	switch strings.ToLower(w) {
	case "plain", "json", "xml":
		return true
	}
	return false
}

// setSession makes ch the connection's call.
func (c *conn) setSession(ch Channel) {
	c.sess = ch
	id := ch.UUID()
	c.sessUUID.Store(&id)
}

// lookup finds a live call.
func (c *conn) lookup(uuid string) Channel {
	if c.srv.cfg.Lookup == nil || uuid == "" {
		return nil
	}
	return c.srv.cfg.Lookup(uuid)
}

// watch waits for the followed call to hang up: the connection then
// closes, or lingers when asked to.
func (c *conn) watch(ch Channel) {
	select {
	case <-c.ctx.Done():
		return
	case <-ch.Context().Done():
	}
	if !c.lingerOn.Load() {
		c.kill(msgGoodbye)
		return
	}
	secs := c.linger.Load()
	if c.write(lingerNotice(ch.UUID(), channelName(ch), int(secs))) != nil || secs == -1 {
		return
	}
	t := time.NewTimer(time.Duration(max(secs, 0)) * time.Second)
	defer t.Stop()
	select {
	case <-c.ctx.Done():
	case <-t.C:
		c.log.Debug("linger timeout, closing socket")
		c.kill(msgGoodbye)
	}
}

// divertEvents is `divert_events on|off`.
func (c *conn) divertEvents(arg string) string {
	if c.sess == nil {
		return "-ERR not controlling a session."
	}
	arg = strings.TrimSpace(arg)
	switch {
	case arg == "":
		return "-ERR missing value."
	case strings.EqualFold(arg, "on"):
		return "-ERR divert_events is not supported"
	}
	return "+OK events not diverted"
}

// sendmsg is `sendmsg [<uuid>]` with call-command headers: execute or
// hangup on the named call, or on the connection's own call.
func (c *conn) sendmsg(uuid string, p *Packet) string {
	if uuid == "" {
		uuid = p.Get("session-id")
	}
	if uuid != "" && c.sess != nil && uuid == c.sess.UUID() {
		uuid = ""
	}
	var target Channel
	switch {
	case uuid == "" && c.sess != nil:
		target = c.sess
	case uuid != "":
		target = c.lookup(uuid)
	}
	if target == nil {
		return fmt.Sprintf("-ERR invalid session id [%s]", uuid)
	}
	m, err := parseMessage(p)
	if err != nil {
		return "-ERR " + err.Error()
	}
	if m.hangup {
		target.Hangup(m.cause)
		return "+OK"
	}
	if c.out != nil && target == c.sess && !c.out.async && !isTrue(p.Get("async")) {
		// Static mode: the call runs it now and the client waits.
		if err := c.out.runNow(c.ctx, m); err != nil {
			return "-ERR " + err.Error()
		}
		return "+OK"
	}
	if err := target.EnqueueLoops(m.app, m.arg, m.loops); err != nil {
		return "-ERR " + err.Error()
	}
	return "+OK"
}

// message is a parsed sendmsg.
type message struct {
	hangup bool
	cause  cause.Cause
	app    string
	arg    string
	loops  int
}

// parseMessage reads sendmsg's call-command headers (the way
// switch_ivr_parse_event does for execute and hangup).
func parseMessage(p *Packet) (message, error) {
	cmd := strings.TrimSpace(p.Get("call-command"))
	switch strings.ToLower(cmd) {
	case "":
		return message{}, errors.New("missing call-command")
	case "hangup":
		return message{hangup: true, cause: cause.Parse(p.Get("hangup-cause"))}, nil
	case "execute":
	default:
		return message{}, fmt.Errorf("call-command %s is not supported", cmd)
	}
	m := message{app: strings.TrimSpace(p.Get("execute-app-name")), arg: p.Get("execute-app-arg"), loops: 1}
	if m.app == "" {
		return m, errors.New("missing execute-app-name")
	}
	if m.arg == "" && strings.EqualFold(strings.TrimSpace(p.Get("content-type")), "text/plain") {
		m.arg = p.Body
	}
	if l, ok := p.Lookup("loops"); ok {
		m.loops = atoi(l)
	}
	return m, nil
}

// sendevent is `sendevent <NAME>` with the event's headers and body.
func (c *conn) sendevent(name string, p *Packet) string {
	bus := c.srv.cfg.Events
	if bus == nil {
		return "-ERR events are not available"
	}
	name, ok := eventName(strings.TrimSpace(name))
	if !ok || name == "ALL" {
		return "-ERR invalid event name"
	}
	var e *events.Event
	if sub := p.Get("Event-Subclass"); name == "CUSTOM" && sub != "" {
		e = events.NewCustom(sub)
	} else {
		e = events.New(name)
	}
	for _, h := range p.Headers {
		switch strings.ToLower(h.Name) {
		case "content-length", "event-name":
			continue
		case "event-subclass":
			if e.Subclass() != "" {
				continue
			}
		}
		e.Add(h.Name, h.Value)
	}
	id := newUUID()
	e.Add("Event-UUID", id)
	e.Body = p.Body
	bus.Fire(e)
	return "+OK " + id
}

// isTrue is switch_true.
func isTrue(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yes", "on", "true", "t", "enabled", "active", "allow":
		return true
	}
	return atoi(s) != 0
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// varsOf returns a call's variables, or nil when ch does not expose them.
func varsOf(ch Channel) *vars.Store {
	if v, ok := ch.(interface{ Vars() *vars.Store }); ok {
		return v.Vars()
	}
	return nil
}
