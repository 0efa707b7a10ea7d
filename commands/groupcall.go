package commands

import (
	"context"
	"strings"

	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/dialstring"
	"github.com/switchboard-voip/switchboard/vars"
)

// group_call: the dial string that rings every member of a directory
// group, what the group/ endpoint calls.

func init() {
	Register(Command{Name: "group_call", Usage: "<group>[@<domain>]", Description: "Generate a dial string to call a group", Run: groupCall})
}

// groupCall is `group_call <group>[@<domain>][+F|+A|+E]`: each member's
// group-dial-string (else dial-string; the user's params win over the
// group's, the group's over the domain's; "user/<id>@<domain>" without
// either), expanded with dialed_group, dialed_user and dialed_domain, its
// {} variables moved into each leg's [], joined with ',' (+A, the
// default), '|' (+F) or ':_:' (+E). An unknown group gives "".
func groupCall(ctx context.Context, env Env, args string) (string, error) {
	if args == "" {
		return "", nil
	}
	name, flags, _ := strings.Cut(args, "+")
	delim := ","
	for _, f := range flags {
		switch f {
		case 'F':
			delim = "|"
		case 'A':
			delim = ","
		case 'E':
			delim = ":_:"
		}
	}
	name, domain, _ := strings.Cut(name, "@")
	snap := env.Snapshot()
	if snap == nil {
		return "", nil
	}
	if domain == "" {
		domain, _ = snap.Get("domain")
	}
	d := snap.Domain(domain)
	if d == nil {
		return "", nil
	}
	var g *conf.Group
	for i := range d.Groups {
		if strings.EqualFold(d.Groups[i].Name, name) {
			g = &d.Groups[i]
			break
		}
	}
	if g == nil {
		return "", nil
	}
	var out []string
	for _, id := range g.Users {
		u := d.User(id)
		if u == nil {
			continue
		}
		dest := pickDialString(d.Params, u.Params)
		if dest == "" {
			out = append(out, "user/"+id+"@"+domain)
			continue
		}
		scope := vars.Chain{
			vars.LookupFunc(func(n string) (string, bool) {
				switch n {
				case "dialed_group":
					return name, true
				case "dialed_user":
					return id, true
				case "dialed_domain":
					return domain, true
				}
				return "", false
			}),
			GlobalLookup(env),
		}
		out = append(out, flatten(vars.Expand(dest, scope, AsAPI(ctx, env))))
	}
	return strings.Join(out, delim), nil
}

// pickDialString is the dial string the most specific params name:
// group-dial-string wins over dial-string at each level.
func pickDialString(levels ...map[string]string) string {
	dest := ""
	for _, p := range levels {
		if v, ok := p["group-dial-string"]; ok {
			dest = v
			continue
		}
		if v, ok := p["dial-string"]; ok {
			dest = v
		}
	}
	return dest
}

// flatten moves a dial string's leading {} variables into each of its
// legs' [] (output_flattened_dial_string), so that the strings of several
// users can be joined into one.
func flatten(s string) string {
	ds, err := dialstring.Parse(s)
	if err != nil || len(ds.Groups) != 1 {
		return s
	}
	g := ds.Groups[0]
	global := append(append(dialstring.Vars(nil), ds.Vars...), g.Vars...)
	var tries []string
	for _, t := range g.Tries {
		var legs []string
		for _, l := range t.Legs {
			leg := dialstring.Leg{Vars: append(append(dialstring.Vars(nil), global...), l.Vars...), Endpoint: l.Endpoint}
			one := &dialstring.DialString{Groups: []dialstring.Group{{Tries: []dialstring.Try{{Legs: []dialstring.Leg{leg}}}}}}
			legs = append(legs, one.String())
		}
		tries = append(tries, strings.Join(legs, ","))
	}
	return strings.Join(tries, "|")
}
