package sipclient

import (
	"context"
	"fmt"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Refer sends REFER in the answered call's dialog, asking the far end to
// transfer the call to referTo (a Refer-To value, e.g.
// "<sip:5000@127.0.0.1>"), with any extra headers (Referred-By, ...).
// It returns the final response: 202 Accepted when the far end takes the
// transfer on. The NOTIFYs that report its progress are answered 200.
func (c *Call) Refer(ctx context.Context, referTo string, hdrs ...Header) (Response, error) {
	c.mu.Lock()
	if !c.answered || c.ended {
		c.mu.Unlock()
		return Response{}, fmt.Errorf("sipclient: REFER needs an answered call: %w", ErrEnded)
	}
	c.cseq++
	req := c.newInDialogRequest(sip.REFER, c.target, c.routes, c.toTag, c.cseq)
	c.mu.Unlock()
	return doRefer(ctx, c.cli, req, referTo, hdrs)
}

// Refer sends REFER in the answered call's dialog (see [Call.Refer]).
// The NOTIFYs that report its progress are answered 200 and kept in
// [Phone.Requests].
func (in *Incoming) Refer(ctx context.Context, referTo string, hdrs ...Header) (Response, error) {
	req, err := in.nextRequest(sip.REFER)
	if err != nil {
		return Response{}, err
	}
	return doRefer(ctx, in.cli, req, referTo, hdrs)
}

// doRefer finishes and sends a REFER and waits for its final response.
func doRefer(ctx context.Context, cli *sipgo.Client, req *sip.Request, referTo string, hdrs []Header) (Response, error) {
	req.AppendHeader(sip.NewHeader("Refer-To", referTo))
	for _, h := range hdrs {
		req.AppendHeader(sip.NewHeader(h.Name, h.Value))
	}
	res, err := cli.Do(ctx, req)
	if err != nil {
		return Response{}, fmt.Errorf("sipclient: REFER: %w", err)
	}
	return newResponse(res), nil
}
