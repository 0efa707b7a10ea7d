package apps

import (
	"context"
	"slices"
	"testing"
	"time"
)

// digitCase is one run of a digit application on a fake call.
type digitCase struct {
	name      string
	data      string
	vars      []string       // channel variables before
	script    map[int]string // digits arriving during the prompt, by frame (first Play only)
	later     []string       // digits arriving during each wait for a digit ("" = that wait times out)
	missing   []string       // media that does not exist
	hangupAt  int            // hang up before this prompt frame (> 0)
	wantPlays []string
	wantVars  map[string]string
	wantWaits []time.Duration // timeouts given to the digit waits
	wantXfer  [][3]string
}

func runDigitCase(t *testing.T, app Func, tc digitCase) *fakeSession {
	t.Helper()
	s := newSession(tc.vars...)
	s.dtmf.instant = true
	s.dtmf.later = slices.Clone(tc.later)
	for k, v := range tc.script {
		s.media.script[k] = v
	}
	for _, m := range tc.missing {
		s.media.missing[m] = true
	}
	if tc.hangupAt > 0 {
		s.media.onFrame = func(f int) {
			if f == tc.hangupAt {
				s.Hangup(0)
			}
		}
	}
	if err := app(context.Background(), s, tc.data); err != nil {
		t.Fatalf("%s: %v", tc.data, err)
	}
	if !slices.Equal(s.media.plays, tc.wantPlays) {
		t.Errorf("played %q, want %q", s.media.plays, tc.wantPlays)
	}
	checkVars(t, s, tc.wantVars)
	if tc.wantWaits != nil && !slices.Equal(s.dtmf.waits, tc.wantWaits) {
		t.Errorf("digit waits %v, want %v", s.dtmf.waits, tc.wantWaits)
	}
	if !slices.Equal(s.transfers, tc.wantXfer) {
		t.Errorf("transfers %v, want %v", s.transfers, tc.wantXfer)
	}
	return s
}

const ms = time.Millisecond

func TestRead(t *testing.T) {
	tests := []digitCase{
		{
			name: "first digit stops the prompt, terminator ends", data: "1 4 menu.wav res 5000 #",
			script: map[int]string{3: "1"}, later: []string{"2", "3", "#"},
			wantPlays: []string{"menu.wav"},
			wantVars:  map[string]string{"res": "123", "read_result": "success", "read_terminator_used": "#"},
			wantWaits: []time.Duration{5000 * ms, 5000 * ms, 5000 * ms},
		},
		{
			name: "nothing pressed", data: "2 4 menu.wav res 3000 #",
			wantPlays: []string{"menu.wav"},
			wantVars:  map[string]string{"res": "", "read_result": "failure", "read_terminator_used": ""},
			wantWaits: []time.Duration{3000 * ms},
		},
		{
			name: "enough digits then the digit timeout", data: "1 4 menu.wav res 3000 # 1500",
			later:     []string{"5", ""},
			wantPlays: []string{"menu.wav"},
			wantVars:  map[string]string{"res": "5", "read_result": "timeout"},
			wantWaits: []time.Duration{3000 * ms, 1500 * ms},
		},
		{
			name: "max digits, silence plays nothing", data: "1 2 silence res 2000 #",
			later:     []string{"4", "2"},
			wantVars:  map[string]string{"res": "42", "read_result": "success"},
			wantWaits: []time.Duration{2000 * ms, 2000 * ms},
		},
		{
			name: "min, max and timeout are clamped", data: "0 0 silence res 10 #",
			later:     []string{"7"},
			wantVars:  map[string]string{"res": "7", "read_result": "success"},
			wantWaits: []time.Duration{1000 * ms},
		},
		{
			name: "a + terminator is kept", data: "1 4 silence res 2000 +#",
			later:    []string{"1", "#"},
			wantVars: map[string]string{"res": "1#", "read_result": "success", "read_terminator_used": "#"},
		},
		{
			name: "= requires the terminator", data: "1 4 silence res 2000 =#",
			later:    []string{"1", "2", ""},
			wantVars: map[string]string{"res": "12", "read_result": "failure"},
		},
		{
			name: "empty terminators mean #", data: "1 4 silence res 2000 ''",
			later:    []string{"9", "#"},
			wantVars: map[string]string{"res": "9", "read_terminator_used": "#", "read_result": "success"},
		},
		{
			name: "a terminator as the only digit of a one-digit read", data: "1 1 menu.wav res 5000 #",
			script:    map[int]string{2: "#"},
			wantPlays: []string{"menu.wav"},
			wantVars:  map[string]string{"res": "", "read_result": "success"},
			wantWaits: []time.Duration{},
		},
		{
			name: "a missing prompt sets nothing", data: "1 4 gone.wav res 5000 #",
			vars: []string{"res", "old", "read_result", "old"}, missing: []string{"gone.wav"},
			wantPlays: []string{"gone.wav"},
			wantVars:  map[string]string{"res": "", "read_result": ""},
		},
		{
			name: "hangup during the prompt", data: "1 4 menu.wav res 5000 #", hangupAt: 2,
			wantPlays: []string{"menu.wav"},
			wantVars:  map[string]string{"res": "", "read_result": ""},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.wantWaits != nil && len(tc.wantWaits) == 0 {
				tc.wantWaits = nil
				s := runDigitCase(t, readApp, tc)
				if len(s.dtmf.waits) != 0 {
					t.Errorf("waited for digits %v, want no wait", s.dtmf.waits)
				}
				return
			}
			runDigitCase(t, readApp, tc)
		})
	}
}

