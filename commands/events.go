package commands

import "github.com/switchboard-voip/switchboard/events"

// EventSource is the optional interface of an Env with an event bus: the
// running switch's. The event socket subscribes to it, and commands that
// fire events (fsctl, the scheduler's tasks) use it when it is there.
type EventSource interface {
	// Events returns the switch's event bus.
	Events() *events.Bus
}

// busOf returns env's event bus, or nil.
func busOf(env Env) *events.Bus {
	if es, ok := env.(EventSource); ok {
		return es.Events()
	}
	return nil
}
