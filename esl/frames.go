package esl

import (
	"sync"
	"unsafe"

	"github.com/switchboard-voip/switchboard/events"
)

// frameCache keeps the serialised frames of the events most recently
// written, so that an event going to many connections is serialised once
// per format rather than once per connection. Fired events never change,
// so a frame can be shared. It is direct-mapped: a slot holds the last
// event that hashed to it.
type frameCache struct {
	mu    sync.Mutex
	slots [512]frameSlot
}

type frameSlot struct {
	e      *events.Event
	format int32
	frame  []byte
}

// frame returns the text/event-<format> frame of e, from the cache or
// freshly serialised.
func (fc *frameCache) frame(e *events.Event, format int32) []byte {
	h := uintptr(unsafe.Pointer(e))
	h ^= h >> 17
	i := (h*31 + uintptr(format)) % uintptr(len(fc.slots))
	fc.mu.Lock()
	s := fc.slots[i]
	fc.mu.Unlock()
	if s.e == e && s.format == format {
		return s.frame
	}
	var body []byte
	switch format {
	case formatJSON:
		body = e.JSON()
	case formatXML:
		body = e.XML()
	default:
		body = e.Plain()
	}
	f := eventFrame(formatNames[format], body)
	fc.mu.Lock()
	fc.slots[i] = frameSlot{e: e, format: format, frame: f}
	fc.mu.Unlock()
	return f
}
