// Package e2e tests the switchboard binary from the outside, the way an
// operator runs it.
//
// The package holds no code of its own besides this comment: everything is
// in its _test.go files. TestMain builds ./cmd/switchboard once per test
// run, the way it ships (CGO_ENABLED=0, a static binary, stamped with
// the VCS revision when git can tell it), into a temporary directory; the
// tests start that binary as a subprocess (runSwitchboard) with a
// controlled environment and a configuration written into t.TempDir(), and
// check its exit code, stdout and stderr. Nothing here imports the
// packages under test: a test that passes here passes for the user.
//
// Later tests will extend the harness with real calls: start `switchboard`
// on a temporary configuration with its SIP and event-socket ports at 0,
// read back the addresses it bound, and drive it with a Go SIP client or
// with external tools such as SIPp and fs_cli. Such a tool is looked up with
// requireTool, which skips the test when the tool is missing, or fails it
// when SWITCHBOARD_E2E_STRICT=1 (set in CI), so CI cannot pass by skipping.
// Only the go command itself is assumed to be present.
//
// Run these tests with the rest: go test ./... (or go test ./e2e).
package e2e
