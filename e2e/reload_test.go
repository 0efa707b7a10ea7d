package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/e2e/harness"
	"github.com/switchboard-voip/switchboard/e2e/sipclient"
)

// probeExtension is added to the test dialplan: a call to 7000 is refused
// with "403 Config <n>", so a call tells which configuration routed it.
const probeExtension = `    <extension name="reload_probe">
      <condition field="destination_number" expression="^7000$">
        <action application="respond" data="403 Config VERSION"/>
      </condition>
    </extension>
`

// TestReloadUnderLoad: SIPp places calls continuously while the dialplan
// is rewritten and the switch told to reload (SIGHUP) 20 times, broken
// configurations (an unclosed tag, a bad regular expression, an unknown
// break value) between good ones. No call may fail; every broken reload is
// reported with its file and line and leaves the previous configuration
// routing; the next good one is applied; afterwards the goroutines and the
// heap are back where they were.
func TestReloadUnderLoad(t *testing.T) {
	requireRun(t)
	sipp := requireTool(t, "sipp")
	admin, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	sounds, err := filepath.Abs(filepath.Join("testdata", "sounds"))
	if err != nil {
		t.Fatal(err)
	}
	hs := harness.Start(t, harness.Options{
		Binary:  build.bin,
		ConfDir: filepath.Join("testdata", "conf"),
		Set:     map[string]string{"test_sounds_dir": sounds},
		// Finished SIP transactions are kept 1 s (not 32): the leak check
		// then need not wait half a minute.
		Args: []string{"--admin-addr", "127.0.0.1:" + strconv.Itoa(admin), "--sip-linger", "1s"},
	})
	sw := &testSwitch{Switch: hs}
	adminURL := "http://127.0.0.1:" + strconv.Itoa(admin)

	dp := filepath.Join(sw.ConfDir, "dialplan", "default.xml")
	orig, err := os.ReadFile(dp)
	if err != nil {
		t.Fatal(err)
	}
	end := strings.LastIndex(string(orig), "  </context>")
	if end < 0 {
		t.Fatal("test dialplan changed: no </context>")
	}
	good := func(version int) string {
		return string(orig[:end]) + strings.Replace(probeExtension, "VERSION", strconv.Itoa(version), 1) + string(orig[end:])
	}
	broken := []struct {
		name string
		edit func(string) string
	}{
		{"unclosed tag", func(s string) string {
			return strings.Replace(s, "    </extension>\n  </context>", "  </context>", 1)
		}},
		{"bad regex", func(s string) string { return strings.Replace(s, `expression="^7000$"`, `expression="^(7000$"`, 1) }},
		{"unknown break value", func(s string) string {
			return strings.Replace(s, `expression="^7000$"`, `expression="^7000$" break="sometimes"`, 1)
		}},
	}
	writeDP := func(text string) {
		t.Helper()
		if err := os.WriteFile(dp, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := callCtx(t)
	probe := func() string {
		t.Helper()
		c := sw.dial(t, ctx, "7000", sipclient.Options{})
		defer c.Close()
		r, err := c.Final(ctx)
		if err != nil {
			t.Fatalf("probe call: %v", err)
		}
		if r.Code != 403 {
			t.Fatalf("probe call answered %d %s, want 403", r.Code, r.Phrase)
		}
		return r.Phrase
	}
	reloadAndWait := func(marker string) string {
		t.Helper()
		before := strings.Count(sw.Logs(), marker)
		if err := sw.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for strings.Count(sw.Logs(), marker) == before {
			if time.Now().After(deadline) {
				t.Fatalf("no new %q in the logs after SIGHUP:\n%s", marker, sw.Logs())
			}
			time.Sleep(10 * time.Millisecond)
		}
		lines := strings.Split(sw.Logs(), "\n")
		for i := len(lines) - 1; i >= 0; i-- {
			if strings.Contains(lines[i], marker) {
				return lines[i]
			}
		}
		return ""
	}

	// Version 0 in force; a warm-up call of each kind, then the baseline.
	writeDP(good(0))
	reloadAndWait("reloadxml: configuration reloaded")
	if got := probe(); got != "Config 0" {
		t.Fatalf("probe before the run: %q", got)
	}
	warm := sw.dial(t, ctx, "9196", sipclient.Options{})
	if err := warm.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	if err := warm.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	base := stableVars(t, ctx, sw)
	heapBefore := heapAfterGC(t, ctx, sw.Switch)

	// SIPp: 25 calls a second, each half a second long, 250 in all.
	sippDone := startSIPp(t, sipp, sw, 25, 250)

	const reloads = 20
	version, okReloads, failedReloads := 0, 1, 0 // the reload to version 0 above
	errLine := regexp.MustCompile(`default\.xml:\d+: `)
	for i := 1; i <= reloads; i++ {
		if i%3 == 0 { // every third reload is broken; the last one is good
			b := broken[(i/3)%len(broken)]
			writeDP(b.edit(good(version + 1)))
			line := reloadAndWait("reloadxml failed")
			failedReloads++
			if !errLine.MatchString(line) {
				t.Errorf("reload %d (%s): the failure does not name default.xml:line:\n%s", i, b.name, line)
			}
			if got, want := probe(), fmt.Sprintf("Config %d", version); got != want {
				t.Errorf("reload %d (%s): probe says %q, want %q from the configuration still in force", i, b.name, got, want)
			}
			continue
		}
		version++
		writeDP(good(version))
		reloadAndWait("reloadxml: configuration reloaded")
		okReloads++
		if got, want := probe(), fmt.Sprintf("Config %d", version); got != want {
			t.Errorf("reload %d: probe says %q, want %q", i, got, want)
		}
	}

	select {
	case <-sw.Exited():
		t.Fatal("the switch exited during the reloads")
	default:
	}
	if err := <-sippDone; err != nil {
		t.Errorf("SIPp: %v", err)
	}

	// The metrics agree with the log.
	metrics := httpGet(t, ctx, adminURL+"/metrics")
	for _, want := range []string{
		fmt.Sprintf("switchboard_config_reloads_total{result=\"ok\"} %d\n", okReloads),
		fmt.Sprintf("switchboard_config_reloads_total{result=\"failed\"} %d\n", failedReloads),
		"switchboard_config_last_reload_successful 1\n",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	var health struct {
		Status     string `json:"status"`
		ConfigHash string `json:"config_hash"`
	}
	if err := json.Unmarshal([]byte(httpGet(t, ctx, adminURL+"/healthz")), &health); err != nil {
		t.Fatal(err)
	}
	if health.Status != "ok" || !strings.Contains(metrics, `switchboard_config_info{hash="`+health.ConfigHash+`"} 1`) {
		t.Errorf("/healthz %+v does not match /metrics' config_info", health)
	}

	// Nothing left behind: goroutines, sessions and RTP ports, then heap.
	sw.CheckSettled(t, base, 5, 20*time.Second)
	heapAfter := heapAfterGC(t, ctx, sw.Switch)
	t.Logf("heap after GC: %d KiB before the run, %d KiB after %d calls and %d reloads", heapBefore>>10, heapAfter>>10, 250, reloads)
	if heapAfter > heapBefore+4<<20 {
		t.Errorf("heap grew from %d KiB to %d KiB", heapBefore>>10, heapAfter>>10)
	}
}

// startSIPp runs testdata/sipp/uac_bye.xml against 9196 (echo) at rate
// calls a second until total calls are made; the channel receives nil
// when every call succeeded, or SIPp's failure and output.
func startSIPp(t *testing.T, sipp string, sw *testSwitch, rate, total int) <-chan error {
	t.Helper()
	port, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	media, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	scenario, err := filepath.Abs(filepath.Join("testdata", "sipp", "uac_bye.xml"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	cmd := exec.CommandContext(ctx, sipp, "-sf", scenario, "-s", "9196",
		"-i", "127.0.0.1", "-p", strconv.Itoa(port), "-mi", "127.0.0.1", "-mp", strconv.Itoa(media),
		"-r", strconv.Itoa(rate), "-m", strconv.Itoa(total), "-l", strconv.Itoa(4*rate),
		"-nostdin", "-timeout", "80s", "-timeout_error", sw.SIPAddr.String())
	cmd.Dir = t.TempDir()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		defer cancel()
		err := cmd.Wait()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			// sipp exits 1 when a call failed; its screen says which.
			err = fmt.Errorf("%w (some calls failed)\n%s", err, tail(out.String(), 3000))
		}
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
	})
	return done
}

// heapAfterGC runs a garbage collection in the switch (pprof's heap
// profile with gc=1) and returns its live heap (memstats.HeapAlloc).
func heapAfterGC(t *testing.T, ctx context.Context, sw *harness.Switch) uint64 {
	t.Helper()
	if _, err := sw.DebugGet(ctx, "/debug/pprof/heap?gc=1"); err != nil {
		t.Fatal(err)
	}
	v, err := sw.Vars(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ms struct{ HeapAlloc uint64 }
	if err := json.Unmarshal(v.All["memstats"], &ms); err != nil {
		t.Fatalf("/debug/vars memstats: %v", err)
	}
	return ms.HeapAlloc
}

// httpGet fetches url and returns its body; anything but 200 fails t.
func httpGet(t *testing.T, ctx context.Context, url string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, res.Status, b)
	}
	return string(b)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
