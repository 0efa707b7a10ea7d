package media

import (
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"math"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/switchboard-voip/switchboard/media/dsp"
	"github.com/zaf/g711"
)

// readAll drains src (bounded) and closes it.
func readAll(t testing.TB, src Source, limit int) []int16 {
	t.Helper()
	defer src.Close()
	var out []int16
	buf := make([]int16, 333) // not a frame multiple, on purpose
	for len(out) < limit {
		n, err := src.Read(buf)
		out = append(out, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
	}
	return out
}

// openBytes opens a file held in memory through OpenSource.
func openBytes(t testing.TB, name string, data []byte, rate int) (Source, error) {
	t.Helper()
	fsys := fstest.MapFS{name: {Data: data}}
	return OpenSource(name, SourceOptions{Rate: rate, Open: fsys.Open})
}

func TestWAVFormats(t *testing.T) {
	tone8k := sine(8000, 8000, 440, 10000)
	ulaw := make([]byte, len(tone8k))
	alaw := make([]byte, len(tone8k))
	for i, v := range tone8k {
		ulaw[i] = g711.EncodeUlawFrame(v)
		alaw[i] = g711.EncodeAlawFrame(v)
	}
	stereoSame := make([]int16, 0, 2*len(tone8k))
	stereoOpposite := make([]int16, 0, 2*len(tone8k))
	for _, v := range tone8k {
		stereoSame = append(stereoSame, v, v)
		stereoOpposite = append(stereoOpposite, v, -v)
	}
	pcm8 := make([]byte, len(tone8k))
	pcm24 := make([]byte, 3*len(tone8k))
	f32 := make([]byte, 4*len(tone8k))
	for i, v := range tone8k {
		pcm8[i] = byte(int(v>>8) + 128)
		pcm24[3*i+1], pcm24[3*i+2] = byte(v), byte(uint16(v)>>8)
		binary.LittleEndian.PutUint32(f32[4*i:], math.Float32bits(float32(v)/32767))
	}
	extensible := fmtChunk(wavExtensible, 1, 8000, 16)
	extensible.data = append(extensible.data, make([]byte, 24)...) // cbSize, valid bits, mask, GUID
	binary.LittleEndian.PutUint16(extensible.data[24:], wavPCM)

	tests := []struct {
		name    string
		file    []byte
		rate    int     // call rate
		samples int     // expected length (±2 when resampled)
		freq    float64 // expected dominant frequency; 0 = expect silence
		exact   []int16 // when set, the exact samples expected
	}{
		{"PCM16 8k", wav16(8000, 1, tone8k), 8000, 8000, 440, tone8k},
		{"PCM16 16k", wav16(16000, 1, sine(16000, 16000, 440, 10000)), 8000, 8000, 440, nil},
		{"PCM16 44.1k", wav16(44100, 1, sine(44100, 44100, 1000, 10000)), 8000, 8000, 1000, nil},
		{"PCM16 8k to 16k", wav16(8000, 1, tone8k), 16000, 16000, 440, nil},
		{"stereo mixed down", wav16(8000, 2, stereoSame), 8000, 8000, 440, tone8k},
		{"stereo in antiphase cancels", wav16(8000, 2, stereoOpposite), 8000, 8000, 0, nil},
		{"mu-law", riff(fmtChunk(wavUlaw, 1, 8000, 8), chunk{"data", ulaw}), 8000, 8000, 440, nil},
		{"A-law", riff(fmtChunk(wavAlaw, 1, 8000, 8), chunk{"data", alaw}), 8000, 8000, 440, nil},
		{"PCM8", riff(fmtChunk(wavPCM, 1, 8000, 8), chunk{"data", pcm8}), 8000, 8000, 440, nil},
		{"PCM24", riff(fmtChunk(wavPCM, 1, 8000, 24), chunk{"data", pcm24}), 8000, 8000, 440, tone8k},
		{"float32", riff(fmtChunk(wavFloat, 1, 8000, 32), chunk{"data", f32}), 8000, 8000, 440, nil},
		{"extensible", riff(extensible, chunk{"data", pcm16Bytes(tone8k)}), 8000, 8000, 440, tone8k},
		{"extra chunks, odd sizes", riff(chunk{"JUNK", []byte{1, 2, 3}}, fmtChunk(wavPCM, 1, 8000, 16),
			chunk{"LIST", []byte("INFOISFT\x05\x00\x00\x00test\x00")}, chunk{"data", pcm16Bytes(tone8k)}), 8000, 8000, 440, tone8k},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := openBytes(t, "x.wav", tt.file, tt.rate)
			if err != nil {
				t.Fatal(err)
			}
			got := readAll(t, src, 1<<20)
			if tt.exact != nil {
				if len(got) != len(tt.exact) {
					t.Fatalf("got %d samples, want %d", len(got), len(tt.exact))
				}
				for i := range got {
					if got[i] != tt.exact[i] {
						t.Fatalf("sample %d = %d, want %d", i, got[i], tt.exact[i])
					}
				}
			}
			if d := len(got) - tt.samples; d < -2 || d > 2 {
				t.Errorf("got %d samples, want %d", len(got), tt.samples)
			}
			mid := got[len(got)/4 : 3*len(got)/4]
			if tt.freq == 0 {
				if ms := dsp.MeanSquare(mid); ms > 1e-6 {
					t.Errorf("expected silence, mean square %v", ms)
				}
				return
			}
			f, share := dsp.Dominant(mid, tt.rate, []float64{350, 440, 1000, 2000})
			if f != tt.freq || share < 0.9 {
				t.Errorf("dominant %v Hz (share %.2f), want %v", f, share, tt.freq)
			}
		})
	}
}

