package commands

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/vars"
)

// testNow is the fixed clock of the test environment: Monday 2024-03-04
// 02:00:00 EST, Unix time 1709535600.
var testNow = time.Date(2024, 3, 4, 2, 0, 0, 0, time.FixedZone("EST", -5*3600))

// loadConf loads testdata/conf with a fixed host identity.
func loadConf(t *testing.T) *conf.Snapshot {
	t.Helper()
	snap, err := conf.Load(conf.Options{
		Dir:       "testdata/conf",
		StateDir:  t.TempDir(),
		Host:      &conf.Host{Hostname: "sb-test", IPv4: "192.0.2.1", MaskV4: "255.255.255.0", IPv6: "::1"},
		CoreUUID:  "00000000-0000-4000-8000-000000000000",
		LookupEnv: func(string) (string, bool) { return "", false },
	})
	if err != nil {
		t.Fatalf("loading testdata/conf: %v", err)
	}
	return snap
}

// newEnv returns a Host over testdata/conf, empty runtime globals and the
// fixed clock.
func newEnv(t *testing.T) *Host {
	t.Helper()
	snap := loadConf(t)
	return &Host{
		Runtime: vars.NewStore(),
		Config:  func() *conf.Snapshot { return snap },
		Clock:   func() time.Time { return testNow },
	}
}

// run is Execute with a background context.
func run(env Env, cmd, args string) string {
	return Execute(context.Background(), env, cmd, args)
}

// Test-only commands: one that fails, and ones that run themselves again
// (to exercise the nesting limits). Their names start with zz_test_.
var linearCalls, forkCalls atomic.Int64

func init() {
	Register(Command{Name: "zz_test_fail", Description: "fails (tests)", Run: func(context.Context, Env, string) (string, error) {
		return "partial", errors.New("boom")
	}})
	Register(Command{Name: "zz_test_linear", Description: "calls itself once (tests)", Run: func(ctx context.Context, env Env, _ string) (string, error) {
		linearCalls.Add(1)
		return expandGlobal(ctx, env, "${zz_test_linear x}"), nil
	}})
	Register(Command{Name: "zz_test_fork", Description: "calls itself twice (tests)", Run: func(ctx context.Context, env Env, _ string) (string, error) {
		forkCalls.Add(1)
		return expandGlobal(ctx, env, "${zz_test_fork x}${zz_test_fork x}"), nil
	}})
}
