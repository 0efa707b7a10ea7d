package sipclient

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// PhoneOptions describe a [Phone].
type PhoneOptions struct {
	// User is the user part of the phone's Contact and its address of
	// record when it registers (default "phone").
	User string
	// TCP makes the phone listen on TCP as well as UDP.
	TCP bool
	// Codecs are the audio codecs the phone accepts, in its order of
	// preference for an offer it makes (late-offer INVITEs); the default
	// is PCMU, PCMA. An answer keeps the order of the far end's offer.
	Codecs []Codec
	// DTMFPayloadType is the telephone-event payload type the phone
	// offers (default 101); an answer uses the offer's. NoDTMF accepts
	// none.
	DTMFPayloadType uint8
	NoDTMF          bool
	// LocalIP is the address SIP and RTP bind to (default 127.0.0.1).
	LocalIP string
	// Logger receives sipgo's logs; nil discards them.
	Logger *slog.Logger
}

// Address is the address of a From or To header.
type Address struct {
	DisplayName string
	User, Host  string
	Port        int
	Tag         string
}

// String renders a as in a header, e.g. "Extension 1000" <sip:1000@host>
// (without the tag).
func (a Address) String() string {
	s := "sip:" + a.User + "@" + a.Host
	if a.Port != 0 {
		s += ":" + strconv.Itoa(a.Port)
	}
	if a.DisplayName != "" {
		s = strconv.Quote(a.DisplayName) + " <" + s + ">"
	}
	return s
}

func addressOf(name string, a sip.Uri, params sip.HeaderParams) Address {
	return Address{DisplayName: name, User: a.User, Host: a.Host, Port: a.Port, Tag: params.GetOr("tag", "")}
}

// Request is one request a [Phone] received, as it arrived.
type Request struct {
	Method string
	// URI is the request URI.
	URI string
	// Transport is "UDP" or "TCP"; Source the address it came from.
	Transport, Source string
	From, To          Address
	CallID            string
	Body              []byte
	At                time.Time
	hdrs              map[string][]string
}

func newRequest(req *sip.Request) Request {
	r := Request{
		Method:    string(req.Method),
		URI:       req.Recipient.String(),
		Transport: req.Transport(),
		Source:    req.Source(),
		At:        time.Now(),
		hdrs:      map[string][]string{},
	}
	if f := req.From(); f != nil {
		r.From = addressOf(f.DisplayName, f.Address, f.Params)
	}
	if t := req.To(); t != nil {
		r.To = addressOf(t.DisplayName, t.Address, t.Params)
	}
	if id := req.CallID(); id != nil {
		r.CallID = string(*id)
	}
	for _, h := range req.Headers() {
		k := strings.ToLower(h.Name())
		r.hdrs[k] = append(r.hdrs[k], h.Value())
	}
	if b := req.Body(); len(b) > 0 {
		r.Body = append([]byte(nil), b...)
	}
	return r
}

