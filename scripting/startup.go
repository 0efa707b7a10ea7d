package scripting

import (
	"fmt"
	"sort"
	"strings"

	"github.com/switchboard-voip/switchboard/commands"
)

// StartupScripter is implemented by an Engine whose configuration names
// scripts to run when the switch starts (lua.conf's startup-script).
type StartupScripter interface {
	// StartupScripts returns the command lines ("file args") to run, in
	// the order the configuration env holds gives them.
	StartupScripts(env commands.Env) []string
}

// Startup starts the start-up scripts of every registered engine that
// has some (StartupScripter), each on a goroutine of its own as the
// engine's background command (luarun) starts one: with `argv` and no
// session, its errors logged. The switch calls it once, when it is up;
// reloadxml does not run the scripts again, as FreeSWITCH reads them only
// when mod_lua loads. A long-lived script should loop while
// freeswitch.running() holds. Startup returns how many scripts it
// started.
func Startup(env commands.Env) int {
	std.mu.RLock()
	langs := make([]string, 0, len(std.m))
	for k := range std.m {
		langs = append(langs, k)
	}
	std.mu.RUnlock()
	sort.Strings(langs)
	n := 0
	for _, lang := range langs {
		std.mu.RLock()
		en := std.m[lang]
		std.mu.RUnlock()
		ss, ok := en.engine.(StartupScripter)
		if !ok {
			continue
		}
		for _, line := range ss.StartupScripts(env) {
			if strings.TrimSpace(line) == "" {
				continue
			}
			log := envLogger(env)
			log.Info(fmt.Sprintf("%s: running start-up script %s", en.engine.Language(), line))
			if err := en.runner.startBackground(env, line); err != nil {
				log.Error(fmt.Sprintf("%s: start-up script %s: %v", en.engine.Language(), line, err))
				continue
			}
			n++
		}
	}
	return n
}

// startBackground starts the script line on its own goroutine with argv only,
// counted in Background while it runs; it fails only when the line does
// not parse.
func (r *runner) startBackground(env commands.Env, line string) error {
	inv := &Invocation{Env: env, Logger: envLogger(env)}
	if err := r.prepare(inv, line, nil); err != nil {
		return err
	}
	r.background.Add(1)
	go func() {
		defer r.background.Add(-1)
		if err := r.run(nil, inv); err != nil {
			inv.Logger.Error(err.Error())
		}
	}()
	return nil
}
