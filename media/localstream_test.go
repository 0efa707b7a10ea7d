package media

import (
	"errors"
	"io/fs"
	"testing"
	"testing/fstest"
	"time"

	"github.com/switchboard-voip/switchboard/media/dsp"
)

func musicFS() fstest.MapFS {
	return fstest.MapFS{
		"music/8000/a.wav":    {Data: wav16(8000, 1, sine(1600, 8000, 440, 8000))}, // 200 ms
		"music/8000/b.wav":    {Data: wav16(8000, 1, sine(1600, 8000, 880, 8000))}, // 200 ms
		"music/8000/note.txt": {Data: []byte("not audio")},
		"empty/.keep":         {Data: nil},
	}
}

func testStreams(t *testing.T, cfgs ...LocalStreamConfig) *LocalStreams {
	t.Helper()
	fsys := musicFS()
	l := NewLocalStreams(quiet)
	for i := range cfgs {
		cfgs[i].ReadDir = func(dir string) ([]fs.DirEntry, error) { return fs.ReadDir(fsys, dir) }
		cfgs[i].Open = func(name string) (fs.File, error) { return fsys.Open(name) }
	}
	l.Configure(cfgs)
	t.Cleanup(l.Close)
	return l
}

// listenFor reads d of audio from src.
func listenFor(t *testing.T, src Source, d time.Duration, rate int) []int16 {
	t.Helper()
	pcm := make([]int16, int(d)*rate/int(time.Second))
	if n, err := readFull(src, pcm); err != nil || n != len(pcm) {
		t.Fatalf("read %d of %d samples: %v", n, len(pcm), err)
	}
	return pcm
}

func TestLocalStreamPlaysTheDirectoryInALoop(t *testing.T) {
	t.Parallel()
	l := testStreams(t, LocalStreamConfig{Name: "moh/8000", Dir: "music/8000"})
	src, err := l.Open("moh", 8000)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	pcm := listenFor(t, src, 1200*time.Millisecond, 8000)
	// Per 20 ms frame, which of the two tones sounds; the files alternate
	// a, b, a, b ... in 200 ms runs (sorted order, no shuffle).
	var runs []float64
	for _, f := range dsp.Frames(pcm, 8000, []float64{440, 880}) {
		if f != 0 && (len(runs) == 0 || runs[len(runs)-1] != f) {
			runs = append(runs, f)
		}
	}
	if len(runs) < 5 {
		t.Fatalf("tone runs %v: want the two files alternating", runs)
	}
	for i := 1; i < len(runs); i++ {
		if runs[i] == runs[i-1] {
			t.Fatalf("tone runs %v", runs)
		}
	}
}

func TestLocalStreamIsShared(t *testing.T) {
	t.Parallel()
	// Two 400 ms files: 440 Hz then 880 Hz. A listener that joins 600 ms
	// after the first must hear the stream where it is (880 Hz, the
	// middle of the second file), not a new stream from the start
	// (440 Hz); 200 ms of margin either way.
	fsys := fstest.MapFS{
		"m/a.wav": {Data: wav16(8000, 1, sine(3200, 8000, 440, 8000))},
		"m/b.wav": {Data: wav16(8000, 1, sine(3200, 8000, 880, 8000))},
	}
	l := NewLocalStreams(quiet)
	l.Configure([]LocalStreamConfig{{
		Name:    "default",
		Dir:     "m",
		ReadDir: func(dir string) ([]fs.DirEntry, error) { return fs.ReadDir(fsys, dir) },
		Open:    fsys.Open,
	}})
	t.Cleanup(l.Close)
	a, _ := l.Open("default", 8000)
	defer a.Close()
	time.Sleep(600 * time.Millisecond)
	b, _ := l.Open("anything", 8000) // unknown names fall back to default
	defer b.Close()
	pb := listenFor(t, b, 60*time.Millisecond, 8000)
	if f, share := dsp.Dominant(pb, 8000, []float64{440, 880}); f != 880 || share < 0.5 {
		t.Errorf("the second listener hears %v Hz (share %.2f): it did not join the running stream at 880 Hz", f, share)
	}
}

func TestLocalStreamLookup(t *testing.T) {
	t.Parallel()
	l := testStreams(t,
		LocalStreamConfig{Name: "moh/8000", Dir: "music/8000"},
		LocalStreamConfig{Name: "moh/16000", Dir: "music/8000", Rate: 16000},
		LocalStreamConfig{Name: "quiet", Dir: "empty"},
	)
	for _, tc := range []struct {
		name string
		rate int
		ok   bool
	}{
		{"moh", 8000, true}, {"moh", 16000, true}, {"moh", 32000, false}, {"quiet", 8000, true}, {"nope", 8000, false},
	} {
		src, err := l.Open(tc.name, tc.rate)
		if (err == nil) != tc.ok {
			t.Errorf("Open(%s, %d) = %v, want ok %v", tc.name, tc.rate, err, tc.ok)
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open(%s) error %v does not wrap fs.ErrNotExist", tc.name, err)
		}
		if src != nil {
			pcm := listenFor(t, src, 60*time.Millisecond, tc.rate)
			if tc.name == "quiet" && dsp.MeanSquare(pcm) != 0 {
				t.Error("an empty directory is not silent")
			}
			src.Close()
		}
	}
	if names := l.Names(); len(names) != 3 || names[0] != "moh/16000" {
		t.Errorf("Names = %v", names)
	}
}

func TestLocalStreamReconfigure(t *testing.T) {
	t.Parallel()
	l := testStreams(t, LocalStreamConfig{Name: "a", Dir: "music/8000"}, LocalStreamConfig{Name: "b", Dir: "music/8000"})
	sa, _ := l.Open("a", 8000)
	sb, _ := l.Open("b", 8000)
	defer sa.Close()
	defer sb.Close()
	listenFor(t, sa, 60*time.Millisecond, 8000)
	kept := l.m["a"]
	fsys := musicFS()
	l.Configure([]LocalStreamConfig{{Name: "a", Dir: "music/8000", ReadDir: func(dir string) ([]fs.DirEntry, error) { return fs.ReadDir(fsys, dir) }, Open: func(n string) (fs.File, error) { return fsys.Open(n) }}})
	if l.m["a"] != kept {
		t.Error("an unchanged stream was restarted")
	}
	if pcm := listenFor(t, sa, 200*time.Millisecond, 8000); dsp.MeanSquare(pcm) == 0 {
		t.Error("the kept stream went silent")
	}
	if pcm := listenFor(t, sb, 100*time.Millisecond, 8000); dsp.MeanSquare(pcm[len(pcm)/2:]) != 0 {
		t.Error("a removed stream still plays")
	}
	sa.Close()
	eventually(t, "stream a stops without listeners", func() bool {
		kept.mu.Lock()
		defer kept.mu.Unlock()
		return !kept.running
	})
}

func TestOpenSourceLocalStream(t *testing.T) {
	t.Parallel()
	l := testStreams(t, LocalStreamConfig{Name: "moh", Dir: "music/8000"})
	src, err := OpenSource("local_stream://moh", SourceOptions{LocalStream: l.Open})
	if err != nil {
		t.Fatal(err)
	}
	src.Close()
	if _, err := OpenSource("local_stream://moh", SourceOptions{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("without local streams: %v", err)
	}
}