// Header returns the first value of the named header ("" if absent).
func (r Request) Header(name string) string {
	if v := r.hdrs[strings.ToLower(name)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Values returns every value of the named header.
func (r Request) Values(name string) []string {
	return append([]string(nil), r.hdrs[strings.ToLower(name)]...)
}

// Cause returns the request's Reason header, if it has one.
func (r Request) Cause() (Cause, bool) {
	v := r.Header("Reason")
	if v == "" {
		return Cause{}, false
	}
	c, err := ParseCause(v)
	return c, err == nil
}

// String returns the request line's method and URI.
func (r Request) String() string { return r.Method + " " + r.URI }

// Phone is a SIP user agent that listens for calls: it can register with
// a registrar under its listening address, hands every new INVITE to the
// test as an [Incoming] call (see [Phone.Next]), and places calls of its
// own with [Phone.Dial]. It keeps every request it received for
// assertions. Release it with [Phone.Close].
type Phone struct {
	opts    PhoneOptions
	log     *slog.Logger
	ip      netip.Addr
	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	udpCli  *sipgo.Client // sends from the UDP listener
	tcpCli  *sipgo.Client // nil without TCP
	udp     net.PacketConn
	tcp     net.Listener
	udpAddr netip.AddrPort
	tcpAddr netip.AddrPort
	formats []format // what the phone accepts, telephone-event last

	mu       sync.Mutex
	changed  signal // woken on every change
	requests []Request
	calls    map[string]*Incoming // by Call-ID
	queue    []*Incoming          // new calls not yet taken by Next
	closing  bool
	closed   chan struct{} // closed when Close begins
	username string        // the credentials of the last successful REGISTER
	password string

	handlers  sync.WaitGroup // INVITE handlers
	closeOnce sync.Once
}

// NewPhone starts a phone listening on UDP (and TCP with opts.TCP) on a
// free port of opts.LocalIP.
func NewPhone(opts PhoneOptions) (*Phone, error) {
	if opts.User == "" {
		opts.User = "phone"
	}
	if len(opts.Codecs) == 0 {
		opts.Codecs = []Codec{PCMU, PCMA}
	}
	if opts.LocalIP == "" {
		opts.LocalIP = "127.0.0.1"
	}
	dtmfPT := dtmfPayloadType(opts.DTMFPayloadType, opts.NoDTMF)
	ip, err := netip.ParseAddr(opts.LocalIP)
	if err != nil {
		return nil, fmt.Errorf("sipclient: phone: local IP: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Phone{
		opts:    opts,
		log:     log,
		ip:      ip,
		formats: offerFormats(opts.Codecs, dtmfPT),
		changed: make(chan struct{}),
		closed:  make(chan struct{}),
		calls:   map[string]*Incoming{},
	}
	if err := p.listen(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Phone) listen() error {
	var err error
	p.ua, err = sipgo.NewUA(
		sipgo.WithUserAgent("switchboard-e2e-phone"),
		sipgo.WithUserAgentHostname(p.ip.String()),
		sipgo.WithUserAgentTransactionLayerOptions(
			sip.WithTransactionLayerLogger(p.log),
			sip.WithTransactionLayerUnhandledResponseHandler(func(*sip.Response) {}),
		),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(p.log)),
	)
	if err != nil {
		return fmt.Errorf("sipclient: phone: user agent: %w", err)
	}
	fail := func(err error) error {
		p.closeSockets()
		p.ua.Close()
		return err
	}
	p.srv, err = sipgo.NewServer(p.ua, sipgo.WithServerLogger(p.log))
	if err != nil {
		return fail(fmt.Errorf("sipclient: phone: server: %w", err))
	}
	p.srv.OnInvite(p.onInvite)
	p.srv.OnAck(p.onAck)
	p.srv.OnBye(p.onBye)
	p.srv.OnCancel(p.onStrayCancel)
	for _, m := range []sip.RequestMethod{sip.OPTIONS, sip.INFO, sip.NOTIFY, sip.UPDATE, sip.MESSAGE} {
		p.srv.OnRequest(m, p.onOther)
	}

	// Sockets and clients first, serving last: the handlers read them.
	bind := net.JoinHostPort(p.ip.String(), "0")
	p.udp, err = net.ListenPacket("udp", bind)
	if err != nil {
		return fail(fmt.Errorf("sipclient: phone: listen udp: %w", err))
	}
	p.udpAddr = p.udp.LocalAddr().(*net.UDPAddr).AddrPort()
	p.udpCli, err = sipgo.NewClient(p.ua, sipgo.WithClientHostname(p.ip.String()), sipgo.WithClientLogger(p.log),
		sipgo.WithClientConnectionAddr(p.udpAddr.String()))
	if err != nil {
		return fail(fmt.Errorf("sipclient: phone: client: %w", err))
	}
	if p.opts.TCP {
		p.tcp, err = net.Listen("tcp", bind)
		if err != nil {
			return fail(fmt.Errorf("sipclient: phone: listen tcp: %w", err))
		}
		p.tcpAddr = p.tcp.Addr().(*net.TCPAddr).AddrPort()
		p.tcpCli, err = sipgo.NewClient(p.ua, sipgo.WithClientHostname(p.ip.String()), sipgo.WithClientLogger(p.log))
		if err != nil {
			return fail(fmt.Errorf("sipclient: phone: tcp client: %w", err))
		}
		go p.srv.ServeTCP(p.tcp)
	}
	go p.srv.ServeUDP(p.udp)
	// Requests leave from the UDP listener once sipgo has it in its pool.
	if err := waitConn(p.ua, "udp", p.udpAddr.String()); err != nil {
		return fail(err)
	}
	return nil
}

func (p *Phone) closeSockets() {
	if p.udp != nil {
		p.udp.Close()
	}
	if p.tcp != nil {
		p.tcp.Close()
	}
}

// User returns the phone's user name.
func (p *Phone) User() string { return p.opts.User }

// Addr returns the phone's UDP address.
func (p *Phone) Addr() netip.AddrPort { return p.udpAddr }

// TCPAddr returns the phone's TCP address (the zero value without TCP).
func (p *Phone) TCPAddr() netip.AddrPort { return p.tcpAddr }

// Contact returns the phone's contact URI for transport ("udp" or
// "tcp"), e.g. "sip:1001@127.0.0.1:40000".
func (p *Phone) Contact(transport string) string {
	if strings.EqualFold(transport, "tcp") {
		return "sip:" + p.opts.User + "@" + p.tcpAddr.String() + ";transport=tcp"
	}
	return "sip:" + p.opts.User + "@" + p.udpAddr.String()
}

// URI returns a request URI that reaches the phone directly as user
// over transport, e.g. for [Dial].
func (p *Phone) URI(user, transport string) string {
	if strings.EqualFold(transport, "tcp") {
		return "sip:" + user + "@" + p.tcpAddr.String() + ";transport=tcp"
	}
	return "sip:" + user + "@" + p.udpAddr.String()
}

// Register registers the phone: o.User defaults to the phone's user and
// o.Contact to its contact on transport ("udp", the default, or "tcp",
// which needs PhoneOptions.TCP). The REGISTER leaves from the phone's
// own UDP socket (or over TCP), so the registrar sees the address it
// will call. One 401/407 challenge is answered with o.Password; after a
// 2xx, [Phone.Dial] uses the same credentials. o.LocalIP and o.Logger
// are ignored: the phone's own apply.
func (p *Phone) Register(ctx context.Context, transport string, o RegisterOptions) (Response, error) {
	if o.User == "" {
		o.User = p.opts.User
	}
	cli := p.udpCli
	if strings.EqualFold(transport, "tcp") {
		if p.tcpCli == nil {
			return Response{}, errors.New("sipclient: phone: register over TCP needs PhoneOptions.TCP")
		}
		cli, transport = p.tcpCli, "tcp"
	} else {
		transport = "udp"
	}
	res, err := register(ctx, cli, transport, p.Contact(transport), o)
	if err == nil && res.Code >= 200 && res.Code < 300 && o.Expires != 0 {
		p.mu.Lock()
		p.username, p.password = o.Username, o.Password
		if p.username == "" {
			p.username = o.User
		}
		p.mu.Unlock()
	}
	return res, err
}

// Dial places a call from the phone (see [Dial]): From defaults to the
// phone's user, and Username and Password to the credentials of its
// last successful registration.
func (p *Phone) Dial(ctx context.Context, o Options) (*Call, error) {
	if o.From == "" {
		o.From = p.opts.User
	}
	if o.LocalIP == "" {
		o.LocalIP = p.opts.LocalIP
	}
	if o.Logger == nil {
		o.Logger = p.opts.Logger
	}
	p.mu.Lock()
	if o.Password == "" {
		o.Username, o.Password = p.username, p.password
	}
	p.mu.Unlock()
	return Dial(ctx, o)
}

// Requests returns every request the phone received so far, in order of
// arrival (INVITE, ACK, BYE, CANCEL, ...; retransmissions that the
// transaction layer absorbed are not listed).
func (p *Phone) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.requests...)
}

// Methods returns the methods of [Phone.Requests], e.g. "INVITE ACK BYE".
func (p *Phone) Methods() string {
	var ms []string
	for _, r := range p.Requests() {
		ms = append(ms, r.Method)
	}
	return strings.Join(ms, " ")
}

// Next waits for the next new incoming call and returns it. Every call is
// returned once, in order of arrival; calls that ended (cancelled) before
// Next took them are returned too.
func (p *Phone) Next(ctx context.Context) (*Incoming, error) {
	for {
		p.mu.Lock()
		if len(p.queue) > 0 {
			in := p.queue[0]
			p.queue = p.queue[1:]
			p.mu.Unlock()
			return in, nil
		}
		closing := p.closing
		ch := p.changed
		p.mu.Unlock()
		if closing {
			return nil, errors.New("sipclient: phone closed")
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("sipclient: phone %s: waiting for an INVITE (received: %s): %w", p.opts.User, p.Methods(), ctx.Err())
		}
	}
}

// Close ends every call still up (BYE when answered, 480 when not
// answered yet), then releases the phone's sockets and goroutines.
func (p *Phone) Close() error {
	var err error
	p.closeOnce.Do(func() {
		p.update(func() { p.closing = true })
		close(p.closed)
		p.mu.Lock()
		calls := make([]*Incoming, 0, len(p.calls))
		for _, in := range p.calls {
			calls = append(calls, in)
		}
		p.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, in := range calls {
			if e := in.close(ctx); e != nil && err == nil {
				err = e
			}
		}
		p.handlers.Wait()
		for _, in := range calls {
			in.media.close()
		}
		p.closeSockets()
		p.ua.Close()
	})
	return err
}

// update changes phone state under the lock and wakes waiters.
func (p *Phone) update(f func()) {
	p.mu.Lock()
	f()
	p.changed.wake()
	p.mu.Unlock()
}

func (p *Phone) record(req *sip.Request) Request {
	r := newRequest(req)
	p.update(func() { p.requests = append(p.requests, r) })
	return r
}

// call returns the incoming call req belongs to, or nil.
func (p *Phone) call(req *sip.Request) *Incoming {
	id := req.CallID()
	if id == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[string(*id)]
}

// client returns the client for a transport ("UDP", "TCP").
func (p *Phone) client(transport string) *sipgo.Client {
	if strings.EqualFold(transport, "tcp") && p.tcpCli != nil {
		return p.tcpCli
	}
	return p.udpCli
}

// onInvite takes a new INVITE as an incoming call, and answers a
// re-INVITE in one of its dialogs. The handler of a new INVITE lasts
// until the call has its final response (or is cancelled): sipgo ends a
// server transaction whose handler returns without one.
func (p *Phone) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	received := p.record(req)
	if in := p.call(req); in != nil {
		if req.To().Params.Has("tag") {
			in.onReInvite(req, tx)
			return
		}
		// A retransmission the transaction layer did not catch (another
		// branch): the original is being handled.
		return
	}
	p.mu.Lock()
	if p.closing {
		p.mu.Unlock()
		tx.Respond(sip.NewResponseFromRequest(req, 503, "Service Unavailable", nil))
		return
	}
	p.handlers.Add(1)
	p.mu.Unlock()
	defer p.handlers.Done()

	in, err := p.newIncoming(req, tx, received)
	if err != nil {
		p.log.Warn("incoming call refused", "error", err)
		tx.Respond(sip.NewResponseFromRequest(req, 500, "Server Internal Error", nil))
		return
	}
	in.start()
	p.update(func() {
		p.calls[received.CallID] = in
		p.queue = append(p.queue, in)
	})
	in.serve()
}

