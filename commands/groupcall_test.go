package commands

import (
	"testing"
	"time"
)

func TestGroupCall(t *testing.T) {
	env := regEnv{Host: newEnv(t), regs: []Registration{
		{User: "1000", Realm: "example.com", Token: "cid-1", URL: "sip:1000@192.0.2.10:5060", Expires: time.Unix(1709539200, 0), Profile: "internal"},
	}}
	const (
		u1000 = "[presence_id=1000@example.com]sofia/internal/sip:1000@192.0.2.10:5060"
		u2000 = "[x=1]sofia/internal/2000@192.0.2.20|[x=1]error/NO_ANSWER" // {} reaches every leg, as output_flattened_dial_string does
		u2001 = "loopback/sales-2001"
	)
	tests := []struct{ args, want string }{
		{"sales@example.com", u1000 + "," + u2000 + "," + u2001},
		{"sales", u1000 + "," + u2000 + "," + u2001}, // the global domain
		{"sales@example.com+F", u1000 + "|" + u2000 + "|" + u2001},
		{"sales@example.com+E", u1000 + ":_:" + u2000 + ":_:" + u2001},
		{"nobody@example.com", ""},
		{"sales@example.org", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := run(env, "group_call", tt.args); got != tt.want {
			t.Errorf("group_call %s:\n got %q\nwant %q", tt.args, got, tt.want)
		}
	}
}