func TestPlayAndGetDigits(t *testing.T) {
	tests := []digitCase{
		{
			name: "valid on the first try", data: `1 1 3 5000 # menu.wav invalid.wav choice \d`,
			script: map[int]string{5: "3"}, wantPlays: []string{"menu.wav"},
			wantVars: map[string]string{"choice": "3", "choice_invalid": "", "read_result": "success"},
		},
		{
			name: "invalid, then valid", data: `1 1 3 5000 # menu.wav invalid.wav choice ^[12]$`,
			later:     []string{"9", "1"},
			wantPlays: []string{"menu.wav", "invalid.wav", "menu.wav"},
			wantVars:  map[string]string{"choice": "1", "choice_invalid": "9"},
		},
		{
			name: "every try times out, transfer on failure", data: `1 1 2 2000 # menu.wav invalid.wav choice \d 1000 'fail XML default'`,
			wantPlays: []string{"menu.wav", "invalid.wav", "menu.wav", "invalid.wav"},
			wantVars:  map[string]string{"choice": "", "read_result": "failure"},
			wantWaits: []time.Duration{2000 * ms, 2000 * ms},
			wantXfer:  [][3]string{{"fail", "XML", "default"}},
		},
		{
			name: "min 0 and only the terminator", data: `0 4 3 2000 # m.wav i.wav v \d+`,
			later: []string{"#"}, wantPlays: []string{"m.wav"},
			wantVars: map[string]string{"v": "", "read_terminator_used": "#"},
		},
		{
			name: "timeout with enough digits counts", data: `2 4 3 3000 # m.wav i.wav v ^\d+$ 500`,
			later: []string{"1", "2", ""}, wantPlays: []string{"m.wav"},
			wantVars:  map[string]string{"v": "12", "read_result": "timeout"},
			wantWaits: []time.Duration{3000 * ms, 500 * ms, 500 * ms},
		},
		{
			name: "no regex takes any digits", data: `1 3 3 3000 # m.wav i.wav v`,
			later: []string{"7", "7", "7"}, wantPlays: []string{"m.wav"},
			wantVars: map[string]string{"v": "777"},
		},
		{
			name: "an x terminator restarts at once", data: `1 3 3 3000 x# m.wav i.wav v \d`,
			later: []string{"4", "#"}, wantPlays: []string{"m.wav"},
			wantVars: map[string]string{"v": "4#", "read_terminator_used": "#"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runDigitCase(t, playAndGetDigitsApp, tc) })
	}
}
