package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/media"
)

// Runtime control of calls from outside the call's goroutine: the API
// commands (uuid_broadcast, uuid_break, uuid_hold, uuid_transfer, fsctl,
// status) and the event socket's sendmsg.
//
// A call runs its applications on its own goroutine. Other goroutines ask
// it to do things through a queue of applications (Enqueue), which the
// call runs at its next event-parse point, as FreeSWITCH runs the
// private events it queues for a session:
//
//   - between two applications of its action list, and after the last;
//   - while it is parked;
//   - while a media operation (playback, gentones, sleep with media,
//     echo) is running: the operation is suspended, the queued
//     applications run, and the operation resumes where it was (a file
//     continues from the sample it had reached; echo starts again);
//   - inside any other blocking application that calls RunQueued when
//     Queued fires (the event socket's outbound socket application).
//
// Break cuts the current media operation short; Hold suspends media until
// Unhold. Transfer, Hangup and the variable store are safe from any
// goroutine too, so uuid_transfer and uuid_kill call them directly; a
// transfer ends a running media operation at once (the operation's stop
// function sees it) and wakes a parked call.

// Errors of Enqueue.
var (
	// ErrHungUp is returned for a call that has hung up.
	ErrHungUp = errors.New("the channel is hung up")
	// ErrUnknownApp is returned for an application that is not
	// registered.
	ErrUnknownApp = errors.New("no such application")
	// ErrQueueFull is returned when MaxQueued applications are already
	// waiting.
	ErrQueueFull = errors.New("too many queued applications")
)

// MaxQueued is how many applications may wait in a call's queue.
const MaxQueued = 1024

// Errors of Hold and Unhold.
var (
	// ErrAlreadyHeld is returned by Hold for a call already on hold.
	ErrAlreadyHeld = errors.New("the call is already on hold")
	// ErrNotHeld is returned by Unhold for a call that is not on hold.
	ErrNotHeld = errors.New("the call is not on hold")
)

// queued is one application waiting in a call's queue.
type queued struct {
	app, data string
	loops     int // how many times to run it; < 0 until the call ends
}

// control is the part of a Session that other goroutines drive. Its zero
// value is ready to use.
type control struct {
	mu       sync.Mutex
	queue    []queued
	wake     chan struct{} // capacity 1: the queue or the call's state changed
	held     bool
	unheld   bool          // taken off hold at least once (callstate UNHELD)
	holdOff  chan struct{} // closed when the call comes off hold
	holdFrom time.Time
	holdSum  time.Duration
	initial  *caller.Profile // the caller profile at creation

	pending  atomic.Int32  // len(queue), read by media stop functions
	heldFlag atomic.Bool   // held, read by media stop functions
	breaks   atomic.Uint64 // incremented by Break
}

// wakeChan returns the channel that signals a change; c.mu must be held.
func (c *control) wakeChan() chan struct{} {
	if c.wake == nil {
		c.wake = make(chan struct{}, 1)
	}
	return c.wake
}

