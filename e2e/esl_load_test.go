package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/e2e/harness"
	"github.com/switchboard-voip/switchboard/esl"
)

// fanOutEnv turns on TestESLFanOutFigures, the measurement behind the
// "Event socket" figures of docs/PERFORMANCE.md; fanOutSecondsEnv sets the
// length of each phase (default 30 s), fanOutRateEnv the call rate
// (default 200 calls/s), and fanOutProfileEnv a file prefix for the
// switch's CPU profile of each phase (<prefix>-<subscribers>.pprof).
const (
	fanOutEnv        = "SWITCHBOARD_ESL_FANOUT"
	fanOutSecondsEnv = "SWITCHBOARD_ESL_FANOUT_SECONDS"
	fanOutRateEnv    = "SWITCHBOARD_ESL_FANOUT_RATE"
	fanOutProfileEnv = "SWITCHBOARD_ESL_FANOUT_PROFILE"
)

// fanOutPhase is what one phase measured.
type fanOutPhase struct {
	subscribers       int
	ok, failed        int
	p50, p99, max     float64 // INVITE→200, ms
	events, bytes     int64   // delivered to all subscribers together
	hangups           []int64 // CHANNEL_HANGUP_COMPLETE seen by each subscriber
	dropped, dropped2 int64   // subscribers disconnected; notices lost in the client
	seconds           float64
}

