package commands

import (
	"strings"
	"testing"
	"time"
)

// regEnv is a Host with a fixed list of registrations.
type regEnv struct {
	*Host
	regs []Registration
}

func (e regEnv) Registrations() []Registration { return e.regs }

func TestDirectoryCommands(t *testing.T) {
	env := regEnv{Host: newEnv(t), regs: []Registration{
		{User: "1000", Realm: "example.com", Token: "cid-1", URL: "sip:1000@192.0.2.10:5060", Expires: time.Unix(1709539200, 0), NetworkIP: "192.0.2.10", NetworkPort: 5060, Transport: "udp", Profile: "internal", UserAgent: "phone/1"},
		{User: "1000", Realm: "example.com", Token: "cid-2", URL: "sip:1000@192.0.2.11:5062;transport=tcp", Expires: time.Unix(1709539300, 0), NetworkIP: "192.0.2.11", NetworkPort: 5062, Transport: "tcp", Profile: "external"},
	}}
	tests := []struct {
		cmd, args, want string
	}{
		{"user_exists", "id 1000 example.com", "true"},
		{"user_exists", "id 4000 example.com", "true"}, // number-alias
		{"user_exists", "id 1001 example.com", "false"},
		{"user_exists", "id 1000 example.org", "false"},
		{"user_exists", "1000 example.com", "-USAGE: <key> <user> <domain>\n"},
		{"domain_exists", "example.com", "true"},
		{"domain_exists", "EXAMPLE.com", "true"},
		{"domain_exists", "example.org", "false"},
		{"user_data", "1000@example.com param password", "1234"},
		{"user_data", "1000@example.com var user_context", "default"},
		{"user_data", "1000@example.com var default_areacode", "918"}, // from the domain
		{"user_data", "1000@example.com var nothing", ""},
		{"user_data", "1001@example.com param password", ""},
		{"user_data", "1000@example.com attr number-alias", "4000"},
		{"sofia_contact", "1000@example.com", "sofia/internal/sip:1000@192.0.2.10:5060,sofia/external/sip:1000@192.0.2.11:5062;transport=tcp"},
		{"sofia_contact", "*/1000@example.com", "sofia/internal/sip:1000@192.0.2.10:5060,sofia/external/sip:1000@192.0.2.11:5062;transport=tcp"},
		{"sofia_contact", "internal/1000@example.com", "sofia/internal/sip:1000@192.0.2.10:5060"},
		{"sofia_contact", "1001@example.com", "error/user_not_registered"},
		{"sofia_contact", "nobody", "-USAGE: [profile/]<user>@<domain>\n"},
		{"show", "registrations", "reg_user,realm,token,url,expires,network_ip,network_port,network_proto,hostname,metadata\n" +
			"1000,example.com,cid-1,sip:1000@192.0.2.10:5060,1709539200,192.0.2.10,5060,udp,sb-test,phone/1\n" +
			"1000,example.com,cid-2,sip:1000@192.0.2.11:5062;transport=tcp,1709539300,192.0.2.11,5062,tcp,sb-test,\n\n2 total.\n"},
		{"show", "registrations count", "\n2 total.\n"},
	}
	for _, tt := range tests {
		t.Run(tt.cmd+" "+tt.args, func(t *testing.T) {
			if got := run(env, tt.cmd, tt.args); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSofiaContactWithoutRegistrar(t *testing.T) {
	env := newEnv(t)
	if got := run(env, "sofia_contact", "1000@example.com"); got != "error/user_not_registered" {
		t.Errorf("got %q", got)
	}
	if got := run(env, "show", "registrations"); !strings.HasPrefix(got, "-ERR") {
		t.Errorf("show registrations without a switch: %q", got)
	}
}
