package say

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// d expands a compact list of sounds: a bare word is under digits/
// ("7" → digits/7, "hundred" → digits/hundred), anything with a '/' or
// "://" is taken as written.
func d(words string) []string {
	var out []string
	for _, w := range strings.Fields(words) {
		if strings.Contains(w, "/") {
			out = append(out, w)
		} else {
			out = append(out, "digits/"+w)
		}
	}
	return out
}

type sayCase struct {
	text string
	typ  Type
	meth Method
	tz   string
	want string // sounds for d(); "ERR" for an error
}

func runSayCases(t *testing.T, a Args, cases []sayCase) {
	t.Helper()
	for _, tc := range cases {
		name := tc.typ.String() + "/" + tc.meth.String() + "/" + tc.text
		if tc.tz != "" {
			name += "@" + tc.tz
		}
		t.Run(name, func(t *testing.T) {
			a := a
			a.Type, a.Method, a.Timezone = tc.typ, tc.meth, tc.tz
			got, err := English{}.Files(tc.text, a)
			if tc.want == "ERR" {
				if err == nil {
					t.Fatalf("Files(%q) = %q, want an error", tc.text, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Files(%q): %v", tc.text, err)
			}
			if want := d(tc.want); !slices.Equal(got, want) {
				t.Errorf("Files(%q)\n got %q\nwant %q", tc.text, got, want)
			}
		})
	}
}

func TestEnglishNumbers(t *testing.T) {
	runSayCases(t, Args{}, []sayCase{
		{"0", Number, Pronounced, "", "0"},
		{"7", Number, Pronounced, "", "7"},
		{"13", Number, Pronounced, "", "13"},
		{"20", Number, Pronounced, "", "20"},
		{"21", Number, Pronounced, "", "20 1"},
		{"100", Number, Pronounced, "", "1 hundred"},
		{"101", Number, Pronounced, "", "1 hundred 1"},
		{"110", Number, Pronounced, "", "1 hundred 10"},
		{"115", Number, Pronounced, "", "1 hundred 15"},
		{"999", Number, Pronounced, "", "9 hundred 90 9"},
		{"1000", Number, Pronounced, "", "1 thousand"},
		{"1001", Number, Pronounced, "", "1 thousand 1"},
		{"1,234", Number, Pronounced, "", "1 thousand 2 hundred 30 4"},
		{"20017", Number, Pronounced, "", "20 thousand 17"},
		{"1000000", Number, Pronounced, "", "1 million"},
		{"1000100", Number, Pronounced, "", "1 million 1 hundred"},
		{"123456789", Number, Pronounced, "", "1 hundred 20 3 million 4 hundred 50 6 thousand 7 hundred 80 9"},
		{"007", Number, Pronounced, "", "7"},
		{"1234567890", Number, Pronounced, "", "ERR"}, // more than nine digits
		{"12a", Number, Pronounced, "", "ERR"},
		{"-5", Number, Pronounced, "", "ERR"},
		{"", Number, Pronounced, "", "0"},

		{"123", Number, Iterated, "", "1 2 3"},
		{"1,024", Number, Iterated, "", "1 0 2 4"},
		{"12345678901234", Number, Iterated, "", "1 2 3 4 5 6 7 8 9 0 1 2 3 4"},
		{"", Number, Iterated, "", "ERR"},
		{"1.5", Number, Iterated, "", "ERR"},

		{"1", Number, Counted, "", "h-1"},
		{"13", Number, Counted, "", "13"}, // FreeSWITCH has no teen ordinals here
		{"20", Number, Counted, "", "h-20"},
		{"21", Number, Counted, "", "20 h-1"},
		{"100", Number, Counted, "", "1 hundred"},
		{"101", Number, Counted, "", "1 hundred h-1"},
		{"2000000", Number, Counted, "", "2 million"},
		{"2030", Number, Counted, "", "2 thousand h-30"},

		{"1999", Number, PronouncedYear, "", "19 90 9"},
		{"1905", Number, PronouncedYear, "", "19 5"},
		{"1900", Number, PronouncedYear, "", "1 thousand 9 hundred"},
		{"2000", Number, PronouncedYear, "", "2 thousand"},
		{"2024", Number, PronouncedYear, "", "2 thousand 20 4"},

		{"5", Items, Pronounced, "", "5"},
		{"5", Persons, Pronounced, "", "5"},
		{"42", Messages, Pronounced, "", "40 2"},
		{"5", Number, MethodNA, "", "ERR"},
		{"0", Number, MethodNA, "", "0"},
		{"5", Number, InvalidMethod, "", "ERR"},
	})
}

func TestEnglishCurrency(t *testing.T) {
	runSayCases(t, Args{}, []sayCase{
		{"$12.34", Currency, Pronounced, "", "12 currency/dollars currency/and 30 4 currency/cents"},
		{"$1.01", Currency, Pronounced, "", "1 currency/dollar currency/and 1 currency/cent"},
		{"$0.99", Currency, Pronounced, "", "0 currency/dollars currency/and 90 9 currency/cents"},
		{"1,000", Currency, Pronounced, "", "1 thousand currency/dollars"},
		{"-5", Currency, Pronounced, "", "currency/negative 5 currency/dollars"},
		{"+3", Currency, Pronounced, "", "3 currency/dollars"},
		{"12.5", Currency, Pronounced, "", "12 currency/dollars currency/and 5 currency/cents"},
		{"12.345", Currency, Pronounced, "", "12 currency/dollars currency/and 30 4 currency/cents"},
		{"12.", Currency, Pronounced, "", "12 currency/dollars currency/and 0 currency/cents"},
		{"$12.34", Currency, Iterated, "", "1 2 currency/dollars currency/and 3 4 currency/cents"},
		{"1234567890123456", Currency, Pronounced, "", "ERR"},
	})
}

func TestEnglishOther(t *testing.T) {
	runSayCases(t, Args{}, []sayCase{
		{"192.168.0.1", IPAddress, Pronounced, "", "1 hundred 90 2 dot 1 hundred 60 8 dot 0 dot 1"},
		{"192.168.0.1", IPAddress, Iterated, "", "1 9 2 dot 1 6 8 dot 0 dot 1"},
		{"10.0.0", IPAddress, Pronounced, "", "ERR"},

		{"+1 (918) 555-12", TelephoneNumber, MethodNA, "",
			"ascii/43 1 silence_stream://100 9 1 8 silence_stream://100 5 5 5 silence_stream://100 1 2"},
		{"1-800-Go", TelephoneNumber, Pronounced, "", "1 silence_stream://100 8 0 0 silence_stream://100 ascii/103 ascii/111"},

		{"Ab1", NameSpelled, Pronounced, "", "ascii/97 ascii/98 1"},
		{"Ab 1", NamePhonetic, InvalidMethod, "", "phonetic-ascii/97 phonetic-ascii/98 phonetic-ascii/32 1"},

		{"3725", TimeMeasurement, Pronounced, "", "1 time/hour 2 time/minutes 5 time/seconds"},
		{"90", TimeMeasurement, Pronounced, "", "0 time/hours 1 time/minute 30 time/seconds"},
		{"1:02:03", TimeMeasurement, Pronounced, "", "1 time/hour 2 time/minutes 3 time/seconds"},
		{"02:01", TimeMeasurement, Pronounced, "", "0 time/hours 2 time/minutes 1 time/second"},
		{"7201", TimeMeasurement, Pronounced, "", "2 time/hours 0 time/minutes 1 time/second"},

		{"http://x", URL, Pronounced, "", "ERR"},
		{"x@y", EmailAddress, Pronounced, "", "ERR"},
	})
}

func TestEnglishTimeMeasurementNow(t *testing.T) {
	// Zero or less seconds is FreeSWITCH's "now": the seconds since the
	// epoch, which is a large number of hours.
	now := time.Unix(3725, 0)
	got, err := English{}.Files("0", Args{Type: TimeMeasurement, Method: Pronounced, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if want := d("1 time/hour 2 time/minutes 5 time/seconds"); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestEnglishDates(t *testing.T) {
	// Now is Tuesday 5 March 2024, 14:30:00 UTC.
	now := time.Date(2024, 3, 5, 14, 30, 0, 0, time.UTC)
	at := func(y int, m time.Month, day, h, min int) string {
		return strconv.FormatInt(time.Date(y, m, day, h, min, 0, 0, time.UTC).Unix(), 10)
	}
	const date = "time/day-2 time/mon-2 h-5 2 thousand 20 4"
	runSayCases(t, Args{Now: now, Local: time.UTC}, []sayCase{
		{at(2024, 3, 5, 14, 30), CurrentDateTime, Pronounced, "", date + " time/at 2 30 time/p-m"},
		{"", CurrentDateTime, Pronounced, "", date + " time/at 2 30 time/p-m"},
		{"0", CurrentDate, Pronounced, "", date},
		{"2024-03-05 14:30:00", CurrentDate, Pronounced, "", date},
		{at(2023, 12, 31, 9, 5), CurrentDate, Pronounced, "", "time/day-0 time/mon-11 30 h-1 2 thousand 20 3"},
		{at(1999, 7, 4, 0, 0), CurrentDate, Pronounced, "", "time/day-0 time/mon-6 h-4 19 90 9"},

		{at(2024, 3, 5, 9, 5), CurrentTime, Pronounced, "", "9 time/oh 5 time/a-m"},
		{at(2024, 3, 5, 0, 0), CurrentTime, Pronounced, "", "12 time/oclock time/a-m"},
		{at(2024, 3, 5, 12, 0), CurrentTime, Pronounced, "", "12 time/oclock time/p-m"},
		{at(2024, 3, 5, 23, 59), CurrentTime, Pronounced, "", "11 50 9 time/p-m"},
		{"08:15", CurrentTime, Pronounced, "", "8 15 time/a-m"},
		{"2024-03-05 18:07", CurrentTime, Pronounced, "", "6 time/oh 7 time/p-m"},

		{at(2024, 3, 5, 9, 5), CurrentTime, Iterated, "", "0 9 0 5 time/hours"},
		{at(2024, 3, 5, 14, 30), CurrentTime, Iterated, "", "14 30 time/hours"},
		{at(2024, 3, 5, 0, 0), CurrentTime, Iterated, "", "20 4 hundred time/hours"},
		{at(2024, 3, 5, 0, 7), CurrentTime, Iterated, "", "0 0 0 7 time/hours"},
		{at(2024, 3, 5, 18, 0), CurrentTime, Iterated, "", "18 hundred time/hours"},

		// ${timezone}: a zone name, or seconds east of UTC.
		{at(2024, 3, 5, 14, 30), CurrentTime, Pronounced, "America/New_York", "9 30 time/a-m"},
		{at(2024, 7, 5, 14, 30), CurrentTime, Pronounced, "America/New_York", "10 30 time/a-m"},
		{at(2024, 3, 5, 14, 30), CurrentTime, Pronounced, "3600", "3 30 time/p-m"},
		{at(2024, 3, 5, 14, 30), CurrentTime, Pronounced, "-19800", "9 time/oclock time/a-m"},
		{at(2024, 3, 5, 23, 30), CurrentDate, Pronounced, "Asia/Tokyo", "time/day-3 time/mon-2 h-6 2 thousand 20 4"},
		{at(2024, 3, 5, 14, 30), CurrentTime, Pronounced, "Nowhere/Bogus", "ERR"},

		{at(2024, 3, 5, 10, 0), ShortDateTime, Pronounced, "", "time/today time/at 10 time/oclock time/a-m"},
		{at(2024, 3, 4, 22, 15), ShortDateTime, Pronounced, "", "time/yesterday time/at 10 15 time/p-m"},
		{at(2024, 3, 1, 8, 0), ShortDateTime, Pronounced, "", "time/day-5 time/at 8 time/oclock time/a-m"},
		{at(2024, 2, 20, 8, 0), ShortDateTime, Pronounced, "", "time/day-2 time/mon-1 h-20 time/at 8 time/oclock time/a-m"},
		{at(2023, 12, 31, 8, 0), ShortDateTime, Pronounced, "", "time/day-0 time/mon-11 30 h-1 2 thousand 20 3 time/at 8 time/oclock time/a-m"},
		{at(2024, 3, 6, 8, 0), ShortDateTime, Pronounced, "", "time/day-3 time/mon-2 h-6 2 thousand 20 4 time/at 8 time/oclock time/a-m"},
	})
}

// The server's zone reads written dates and says times when there is no
// ${timezone}.
func TestEnglishLocalZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2024, 3, 5, 14, 30, 0, 0, time.UTC)
	a := Args{Type: CurrentTime, Method: Pronounced, Now: now, Local: berlin}
	got, err := English{}.Files("", a)
	if err != nil {
		t.Fatal(err)
	}
	if want := d("3 30 time/p-m"); !slices.Equal(got, want) {
		t.Errorf("now in Berlin: got %q, want %q", got, want)
	}
	// "09:00" is nine in Berlin, said in New York's zone.
	a.Timezone = "America/New_York"
	got, err = English{}.Files("09:00", a)
	if err != nil {
		t.Fatal(err)
	}
	if want := d("3 time/oclock time/a-m"); !slices.Equal(got, want) {
		t.Errorf("09:00 Berlin in New York: got %q, want %q", got, want)
	}
}

func TestWhen(t *testing.T) {
	now := time.Date(2024, 3, 5, 14, 30, 0, 0, time.UTC)
	tests := []struct {
		text string
		want time.Time
	}{
		{"", now},
		{"0", now},
		{"-5", now},
		{"junk", now},
		{"1700000000", time.Unix(1700000000, 0)},
		{"2024-1-2", time.Unix(2024, 0)}, // no ':', so a number of seconds
		{"2024-1-2 0:0", time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)},
		{"2024-01-02 03:04:05", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"2024-01-02T03:04:05", time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)}, // the time needs white space or nothing before it
		{"2024-02-30 00:00", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},    // carried over, as mktime does
		{"7:45", time.Date(2024, 3, 5, 7, 45, 0, 0, time.UTC)},
		{"7:45:30", time.Date(2024, 3, 5, 7, 45, 30, 0, time.UTC)},
	}
	for _, tt := range tests {
		got, gotNow, err := When(tt.text, Args{Now: now, Local: time.UTC})
		if err != nil {
			t.Errorf("When(%q): %v", tt.text, err)
			continue
		}
		if !got.Equal(tt.want) {
			t.Errorf("When(%q) = %v, want %v", tt.text, got, tt.want)
		}
		if !gotNow.Equal(now) {
			t.Errorf("When(%q) now = %v", tt.text, gotNow)
		}
	}
}

func TestFileString(t *testing.T) {
	tests := []struct {
		files []string
		ext   string
		want  string
	}{
		{nil, "", ""},
		{[]string{"digits/1"}, "", "file_string://digits/1.wav"},
		{[]string{"digits/1", "silence_stream://100", "digits/2"}, "wav", "file_string://digits/1.wav!silence_stream://100!digits/2.wav"},
		{[]string{"silence_stream://100", "a"}, "r8", "file_string://silence_stream://100!a.r8"},
	}
	for _, tt := range tests {
		if got := FileString(tt.files, tt.ext); got != tt.want {
			t.Errorf("FileString(%q, %q) = %q, want %q", tt.files, tt.ext, got, tt.want)
		}
	}
}

func TestParseNames(t *testing.T) {
	for i := Number; i < numTypes; i++ {
		for _, n := range []string{i.String(), strings.ToLower(i.String())} {
			if got, ok := ParseType(n); !ok || got != i {
				t.Errorf("ParseType(%q) = %v, %v", n, got, ok)
			}
		}
	}
	if _, ok := ParseType("numbers"); ok {
		t.Error("ParseType(numbers) accepted")
	}
	for i := MethodNA; i < InvalidMethod; i++ {
		if got, ok := ParseMethod(strings.ToLower(i.String())); !ok || got != i {
			t.Errorf("ParseMethod(%q) = %v, %v", i, got, ok)
		}
	}
	if got, ok := ParseMethod(""); ok || got != InvalidMethod {
		t.Errorf("ParseMethod(\"\") = %v, %v", got, ok)
	}
	for _, tt := range []struct {
		in   string
		want Gender
		ok   bool
	}{{"", Masculine, true}, {"feminine", Feminine, true}, {"NEUTER", Neuter, true}, {"other", InvalidGender, false}} {
		if got, ok := ParseGender(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("ParseGender(%q) = %v, %v", tt.in, got, ok)
		}
	}
}

// zz is a module another language would register, as mod_say_xx does.
type zz struct{}

func (zz) Files(text string, a Args) ([]string, error) { return []string{"zz/" + text}, nil }

func TestRegistry(t *testing.T) {
	if m, ok := Lookup("EN"); !ok || m != (English{}) {
		t.Fatalf("Lookup(EN) = %v, %v", m, ok)
	}
	Register("zz-test", zz{})
	m, ok := Lookup("ZZ-Test")
	if !ok {
		t.Fatal("a registered module is not found")
	}
	if got, _ := m.Files("1", Args{}); !slices.Equal(got, []string{"zz/1"}) {
		t.Errorf("zz-test says %q", got)
	}
	if mods := Modules(); !slices.Contains(mods, "en") || !slices.Contains(mods, "zz-test") {
		t.Errorf("Modules() = %q", mods)
	}
	for _, tc := range []struct {
		name string
		m    Module
	}{{"en", zz{}}, {"", zz{}}, {"yy-test", nil}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%q, %v) did not panic", tc.name, tc.m)
				}
			}()
			Register(tc.name, tc.m)
		}()
	}
}
