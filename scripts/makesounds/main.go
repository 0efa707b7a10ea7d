// Command makesounds speaks the prompts of a list with the flite
// text-to-speech engine and writes them as a FreeSWITCH-layout sound
// tree: <out>/<dir>/8000/<name>.wav, 8 kHz 16-bit mono PCM, silence
// trimmed from both ends and the level normalised. The list has one
// prompt a line, "<dir>/<name>|<text>"; blank lines and lines starting
// with '#' are skipped. scripts/make-sounds.sh runs it for the default
// configuration:
//
//	go run ./scripts/makesounds -list scripts/sounds-en.txt -out conf/default/sounds/en/us/callie
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/switchboard-voip/switchboard/media"
	"github.com/switchboard-voip/switchboard/tts"
)

const rate = 8000

func main() {
	list := flag.String("list", "scripts/sounds-en.txt", "the prompts to speak")
	out := flag.String("out", "conf/default/sounds/en/us/callie", "the sound tree to write")
	voice := flag.String("voice", "slt", "the flite voice (awb, kal, kal16, rms, slt)")
	flag.Parse()
	if err := run(*list, *out, *voice); err != nil {
		fmt.Fprintln(os.Stderr, "makesounds:", err)
		os.Exit(1)
	}
}

// prompt is one line of the list.
type prompt struct{ name, text string }

func run(list, out, voice string) error {
	prompts, err := readList(list)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "makesounds-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var total int64
	for _, p := range prompts {
		raw := filepath.Join(tmp, "speech.wav")
		if err := (tts.Flite{}).Synthesize(context.Background(), voice, p.text, raw); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		pcm, err := load(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		pcm = normalise(trim(pcm))
		dir, file := path.Split(p.name)
		dst := filepath.Join(out, filepath.FromSlash(dir), "8000", file+".wav")
		if err := write(dst, pcm); err != nil {
			return err
		}
		total += int64(44 + 2*len(pcm))
	}
	fmt.Printf("wrote %d prompts, %d KiB, under %s\n", len(prompts), total/1024, out)
	return nil
}

func readList(file string) ([]prompt, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []prompt
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, text, ok := strings.Cut(line, "|")
		if !ok || name == "" || text == "" || strings.Contains(name, "..") {
			return nil, fmt.Errorf("%s:%d: want <dir>/<name>|<text>", file, n)
		}
		out = append(out, prompt{name, text})
	}
	return out, sc.Err()
}

// load reads a WAV file at any rate as 8 kHz samples.
func load(name string) ([]int16, error) {
	src, err := media.OpenSource(name, media.SourceOptions{Rate: rate})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	var pcm []int16
	buf := make([]int16, 1024)
	for {
		n, err := src.Read(buf)
		pcm = append(pcm, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return pcm, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// trim removes silence from both ends, keeping 30 ms before the first
// and after the last sample above -40 dBFS.
func trim(pcm []int16) []int16 {
	const threshold = math.MaxInt16 / 100
	const margin = rate * 30 / 1000
	first, last := -1, -1
	for i, v := range pcm {
		if v > threshold || v < -threshold {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return pcm
	}
	return pcm[max(first-margin, 0):min(last+margin+1, len(pcm))]
}

// normalise scales pcm so that its peak is at -3 dBFS.
func normalise(pcm []int16) []int16 {
	peak := 0.0
	for _, v := range pcm {
		peak = max(peak, math.Abs(float64(v)))
	}
	if peak == 0 {
		return pcm
	}
	gain := 0.707 * math.MaxInt16 / peak
	out := make([]int16, len(pcm))
	for i, v := range pcm {
		out[i] = int16(math.Round(float64(v) * gain))
	}
	return out
}

func write(name string, pcm []int16) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	w, err := media.CreateWAV(name, rate, 1, false)
	if err != nil {
		return err
	}
	if err := w.Write(pcm); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}
