package main

import (
	"database/sql"
	"fmt"
	"log/slog"

	apicmd "github.com/switchboard-voip/switchboard/commands"
	"github.com/switchboard-voip/switchboard/sip"
)

// openRegistrar opens the SIP registrar in the switch's database (the db
// store's file), so registrations survive a restart; without that
// database they are kept in memory and the loss is logged.
func openRegistrar(ctl *switchControl, log *slog.Logger) (*sip.Registrar, error) {
	var db *sql.DB
	if ctl.db != nil {
		db = ctl.db.SQL()
	} else {
		log.Error("registrations are kept in memory only: the database is unavailable")
	}
	reg, err := sip.OpenRegistrar(db, nil)
	if err != nil {
		return nil, fmt.Errorf("sip registrar: %w", err)
	}
	return reg, nil
}

// Registrations lists the live SIP registrations (show registrations,
// sofia_contact).
func (sw *theSwitch) Registrations() []apicmd.Registration {
	if sw.sip == nil {
		return nil
	}
	var out []apicmd.Registration
	for _, c := range sw.sip.Registrar().All() {
		out = append(out, apicmd.Registration{
			User: c.User, Realm: c.Realm, Token: c.CallID, URL: c.URI, Expires: c.Expires,
			NetworkIP: c.NetworkIP, NetworkPort: c.NetworkPort, Transport: c.Transport,
			Profile: c.Profile, UserAgent: c.UserAgent,
		})
	}
	return out
}
