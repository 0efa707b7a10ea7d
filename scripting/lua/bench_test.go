package lua

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/scripting"
)

// The cost of a script per call: a fresh state with the standard
// libraries, the freeswitch module and the session object, and a chunk
// from the cache (docs/PERFORMANCE.md).

const trivialScript = `local n = session:getVariable("caller_id_number")
session:setVariable("seen", n)
`

// benchCall is a parked call for benchmarks to run scripts against.
func benchCall(b *testing.B) (*testEnv, *call) {
	e := newEnv(b, nil)
	e.write("trivial.lua", trivialScript)
	c := e.dial("target", "")
	c.waitVar("transferred", "yes")
	return e, c
}

// BenchmarkTrivialScript runs the script on the calling goroutine: state
// creation, libraries, module, session binding, cached chunk, run, close.
func BenchmarkTrivialScript(b *testing.B) {
	e, c := benchCall(b)
	eng, _ := lookupEngine()
	log := slog.New(slog.DiscardHandler)
	path := filepath.Join(e.dir, "trivial.lua")
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		inv := &scripting.Invocation{Script: scripting.Script{File: "trivial.lua"}, Path: path,
			Session: scripting.NewSession(c.Session, e, log), Env: e, Logger: log}
		if err := eng.Run(ctx, inv); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLuaApp runs the script as the dialplan does: the lua
// application, with its goroutine, path resolution and watchdog.
func BenchmarkLuaApp(b *testing.B) {
	_, c := benchCall(b)
	a, _ := apps.Lookup("lua")
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := a.Run(ctx, c.Session, "trivial.lua"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExecute compares session:execute("set", ...) from Lua with
// the same application run by the call core directly: the difference is
// the binding's overhead per call.
func BenchmarkExecute(b *testing.B) {
	e, c := benchCall(b)
	e.write("exec.lua", `for i = 1, 1000 do session:execute("set", "x=1") end`)
	eng, _ := lookupEngine()
	log := slog.New(slog.DiscardHandler)
	path := filepath.Join(e.dir, "exec.lua")
	ctx := context.Background()
	b.Run("lua", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			inv := &scripting.Invocation{Script: scripting.Script{File: "exec.lua"}, Path: path,
				Session: scripting.NewSession(c.Session, e, log), Env: e, Logger: log}
			if err := eng.Run(ctx, inv); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/execute")
	})
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for range 1000 {
				c.ExecuteApp("set", "x=1")
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/execute")
	})
}
