package sip

import (
	"context"
	"net/netip"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/session"
)

// REFER from a phone (RFC 3515): blind transfer, mod_sofia's
// sofia_handle_sip_i_refer. The phone on an answered, bridged leg asks
// for the other party to be sent to Refer-To's user part: 202 Accepted,
// NOTIFY "SIP/2.0 100 Trying", the other leg is transferred to that
// extension (in its own context and dialplan, as
// switch_ivr_session_transfer does), NOTIFY "SIP/2.0 200 OK" ending the
// subscription, and the referring leg hangs up with BLIND_TRANSFER.
//
// Switchboard is stricter than FreeSWITCH about who may transfer, since a
// transfer places a call on the switch's account: the referring leg must
// be trusted — a caller authenticated by digest or trusted by an
// apply-inbound-acl list (sip_authorized), a directory user we called
// (dialed_user), or a far end an apply-inbound-acl list trusts — and
// neither its first context nor its current one may be "public".
// Anyone else gets 403 and the refusal is logged. So does every REFER
// when the profile sets disable-transfer, and a REFER outside a dialog.
// A REFER with Replaces (attended transfer) gets 501: not implemented.
// On a leg in no bridge the REFER is accepted and its NOTIFY reports 403,
// as FreeSWITCH's does ("Cannot Blind Transfer 1 Legged calls").

// referExpires is the Expires of our 202 and the lifetime of the implicit
// subscription, seconds (FreeSWITCH's).
const referExpires = "60"

func (p *profile) onRefer(req *sip.Request, tx sip.ServerTransaction) {
	defer p.recoverHandler(req, tx)
	if !p.checkRequest(req, tx) {
		return
	}
	if _, ok := req.To().Params.Get("tag"); !ok {
		p.log.Warn("sip: REFER outside a dialog refused", "source", req.Source(), "call_id", req.CallID().Value())
		p.reply(req, tx, 403, "")
		return
	}
	var l *leg
	switch c := p.lookup(req).(type) {
	case *call:
		l = &c.leg
	case *outCall:
		l = &c.leg
	}
	if l == nil || !l.side.established() || l.session() == nil {
		p.reply(req, tx, 481, "")
		return
	}
	l.onRefer(req, tx)
}

// referTarget is what a Refer-To header asks for.
type referTarget struct {
	full     string // the header's value
	exten    string // the URI's user part: where the other leg goes
	params   string // the URI's parameters, "a=b;c"
	replaces bool   // an attended transfer (a Replaces header in the URI)
}

// parseReferTo reads the Refer-To headers of req; the int is the status
// to refuse it with (400 or 416), 0 when usable.
func parseReferTo(req *sip.Request) (referTarget, int) {
	var values []string
	for _, h := range req.Headers() {
		if n := h.Name(); asciiEqualFold(n, "Refer-To") || asciiEqualFold(n, "r") {
			values = append(values, h.Value())
		}
	}
	if len(values) != 1 {
		return referTarget{}, 400
	}
	rt := referTarget{full: strings.TrimSpace(values[0])}
	var u sip.Uri
	params := sip.NewParams()
	if _, err := sip.ParseAddressValue(rt.full, &u, &params); err != nil {
		return rt, 400
	}
	switch strings.ToLower(u.Scheme) {
	case "sip", "sips":
	default:
		return rt, 416
	}
	for _, kv := range u.Headers {
		if strings.EqualFold(kv.K, "Replaces") {
			rt.replaces = true
		}
	}
	rt.exten = decodeUser(u.User)
	if rt.exten == "" || len(rt.exten) > 256 || strings.ContainsAny(rt.exten, "\x00\r\n") {
		return rt, 400
	}
	// The target becomes the transferee's destination_number, which a
	// hunt may copy into action data before ${} expansion: never let a
	// value from the wire carry a reference the expander would run.
	rt.exten = cleanField(rt.exten)
	if u.UriParams.Length() > 0 {
		rt.params = u.UriParams.ToString(';')
	}
	return rt, 0
}

// referAllowed decides whether the far end of l may transfer its call
// (see the top of this file); the string says why not.
func (p *profile) referAllowed(l *leg, s *session.Session) (bool, string) {
	if p.cfg.DisableTransfer {
		return false, "disable-transfer is set on the profile"
	}
	info := s.Info()
	if strings.EqualFold(info.InitialContext, "public") || strings.EqualFold(info.Context, "public") {
		return false, "the call is in the public context"
	}
	v := func(name string) string { x, _ := s.Vars().Get(name); return x }
	if caller.True(v("sip_authorized")) {
		return true, ""
	}
	if _, out := l.side.(*outCall); out && v("dialed_user") != "" {
		return true, ""
	}
	if p.aclTrusts(l.src.Addr()) {
		return true, ""
	}
	return false, "the caller is neither authenticated nor trusted by apply-inbound-acl"
}

// aclTrusts reports whether one of the profile's apply-inbound-acl lists
// lets a in.
func (p *profile) aclTrusts(a netip.Addr) bool {
	lists := p.e.acl.Load()
	for _, r := range p.cfg.InboundACL {
		if ok, _ := lists.CheckToken(r.list, a, 0); ok {
			return true
		}
	}
	return false
}

