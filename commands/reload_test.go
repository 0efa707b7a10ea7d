package commands

import (
	"context"
	"errors"
	"testing"

	"github.com/switchboard-voip/switchboard/xmltree"
)

// reloadEnv is a Host that can reload: each Reload returns the next
// result and counts the calls.
type reloadEnv struct {
	*Host
	notes string
	err   error
	calls int
}

func (r *reloadEnv) Reload(context.Context) (string, error) {
	r.calls++
	return r.notes, r.err
}

func TestReloadXML(t *testing.T) {
	pos := xmltree.Pos{File: "/etc/switchboard/dialplan/default.xml", Line: 12}
	tests := []struct {
		name  string
		notes string
		err   error
		want  string
	}{
		{name: "success", want: "+OK [Success]\n"},
		{
			name:  "success with settings waiting for a restart",
			notes: "sofia.conf: profile internal: sip-port\nevent_socket.conf: listen-port\n",
			want:  "+OK [Success]\nrestart needed: sofia.conf: profile internal: sip-port\nrestart needed: event_socket.conf: listen-port\n",
		},
		{
			name: "a refused configuration names file and line",
			err:  xmltree.Errorf(pos, "unclosed <extension>"),
			want: "-ERR /etc/switchboard/dialplan/default.xml:12: unclosed <extension>\n",
		},
		{
			name: "several problems, one per line",
			err:  xmltree.ErrorList{xmltree.Errorf(pos, "a"), xmltree.Errorf(xmltree.Pos{File: "x.xml", Line: 3}, "b")},
			want: "-ERR /etc/switchboard/dialplan/default.xml:12: a\nx.xml:3: b\n",
		},
		{
			name: "an error without a position",
			err:  errors.New("conf directory: no such file or directory"),
			want: "-ERR conf directory: no such file or directory\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := &reloadEnv{Host: newEnv(t), notes: tt.notes, err: tt.err}
			if got := run(env, "reloadxml", ""); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if env.calls != 1 {
				t.Errorf("Reload called %d times", env.calls)
			}
		})
	}
}

func TestReloadXMLWithoutASwitch(t *testing.T) {
	got := run(newEnv(t), "reloadxml", "")
	if want := "-ERR " + ErrNoReload.Error() + "\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
