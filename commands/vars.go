package commands

import (
	"context"
	"sort"
	"strings"

	"github.com/switchboard-voip/switchboard/vars"
)

func init() {
	Register(Command{Name: "eval", Usage: "[uuid:<uuid> ]<expression>", Description: "eval (noop)", Run: eval})
	Register(Command{Name: "expand", Usage: "[uuid:<uuid> ]<cmd> <args>", Description: "Execute an api with variable expansion", Run: expand})
	Register(Command{Name: "global_getvar", Usage: "<var>", Description: "Get global var", Run: globalGetvar})
	Register(Command{Name: "global_setvar", Usage: globalSetvarUsage, Description: "Set global var", Run: globalSetvar})
}

const globalSetvarUsage = "<var>=<value> [=<value2>]"

// cutUUID splits FreeSWITCH's optional "uuid:<uuid> " prefix off args. ok
// is false when the prefix is there but nothing follows it.
func cutUUID(args string) (uuid, rest string, ok bool) {
	if len(args) < 5 || !strings.EqualFold(args[:5], "uuid:") {
		return "", args, true
	}
	uuid, rest, ok = strings.Cut(args[5:], " ")
	return uuid, rest, ok && rest != ""
}

// eval is `eval [uuid:<uuid> ]<expression>`: the expression with its
// ${...} references expanded, API calls included.
//
// The expansion sees the global variables and, with a uuid: prefix naming
// a live call of the running switch, first the headers of that channel's
// CHANNEL_DATA event, as FreeSWITCH does: ${variable_<name>} for a channel
// variable, ${Caller-Destination-Number}, ${Unique-ID} (names ignore
// case). An unknown uuid leaves the globals only.
func eval(ctx context.Context, env Env, args string) (string, error) {
	id, input, ok := cutUUID(args)
	if !ok || input == "" {
		return "", nil
	}
	return expandIn(ctx, env, id, input), nil
}

// expandIn expands s in the scope eval and expand use: the channel data of
// the call uuid (when it is live) before the globals.
func expandIn(ctx context.Context, env Env, uuid, s string) string {
	if c, ok := coreOf(env); ok {
		if sess := locate(c, uuid); sess != nil {
			e := sess.ChannelEvent("CHANNEL_DATA")
			scope := vars.Chain{vars.LookupFunc(e.Lookup), GlobalLookup(env)}
			return vars.Expand(s, scope, AsAPI(ctx, env))
		}
	}
	return expandGlobal(ctx, env, s)
}

// expand is `expand [uuid:<uuid> ]<cmd> <args>`: runs the API command cmd
// with args ${}-expanded first (cmd itself is not). The output is the
// command's, as FreeSWITCH's output stream holds it: an unknown command
// gives "INVALID COMMAND!\n-ERR Cannot execute command\n". The scope of
// the expansion is eval's.
func expand(ctx context.Context, env Env, args string) (string, error) {
	const noInput = "-ERR No input\n"
	if args == "" {
		return noInput, nil
	}
	id, input, ok := cutUUID(args)
	if !ok {
		return noInput, nil
	}
	cmd, arg, _ := strings.Cut(input, " ")
	out, ok := ExecuteStream(ctx, env, cmd, expandIn(ctx, env, id, arg))
	if !ok {
		out += "-ERR Cannot execute command\n"
	}
	return out, nil
}

// globalGetvar is `global_getvar [<var>]`: the value of a global variable
// ("" when unset), or without a name every global variable as
// "name=value" lines. The configuration's variables come first, sorted by
// name, then those set at run time in the order they were set (a runtime
// value replaces the configuration's line).
func globalGetvar(_ context.Context, env Env, args string) (string, error) {
	if args != "" {
		v, _ := GlobalVar(env, args)
		return v, nil
	}
	rt := env.Globals()
	var b strings.Builder
	if snap := env.Snapshot(); snap != nil {
		m := snap.Globals()
		names := make([]string, 0, len(m))
		for n := range m {
			if _, shadowed := rt.Get(n); !shadowed {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		for _, n := range names {
			b.WriteString(n + "=" + m[n] + "\n")
		}
	}
	rt.Range(func(name, value string) bool {
		b.WriteString(name + "=" + value + "\n")
		return true
	})
	return b.String(), nil
}

// globalSetvar is `global_setvar <var>=[<value>][=<value2>]`. It answers
// "+OK" (no newline) whenever a name is given:
//
//   - <var>=<value> sets the runtime global; an empty value removes it.
//   - With =<value2> the change happens only if the variable's current
//     value is exactly <value2> (an unset variable never matches).
//
// As in FreeSWITCH, the arguments are split at the first two '='s with
// switch_separate_string's rules (quotes and escapes), and every "${" of
// the stored value becomes "%{", so a global can never smuggle in a
// runtime variable reference.
func globalSetvar(_ context.Context, env Env, args string) (string, error) {
	argv := vars.Separate(args, '=', 3)
	if len(argv) == 0 || argv[0] == "" {
		return "-USAGE: " + globalSetvarUsage + "\n", nil
	}
	name := argv[0]
	value, want := "", ""
	if len(argv) > 1 {
		value = argv[1]
	}
	if len(argv) > 2 {
		want = argv[2]
	}
	if want != "" {
		if cur, ok := GlobalVar(env, name); !ok || cur != want {
			return "+OK", nil
		}
	}
	env.Globals().Set(name, vars.Defuse(value))
	return "+OK", nil
}