// signal wakes whoever waits on the wake channel (the parked call, a
// blocking application), without blocking.
func (c *control) signal() {
	c.mu.Lock()
	ch := c.wakeChan()
	c.mu.Unlock()
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Enqueue asks the call to run app with data at its next event-parse
// point (see above). It is safe from any goroutine and returns at once:
// ErrHungUp when the call has hung up, ErrUnknownApp for an application
// that is not registered, ErrQueueFull when MaxQueued applications are
// waiting. The data is ${}-expanded when the application runs, as the
// dialplan's is. This is FreeSWITCH's `sendmsg` `call-command: execute`,
// and what uuid_broadcast, uuid_answer, uuid_park and uuid_send_dtmf
// queue.
func (s *Session) Enqueue(app, data string) error { return s.EnqueueLoops(app, data, 1) }

// EnqueueLoops is Enqueue running the application loops times in a row
// (sendmsg's loops header); loops < 0 repeats it until the call ends. A
// Break ends the loop. 0 counts as 1.
func (s *Session) EnqueueLoops(app, data string, loops int) error {
	if !s.Ready() {
		return ErrHungUp
	}
	if _, ok := apps.Lookup(app); !ok {
		return fmt.Errorf("%w: %s", ErrUnknownApp, app)
	}
	if loops == 0 {
		loops = 1
	}
	c := &s.ctl
	c.mu.Lock()
	if len(c.queue) >= MaxQueued {
		c.mu.Unlock()
		return ErrQueueFull
	}
	c.queue = append(c.queue, queued{app: app, data: data, loops: loops})
	c.pending.Store(int32(len(c.queue)))
	c.mu.Unlock()
	c.signal()
	return nil
}

// Queued returns a channel that receives a value when something was
// queued for the call (or its routing changed: a transfer). A blocking
// application that wants queued applications to run while it blocks
// selects on it and calls RunQueued. The channel is shared: one receive
// per change, by whoever waits.
func (s *Session) Queued() <-chan struct{} {
	s.ctl.mu.Lock()
	defer s.ctl.mu.Unlock()
	return s.ctl.wakeChan()
}

// QueueLen returns how many applications wait in the call's queue.
func (s *Session) QueueLen() int { return int(s.ctl.pending.Load()) }

// RunQueued runs the queued applications, in order, on the calling
// goroutine, which must be the call's own (an application's). It returns
// when the queue is empty, the call hangs up, or a queued application
// transfers or parks the call (then the caller should return too).
func (s *Session) RunQueued() { s.runQueued() }

func (s *Session) runQueued() {
	for s.ctl.pending.Load() > 0 && s.Ready() && !s.pendingStop() {
		q, ok := s.ctl.pop()
		if !ok {
			return
		}
		if q.loops == 1 {
			s.exec(q.app, q.data)
			continue
		}
		// total_loops tells a looping application how many runs there
		// are, as FreeSWITCH sets it around a looped broadcast.
		s.vars.Set("total_loops", strconv.Itoa(q.loops))
		// A break ends the loop, as uuid_break stops a looping
		// broadcast in FreeSWITCH.
		gen := s.ctl.breaks.Load()
		for i := 0; (q.loops < 0 || i < q.loops) && s.Ready() && !s.pendingStop() && s.ctl.breaks.Load() == gen; i++ {
			s.exec(q.app, q.data)
		}
		s.vars.Unset("total_loops")
	}
}

// pop removes the first queued application.
func (c *control) pop() (queued, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) == 0 {
		return queued{}, false
	}
	q := c.queue[0]
	c.queue[0] = queued{}
	c.queue = c.queue[1:]
	c.pending.Store(int32(len(c.queue)))
	return q, true
}

// Break interrupts the call's current media operation (playback,
// gentones, sleep with media, echo): it returns as if stopped by a
// terminator, and the action list goes on. With all, the applications
// waiting in the queue are dropped too. A break also ends a looping
// queued application (EnqueueLoops).
// Safe from any goroutine; a call doing nothing interruptible is not
// affected (FreeSWITCH would keep the break for its next playback).
func (s *Session) Break(all bool) {
	c := &s.ctl
	c.mu.Lock()
	c.breaks.Add(1)
	if all {
		clear(c.queue)
		c.queue = c.queue[:0]
		c.pending.Store(0)
	}
	c.mu.Unlock()
	c.signal()
}

// Hold puts the call on hold: its callstate becomes HELD, the current
// media operation is suspended and no media is sent until Unhold, when
// the operation resumes. It returns ErrAlreadyHeld when the call is on
// hold, ErrHungUp when it has hung up. Safe from any goroutine.
//
// Partial: no re-INVITE (a=sendonly) is sent to the phone and no hold
// music is played, since there is no bridged leg to play it to.
func (s *Session) Hold() error {
	if !s.Ready() {
		return ErrHungUp
	}
	c := &s.ctl
	c.mu.Lock()
	if c.held {
		c.mu.Unlock()
		return ErrAlreadyHeld
	}
	c.held = true
	c.holdOff = make(chan struct{})
	c.holdFrom = time.Now()
	c.heldFlag.Store(true)
	c.mu.Unlock()
	s.log.Info("call placed on hold")
	s.fire("CHANNEL_HOLD", nil)
	return nil
}

// Unhold takes the call off hold (callstate UNHELD) and resumes its
// media. It returns ErrNotHeld when the call is not on hold. The time
// spent on hold accumulates in hold_accum_seconds, hold_accum_ms and
// hold_accum_usec. Safe from any goroutine.
func (s *Session) Unhold() error {
	c := &s.ctl
	c.mu.Lock()
	if !c.held {
		c.mu.Unlock()
		return ErrNotHeld
	}
	c.held, c.unheld = false, true
	c.heldFlag.Store(false)
	close(c.holdOff)
	c.holdSum += time.Since(c.holdFrom)
	sum := c.holdSum
	c.mu.Unlock()
	s.vars.Set("hold_accum_seconds", strconv.FormatInt(int64(sum/time.Second), 10))
	s.vars.Set("hold_accum_ms", strconv.FormatInt(sum.Milliseconds(), 10))
	s.vars.Set("hold_accum_usec", strconv.FormatInt(sum.Microseconds(), 10))
	s.log.Info("call taken off hold")
	s.fire("CHANNEL_UNHOLD", nil)
	return nil
}

