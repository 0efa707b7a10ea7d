package main

import (
	"log/slog"

	// The Lua engine: the lua application and the lua and luarun
	// commands (package scripting/lua registers them).
	_ "github.com/switchboard-voip/switchboard/scripting/lua"
)

// Logger returns the switch's logger: script engines log the API
// commands' scripts (lua, luarun) with it.
func (sw *theSwitch) Logger() *slog.Logger { return sw.log }