func (p *Phone) onAck(req *sip.Request, tx sip.ServerTransaction) {
	p.record(req)
	if in := p.call(req); in != nil {
		in.onAck(req)
	}
}

func (p *Phone) onBye(req *sip.Request, tx sip.ServerTransaction) {
	r := p.record(req)
	in := p.call(req)
	if in == nil {
		tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	in.onBye(req, tx, r)
}

// onStrayCancel answers a CANCEL that matched no INVITE transaction (the
// ones that do are answered by the transaction layer, and seen by the
// call's OnCancel callback).
func (p *Phone) onStrayCancel(req *sip.Request, tx sip.ServerTransaction) {
	p.record(req)
	tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
}

func (p *Phone) onOther(req *sip.Request, tx sip.ServerTransaction) {
	p.record(req)
	if req.Method != sip.OPTIONS && p.call(req) == nil {
		tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
}

// Incoming is one call a [Phone] received. The test decides what happens
// to it: [Incoming.Ring], [Incoming.EarlyMedia], then [Incoming.Answer]
// or [Incoming.Reject]. Once answered it has the media methods of a
// [Call] (Send, SendTone, SendDTMF, Recording, WaitTone, WaitDigits, ...),
// available from EarlyMedia on. Its methods may be used from several
// goroutines.
type Incoming struct {
	mediaLeg
	phone   *Phone
	req     *sip.Request // the INVITE; its To carries our tag
	tx      sip.ServerTransaction
	invite  Request // the INVITE as received
	cli     *sipgo.Client
	contact *sip.ContactHeader
	offer   *mediaDesc // nil for an INVITE without SDP
	sessID  uint64
	target  sip.Uri  // remote target: the INVITE's Contact
	routes  []string // route set: the INVITE's Record-Route, in order

	mu          sync.Mutex
	changed     signal        // woken on every change
	sent        []int         // status codes sent
	answerSDP   []byte        // our SDP in 183/200, once built
	ok          *sip.Response // the 2xx, re-sent until the ACK
	finalizing  bool          // a final response is being sent
	final       int           // final status sent; 0 before
	acked       bool
	cancelled   bool
	cancelCause Cause
	remoteBye   bool
	byeCause    Cause
	ended       bool
	endErr      error
	cseq        uint32
	sdpVer      int
	done        chan struct{}
	closeOnce   sync.Once
}

func (p *Phone) newIncoming(req *sip.Request, tx sip.ServerTransaction, received Request) (*Incoming, error) {
	var rnd [12]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, fmt.Errorf("sipclient: random: %w", err)
	}
	in := &Incoming{
		phone:   p,
		req:     req,
		tx:      tx,
		invite:  received,
		cli:     p.client(req.Transport()),
		changed: make(chan struct{}),
		done:    make(chan struct{}),
		sessID:  binary.BigEndian.Uint64(rnd[:8]) >> 1,
		cseq:    binary.BigEndian.Uint32(rnd[8:]) >> 16,
		sdpVer:  1,
	}
	in.legDone = in.done
	if len(req.Body()) > 0 {
		md, err := parseSDP(req.Body())
		if err != nil {
			return nil, fmt.Errorf("offer: %w", err)
		}
		in.offer = &md
	}
	if c := req.Contact(); c != nil {
		in.target = *c.Address.Clone()
	} else {
		in.target = *req.From().Address.Clone()
	}
	for _, h := range req.GetHeaders("Record-Route") {
		in.routes = append(in.routes, h.Value())
	}
	port, transport := p.udpAddr.Port(), "udp"
	if strings.EqualFold(req.Transport(), "tcp") && p.tcp != nil {
		port, transport = p.tcpAddr.Port(), "tcp"
	}
	in.contact = &sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: p.opts.User, Host: p.ip.String(), Port: int(port)}}
	if transport == "tcp" {
		in.contact.Address.UriParams = sip.NewParams()
		in.contact.Address.UriParams.Add("transport", "tcp")
	}
	var err error
	if in.media, err = newRTPSession(p.ip); err != nil {
		return nil, err
	}
	return in, nil
}