// Held reports whether the call is on hold.
func (s *Session) Held() bool { return s.ctl.heldFlag.Load() }

// holdCallState returns the callstate hold gives the leg: HELD on hold,
// UNHELD once taken off hold, "" when it was never held.
func (s *Session) holdCallState() string {
	s.ctl.mu.Lock()
	defer s.ctl.mu.Unlock()
	switch {
	case s.ctl.held:
		return "HELD"
	case s.ctl.unheld:
		return "UNHELD"
	}
	return ""
}

// waitUnheld blocks while the call is on hold. It returns false when it
// should not go on: ctx is done, the call hung up, was transferred or
// parked, or a break arrived (the break generation is no longer gen).
func (s *Session) waitUnheld(ctx context.Context, gen uint64) bool {
	for {
		c := &s.ctl
		c.mu.Lock()
		held, off, wake := c.held, c.holdOff, c.wakeChan()
		c.mu.Unlock()
		if !held {
			return true
		}
		select {
		case <-off:
		case <-wake:
			// A transfer, a break or a queued application: the
			// operation ends on a transfer or break; queued
			// applications wait for the unhold.
		case <-ctx.Done():
			return false
		case <-s.ctx.Done():
			return false
		}
		if s.pendingStop() || c.breaks.Load() != gen {
			return false
		}
	}
}

// stopReason says why a controlled media operation's stop function fired.
type stopReason int32

const (
	stopNone   stopReason = iota
	stopCaller            // the application's own stop function
	stopBreak             // Break
	stopRoute             // a transfer or park is pending
	stopHold              // Hold
	stopQueue             // an application was queued
)

// mediaRun is one attempt of a controlled media operation: it runs with
// the given stop function after done samples of it have already been
// played, and returns the samples it played, whether stop ended it, and
// its error.
type mediaRun func(ctx context.Context, stop func() bool, done int64) (samples int64, stopped bool, err error)

// controlled runs a media operation under the call's controls (see the
// top of this file): Break, a pending transfer or park, and the caller's
// own stop function end it; Hold suspends it until Unhold; a queued
// application suspends it while the queue runs. It returns the samples
// played in all and whether the operation was stopped rather than
// finished.
func (s *Session) controlled(ctx context.Context, stop func() bool, run mediaRun) (int64, bool, error) {
	var done int64
	c := &s.ctl
	for {
		gen := c.breaks.Load()
		if c.heldFlag.Load() && !s.waitUnheld(ctx, gen) {
			return done, true, nil
		}
		var why atomic.Int32
		wrapped := func() bool {
			r := stopNone
			switch {
			case c.breaks.Load() != gen:
				r = stopBreak
			case c.heldFlag.Load():
				r = stopHold
			case c.pending.Load() > 0:
				r = stopQueue
			case s.pendingStop():
				r = stopRoute
			case stop != nil && stop():
				r = stopCaller
			}
			why.Store(int32(r))
			return r != stopNone
		}
		n, stopped, err := run(ctx, wrapped, done)
		done += n
		if err != nil || !stopped || ctx.Err() != nil {
			return done, stopped, err
		}
		switch stopReason(why.Load()) {
		case stopQueue:
			s.runQueued()
		case stopHold:
			// waitUnheld at the top of the loop.
		default:
			return done, true, nil
		}
		if !s.Ready() || s.pendingStop() {
			return done, true, nil
		}
	}
}

