package preprocess

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"unicode/utf8"

	"github.com/switchboard-voip/switchboard/xmltree"
)

// errTooMuchOutput stops a command whose output passes MaxFileSize.
var errTooMuchOutput = errors.New("command output too large")

// capWriter collects up to max bytes and fails beyond that.
type capWriter struct {
	buf  bytes.Buffer
	max  int64
	over bool
}

func (w *capWriter) Write(b []byte) (int, error) {
	if int64(w.buf.Len()+len(b)) > w.max {
		w.over = true
		return 0, errTooMuchOutput
	}
	return w.buf.Write(b)
}

// runShell runs command with /bin/sh -c and returns its standard output.
// Standard error is logged. A command that cannot start or exits non-zero
// returns runErr (with whatever output it produced); output over
// MaxFileSize or that is not UTF-8 is a positioned error.
func (p *processor) runShell(command string, pos xmltree.Pos) (out string, runErr error, err error) {
	stdout := &capWriter{max: p.opts.MaxFileSize}
	stderr := &capWriter{max: 64 << 10}
	cmd := exec.CommandContext(p.ctx, "/bin/sh", "-c", command)
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	runErr = cmd.Run()
	if stdout.over {
		return "", nil, xmltree.Errorf(pos, "output of %q is larger than %d bytes", command, p.opts.MaxFileSize)
	}
	if s := strings.TrimSpace(stderr.buf.String()); s != "" {
		p.log.Warn("preprocess: command wrote to stderr", "command", command, "stderr", s, "pos", pos.String())
	}
	out = stdout.buf.String()
	if !utf8.ValidString(out) || strings.IndexByte(out, 0) >= 0 {
		return "", nil, xmltree.Errorf(pos, "output of %q is not UTF-8 text", command)
	}
	return out, runErr, nil
}

// execSet runs "exec-set name=command": the global gets the command's
// output without trailing spaces and newlines. As in FreeSWITCH a failing
// command (logged) or empty output leaves the global alone.
func (p *processor) execSet(data string, pos xmltree.Pos) error {
	if !p.opts.AllowExec {
		return xmltree.Errorf(pos, "exec-set is not allowed (it runs a shell command; allow it with --allow-exec)")
	}
	name, command, ok := splitAssign(data)
	if !ok {
		p.log.Warn("preprocess: exec-set without '=' ignored", "data", data, "pos", pos.String(), "chain", pos.Chain())
		return nil
	}
	out, runErr, err := p.runShell(command, pos)
	if err != nil {
		return err
	}
	if runErr != nil {
		p.log.Error("preprocess: exec-set command failed", "command", command, "err", runErr, "pos", pos.String(), "chain", pos.Chain())
		return nil
	}
	if out = strings.TrimRight(out, " \n"); out != "" {
		p.setGlobal(name, out, pos)
	}
	return nil
}

// exec runs "exec command" and inserts its standard output verbatim (it is
// not preprocessed) where the directive was. Output lines are positioned
// as lines of a pseudo-file named "exec:" plus the command, included from
// the directive.
func (p *processor) exec(command string, pos xmltree.Pos) error {
	if !p.opts.AllowExec {
		return xmltree.Errorf(pos, "exec is not allowed (it runs a shell command; allow it with --allow-exec)")
	}
	out, runErr, err := p.runShell(command, pos)
	if err != nil {
		return err
	}
	if runErr != nil {
		p.log.Error("preprocess: exec command failed", "command", command, "err", runErr, "pos", pos.String(), "chain", pos.Chain())
	}
	from := new(xmltree.Pos)
	*from = pos
	lines := splitLines([]byte(out))
	terminated := strings.HasSuffix(out, "\n") || strings.HasSuffix(out, "\r")
	for i, l := range lines {
		lp := xmltree.Pos{File: "exec:" + command, Line: i + 1, From: from}
		p.out.write(l, lp)
		if i < len(lines)-1 || terminated {
			p.out.endLine(lp)
		}
	}
	return nil
}
