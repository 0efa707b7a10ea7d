package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// WAVWriter writes 16-bit PCM WAV files (mono or interleaved stereo) for
// recordings. Its header is rewritten with the true sizes on every
// Flush, so a file cut short by a crash or a hangup is still a valid WAV
// holding everything flushed before. Not safe for concurrent use.
type WAVWriter struct {
	f        *os.File
	rate     int
	channels int
	frames   int64 // sample frames written (one sample per channel each)
	flushed  int64 // bytes of audio on disk after the header
	buf      []byte
}

// wavHeaderSize is the size of the canonical 44-byte PCM header this
// writer produces.
const wavHeaderSize = 44

// CreateWAV creates (or truncates) path as a WAV file of rate Hz with
// channels channels (1 or 2). With appendTo set and an existing file of
// the same format at path, new audio is appended to it instead
// (RECORD_APPEND); a file of another format is an error.
func CreateWAV(path string, rate, channels int, appendTo bool) (*WAVWriter, error) {
	if channels != 1 && channels != 2 {
		return nil, fmt.Errorf("wav %s: %d channels: only 1 or 2 are supported", path, channels)
	}
	if rate <= 0 {
		return nil, fmt.Errorf("wav %s: bad rate %d", path, rate)
	}
	w := &WAVWriter{rate: rate, channels: channels}
	if appendTo {
		if f, err := os.OpenFile(path, os.O_RDWR, 0); err == nil {
			frames, err := checkAppendable(f, rate, channels)
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("wav %s: cannot append: %w", path, err)
			}
			w.f, w.frames, w.flushed = f, frames, frames*int64(2*channels)
			return w, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("wav %s: %w", path, err)
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return nil, fmt.Errorf("wav %s: %w", path, err)
	}
	w.f = f
	if err := w.writeHeader(); err != nil {
		f.Close()
		return nil, fmt.Errorf("wav %s: %w", path, err)
	}
	return w, nil
}

// checkAppendable reads the header of a WAV this writer could have
// written and returns the number of sample frames in it.
func checkAppendable(f *os.File, rate, channels int) (int64, error) {
	var h [wavHeaderSize]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return 0, fmt.Errorf("reading the header: %w", err)
	}
	le := binary.LittleEndian
	switch {
	case string(h[0:4]) != "RIFF" || string(h[8:12]) != "WAVE" || string(h[12:16]) != "fmt " || string(h[36:40]) != "data":
		return 0, errors.New("not a canonical PCM WAV file")
	case le.Uint16(h[20:]) != 1 || le.Uint16(h[34:]) != 16:
		return 0, errors.New("not 16-bit PCM")
	case int(le.Uint16(h[22:])) != channels || int(le.Uint32(h[24:])) != rate:
		return 0, fmt.Errorf("it has %d channels at %d Hz, the recording %d at %d Hz", le.Uint16(h[22:]), le.Uint32(h[24:]), channels, rate)
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	// Trust the file's length over the header: a crash may have left
	// audio the header does not count yet.
	return (st.Size() - wavHeaderSize) / int64(2*channels), nil
}

func (w *WAVWriter) writeHeader() error {
	var h [wavHeaderSize]byte
	le := binary.LittleEndian
	data := uint32(w.flushed)
	copy(h[0:], "RIFF")
	le.PutUint32(h[4:], 36+data)
	copy(h[8:], "WAVE")
	copy(h[12:], "fmt ")
	le.PutUint32(h[16:], 16)
	le.PutUint16(h[20:], 1) // PCM
	le.PutUint16(h[22:], uint16(w.channels))
	le.PutUint32(h[24:], uint32(w.rate))
	le.PutUint32(h[28:], uint32(w.rate*w.channels*2))
	le.PutUint16(h[32:], uint16(w.channels*2))
	le.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	le.PutUint32(h[40:], data)
	_, err := w.f.WriteAt(h[:], 0)
	return err
}

// Write buffers interleaved samples (len(pcm) must be a multiple of the
// channel count); Flush writes them out.
func (w *WAVWriter) Write(pcm []int16) error {
	if len(pcm)%w.channels != 0 {
		return fmt.Errorf("wav: %d samples for %d channels", len(pcm), w.channels)
	}
	for _, v := range pcm {
		w.buf = binary.LittleEndian.AppendUint16(w.buf, uint16(v))
	}
	w.frames += int64(len(pcm) / w.channels)
	return nil
}

// Flush writes the buffered audio and rewrites the header's sizes.
func (w *WAVWriter) Flush() error {
	if len(w.buf) > 0 {
		if _, err := w.f.WriteAt(w.buf, wavHeaderSize+w.flushed); err != nil {
			return fmt.Errorf("wav: %w", err)
		}
		w.flushed += int64(len(w.buf))
		w.buf = w.buf[:0]
	}
	if err := w.writeHeader(); err != nil {
		return fmt.Errorf("wav: %w", err)
	}
	return nil
}

// Frames returns the number of sample frames written (per channel).
func (w *WAVWriter) Frames() int64 { return w.frames }

// Rate returns the file's sample rate.
func (w *WAVWriter) Rate() int { return w.rate }

// Close flushes and closes the file.
func (w *WAVWriter) Close() error {
	err := w.Flush()
	return errors.Join(err, w.f.Close())
}