// controlledPlay plays the source open returns under the call's controls.
// When the playback is suspended (hold, a queued application) it is
// opened again afterwards and resumes at the sample it had reached.
func (s *Session) controlledPlay(ctx context.Context, m Media, open func() (media.Source, error), stop func() bool) (apps.PlayResult, error) {
	src, err := open()
	if err != nil {
		return apps.PlayResult{}, err
	}
	first := src
	defer func() {
		if first != nil {
			first.Close()
		}
	}()
	rate := 8000
	if c, ok := m.(interface{ Codec() media.Codec }); ok && c.Codec().ClockRate > 0 {
		rate = c.Codec().ClockRate
	}
	samples, stopped, err := s.controlled(ctx, stop, func(ctx context.Context, stop func() bool, done int64) (int64, bool, error) {
		src := first
		if src == nil {
			// Resuming: open the media again and skip what was played.
			var err error
			if src, err = open(); err != nil {
				return 0, false, err
			}
			defer src.Close()
			if err := skipSamples(src, done); err != nil {
				if errors.Is(err, io.EOF) {
					return 0, false, nil
				}
				return 0, false, err
			}
		} else {
			first = nil
			defer src.Close()
		}
		r, err := m.Play(ctx, src, stop)
		return r.Samples, r.Stopped, err
	})
	return apps.PlayResult{
		Samples:  samples,
		Duration: time.Duration(samples) * time.Second / time.Duration(rate),
		Stopped:  stopped,
	}, err
}

// skipSamples reads and discards n samples of src.
func skipSamples(src media.Source, n int64) error {
	buf := make([]int16, 1024)
	for n > 0 {
		want := int64(len(buf))
		if n < want {
			want = n
		}
		got, err := src.Read(buf[:want])
		n -= int64(got)
		if err != nil {
			if n <= 0 && errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if got == 0 {
			return io.ErrNoProgress
		}
	}
	return nil
}

// controlledEcho runs Media.Echo under the call's controls; after a
// suspension it starts again.
func (s *Session) controlledEcho(ctx context.Context, m Media, delay time.Duration, stop func() bool) error {
	_, _, err := s.controlled(ctx, stop, func(ctx context.Context, stop func() bool, _ int64) (int64, bool, error) {
		err := m.Echo(ctx, delay, stop)
		// Echo returns nil only when stop ended it, and ctx.Err() when
		// the call ended.
		return 0, err == nil, err
	})
	return err
}

// controlledDTMF sends digits once the call is off hold.
func (s *Session) controlledDTMF(ctx context.Context, m Media, digits string, dur time.Duration) error {
	if s.ctl.heldFlag.Load() && !s.waitUnheld(ctx, s.ctl.breaks.Load()) {
		return nil
	}
	return m.SendDTMF(ctx, digits, dur)
}

// parkLoop keeps a parked call waiting until it hangs up or is
// transferred, running queued applications as they arrive.
func (s *Session) parkLoop() {
	for {
		s.runQueued()
		s.mu.Lock()
		tr := s.transfer
		s.parked = false // a queued park changes nothing: the call is parked
		link := s.bridge
		s.mu.Unlock()
		if tr && link != nil && link.b == s {
			// Transferred out of the bridge it waits in.
			link.left.Store(true)
			link.end()
		}
		if tr || !s.Ready() {
			return
		}
		select {
		case <-s.ctx.Done():
			return
		case <-s.Queued():
		}
	}
}

// DataStore returns the switch's store called name ("db" or "hash"), or
// nil when the switch has none (Config.Stores): the db and hash
// applications reach it this way.
func (s *Session) DataStore(name string) apps.DataStore {
	if s.m.cfg.Stores == nil {
		return nil
	}
	return s.m.cfg.Stores.DataStore(name)
}

// ChannelInfo is what `show channels` prints of a leg: FreeSWITCH's
// channels table, from the session's current state.
type ChannelInfo struct {
	UUID      string
	Direction string // "inbound"
	Created   time.Time
	Name      string
	State     State
	CallState string
	// CIDName, CIDNum, IPAddr, Dest, Dialplan and Context are the current
	// caller profile's (after transfers); the Initial* fields are those
	// the leg was created with.
	CIDName, CIDNum, IPAddr, Dest, Dialplan, Context string
	CalleeName, CalleeNum                            string
	// Application and ApplicationData are the running (or last)
	// application.
	Application, ApplicationData string
	// ReadCodec and WriteCodec are the negotiated codec's name, with its
	// rate and bit rate ("" and 0 before media).
	ReadCodec, WriteCodec     string
	ReadRate, WriteRate       int
	ReadBitRate, WriteBitRate int
	PresenceID, PresenceData  string
	Accountcode               string
	CallUUID                  string
	InitialCIDName            string
	InitialCIDNum             string
	InitialIPAddr             string
	InitialDest               string
	InitialDialplan           string
	InitialContext            string
}

// Info returns the leg's ChannelInfo. Safe from any goroutine.
func (s *Session) Info() ChannelInfo {
	s.mu.Lock()
	p := s.profile
	app, data := s.lastApp, s.lastData
	s.mu.Unlock()
	s.ctl.mu.Lock()
	ini := s.ctl.initial
	s.ctl.mu.Unlock()
	if ini == nil {
		ini = p
	}
	v := func(name string) string { x, _ := s.vars.Get(name); return x }
	info := ChannelInfo{
		UUID:            s.uuid,
		Direction:       "inbound",
		Created:         s.created,
		Name:            p.ChanName,
		State:           s.State(),
		CallState:       s.CallState(),
		CIDName:         p.CallerIDName,
		CIDNum:          p.CallerIDNumber,
		IPAddr:          p.NetworkAddr,
		Dest:            p.DestinationNumber,
		Dialplan:        p.Dialplan,
		Context:         p.Context,
		CalleeName:      p.CalleeIDName,
		CalleeNum:       p.CalleeIDNumber,
		Application:     app,
		ApplicationData: data,
		PresenceID:      v("presence_id"),
		PresenceData:    v("presence_data"),
		Accountcode:     v("accountcode"),
		CallUUID:        s.uuid,
		InitialCIDName:  ini.CallerIDName,
		InitialCIDNum:   ini.CallerIDNumber,
		InitialIPAddr:   ini.NetworkAddr,
		InitialDest:     ini.DestinationNumber,
		InitialDialplan: ini.Dialplan,
		InitialContext:  ini.Context,
	}
	if d := v("direction"); d != "" {
		info.Direction = d
	}
	// The codec columns: the endpoint's read_codec/read_rate and
	// write_codec/write_rate variables, or else the media's codec.
	info.ReadCodec, info.ReadRate = v("read_codec"), atoi(v("read_rate"))
	info.WriteCodec, info.WriteRate = v("write_codec"), atoi(v("write_rate"))
	if info.ReadCodec == "" && s.MediaReady() && s.ep != nil {
		if c, ok := s.ep.Media().(interface{ Codec() media.Codec }); ok {
			codec := c.Codec()
			info.ReadCodec, info.WriteCodec = codec.Name, codec.Name
			info.ReadRate, info.WriteRate = codec.ClockRate, codec.ClockRate
		}
	}
	info.ReadBitRate, info.WriteBitRate = g711Bits(info.ReadCodec, info.ReadRate), g711Bits(info.WriteCodec, info.WriteRate)
	return info
}

// g711Bits is the bit rate of a G.711 codec at rate (one byte per
// sample), or 0 for another codec.
func g711Bits(codec string, rate int) int {
	if strings.EqualFold(codec, "PCMU") || strings.EqualFold(codec, "PCMA") {
		return rate * 8
	}
	return 0
}

// atoi reads a decimal number, 0 when s is not one.
func atoi(s string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(s))
	return n
}

