package lua

import (
	"encoding/json"
	"sort"
	"strings"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/switchboard-voip/switchboard/commands"
	"github.com/switchboard-voip/switchboard/events"
)

// freeswitch.Event and freeswitch.EventConsumer, on the switch's event
// bus.

const (
	eventType    = "Event *"
	consumerType = "EventConsumer *"
)

// eventObj is an Event userdata's value. mine says whether the script
// made it (only those can be fired, as in FreeSWITCH).
type eventObj struct {
	e    *events.Event
	mine bool
}

func (*eventObj) swigType() string { return eventType }

func init() {
	types[eventType] = typeInfo{methods: eventMethods, attr: eventAttr}
	types[consumerType] = typeInfo{methods: consumerMethods}
}

// newEvent wraps e.
func (r *runtime) newEvent(e *events.Event, mine bool) *lua.LUserData {
	return r.newObject(eventType, &eventObj{e: e, mine: mine})
}

// eventArg reads argument i as an Event (nil for nil).
func eventArg(L *lua.LState, i int, fn string) *eventObj {
	switch v := L.Get(i).(type) {
	case *lua.LNilType:
		return nil
	case *lua.LUserData:
		if e, ok := v.Value.(*eventObj); ok {
			return e
		}
	}
	badArg(L, fn, i, eventType)
	return nil
}

// eventName is switch_name_event: a known name (any case, with or
// without the SWITCH_EVENT_ prefix); ok false otherwise.
func eventName(s string) (string, bool) {
	n := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "SWITCH_EVENT_")
	if n == "" || !events.Known(n) {
		return "", false
	}
	return n, true
}

// newEventFn is freeswitch.Event(type [, subclass]) and
// freeswitch.Event("json", text).
func newEventFn(r *runtime, L *lua.LState) int {
	const fn = "new_Event"
	nargs(L, fn, 1, 2)
	typ := str(L, 1, fn)
	sub := optStr(L, 2, fn, "")
	if strings.EqualFold(typ, "json") && sub != "" {
		e, err := eventFromJSON(sub)
		if err != nil {
			r.log.Error("freeswitch.Event: " + err.Error())
			L.Push(r.newEvent(nil, true))
			return 1
		}
		L.Push(r.newEvent(e, true))
		return 1
	}
	name, ok := eventName(typ)
	if !ok || name == "ALL" {
		name = "MESSAGE"
	}
	if sub != "" && name != "CUSTOM" {
		r.log.Warn("Changing event type to custom because you specified a subclass name!")
		name = "CUSTOM"
	}
	var e *events.Event
	if name == "CUSTOM" && sub != "" {
		e = events.NewCustom(sub)
	} else {
		e = events.New(name)
	}
	L.Push(r.newEvent(e, true))
	return 1
}

// eventFromJSON builds an event from FreeSWITCH's JSON form: one object,
// each member a header (arrays: repeated headers), _body the body.
func eventFromJSON(text string) (*events.Event, error) {
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	name, _ := m["Event-Name"].(string)
	n, ok := eventName(name)
	if !ok {
		n = "MESSAGE"
	}
	e := events.New(n)
	// Go maps have no order: headers in name order, after Event-Name.
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch v := m[k].(type) {
		case string:
			switch k {
			case "Event-Name":
			case "_body":
				e.Body = v
			default:
				e.Add(k, v)
			}
		case json.Number:
			e.Add(k, v.String())
		case []any:
			for _, x := range v {
				if s, ok := x.(string); ok {
					e.Add(k, s)
				}
			}
		}
	}
	return e, nil
}

func eventAttr(_ *runtime, v any, key string) (lua.LValue, bool) {
	eo := v.(*eventObj)
	switch key {
	case "mine":
		return lua.LNumber(scriptingBool(eo.mine)), true
	case "serialized_string":
		return lua.LNil, true
	}
	return nil, false
}

// em is an event method's receiver; e is nil for an event that could not
// be made, which FreeSWITCH reports as "does not exist".
func em(L *lua.LState, fn string) *eventObj { return self[*eventObj](L, fn, eventType) }

