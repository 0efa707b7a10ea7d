// Package tts is Switchboard's text-to-speech seam: an Engine interface
// and a registry of engines by name, FreeSWITCH's speech interface
// (mod_flite, mod_tts_commandline, ...). The speak application and the
// speak-text action of phrase macros (package apps) render text with an
// engine into a temporary WAV file and play it.
//
// The first engine, "flite", runs the flite program (Debian's flite
// package) when it is installed.
package tts

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchboard-voip/switchboard/internal/registry"
)

// Engine renders text as speech.
type Engine interface {
	// Synthesize speaks text with voice into a new WAV file at path
	// (PCM at any rate: the media layer converts it). It fails with an
	// error wrapping ErrUnavailable when the engine cannot run on this
	// machine, and ErrUnknownVoice when it has no such voice. It stops
	// when ctx is done. Implementations must be safe for concurrent use.
	Synthesize(ctx context.Context, voice, text, path string) error
}

// ErrUnavailable is wrapped by Synthesize errors when the engine cannot
// run here (a program it needs is not installed).
var ErrUnavailable = errors.New("text-to-speech engine unavailable")

// ErrUnknownVoice is wrapped by Synthesize errors for a voice the engine
// does not have.
var ErrUnknownVoice = errors.New("unknown voice")

// std holds the engines that init() functions register.
var std = registry.New[Engine]("tts engine")

// Register adds engine e under name ("flite"). It is meant to be called
// from init(); it panics when name is empty or taken (ignoring case), or
// when e is nil.
func Register(name string, e Engine) {
	if e == nil {
		panic(fmt.Sprintf("tts: Register(%q) with a nil engine", name))
	}
	std.Add(name, e)
}

// Lookup returns the engine registered as name, ignoring case.
func Lookup(name string) (Engine, bool) { return std.Get(name) }

// Engines returns the names of the registered engines, sorted.
func Engines() []string { return std.Names() }
