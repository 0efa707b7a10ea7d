// Command fakeswitch stands in for `switchboard run` in the harness's own
// tests: it takes the same flags, listens on the SIP port it is given,
// serves expvar on --debug-addr, prints a ready line and exits 0 on
// SIGTERM. A datagram "open N" or "close N" on the SIP port moves its
// rtp_ports_open counter, so tests can make it leak and recover.
//
// FAKE_NO_RUN=1 makes it lack the run command, FAKE_DIE=1 makes it exit
// 3 before it is ready, and FAKE_TERM_EXIT=N makes SIGTERM exit N.
package main

import (
	"expvar"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

type sets map[string]string

func (s sets) String() string { return fmt.Sprint(map[string]string(s)) }

func (s sets) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("want NAME=VALUE")
	}
	s[k] = val
	return nil
}

func main() {
	if len(os.Args) < 2 || os.Args[1] != "run" || os.Getenv("FAKE_NO_RUN") == "1" {
		fmt.Fprintf(os.Stderr, "switchboard: unknown command %q\n", strings.Join(os.Args[1:2], ""))
		os.Exit(2)
	}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	conf := fs.String("conf", "", "configuration directory")
	state := fs.String("state-dir", "", "state directory")
	fs.String("log-level", "warn", "log level")
	debugAddr := fs.String("debug-addr", "", "expvar and pprof address")
	fs.String("admin-addr", "", "admin HTTP address (ignored)")
	set := sets{}
	fs.Var(set, "set", "NAME=VALUE")
	if err := fs.Parse(os.Args[2:]); err != nil {
		if err == flag.ErrHelp {
			os.Exit(0)
		}
		os.Exit(2)
	}
	if os.Getenv("FAKE_DIE") == "1" {
		fmt.Fprintln(os.Stderr, "fatal: cannot load configuration")
		os.Exit(3)
	}
	if *conf != "" {
		if _, err := os.Stat(filepath.Join(*conf, "freeswitch.xml")); err != nil {
			fmt.Fprintln(os.Stderr, "fatal:", err)
			os.Exit(1)
		}
	}
	if *state == "" {
		fmt.Fprintln(os.Stderr, "fatal: no state dir")
		os.Exit(1)
	}
	port := set["internal_sip_port"]
	pc, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		fmt.Fprintln(os.Stderr, "fatal:", err)
		os.Exit(1)
	}
	ports := expvar.NewInt("rtp_ports_open")
	expvar.NewInt("sessions")
	expvar.Publish("goroutines", expvar.Func(func() any { return runtime.NumGoroutine() }))
	go func() {
		buf := make([]byte, 1500)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			verb, num, _ := strings.Cut(string(buf[:n]), " ")
			d, _ := strconv.Atoi(num)
			switch verb {
			case "open":
				ports.Add(int64(d))
			case "close":
				ports.Add(int64(-d))
			}
		}
	}()
	dl, err := net.Listen("tcp", *debugAddr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fatal:", err)
		os.Exit(1)
	}
	go http.Serve(dl, nil)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	fmt.Fprintf(os.Stderr, "level=INFO msg=\"switchboard ready\" sip=127.0.0.1:%s\n", port)
	<-sig
	fmt.Fprintln(os.Stderr, "level=INFO msg=\"shutting down\"")
	if code := os.Getenv("FAKE_TERM_EXIT"); code != "" {
		n, _ := strconv.Atoi(code)
		os.Exit(n)
	}
}