// start runs in the INVITE's handler before the call is handed to the
// test: it watches for CANCEL, fixes the To tag every response carries
// (the transaction layer's own 487 to a CANCEL included, as it builds it
// from this request) and sends 100 Trying.
func (in *Incoming) start() {
	in.req.To().Params.Add("tag", sip.GenerateTagN(16))
	if !in.tx.OnCancel(in.onCancel) && errors.Is(in.tx.Err(), sip.ErrTransactionCanceled) {
		in.onCancel(nil)
	}
	in.tx.Respond(sip.NewResponseFromRequest(in.req, 100, "Trying", nil))
}

// serve runs in the INVITE's handler and waits until the call has a
// final response (sipgo ends the transaction when the handler returns).
func (in *Incoming) serve() {
	for {
		in.mu.Lock()
		finished := in.final != 0 || in.ended
		ch := in.changed
		in.mu.Unlock()
		if finished {
			return
		}
		select {
		case <-ch:
		case <-in.tx.Done():
			in.update(func() {
				if in.final == 0 && !in.ended {
					in.ended = true
					if in.endErr == nil {
						in.endErr = fmt.Errorf("sipclient: INVITE transaction ended: %w", in.tx.Err())
					}
				}
			})
			in.finish()
			return
		case <-in.phone.closed:
			// Close rejects the calls still ringing: wait for that, a
			// little.
			deadline := time.After(5 * time.Second)
			for {
				in.mu.Lock()
				finished := in.final != 0 || in.ended
				ch := in.changed
				in.mu.Unlock()
				if finished {
					return
				}
				select {
				case <-ch:
				case <-deadline:
					return
				}
			}
		}
	}
}

