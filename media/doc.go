// Package media carries a call's audio: RTP streams on UDP ports taken from
// a configured range, G.711 (PCMU/PCMA) coding, the sources applications
// play (WAV files, tone_stream://, silence_stream://, file_string://) and
// RFC 4733 telephone events (DTMF).
//
// The package knows nothing of SIP or sessions. The signalling layer opens
// a Stream from the Engine, puts its LocalAddr into the SDP it sends, and
// hands the far end's address and the negotiated codec to SetRemote. The
// call core then drives the stream: Play, Echo, SendDTMF, OnDTMF and
// SetMediaTimeout.
//
// # Pacing
//
// Every open stream belongs to one of a few pacer goroutines (by default
// one per CPU, at most four). A pacer divides each 20 ms period into ten
// slots and visits each of its streams once per period, always in the
// same slot, so the packets of many calls are spread over the period
// instead of leaving in one burst. A visit sends at most one frame (three
// identical packets for the end of a DTMF event): one UDP write, no
// allocation. Producers — Play, Echo, SendDTMF, running on the caller's
// goroutine — fill a small per-stream queue of 20 ms frames ahead of the
// pacer and are woken when it takes one. The pacer records how late each
// packet left compared with its slot's deadline; Engine.Stats reports the
// histogram.
//
// RTP timestamps follow the pacer's clock: a stream's timestamp advances
// by one frame (160 at 8 kHz) per period whether or not it sends, so
// consecutive packets differ by 160 and a packet that follows a silent gap
// carries the marker bit and a timestamp that reflects the gap (RFC 3551
// §4.1). The first packet a stream sends also carries the marker bit.
//
// # Receiving
//
// Once started, a stream reads its socket on its own goroutine. A packet
// must come from the address the SDP named, or — when the remote asked
// for latching (NAT) — from the source of the first valid RTP packet,
// which the stream then keeps for the rest of the call, as FreeSWITCH's
// RTP auto-adjust does; packets from anywhere else are dropped and
// counted. Packets that are not RTP version 2, are truncated, carry a
// payload type the SDP did not negotiate, or fail the RFC 3550 §A.1
// sequence checks are dropped and counted; none of them can stop the call
// or disturb what the stream sends. Audio goes to the stream's taps (Tap,
// used by Echo), telephone events to the OnDTMF callback (once per event,
// deduplicated by RTP timestamp).
//
// # Bridging
//
// Bridge joins two streams, as FreeSWITCH's bridge joins two channels:
// the audio each receives is sent on the other at once, packet by packet
// (PCMU and PCMA converted when the two differ), under the sending
// stream's own SSRC, sequence numbers and timestamps, so each far end
// sees one continuous stream across playbacks and bridges. Telephone
// events received on one side are re-sent on the other as events. A
// stream's own producer (Play, Echo, SendDTMF) takes precedence over the
// relayed audio while it runs.
//
// # Sources
//
// OpenSource turns a FreeSWITCH media URI into a Source of mono PCM at the
// call's rate. See OpenSource for the forms it understands and for how
// relative file names are resolved against the sound prefix and its rate
// directories (…/8000/…, …/16000/…).
package media
