package e2e

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/e2e/harness"
	"github.com/switchboard-voip/switchboard/e2e/sipclient"
)

// These tests place real calls through the switch: `switchboard run` on
// testdata/conf (a profile on loopback and one test extension per
// behaviour), driven by the Go SIP client and by SIPp. Each test starts
// its own switch and, before stopping it, checks that its sessions and
// RTP ports are back to where they started.

var updateWAVs = flag.Bool("update-wavs", false, "rewrite testdata/sounds from the tone generator")

// The committed prompts: generated tones, one per sample rate, with
// different frequencies and lengths so a file played at the wrong rate is
// heard at the wrong pitch for the wrong time.
var testWAVs = []struct {
	name string
	rate int
	hz   float64
	dur  time.Duration
}{
	{"tone-1000hz-600ms-8k.wav", 8000, 1000, 600 * time.Millisecond},
	{"tone-1400hz-800ms-16k.wav", 16000, 1400, 800 * time.Millisecond},
	{"moh/tone-600hz-1000ms-8k.wav", 8000, 600, time.Second}, // local_stream://moh
}

// wavBytes returns a mono 16-bit PCM WAV file.
func wavBytes(rate int, samples []int16) []byte {
	var b bytes.Buffer
	data := len(samples) * 2
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+data))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{
		uint32(16),       // fmt chunk size
		uint16(1),        // PCM
		uint16(1),        // mono
		uint32(rate),     // sample rate
		uint32(rate * 2), // byte rate
		uint16(2),        // block align
		uint16(16),       // bits per sample
	} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(data))
	binary.Write(&b, binary.LittleEndian, samples)
	return b.Bytes()
}

// TestTestdataWAVs checks the committed prompts are exactly what the
// generator makes (run with -update-wavs to rewrite them).
func TestTestdataWAVs(t *testing.T) {
	for _, w := range testWAVs {
		want := wavBytes(w.rate, sipclient.Tone(w.hz, w.dur, 0.5, w.rate))
		path := filepath.Join("testdata", "sounds", w.name)
		if *updateWAVs {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the generator's output; run go test ./e2e -run TestTestdataWAVs -update-wavs", path)
		}
	}
}

// requireRun skips the test while the binary has no run command: the
// switch is being built, and these tests need it.
func requireRun(t *testing.T) {
	t.Helper()
	ok, err := harness.HasRun(build.bin)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Skip("switchboard has no run command yet")
	}
}

// testSwitch is a switch started on testdata/conf, with the debug
// variables it showed before any call.
type testSwitch struct {
	*harness.Switch
	base harness.Vars
}

// perTestSlack is the goroutine allowance of the check every test makes
// when it ends; TestNoLeakAfterCalls checks goroutines closely.
const perTestSlack = 10

func startSwitch(t *testing.T) *testSwitch {
	t.Helper()
	requireRun(t)
	sounds, err := filepath.Abs(filepath.Join("testdata", "sounds"))
	if err != nil {
		t.Fatal(err)
	}
	sw := harness.Start(t, harness.Options{
		Binary:  build.bin,
		ConfDir: filepath.Join("testdata", "conf"),
		Set:     map[string]string{"test_sounds_dir": sounds},
	})
	ts := &testSwitch{Switch: sw}
	ts.base, err = sw.Vars(t.Context())
	if err != nil {
		t.Fatalf("debug variables: %v", err)
	}
	if ts.base.Sessions != 0 || ts.base.RTPPortsOpen != 0 {
		t.Errorf("idle switch reports %d sessions and %d RTP ports open", ts.base.Sessions, ts.base.RTPPortsOpen)
	}
	// Runs before the harness stops the switch (cleanups run last first).
	t.Cleanup(func() { sw.CheckSettled(t, ts.base, perTestSlack, 15*time.Second) })
	return ts
}