// TestResampleNoAliasing: a 6 kHz tone in a 16 kHz file is above the
// 4 kHz Nyquist frequency of the call; the resampler must remove it
// rather than fold it down to 2 kHz.
func TestResampleNoAliasing(t *testing.T) {
	src, err := openBytes(t, "x.wav", wav16(16000, 1, sine(16000, 16000, 6000, 16000)), 8000)
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, src, 1<<20)
	mid := got[1000:7000]
	if p := dsp.Power(mid, 8000, 2000); p > 1e-4 {
		t.Errorf("6 kHz aliased to 2 kHz with power %v", p)
	}
	if ms := dsp.MeanSquare(mid); ms > 1e-4 {
		t.Errorf("mean square after low-pass %v", ms)
	}
}

func TestRawFormats(t *testing.T) {
	tone8k := sine(800, 8000, 440, 10000)
	ulaw := make([]byte, len(tone8k))
	for i, v := range tone8k {
		ulaw[i] = g711.EncodeUlawFrame(v)
	}
	tests := []struct {
		name string
		data []byte
		n    int
	}{
		{"x.r8", pcm16Bytes(tone8k), 800},
		{"x.raw", pcm16Bytes(tone8k), 800},
		{"x.r16", pcm16Bytes(sine(1600, 16000, 440, 10000)), 800},
		{"x.ul", ulaw, 800},
		{"x.ulaw", ulaw, 800},
	}
	for _, tt := range tests {
		src, err := openBytes(t, tt.name, tt.data, 8000)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := readAll(t, src, 1<<20); len(got)-tt.n < -2 || len(got)-tt.n > 2 {
			t.Errorf("%s: %d samples, want %d", tt.name, len(got), tt.n)
		}
	}
}

func TestWAVTruncatedData(t *testing.T) {
	file := wav16(8000, 1, sine(1000, 8000, 440, 1000))
	cut := file[:len(file)-501] // half a sample short of 750 samples
	src, err := openBytes(t, "x.wav", cut, 8000)
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, src, 1<<20); len(got) != 749 {
		t.Errorf("got %d samples from a truncated data chunk, want 749", len(got))
	}
	// A data chunk of size 0 (a recorder that never patched its header)
	// is read to the end of the file.
	file = riff(fmtChunk(wavPCM, 1, 8000, 16), chunk{"data", nil})
	file = append(file, pcm16Bytes(make([]int16, 320))...)
	src, err = openBytes(t, "x.wav", file, 8000)
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, src, 1<<20); len(got) != 320 {
		t.Errorf("got %d samples with data size 0, want 320", len(got))
	}
}

func TestWAVMalformed(t *testing.T) {
	good := wav16(8000, 1, make([]int16, 16))
	shortFmt := riff(chunk{"fmt ", make([]byte, 10)}, chunk{"data", nil})
	zeroCh := riff(fmtChunk(wavPCM, 0, 8000, 16), chunk{"data", nil})
	zeroRate := riff(fmtChunk(wavPCM, 1, 0, 16), chunk{"data", nil})
	bits12 := riff(fmtChunk(wavPCM, 1, 8000, 12), chunk{"data", nil})
	adpcm := riff(fmtChunk(2, 1, 8000, 4), chunk{"data", nil})
	dataFirst := riff(chunk{"data", make([]byte, 4)}, fmtChunk(wavPCM, 1, 8000, 16))
	noData := riff(fmtChunk(wavPCM, 1, 8000, 16))
	hugeChunk := append(riff(fmtChunk(wavPCM, 1, 8000, 16)), []byte("LIST\xff\xff\xff\x7f")...)
	tests := []struct {
		name        string
		data        []byte
		unsupported bool
	}{
		{"empty", nil, false},
		{"RIFF only", []byte("RIFF"), false},
		{"not WAVE", []byte("RIFF\x04\x00\x00\x00AVI "), false},
		{"header cut in fmt", good[:30], false},
		{"fmt too short", shortFmt, false},
		{"zero channels", zeroCh, false},
		{"zero rate", zeroRate, false},
		{"12-bit PCM", bits12, true},
		{"ADPCM", adpcm, true},
		{"data before fmt", dataFirst, false},
		{"no data chunk", noData, false},
		{"chunk longer than the file", hugeChunk, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := openBytes(t, "x.wav", tt.data, 8000)
			if err == nil {
				src.Close()
				t.Fatal("opened a malformed file")
			}
			if errors.Is(err, fs.ErrNotExist) {
				t.Errorf("malformed file reported as missing: %v", err)
			}
			if errors.Is(err, ErrUnsupported) != tt.unsupported {
				t.Errorf("err = %v, unsupported = %v", err, errors.Is(err, ErrUnsupported))
			}
		})
	}
}