// TestESLFanOutFigures places calls with SIPp at a steady rate through the
// echo extension (INVITE, 200, ACK, 0.5 s, BYE), first with no event
// subscriber, then with ten clients subscribed to every event, and
// reports call setup times and the events delivered. It asserts only what
// must hold whatever the machine: no failed call, every subscriber saw
// every call's CHANNEL_HANGUP_COMPLETE and none was dropped. The times
// are reported, not checked.
//
//	SWITCHBOARD_ESL_FANOUT=1 go test ./e2e -run TestESLFanOutFigures -v
func TestESLFanOutFigures(t *testing.T) {
	if os.Getenv(fanOutEnv) != "1" {
		t.Skipf("a measurement: set %s=1 to run it", fanOutEnv)
	}
	sipp := requireTool(t, "sipp")
	requireRun(t)
	secs := envInt(t, fanOutSecondsEnv, 30)
	rate := envInt(t, fanOutRateEnv, 200)

	// The test configuration with limits raised for the rate.
	conf := filepath.Join(t.TempDir(), "conf")
	if err := harness.CopyTree(filepath.Join("testdata", "conf"), conf); err != nil {
		t.Fatal(err)
	}
	sc := filepath.Join(conf, "autoload_configs", "switch.conf.xml")
	b, err := os.ReadFile(sc)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer(`"max-sessions" value="100"`, `"max-sessions" value="10000"`,
		`"sessions-per-second" value="100"`, `"sessions-per-second" value="10000"`).Replace(string(b))
	if err := os.WriteFile(sc, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	port, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	sw := harness.Start(t, harness.Options{
		Binary:   build.bin,
		ConfDir:  conf,
		LogLevel: "warn",
		Set:      map[string]string{"esl_port": strconv.Itoa(port), "test_rtp_end": "32000"},
		Args:     []string{"--sip-linger", "2s"},
	})
	addr := "127.0.0.1:" + strconv.Itoa(port)
	scenario, err := filepath.Abs(filepath.Join("testdata", "sipp", "uac_bye.xml"))
	if err != nil {
		t.Fatal(err)
	}

	var phases []fanOutPhase
	for _, subs := range []int{0, 10} {
		ph := fanOutPhase{subscribers: subs, hangups: make([]int64, subs)}
		ctx, cancel := context.WithTimeout(t.Context(), time.Duration(secs+120)*time.Second)
		var wg sync.WaitGroup
		var subscribers []net.Conn
		for i := range subs {
			nc, r := subscribe(t, addr)
			subscribers = append(subscribers, nc)
			wg.Add(1)
			go func() {
				defer wg.Done()
				countEvents(r, &ph, i)
			}()
		}
		dir := t.TempDir()
		sipPort, err := harness.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		mediaPort, err := harness.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		profiled := make(chan struct{})
		if prefix := os.Getenv(fanOutProfileEnv); prefix != "" {
			go func() {
				defer close(profiled)
				time.Sleep(2 * time.Second) // into the steady state
				cl := &http.Client{Timeout: time.Duration(secs+30) * time.Second}
				res, err := cl.Get("http://" + sw.DebugAddr + "/debug/pprof/profile?seconds=" + strconv.Itoa(max(1, secs-4)))
				if err == nil {
					var prof []byte
					prof, err = io.ReadAll(res.Body)
					res.Body.Close()
					if err == nil {
						err = os.WriteFile(fmt.Sprintf("%s-%d.pprof", prefix, subs), prof, 0o644)
					}
				}
				if err != nil {
					t.Errorf("profile: %v", err)
				}
			}()
		} else {
			close(profiled)
		}
		start := time.Now()
		cmd := exec.CommandContext(ctx, sipp, "-sf", scenario, "-s", "9196", sw.SIPAddr.String(),
			"-i", "127.0.0.1", "-p", strconv.Itoa(sipPort), "-mi", "127.0.0.1", "-mp", strconv.Itoa(mediaPort),
			"-r", strconv.Itoa(rate), "-m", strconv.Itoa(rate*secs), "-l", strconv.Itoa(rate*5),
			"-nostdin", "-timeout", strconv.Itoa(secs+60)+"s", "-trace_stat", "-stf", "stat.csv", "-fd", "1",
			"-trace_rtt", "-rtt_freq", "1")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		ph.seconds = time.Since(start).Seconds()
		<-profiled
		if err != nil {
			t.Errorf("sipp with %d subscribers: %v\n%s", subs, err, lastBytes(out, 2000))
		}
		ph.ok = statField(t, filepath.Join(dir, "stat.csv"), "SuccessfulCall(C)")
		ph.failed = statField(t, filepath.Join(dir, "stat.csv"), "FailedCall(C)")
		ph.p50, ph.p99, ph.max = rttPercentiles(t, dir)
		// Let the last events arrive, then leave.
		deadline := time.Now().Add(10 * time.Second)
		for i := range subscribers {
			for atomic.LoadInt64(&ph.hangups[i]) < int64(ph.ok) && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
		}
		for _, nc := range subscribers {
			nc.Close()
		}
		wg.Wait()
		cancel()
		phases = append(phases, ph)

		if ph.failed != 0 || ph.ok != rate*secs {
			t.Errorf("%d subscribers: %d calls ok, %d failed, want %d ok", subs, ph.ok, ph.failed, rate*secs)
		}
		for i, n := range ph.hangups {
			if n != int64(ph.ok) {
				t.Errorf("subscriber %d saw %d CHANNEL_HANGUP_COMPLETE events for %d calls", i, n, ph.ok)
			}
		}
		if ph.dropped != 0 {
			t.Errorf("%d subscribers disconnected", ph.dropped)
		}
	}
	t.Logf("%d calls/s for %d s per phase (SIPp uac_bye.xml to 9196: INVITE, 200, ACK, 0.5 s, BYE)", rate, secs)
	t.Logf("| subscribers | calls ok | failed | INVITE→200 p50 / p99 / max ms | events delivered | events/s per subscriber | MB/s to subscribers |")
	t.Logf("|---:|---:|---:|---:|---:|---:|---:|")
	for _, ph := range phases {
		perSub, mbps := 0.0, 0.0
		if ph.subscribers > 0 {
			perSub = float64(ph.events) / float64(ph.subscribers) / ph.seconds
			mbps = float64(ph.bytes) / 1e6 / ph.seconds
		}
		t.Logf("| %d | %d | %d | %.1f / %.1f / %.1f | %d | %.0f | %.1f |",
			ph.subscribers, ph.ok, ph.failed, ph.p50, ph.p99, ph.max, ph.events, perSub, mbps)
	}
}

// subscribe connects a subscriber to every event in plain format.
func subscribe(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReaderSize(nc, 256<<10)
	if _, err := nc.Write([]byte("auth ClueCon\n\nevent plain ALL\n\n")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"", "+OK accepted", "+OK event listener enabled plain"} {
		p, err := esl.ReadFrame(r, 1<<20)
		if err != nil || p.ReplyText() != want {
			t.Fatalf("subscribing: %+v %v", p, err)
		}
	}
	return nc, r
}

// countEvents reads frames until the connection closes, counting them
// with as little work as possible (the subscribers share the machine with
// the switch): the header block, then the body into a reused buffer.
func countEvents(r *bufio.Reader, ph *fanOutPhase, i int) {
	body := make([]byte, 0, 64<<10)
	hangup := []byte("Event-Name: CHANNEL_HANGUP_COMPLETE\n")
	for {
		n, disconnect := -1, false
		for {
			line, err := r.ReadSlice('\n')
			if err != nil {
				return
			}
			if len(line) == 1 {
				break
			}
			if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
				n, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
			}
			if bytes.HasPrefix(line, []byte("Content-Type: text/disconnect-notice")) {
				disconnect = true
			}
		}
		if n < 0 {
			continue
		}
		if cap(body) < n {
			body = make([]byte, n)
		}
		body = body[:n]
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		switch {
		case disconnect && bytes.Contains(body, []byte("lost events")):
			atomic.AddInt64(&ph.dropped, 1)
		case disconnect:
		case bytes.HasPrefix(body, hangup):
			atomic.AddInt64(&ph.hangups[i], 1)
		}
		atomic.AddInt64(&ph.events, 1)
		atomic.AddInt64(&ph.bytes, int64(n))
	}
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// statField returns name's value in the last row of a SIPp -trace_stat
// file.
func statField(t *testing.T, path, name string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("sipp statistics: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 2 {
		t.Fatalf("%s: no statistics rows", path)
	}
	head := strings.Split(lines[0], ";")
	last := strings.Split(lines[len(lines)-1], ";")
	for i, h := range head {
		if h == name && i < len(last) {
			n, err := strconv.Atoi(strings.TrimSpace(last[i]))
			if err != nil {
				t.Fatalf("%s: %s = %q", path, name, last[i])
			}
			return n
		}
	}
	t.Fatalf("%s: no column %s", path, name)
	return 0
}

// rttPercentiles reads SIPp's -trace_rtt files in dir: the 50th and 99th
// percentiles and the maximum of response-time 1 (INVITE→200), in ms.
func rttPercentiles(t *testing.T, dir string) (p50, p99, max float64) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*_rtt.csv"))
	var v []float64
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fields := strings.Split(sc.Text(), ";")
			if len(fields) < 3 || strings.TrimSpace(fields[2]) != "1" {
				continue
			}
			if x, err := strconv.ParseFloat(strings.TrimSpace(fields[1]), 64); err == nil {
				v = append(v, x)
			}
		}
		fh.Close()
	}
	if len(v) == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	sort.Float64s(v)
	at := func(p float64) float64 { return v[int(math.Ceil(p*float64(len(v))))-1] }
	return at(0.5), at(0.99), v[len(v)-1]
}

func lastBytes(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return fmt.Sprintf("...%s", b)
}
