package loopback

import (
	"context"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/conf/conftest"
	"github.com/switchboard-voip/switchboard/media"
	"github.com/switchboard-voip/switchboard/media/dsp"
	"github.com/switchboard-voip/switchboard/session"
)

var quiet = slog.New(slog.DiscardHandler)

// wait bounds every wait of these tests; it is a guard against a hang,
// not a measure of speed.
const wait = 10 * time.Second

// testDialplan is the configuration the B-legs route in.
const testDialplan = `<include>
  <context name="default">
    <extension name="tone">
      <condition field="destination_number" expression="^100$">
        <action application="ring_ready"/>
        <action application="answer"/>
        <action application="playback" data="{loops=-1}tone_stream://%(1000,0,1000)"/>
      </condition>
    </extension>
    <extension name="progress">
      <condition field="destination_number" expression="^180$">
        <action application="ring_ready"/>
        <action application="pre_answer"/>
        <action application="ring_ready"/>
        <action application="answer"/>
        <action application="park"/>
      </condition>
    </extension>
    <extension name="early-then-ring">
      <condition field="destination_number" expression="^183$">
        <action application="pre_answer"/>
        <action application="ring_ready"/>
        <action application="answer"/>
        <action application="park"/>
      </condition>
    </extension>
    <extension name="answer-hangup">
      <condition field="destination_number" expression="^210$">
        <action application="answer"/>
        <action application="hangup" data="CALL_REJECTED"/>
      </condition>
    </extension>
    <extension name="park">
      <condition field="destination_number" expression="^300$">
        <action application="answer"/>
        <action application="park"/>
      </condition>
    </extension>
    <extension name="respond-busy">
      <condition field="destination_number" expression="^486$">
        <action application="respond" data="486 Busy Here"/>
      </condition>
    </extension>
    <extension name="hangup-busy">
      <condition field="destination_number" expression="^487$">
        <action application="ring_ready"/>
        <action application="hangup" data="USER_BUSY"/>
      </condition>
    </extension>
    <extension name="where">
      <condition field="destination_number" expression="^500$">
        <action application="set" data="where=WHERE"/>
        <action application="answer"/>
        <action application="park"/>
      </condition>
    </extension>
    <extension name="loop">
      <condition field="destination_number" expression="^loop$">
        <action application="bridge" data="loopback/loop"/>
      </condition>
    </extension>
  </context>
  <context name="other">
    <extension name="other">
      <condition field="destination_number" expression="^200$">
        <action application="set" data="routed_in=${context}"/>
        <action application="answer"/>
        <action application="park"/>
      </condition>
    </extension>
  </context>
  <context name="callers">
    <extension name="no-pre-answer">
      <condition field="destination_number" expression="^np(\d+)$">
        <action application="set" data="loopback_no_pre_answer=true"/>
        <action application="bridge" data="loopback/$1"/>
      </condition>
    </extension>
    <extension name="bridge">
      <condition field="destination_number" expression="^(\d+)$">
        <action application="set" data="export_vars=exported_one"/>
        <action application="set" data="exported_one=from-caller"/>
        <action application="bridge" data="loopback/$1"/>
      </condition>
    </extension>
  </context>
</include>
`

