package session

import (
	"testing"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/conf"
)

// A call offers the configuration it was routed with to the prompt
// applications; a switch without one offers nothing.
func TestConfigRoot(t *testing.T) {
	m := newTestManager(t)
	s := m.NewInbound(Inbound{Endpoint: &fakeEndpoint{}, Profile: &caller.Profile{DestinationNumber: "100", Context: "default"}})
	var l apps.Languages = s
	root := l.ConfigRoot()
	if root == nil || root.Tag != "document" || root.SelectElement("section") == nil {
		t.Fatalf("ConfigRoot() = %v", root)
	}
	if got := NewManager(Config{Snapshot: func() *conf.Snapshot { return nil }}).NewInbound(Inbound{Endpoint: &fakeEndpoint{}}).ConfigRoot(); got != nil {
		t.Errorf("without a configuration: %v", got)
	}
	if got := NewManager(Config{}).NewInbound(Inbound{Endpoint: &fakeEndpoint{}}).ConfigRoot(); got != nil {
		t.Errorf("without a snapshot function: %v", got)
	}
}
