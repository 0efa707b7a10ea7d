// Command holdmusic renders the default configuration's music on hold:
// a slow, soft arpeggio of sine tones with smooth envelopes, as 8 kHz
// 16-bit mono WAV. Run it from the repository root:
//
//	go run ./scripts/holdmusic conf/default/sounds/music/8000/switchboard-hold.wav
package main

import (
	"fmt"
	"math"
	"os"

	"github.com/switchboard-voip/switchboard/media"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: holdmusic OUT.wav")
		os.Exit(2)
	}
	const rate = 8000
	// C major, A minor, F major, G major: each chord's notes in turn.
	chords := [][]float64{
		{261.63, 329.63, 392.00, 523.25},
		{220.00, 261.63, 329.63, 440.00},
		{174.61, 220.00, 261.63, 349.23},
		{196.00, 246.94, 293.66, 392.00},
	}
	const note = 0.5 // seconds per note
	var pcm []int16
	for _, chord := range chords {
		for _, f := range chord {
			n := int(note * rate)
			for i := range n {
				t := float64(i) / rate
				env := math.Sin(math.Pi * t / note) // fade in and out
				v := 0.22 * env * (math.Sin(2*math.Pi*f*t) + 0.3*math.Sin(2*math.Pi*2*f*t))
				pcm = append(pcm, int16(v*math.MaxInt16))
			}
		}
	}
	w, err := media.CreateWAV(os.Args[1], rate, 1, false)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := w.Write(pcm); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := w.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