// callCtx bounds one test's calls.
func callCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// dial calls user at the switch; the call is closed when the test ends.
func (s *testSwitch) dial(t *testing.T, ctx context.Context, user string, opts sipclient.Options) *sipclient.Call {
	t.Helper()
	opts.Target = s.SIPURI(user)
	if opts.Transport == "tcp" {
		opts.Target += ";transport=tcp"
	}
	c, err := sipclient.Dial(ctx, opts)
	if err != nil {
		t.Fatalf("dial %s: %v", user, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// hearsEcho sends a 440 Hz tone and waits to hear most of it back.
func hearsEcho(t *testing.T, ctx context.Context, c *sipclient.Call) {
	t.Helper()
	sent := make(chan error, 1)
	go func() { sent <- c.SendTone(ctx, 440, time.Second) }()
	if _, err := c.WaitTone(ctx, 440, 600*time.Millisecond); err != nil {
		t.Fatalf("echo: %v (%v)", err, c)
	}
	if err := <-sent; err != nil {
		t.Fatalf("sending the tone: %v (%v)", err, c)
	}
}

func TestCallEcho(t *testing.T) {
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			sw := startSwitch(t)
			ctx := callCtx(t)
			c := sw.dial(t, ctx, "9196", sipclient.Options{Transport: transport})
			if err := c.Answer(ctx); err != nil {
				t.Fatal(err)
			}
			if c.Codec() != sipclient.PCMU {
				t.Errorf("negotiated %q, want PCMU (first in the offer and the profile)", c.Codec())
			}
			hearsEcho(t, ctx, c)
			if err := c.Hangup(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestCallLateOffer(t *testing.T) {
	sw := startSwitch(t)
	ctx := callCtx(t)
	c := sw.dial(t, ctx, "9196", sipclient.Options{NoSDP: true, Codecs: []sipclient.Codec{sipclient.PCMA, sipclient.PCMU}})
	if err := c.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	hearsEcho(t, ctx, c)
	if err := c.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestCallPlayback(t *testing.T) {
	for i, ext := range []string{"9170", "9171"} {
		w := testWAVs[i]
		t.Run(w.name, func(t *testing.T) {
			sw := startSwitch(t)
			ctx := callCtx(t)
			c := sw.dial(t, ctx, ext, sipclient.Options{})
			if err := c.Answer(ctx); err != nil {
				t.Fatal(err)
			}
			// The extension hangs up when the file ends.
			if _, err := c.WaitBye(ctx); err != nil {
				t.Fatal(err)
			}
			rec := c.Recording()
			// Played at the wrong rate the tone would be an octave off.
			others := []float64{w.hz / 2, w.hz * 2, 1000, 1400}
			seg, ok := sipclient.FindTone(rec.Samples, rec.Rate, w.hz, others...)
			if !ok {
				t.Fatalf("no %v Hz tone in %v of audio; segments %+v", w.hz,
					time.Duration(len(rec.Samples))*time.Second/time.Duration(rec.Rate),
					sipclient.Segments(rec.Samples, rec.Rate, append([]float64{w.hz}, others...)))
			}
			t.Logf("heard %v Hz for %v (file: %v)", w.hz, seg.Duration, w.dur)
			if d := seg.Duration - w.dur; d < -40*time.Millisecond || d > 40*time.Millisecond {
				t.Errorf("heard %v Hz for %v, want %v ± 40 ms", w.hz, seg.Duration, w.dur)
			}
			for _, s := range sipclient.Segments(rec.Samples, rec.Rate, append([]float64{w.hz}, others...)) {
				if s.Hz != w.hz && s.Duration > 2*sipclient.FrameDuration {
					t.Errorf("also heard %v Hz for %v", s.Hz, s.Duration)
				}
			}
		})
	}
}

func TestCallEarlyMedia(t *testing.T) {
	sw := startSwitch(t)
	ctx := callCtx(t)
	c := sw.dial(t, ctx, "9180", sipclient.Options{})
	progress, err := c.WaitResponse(ctx, 183)
	if err != nil {
		t.Fatal(err)
	}
	if !progress.EarlyMedia() {
		t.Fatalf("183 without SDP")
	}
	seg, err := c.WaitTone(ctx, 1000, 400*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	ok, err := c.Final(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if heard := c.Recording().TimeOf(seg.Start); heard.IsZero() || !heard.Before(ok.At) {
		t.Errorf("tone heard at %v, 200 OK at %v: want the early media first", heard, ok.At)
	}
	if err := c.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	seg, _ = sipclient.FindTone(c.Recording().Samples, sipclient.SampleRate, 1000)
	if d := seg.Duration - 600*time.Millisecond; d < -40*time.Millisecond || d > 40*time.Millisecond {
		t.Errorf("early tone lasted %v, want 600 ms ± 40 ms", seg.Duration)
	}
}

func TestCallTransfer(t *testing.T) {
	sw := startSwitch(t)
	ctx := callCtx(t)
	c := sw.dial(t, ctx, "9190", sipclient.Options{})
	if err := c.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	hearsEcho(t, ctx, c)
	if err := c.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestCallDTMFReceived: 9195 plays a 10 s tone that the # terminator
// stops; the caller's RFC 4733 "#" must cut it short and the next prompt
// (1000 Hz) follow at once.
func TestCallDTMFReceived(t *testing.T) {
	sw := startSwitch(t)
	ctx := callCtx(t)
	c := sw.dial(t, ctx, "9195", sipclient.Options{})
	if err := c.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	if c.DTMFPayloadType() == 0 {
		t.Fatal("the switch accepted no telephone-event payload type")
	}
	if _, err := c.WaitTone(ctx, 350, 300*time.Millisecond); err != nil {
		t.Fatalf("first prompt: %v (%v)", err, c)
	}
	pressed := time.Now()
	if err := c.SendDTMF(ctx, "#"); err != nil {
		t.Fatalf("SendDTMF: %v (%v)", err, c)
	}
	seg, err := c.WaitTone(ctx, 1000, 300*time.Millisecond)
	if err != nil {
		t.Fatalf("second prompt after #: %v (%v)", err, c)
	}
	// Without the terminator the second prompt would start 10 s in; the
	// recording's timeline says where it started relative to the first.
	if seg.Start > 5*time.Second {
		t.Errorf("second prompt started at %v into the call: # did not stop the first (pressed %v)", seg.Start, time.Since(pressed))
	}
	if err := c.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestCallDTMFSent: 9189 sends "1234#" with send_dtmf; the caller must
// receive each digit exactly once.
func TestCallDTMFSent(t *testing.T) {
	sw := startSwitch(t)
	ctx := callCtx(t)
	c := sw.dial(t, ctx, "9189", sipclient.Options{})
	if err := c.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := c.WaitDigits(ctx, 5)
	if err != nil {
		t.Fatalf("digits: %v (%v)", err, c)
	}
	if got != "1234#" {
		t.Errorf("received %q, want 1234#", got)
	}
	if err := c.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestCallCancel(t *testing.T) {
	sw := startSwitch(t)
	ctx := callCtx(t)
	c := sw.dial(t, ctx, "9191", sipclient.Options{})
	if _, err := c.WaitResponse(ctx, 180); err != nil {
		t.Fatal(err)
	}
	if err := c.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	final, err := c.Final(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if final.Code != 487 {
		t.Errorf("final response %v, want 487", final)
	}
}

func TestCallRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ext    string
		codecs []sipclient.Codec
		code   int
		cause  string // Reason text, checked when the response has one
	}{
		{"no route", "5555", nil, 404, "NO_ROUTE_DESTINATION"},
		{"unknown application", "9193", nil, 502, "DESTINATION_OUT_OF_ORDER"},
		{"hangup USER_BUSY", "9192", nil, 486, "USER_BUSY"},
		{"codec mismatch", "9196", []sipclient.Codec{sipclient.G729}, 488, "INCOMPATIBLE_DESTINATION"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sw := startSwitch(t)
			ctx := callCtx(t)
			c := sw.dial(t, ctx, tc.ext, sipclient.Options{Codecs: tc.codecs})
			err := c.Answer(ctx)
			var se *sipclient.StatusError
			if !errors.As(err, &se) {
				t.Fatalf("Answer: %v, want a refusal with %d", err, tc.code)
			}
			if se.Response.Code != tc.code {
				t.Errorf("refused with %v, want %d", se.Response, tc.code)
			}
			if cause, ok := se.Response.Cause(); ok && cause.Text != tc.cause {
				t.Errorf("Reason %+v, want text %s", cause, tc.cause)
			}
		})
	}
}

func TestCallMediaTimeout(t *testing.T) {
	sw := startSwitch(t)
	ctx := callCtx(t)
	c := sw.dial(t, ctx, "9194", sipclient.Options{})
	if err := c.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	// Media flows (the echo proves it), then the caller goes silent.
	sent := make(chan error, 1)
	go func() { sent <- c.SendTone(ctx, 440, 400*time.Millisecond) }()
	if _, err := c.WaitTone(ctx, 440, 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	// SendTone has returned: the last packet has gone, so the switch's
	// quiet time began no later than now.
	lastSent := time.Now()
	cause, err := c.WaitBye(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byeAt := time.Now()
	if cause.Text != "MEDIA_TIMEOUT" {
		t.Errorf("BYE cause %+v, want MEDIA_TIMEOUT", cause)
	}
	// testdata/conf sets media_timeout=1000 ms: not before that (less a
	// packet time).
	if quiet := byeAt.Sub(lastSent); quiet < 980*time.Millisecond {
		t.Errorf("hung up %v after the last packet, before the 1000 ms media timeout", quiet)
	}
}

// TestSIPp runs testdata/sipp/uac_bye.xml (INVITE, 200, ACK, BYE) from
// SIPp against the echo extension.
func TestSIPp(t *testing.T) {
	sipp := requireTool(t, "sipp")
	sw := startSwitch(t)
	ctx := callCtx(t)
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
	cmd := exec.CommandContext(ctx, sipp, "-sf", scenario, "-s", "9196",
		"-i", "127.0.0.1", "-p", strconv.Itoa(port), "-mi", "127.0.0.1", "-mp", strconv.Itoa(media),
		"-m", "1", "-nostdin", "-timeout", "15s", "-timeout_error", sw.SIPAddr.String())
	cmd.Dir = t.TempDir()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sipp: %v\n%s", err, out)
	}
}

// TestNoLeakAfterCalls makes calls of every kind and checks the switch
// returns to its goroutine count, with no RTP port or session left.
func TestNoLeakAfterCalls(t *testing.T) {
	sw := startSwitch(t)
	ctx := callCtx(t)

	// One call first: whatever the switch starts once, lazily, is running
	// when the baseline is taken.
	warm := sw.dial(t, ctx, "9196", sipclient.Options{})
	if err := warm.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	if err := warm.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	base := stableVars(t, ctx, sw)

	for i, step := range []struct {
		ext  string
		opts sipclient.Options
		run  func(*sipclient.Call) error
	}{
		{"9196", sipclient.Options{}, func(c *sipclient.Call) error {
			if err := c.Answer(ctx); err != nil {
				return err
			}
			if err := c.SendTone(ctx, 440, 200*time.Millisecond); err != nil {
				return err
			}
			return c.Hangup(ctx)
		}},
		{"9196", sipclient.Options{Transport: "tcp"}, func(c *sipclient.Call) error {
			if err := c.Answer(ctx); err != nil {
				return err
			}
			return c.Hangup(ctx)
		}},
		{"9191", sipclient.Options{}, func(c *sipclient.Call) error {
			if _, err := c.WaitResponse(ctx, 180); err != nil {
				return err
			}
			return c.Hangup(ctx)
		}},
		{"9192", sipclient.Options{}, func(c *sipclient.Call) error {
			_, err := c.Final(ctx)
			return err
		}},
		{"5555", sipclient.Options{}, func(c *sipclient.Call) error {
			_, err := c.Final(ctx)
			return err
		}},
		{"9196", sipclient.Options{Codecs: []sipclient.Codec{sipclient.G729}}, func(c *sipclient.Call) error {
			_, err := c.Final(ctx)
			return err
		}},
		{"9170", sipclient.Options{}, func(c *sipclient.Call) error {
			if err := c.Answer(ctx); err != nil {
				return err
			}
			_, err := c.WaitBye(ctx)
			return err
		}},
		{"9194", sipclient.Options{}, func(c *sipclient.Call) error {
			if err := c.Answer(ctx); err != nil {
				return err
			}
			_, err := c.WaitBye(ctx)
			return err
		}},
	} {
		c := sw.dial(t, ctx, step.ext, step.opts)
		if err := step.run(c); err != nil {
			t.Errorf("call %d to %s: %v", i, step.ext, err)
		}
		c.Close()
	}
	sw.CheckSettled(t, base, 2, 15*time.Second)
}

// stableVars waits until the switch has no session and no RTP port open
// and its goroutine count holds still for half a second, and returns that
// reading.
func stableVars(t *testing.T, ctx context.Context, sw *testSwitch) harness.Vars {
	t.Helper()
	var last harness.Vars
	same := 0
	for same < 5 {
		v, err := sw.Vars(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v.Sessions == 0 && v.RTPPortsOpen == 0 && v.Goroutines == last.Goroutines {
			same++
		} else {
			same = 0
		}
		last = v
		select {
		case <-ctx.Done():
			t.Fatalf("switch never settled: %d goroutines, %d sessions, %d RTP ports open", last.Goroutines, last.Sessions, last.RTPPortsOpen)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return last
}
