package media

import (
	"bytes"
	"testing"
)

// TestPacerSendsPreEncodedFrames: a frame that comes encoded is sent as
// it is when the stream's codec uses the same law, and re-encoded from its
// samples when the codec changed to the other law since it was queued.
func TestPacerSendsPreEncodedFrames(t *testing.T) {
	e, p, streams := manualPacer(t, 1)
	s := streams[0]
	peer := newPeer(t)
	pcm := sine(160, 8000, 440, 8000)
	marker := bytes.Repeat([]byte{0x42}, 160) // not the encoding of pcm: shows which was sent
	tests := []struct {
		codec   Codec
		encAlaw bool
		want    []byte
	}{
		{PCMU, false, marker},
		{PCMA, true, marker},
		{PCMA, false, encodeWith(PCMA, pcm)},
		{PCMU, true, encodeWith(PCMU, pcm)},
	}
	for i, tt := range tests {
		if err := s.SetRemote(RemoteParams{Addr: peer.addr(), Codec: tt.codec}); err != nil {
			t.Fatal(err)
		}
		ok, _ := s.push(func(f *frame) {
			f.kind = frameAudio
			f.n = copy(f.pcm, pcm)
			f.enc, f.encAlaw = marker, tt.encAlaw
		})
		if !ok {
			t.Fatal("queue full")
		}
		servePeriod(e, p, uint64(i))
		pkts := peer.waitPackets(t, i+1)
		if got := pkts[i].Payload; !bytes.Equal(got, tt.want) {
			t.Errorf("case %d (%s, frame encoded A-law %v): payload % x..., want % x...", i, tt.codec.Name, tt.encAlaw, got[:4], tt.want[:4])
		}
	}
	// A slot reused by a producer that does not encode is not sent with
	// a stale encoding.
	queueAudio(s, pcm)
	servePeriod(e, p, uint64(len(tests)))
	if got := peer.waitPackets(t, len(tests)+1)[len(tests)].Payload; !bytes.Equal(got, encodeWith(PCMU, pcm)) {
		t.Errorf("plain frame after encoded ones: payload % x...", got[:4])
	}
}

func encodeWith(c Codec, pcm []int16) []byte {
	b := make([]byte, len(pcm))
	c.Encode(b, pcm)
	return b
}
