package commands

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// The directory and registrar commands: user_exists, domain_exists,
// user_data, sofia_contact and `show registrations`.

func init() {
	Register(Command{Name: "user_exists", Usage: "<key> <user> <domain>", Description: "Find a user", Run: userExists})
	Register(Command{Name: "domain_exists", Usage: "<domain>", Description: "Check if a domain exists", Run: domainExists})
	Register(Command{Name: "user_data", Usage: "<user>@<domain> [var|param|attr] <name>", Description: "Find user data", Run: userData})
	Register(Command{Name: "sofia_contact", Usage: "[profile/]<user>@<domain>", Description: "Sofia Contacts", Module: "mod_sofia", Run: sofiaContact})
	RegisterShow("registrations", showRegistrations)
}

// Registration is one registered contact as the commands show it.
type Registration struct {
	User, Realm string
	Token       string // the REGISTER's Call-ID
	URL         string // the contact URI
	Expires     time.Time
	NetworkIP   string
	NetworkPort int
	Transport   string
	Profile     string
	UserAgent   string
}

// Registrations is the optional interface of an Env with a SIP
// registrar.
type Registrations interface {
	// Registrations returns every live registration.
	Registrations() []Registration
}

// userExists is `user_exists id <user> <domain>`: "true" when the
// directory has the user (by id or number-alias), else "false".
func userExists(_ context.Context, env Env, args string) (string, error) {
	f := strings.Fields(args)
	if len(f) != 3 {
		return "-USAGE: <key> <user> <domain>\n", nil
	}
	if !strings.EqualFold(f[0], "id") {
		return "false", nil
	}
	snap := env.Snapshot()
	if snap == nil {
		return "false", nil
	}
	d := snap.Domain(f[2])
	return strconv.FormatBool(d != nil && d.User(f[1]) != nil), nil
}

// domainExists is `domain_exists <domain>`.
func domainExists(_ context.Context, env Env, args string) (string, error) {
	args = strings.TrimSpace(args)
	if args == "" {
		return "-USAGE: <domain>\n", nil
	}
	snap := env.Snapshot()
	return strconv.FormatBool(snap != nil && snap.Domain(args) != nil), nil
}

// userData is `user_data <user>@<domain> [var|param|attr] <name>`: the
// user's param or variable, falling back to the domain's, as FreeSWITCH
// looks them up; empty when there is none.
func userData(_ context.Context, env Env, args string) (string, error) {
	f := strings.Fields(args)
	if len(f) != 3 {
		return "-USAGE: <user>@<domain> [var|param|attr] <name>\n", nil
	}
	id, domain, ok := strings.Cut(f[0], "@")
	snap := env.Snapshot()
	if !ok || snap == nil {
		return "", nil
	}
	d := snap.Domain(domain)
	if d == nil {
		return "", nil
	}
	u := d.User(id)
	if u == nil {
		return "", nil
	}
	switch strings.ToLower(f[1]) {
	case "param":
		if v, ok := u.Params[f[2]]; ok {
			return v, nil
		}
		return d.Params[f[2]], nil
	case "var":
		if v, ok := u.Variables[f[2]]; ok {
			return v, nil
		}
		return d.Variables[f[2]], nil
	case "attr":
		switch strings.ToLower(f[2]) {
		case "id":
			return u.ID, nil
		case "number-alias":
			return u.NumberAlias, nil
		case "cidr":
			return u.Cidr, nil
		}
	}
	return "", nil
}

// sofiaContact is `sofia_contact [profile/]<user>@<domain>`: the dial
// string of every registered contact of the user ("sofia/<profile>/<uri>",
// comma-separated), or "error/user_not_registered". A profile of "*" or
// none matches every profile.
func sofiaContact(_ context.Context, env Env, args string) (string, error) {
	args = strings.TrimSpace(args)
	profile := ""
	if p, rest, ok := strings.Cut(args, "/"); ok {
		profile, args = p, rest
	}
	user, domain, ok := strings.Cut(args, "@")
	if !ok || user == "" {
		return "-USAGE: [profile/]<user>@<domain>\n", nil
	}
	if profile == "*" {
		profile = ""
	}
	var out []string
	if r, ok := env.(Registrations); ok {
		for _, reg := range r.Registrations() {
			if !strings.EqualFold(reg.User, user) || !strings.EqualFold(reg.Realm, domain) {
				continue
			}
			if profile != "" && !strings.EqualFold(reg.Profile, profile) {
				continue
			}
			out = append(out, "sofia/"+reg.Profile+"/"+reg.URL)
		}
	}
	if len(out) == 0 {
		return "error/user_not_registered", nil
	}
	return strings.Join(out, ","), nil
}

// registrationColumns are the columns of FreeSWITCH's registrations table.
var registrationColumns = []string{"reg_user", "realm", "token", "url", "expires", "network_ip", "network_port", "network_proto", "hostname", "metadata"}

// showRegistrations is `show registrations`: one row per live contact.
func showRegistrations(_ context.Context, env Env, args []string) (*Table, error) {
	r, ok := env.(Registrations)
	if !ok {
		return nil, errNoCore
	}
	list := r.Registrations()
	if len(args) > 0 && strings.EqualFold(args[0], "count") {
		return &Table{CountOnly: true, Count: len(list)}, nil
	}
	host := switchName(env)
	t := &Table{Columns: registrationColumns}
	for _, reg := range list {
		t.Rows = append(t.Rows, []string{
			reg.User, reg.Realm, reg.Token, reg.URL, strconv.FormatInt(reg.Expires.Unix(), 10),
			reg.NetworkIP, strconv.Itoa(reg.NetworkPort), reg.Transport, host, reg.UserAgent,
		})
	}
	return t, nil
}