// Traffic selects the sessions Pause applies to.
type Traffic int

// Traffic kinds, as fsctl pause names them.
const (
	AllTraffic      Traffic = iota // every new session (fsctl pause)
	InboundTraffic                 // new inbound sessions (fsctl pause inbound)
	OutboundTraffic                // new outbound sessions (fsctl pause outbound)
)

// ErrPaused is returned by Admit while new sessions are paused (fsctl
// pause); endpoints answer 503.
var ErrPaused = fmt.Errorf("new sessions are paused: %w", ErrOverloaded)

// statsWindow is how far back the "last 5min" figures of Stats look.
const statsWindow = 300

// second is one second's activity in the manager's statistics.
type second struct {
	unix    int64 // which second; 0 for an unused slot
	created int   // sessions created
	peak    int   // most sessions alive at once
}

// managerControl holds a Manager's runtime controls and statistics. Its
// zero value is ready to use.
type managerControl struct {
	now func() time.Time // nil: time.Now

	mu         sync.Mutex
	paused     [3]bool // by Traffic
	peak       int
	peakSPS    int
	ring       [statsWindow]second
	lastRolled int64 // the last second folded into peakSPS
}

func (c *managerControl) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// slot returns the ring slot of the second sec, reset if it held an older
// second; c.mu must be held. It folds the seconds that ended before sec
// into the all-time peak of sessions per second.
func (c *managerControl) slot(sec int64) *second {
	if c.lastRolled < sec-1 {
		from := max(c.lastRolled+1, sec-statsWindow)
		for t := from; t < sec; t++ {
			if b := &c.ring[t%statsWindow]; b.unix == t && b.created > c.peakSPS {
				c.peakSPS = b.created
			}
		}
		c.lastRolled = sec - 1
	}
	b := &c.ring[sec%statsWindow]
	if b.unix != sec {
		*b = second{unix: sec}
	}
	return b
}

