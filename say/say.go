// Package say turns values — numbers, amounts of money, dates, times,
// addresses, spelled names — into the sequence of recorded sound files
// that speak them, the way FreeSWITCH's say modules (mod_say_en and its
// siblings) do, and reads the phrase macros of a configuration's
// languages section (lang/<lang>/*.xml).
//
// A language's say engine is a Module registered under the language's
// name from init(), as mod_say_xx registers its say interface: the
// English one is registered as "en". The dialplan applications say and
// phrase (package apps) look modules up with Lookup, play the files a
// module returns as one file_string:// URI (FileString), and resolve the
// names against the channel's sound_prefix (for example
// digits/1.wav under ${sound_prefix}/digits/8000/1.wav).
package say

import (
	"fmt"
	"strings"
	"time"

	"github.com/switchboard-voip/switchboard/internal/registry"
)

// Type is what kind of value is said: FreeSWITCH's switch_say_type_t.
type Type int

// Say types, in FreeSWITCH's order.
const (
	Number Type = iota
	Items
	Persons
	Messages
	Currency
	TimeMeasurement
	CurrentDate
	CurrentTime
	CurrentDateTime
	TelephoneNumber
	TelephoneExtension
	URL
	IPAddress
	EmailAddress
	PostalAddress
	AccountNumber
	NameSpelled
	NamePhonetic
	ShortDateTime
	numTypes
)

var typeNames = [...]string{
	"NUMBER", "ITEMS", "PERSONS", "MESSAGES", "CURRENCY", "TIME_MEASUREMENT",
	"CURRENT_DATE", "CURRENT_TIME", "CURRENT_DATE_TIME", "TELEPHONE_NUMBER",
	"TELEPHONE_EXTENSION", "URL", "IP_ADDRESS", "EMAIL_ADDRESS", "POSTAL_ADDRESS",
	"ACCOUNT_NUMBER", "NAME_SPELLED", "NAME_PHONETIC", "SHORT_DATE_TIME",
}

// String returns the type's FreeSWITCH name, such as "CURRENT_DATE_TIME".
func (t Type) String() string {
	if t >= 0 && t < numTypes {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// ParseType returns the type called name, ignoring case ("number",
// "current_date_time"); ok is false for an unknown name.
func ParseType(name string) (t Type, ok bool) {
	for i, n := range typeNames {
		if strings.EqualFold(n, name) {
			return Type(i), true
		}
	}
	return numTypes, false
}

// Method is how a value is said: FreeSWITCH's switch_say_method_t.
type Method int

// Say methods, in FreeSWITCH's order. MethodNA is "N/A": no method.
const (
	MethodNA Method = iota
	Pronounced
	Iterated
	Counted
	PronouncedYear
	// InvalidMethod is what ParseMethod returns for a name it does not
	// know (FreeSWITCH keeps such a name as an out-of-range method rather
	// than refusing it, since say types such as name_spelled ignore the
	// method). Modules refuse it where the method matters.
	InvalidMethod
)

var methodNames = [...]string{"N/A", "PRONOUNCED", "ITERATED", "COUNTED", "PRONOUNCED_YEAR"}

// String returns the method's FreeSWITCH name, such as "PRONOUNCED".
func (m Method) String() string {
	if m >= 0 && m < InvalidMethod {
		return methodNames[m]
	}
	return fmt.Sprintf("Method(%d)", int(m))
}

// ParseMethod returns the method called name, ignoring case; an unknown
// name (the empty one included) gives InvalidMethod and ok false.
func ParseMethod(name string) (m Method, ok bool) {
	for i, n := range methodNames {
		if strings.EqualFold(n, name) {
			return Method(i), true
		}
	}
	return InvalidMethod, false
}

// Gender is the grammatical gender some languages inflect numbers for:
// FreeSWITCH's switch_say_gender_t. English ignores it.
type Gender int

// Genders, in FreeSWITCH's order.
const (
	Masculine Gender = iota
	Feminine
	Neuter
	// InvalidGender is what ParseGender returns for a name it does not
	// know.
	InvalidGender
)

var genderNames = [...]string{"MASCULINE", "FEMININE", "NEUTER"}

// String returns the gender's FreeSWITCH name.
func (g Gender) String() string {
	if g >= 0 && g < InvalidGender {
		return genderNames[g]
	}
	return fmt.Sprintf("Gender(%d)", int(g))
}

// ParseGender returns the gender called name, ignoring case. The empty
// name is Masculine (the say application's default); another unknown
// name gives InvalidGender and ok false.
func ParseGender(name string) (g Gender, ok bool) {
	if name == "" {
		return Masculine, true
	}
	for i, n := range genderNames {
		if strings.EqualFold(n, name) {
			return Gender(i), true
		}
	}
	return InvalidGender, false
}

// Args says how to say a value.
type Args struct {
	Type   Type
	Method Method
	Gender Gender

	// Timezone is the channel's timezone variable, used by the date and
	// time types: a number other than 0 is an offset east of UTC in
	// seconds (FreeSWITCH reads it with atoi), anything else a zone name
	// such as "America/New_York". Empty means Local.
	Timezone string
	// Now is the current time; the zero Time means time.Now().
	Now time.Time
	// Local is the switch's own time zone: dates written as text
	// ("2024-03-05 14:30") are read in it, and times are said in it when
	// Timezone is empty. Nil means time.Local.
	Local *time.Location
}

func (a Args) now() time.Time {
	if a.Now.IsZero() {
		return time.Now()
	}
	return a.Now
}

func (a Args) local() *time.Location {
	if a.Local == nil {
		return time.Local
	}
	return a.Local
}

// Module says values in one language: a FreeSWITCH say interface
// (mod_say_en, mod_say_de, ...). Implementations must be safe for
// concurrent use.
type Module interface {
	// Files returns, in order, the sounds that say text as a.Type with
	// a.Method and a.Gender: file names relative to the sound prefix
	// without an extension ("digits/1", "time/p-m"), or media URIs
	// ("silence_stream://100"). An error means text cannot be said that
	// way (it does not parse, the type is not supported); nothing is
	// said then.
	Files(text string, a Args) ([]string, error)
}

// std holds the say modules that init() functions register.
var std = registry.New[Module]("say module")

// Register makes m the say module of language name ("en"). It is meant
// to be called from init(); it panics when name is empty or already
// registered (ignoring case) or when m is nil.
func Register(name string, m Module) {
	if m == nil {
		panic(fmt.Sprintf("say: Register(%q) with a nil module", name))
	}
	std.Add(name, m)
}

// Lookup returns the say module registered as name, ignoring case.
func Lookup(name string) (Module, bool) { return std.Get(name) }

// Modules returns the names of the registered modules, sorted.
func Modules() []string { return std.Names() }

// FileString joins files into the one URI FreeSWITCH plays for a said
// value: "file_string://digits/2.wav!digits/1.wav". ext is appended to
// each file name ("wav" when empty) but not to a media URI
// ("silence_stream://100"). It returns "" for no files.
func FileString(files []string, ext string) string {
	if len(files) == 0 {
		return ""
	}
	if ext == "" {
		ext = "wav"
	}
	var b strings.Builder
	b.WriteString("file_string://")
	for i, f := range files {
		if i > 0 {
			b.WriteByte('!')
		}
		b.WriteString(f)
		if !strings.Contains(f, "://") {
			b.WriteByte('.')
			b.WriteString(ext)
		}
	}
	return b.String()
}
