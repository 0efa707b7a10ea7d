package media

import (
	"errors"
	"io"
	"io/fs"
	"math"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/switchboard-voip/switchboard/media/dsp"
)

var toneCandidates = []float64{350, 400, 425, 440, 480, 620, 697, 770, 852, 941, 1000, 1004, 1209, 1336, 1477, 1633}

func openTest(t *testing.T, uri string) Source {
	t.Helper()
	src, err := OpenSource(uri, SourceOptions{Rate: 8000, Open: fstest.MapFS{}.Open})
	if err != nil {
		t.Fatalf("OpenSource(%q): %v", uri, err)
	}
	return src
}

// seg is an expected run of 20 ms frames: a frequency (0 = silence) and
// a length.
type seg struct {
	freq float64
	dur  time.Duration
}

func TestToneStream(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		uri     string
		samples int
		segs    []seg
	}{
		{"tone_stream://%(200,100,440)", 2400, []seg{{440, 200 * ms}, {0, 100 * ms}}},
		{"tone_stream://%(100,0,1000);%(100,0,440)", 1600, []seg{{1000, 100 * ms}, {440, 100 * ms}}},
		{"tone_stream://%(100,100,440);L=3", 4800, []seg{{440, 100 * ms}, {0, 100 * ms}, {440, 100 * ms}, {0, 100 * ms}, {440, 100 * ms}, {0, 100 * ms}}},
		{"tone_stream://L=2;%(100,0,440);L=5", 1600, []seg{{440, 200 * ms}}},
		{"{loops=2}tone_stream://%(100,100,1000)", 3200, []seg{{1000, 100 * ms}, {0, 100 * ms}, {1000, 100 * ms}, {0, 100 * ms}}},
		{"tone_stream://%(100,100,1000);loops=2", 3200, []seg{{1000, 100 * ms}, {0, 100 * ms}, {1000, 100 * ms}, {0, 100 * ms}}},
		{"tone_stream://%(100,0,440);l=3;%(100,0,1000);%(100,0,440)", 4000, []seg{{440, 100 * ms}, {1000, 300 * ms}, {440, 100 * ms}}},
		{"tone_stream://d=100;w=40;%(-1,-1,440)", 1120, []seg{{440, 100 * ms}, {0, 40 * ms}}},
		{"tone_stream://%(100,0,0);%(100,0,440)", 800, []seg{{440, 100 * ms}}},
		{"tone_stream://v=-80;%(100,0,440)", 800, []seg{{440, 100 * ms}}}, // out-of-range volume ignored
		{"tone_stream://", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			got := readAll(t, openTest(t, tt.uri), 1<<20)
			if len(got) != tt.samples {
				t.Fatalf("%d samples, want %d", len(got), tt.samples)
			}
			checkSegments(t, got, tt.segs)
		})
	}
}

func checkSegments(t *testing.T, pcm []int16, want []seg) {
	t.Helper()
	got := dsp.Segments(pcm, 8000, toneCandidates)
	var g []seg
	for _, s := range got {
		g = append(g, seg{s.Freq, s.Duration})
	}
	if len(g) != len(want) {
		t.Fatalf("segments %v, want %v", g, want)
	}
	for i := range want {
		if g[i] != want[i] {
			t.Errorf("segment %d = %v, want %v (all: %v)", i, g[i], want[i], g)
		}
	}
}

func TestToneMixAndLevels(t *testing.T) {
	// Two frequencies share the energy; '+' joins them like ','.
	for _, uri := range []string{"tone_stream://%(500,0,350,440)", "tone_stream://%(500,0,350+440)"} {
		pcm := readAll(t, openTest(t, uri), 1<<20)
		for _, f := range []float64{350, 440} {
			if s := dsp.Share(pcm, 8000, f); s < 0.4 || s > 0.6 {
				t.Errorf("%s: share of %v Hz = %.2f, want about 0.5", uri, f, s)
			}
		}
	}
	// The default level is -7 dBm0, and v= changes it in dB.
	def := readAll(t, openTest(t, "tone_stream://%(500,0,1000)"), 1<<20)
	quiet := readAll(t, openTest(t, "tone_stream://v=-20;%(500,0,1000)"), 1<<20)
	pd, pq := dsp.Power(def, 8000, 1000), dsp.Power(quiet, 8000, 1000)
	wantAmp := math.Pow(10, (-7-dbm0MaxPower)/20) * math.Sqrt2 * 32767 / 32768
	if a := math.Sqrt(pd); math.Abs(a-wantAmp) > 0.01 {
		t.Errorf("default amplitude %.3f of full scale, want %.3f", a, wantAmp)
	}
	if db := 10 * math.Log10(pq/pd); math.Abs(db-(-13)) > 0.2 {
		t.Errorf("v=-20 is %.2f dB from the default, want -13", db)
	}
	// A decaying tone gets quieter.
	decay := readAll(t, openTest(t, "tone_stream://>=10;+=2;%(1000,0,440)"), 1<<20)
	if first, last := dsp.Power(decay[:800], 8000, 440), dsp.Power(decay[7200:], 8000, 440); !(last < first/100) {
		t.Errorf("decay: power %v then %v", first, last)
	}
}

