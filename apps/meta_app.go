package apps

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/switchboard-voip/switchboard/vars"
)

// The meta-key family: bind_meta_app and unbind_meta_app
// (switch_ivr_bind_dtmf_meta_session).

const (
	bindMetaUsage   = "<key> [a|b|ab] [a|b|o|s|i|1] <app>"
	unbindMetaUsage = "[<key>]"
)

func init() {
	for _, a := range []App{
		{Name: "bind_meta_app", Usage: bindMetaUsage, Description: "Bind a meta key to an application", Run: bindMetaApp},
		{Name: "unbind_meta_app", Usage: unbindMetaUsage, Description: "Remove meta key bindings", Run: unbindMetaApp},
	} {
		a.Flags = SupportNoMedia
		Register(a)
	}
}

// MetaFlags are a meta binding's switch_bind_flag_t bits: which leg's
// digits it listens to and where and how its application runs.
type MetaFlags uint

// Meta binding flags.
const (
	// MetaDialA listens to the digits this leg (the A leg) sends: "a"
	// in the second argument.
	MetaDialA MetaFlags = 1 << iota
	// MetaDialB listens to the digits the bridged leg sends: "b".
	MetaDialB
	// MetaExecA runs the application on the A leg: "a" in the third
	// argument.
	MetaExecA
	// MetaExecB runs it on the B leg: "b".
	MetaExecB
	// MetaExecOpposite runs it on the leg opposite the one that dialled
	// the key: "o".
	MetaExecOpposite
	// MetaExecSame runs it on the leg that dialled the key: "s".
	MetaExecSame
	// MetaExecInline runs it at once, before anything already queued:
	// "i".
	MetaExecInline
	// MetaOnce removes the binding after its first use: "1".
	MetaOnce
)

// MetaBinding is one bind_meta_app binding: Meta then Key runs App.
type MetaBinding struct {
	// Key is the key after the meta key as switch_dtmftoi reads it: 0–9,
	// and A–D as 10–13.
	Key int
	// Meta is the meta key: bind_meta_key's first character, '*' by
	// default.
	Meta rune
	// Flags say which legs listen and where App runs.
	Flags MetaFlags
	// App is "<app>::<args>", or a sound to play.
	App string
}

// MetaApps is implemented by a Session that can bind meta keys.
type MetaApps interface {
	// BindMetaApp adds (or with an empty App removes) a binding.
	BindMetaApp(b MetaBinding) error
	// UnbindMetaApp removes key's binding (1–9), or every binding for 0.
	UnbindMetaApp(key int) error
}

// metaAppsOf returns the call's MetaApps.
func metaAppsOf(ch Channel, app string) (MetaApps, error) {
	s, err := sessionOf(ch, app)
	if err != nil {
		return nil, err
	}
	m, ok := s.(MetaApps)
	if !ok {
		return nil, fmt.Errorf("%s: this call cannot bind meta keys", app)
	}
	return m, nil
}

// IsDTMF reports whether c is a character FreeSWITCH takes as a DTMF
// digit (is_dtmf): 0-9, *, #, A-D, and the pauses w, W, F, f.
func IsDTMF(c rune) bool {
	switch {
	case c >= '0' && c <= '9', c >= 'A' && c <= 'D', c >= 'a' && c <= 'd':
		return true
	}
	return strings.ContainsRune("#*wWfF", c)
}

// DTMFToInt reads a key as switch_dtmftoi does: C's atoi, and when that
// gives 0, A-D (any case) as 10-13. "*", "#" and anything else give 0.
func DTMFToInt(s string) int {
	if n := catoi(s); n != 0 {
		return n
	}
	if s != "" {
		if l := s[0] | 0x20; l >= 'a' && l <= 'd' {
			return int(l-'a') + 10
		}
	}
	return 0
}

// parseMetaFlags reads the leg and execution arguments of bind_meta_app
// the way dtmf_bind_function does, logging the combinations it refuses.
func parseMetaFlags(ch Channel, legs, exec string) MetaFlags {
	var f MetaFlags
	if strings.Contains(legs, "a") {
		f |= MetaDialA
	}
	if strings.Contains(legs, "b") {
		f |= MetaDialB
	}
	refuse := func() { ch.Log(slog.LevelError, "Cannot bind execute to multiple legs") }
	if strings.Contains(exec, "a") {
		f |= MetaExecA
	}
	if strings.Contains(exec, "b") {
		if f&MetaExecA != 0 {
			refuse()
		} else {
			f |= MetaExecB
		}
	}
	if strings.Contains(exec, "i") {
		f |= MetaExecInline
	}
	for _, c := range []struct {
		letter string
		flag   MetaFlags
	}{{"o", MetaExecOpposite}, {"s", MetaExecSame}} {
		if !strings.Contains(exec, c.letter) {
			continue
		}
		if f&(MetaExecA|MetaExecB|MetaExecSame) != 0 {
			refuse()
		} else {
			f |= c.flag
		}
	}
	if strings.Contains(exec, "1") {
		f |= MetaOnce
	}
	return f
}

// bindMetaApp is `bind_meta_app <key> <listen legs> <flags> <app>`: the
// meta key (bind_meta_key, default *) then key runs app. Listen legs are
// a, b or ab; flags are a/b (run on that leg), o (the opposite leg), s
// (the same leg), i (inline) and 1 (once).
func bindMetaApp(_ context.Context, ch Channel, data string) error {
	m, err := metaAppsOf(ch, "bind_meta_app")
	if err != nil {
		return err
	}
	argv := vars.Separate(data, ' ', 4)
	if len(argv) != 4 {
		return &UsageError{App: "bind_meta_app", Usage: bindMetaUsage, Reason: "four arguments are required"}
	}
	b := MetaBinding{
		Key:   DTMFToInt(argv[0]),
		Meta:  '*',
		Flags: parseMetaFlags(ch, argv[1], argv[2]),
		App:   argv[3],
	}
	if v, ok := lookupVar(ch, "bind_meta_key"); ok {
		if c := firstRune(v); IsDTMF(c) {
			b.Meta = c
		} else {
			ch.Log(slog.LevelWarn, fmt.Sprintf("Invalid META KEY %s", v))
		}
	}
	if b.Meta != '*' && b.Meta != '#' && DTMFToInt(string(b.Meta)) == b.Key {
		return fmt.Errorf("bind_meta_app: invalid key %d, same as META CHAR", b.Key)
	}
	if b.Key < 0 || b.Key > 13 {
		return fmt.Errorf("bind_meta_app: invalid key %s", argv[0])
	}
	if err := m.BindMetaApp(b); err != nil {
		return fmt.Errorf("bind_meta_app %s: %w", data, err)
	}
	return nil
}

// firstRune returns s's first byte as a rune, 0 for "".
func firstRune(s string) rune {
	if s == "" {
		return 0
	}
	return rune(s[0])
}

// unbindMetaApp is `unbind_meta_app [<key>]`: no key (or 0) removes
// every binding; keys above 9 are refused, as in FreeSWITCH.
func unbindMetaApp(_ context.Context, ch Channel, data string) error {
	m, err := metaAppsOf(ch, "unbind_meta_app")
	if err != nil {
		return err
	}
	key := DTMFToInt(data)
	if key < 0 || key > 9 {
		return fmt.Errorf("unbind_meta_app: invalid key %s", data)
	}
	if err := m.UnbindMetaApp(key); err != nil {
		return fmt.Errorf("unbind_meta_app %s: %w", data, err)
	}
	return nil
}
