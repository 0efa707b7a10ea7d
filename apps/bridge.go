package apps

import (
	"context"
	"fmt"
	"strings"
)

// The bridge family: bridge connects the caller to another leg it
// originates from a FreeSWITCH dial string (spec §7).

// Bridger is implemented by a Session that can originate legs and bridge
// to them. Bridge returns when the bridge is over (or the originate
// failed); it applies continue_on_fail, hangup_after_bridge and the
// other rules itself, so the action list simply goes on unless the
// call was hung up, parked or transferred.
type Bridger interface {
	Bridge(ctx context.Context, dial string) error
}

// Interceptor is implemented by a Session that can take over another
// call (the intercept application).
type Interceptor interface {
	Intercept(uuid string, bleg bool) error
}

// Eavesdropper is implemented by a Session that can listen in on another
// call (the eavesdrop application).
type Eavesdropper interface {
	Eavesdrop(ctx context.Context, uuid string) error
}

func init() {
	Register(App{
		Name:        "eavesdrop",
		Usage:       "[all | <uuid>]",
		Description: "eavesdrop on a uuid",
		Flags:       MediaTap,
		Run:         eavesdropApp,
	})
	Register(App{
		Name:        "intercept",
		Usage:       "[-bleg] <uuid>",
		Description: "intercept",
		Run:         interceptApp,
	})
	Register(App{
		Name:        "bridge",
		Usage:       "<channel_url>",
		Description: "Bridge Audio",
		Flags:       SupportNoMedia | SupportTextOnly,
		Run:         bridgeApp,
	})
}

// bridgeApp is `bridge <dial string>`.
func bridgeApp(ctx context.Context, ch Channel, data string) error {
	b, ok := ch.(Bridger)
	if !ok {
		return fmt.Errorf("bridge: this channel cannot place calls")
	}
	if data == "" {
		return &UsageError{App: "bridge", Usage: "<channel_url>", Reason: "no dial string"}
	}
	return b.Bridge(ctx, data)
}

// interceptApp is `intercept [-bleg] <uuid>`: answer and bridge to the
// call uuid (or, with -bleg, to the leg bridged to it), hanging up the
// leg it was talking to.
func interceptApp(_ context.Context, ch Channel, data string) error {
	in, ok := ch.(Interceptor)
	if !ok {
		return fmt.Errorf("intercept: this channel cannot intercept calls")
	}
	f := strings.Fields(data)
	bleg := false
	if len(f) > 0 && f[0] == "-bleg" {
		bleg, f = true, f[1:]
	}
	if len(f) != 1 {
		return &UsageError{App: "intercept", Usage: "[-bleg] <uuid>", Reason: "no uuid"}
	}
	return in.Intercept(f[0], bleg)
}

// eavesdropApp is `eavesdrop <uuid>|all`: listen to another call.
func eavesdropApp(ctx context.Context, ch Channel, data string) error {
	e, ok := ch.(Eavesdropper)
	if !ok {
		return fmt.Errorf("eavesdrop: this channel cannot listen in")
	}
	data = strings.TrimSpace(data)
	if data == "" {
		return &UsageError{App: "eavesdrop", Usage: "[all | <uuid>]", Reason: "no uuid"}
	}
	return e.Eavesdrop(ctx, data)
}
