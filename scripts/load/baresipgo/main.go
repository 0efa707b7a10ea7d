// Command baresipgo is the signalling baseline of scripts/load.sh: the
// least a program built on github.com/emiago/sipgo (the library the switch
// uses) does for the signalling scenario. It answers every INVITE with
// 100 Trying and a 200 OK carrying a fixed G.711 answer, and once the ACK
// has come sends BYE, through sipgo's own dialog cache — no dialplan,
// session, variables, media port or logging. Its CPU per call, measured
// like the switch's, is the floor the switch's figure is compared with.
//
//	baresipgo -addr 127.0.0.1:5090 -linger 2s
//
// It runs until SIGINT or SIGTERM and then prints how many calls it
// answered and hung up.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:5090", "UDP address to listen on")
	linger := flag.Duration("linger", 2*time.Second, "how long finished transactions are kept (Timers D, J, L, M), as the switch's --sip-linger")
	flag.Parse()
	if err := run(*addr, *linger); err != nil {
		fmt.Fprintln(os.Stderr, "baresipgo:", err)
		os.Exit(1)
	}
}

func run(addr string, linger time.Duration) error {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return err
	}
	sip.Timer_D, sip.Timer_J, sip.Timer_L, sip.Timer_M = linger, linger, linger, linger
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("baresipgo"), sipgo.WithUserAgentHostname(host),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(quiet)),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(quiet)))
	if err != nil {
		return err
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(quiet))
	if err != nil {
		return err
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientLogger(quiet), sipgo.WithClientHostname(host))
	if err != nil {
		return err
	}
	dialogs := sipgo.NewDialogServerCache(client, sip.ContactHeader{
		Address: sip.Uri{Scheme: "sip", User: "bare", Host: host, Port: port},
	})
	answer := []byte("v=0\r\no=bare 1 1 IN IP4 " + host + "\r\ns=-\r\nc=IN IP4 " + host +
		"\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n" +
		"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\n")
	var answered, hungUp atomic.Uint64

	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		dlg, err := dialogs.ReadInvite(req, tx)
		if err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad Request", nil))
			return
		}
		defer dlg.Close()
		if err := dlg.Respond(100, "Trying", nil); err != nil {
			return
		}
		if err := dlg.Respond(200, "OK", answer, sip.NewHeader("Content-Type", "application/sdp")); err != nil {
			return
		}
		answered.Add(1)
		// WriteBye waits for the ACK (the dialog confirmed) itself.
		if err := dlg.Bye(context.Background()); err == nil {
			hungUp.Add(1)
		}
	})
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = dialogs.ReadAck(req, tx)
	})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if err := dialogs.ReadBye(req, tx); err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		}
	})

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe(ctx, "udp", addr) }()
	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	fmt.Printf("answered=%d hung_up=%d\n", answered.Load(), hungUp.Load())
	return nil
}
