package sipclient

import (
	"context"
	"fmt"

	"github.com/emiago/sipgo/sip"
)

// inDialogLocked builds a request of the phone in an answered incoming
// call's dialog: to the caller's Contact, our To tag in From, CSeq seq.
// Call with in.mu held.
func (in *Incoming) inDialogLocked(method sip.RequestMethod, seq uint32) *sip.Request {
	req := sip.NewRequest(method, *in.target.Clone())
	req.SetTransport(in.req.Transport())
	from := &sip.FromHeader{DisplayName: in.req.To().DisplayName, Address: *in.req.To().Address.Clone(), Params: in.req.To().Params.Clone()}
	to := &sip.ToHeader{DisplayName: in.req.From().DisplayName, Address: *in.req.From().Address.Clone(), Params: in.req.From().Params.Clone()}
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(sip.HeaderClone(in.req.CallID()))
	req.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: method})
	for _, r := range in.routes {
		req.AppendHeader(sip.NewHeader("Route", r))
	}
	req.AppendHeader(in.contact)
	return req
}

// nextRequest starts a request of the phone in the answered call's
// dialog with the next CSeq.
func (in *Incoming) nextRequest(method sip.RequestMethod) (*sip.Request, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.ok == nil || in.ended {
		return nil, fmt.Errorf("sipclient: %s needs an answered call: %w", method, ErrEnded)
	}
	in.cseq++
	return in.inDialogLocked(method, in.cseq), nil
}

// Reinvite sends a re-INVITE in the answered call's dialog offering the
// phone's formats again with direction dir (sendrecv; sendonly or
// inactive to put the far end on hold), applies the answer and ACKs it.
// A final response other than 2xx is an error.
func (in *Incoming) Reinvite(ctx context.Context, dir string) error {
	req, err := in.nextRequest(sip.INVITE)
	if err != nil {
		return err
	}
	in.mu.Lock()
	in.sdpVer++
	body := buildSDPDir(in.sessID, in.sdpVer, in.media.local, in.phone.formats, dir)
	in.mu.Unlock()
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(body)
	res, err := in.cli.Do(ctx, req)
	if err != nil {
		return fmt.Errorf("sipclient: re-INVITE: %w", err)
	}
	if !res.IsSuccess() {
		return fmt.Errorf("sipclient: re-INVITE answered %d %s", res.StatusCode, res.Reason)
	}
	if len(res.Body()) > 0 {
		if err := in.applyAnswer(res.Body()); err != nil {
			return fmt.Errorf("sipclient: re-INVITE answer: %w", err)
		}
	}
	in.mu.Lock()
	ack := in.inDialogLocked(sip.ACK, req.CSeq().SeqNo)
	in.mu.Unlock()
	if err := in.cli.WriteRequest(ack); err != nil {
		return fmt.Errorf("sipclient: ACK of the re-INVITE: %w", err)
	}
	return nil
}
