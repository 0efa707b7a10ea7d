package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// PlayResult describes what Play sent.
type PlayResult struct {
	Samples  int64         // samples of audio the pacer took (sent, or paced while there was no remote)
	Duration time.Duration // Samples at the codec's rate
	Stopped  bool          // ended by stop or ctx rather than by the source ending
}

// acquireOutput makes the caller the stream's only producer.
func (s *Stream) acquireOutput(ctx context.Context) error {
	s.output()
	select {
	case s.outSem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return ErrClosed
	}
	select {
	case <-s.done:
		<-s.outSem
		return ErrClosed
	default:
	}
	// A signal left over from a previous producer would only cause one
	// spurious wake-up; drain it anyway.
	select {
	case <-s.space:
	default:
	}
	// The producer has the output: audio relayed by a bridge waits.
	s.mu.Lock()
	s.owned = true
	s.mu.Unlock()
	return nil
}

func (s *Stream) releaseOutput() {
	s.mu.Lock()
	s.owned = false
	s.mu.Unlock()
	<-s.outSem
}

// wait blocks until the pacer has taken frames (the queue fell to
// queueLowWater, or emptied), ctx is done or the stream closes. A producer waits only
// with a full queue, or an empty one to come; it flushes the queue when
// returning an error.
func (s *Stream) wait(ctx context.Context) error {
	select {
	case <-s.space:
		return nil
	case <-ctx.Done():
		s.flushOutput()
		return ctx.Err()
	case <-s.done:
		return ErrClosed
	}
}

// flushOutput drops the queued frames. A telephone event already started
// is ended properly (three end packets) rather than cut off.
func (s *Stream) flushOutput() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue.flush()
	if s.dtmfOpen {
		if f := s.queue.reserve(); f != nil {
			f.kind = frameDTMF
			f.ev = s.dtmfLast
			f.ev.start = false
			f.ev.end = true
			s.queue.commit()
		}
	}
}

// push queues one frame if there is room; fill writes it. It reports
// false when the queue is full, and ErrClosed once the stream is closed.
func (s *Stream) push(fill func(f *frame)) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false, ErrClosed
	}
	f := s.queue.reserve()
	if f == nil {
		return false, nil
	}
	fill(f)
	s.queue.commit()
	return true, nil
}

// queued is the number of frames waiting for the pacer.
func (s *Stream) queued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queue.count
}

func (s *Stream) setProducing(on bool) {
	s.mu.Lock()
	s.producing = on
	s.mu.Unlock()
}

func (s *Stream) playedSamples() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.played
}

// Play sends src, paced at one 20 ms frame per period, until the source
// ends (io.EOF), stop returns true, or ctx is done. stop (may be nil) is
// checked before each frame is queued; Play refills the queue when the
// pacer has taken five frames, so stop runs at least every 100 ms.
// When it fires, frames already queued are dropped and Play returns with
// Stopped set. A partial last frame is padded with silence. Play returns
// once the last frame has been handed to the pacer's socket write, so
// consecutive Plays follow each other without a gap.
//
// Play does not close src. It returns ctx.Err() (Stopped set) when ctx
// ends it, ErrClosed when the stream closes, and a wrapped read error
// when the source fails (FreeSWITCH's PLAYBACK ERROR).
func (s *Stream) Play(ctx context.Context, src Source, stop func() bool) (PlayResult, error) {
	if err := s.acquireOutput(ctx); err != nil {
		return PlayResult{}, err
	}
	defer s.releaseOutput()

	s.mu.Lock()
	spf, rate, alaw := s.spf, s.codec.ClockRate, s.codec.isAlaw()
	s.mu.Unlock()
	start := s.playedSamples()
	// A source that can hand out its audio already encoded (a periodic
	// tone) saves the pacer the encoding.
	er, _ := src.(encodedReader)
	result := func(stopped bool) PlayResult {
		n := s.playedSamples() - start
		return PlayResult{Samples: n, Duration: time.Duration(n) * time.Second / time.Duration(rate), Stopped: stopped}
	}

	buf := make([]int16, spf)
	var n int
	var enc []byte
	pending, eof := false, false
	defer s.setProducing(false)
	for {
		if stop != nil && stop() {
			s.flushOutput()
			return result(true), nil
		}
		// A source that paces itself (a local stream) keeps the queue
		// from filling, so the wait below may never run: look at ctx here.
		if err := ctx.Err(); err != nil {
			s.flushOutput()
			return result(true), err
		}
		if !pending && !eof {
			var err error
			n, enc, err = readFrame(src, er, buf, alaw)
			switch {
			case errors.Is(err, io.EOF):
				eof = true
				s.setProducing(false)
			case err != nil:
				return result(false), fmt.Errorf("media: read source: %w", err)
			}
			pending = n > 0
		}
		if pending {
			ok, err := s.push(func(f *frame) {
				f.kind = frameAudio
				f.n = n
				copy(f.pcm, buf[:n])
				clear(f.pcm[n:])
				f.enc, f.encAlaw = enc, alaw
				s.producing = !eof // from the first frame on, an empty queue is an underrun
			})
			if err != nil {
				return result(false), err
			}
			if ok {
				pending = false
				continue
			}
		} else if eof && s.queued() == 0 {
			return result(false), nil
		}
		if err := s.wait(ctx); err != nil {
			return result(true), err
		}
	}
}

