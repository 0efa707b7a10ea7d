package e2e

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/e2e/sipclient"
	"github.com/switchboard-voip/switchboard/media"
)

// updateSayTones rewrites the committed tone tree of the say tests
// (testdata/sounds/say) from sayTones.
var updateSayTones = flag.Bool("update-say-tones", false, "rewrite testdata/sounds/say from sayTones")

// sayTones is the test sound tree the say tests play instead of speech:
// every file the English say module picks for numbers is a pure tone of
// its own frequency, so what the caller hears tells which files were
// played and in which order. digits/<n> for 0-19 is 400 Hz + 100 Hz per
// unit, the tens 20-90 follow on from 2400 Hz, then hundred, thousand
// and million.
func sayTones() map[string]float64 {
	tones := map[string]float64{}
	for n := 0; n <= 19; n++ {
		tones[fmt.Sprintf("digits/%d", n)] = 400 + 100*float64(n)
	}
	for t := 2; t <= 9; t++ {
		tones[fmt.Sprintf("digits/%d0", t)] = 2400 + 100*float64(t-2)
	}
	tones["digits/hundred"] = 3200
	tones["digits/thousand"] = 3300
	tones["digits/million"] = 3400
	return tones
}

// Each file is 150 ms of its tone then 50 ms of silence, so that the
// same file twice in a row is heard as two tones.
const (
	sayToneOn  = 150 * time.Millisecond
	sayToneOff = 50 * time.Millisecond
)

// sayToneFile returns the committed path of name (FreeSWITCH's layout,
// with the 8000 rate directory).
func sayToneFile(name string) string {
	dir, file := filepath.Split(filepath.FromSlash(name))
	return filepath.Join("testdata", "sounds", "say", dir, "8000", file+".wav")
}

// TestSayToneTree checks that the committed tone tree is what sayTones
// describes (run with -update-say-tones to rewrite it).
func TestSayToneTree(t *testing.T) {
	tmp := t.TempDir()
	for name, hz := range sayTones() {
		want := filepath.Join(tmp, "want.wav")
		pcm := append(sipclient.Tone(hz, sayToneOn, 0.5, 8000), sipclient.Silence(sayToneOff, 8000)...)
		w, err := media.CreateWAV(want, 8000, 1, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(pcm); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		wantBytes, err := os.ReadFile(want)
		if err != nil {
			t.Fatal(err)
		}
		path := sayToneFile(name)
		if *updateSayTones {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, wantBytes, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%v (run go test ./e2e -run TestSayToneTree -update-say-tones)", err)
			continue
		}
		if !bytes.Equal(got, wantBytes) {
			t.Errorf("%s is not %v Hz for %v (run go test ./e2e -run TestSayToneTree -update-say-tones)", path, hz, sayToneOn)
		}
	}
}

// heardTones returns the frequencies of sayTones heard in the call's
// audio, in order, each tone counted once per stretch of at least 100 ms.
func heardTones(c *sipclient.Call) []float64 {
	var cands []float64
	for _, hz := range sayTones() {
		cands = append(cands, hz)
	}
	sort.Float64s(cands)
	var out []float64
	for _, s := range sipclient.Segments(c.Recording().Samples, sipclient.SampleRate, cands) {
		if s.Duration >= 100*time.Millisecond {
			out = append(out, s.Hz)
		}
	}
	return out
}

// toneNames turns frequencies back into file names, for messages.
func toneNames(hz []float64) string {
	names := map[float64]string{}
	for n, f := range sayTones() {
		names[f] = strings.TrimPrefix(n, "digits/")
	}
	var out []string
	for _, f := range hz {
		out = append(out, names[f])
	}
	return "[" + strings.Join(out, " ") + "]"
}

// TestSay calls extensions that say numbers and run a phrase macro
// against the tone tree, and checks by frequency which files were heard
// and in which order.
func TestSay(t *testing.T) {
	sw := startSwitch(t)
	tones := sayTones()
	seq := func(names ...string) []float64 {
		var out []float64
		for _, n := range names {
			out = append(out, tones["digits/"+n])
		}
		return out
	}
	tests := []struct {
		name, exten string
		want        []float64
	}{
		{"say en number iterated 123", "9310", seq("1", "2", "3")},
		{"say en number pronounced 21", "9311", seq("20", "1")},
		{"say en number pronounced 1,000,115 (5 arguments)", "9312", seq("1", "million", "1", "hundred", "15")},
		{"phrase e2e_count,1001", "9313", seq("hundred", "1", "thousand", "1")},
		{"playback phrase:e2e_count:1001", "9316", seq("hundred", "1", "thousand", "1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := callCtx(t)
			c := sw.dial(t, ctx, tt.exten, sipclient.Options{})
			if err := c.Answer(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := c.WaitBye(ctx); err != nil {
				t.Fatalf("waiting for the switch to hang up: %v (%v)", err, c)
			}
			if got := heardTones(c); !slices.Equal(got, tt.want) {
				t.Errorf("heard %s %v, want %s %v", toneNames(got), got, toneNames(tt.want), tt.want)
			}
		})
	}
}

// TestSpeak calls an extension that speaks with flite and then plays a
// 1000 Hz tone: the speech must come first and be heard for a while.
func TestSpeak(t *testing.T) {
	requireTool(t, "flite")
	sw := startSwitch(t)
	ctx := callCtx(t)
	c := sw.dial(t, ctx, "9314", sipclient.Options{})
	if err := c.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	tone := waitTone(ctx, t, c, 1000)
	rec := c.Recording().Samples
	speech := voiced(rec[:min(len(rec), int(tone.Start*sipclient.SampleRate/time.Second))])
	// "one two three four five" takes well over a second.
	if speech < time.Second {
		t.Errorf("heard %v of speech before the tone, want at least 1s", speech)
	}
	_ = c.Hangup(ctx)
}

// TestSpeakUnknownVoice: a voice flite does not have is an error, nothing
// is spoken and the call goes on to the next action (a 1000 Hz tone).
// It needs no flite: the voice is refused first.
func TestSpeakUnknownVoice(t *testing.T) {
	sw := startSwitch(t)
	ctx := callCtx(t)
	c := sw.dial(t, ctx, "9315", sipclient.Options{})
	if err := c.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	tone := waitTone(ctx, t, c, 1000)
	rec := c.Recording().Samples
	if v := voiced(rec[:min(len(rec), int(tone.Start*sipclient.SampleRate/time.Second))]); v > 0 {
		t.Errorf("heard %v of audio before the tone, want silence", v)
	}
	_ = c.Hangup(ctx)
}

// voiced returns how much of samples is louder than -40 dBFS, in 20 ms
// frames.
func voiced(samples []int16) time.Duration {
	var d time.Duration
	for i := 0; i+sipclient.FrameSamples <= len(samples); i += sipclient.FrameSamples {
		if sipclient.Level(samples[i:i+sipclient.FrameSamples]) > 0.01 {
			d += sipclient.FrameDuration
		}
	}
	return d
}