// loadConf loads a configuration whose dialplan is dp.
func loadConf(t *testing.T, dp string) *conf.Snapshot {
	t.Helper()
	dir := conftest.WriteTree(t, map[string]string{
		"freeswitch.xml": `<document type="freeswitch/xml">
  <section name="dialplan">
    <X-PRE-PROCESS cmd="include" data="dialplan/*.xml"/>
  </section>
</document>
`,
		"dialplan/test.xml": dp,
	})
	snap, err := conf.Load(conf.Options{Dir: dir, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// env is a switch core with the loopback endpoint: a manager routing in
// a swappable configuration, a media engine on every interface (as the
// switch runs by default), and the Dialer behind a recorder.
type env struct {
	m    *session.Manager
	eng  *media.Engine
	d    *Dialer
	rec  *recorder
	snap atomic.Pointer[conf.Snapshot]
}

func newEnv(t *testing.T, dp string) *env {
	t.Helper()
	eng, err := media.NewEngine(media.Config{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{eng: eng}
	e.snap.Store(loadConf(t, dp))
	e.m = session.NewManager(session.Config{Snapshot: e.snap.Load, Logger: quiet})
	e.d = New(Config{Manager: e.m, Media: eng, Logger: quiet})
	e.rec = &recorder{d: e.d, calls: make(map[string]*teeCall)}
	e.m.SetDialer("loopback", e.rec)
	baseline := runtime.NumGoroutine()
	t.Cleanup(func() {
		defer eng.Close()
		// Whatever a test left up ends now; then nothing may remain:
		// no session, no pair, no stream, no port, no goroutine.
		e.m.HangupAll(cause.CNormalClearing)
		eventually(t, "every session to end", func() bool { return e.m.Count() == 0 })
		eventually(t, "every loopback pair to be released", func() bool { return e.d.Calls() == 0 })
		eventually(t, "every stream to be closed", func() bool {
			st := eng.Stats()
			return st.Streams == 0 && st.PortsInUse == 0
		})
		eventually(t, "the goroutines to end", func() bool { return runtime.NumGoroutine() <= baseline })
	})
	return e
}

// originate runs an originate of dial without a caller.
func (e *env) originate(t *testing.T, dial string, o session.OriginateOptions) session.OriginateResult {
	t.Helper()
	if o.Timeout == 0 {
		o.Timeout = wait
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*wait)
	defer cancel()
	return e.m.Originate(ctx, dial, o)
}

// bLegOf returns the live B-leg of the A-leg a.
func (e *env) bLegOf(t *testing.T, a *session.Session) *session.Session {
	t.Helper()
	id, _ := a.Vars().Get("other_loopback_leg_uuid")
	b := e.m.Get(id)
	if b == nil {
		t.Fatalf("no B-leg %q for %s", id, a.UUID())
	}
	return b
}

// recorder wraps the Dialer to keep each A-leg and the progress it
// reported.
type recorder struct {
	d     *Dialer
	mu    sync.Mutex
	calls map[string]*teeCall // by A-leg UUID
}

func (r *recorder) Dial(ctx context.Context, req session.DialRequest) (session.OutboundCall, error) {
	c, err := r.d.Dial(ctx, req)
	if err != nil {
		return nil, err
	}
	tc := &teeCall{OutboundCall: c, a: c.(*aLeg), out: make(chan session.Progress, 3)}
	go tc.run()
	r.mu.Lock()
	r.calls[req.UUID] = tc
	r.mu.Unlock()
	return tc, nil
}

func (r *recorder) call(t *testing.T, uuid string) *teeCall {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.calls[uuid]
	if c == nil {
		t.Fatalf("no loopback call %s", uuid)
	}
	return c
}

// teeCall passes an A-leg's progress on and remembers it.
type teeCall struct {
	session.OutboundCall
	a   *aLeg
	out chan session.Progress

	mu    sync.Mutex
	steps []session.Progress
	ended chan struct{}
}

func (c *teeCall) run() {
	for p := range c.OutboundCall.Progress() {
		c.mu.Lock()
		c.steps = append(c.steps, p)
		c.mu.Unlock()
		c.out <- p
	}
	close(c.out)
}

func (c *teeCall) Progress() <-chan session.Progress { return c.out }

// kinds lists the progress reported so far.
func (c *teeCall) kinds() []session.ProgressKind {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []session.ProgressKind
	for _, p := range c.steps {
		out = append(out, p.Kind)
	}
	return out
}

func (c *teeCall) last() session.Progress {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.steps) == 0 {
		return session.Progress{}
	}
	return c.steps[len(c.steps)-1]
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitDone waits until s has been destroyed.
func waitDone(t *testing.T, s *session.Session) {
	t.Helper()
	select {
	case <-s.Done():
	case <-time.After(wait):
		t.Fatalf("%s did not end", s.Profile().ChanName)
	}
}

// hearTone reads about a quarter second of tap and checks that freq is
// what sounds in it.
func hearTone(t *testing.T, tap *media.Tap, freq float64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var got []int16
	buf := make([]int16, 800)
	for len(got) < 2400 {
		n, err := tap.Read(ctx, buf)
		if err != nil {
			t.Fatalf("reading the received audio: %v (after %d samples)", err, len(got))
		}
		got = append(got, buf[:n]...)
	}
	window := got[len(got)-1600:]
	if share := dsp.Share(window, 8000, freq); share < 0.9 {
		t.Fatalf("received audio is not a %v Hz tone: share %.3f, mean square %.5f", freq, share, dsp.MeanSquare(window))
	}
}

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in      string
		want    target
		wantErr bool
	}{
		{in: "100", want: target{exten: "100", context: "default", dialplan: "XML"}},
		{in: "100/public", want: target{exten: "100", context: "public", dialplan: "XML"}},
		{in: "100/public/XML", want: target{exten: "100", context: "public", dialplan: "XML"}},
		{in: "100//inline", want: target{exten: "100", context: "default", dialplan: "inline"}},
		{in: "app=park", want: target{exten: "park", context: "default", dialplan: "XML", app: "park", isApp: true}},
		{in: "APP=playback:/tmp/a b.wav", want: target{exten: "playback", context: "default", dialplan: "XML", app: "playback", appArg: "/tmp/a b.wav", isApp: true}},
		{in: "app=transfer:100 XML default", want: target{exten: "transfer", context: "default", dialplan: "XML", app: "transfer", appArg: "100 XML default", isApp: true}},
		{in: "", wantErr: true},
		{in: "/default", wantErr: true},
		{in: "app=", wantErr: true},
		{in: "app=:x", wantErr: true},
		{in: "10\r\n0", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseTarget(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseTarget(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && got != tt.want {
			t.Errorf("parseTarget(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

// TestProgress: what the B-leg does is the A-leg's progress and the
// originate's result.
func TestProgress(t *testing.T) {
	R, E, A, F := session.ProgressRinging, session.ProgressEarlyMedia, session.ProgressAnswered, session.ProgressFailed
	tests := []struct {
		name  string
		dial  string
		cause cause.Cause
		kinds []session.ProgressKind // nil: no leg was placed
		code  int                    // the last step's code, when not 0
	}{
		{name: "ring, early media, answer", dial: "loopback/180", cause: cause.CSuccess, kinds: []session.ProgressKind{R, E, A}, code: 200},
		{name: "no ringing after early media", dial: "loopback/183", cause: cause.CSuccess, kinds: []session.ProgressKind{E, A}},
		{name: "respond 486", dial: "loopback/486", cause: cause.CUserBusy, kinds: []session.ProgressKind{F}, code: 486},
		{name: "hangup USER_BUSY", dial: "loopback/487", cause: cause.CUserBusy, kinds: []session.ProgressKind{R, F}},
		{name: "unknown extension", dial: "loopback/999", cause: cause.CNoRouteDestination, kinds: []session.ProgressKind{F}},
		{name: "unknown context", dial: "loopback/300/nowhere", cause: cause.CNoRouteDestination, kinds: []session.ProgressKind{F}},
		{name: "context from the dial string", dial: "loopback/200/other", cause: cause.CSuccess, kinds: []session.ProgressKind{A}},
		{name: "context and dialplan", dial: "loopback/200/other/XML", cause: cause.CSuccess, kinds: []session.ProgressKind{A}},
		{name: "extension not in the context", dial: "loopback/300/other", cause: cause.CNoRouteDestination, kinds: []session.ProgressKind{F}},
		{name: "app hangup", dial: "loopback/app=hangup:CALL_REJECTED", cause: cause.CCallRejected, kinds: []session.ProgressKind{E, F}},
		{name: "app respond", dial: "loopback/app=respond:486", cause: cause.CUserBusy, kinds: []session.ProgressKind{E, F}, code: 486},
		{name: "app answer", dial: "loopback/app=answer", cause: cause.CSuccess, kinds: []session.ProgressKind{E, A}},
		{name: "unknown app", dial: "loopback/app=no_such_app", cause: cause.CDestinationOutOfOrder, kinds: []session.ProgressKind{E, F}},
		{name: "no extension", dial: "loopback/", cause: cause.CInvalidNumberFormat},
		{name: "no hops left", dial: "{max_forwards=1}loopback/300", cause: cause.CExchangeRoutingError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, testDialplan)
			res := e.originate(t, tt.dial, session.OriginateOptions{})
			if res.Cause != tt.cause {
				t.Fatalf("originate %s: cause %s, want %s", tt.dial, res.Cause, tt.cause)
			}
			if len(res.Legs) != 1 {
				t.Fatalf("placed %d legs, want 1", len(res.Legs))
			}
			if tt.kinds == nil {
				if res.Legs[0].UUID != "" {
					t.Fatalf("a leg was placed: %+v", res.Legs[0])
				}
				return
			}
			c := e.rec.call(t, res.Legs[0].UUID)
			if got := c.kinds(); !equalKinds(got, tt.kinds) {
				t.Errorf("progress %v, want %v", got, tt.kinds)
			}
			if last := c.last(); tt.code != 0 && last.Code != tt.code {
				t.Errorf("last step %+v, want code %d", last, tt.code)
			}
			if res.Leg == nil {
				return
			}
			// B may be over already (app=answer ends after answering).
			bID, _ := res.Leg.Vars().Get("other_loopback_leg_uuid")
			res.Leg.Hangup(cause.CNormalClearing)
			waitDone(t, res.Leg)
			eventually(t, "the B-leg to end", func() bool { return e.m.Get(bID) == nil })
		})
	}
}

func equalKinds(a, b []session.ProgressKind) bool {
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

// TestToneReachesTheOriginator: the B-leg answers and plays a tone; the
// A-leg the originate returns is answered and its stream hears the tone.
func TestToneReachesTheOriginator(t *testing.T) {
	e := newEnv(t, testDialplan)
	res := e.originate(t, "loopback/100", session.OriginateOptions{})
	if res.Leg == nil {
		t.Fatalf("originate failed: %s", res.Cause)
	}
	a := res.Leg
	if !a.Answered() {
		t.Fatal("the A-leg is not answered")
	}
	if got := a.Profile().ChanName; got != "loopback/100-a" {
		t.Errorf("A-leg name %q", got)
	}
	b := e.bLegOf(t, a)
	if got := b.Profile().ChanName; got != "loopback/100-b" {
		t.Errorf("B-leg name %q", got)
	}
	tap := e.rec.call(t, a.UUID()).a.p.aStream.Tap(time.Second)
	defer tap.Close()
	hearTone(t, tap, 1000)

	a.Hangup(cause.CNormalClearing)
	waitDone(t, a)
	waitDone(t, b)
	if got := b.HangupCause(); got != cause.CNormalClearing {
		t.Errorf("B-leg ended with %s", got)
	}
}

// TestHangupPropagates: after the answer, either leg's hangup ends the
// other with the same cause.
func TestHangupPropagates(t *testing.T) {
	t.Run("B to A", func(t *testing.T) {
		e := newEnv(t, testDialplan)
		res := e.originate(t, "loopback/210", session.OriginateOptions{})
		if res.Leg == nil {
			t.Fatalf("originate failed: %s", res.Cause)
		}
		waitDone(t, res.Leg)
		if got := res.Leg.HangupCause(); got != cause.CCallRejected {
			t.Errorf("A-leg ended with %s, want CALL_REJECTED", got)
		}
	})
	t.Run("A to B", func(t *testing.T) {
		e := newEnv(t, testDialplan)
		res := e.originate(t, "loopback/300", session.OriginateOptions{})
		if res.Leg == nil {
			t.Fatalf("originate failed: %s", res.Cause)
		}
		b := e.bLegOf(t, res.Leg)
		res.Leg.Hangup(cause.CManagerRequest)
		waitDone(t, b)
		if got := b.HangupCause(); got != cause.CManagerRequest {
			t.Errorf("B-leg ended with %s, want MANAGER_REQUEST", got)
		}
	})
	t.Run("originate cancelled", func(t *testing.T) {
		e := newEnv(t, testDialplan)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan session.OriginateResult, 1)
		// 487 rings and parks instead of hanging up: a B-leg that rings
		// until the originate gives up.
		e.snap.Store(loadConf(t, strings.Replace(testDialplan, `<action application="hangup" data="USER_BUSY"/>`, `<action application="park"/>`, 1)))
		go func() { done <- e.m.Originate(ctx, "loopback/487", session.OriginateOptions{Timeout: wait}) }()
		var b *session.Session
		eventually(t, "the B-leg to ring", func() bool {
			for _, s := range e.m.List() {
				if s.Profile().ChanName == "loopback/487-b" && s.State() == session.CSPark {
					b = s
					return true
				}
			}
			return false
		})
		cancel()
		res := <-done
		if res.Cause != cause.COriginatorCancel {
			t.Errorf("originate ended with %s", res.Cause)
		}
		waitDone(t, b)
		if got := b.HangupCause(); got != cause.COriginatorCancel {
			t.Errorf("B-leg ended with %s, want ORIGINATOR_CANCEL", got)
		}
	})
}

// TestVariables: B gets what the originate gave A, its own loopback
// variables and A's caller id.
func TestVariables(t *testing.T) {
	e := newEnv(t, testDialplan)
	dial := "{foo=bar,origination_caller_id_name=Alice,origination_caller_id_number=5551234,loopback_export=originate_start_epoch}[baz=qux]loopback/300"
	res := e.originate(t, dial, session.OriginateOptions{Vars: [][2]string{{"o1", "v1"}}})
	if res.Leg == nil {
		t.Fatalf("originate failed: %s", res.Cause)
	}
	a := res.Leg
	b := e.bLegOf(t, a)
	av, bv := a.Vars(), b.Vars()
	want := map[string]string{
		"foo": "bar", "baz": "qux", "o1": "v1",
		"origination_caller_id_name": "Alice", "origination_caller_id_number": "5551234",
		"is_loopback": "1", "loopback_leg": "B", "other_loopback_leg_uuid": a.UUID(),
		"max_forwards": "69", "read_codec": "PCMU", "direction": "inbound",
		"channel_name": "loopback/300-b",
	}
	if v, ok := av.Get("originate_start_epoch"); ok {
		want["originate_start_epoch"] = v
	} else {
		t.Error("the A-leg has no originate_start_epoch")
	}
	for name, w := range want {
		if got, _ := bv.Get(name); got != w {
			t.Errorf("B-leg %s = %q, want %q", name, got, w)
		}
	}
	for name, w := range map[string]string{"is_loopback": "1", "loopback_leg": "A", "other_loopback_leg_uuid": b.UUID(), "direction": "outbound"} {
		if got, _ := av.Get(name); got != w {
			t.Errorf("A-leg %s = %q, want %q", name, got, w)
		}
	}
	p := b.Profile()
	if p.CallerIDName != "Alice" || p.CallerIDNumber != "5551234" || p.DestinationNumber != "300" || p.Context != "default" || p.Source != "mod_loopback" || p.NetworkAddr != "" {
		t.Errorf("B-leg profile %+v", p)
	}
	a.Hangup(cause.CNormalClearing)
	waitDone(t, b)
}

// TestAppForm: loopback/app=<app>:<args> runs the application on B.
func TestAppForm(t *testing.T) {
	e := newEnv(t, testDialplan)
	res := e.originate(t, "loopback/app=transfer:100 XML default", session.OriginateOptions{})
	if res.Leg == nil {
		t.Fatalf("originate failed: %s", res.Cause)
	}
	a := res.Leg
	b := e.bLegOf(t, a)
	if got := a.Profile().ChanName; got != "loopback/transfer-a" {
		t.Errorf("A-leg name %q", got)
	}
	for _, s := range []*session.Session{a, b} {
		app, _ := s.Vars().Get("loopback_app")
		arg, _ := s.Vars().Get("loopback_app_arg")
		if app != "transfer" || arg != "100 XML default" {
			t.Errorf("%s: loopback_app %q, loopback_app_arg %q", s.Profile().ChanName, app, arg)
		}
	}
	tap := e.rec.call(t, a.UUID()).a.p.aStream.Tap(time.Second)
	defer tap.Close()
	hearTone(t, tap, 1000)
	a.Hangup(cause.CNormalClearing)
	waitDone(t, b)
}

// TestReloadxml: B routes with the configuration in force when it is
// placed.
func TestReloadxml(t *testing.T) {
	e := newEnv(t, strings.ReplaceAll(testDialplan, "WHERE", "old"))
	first := e.originate(t, "loopback/500", session.OriginateOptions{})
	e.snap.Store(loadConf(t, strings.ReplaceAll(testDialplan, "WHERE", "new")))
	second := e.originate(t, "loopback/500", session.OriginateOptions{})
	for i, r := range []struct {
		res  session.OriginateResult
		want string
	}{{first, "old"}, {second, "new"}} {
		if r.res.Leg == nil {
			t.Fatalf("originate %d failed: %s", i, r.res.Cause)
		}
		b := e.bLegOf(t, r.res.Leg)
		if got, _ := b.Vars().Get("where"); got != r.want {
			t.Errorf("originate %d: where = %q, want %q", i, got, r.want)
		}
		r.res.Leg.Hangup(cause.CNormalClearing)
		waitDone(t, b)
	}
}

// TestLoopEnds: an extension that dials itself through loopback/ ends
// when max_forwards runs out, and the cause comes back up the chain.
func TestLoopEnds(t *testing.T) {
	e := newEnv(t, testDialplan)
	res := e.originate(t, "{max_forwards=4}loopback/loop", session.OriginateOptions{})
	if res.Cause != cause.CExchangeRoutingError {
		t.Fatalf("originate ended with %s, want EXCHANGE_ROUTING_ERROR", res.Cause)
	}
	e.rec.mu.Lock()
	n := len(e.rec.calls)
	e.rec.mu.Unlock()
	if n != 3 {
		t.Errorf("%d loopback pairs were placed, want 3", n)
	}
}

// callerEndpoint is the signalling of a caller: a stream to a phone,
// and what the switch did to it.
type callerEndpoint struct {
	stream *media.Stream
	mu     sync.Mutex
	events []string
}

func (c *callerEndpoint) note(ev string) {
	c.mu.Lock()
	c.events = append(c.events, ev)
	c.mu.Unlock()
}

func (c *callerEndpoint) seen() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.events...)
}

func (c *callerEndpoint) Name() string { return "test/caller" }
func (c *callerEndpoint) Answer(context.Context) error {
	c.note("answer")
	return nil
}
func (c *callerEndpoint) PreAnswer(context.Context) error {
	c.note("pre_answer")
	return nil
}
func (c *callerEndpoint) RingReady(context.Context, bool) error {
	c.note("ring")
	return nil
}
func (c *callerEndpoint) Respond(context.Context, int, string) error { return nil }
func (c *callerEndpoint) Redirect(context.Context, string) error     { return nil }
func (c *callerEndpoint) Media() session.Media                       { return c.stream }
func (c *callerEndpoint) Hangup(hc cause.Cause) {
	c.note("hangup " + hc.String())
	_ = c.stream.Close()
}

// phoneCall starts a caller whose stream talks to a phone stream, in the
// "callers" context, dialing dest.
func (e *env) phoneCall(t *testing.T, dest string) (*session.Session, *callerEndpoint, *media.Stream) {
	t.Helper()
	phone, err := e.eng.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = phone.Close() })
	cs, err := e.eng.Open()
	if err != nil {
		t.Fatal(err)
	}
	if err := phone.SetRemote(media.RemoteParams{Addr: sendAddr(cs), Codec: media.PCMA, DTMFPayloadType: 101}); err != nil {
		t.Fatal(err)
	}
	if err := cs.SetRemote(media.RemoteParams{Addr: sendAddr(phone), Codec: media.PCMA, DTMFPayloadType: 101}); err != nil {
		t.Fatal(err)
	}
	phone.Start()
	cs.Start()
	ep := &callerEndpoint{stream: cs}
	s := e.m.NewInbound(session.Inbound{
		Endpoint: ep,
		Profile:  &caller.Profile{DestinationNumber: dest, Context: "callers", CallerIDName: "Bob", CallerIDNumber: "1001"},
		Vars:     [][2]string{{"read_codec", "PCMA"}},
	})
	s.Start()
	return s, ep, phone
}

// TestBridgeThroughLoopback: a caller bridged to loopback/<exten> hears
// what B plays, and B gets the caller's DTMF; the caller is pre-answered
// by the dial, and its hangup ends both legs.
func TestBridgeThroughLoopback(t *testing.T) {
	e := newEnv(t, testDialplan)

	t.Run("tone", func(t *testing.T) {
		s, ep, phone := e.phoneCall(t, "100")
		tap := phone.Tap(time.Second)
		defer tap.Close()
		hearTone(t, tap, 1000)
		a := s.Partner()
		if a == nil {
			t.Fatal("the caller is not bridged")
		}
		b := e.bLegOf(t, a)
		if got := a.Profile().ChanName; got != "loopback/100-a" {
			t.Errorf("bridged to %q", got)
		}
		if got, _ := a.Vars().Get("read_codec"); got != "PCMA" {
			t.Errorf("A-leg codec %q, want the caller's PCMA", got)
		}
		if got := ep.seen(); len(got) != 2 || got[0] != "pre_answer" || got[1] != "answer" {
			t.Errorf("caller signalling %v, want [pre_answer answer]", got)
		}
		bv := b.Vars()
		for name, want := range map[string]string{
			"other_loopback_from_uuid": s.UUID(),
			"exported_one":             "from-caller",
			"originator":               "",
			"originating_leg_uuid":     "",
			"max_forwards":             "69",
		} {
			if got, _ := bv.Get(name); got != want {
				t.Errorf("B-leg %s = %q, want %q", name, got, want)
			}
		}
		if got, _ := a.Vars().Get("loopback_from_uuid"); got != s.UUID() {
			t.Errorf("A-leg loopback_from_uuid %q", got)
		}
		if p := b.Profile(); p.CallerIDNumber != "1001" || p.CallerIDName != "Bob" {
			t.Errorf("B-leg caller id %q <%s>", p.CallerIDName, p.CallerIDNumber)
		}
		s.Hangup(cause.CNormalClearing)
		waitDone(t, s)
		waitDone(t, a)
		waitDone(t, b)
	})

	t.Run("dtmf", func(t *testing.T) {
		s, _, phone := e.phoneCall(t, "300")
		var a *session.Session
		eventually(t, "the bridge", func() bool { a = s.Partner(); return a != nil })
		b := e.bLegOf(t, a)
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := phone.SendDTMF(ctx, "5", 100*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		d, ok := b.DTMF().Wait(ctx, wait)
		if !ok || d != '5' {
			t.Fatalf("B-leg got digit %q (%v), want '5'", d, ok)
		}
		b.Hangup(cause.CUserBusy)
		waitDone(t, a)
		if got := a.HangupCause(); got != cause.CUserBusy {
			t.Errorf("A-leg ended with %s, want B's USER_BUSY", got)
		}
		// The caller's action list goes on after the bridge (and ends).
		waitDone(t, s)
		if got, _ := s.Vars().Get("last_bridge_hangup_cause"); got != "USER_BUSY" {
			t.Errorf("caller's last_bridge_hangup_cause %q, want USER_BUSY", got)
		}
	})

	t.Run("no pre-answer", func(t *testing.T) {
		s, ep, phone := e.phoneCall(t, "np100")
		tap := phone.Tap(time.Second)
		defer tap.Close()
		hearTone(t, tap, 1000)
		if got := ep.seen(); len(got) != 2 || got[0] != "ring" || got[1] != "answer" {
			t.Errorf("caller signalling %v, want [ring answer]", got)
		}
		s.Hangup(cause.CNormalClearing)
		waitDone(t, s)
	})
}
