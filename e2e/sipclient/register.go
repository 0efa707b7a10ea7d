package sipclient

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// RegisterOptions describe one REGISTER.
type RegisterOptions struct {
	// Server is the registrar's address, host:port.
	Server string
	// User and Domain make the address of record, sip:User@Domain
	// (Domain defaults to the server's host).
	User, Domain string
	// Username (default User) and Password answer the 401 challenge.
	Username, Password string
	// Contact is the contact URI to bind (default sip:User@LocalIP:port
	// of the client's socket); "*" with Expires 0 removes every binding.
	Contact string
	// Expires is the Expires header in seconds; negative leaves it out.
	Expires int
	// LocalIP is the address the client binds (default 127.0.0.1).
	LocalIP string
	// Logger receives sipgo's logs; nil discards them.
	Logger *slog.Logger
}

// Register sends a REGISTER over UDP, answers one 401 challenge with the
// password, and returns the final response.
func Register(ctx context.Context, o RegisterOptions) (Response, error) {
	if o.LocalIP == "" {
		o.LocalIP = "127.0.0.1"
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ip, err := netip.ParseAddr(o.LocalIP)
	if err != nil {
		return Response{}, fmt.Errorf("sipclient: local IP: %w", err)
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("switchboard-e2e"), sipgo.WithUserAgentHostname(ip.String()),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(log)),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(log)))
	if err != nil {
		return Response{}, fmt.Errorf("sipclient: user agent: %w", err)
	}
	defer ua.Close()
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(log))
	if err != nil {
		return Response{}, fmt.Errorf("sipclient: server: %w", err)
	}
	pc, err := net.ListenPacket("udp", net.JoinHostPort(ip.String(), "0"))
	if err != nil {
		return Response{}, fmt.Errorf("sipclient: listen udp: %w", err)
	}
	defer pc.Close()
	go func() { _ = srv.ServeUDP(pc) }()
	addr := pc.LocalAddr().String()
	if err := waitConn(ua, "udp", addr); err != nil {
		return Response{}, err
	}
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname(ip.String()), sipgo.WithClientLogger(log), sipgo.WithClientConnectionAddr(addr))
	if err != nil {
		return Response{}, fmt.Errorf("sipclient: client: %w", err)
	}
	return register(ctx, cli, "udp", "sip:"+o.User+"@"+addr, o)
}

// register sends the REGISTER of o through cli over transport, binding
// contact unless o names another, and answers one 401/407 challenge.
func register(ctx context.Context, cli *sipgo.Client, transport, contact string, o RegisterOptions) (Response, error) {
	if o.Username == "" {
		o.Username = o.User
	}
	host, _, err := net.SplitHostPort(o.Server)
	if err != nil {
		return Response{}, fmt.Errorf("sipclient: server %q: %w", o.Server, err)
	}
	if o.Domain == "" {
		o.Domain = host
	}
	var recipient sip.Uri
	if err := sip.ParseUri("sip:"+o.Server, &recipient); err != nil {
		return Response{}, fmt.Errorf("sipclient: server %q: %w", o.Server, err)
	}
	req := sip.NewRequest(sip.REGISTER, recipient)
	req.SetTransport(strings.ToUpper(transport))
	aor := sip.Uri{Scheme: "sip", User: o.User, Host: o.Domain}
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor, Params: sip.NewParams()})
	if o.Contact != "" {
		contact = o.Contact
	}
	if contact != "*" {
		contact = "<" + contact + ">"
	}
	req.AppendHeader(sip.NewHeader("Contact", contact))
	if o.Expires >= 0 {
		req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(o.Expires)))
	}
	res, err := cli.Do(ctx, req, sipgo.ClientRequestRegisterBuild)
	if err != nil {
		return Response{}, fmt.Errorf("sipclient: REGISTER: %w", err)
	}
	if res.StatusCode == 401 || res.StatusCode == 407 {
		res, err = cli.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: o.Username, Password: o.Password})
		if err != nil {
			return Response{}, fmt.Errorf("sipclient: REGISTER with credentials: %w", err)
		}
	}
	return newResponse(res), nil
}