// onCancel runs when the transaction layer has answered a CANCEL (200)
// and the INVITE (487). r is nil when the CANCEL came before the
// callback was installed.
func (in *Incoming) onCancel(r *sip.Request) {
	var cause Cause
	if r != nil {
		rec := in.phone.record(r)
		cause, _ = rec.Cause()
	}
	in.update(func() {
		if in.final == 0 && !in.ended {
			in.cancelled, in.cancelCause = true, cause
			in.final = 487
			in.sent = append(in.sent, 487)
			in.ended = true
		}
	})
	in.finish()
}

func (in *Incoming) onAck(req *sip.Request) {
	var body []byte
	in.mu.Lock()
	// Only a 2xx's ACK reaches here (the transaction absorbs the ACK of
	// a failure), and it may come before sendFinal has recorded the 200
	// it answers: in.ok is not checked.
	if in.offer == nil && len(req.Body()) > 0 && !in.acked {
		body = req.Body()
	}
	in.mu.Unlock()
	if body != nil {
		// Late offer: the ACK carries the answer to our offer in the 2xx.
		if err := in.applyAnswer(body); err != nil {
			in.phone.log.Warn("bad SDP answer in ACK", "error", err)
		}
	}
	in.update(func() { in.acked = true })
}

func (in *Incoming) applyAnswer(body []byte) error {
	md, err := parseSDP(body)
	if err != nil {
		return err
	}
	n, err := negotiate(md, in.phone.formats)
	if err != nil {
		return err
	}
	in.media.setState(mediaState(n))
	return nil
}

func (in *Incoming) onBye(req *sip.Request, tx sip.ServerTransaction, r Request) {
	cause, _ := r.Cause()
	// The call ends before the 200 leaves: a far end that goes on at the
	// 200 finds it over.
	in.update(func() {
		if !in.ended {
			in.remoteBye, in.byeCause = true, cause
			in.ended = true
		}
	})
	in.finish()
	tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
}