// onRefer answers a REFER in the leg's dialog and carries it out.
func (l *leg) onRefer(req *sip.Request, tx sip.ServerTransaction) {
	p := l.p
	if !l.side.confirmed() {
		p.reply(req, tx, 491, "")
		return
	}
	if err := l.side.readRequest(req, tx); err != nil {
		p.reply(req, tx, 500, "CSeq Out Of Order")
		return
	}
	s := l.session()
	rt, code := parseReferTo(req)
	if code != 0 {
		reason := ""
		if code == 400 {
			reason = "Bad Refer-To"
		}
		p.reply(req, tx, code, reason)
		return
	}
	if rt.replaces {
		l.logger().Info("sip: attended transfer (REFER with Replaces) is not supported", "refer_to", rt.full)
		p.reply(req, tx, 501, "Attended Transfer Not Implemented")
		return
	}
	if ok, why := p.referAllowed(l, s); !ok {
		l.logger().Warn("sip: REFER refused", "reason", why, "source", req.Source(), "refer_to", rt.full, "uuid", s.UUID())
		p.reply(req, tx, 403, "")
		return
	}
	res := sip.NewResponseFromRequest(req, 202, "Accepted", nil)
	res.AppendHeader(&l.contact)
	res.AppendHeader(sip.NewHeader("Expires", referExpires))
	p.decorate(res)
	if err := tx.Respond(res); err != nil {
		l.logger().Debug("sip: 202 to the REFER not sent", "err", err)
		return
	}
	id := "refer;id=" + strconv.FormatUint(uint64(req.CSeq().SeqNo), 10)
	l.notifyRefer(id, "SIP/2.0 100 Trying", false)

	fromUser := ""
	if f := req.From(); f != nil {
		fromUser = decodeUser(f.Address.User)
	}
	vl := &varList{st: l.vars}
	vl.set("transfer_disposition", "recv_replace")
	vl.set("sip_refer_to_params", rt.params)
	partner := s.Partner()
	if partner != nil {
		vl.set("transfer_to", "blind:"+partner.UUID())
	} else {
		vl.set("transfer_to", "blind:"+rt.exten)
	}
	vl.set("transfer_destination", "blind:"+rt.exten)
	if partner != nil {
		vl.set("transfer_fallback_extension", fromUser)
		vl.set("endpoint_disposition", "BLIND_TRANSFER")
	}
	pv := [][2]string{{"sip_refer_to", rt.full}}
	if h := req.GetHeader("Referred-By"); h != nil && headerValueOK(h.Value()) {
		pv = append(pv, [2]string{"sip_h_Referred-By", h.Value()})
	}
	if rt.params != "" {
		pv = append(pv, [2]string{"sip_h_X-FS-Refer-Params", rt.params})
	}
	pv = safeVars(pv)
	l.logger().Info("sip: blind transfer (REFER)", "exten", rt.exten, "uuid", s.UUID())
	_, err := s.BlindTransfer(session.BlindTransferOptions{
		Exten:       rt.exten,
		PartnerVars: pv,
		Notify:      func() { l.notifyRefer(id, "SIP/2.0 200 OK", true) },
	})
	if err != nil {
		l.logger().Info("sip: blind transfer failed", "err", err)
		vl.set("endpoint_disposition", "ATTENDED_TRANSFER_ERROR")
		l.notifyRefer(id, "SIP/2.0 403 Forbidden", true)
	}
}

// safeVars drops the pairs whose value could be expanded as a variable
// reference or carry a line break.
func safeVars(pv [][2]string) [][2]string {
	out := pv[:0]
	for _, kv := range pv {
		if headerValueOK(kv[1]) {
			out = append(out, kv)
		}
	}
	return out
}

// notifyRefer reports a REFER's progress in a NOTIFY with a
// message/sipfrag body (RFC 3515 §2.4.4), ending the implicit
// subscription with the final one; it waits for the answer.
func (l *leg) notifyRefer(event, frag string, final bool) {
	req, err := l.side.newDialogRequest(sip.NOTIFY, 0)
	if err != nil {
		l.logger().Debug("sip: NOTIFY not sent", "err", err)
		return
	}
	req.AppendHeader(sip.NewHeader("Event", event))
	state := "active;expires=" + referExpires
	if final {
		state = "terminated;reason=noresource"
	}
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	req.AppendHeader(sip.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
	req.AppendHeader(l.p.hdr.userAgent)
	req.SetBody([]byte(frag + "\r\n"))
	ctx, cancel := context.WithTimeout(context.Background(), 64*sip.T1)
	defer cancel()
	res, err := l.doInDialog(ctx, req)
	if err != nil {
		l.logger().Debug("sip: NOTIFY got no answer", "err", err)
		return
	}
	if !res.IsSuccess() {
		l.logger().Debug("sip: NOTIFY refused", "status", res.StatusCode)
	}
}
