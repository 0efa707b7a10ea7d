package esl

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/switchboard-voip/switchboard/conf"
)

// Defaults of event_socket.conf, as mod_event_socket applies them when a
// setting is missing. The listen address is loopback: the vanilla
// configuration's "::" must be written out to listen anywhere.
const (
	DefaultListenIP   = "127.0.0.1"
	DefaultListenPort = 8021
	// DefaultPassword is FreeSWITCH's well-known default password. It is
	// refused on any listen address but loopback (Settings.Check).
	DefaultPassword = "ClueCon"
	// DefaultInboundACL is the ACL applied when apply-inbound-acl is
	// absent, as in mod_event_socket.
	DefaultInboundACL = "loopback.auto"
)

// Settings are the event socket's settings from the event_socket.conf
// configuration.
type Settings struct {
	// Enabled is false when modules.conf exists and does not load
	// mod_event_socket: no event socket is started then.
	Enabled bool
	// ListenIP and ListenPort are where the server listens (listen-ip,
	// listen-port). Port 0 picks a free port.
	ListenIP   string
	ListenPort int
	// Password is what `auth` must give (password).
	Password string
	// InboundACL names the ACLs (acl.conf lists, or CIDRs) a client's
	// address must pass, every one of them (apply-inbound-acl,
	// repeatable).
	InboundACL []string
	// StopOnBindError makes a listen address that cannot be opened an
	// error at start-up (stop-on-bind-error); otherwise the server keeps
	// trying in the background, as FreeSWITCH does.
	StopOnBindError bool
}

// Addr returns ListenIP:ListenPort for net.Listen.
func (s Settings) Addr() string {
	return net.JoinHostPort(s.ListenIP, strconv.Itoa(s.ListenPort))
}

// SettingsFromSnapshot reads event_socket.conf from snap, filling in the
// defaults. A listen-port that is not a port number is an error.
func SettingsFromSnapshot(snap *conf.Snapshot) (Settings, error) {
	s := Settings{
		Enabled:    moduleLoaded(snap, "mod_event_socket"),
		ListenIP:   DefaultListenIP,
		ListenPort: DefaultListenPort,
		Password:   DefaultPassword,
	}
	el := snap.Configuration("event_socket.conf")
	if el == nil {
		s.InboundACL = []string{DefaultInboundACL}
		return s, nil
	}
	for _, set := range el.SelectElements("settings") {
		for _, p := range set.SelectElements("param") {
			name := p.SelectAttrValue("name", "")
			value := strings.TrimSpace(p.SelectAttrValue("value", ""))
			where := snap.Pos(p).String()
			if where != "" {
				where += ": "
			}
			switch strings.ToLower(name) {
			case "listen-ip":
				if value != "" {
					s.ListenIP = strings.Trim(value, "[]")
				}
			case "listen-port":
				if value == "" {
					continue
				}
				n, err := strconv.Atoi(value)
				if err != nil || n < 0 || n > 65535 {
					return s, fmt.Errorf("%sevent_socket.conf: listen-port %q is not a port number", where, value)
				}
				s.ListenPort = n
			case "password":
				if value != "" {
					s.Password = value
				}
			case "stop-on-bind-error":
				s.StopOnBindError = isTrue(value)
			case "apply-inbound-acl":
				if value != "" {
					s.InboundACL = append(s.InboundACL, value)
				}
			}
		}
	}
	if len(s.InboundACL) == 0 {
		s.InboundACL = []string{DefaultInboundACL}
	}
	return s, nil
}

// Check refuses settings that would let anyone on the network control the
// switch with the password every FreeSWITCH user knows: a listen address
// other than loopback together with the password ClueCon.
func (s Settings) Check() error {
	if !s.Enabled || s.Password != DefaultPassword || isLoopback(s.ListenIP) {
		return nil
	}
	return fmt.Errorf("event_socket.conf: listen-ip %s is not a loopback address and the password is the well-known default %q: anyone who can reach the port could control every call; set a password of your own in event_socket.conf (or listen on 127.0.0.1)",
		s.ListenIP, DefaultPassword)
}

// isLoopback reports whether host names a loopback address only.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// moduleLoaded reports whether modules.conf loads module, or true when
// there is no modules.conf (a tree without one runs everything).
func moduleLoaded(snap *conf.Snapshot, module string) bool {
	mods := snap.Configuration("modules.conf")
	if mods == nil {
		return true
	}
	for _, l := range mods.FindElements(".//modules/load") {
		if strings.EqualFold(l.SelectAttrValue("module", ""), module) {
			return true
		}
	}
	return false
}
