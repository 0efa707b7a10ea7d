package media

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/zaf/g711"
)

// sampleEncoding is how one sample is stored in a sound file.
type sampleEncoding uint8

const (
	encPCM8 sampleEncoding = iota + 1 // unsigned
	encPCM16
	encPCM24
	encPCM32
	encFloat32
	encFloat64
	encUlaw
	encAlaw
)

func (e sampleEncoding) size() int {
	switch e {
	case encPCM16:
		return 2
	case encPCM24:
		return 3
	case encPCM32, encFloat32:
		return 4
	case encFloat64:
		return 8
	}
	return 1
}

// WAV format tags (RIFF WAVE fmt chunk).
const (
	wavPCM        = 1
	wavFloat      = 3
	wavAlaw       = 6
	wavUlaw       = 7
	wavExtensible = 0xFFFE
)

const (
	maxChannels = 32
	maxRate     = 768000
)

var errNotWAV = errors.New("not a RIFF WAVE file")

// pcmDecoder reads interleaved samples and mixes them down to mono
// 16-bit PCM.
type pcmDecoder struct {
	r         *bufio.Reader
	enc       sampleEncoding
	channels  int
	rate      int
	remaining int64 // bytes left in the data chunk; -1: until EOF
	scratch   []byte
	eof       bool
}

func newRawDecoder(r io.Reader, enc sampleEncoding, rate int) *pcmDecoder {
	return &pcmDecoder{r: bufio.NewReaderSize(r, 4096), enc: enc, channels: 1, rate: rate, remaining: -1}
}

// newWAVDecoder reads a RIFF WAVE header up to the data chunk.
func newWAVDecoder(r io.Reader) (*pcmDecoder, error) {
	br := bufio.NewReaderSize(r, 4096)
	var hdr [12]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, fmt.Errorf("%w: header: %w", errNotWAV, eofAsUnexpected(err))
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return nil, errNotWAV
	}
	d := &pcmDecoder{r: br}
	haveFmt := false
	for {
		var ch [8]byte
		if _, err := io.ReadFull(br, ch[:]); err != nil {
			return nil, fmt.Errorf("WAV without a data chunk: %w", eofAsUnexpected(err))
		}
		id := string(ch[0:4])
		size := int64(binary.LittleEndian.Uint32(ch[4:8]))
		switch id {
		case "fmt ":
			if err := d.readFmt(br, size); err != nil {
				return nil, err
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return nil, errors.New("WAV data chunk before the fmt chunk")
			}
			d.remaining = size
			if size == 0 || size == 0xFFFFFFFF {
				d.remaining = -1 // written by a streaming recorder: read to EOF
			}
			return d, nil
		default:
			if err := skip(br, size+size%2); err != nil {
				return nil, fmt.Errorf("WAV chunk %q: %w", id, err)
			}
		}
	}
}

func (d *pcmDecoder) readFmt(br *bufio.Reader, size int64) error {
	if size < 16 {
		return fmt.Errorf("WAV fmt chunk too short (%d bytes)", size)
	}
	var b [40]byte
	n := min(size, int64(len(b)))
	if _, err := io.ReadFull(br, b[:n]); err != nil {
		return fmt.Errorf("WAV fmt chunk: %w", eofAsUnexpected(err))
	}
	if err := skip(br, size-n+size%2); err != nil {
		return fmt.Errorf("WAV fmt chunk: %w", err)
	}
	tag := binary.LittleEndian.Uint16(b[0:2])
	channels := int(binary.LittleEndian.Uint16(b[2:4]))
	rate := int(binary.LittleEndian.Uint32(b[4:8]))
	bits := int(binary.LittleEndian.Uint16(b[14:16]))
	if tag == wavExtensible {
		if n < 26 {
			return errors.New("WAV extensible fmt chunk too short")
		}
		tag = binary.LittleEndian.Uint16(b[24:26]) // first two bytes of the sub-format GUID
	}
	if channels < 1 || channels > maxChannels {
		return fmt.Errorf("WAV with %d channels", channels)
	}
	if rate < 1 || rate > maxRate {
		return fmt.Errorf("WAV sample rate %d", rate)
	}
	var enc sampleEncoding
	switch {
	case tag == wavPCM && bits == 8:
		enc = encPCM8
	case tag == wavPCM && bits == 16:
		enc = encPCM16
	case tag == wavPCM && bits == 24:
		enc = encPCM24
	case tag == wavPCM && bits == 32:
		enc = encPCM32
	case tag == wavFloat && bits == 32:
		enc = encFloat32
	case tag == wavFloat && bits == 64:
		enc = encFloat64
	case tag == wavUlaw && bits == 8:
		enc = encUlaw
	case tag == wavAlaw && bits == 8:
		enc = encAlaw
	default:
		return fmt.Errorf("WAV format %d with %d bits per sample: %w", tag, bits, ErrUnsupported)
	}
	d.enc, d.channels, d.rate = enc, channels, rate
	return nil
}