// encodedReader is a Source that can also return what it reads already
// encoded with G.711 (see toneSource.readEncoded).
type encodedReader interface {
	readEncoded(pcm []int16, alaw bool) (int, []byte, error)
}

// readFrame reads one frame like readFull, with its encoding when er (the
// source, if it is an encodedReader) has the whole frame encoded.
func readFrame(src Source, er encodedReader, buf []int16, alaw bool) (int, []byte, error) {
	if er == nil {
		n, err := readFull(src, buf)
		return n, nil, err
	}
	n, enc, err := er.readEncoded(buf, alaw)
	if err != nil || n == len(buf) {
		return n, enc, err
	}
	m, err := readFull(src, buf[n:])
	return n + m, nil, err
}

// readFull reads from src until buf is full, the source ends or fails.
func readFull(src Source, buf []int16) (int, error) {
	n, empty := 0, 0
	for n < len(buf) {
		m, err := src.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
		if m == 0 {
			if empty++; empty > 100 {
				return n, io.ErrNoProgress
			}
		}
	}
	return n, nil
}

// Echo sends the audio the stream receives back to the far end, with
// the stream's own SSRC, sequence numbers and timestamps, delayed by
// delay (0: as soon as possible), until stop returns true or ctx is done
// (then it returns ctx.Err()). stop is checked at least every 20 ms.
// When the far end pauses, Echo plays out what it holds and waits; when
// it starts again Echo rebuilds the delay. Echo needs a started stream to
// hear anything.
func (s *Stream) Echo(ctx context.Context, delay time.Duration, stop func() bool) error {
	if err := s.acquireOutput(ctx); err != nil {
		return err
	}
	defer s.releaseOutput()
	delay = max(delay, 0)

	s.mu.Lock()
	spf, rate := s.spf, s.codec.ClockRate
	s.mu.Unlock()
	delaySamples := int(delay * time.Duration(rate) / time.Second)
	slack := 10 * spf // audio beyond the delay plus this is dropped (clock drift, bursts)
	quietFor := delay + 2*Ptime
	tap := s.Tap(delay + time.Second)
	defer tap.Close()

	buf := make([]int16, spf)
	poll := time.NewTimer(Ptime)
	defer poll.Stop()
	buffering := true
	var lastTotal uint64
	lastArrival := time.Now()
	for {
		if stop != nil && stop() {
			s.flushOutput()
			return nil
		}
		if total := tap.total(); total != lastTotal {
			lastTotal, lastArrival = total, time.Now()
		}
		avail := tap.Buffered()
		if excess := avail - (delaySamples + spf + slack); excess > 0 {
			avail -= tap.Discard(excess)
		}
		quiet := time.Since(lastArrival) >= quietFor
		if buffering && avail > 0 && (avail >= delaySamples+spf || quiet) {
			buffering = false
		}
		if !buffering && (avail >= spf || (avail > 0 && quiet)) && !s.queueFull() {
			n, _ := tap.Read(ctx, buf)
			if _, err := s.push(func(f *frame) {
				f.kind = frameAudio
				f.n = n
				copy(f.pcm, buf[:n])
				clear(f.pcm[n:])
			}); err != nil {
				return err
			}
			continue
		}
		if !buffering && avail == 0 {
			buffering = delaySamples > 0
		}
		poll.Reset(Ptime)
		select {
		case <-tap.notify:
		case <-s.space:
		case <-poll.C:
		case <-ctx.Done():
			s.flushOutput()
			return ctx.Err()
		case <-s.done:
			return ErrClosed
		}
	}
}

func (s *Stream) queueFull() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queue.full()
}
