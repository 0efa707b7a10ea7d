package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// RecordOptions controls Stream.Record.
type RecordOptions struct {
	// Limit ends the recording after this much audio; 0 means no limit.
	Limit time.Duration
	// SilenceThreshold, when above 0, ends the recording once the audio
	// has stayed below it for SilenceHits. The level of a 20 ms frame is
	// its mean absolute sample value scaled to 8 kHz, as FreeSWITCH
	// scores frames.
	SilenceThreshold int
	// SilenceHits is how long the audio must stay quiet; 0 means 3 s.
	SilenceHits time.Duration
	// Stop is checked every frame; the recording ends when it returns
	// true (a terminator digit). May be nil.
	Stop func() bool
	// Flush is how often the file's header is brought up to date, so an
	// interrupted recording keeps what was heard; 0 means every second.
	Flush time.Duration
}

// RecordResult describes a finished recording.
type RecordResult struct {
	Samples  int64         // samples written, at the stream's rate
	Duration time.Duration // audio written
	// Reason is why it ended: "limit", "silence", "stopped" or "hangup"
	// (ctx done or the stream closed).
	Reason string
}

// gapTolerance is how far the audio received may lag the clock before the
// recording fills the gap with silence (the caller stopped sending: on
// hold, or silence suppression), so the file keeps the call's timeline.
const gapTolerance = 100 * time.Millisecond

// Record writes the audio the stream receives into w (mono, at the
// stream's rate; w must have been created with that rate and one
// channel) until a limit, silence, Stop, or ctx ends it. Gaps in the
// received audio longer than gapTolerance are filled with silence. The
// file is flushed periodically and at the end.
func (s *Stream) Record(ctx context.Context, w *WAVWriter, o RecordOptions) (RecordResult, error) {
	rate := s.Codec().ClockRate
	if w.Rate() != rate {
		return RecordResult{}, fmt.Errorf("record: the file is %d Hz, the call %d Hz", w.Rate(), rate)
	}
	spf := rate / 50 // samples in 20 ms
	flushEvery := o.Flush
	if flushEvery <= 0 {
		flushEvery = time.Second
	}
	hits := 0
	if o.SilenceThreshold > 0 {
		d := o.SilenceHits
		if d <= 0 {
			d = 3 * time.Second
		}
		hits = max(int(d/(20*time.Millisecond)), 1)
	}
	divisor := max(rate/8000, 1)
	limit := int64(0)
	if o.Limit > 0 {
		limit = int64(o.Limit) * int64(rate) / int64(time.Second)
	}

	tap := s.Tap(2 * time.Second)
	defer tap.Close()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	lastFlush := start
	var res RecordResult
	frame := make([]int16, spf)
	fill := 0 // samples in frame
	quiet := 0
	finish := func(reason string) (RecordResult, error) {
		res.Reason = reason
		res.Duration = time.Duration(res.Samples) * time.Second / time.Duration(rate)
		return res, w.Flush()
	}
	// put appends samples to the file frame by frame, scoring each frame
	// for silence; it reports why the recording must end, or "".
	put := func(pcm []int16) (string, error) {
		for len(pcm) > 0 {
			if limit > 0 && res.Samples >= limit {
				return "limit", nil
			}
			n := copy(frame[fill:], pcm)
			if limit > 0 && res.Samples+int64(n) > limit {
				n = int(limit - res.Samples)
			}
			if err := w.Write(frame[fill : fill+n]); err != nil {
				return "", err
			}
			fill += n
			res.Samples += int64(n)
			pcm = pcm[n:]
			if fill < spf {
				continue
			}
			fill = 0
			if hits > 0 {
				var energy int64
				for _, v := range frame {
					if v < 0 {
						energy -= int64(v)
					} else {
						energy += int64(v)
					}
				}
				if score := energy / int64(spf/divisor); score < int64(o.SilenceThreshold) {
					quiet++
					if quiet >= hits {
						return "silence", nil
					}
				} else {
					quiet = 0
				}
			}
		}
		if limit > 0 && res.Samples >= limit {
			return "limit", nil
		}
		return "", nil
	}
	buf := make([]int16, rate/10)
	for {
		select {
		case <-ctx.Done():
			return finish("hangup")
		case <-tick.C:
		}
		if o.Stop != nil && o.Stop() {
			return finish("stopped")
		}
		for tap.Buffered() > 0 {
			n, err := tap.Read(ctx, buf)
			if err != nil {
				if errors.Is(err, io.EOF) || ctx.Err() != nil {
					return finish("hangup")
				}
				return res, err
			}
			reason, err := put(buf[:n])
			if err != nil {
				return res, err
			}
			if reason != "" {
				return finish(reason)
			}
		}
		if s.isClosed() {
			return finish("hangup")
		}
		// Nothing (or too little) arrived: keep the timeline.
		due := int64(time.Since(start)-gapTolerance) * int64(rate) / int64(time.Second)
		if gap := due - res.Samples; gap > 0 {
			reason, err := put(make([]int16, gap))
			if err != nil {
				return res, err
			}
			if reason != "" {
				return finish(reason)
			}
		}
		if time.Since(lastFlush) >= flushEvery {
			lastFlush = time.Now()
			if err := w.Flush(); err != nil {
				return res, err
			}
		}
	}
}

func (s *Stream) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}
