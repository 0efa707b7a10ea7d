package e2e

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// strictEnv names the environment variable that turns a missing external
// tool from a skipped test into a failed one. CI sets it to 1.
const strictEnv = "SWITCHBOARD_E2E_STRICT"

// requireTool returns the path of the external program name (sipp,
// fs_cli, ...). When it is not installed the test is skipped, or fails
// when SWITCHBOARD_E2E_STRICT=1, so that CI cannot pass by skipping.
// It returns "" only if t's Skipf or Fatalf returns.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv(strictEnv) == "1" {
		t.Fatalf("required tool %s is not installed (%v); %s=1 makes this a failure", name, err, strictEnv)
	} else {
		t.Skipf("skipping: tool %s is not installed (%v); set %s=1 to fail instead", name, err, strictEnv)
	}
	return ""
}

// run is the outcome of one run of the binary.
type run struct {
	code           int
	stdout, stderr string
}

func (r run) String() string {
	return "exit " + strconv.Itoa(r.code) + "\n--- stdout:\n" + r.stdout + "--- stderr:\n" + r.stderr
}

// runSwitchboard runs the built binary with args in a controlled
// environment: the caller's, minus anything that would make the result
// depend on the machine (TZ, XDG_STATE_HOME), plus env ("NAME=value").
// The process is killed when the test ends; a panic fails the test.
func runSwitchboard(t *testing.T, env []string, args ...string) run {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), build.bin, args...)
	cmd.Dir = t.TempDir()
	base := []string{"XDG_STATE_HOME=" + t.TempDir()}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if name != "TZ" && name != "XDG_STATE_HOME" && name != strictEnv {
			base = append(base, kv)
		}
	}
	cmd.Env = append(base, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := run{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.Exited():
		r.code = exit.ExitCode()
	default:
		t.Fatalf("switchboard %s: %v\n%s", strings.Join(args, " "), err, r)
	}
	// A Go panic exits with status 2, like a usage error: tell them apart.
	if strings.HasPrefix(r.stderr, "panic: ") || strings.Contains(r.stderr, "\npanic: ") || strings.Contains(r.stderr, "\ngoroutine ") {
		t.Fatalf("switchboard %s panicked:\n%s", strings.Join(args, " "), r)
	}
	return r
}

// writeTree creates the files (slash-separated names relative to the
// directory) in a fresh temporary directory and returns the directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
