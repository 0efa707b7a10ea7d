package media

import (
	"os"
	"path/filepath"
	"testing"
)

// readBack decodes a written file with the package's own WAV reader.
func readBack(t *testing.T, path string) (rate, channels int, pcm []int16) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := newWAVDecoder(f)
	if err != nil {
		t.Fatalf("%s is not a valid WAV: %v", path, err)
	}
	buf := make([]int16, 4096)
	for {
		n, err := d.Read(buf)
		pcm = append(pcm, buf[:n]...)
		if err != nil {
			break
		}
	}
	return d.rate, d.channels, pcm
}

func TestWAVWriter(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		rate     int
		channels int
		writes   [][]int16
		close    bool // Close, or only Flush (a crash after the flush)
	}{
		{"mono", 8000, 1, [][]int16{{1, 2, 3}, {-4, 32767, -32768}}, true},
		{"stereo", 16000, 2, [][]int16{{1, -1, 2, -2}}, true},
		{"flushed but never closed", 8000, 1, [][]int16{{5, 6, 7, 8}}, false},
		{"empty", 8000, 1, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name+".wav")
			w, err := CreateWAV(path, tt.rate, tt.channels, false)
			if err != nil {
				t.Fatal(err)
			}
			var want []int16
			for _, p := range tt.writes {
				if err := w.Write(p); err != nil {
					t.Fatal(err)
				}
				want = append(want, p...)
			}
			if tt.close {
				err = w.Close()
			} else {
				err = w.Flush()
				defer w.Close()
			}
			if err != nil {
				t.Fatal(err)
			}
			rate, ch, got := readBack(t, path)
			if rate != tt.rate || ch != tt.channels {
				t.Errorf("format %d Hz × %d, want %d × %d", rate, ch, tt.rate, tt.channels)
			}
			// The reader mixes stereo down to mono.
			if tt.channels == 2 {
				if len(got) != len(want)/2 {
					t.Errorf("%d samples read, want %d", len(got), len(want)/2)
				}
				return
			}
			if len(got) != len(want) {
				t.Fatalf("read %v, want %v", got, want)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("read %v, want %v", got, want)
				}
			}
		})
	}
	if _, err := CreateWAV(filepath.Join(dir, "x.wav"), 8000, 3, false); err == nil {
		t.Error("3 channels accepted")
	}
	w, _ := CreateWAV(filepath.Join(dir, "y.wav"), 8000, 2, false)
	if err := w.Write([]int16{1}); err == nil {
		t.Error("an odd sample count accepted for stereo")
	}
	w.Close()
}

func TestWAVAppend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.wav")
	for i, part := range [][]int16{{1, 2}, {3}, {4, 5}} {
		w, err := CreateWAV(path, 8000, 1, i > 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(part); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	_, _, got := readBack(t, path)
	if len(got) != 5 || got[0] != 1 || got[4] != 5 {
		t.Errorf("appended file holds %v, want [1 2 3 4 5]", got)
	}
	if _, err := CreateWAV(path, 16000, 1, true); err == nil {
		t.Error("appending 16 kHz audio to an 8 kHz file was accepted")
	}
	// Appending to a file that does not exist creates it.
	if w, err := CreateWAV(filepath.Join(t.TempDir(), "new.wav"), 8000, 1, true); err != nil {
		t.Error(err)
	} else {
		w.Close()
	}
}

// readRawPCM returns the interleaved samples of a canonical 16-bit WAV.
func readRawPCM(t *testing.T, path string) []int16 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b = b[wavHeaderSize:]
	out := make([]int16, len(b)/2)
	for i := range out {
		out[i] = int16(uint16(b[2*i]) | uint16(b[2*i+1])<<8)
	}
	return out
}
