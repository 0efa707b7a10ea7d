package media

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"strconv"
	"strings"
)

// Source is audio to play: mono 16-bit PCM at the rate it was opened
// for. Read fills pcm with up to len(pcm) samples and returns how many;
// it returns io.EOF (possibly with the last samples) at the end. A Source
// is used by one goroutine at a time.
type Source interface {
	Read(pcm []int16) (int, error)
	Close() error
}

// Opener opens a file by name for reading. Names are passed as the media
// URI and the sound prefix spell them: an absolute path starts with '/'.
// The call core passes the file-system layer of its configuration; nil
// means os.Open.
type Opener func(name string) (fs.File, error)

// ErrUnsupported is wrapped by OpenSource errors for media it cannot
// play: an unknown scheme (phrase:, say:, http://) or
// file format.
var ErrUnsupported = errors.New("media: unsupported")

// SourceOptions say how OpenSource finds and renders media.
type SourceOptions struct {
	// Rate is the call's sample rate (8000 for G.711); 0 means 8000.
	Rate int
	// Open opens files; nil means os.Open.
	Open Opener
	// SoundPrefix is prepended to relative file names (the channel's
	// sound_prefix, or base_dir); empty leaves them as they are.
	SoundPrefix string
	// Logger receives warnings about parts of a file_string that could
	// not be opened; nil means slog.Default().
	Logger *slog.Logger
	// LocalStream opens local_stream://<name> at the call's rate (see
	// LocalStreams.Open); nil means no local streams.
	LocalStream func(name string, rate int) (Source, error)
}

// maxBracketDepth bounds nested {var=val} prefixes.
const maxBracketDepth = 16

// OpenSource opens a FreeSWITCH media URI for playing:
//
//   - a sound file: .wav (PCM 8/16/24/32-bit or float, µ-law, A-law, any
//     rate and channel count: channels are mixed down and the rate
//     converted to the call's), or raw .r8/.raw (PCM 8 kHz), .r16
//     (PCM 16 kHz), .ul/.ulaw, .al/.alaw (G.711 8 kHz); a name without
//     an extension gets .wav. A name that does not start with '/' is
//     taken relative to SoundPrefix. Like mod_sndfile, dir/file.wav is
//     looked up as dir/<rate>/file.wav, then dir/48000/file.wav,
//     dir/32000/, dir/16000/, dir/8000/, and at last as written;
//   - tone_stream://<spec> (see ParseToneSpec), honouring {loops=N} and
//     ;loops=N (N plays, -1 forever);
//   - silence_stream://<ms>[,<noise divisor>] (ms < 0: forever);
//   - local_stream://<name>: a shared music-on-hold stream (through
//     SourceOptions.LocalStream), which plays until stopped;
//   - file_string://a!b!c: the parts in turn (each may be any of these
//     forms), after 250 ms of silence as in FreeSWITCH; a part that
//     cannot be opened is skipped with a warning, and the whole fails
//     only when none can;
//   - any of these after {var=val,...} prefixes: loops is used by
//     tone_stream, the others are accepted and ignored.
//
// A file that does not exist gives an error for which errors.Is(err,
// fs.ErrNotExist) holds (FreeSWITCH's FILE NOT FOUND); other failures to
// open — a malformed file, an unsupported format (ErrUnsupported) — give
// other errors. The caller closes the Source.
func OpenSource(uri string, o SourceOptions) (Source, error) {
	if o.Rate <= 0 {
		o.Rate = 8000
	}
	if o.Open == nil {
		o.Open = func(name string) (fs.File, error) { return os.Open(name) }
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return openSource(uri, o, 0)
}

func openSource(uri string, o SourceOptions, depth int) (Source, error) {
	vars, rest, err := splitVars(uri)
	if err != nil {
		return nil, err
	}
	rest = strings.TrimSpace(rest)
	scheme, arg, hasScheme := strings.Cut(rest, "://")
	if hasScheme {
		switch strings.ToLower(scheme) {
		case "tone_stream":
			return openTone(arg, vars, o)
		case "silence_stream":
			return openSilence(arg, o.Rate)
		case "local_stream":
			if o.LocalStream == nil {
				return nil, fmt.Errorf("media: %q: no local streams are configured: %w", uri, fs.ErrNotExist)
			}
			return o.LocalStream(strings.TrimSpace(arg), o.Rate)
		case "file_string":
			if depth > 0 {
				return nil, fmt.Errorf("media: %q: file_string inside file_string: %w", uri, ErrUnsupported)
			}
			return openFileString(arg, o, depth+1)
		default:
			return nil, fmt.Errorf("media: %q: scheme %s://: %w", uri, scheme, ErrUnsupported)
		}
	}
	low := strings.ToLower(rest)
	if strings.HasPrefix(low, "phrase:") || strings.HasPrefix(low, "say:") {
		return nil, fmt.Errorf("media: %q: phrases and TTS are not media files: %w", uri, ErrUnsupported)
	}
	if rest == "" {
		return nil, fmt.Errorf("media: empty file name: %w", fs.ErrNotExist)
	}
	return openFile(rest, o)
}

// splitVars removes leading {a=b,c=d} groups and returns their variables.
func splitVars(uri string) (map[string]string, string, error) {
	var vars map[string]string
	s := strings.TrimLeft(uri, " ")
	for depth := 0; strings.HasPrefix(s, "{"); depth++ {
		if depth >= maxBracketDepth {
			return nil, "", fmt.Errorf("media: %q: too many {} prefixes", uri)
		}
		end := matchingBrace(s)
		if end < 0 {
			return nil, "", fmt.Errorf("media: %q: unterminated {", uri)
		}
		for _, kv := range strings.Split(s[1:end], ",") {
			k, v, _ := strings.Cut(kv, "=")
			k = strings.TrimSpace(k)
			if k == "" {
				continue
			}
			if vars == nil {
				vars = make(map[string]string)
			}
			vars[k] = strings.Trim(strings.TrimSpace(v), "'")
		}
		s = strings.TrimLeft(s[end+1:], " ")
	}
	return vars, s, nil
}

// matchingBrace returns the index of the '}' closing the '{' at s[0], or
// -1.
func matchingBrace(s string) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// fileFormat is how a sound file's bytes are interpreted.
type fileFormat struct {
	raw      bool // no header
	rate     int  // raw only
	encoding sampleEncoding
}

func formatForExt(ext string) (fileFormat, bool) {
	switch strings.ToLower(ext) {
	case ".wav":
		return fileFormat{}, true
	case ".r8", ".raw":
		return fileFormat{raw: true, rate: 8000, encoding: encPCM16}, true
	case ".r16":
		return fileFormat{raw: true, rate: 16000, encoding: encPCM16}, true
	case ".ul", ".ulaw":
		return fileFormat{raw: true, rate: 8000, encoding: encUlaw}, true
	case ".al", ".alaw":
		return fileFormat{raw: true, rate: 8000, encoding: encAlaw}, true
	}
	return fileFormat{}, false
}

// rateDirs are tried, in this order, after the call's own rate.
var rateDirs = [...]int{48000, 32000, 16000, 8000}

// candidates lists the names mod_sndfile would try for name at rate: the
// rate directories only when the name has a directory part.
func candidates(name string, rate int) []string {
	dir, file := path.Split(name)
	if dir == "" {
		return []string{name}
	}
	out := make([]string, 0, len(rateDirs)+2)
	out = append(out, dir+strconv.Itoa(rate)+"/"+file)
	for _, r := range rateDirs {
		if r != rate {
			out = append(out, dir+strconv.Itoa(r)+"/"+file)
		}
	}
	return append(out, name)
}

func openFile(name string, o SourceOptions) (Source, error) {
	if !strings.HasPrefix(name, "/") && o.SoundPrefix != "" {
		name = strings.TrimSuffix(o.SoundPrefix, "/") + "/" + name
	}
	ext := path.Ext(name)
	if ext == "" {
		name += ".wav"
		ext = ".wav"
	}
	format, ok := formatForExt(ext)
	if !ok {
		return nil, fmt.Errorf("media: %s: file format %s: %w", name, ext, ErrUnsupported)
	}
	for _, c := range candidates(name, o.Rate) {
		f, err := o.Open(c)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("media: open %s: %w", c, err)
		}
		src, err := newFileSource(f, format, o.Rate)
		if err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("media: %s: %w", c, err)
		}
		return src, nil
	}
	return nil, fmt.Errorf("media: %s: %w", name, fs.ErrNotExist)
}