// onReInvite answers a re-INVITE with our current formats (for a session
// refresh or a media change of the far end).
func (in *Incoming) onReInvite(req *sip.Request, tx sip.ServerTransaction) {
	in.answerReinvite(req, tx, in.phone.formats, in.sessID, func() int {
		in.mu.Lock()
		defer in.mu.Unlock()
		in.sdpVer++
		return in.sdpVer
	}, in.contact)
}

// update changes call state under the lock and wakes waiters.
func (in *Incoming) update(f func()) {
	in.mu.Lock()
	f()
	in.changed.wake()
	in.mu.Unlock()
}

// finish closes Done once the call has ended.
func (in *Incoming) finish() {
	in.closeOnce.Do(func() { close(in.done) })
}

// waitState blocks until cond (run under the lock) holds or ctx ends.
func (in *Incoming) waitState(ctx context.Context, cond func() bool) error {
	return waitUntil(ctx, &in.mu, &in.changed, cond)
}

// Invite returns the INVITE as it arrived.
func (in *Incoming) Invite() Request { return in.invite }

// From returns the INVITE's From: the caller.
func (in *Incoming) From() Address { return in.invite.From }

// To returns the INVITE's To.
func (in *Incoming) To() Address { return in.invite.To }

// CallID returns the call's Call-ID.
func (in *Incoming) CallID() string { return in.invite.CallID }

// Offered reports whether the INVITE carried an SDP offer.
func (in *Incoming) Offered() bool { return in.offer != nil }

// answerBody returns our SDP for this call: the answer to the INVITE's
// offer (its first codec we accept, and its telephone-event type), or
// our own offer for an INVITE without SDP. The media state is set from
// the offer the first time.
func (in *Incoming) answerBody() ([]byte, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.answerSDP != nil {
		return in.answerSDP, nil
	}
	if in.offer == nil {
		in.answerSDP = buildSDP(in.sessID, in.sdpVer, in.media.local, in.phone.formats)
		return in.answerSDP, nil
	}
	n, err := negotiate(*in.offer, in.phone.formats)
	if err != nil {
		return nil, err
	}
	in.media.setState(mediaState(n))
	formats := []format{n.audio}
	if n.dtmf.PT != 0 {
		formats = append(formats, n.dtmf)
	}
	in.answerSDP = buildSDP(in.sessID, in.sdpVer, in.media.local, formats)
	return in.answerSDP, nil
}