func TestToneDTMFKeys(t *testing.T) {
	pcm := readAll(t, openTest(t, "tone_stream://1;5(100,50)"), 1<<20)
	// '1' with the defaults: 2000 samples of tone and 500 of silence.
	if len(pcm) != 2000+500+800+400 {
		t.Fatalf("%d samples", len(pcm))
	}
	for _, tc := range []struct {
		part      []int16
		low, high float64
		otherLow  float64
		otherHigh float64
	}{
		{pcm[:2000], 697, 1209, 770, 1336},
		{pcm[2500:3300], 770, 1336, 697, 1209},
	} {
		if dsp.Share(tc.part, 8000, tc.low) < 0.4 || dsp.Share(tc.part, 8000, tc.high) < 0.4 ||
			dsp.Share(tc.part, 8000, tc.otherLow) > 0.05 || dsp.Share(tc.part, 8000, tc.otherHigh) > 0.05 {
			t.Errorf("key %v+%v not found", tc.low, tc.high)
		}
	}
	if lo, hi, ok := DTMFFreqs('9'); !ok || lo != 852 || hi != 1477 {
		t.Errorf("DTMFFreqs('9') = %v %v %v", lo, hi, ok)
	}
}

func TestToneForever(t *testing.T) {
	for _, uri := range []string{"{loops=-1}tone_stream://%(100,100,440)", "tone_stream://l=-1;%(20,0,440)"} {
		src := openTest(t, uri)
		buf := make([]int16, 8000)
		for i := range 10 {
			if n, err := src.Read(buf); n != len(buf) || err != nil {
				t.Fatalf("%s: read %d: %d, %v", uri, i, n, err)
			}
		}
		src.Close()
	}
	// An empty specification ends even when looped forever.
	if got := readAll(t, openTest(t, "{loops=-1}tone_stream://v=-10"), 1000); len(got) != 0 {
		t.Errorf("empty looped spec gave %d samples", len(got))
	}
}

func TestToneSyntaxErrors(t *testing.T) {
	for _, spec := range []string{
		"%(100,200)",     // no frequency
		"%(100,200,440",  // no ')'
		"1(100)",         // a key takes on,off only
		"1(100,100,440)", // a key takes no frequencies
		"%(1,1," + strings.Repeat("1,", 20) + "1)", // too many frequencies
	} {
		if _, err := ParseToneSpec(spec); err == nil {
			t.Errorf("ParseToneSpec(%q) succeeded", spec)
		}
		if _, err := OpenSource("tone_stream://"+spec, SourceOptions{}); err == nil {
			t.Errorf("OpenSource accepted %q", spec)
		}
	}
}

func TestTonePathFile(t *testing.T) {
	fsys := fstest.MapFS{"tones/ring.ttml": {Data: []byte("%(100,0,440)\n%(100,0,1000);L=2\n")}}
	src, err := OpenSource("tone_stream://path=tones/ring.ttml", SourceOptions{Open: fsys.Open})
	if err != nil {
		t.Fatal(err)
	}
	pcm := readAll(t, src, 1<<20)
	checkSegments(t, pcm, []seg{{440, 100 * time.Millisecond}, {1000, 200 * time.Millisecond}})
	if _, err := OpenSource("tone_stream://path=missing.ttml", SourceOptions{Open: fsys.Open}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing path= file: %v", err)
	}
}

func FuzzTone(f *testing.F) {
	for _, s := range []string{
		"%(200,100,440)", "%(100,100,350,440);L=3", "v=-10;>=5;+=1;%(50,0,1000)", "1234#*ABCD",
		"l=2;5(10,10);%(10,0,0)", "d=1;w=1;%(-5,-5,440+480)", "%(", ")(", ";;;", "L=2147483648;%(1,1,1)",
		"%(1e9,1,440)", "r=16000;c=2;%(10,10,440)", "%(10,10,nan)", "%(10,10,-440)", "%(10,10,Inf)",
		"L=2000000000;v=-1", "l=-1;%(0,0,440)", "l=-1;d=0;w=0;1", "L=99999999;%(0,0,440)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		ts, err := ParseToneSpec(spec)
		if err != nil {
			return
		}
		src := NewToneSource(ts, 8000, 2)
		buf := make([]int16, 1000)
		for range 50 {
			if _, err := src.Read(buf); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatalf("Read: %v", err)
				}
				break
			}
		}
	})
}