var eventMethods = map[string]method{
	"addHeader": func(r *runtime, L *lua.LState) int {
		const fn = "Event::addHeader"
		nargs(L, fn, 3, 3)
		eo := em(L, fn)
		k, v := str(L, 2, fn), str(L, 3, fn)
		if eo.e == nil {
			r.log.Error("Trying to addHeader an event that does not exist!")
			return pushBool(L, false)
		}
		if k == "" {
			return pushBool(L, false)
		}
		eo.e.Add(k, v)
		return pushBool(L, true)
	},
	"delHeader": func(r *runtime, L *lua.LState) int {
		const fn = "Event::delHeader"
		nargs(L, fn, 2, 2)
		eo := em(L, fn)
		k := str(L, 2, fn)
		if k == "" {
			r.log.Error("Trying to delHeader an invalid header!")
			return pushBool(L, false)
		}
		if eo.e == nil {
			r.log.Error("Trying to delHeader an event that does not exist!")
			return pushBool(L, false)
		}
		eo.e.Del(k)
		return pushBool(L, true)
	},
	"getHeader": func(r *runtime, L *lua.LState) int {
		const fn = "Event::getHeader"
		nargs(L, fn, 2, 2)
		eo := em(L, fn)
		k := str(L, 2, fn)
		if k == "" {
			r.log.Error("Trying to getHeader an invalid header!")
			return pushStr(L, "", false)
		}
		if eo.e == nil {
			r.log.Error("Trying to getHeader an event that does not exist!")
			return pushStr(L, "", false)
		}
		v, ok := eo.e.Lookup(k)
		return pushStr(L, v, ok)
	},
	"addBody": func(r *runtime, L *lua.LState) int {
		const fn = "Event::addBody"
		nargs(L, fn, 2, 2)
		eo := em(L, fn)
		b := str(L, 2, fn)
		if eo.e == nil {
			r.log.Error("Trying to addBody an event that does not exist!")
			return pushBool(L, false)
		}
		eo.e.Body = b
		return pushBool(L, true)
	},
	"getBody": func(r *runtime, L *lua.LState) int {
		const fn = "Event::getBody"
		nargs(L, fn, 1, 1)
		eo := em(L, fn)
		if eo.e == nil {
			r.log.Error("Trying to getBody an event that does not exist!")
			return pushStr(L, "", false)
		}
		return pushStr(L, eo.e.Body, eo.e.Body != "")
	},
	"getType": func(r *runtime, L *lua.LState) int {
		const fn = "Event::getType"
		nargs(L, fn, 1, 1)
		eo := em(L, fn)
		if eo.e == nil {
			r.log.Error("Trying to getType an event that does not exist!")
			return pushStr(L, "invalid", true)
		}
		return pushStr(L, eo.e.Name(), true)
	},
	"serialize": func(r *runtime, L *lua.LState) int {
		const fn = "Event::serialize"
		nargs(L, fn, 1, 2)
		eo := em(L, fn)
		format := optStr(L, 2, fn, "")
		if eo.e == nil {
			return pushStr(L, "", true)
		}
		switch strings.ToLower(format) {
		case "xml":
			return pushStr(L, string(eo.e.XML()), true)
		case "json":
			return pushStr(L, string(eo.e.JSON()), true)
		}
		return pushStr(L, string(eo.e.Plain()), true)
	},
	"fire": func(r *runtime, L *lua.LState) int {
		const fn = "Event::fire"
		nargs(L, fn, 1, 1)
		eo := em(L, fn)
		switch {
		case !eo.mine:
			r.log.Error("Not My event!")
			return pushBool(L, false)
		case eo.e == nil:
			r.log.Error("Trying to fire an event that does not exist!")
			return pushBool(L, false)
		}
		bus := busOf(r.env)
		if bus == nil {
			r.log.Error("Failed to fire the event! (no event bus)")
			return pushBool(L, false)
		}
		bus.Fire(eo.e.Clone())
		return pushBool(L, true)
	},
	"setPriority": func(r *runtime, L *lua.LState) int {
		const fn = "Event::setPriority"
		nargs(L, fn, 1, 2)
		eo := em(L, fn)
		if eo.e == nil {
			r.log.Error("Trying to setPriority an event that does not exist!")
			return pushBool(L, false)
		}
		return pushBool(L, true)
	},
	"merge": func(r *runtime, L *lua.LState) int {
		const fn = "Event::merge"
		nargs(L, fn, 2, 2)
		eo := em(L, fn)
		other := eventArg(L, 2, fn)
		if eo.e == nil {
			r.log.Error("Trying to merge to an event that does not exist!")
			return pushBool(L, false)
		}
		if other == nil || other.e == nil {
			r.log.Error("Trying to merge from an event that does not exist!")
			return pushBool(L, false)
		}
		for _, h := range other.e.Headers() {
			eo.e.Add(h.Name, h.Value)
		}
		return pushBool(L, true)
	},
	"chat_execute": func(r *runtime, L *lua.LState) int {
		const fn = "Event::chat_execute"
		nargs(L, fn, 2, 3)
		em(L, fn)
		r.log.Error("Event:chat_execute: chat applications are not supported")
		return pushInt(L, 1)
	},
	"chat_send": func(r *runtime, L *lua.LState) int {
		const fn = "Event::chat_send"
		nargs(L, fn, 1, 2)
		em(L, fn)
		r.log.Error("Event:chat_send: chat is not supported")
		return pushInt(L, 1)
	},
}

// busOf returns env's event bus, or nil.
func busOf(env commands.Env) *events.Bus {
	if es, ok := env.(commands.EventSource); ok {
		return es.Events()
	}
	return nil
}

