package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// build describes the binary TestMain built for this test run. It is set
// once, before any test runs, and only read afterwards.
var build struct {
	bin  string // path of the switchboard binary
	root string // the module's root directory
}

// TestMain builds the switchboard binary once for every test of the
// package, runs the tests and removes the binary.
func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "switchboard-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	if err := buildBinary(tmp); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	return m.Run()
}

// moduleRoot returns the directory holding the module's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("go env GOMOD: not inside a module (%q)", gomod)
	}
	return filepath.Dir(gomod), nil
}

// buildBinary builds ./cmd/switchboard into dir as a static binary
// (CGO_ENABLED=0), stamped with VCS information when git can provide it.
// The environment may carry GOFLAGS=-buildvcs=false, so the flag is given
// explicitly; when stamping fails (no git, a repository git refuses to
// read) the build is repeated without it and version reports "unknown".
func buildBinary(dir string) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	bin := filepath.Join(dir, "switchboard")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	var firstErr error
	for _, vcs := range []string{"auto", "false"} {
		cmd := exec.Command("go", "build", "-buildvcs="+vcs, "-o", bin, "./cmd/switchboard")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("go build -buildvcs=%s ./cmd/switchboard: %w\n%s", vcs, err, out.Bytes())
			}
			if !strings.Contains(out.String(), "VCS") {
				return firstErr // a real build failure, not a stamping one
			}
			continue
		}
		build.bin, build.root = bin, root
		return nil
	}
	return firstErr
}
