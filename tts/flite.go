package tts

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

func init() { Register("flite", Flite{}) }

// Flite is the "flite" engine: it runs the flite program (CMU Flite,
// Debian package flite), which writes 16 kHz PCM WAV. Its voices are
// mod_flite's: awb, kal (which, as in mod_flite, is kal16), kal16, rms
// and slt, in any case.
type Flite struct {
	// Program is the flite executable, a path or a name looked up in
	// PATH when Synthesize runs (so installing flite needs no restart);
	// empty means "flite".
	Program string
}

// fliteVoices maps the voice names mod_flite accepts to flite's own.
var fliteVoices = map[string]string{
	"awb":   "awb",
	"kal":   "kal16",
	"kal16": "kal16",
	"rms":   "rms",
	"slt":   "slt",
}

// Synthesize runs flite -voice <voice> -t <text> -o <path>.
func (f Flite) Synthesize(ctx context.Context, voice, text, path string) error {
	v, ok := fliteVoices[strings.ToLower(voice)]
	if !ok {
		return fmt.Errorf("tts flite: voice %q: %w (valid voices are awb, kal, kal16, rms and slt)", voice, ErrUnknownVoice)
	}
	prog := f.Program
	if prog == "" {
		prog = "flite"
	}
	bin, err := exec.LookPath(prog)
	if err != nil {
		return fmt.Errorf("tts flite: %w: the flite program is not installed (Debian: apt-get install flite): %v", ErrUnavailable, err)
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "-voice", v, "-t", text, "-o", path)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("tts flite: %w", ctx.Err())
		}
		return fmt.Errorf("tts flite: %s: %w: %s", bin, err, bytes.TrimSpace(out.Bytes()))
	}
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("tts flite: %s wrote no file: %w", bin, err)
	}
	if st.Size() <= 44 {
		return fmt.Errorf("tts flite: %s wrote no audio to %s: %s", bin, path, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}
