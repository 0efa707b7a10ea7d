// Package sipclient is a small SIP user agent client for end-to-end tests.
//
// It places one call per [Dial] over UDP or TCP on loopback, offers G.711
// (or, to provoke a codec mismatch, anything else), and then lets a test
// act like a phone: wait for provisional and final responses, send a
// generated tone or silence at 20 ms pacing (or nothing at all, to go
// silent), receive and decode what the far end sends into PCM with arrival
// times, send and receive RFC 4733 telephone events, and hang up with BYE
// or CANCEL. A BYE from the far end is answered and its Reason header kept.
//
// Every [Call] owns its own sipgo user agent, SIP listener and RTP socket,
// so calls share nothing and may run in parallel. The client re-sends its
// ACK whenever the far end retransmits the 2xx, also after the INVITE
// transaction has ended (sipgo only does so while the transaction lives).
//
// tone.go holds the analysis the tests assert with: Goertzel power at a
// frequency, the dominant frequency of a 20 ms frame among candidates, and
// the tone segments (start, duration) in a recording.
package sipclient
