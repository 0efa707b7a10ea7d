package esl

import (
	"testing"

	"github.com/switchboard-voip/switchboard/events"
)

func TestFilterPass(t *testing.T) {
	type f struct{ h, v string }
	ev := func(hs ...string) *events.Event {
		e := events.New("CHANNEL_ANSWER")
		for i := 0; i+1 < len(hs); i += 2 {
			e.Add(hs[i], hs[i+1])
		}
		return e
	}
	for _, tc := range []struct {
		name    string
		filters []f
		event   *events.Event
		want    bool
	}{
		{"no filters", nil, ev(), true},
		{"match", []f{{"Unique-ID", "a"}}, ev("Unique-ID", "a"), true},
		{"case-insensitive value and name", []f{{"unique-id", "ABC"}}, ev("Unique-ID", "abc"), true},
		{"no match", []f{{"Unique-ID", "a"}}, ev("Unique-ID", "b"), false},
		{"header missing", []f{{"Unique-ID", "a"}}, ev(), false},
		{"any include", []f{{"Unique-ID", "a"}, {"Unique-ID", "b"}}, ev("Unique-ID", "b"), true},
		{"exclude wins", []f{{"Unique-ID", "a"}, {"Caller", "-x"}}, ev("Unique-ID", "a", "Caller", "x"), false},
		{"exclude only never sends", []f{{"Caller", "-x"}}, ev("Caller", "y"), false},
		{"exclude before include", []f{{"Caller", "-x"}, {"Unique-ID", "a"}}, ev("Unique-ID", "a", "Caller", "x"), false},
		{"plus sign", []f{{"Unique-ID", "+ a"}}, ev("Unique-ID", "a"), true},
		{"regex", []f{{"Caller", "/^10[0-9]$/"}}, ev("Caller", "105"), true},
		{"regex no match", []f{{"Caller", "/^10[0-9]$/"}}, ev("Caller", "1050"), false},
		{"regex flags", []f{{"Name", "/^bob$/i"}}, ev("Name", "BOB"), true},
		// As in FreeSWITCH, a value is a regex only when it starts with '/'
		// before any sign: "-/x/" compares with the text "/x/".
		{"signed regex is text", []f{{"Unique-ID", "a"}, {"Caller", "-/^1/"}}, ev("Unique-ID", "a", "Caller", "/^1/"), false},
		{"signed regex text no match", []f{{"Unique-ID", "a"}, {"Caller", "-/^1/"}}, ev("Unique-ID", "a", "Caller", "123"), true},
		{"bare sign excludes an empty value", []f{{"Unique-ID", "a"}, {"Caller", "-"}}, ev("Unique-ID", "a", "Caller", ""), false},
		{"bare sign keeps a value", []f{{"Unique-ID", "a"}, {"Caller", "-"}}, ev("Unique-ID", "a", "Caller", "x"), true},
	} {
		var fs filterSet
		for _, x := range tc.filters {
			nf, err := newFilter(x.h, x.v)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			fs = append(fs, nf)
		}
		if got := fs.pass(tc.event); got != tc.want {
			t.Errorf("%s: pass = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestFilterErrors(t *testing.T) {
	for _, v := range []string{"/(/", "/a", "/(?=x)/", `/(a)\1/`} {
		if _, err := newFilter("H", v); err == nil {
			t.Errorf("newFilter(%q): no error", v)
		}
	}
}

func TestFilterWithout(t *testing.T) {
	var fs filterSet
	for _, x := range [][2]string{{"A", "1"}, {"a", "2"}, {"B", "1"}} {
		nf, _ := newFilter(x[0], x[1])
		fs = append(fs, nf)
	}
	if got := fs.without("A", "2"); len(got) != 2 || got[1].header != "B" {
		t.Errorf("without A 2: %+v", got)
	}
	if got := fs.without("a", ""); len(got) != 1 || got[0].header != "B" {
		t.Errorf("without a: %+v", got)
	}
}