func skip(r io.Reader, n int64) error {
	if n <= 0 {
		return nil
	}
	m, err := io.CopyN(io.Discard, r, n)
	if m < n {
		return fmt.Errorf("truncated: %w", eofAsUnexpected(err))
	}
	return nil
}

func eofAsUnexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Read decodes up to len(pcm) frames. A data chunk cut short ends the
// audio early without an error, as libsndfile does.
func (d *pcmDecoder) Read(pcm []int16) (int, error) {
	if d.eof {
		return 0, io.EOF
	}
	if len(pcm) == 0 {
		return 0, nil
	}
	frameBytes := d.enc.size() * d.channels
	if d.scratch == nil {
		d.scratch = make([]byte, max(4096/frameBytes, 1)*frameBytes)
	}
	want := int64(min(len(pcm), len(d.scratch)/frameBytes) * frameBytes)
	if d.remaining >= 0 {
		want = min(want, d.remaining-d.remaining%int64(frameBytes))
		if want == 0 {
			d.eof = true
			return 0, io.EOF
		}
	}
	n, err := io.ReadFull(d.r, d.scratch[:want])
	if d.remaining >= 0 {
		d.remaining -= int64(n)
	}
	if err != nil {
		if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, err
		}
		d.eof = true
	}
	frames := n / frameBytes
	d.decode(pcm[:frames], d.scratch[:frames*frameBytes])
	if frames == 0 && d.eof {
		return 0, io.EOF
	}
	return frames, nil
}

// decode mixes frames of b (interleaved channels) into out.
func (d *pcmDecoder) decode(out []int16, b []byte) {
	size := d.enc.size()
	ch := d.channels
	for i := range out {
		var sum int64
		for c := range ch {
			off := (i*ch + c) * size
			sum += int64(d.sample(b[off : off+size]))
		}
		out[i] = int16(sum / int64(ch))
	}
}

// sample decodes one sample to 16 bits.
func (d *pcmDecoder) sample(b []byte) int16 {
	switch d.enc {
	case encPCM8:
		return int16(int(b[0])-128) << 8
	case encPCM16:
		return int16(binary.LittleEndian.Uint16(b))
	case encPCM24:
		return int16(uint16(b[1]) | uint16(b[2])<<8)
	case encPCM32:
		return int16(binary.LittleEndian.Uint32(b) >> 16)
	case encFloat32:
		return floatToPCM(float64(math.Float32frombits(binary.LittleEndian.Uint32(b))))
	case encFloat64:
		return floatToPCM(math.Float64frombits(binary.LittleEndian.Uint64(b)))
	case encUlaw:
		return g711.DecodeUlawFrame(b[0])
	case encAlaw:
		return g711.DecodeAlawFrame(b[0])
	}
	return 0
}

// Close does nothing: the file belongs to the fileSource.
func (d *pcmDecoder) Close() error { return nil }

func floatToPCM(f float64) int16 {
	switch {
	case f != f: // NaN
		return 0
	case f >= 1:
		return math.MaxInt16
	case f <= -1:
		return math.MinInt16
	}
	return int16(math.Round(f * 32767))
}
