package media

// queueDepth is how many 20 ms frames a producer may queue ahead of the
// pacer: enough to ride out a producer that is scheduled late, small
// enough that a flush (stop, cancel) is all the latency there is.
const queueDepth = 12

// queueLowWater is the queue length at which the pacer wakes a waiting
// producer to refill the queue. The producer then wakes once per
// queueDepth-queueLowWater frames (100 ms) rather than after every frame,
// and still has queueLowWater frames (140 ms) to be scheduled before an
// underrun, as much as when it was woken after every frame of an 8-frame
// queue.
const queueLowWater = 7

type frameKind uint8

const (
	frameAudio frameKind = iota // one frame of PCM
	frameDTMF                   // one RFC 4733 packet (three for an end)
	frameGap                    // a period in which nothing is sent
)

// frame is one period's worth of output.
type frame struct {
	kind frameKind
	n    int     // audio: samples of real audio (the rest is padding)
	pcm  []int16 // audio: FrameSamples samples (a window of the queue's backing array)
	// enc, when set, is pcm already encoded with G.711 A-law (encAlaw) or
	// µ-law, in a table nobody modifies: the pacer sends it as it is when
	// the stream's codec uses that law, and encodes pcm otherwise.
	enc     []byte
	encAlaw bool
	ev      dtmfEvent
}

// frameQueue is a fixed ring of frames; the Stream's mutex guards it.
type frameQueue struct {
	slots []frame
	head  int
	count int
}

func newFrameQueue(depth, samples int) frameQueue {
	q := frameQueue{slots: make([]frame, depth)}
	backing := make([]int16, depth*samples)
	for i := range q.slots {
		q.slots[i].pcm = backing[i*samples : (i+1)*samples : (i+1)*samples]
	}
	return q
}

func (q *frameQueue) full() bool { return q.count == len(q.slots) }

// reserve returns the slot to fill next, or nil when full; commit makes
// it visible.
func (q *frameQueue) reserve() *frame {
	if q.full() {
		return nil
	}
	f := &q.slots[(q.head+q.count)%len(q.slots)]
	f.enc = nil
	return f
}

func (q *frameQueue) commit() { q.count++ }

func (q *frameQueue) pop() *frame {
	if q.count == 0 {
		return nil
	}
	f := &q.slots[q.head]
	q.head = (q.head + 1) % len(q.slots)
	q.count--
	return f
}

func (q *frameQueue) flush() {
	q.head, q.count = 0, 0
}