// fileSource plays a decoded file, converted to the call's rate.
type fileSource struct {
	f   fs.File
	src Source // the decoder, or a resampler around it
}

func newFileSource(f fs.File, format fileFormat, rate int) (Source, error) {
	var dec *pcmDecoder
	var err error
	if format.raw {
		dec = newRawDecoder(f, format.encoding, format.rate)
	} else if dec, err = newWAVDecoder(f); err != nil {
		return nil, err
	}
	fsrc := &fileSource{f: f, src: dec}
	if dec.rate != rate {
		fsrc.src = newResampler(dec, dec.rate, rate)
	}
	return fsrc, nil
}

func (s *fileSource) Read(pcm []int16) (int, error) { return s.src.Read(pcm) }
func (s *fileSource) Close() error                  { return s.f.Close() }

// fileString plays several sources in turn.
type fileString struct {
	o     SourceOptions
	parts []string
	next  int
	cur   Source
	lead  int   // samples of lead-in silence left
	err   error // why the last part that failed could not be opened
}

func openFileString(arg string, o SourceOptions, depth int) (Source, error) {
	fsrc := &fileString{
		o:     o,
		parts: strings.Split(arg, "!"),
		lead:  o.Rate / 4, // 250 ms
	}
	if err := fsrc.advance(depth); err != nil {
		return nil, err
	}
	if fsrc.cur == nil {
		return nil, fmt.Errorf("media: file_string://%s: no part could be opened: %w", arg, fsrc.err)
	}
	return fsrc, nil
}

// advance closes the current part and opens the next one that opens.
func (f *fileString) advance(depth int) error {
	if f.cur != nil {
		_ = f.cur.Close()
		f.cur = nil
	}
	for f.next < len(f.parts) {
		part := strings.TrimSpace(f.parts[f.next])
		f.next++
		if part == "" {
			f.err = fmt.Errorf("media: empty file_string part: %w", fs.ErrNotExist)
			continue
		}
		src, err := openSource(part, f.o, depth)
		if err != nil {
			f.o.Logger.Warn("file_string: cannot open part, skipping it", "part", part, "error", err)
			f.err = err
			continue
		}
		f.cur = src
		return nil
	}
	return nil
}

func (f *fileString) Read(pcm []int16) (int, error) {
	if f.lead > 0 {
		n := min(f.lead, len(pcm))
		clear(pcm[:n])
		f.lead -= n
		return n, nil
	}
	for f.cur != nil {
		n, err := f.cur.Read(pcm)
		if err == nil {
			return n, nil
		}
		if !errors.Is(err, io.EOF) {
			return n, err
		}
		if aerr := f.advance(1); aerr != nil {
			return n, aerr
		}
		if n > 0 {
			return n, nil
		}
	}
	return 0, io.EOF
}

func (f *fileString) Close() error {
	if f.cur != nil {
		err := f.cur.Close()
		f.cur = nil
		return err
	}
	return nil
}
