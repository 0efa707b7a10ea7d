// Package esl is Switchboard's event socket: FreeSWITCH's mod_event_socket
// wire protocol, so that fs_cli, `switchboard cli` and every ESL library
// (eslgo, modesl, Python's ESL, ...) work unchanged.
//
// Inbound, a Server listens (event_socket.conf: listen-ip, listen-port,
// password, apply-inbound-acl) and serves auth, api, bgapi, event,
// nixevent, noevents, filter, myevents, sendevent, sendmsg, log, nolog,
// linger and exit. API commands run through the commands registry with
// the Env the server is given; events come from an events.Bus, and each
// connection's subscription is dropped, with the connection, when it
// falls behind, so a slow client never holds up a call. LogTee is the
// slog.Handler that copies log records to the connections that asked for
// them with `log <level>`.
//
// Outbound, the socket dialplan application connects a call to an
// external ESL server, which answers `connect` and then controls the call
// (sendmsg, myevents, linger, and the whole command set with "full").
//
// Client is a small inbound client for the console and the tests.
package esl