// response builds a response to the INVITE with our To tag, Contact
// (for 1xx and 2xx) and body.
func (in *Incoming) response(code int, phrase string, body []byte, hdrs ...Header) *sip.Response {
	res := sip.NewResponseFromRequest(in.req, code, phrase, body)
	if code < 300 {
		res.AppendHeader(in.contact)
		res.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, NOTIFY, UPDATE"))
	}
	if len(body) > 0 {
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	for _, h := range hdrs {
		res.AppendHeader(sip.NewHeader(h.Name, h.Value))
	}
	return res
}

// provisional sends a 1xx, unless the call already has a final response.
func (in *Incoming) provisional(code int, phrase string, body []byte) error {
	in.mu.Lock()
	if in.final != 0 || in.finalizing || in.ended {
		err := in.stateErrLocked()
		in.mu.Unlock()
		return err
	}
	in.mu.Unlock()
	if err := in.tx.Respond(in.response(code, phrase, body)); err != nil {
		return fmt.Errorf("sipclient: send %d: %w", code, err)
	}
	in.update(func() { in.sent = append(in.sent, code) })
	return nil
}

func (in *Incoming) stateErrLocked() error {
	switch {
	case in.cancelled:
		return fmt.Errorf("sipclient: call cancelled: %w", ErrEnded)
	case in.final != 0 || in.finalizing:
		return fmt.Errorf("sipclient: the call already has its final response (%d)", in.final)
	case in.endErr != nil:
		return in.endErr
	}
	return ErrEnded
}

// Ring sends 180 Ringing.
func (in *Incoming) Ring() error { return in.provisional(180, "Ringing", nil) }

// EarlyMedia sends 183 Session Progress with the SDP answer, after which
// the media methods work (the far end hears early media). It needs an
// INVITE with an offer.
func (in *Incoming) EarlyMedia() error {
	if in.offer == nil {
		return errors.New("sipclient: early media needs an INVITE with SDP")
	}
	body, err := in.answerBody()
	if err != nil {
		return fmt.Errorf("sipclient: early media: %w", err)
	}
	return in.provisional(183, "Session Progress", body)
}

// sendFinal sends a final response to the INVITE, once: it fails when
// the call already has one (a CANCEL's 487 included).
func (in *Incoming) sendFinal(res *sip.Response) error {
	in.mu.Lock()
	if in.final != 0 || in.finalizing || in.ended {
		err := in.stateErrLocked()
		in.mu.Unlock()
		return err
	}
	in.finalizing = true
	in.mu.Unlock()
	err := in.tx.Respond(res)
	var fail error
	in.update(func() {
		in.finalizing = false
		switch {
		case in.cancelled:
			// The CANCEL won: the transaction answered 487 first.
			fail = in.stateErrLocked()
		case err != nil:
			fail = fmt.Errorf("sipclient: send %d: %w", res.StatusCode, err)
			in.ended, in.endErr = true, fail
		default:
			in.final = res.StatusCode
			in.sent = append(in.sent, res.StatusCode)
			if res.StatusCode < 300 {
				in.ok = res
			} else {
				in.ended = true
			}
		}
	})
	if fail != nil || res.StatusCode >= 300 {
		in.finish()
	}
	return fail
}

// Answer sends 200 OK with the SDP answer (or, for an INVITE without
// SDP, an offer that the ACK answers) and, over UDP, re-sends it (T1
// doubling up to T2) until the ACK arrives. It returns once the ACK has
// arrived, or the far end hung up with BYE (which shows it had the 200).
// An offer with no codec in common is refused with 488 and an error.
func (in *Incoming) Answer(ctx context.Context) error {
	body, err := in.answerBody()
	if err != nil {
		if rerr := in.Reject(488, "Not Acceptable Here"); rerr != nil {
			return fmt.Errorf("sipclient: answer: %w (and rejecting: %v)", err, rerr)
		}
		return fmt.Errorf("sipclient: answer: %w", err)
	}
	res := in.response(200, "OK", body)
	if err := in.sendFinal(res); err != nil {
		return err
	}
	reliable := sip.IsReliable(in.req.Transport())
	interval := sip.T1
	giveUp := time.NewTimer(64 * sip.T1)
	defer giveUp.Stop()
	for {
		in.mu.Lock()
		confirmed := in.acked || in.remoteBye
		ended := in.ended
		ch := in.changed
		in.mu.Unlock()
		if confirmed {
			return nil
		}
		if ended {
			return fmt.Errorf("sipclient: call ended before the ACK: %w", ErrEnded)
		}
		var resend <-chan time.Time
		var timer *time.Timer
		if !reliable {
			timer = time.NewTimer(interval)
			resend = timer.C
		}
		select {
		case <-ch:
		case <-resend:
			// The transaction passes 2xx retransmissions on while it
			// lasts; after that the transport takes them directly.
			if err := in.tx.Respond(res); err != nil {
				if err := in.phone.srv.WriteResponse(res); err != nil {
					in.phone.log.Warn("re-sending 200 failed", "error", err)
				}
			}
			interval = min(2*interval, sip.T2)
		case <-giveUp.C:
			if timer != nil {
				timer.Stop()
			}
			return fmt.Errorf("sipclient: no ACK for the 200 within %v", 64*sip.T1)
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return fmt.Errorf("sipclient: waiting for the ACK: %w", ctx.Err())
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// Reject sends the final response code (300 to 699) with phrase and any
// extra headers, e.g. Header{"Reason", `Q.850;cause=17;text="USER_BUSY"`}.
func (in *Incoming) Reject(code int, phrase string, hdrs ...Header) error {
	if code < 300 || code > 699 {
		return fmt.Errorf("sipclient: reject with %d: want 300 to 699", code)
	}
	return in.sendFinal(in.response(code, phrase, nil, hdrs...))
}

// Hangup ends an answered call with BYE.
func (in *Incoming) Hangup(ctx context.Context) error { return in.HangupWithReason(ctx, "") }

// HangupWithReason ends an answered call with BYE carrying the Reason
// header reason (none when empty), e.g. `Q.850;cause=16;text="NORMAL_CLEARING"`.
// It is a no-op on a call that has ended, and an error on one that was
// not answered (use [Incoming.Reject]).
func (in *Incoming) HangupWithReason(ctx context.Context, reason string) error {
	in.mu.Lock()
	ended, answered := in.ended, in.ok != nil
	in.mu.Unlock()
	switch {
	case ended:
		return nil
	case !answered:
		return errors.New("sipclient: hangup of an unanswered incoming call: reject it instead")
	}
	return in.bye(ctx, reason)
}

// bye sends BYE in the dialog and ends the call when it is answered.
func (in *Incoming) bye(ctx context.Context, reason string) error {
	in.mu.Lock()
	in.cseq++
	req := sip.NewRequest(sip.BYE, *in.target.Clone())
	req.SetTransport(in.req.Transport())
	from := &sip.FromHeader{DisplayName: in.req.To().DisplayName, Address: *in.req.To().Address.Clone(), Params: in.req.To().Params.Clone()}
	to := &sip.ToHeader{DisplayName: in.req.From().DisplayName, Address: *in.req.From().Address.Clone(), Params: in.req.From().Params.Clone()}
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(sip.HeaderClone(in.req.CallID()))
	req.AppendHeader(&sip.CSeqHeader{SeqNo: in.cseq, MethodName: sip.BYE})
	for _, r := range in.routes {
		req.AppendHeader(sip.NewHeader("Route", r))
	}
	req.AppendHeader(in.contact)
	in.mu.Unlock()
	if reason != "" {
		req.AppendHeader(sip.NewHeader("Reason", reason))
	}
	res, err := in.cli.Do(ctx, req)
	if err != nil {
		return fmt.Errorf("sipclient: BYE: %w", err)
	}
	in.update(func() { in.ended = true })
	in.finish()
	if res.StatusCode >= 300 {
		return fmt.Errorf("sipclient: BYE answered %d %s", res.StatusCode, res.Reason)
	}
	return nil
}

// close ends the call for Phone.Close: BYE when answered, 480 when it
// has no final response yet.
func (in *Incoming) close(ctx context.Context) error {
	in.mu.Lock()
	ended, answered := in.ended, in.ok != nil
	in.mu.Unlock()
	switch {
	case ended:
		return nil
	case answered:
		return in.bye(ctx, "")
	}
	err := in.Reject(480, "Temporarily Unavailable")
	if err != nil && errors.Is(err, ErrEnded) {
		return nil
	}
	return err
}

// Done is closed when the call has ended: rejected, cancelled, or hung
// up by either side.
func (in *Incoming) Done() <-chan struct{} { return in.done }

// Answered reports whether the phone answered the call with 200.
func (in *Incoming) Answered() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.ok != nil
}

// Acked reports whether the ACK for the 200 has arrived.
func (in *Incoming) Acked() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.acked
}

// Sent returns the status codes sent so far, in order (100 Trying
// excluded; a 487 the transaction sent for a CANCEL included).
func (in *Incoming) Sent() []int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]int(nil), in.sent...)
}

