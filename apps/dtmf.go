package apps

import (
	"context"
	"errors"
)

// The DTMF family: start_dtmf and stop_dtmf (in-band detection) and
// flush_dtmf.

func init() {
	for _, a := range []App{
		{Name: "start_dtmf", Flags: MediaTap, Description: "Detect in-band DTMF", Run: startDTMFApp},
		{Name: "stop_dtmf", Description: "Stop in-band DTMF detection", Run: stopDTMFApp},
		{Name: "flush_dtmf", Flags: SupportNoMedia, Description: "Discard queued DTMF", Run: flushDTMFApp},
	} {
		Register(a)
	}
}

// InbandDTMF is implemented by a Session that can find DTMF tones in the
// caller's audio.
type InbandDTMF interface {
	// StartInbandDTMF starts detection; digits found join the DTMF queue.
	StartInbandDTMF() error
	// StopInbandDTMF stops it.
	StopInbandDTMF()
}

// startDTMFApp is `start_dtmf`: detect DTMF tones in the caller's audio
// until stop_dtmf or hangup, for callers that send digits in-band.
func startDTMFApp(ctx context.Context, ch Channel, _ string) error {
	s, err := sessionOf(ch, "start_dtmf")
	if err != nil {
		return err
	}
	d, ok := s.(InbandDTMF)
	if !ok {
		return errors.New("start_dtmf: this call cannot detect in-band DTMF")
	}
	if _, err := mediaOf(ctx, s, "start_dtmf"); err != nil {
		return quiet(err)
	}
	return d.StartInbandDTMF()
}

// stopDTMFApp is `stop_dtmf`.
func stopDTMFApp(_ context.Context, ch Channel, _ string) error {
	s, err := sessionOf(ch, "stop_dtmf")
	if err != nil {
		return err
	}
	if d, ok := s.(InbandDTMF); ok {
		d.StopInbandDTMF()
	}
	return nil
}

// flushDTMFApp is `flush_dtmf`: discard the digits queued so far.
func flushDTMFApp(_ context.Context, ch Channel, _ string) error {
	s, err := sessionOf(ch, "flush_dtmf")
	if err != nil {
		return err
	}
	s.DTMF().Flush()
	return nil
}