// admitPaused refuses a new inbound session while new sessions are
// paused; Admit calls it.
func (m *Manager) admitPaused() error {
	c := &m.ctl
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.paused[AllTraffic] || c.paused[InboundTraffic] {
		return ErrPaused
	}
	return nil
}

// noteCreated records a new session in the statistics and keeps its
// initial caller profile; NewInbound calls it once the session is in the
// manager.
func (m *Manager) noteCreated(s *Session) {
	s.mu.Lock()
	ini := s.profile.Clone()
	s.mu.Unlock()
	s.ctl.mu.Lock()
	s.ctl.initial = ini
	s.ctl.mu.Unlock()
	n := m.Count()
	c := &m.ctl
	c.mu.Lock()
	b := c.slot(c.clock().Unix())
	b.created++
	b.peak = max(b.peak, n)
	c.peak = max(c.peak, n)
	c.mu.Unlock()
}

// Pause stops (on) or resumes (!on) admitting new sessions of kind t, as
// fsctl pause and resume do. Pausing AllTraffic also makes Ready false.
// Switchboard places no outbound calls yet, so pausing OutboundTraffic is
// only recorded.
func (m *Manager) Pause(t Traffic, on bool) {
	if t < AllTraffic || t > OutboundTraffic {
		return
	}
	m.ctl.mu.Lock()
	m.ctl.paused[t] = on
	m.ctl.mu.Unlock()
}

// Paused reports whether new sessions of kind t are paused (fsctl
// pause_check).
func (m *Manager) Paused(t Traffic) bool {
	if t < AllTraffic || t > OutboundTraffic {
		return false
	}
	m.ctl.mu.Lock()
	defer m.ctl.mu.Unlock()
	return m.ctl.paused[t]
}

// Ready reports whether the core accepts new sessions at all: not shut
// down and not paused (FreeSWITCH's switch_core_ready).
func (m *Manager) Ready() bool { return !m.closed.Load() && !m.Paused(AllTraffic) }

// ResetPeakSPS forgets the all-time peak of sessions per second (fsctl
// sps_peak_reset).
func (m *Manager) ResetPeakSPS() {
	c := &m.ctl
	c.mu.Lock()
	c.slot(c.clock().Unix())
	c.peakSPS = 0
	c.mu.Unlock()
}

// Stats are the call core's figures that `status` prints.
type Stats struct {
	// Created is how many sessions were created since start-up.
	Created uint64
	// Sessions is how many are alive now.
	Sessions int
	// Peak is the most sessions alive at once since start-up; Peak5Min
	// the most within the last five minutes.
	Peak, Peak5Min int
	// LastSPS is how many sessions were created in the last complete
	// second; PeakSPS the most in one second since start-up (or the last
	// ResetPeakSPS), PeakSPS5Min the most within the last five minutes.
	LastSPS, PeakSPS, PeakSPS5Min int
	// MaxSPS and MaxSessions are the limits in force (Limits; 0: none).
	MaxSPS, MaxSessions int
}

// Stats returns the call core's figures. The five-minute figures cover
// the last 300 whole seconds and the current one.
func (m *Manager) Stats() Stats {
	n := m.Count()
	lim := m.Limits()
	st := Stats{
		Created:     m.Created(),
		Sessions:    n,
		MaxSPS:      lim.SessionsPerSecond,
		MaxSessions: lim.MaxSessions,
	}
	c := &m.ctl
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock().Unix()
	c.slot(now)
	st.Peak, st.PeakSPS, st.Peak5Min = c.peak, c.peakSPS, n
	for i := range c.ring {
		b := &c.ring[i]
		if b.unix == 0 || b.unix <= now-statsWindow || b.unix > now {
			continue
		}
		st.Peak5Min = max(st.Peak5Min, b.peak)
		if b.unix < now {
			st.PeakSPS5Min = max(st.PeakSPS5Min, b.created)
		}
		if b.unix == now-1 {
			st.LastSPS = b.created
		}
	}
	return st
}