// RemoteBye reports whether the far end hung up with BYE, and the cause
// its Reason header gave (zero if it had none).
func (in *Incoming) RemoteBye() (Cause, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.byeCause, in.remoteBye
}

// WaitBye waits until the far end hangs up with BYE and returns the
// cause of its Reason header (zero without one). It fails if the call
// ends another way.
func (in *Incoming) WaitBye(ctx context.Context) (Cause, error) {
	select {
	case <-in.done:
	case <-ctx.Done():
		return Cause{}, fmt.Errorf("sipclient: waiting for BYE (%v): %w", in, ctx.Err())
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.remoteBye {
		return Cause{}, fmt.Errorf("sipclient: incoming call ended without a BYE from the far end: %w", in.stateErrLocked())
	}
	return in.byeCause, nil
}

// Cancelled reports whether the far end cancelled the call, and the
// cause of the CANCEL's Reason header (zero if it had none).
func (in *Incoming) Cancelled() (Cause, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.cancelCause, in.cancelled
}

// WaitCancel waits until the far end cancels the call and returns the
// cause of the CANCEL's Reason header (zero without one). It fails if
// the call ends another way.
func (in *Incoming) WaitCancel(ctx context.Context) (Cause, error) {
	select {
	case <-in.done:
	case <-ctx.Done():
		return Cause{}, fmt.Errorf("sipclient: waiting for CANCEL (%v): %w", in, ctx.Err())
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.cancelled {
		return Cause{}, fmt.Errorf("sipclient: incoming call ended without a CANCEL (%v)", in.stringLocked())
	}
	return in.cancelCause, nil
}

// String describes the call for test failure messages: the caller, the
// responses sent and how it ended.
func (in *Incoming) String() string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.stringLocked()
}

func (in *Incoming) stringLocked() string {
	var b strings.Builder
	fmt.Fprintf(&b, "incoming call from %s to %s: sent", in.invite.From, in.invite.URI)
	for _, c := range in.sent {
		fmt.Fprintf(&b, " %d", c)
	}
	if len(in.sent) == 0 {
		b.WriteString(" nothing")
	}
	switch {
	case in.cancelled:
		fmt.Fprintf(&b, "; cancelled (Reason %s;cause=%d;text=%q)", in.cancelCause.Protocol, in.cancelCause.Code, in.cancelCause.Text)
	case in.remoteBye:
		fmt.Fprintf(&b, "; far end hung up (Reason %s;cause=%d;text=%q)", in.byeCause.Protocol, in.byeCause.Code, in.byeCause.Text)
	case in.ended && in.endErr != nil:
		fmt.Fprintf(&b, "; ended: %v", in.endErr)
	case in.ended:
		b.WriteString("; ended")
	case in.acked:
		b.WriteString("; up")
	}
	return b.String()
}