// consumer is an EventConsumer: a bus subscription drained into a queue
// of at most max events (further events are dropped, as FreeSWITCH
// drops them), so that a slow script never makes the bus drop it.
type consumer struct {
	r   *runtime
	bus *events.Bus
	max int

	mu     sync.Mutex
	sub    *events.Subscription
	queue  []*events.Event
	notify chan struct{}
	ready  bool
	warned bool
}

func (*consumer) swigType() string { return consumerType }

// newConsumer is freeswitch.EventConsumer([event [, subclass [, len]]]).
func newConsumer(r *runtime, L *lua.LState) int {
	const fn = "new_EventConsumer"
	nargs(L, fn, 0, 3)
	name, sub, n := optStr(L, 1, fn, ""), optStr(L, 2, fn, ""), optInt(L, 3, fn, 5000)
	c := &consumer{r: r, bus: busOf(r.env), max: max(n, 1), notify: make(chan struct{}, 1), ready: true}
	r.atEnd(c.cleanup)
	if name != "" {
		c.bind(name, sub)
	}
	L.Push(r.newObject(consumerType, c))
	return 1
}

// bind subscribes to name (with subclass: CUSTOM events of that
// subclass); false for an unknown name or without a bus.
func (c *consumer) bind(name, sub string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.ready {
		return false
	}
	n, ok := eventName(name)
	if !ok {
		c.r.log.Warn("Can't bind to " + name + ", event not found")
		return false
	}
	if c.bus == nil {
		c.r.log.Error("Cannot bind to " + name + " (no event bus)")
		return false
	}
	if c.sub == nil {
		// The subscription's buffer only smooths bursts between the bus
		// and pump: the queue enforces the consumer's limit, so the bus
		// must not drop a consumer merely because pump ran late.
		c.sub = c.bus.Subscribe(max(c.max, consumerBuffer))
		go c.pump(c.sub)
	}
	if sub != "" {
		c.sub.AddSubclass(sub)
	} else if err := c.sub.Add(n); err != nil {
		c.r.log.Error("Cannot bind to " + name + ": " + err.Error())
		return false
	}
	c.r.log.Debug("bound to " + name + " " + sub)
	return true
}

// consumerBuffer is the least an event consumer's subscription holds.
const consumerBuffer = 1024

// pump moves events from the subscription to the queue.
func (c *consumer) pump(sub *events.Subscription) {
	for e := range sub.C() {
		c.mu.Lock()
		if len(c.queue) >= c.max {
			if !c.warned {
				c.r.log.Error("Cannot queue any more events.....")
				c.warned = true
			}
		} else {
			c.queue = append(c.queue, e)
		}
		c.mu.Unlock()
		select {
		case c.notify <- struct{}{}:
		default:
		}
	}
}

// pop takes the next event; block waits for one, up to timeout when it
// is positive, else until the script's time limit.
func (c *consumer) pop(block bool, timeout time.Duration) *events.Event {
	var deadline <-chan time.Time
	if block && timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	for {
		c.mu.Lock()
		if !c.ready {
			c.mu.Unlock()
			return nil
		}
		if len(c.queue) > 0 {
			e := c.queue[0]
			c.queue[0] = nil
			c.queue = c.queue[1:]
			c.mu.Unlock()
			return e
		}
		c.mu.Unlock()
		if !block {
			return nil
		}
		select {
		case <-c.notify:
		case <-deadline:
			return nil
		case <-c.r.ctx.Done():
			return nil
		}
	}
}

// cleanup unsubscribes and drops the queue.
func (c *consumer) cleanup() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.ready {
		return
	}
	c.ready = false
	if c.sub != nil {
		c.sub.Close()
	}
	c.queue = nil
}

var consumerMethods = map[string]method{
	"bind": func(r *runtime, L *lua.LState) int {
		const fn = "EventConsumer::bind"
		nargs(L, fn, 2, 3)
		c := self[*consumer](L, fn, consumerType)
		if c.bind(str(L, 2, fn), optStr(L, 3, fn, "")) {
			return pushInt(L, 1)
		}
		return pushInt(L, 0)
	},
	"pop": func(r *runtime, L *lua.LState) int {
		const fn = "EventConsumer::pop"
		nargs(L, fn, 1, 3)
		c := self[*consumer](L, fn, consumerType)
		block, timeout := optInt(L, 2, fn, 0), optInt(L, 3, fn, 0)
		e := c.pop(block != 0, time.Duration(max(timeout, 0))*time.Millisecond)
		if e == nil {
			L.Push(lua.LNil)
			return 1
		}
		L.Push(r.newEvent(e.Clone(), true))
		return 1
	},
	"cleanup": func(r *runtime, L *lua.LState) int {
		const fn = "EventConsumer::cleanup"
		nargs(L, fn, 1, 1)
		self[*consumer](L, fn, consumerType).cleanup()
		return 0
	},
}
