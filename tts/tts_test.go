package tts

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// fakeFlite writes a shell script that stands in for flite: it records
// its arguments in args.txt and writes a small WAV to the -o path (or
// nothing, with empty set).
func fakeFlite(t *testing.T, empty bool) (prog, argsFile string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("needs a POSIX shell")
	}
	dir := t.TempDir()
	argsFile = filepath.Join(dir, "args.txt")
	wav := filepath.Join(dir, "out.wav")
	if err := os.WriteFile(wav, testWAV(), 0o644); err != nil {
		t.Fatal(err)
	}
	body := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > " + argsFile + "\n"
	body += "while [ $# -gt 0 ]; do if [ \"$1\" = -o ]; then out=$2; fi; shift; done\n"
	if empty {
		body += ": > \"$out\"\n"
	} else {
		body += "cp " + wav + " \"$out\"\n"
	}
	prog = filepath.Join(dir, "flite")
	if err := os.WriteFile(prog, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return prog, argsFile
}

// testWAV is 100 samples of 16 kHz PCM.
func testWAV() []byte {
	h := make([]byte, 44+200)
	le := binary.LittleEndian
	copy(h, "RIFF")
	le.PutUint32(h[4:], uint32(len(h)-8))
	copy(h[8:], "WAVEfmt ")
	le.PutUint32(h[16:], 16)
	le.PutUint16(h[20:], 1)
	le.PutUint16(h[22:], 1)
	le.PutUint32(h[24:], 16000)
	le.PutUint32(h[28:], 32000)
	le.PutUint16(h[32:], 2)
	le.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	le.PutUint32(h[40:], 200)
	return h
}

func TestFliteArguments(t *testing.T) {
	prog, argsFile := fakeFlite(t, false)
	tests := []struct{ voice, want string }{
		{"slt", "slt"}, {"SLT", "slt"}, {"kal", "kal16"}, {"kal16", "kal16"}, {"awb", "awb"}, {"rms", "rms"},
	}
	for _, tt := range tests {
		out := filepath.Join(t.TempDir(), "speech.wav")
		text := "-dash first; $HOME `id` 'quoted'"
		if err := (Flite{Program: prog}).Synthesize(context.Background(), tt.voice, text, out); err != nil {
			t.Fatalf("voice %s: %v", tt.voice, err)
		}
		b, err := os.ReadFile(argsFile)
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if want := []string{"-voice", tt.want, "-t", text, "-o", out}; !slices.Equal(got, want) {
			t.Errorf("voice %s: flite ran with %q, want %q", tt.voice, got, want)
		}
		if st, err := os.Stat(out); err != nil || st.Size() != int64(len(testWAV())) {
			t.Errorf("voice %s: output %v, %v", tt.voice, st, err)
		}
	}
}

func TestFliteErrors(t *testing.T) {
	prog, _ := fakeFlite(t, false)
	emptyProg, _ := fakeFlite(t, true)
	out := filepath.Join(t.TempDir(), "speech.wav")
	ctx := context.Background()

	err := Flite{Program: prog}.Synthesize(ctx, "callie", "hello", out)
	if !errors.Is(err, ErrUnknownVoice) || !strings.Contains(err.Error(), "awb, kal, kal16, rms and slt") {
		t.Errorf("unknown voice: %v", err)
	}
	err = Flite{Program: "switchboard-no-such-flite"}.Synthesize(ctx, "slt", "hello", out)
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "apt-get install flite") {
		t.Errorf("missing program: %v", err)
	}
	if err := (Flite{Program: emptyProg}).Synthesize(ctx, "slt", "hello", out); err == nil || !strings.Contains(err.Error(), "no audio") {
		t.Errorf("empty output: %v", err)
	}
	failing := filepath.Join(t.TempDir(), "flite")
	if err := os.WriteFile(failing, []byte("#!/bin/sh\necho 'cannot synthesize' >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := (Flite{Program: failing}).Synthesize(ctx, "slt", "hello", out); err == nil || !strings.Contains(err.Error(), "cannot synthesize") {
		t.Errorf("failing program: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := (Flite{Program: prog}).Synthesize(cctx, "slt", "hello", out); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// With the real flite installed, the speech is a 16 kHz mono PCM WAV of
// a plausible length.
func TestFliteReal(t *testing.T) {
	if _, err := exec.LookPath("flite"); err != nil {
		t.Skip("flite is not installed")
	}
	out := filepath.Join(t.TempDir(), "speech.wav")
	if err := (Flite{}).Synthesize(context.Background(), "slt", "one two three", out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	if len(b) < 44 || string(b[:4]) != "RIFF" || le.Uint16(b[22:]) != 1 || le.Uint32(b[24:]) != 16000 || le.Uint16(b[34:]) != 16 {
		t.Fatalf("not 16 kHz mono PCM16: % x", b[:min(len(b), 44)])
	}
	secs := float64(len(b)-44) / 32000
	if secs < 0.5 || secs > 5 {
		t.Errorf("three words last %.2f s", secs)
	}
}

func TestRegistry(t *testing.T) {
	if e, ok := Lookup("FLITE"); !ok || e != (Flite{}) {
		t.Errorf("Lookup(FLITE) = %v, %v", e, ok)
	}
	if _, ok := Lookup("cepstral"); ok {
		t.Error("Lookup(cepstral) found an engine")
	}
	if got := Engines(); !slices.Contains(got, "flite") {
		t.Errorf("Engines() = %q", got)
	}
	for _, tc := range []struct {
		name string
		e    Engine
	}{{"flite", Flite{}}, {"", Flite{}}, {"x-test", nil}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%q, %v) did not panic", tc.name, tc.e)
				}
			}()
			Register(tc.name, tc.e)
		}()
	}
}