func TestSilenceStream(t *testing.T) {
	got := readAll(t, openTest(t, "silence_stream://250"), 1<<20)
	if len(got) != 2000 {
		t.Errorf("silence_stream://250 gave %d samples", len(got))
	}
	for _, v := range got {
		if v != 0 {
			t.Fatal("silence is not silent")
		}
	}
	noise := readAll(t, openTest(t, "silence_stream://100,400"), 1<<20)
	ms := dsp.MeanSquare(noise)
	if len(noise) != 800 || ms == 0 || ms > 1e-3 {
		t.Errorf("comfort noise: %d samples, mean square %v", len(noise), ms)
	}
	forever := openTest(t, "silence_stream://-1")
	buf := make([]int16, 8000)
	for range 5 {
		if n, err := forever.Read(buf); n != len(buf) || err != nil {
			t.Fatalf("forever: %d %v", n, err)
		}
	}
	for _, bad := range []string{"silence_stream://0", "silence_stream://abc", "silence_stream://"} {
		if _, err := OpenSource(bad, SourceOptions{}); err == nil {
			t.Errorf("OpenSource(%q) succeeded", bad)
		}
	}
}

func TestFileString(t *testing.T) {
	fsys := fstest.MapFS{
		"s/a.wav": wavNamed(300),
		"s/b.wav": wavNamed(500),
	}
	open := func(uri string) (Source, error) {
		return OpenSource(uri, SourceOptions{Rate: 8000, Open: fsys.Open, SoundPrefix: "s", Logger: quiet})
	}
	// part is a run of samples: a tone, or silence (0).
	type part struct {
		freq    float64
		samples int
	}
	lead := part{0, 2000} // FreeSWITCH's 250 ms before the first part
	tests := []struct {
		uri   string
		parts []part
	}{
		{"file_string://a.wav!b.wav", []part{lead, {300, 800}, {500, 800}}},
		{"file_string://a.wav!missing.wav!tone_stream://%(100,0,440)", []part{lead, {300, 800}, {440, 800}}},
		{"{loops=3}file_string://silence_stream://100!b.wav", []part{lead, {0, 800}, {500, 800}}},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			src, err := open(tt.uri)
			if err != nil {
				t.Fatal(err)
			}
			pcm := readAll(t, src, 1<<20)
			total := 0
			for _, p := range tt.parts {
				total += p.samples
			}
			if len(pcm) != total {
				t.Fatalf("%d samples, want %d", len(pcm), total)
			}
			off := 0
			for i, p := range tt.parts {
				chunk := pcm[off : off+p.samples]
				off += p.samples
				if p.freq == 0 {
					if dsp.MeanSquare(chunk) != 0 {
						t.Errorf("part %d is not silent", i)
					}
					continue
				}
				if f, share := dsp.Dominant(chunk, 8000, []float64{300, 440, 500}); f != p.freq || share < 0.9 {
					t.Errorf("part %d: %v Hz (share %.2f), want %v", i, f, share, p.freq)
				}
			}
		})
	}
	if _, err := open("file_string://nope.wav!nada.wav"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("all parts missing: %v", err)
	}
}

func TestOpenSourceErrors(t *testing.T) {
	tests := []struct {
		uri         string
		notExist    bool
		unsupported bool
	}{
		{"http://example.com/a.wav", false, true},
		{"local_stream://moh", true, false}, // none configured
		{"phrase:voicemail_hello", false, true},
		{"say:hello", false, true},
		{"music.mp3", false, true},
		{"file_string://file_string://a.wav", false, true},
		{"{loops=2", false, false},
		{"", true, false},
		{"nothing-here.wav", true, false},
	}
	for _, tt := range tests {
		_, err := OpenSource(tt.uri, SourceOptions{Open: fstest.MapFS{}.Open, Logger: quiet})
		if err == nil {
			t.Errorf("%q: opened", tt.uri)
			continue
		}
		if errors.Is(err, fs.ErrNotExist) != tt.notExist || errors.Is(err, ErrUnsupported) != tt.unsupported {
			t.Errorf("%q: err = %v", tt.uri, err)
		}
	}
}

func FuzzOpenSource(f *testing.F) {
	fsys := fstest.MapFS{"a.wav": wavNamed(300), "d/8000/b.wav": wavNamed(400)}
	for _, s := range []string{
		"a.wav", "d/b.wav", "{loops=2}tone_stream://%(10,10,440)", "file_string://a.wav!d/b.wav!silence_stream://20",
		"{a={b}}a.wav", "{{{", "silence_stream://-1,3", "tone_stream://path=a.wav",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		src, err := OpenSource(uri, SourceOptions{Rate: 8000, Open: fsys.Open, Logger: quiet})
		if err != nil {
			return
		}
		buf := make([]int16, 160)
		for range 100 {
			if _, err := src.Read(buf); err != nil {
				break
			}
		}
		src.Close()
	})
}
