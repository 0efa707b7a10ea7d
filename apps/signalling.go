package apps

import (
	"context"
	"fmt"
	"strings"

	"github.com/switchboard-voip/switchboard/cause"
)

// The signalling family: answer, pre_answer, ring_ready, hangup, respond
// and redirect. None needs media, and none runs inline or after hangup.

func init() {
	for _, a := range []App{
		{Name: "answer", Description: "Answer the call", Run: answerApp},
		{Name: "pre_answer", Description: "Send early media", Run: preAnswerApp},
		{Name: "ring_ready", Description: "Signal ringing", Run: ringReadyApp},
		{Name: "hangup", Usage: "[<cause>]", Description: "Hang up the call", Run: hangupApp},
		{Name: "respond", Usage: "<respond_data>", Description: "Send a SIP response", Run: respondApp},
		{Name: "redirect", Usage: "<redirect_data>", Description: "Redirect the call", Run: redirectApp},
	} {
		a.Flags = SupportNoMedia
		Register(a)
	}
}

// answerApp answers the call (SIP 200 with SDP); answering an answered
// call does nothing. FreeSWITCH's answer flags (data or answer_flags:
// is_conference, decode_video, debug_video) concern conferences and video,
// which Switchboard does not have, so the data is ignored.
func answerApp(_ context.Context, ch Channel, _ string) error {
	s, err := sessionOf(ch, "answer")
	if err != nil {
		return err
	}
	if err := s.Answer(); err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	return nil
}

// preAnswerApp opens early media (SIP 183 with SDP). The is_conference
// flag FreeSWITCH accepts in the data is ignored.
func preAnswerApp(_ context.Context, ch Channel, _ string) error {
	s, err := sessionOf(ch, "pre_answer")
	if err != nil {
		return err
	}
	if err := s.PreAnswer(); err != nil {
		return fmt.Errorf("pre_answer: %w", err)
	}
	return nil
}

// ringReadyApp signals ringing: SIP 180, or 182 Queued when the data is
// "queued" (any case). Other data is ignored.
func ringReadyApp(_ context.Context, ch Channel, data string) error {
	s, err := sessionOf(ch, "ring_ready")
	if err != nil {
		return err
	}
	if err := s.RingReady(strings.EqualFold(data, "queued")); err != nil {
		return fmt.Errorf("ring_ready: %w", err)
	}
	return nil
}

// hangupApp hangs the call up with the cause the data names (a name in
// any case, or a Q.850 number; see cause.Parse). No data, and a name
// FreeSWITCH does not know, both mean NORMAL_CLEARING.
func hangupApp(_ context.Context, ch Channel, data string) error {
	s, err := sessionOf(ch, "hangup")
	if err != nil {
		return err
	}
	s.Hangup(cause.Parse(data))
	return nil
}

// respondApp is `respond <code> [<reason>]`, read as mod_sofia reads it:
// the code is the leading number of the data (C atoi) and the reason is
// everything after the first space. Data that does not start with a
// number non-zero sends 488 with the default phrase. An empty reason
// leaves the phrase to the endpoint.
func respondApp(_ context.Context, ch Channel, data string) error {
	s, err := sessionOf(ch, "respond")
	if err != nil {
		return err
	}
	code, reason := parseRespond(data)
	if err := s.Respond(code, reason); err != nil {
		return fmt.Errorf("respond %d: %w", code, err)
	}
	return nil
}

// parseRespond splits respond's data into a code and a reason.
func parseRespond(data string) (code int, reason string) {
	code = catoi(data)
	if code == 0 {
		return 488, ""
	}
	if _, r, ok := strings.Cut(data, " "); ok {
		reason = r
	}
	return code, reason
}

// redirectApp sends the caller to the contact in the data: a 302 on an
// unanswered call, a REFER on an answered one (the endpoint decides).
func redirectApp(_ context.Context, ch Channel, data string) error {
	s, err := sessionOf(ch, "redirect")
	if err != nil {
		return err
	}
	if data == "" {
		return &UsageError{App: "redirect", Usage: "<redirect_data>", Reason: "no contact specified"}
	}
	if err := s.Redirect(data); err != nil {
		return fmt.Errorf("redirect %s: %w", data, err)
	}
	return nil
}