func FuzzWAV(f *testing.F) {
	f.Add(wav16(8000, 1, sine(64, 8000, 440, 1000)))
	f.Add(wav16(44100, 2, sine(64, 44100, 440, 1000)))
	f.Add(riff(fmtChunk(wavUlaw, 1, 8000, 8), chunk{"data", []byte{1, 2, 3}}))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, rate := range []int{8000, 16000} {
			src, err := openBytes(t, "x.wav", data, rate)
			if err != nil {
				continue
			}
			buf := make([]int16, 160)
			for range 200 {
				if _, err := src.Read(buf); err != nil {
					break
				}
			}
			src.Close()
		}
	})
}

// wavNamed builds a 100 ms PCM16 8 kHz file with a tone at freq, so a
// test can tell which file was opened.
func wavNamed(freq float64) *fstest.MapFile {
	return &fstest.MapFile{Data: wav16(8000, 1, sine(800, 8000, freq, 8000))}
}

func dominantOf(t *testing.T, src Source) float64 {
	t.Helper()
	got := readAll(t, src, 1<<20)
	f, _ := dsp.Dominant(got, 8000, []float64{300, 400, 500, 600, 700, 800, 900})
	return f
}

func TestSoundPrefixAndRateDirs(t *testing.T) {
	const prefix = "sounds/en/us/callie"
	tests := []struct {
		name  string
		files map[string]float64 // path -> tone
		uri   string
		rate  int
		want  float64 // tone of the file that must open; 0: not found
	}{
		{"call rate first", map[string]float64{
			prefix + "/ivr/8000/welcome.wav":  300,
			prefix + "/ivr/16000/welcome.wav": 400,
			prefix + "/ivr/welcome.wav":       500,
		}, "ivr/welcome.wav", 8000, 300},
		{"then the highest rate", map[string]float64{
			prefix + "/ivr/16000/welcome.wav": 400,
			prefix + "/ivr/48000/welcome.wav": 600,
			prefix + "/ivr/welcome.wav":       500,
		}, "ivr/welcome.wav", 8000, 600},
		{"then 32000 before 16000", map[string]float64{
			prefix + "/ivr/16000/welcome.wav": 400,
			prefix + "/ivr/32000/welcome.wav": 700,
		}, "ivr/welcome.wav", 8000, 700},
		{"then the literal path", map[string]float64{
			prefix + "/ivr/welcome.wav": 500,
		}, "ivr/welcome.wav", 8000, 500},
		{"extension added", map[string]float64{
			prefix + "/ivr/8000/welcome.wav": 300,
		}, "ivr/welcome", 8000, 300},
		{"absolute path ignores the prefix", map[string]float64{
			"/abs/8000/x.wav":          800,
			prefix + "/abs/8000/x.wav": 300,
		}, "/abs/x.wav", 8000, 800},
		{"vars prefix", map[string]float64{
			prefix + "/ivr/8000/welcome.wav": 300,
		}, "{foo=bar}ivr/welcome.wav", 8000, 300},
		{"missing", map[string]float64{
			prefix + "/ivr/8000/other.wav": 300,
		}, "ivr/welcome.wav", 8000, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for p, f := range tt.files {
				fsys[strings.TrimPrefix(p, "/")] = wavNamed(f)
			}
			var opened []string
			open := func(name string) (fs.File, error) {
				opened = append(opened, name)
				return fsys.Open(strings.TrimPrefix(name, "/"))
			}
			src, err := OpenSource(tt.uri, SourceOptions{Rate: tt.rate, Open: open, SoundPrefix: prefix + "/"})
			if tt.want == 0 {
				if !errors.Is(err, fs.ErrNotExist) {
					t.Fatalf("err = %v, want fs.ErrNotExist", err)
				}
				want := []string{
					prefix + "/ivr/8000/welcome.wav", prefix + "/ivr/48000/welcome.wav", prefix + "/ivr/32000/welcome.wav",
					prefix + "/ivr/16000/welcome.wav", prefix + "/ivr/welcome.wav",
				}
				if strings.Join(opened, " ") != strings.Join(want, " ") {
					t.Errorf("tried %q, want %q", opened, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f := dominantOf(t, src); f != tt.want {
				t.Errorf("opened the %v Hz file, want %v (tried %q)", f, tt.want, opened)
			}
		})
	}
}

func TestMalformedFileIsNotMissing(t *testing.T) {
	fsys := fstest.MapFS{"s/8000/bad.wav": {Data: []byte("RIFF junk")}, "s/bad.wav": wavNamed(300)}
	_, err := OpenSource("s/bad.wav", SourceOptions{Open: fsys.Open})
	if err == nil || errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "s/8000/bad.wav") {
		t.Errorf("err = %v, want the malformed file named", err)
	}
}
