package media

import (
	"context"
	"errors"
	"sync"
	"time"
)

// CallRecordOptions controls Stream.RecordCall.
type CallRecordOptions struct {
	// Stereo puts what the caller says on the left channel and what the
	// caller hears on the right (RECORD_STEREO); otherwise the two are
	// mixed into one channel. w must have the matching channel count.
	Stereo bool
	// ReadOnly records only what the caller says, WriteOnly only what
	// the caller hears (RECORD_READ_ONLY, RECORD_WRITE_ONLY).
	ReadOnly, WriteOnly bool
	// Limit ends the recording after this much audio; 0: none.
	Limit time.Duration
	// Flush is how often the file is brought up to date; 0: every second.
	Flush time.Duration
}

// CallRecording is a recording of both directions of a call that runs
// beside whatever the call does (record_session), until Stop, the limit,
// or the stream closing.
type CallRecording struct {
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
	mu      sync.Mutex
	res     RecordResult
	err     error
	started time.Time
}

// RecordCall starts recording the call into w (at the stream's rate).
func (s *Stream) RecordCall(w *WAVWriter, o CallRecordOptions) (*CallRecording, error) {
	rate := s.Codec().ClockRate
	switch {
	case w.Rate() != rate:
		return nil, errors.New("record_session: the file's rate is not the call's")
	case o.Stereo != (w.channels == 2):
		return nil, errors.New("record_session: the file's channel count does not match the stereo setting")
	}
	var rx, tx *Tap
	if !o.WriteOnly {
		rx = s.Tap(2 * time.Second)
	}
	if !o.ReadOnly {
		tx = s.TapSent(2 * time.Second)
	}
	r := &CallRecording{stop: make(chan struct{}), done: make(chan struct{}), started: time.Now()}
	go r.run(s, w, o, rx, tx, rate)
	return r, nil
}

// Stop ends the recording and returns what it wrote; calling it again
// returns the same.
func (r *CallRecording) Stop() (RecordResult, error) {
	r.once.Do(func() { close(r.stop) })
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.res, r.err
}

// Done is closed when the recording has ended (stopped, limit, hangup).
func (r *CallRecording) Done() <-chan struct{} { return r.done }

// run mixes the two directions on the clock: every 20 ms it writes the
// audio due so far (less gapTolerance of slack for late packets), taking
// each side's buffered samples and filling what a side lacks with
// silence, so both channels keep the call's timeline.
func (r *CallRecording) run(s *Stream, w *WAVWriter, o CallRecordOptions, rx, tx *Tap, rate int) {
	defer close(r.done)
	defer func() {
		if rx != nil {
			rx.Close()
		}
		if tx != nil {
			tx.Close()
		}
	}()
	flushEvery := o.Flush
	if flushEvery <= 0 {
		flushEvery = time.Second
	}
	limit := int64(0)
	if o.Limit > 0 {
		limit = int64(o.Limit) * int64(rate) / int64(time.Second)
	}
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	var written int64
	lastFlush := time.Now()
	var a, b, out []int16
	take := func(tap *Tap, buf []int16, n int) []int16 {
		if cap(buf) < n {
			buf = make([]int16, 0, n)
		}
		buf = buf[:0]
		if tap == nil { // this side is not recorded: silence
			buf = buf[:n]
			clear(buf)
			return buf
		}
		// Keep at most a second of backlog: older audio is what a stalled
		// writer could never place on the timeline any more.
		if over := tap.Buffered() - n - rate; over > 0 {
			tap.Discard(over)
		}
		for len(buf) < n && tap.Buffered() > 0 {
			// Buffered > 0 and nobody else reads: Read returns at once.
			m, err := tap.Read(context.Background(), buf[len(buf):n])
			buf = buf[:len(buf)+m]
			if err != nil || m == 0 {
				break
			}
		}
		for len(buf) < n {
			buf = append(buf, 0)
		}
		return buf
	}
	finish := func(reason string, err error) {
		ferr := w.Flush()
		r.mu.Lock()
		r.res = RecordResult{Samples: written, Duration: time.Duration(written) * time.Second / time.Duration(rate), Reason: reason}
		r.err = errors.Join(err, ferr)
		r.mu.Unlock()
	}
	for {
		reason := ""
		select {
		case <-r.stop:
			reason = "stopped"
		case <-s.done:
			reason = "hangup"
		case <-t.C:
		}
		due := int64(time.Since(r.started)-gapTolerance) * int64(rate) / int64(time.Second)
		if reason != "" {
			// Write out what has arrived, up to now.
			due = int64(time.Since(r.started)) * int64(rate) / int64(time.Second)
		}
		if limit > 0 && due > limit {
			due = limit
		}
		if n := int(due - written); n > 0 {
			a, b = take(rx, a, n), take(tx, b, n)
			out = out[:0]
			for i := range n {
				if o.Stereo {
					out = append(out, a[i], b[i])
				} else {
					out = append(out, clamp16(float32(a[i])+float32(b[i])))
				}
			}
			if err := w.Write(out); err != nil {
				finish("error", err)
				return
			}
			written += int64(n)
		}
		if limit > 0 && written >= limit && reason == "" {
			reason = "limit"
		}
		if reason != "" {
			finish(reason, nil)
			return
		}
		if time.Since(lastFlush) >= flushEvery {
			lastFlush = time.Now()
			if err := w.Flush(); err != nil {
				finish("error", err)
				return
			}
		}
	}
}
