// Package preprocess implements FreeSWITCH's line-based configuration
// preprocessor: the pass that turns conf/freeswitch.xml and everything it
// includes into one XML text before parsing.
//
// Run reads the root file line by line. For each line, in this order:
//
//  1. $${name} is replaced by the global variable's current value (empty
//     when unset). Globals are read as they are when the line is reached,
//     so a set must come before its use. ${name} is left alone.
//  2. A line containing "<include>", "</include>" or "<?" is dropped
//     entirely (the test looks at the line before expansion).
//  3. Inside a multi-line "<!--#" comment, lines are dropped until one
//     containing "-->"; the rest of that line (taken, as in FreeSWITCH,
//     from the unexpanded text) goes on to step 4.
//  4. A line containing X-PRE-PROCESS (any case) is a directive. If the
//     character before it is not '<' (<XX-PRE-PROCESS ...>) the line is
//     dropped and nothing runs. Otherwise cmd="..." and data="..." are
//     read (each value ends at the next '"'), the command runs and the
//     line is dropped. The scan ignores XML comments: a directive inside
//     <!-- ... --> on one line still runs, exactly as in FreeSWITCH.
//     X-NO-PRE-PROCESS is not a directive and passes through.
//  5. "<!--#cmd arg-->" runs cmd with arg (quotes around arg are removed);
//     without "-->" on the line it opens a multi-line comment. Text before
//     "<!--#" and after "-->" is kept.
//  6. Anything else is copied to the output.
//
// Commands (case-insensitive): set name=value (spaces around '=' trimmed),
// include glob, exec-set name=command, env-set name=$ENVVAR, stun-set
// name=stun:host, exec command; the <!--# form knows set, include,
// exec-set, stun-set and exec (comment, and env-set, which FreeSWITCH does
// not implement there, do nothing). See Options for what is allowed and
// how each is bounded, and Run for the differences from FreeSWITCH.
package preprocess

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/switchboard-voip/switchboard/vars"
	"github.com/switchboard-voip/switchboard/xmltree"
)

// Globals is the global variable table the preprocessor reads $${name}
// from and writes set, exec-set, env-set and stun-set into. FreeSWITCH
// compares global names case-insensitively; an implementation should too.
// *vars.Store satisfies it.
type Globals interface {
	Get(name string) (string, bool)
	Set(name, value string)
}

// Translator turns a non-XML file (e.g. a YAML dialplan) into XML lines.
// name is the file's display name (Options.DisplayName); each returned
// Line's Pos should point into that file. The lines are then preprocessed
// like an included XML file: $${name} expands and directives run, with
// relative includes resolved against the translated file's directory.
// A line whose Pos has no File gets the file's name, and one whose Pos has
// no From gets the include chain of the directive that pulled the file in;
// the same holds for the Pos of a returned *xmltree.Error (or of each entry
// of an xmltree.ErrorList). Other errors are wrapped in an *xmltree.Error
// on the file.
type Translator func(name string, data []byte) ([]xmltree.Line, error)

// Options configures Run.
type Options struct {
	// FS is the configuration tree, e.g. os.DirFS(confDir) or an embedded
	// FS. Paths in it are slash-separated and relative.
	FS fs.FS
	// Root is the top file, e.g. "freeswitch.xml".
	Root string
	// Dir is the directory on disk FS is rooted at, if any. An absolute
	// include pattern under Dir is resolved inside FS; any other absolute
	// pattern is an error (FreeSWITCH would read any file on the machine).
	Dir string
	// DisplayName renders an FS path for Pos.File (e.g. filepath.Join of
	// the conf dir, or "embedded:"+p). Default: the path itself.
	DisplayName func(path string) string
	// Globals is read by $${name} and written by set and friends. Required.
	// Globals changed before a failure stay changed, as in FreeSWITCH.
	Globals Globals
	// AllowExec permits exec-set and exec, which run shell commands
	// (/bin/sh -c, in the process's working directory). Without it they
	// are errors.
	AllowExec bool
	// AllowStun permits stun-set. Even then no network request is made:
	// a stun:host (or host:name) value resolves to the local_ip_v4 global
	// and an INFO line says so; any other value is set literally, as in
	// FreeSWITCH. Without AllowStun, stun-set is an error. (The vanilla
	// vars.xml uses stun-set twice.)
	AllowStun bool
	// Getenv looks up env-set variables. Default: os.LookupEnv.
	Getenv func(string) (string, bool)
	// Translators maps a lower-case file extension with its dot (".yaml")
	// to the translator for files with that extension.
	Translators map[string]Translator
	// MaxFileSize bounds each file read, each command's output and each
	// line after $${} expansion. Default 16 MiB.
	MaxFileSize int64
	// MaxOutputSize bounds the whole expanded text. Default 256 MiB.
	MaxOutputSize int64
	// MaxDepth bounds include nesting (the root file is depth 0).
	// Default 100, FreeSWITCH's limit.
	MaxDepth int
	// MaxFiles bounds how many files are read in one run, counting
	// repeats. Default 100000.
	MaxFiles int
	// Logger receives INFO (empty include globs, stun-set), WARN (ignored
	// or malformed directives) and ERROR (failed commands, unterminated
	// $${) records. Default: slog.Default().
	Logger *slog.Logger
}

// Defaults for the zero values of Options' limits.
const (
	DefaultMaxFileSize   = 16 << 20
	DefaultMaxOutputSize = 256 << 20
	DefaultMaxDepth      = 100
	DefaultMaxFiles      = 100000
)

// Run preprocesses opts.Root and returns the expanded lines, each carrying
// the original file, line and include chain. It is RunContext with a
// background context.
func Run(opts Options) ([]xmltree.Line, error) {
	return RunContext(context.Background(), opts)
}

// RunContext is Run; ctx bounds the shell commands exec and exec-set run.
//
// Where this differs from FreeSWITCH, it fails loudly instead of going on
// with part of the configuration. These are errors (an *xmltree.Error
// positioned on the file, or on the directive that named it): a missing or
// unreadable root or included file (FreeSWITCH logs and skips it), an
// include loop (FreeSWITCH recurses until the depth limit), includes nested
// deeper than MaxDepth, a file that is not UTF-8 text, anything over the
// size limits, an absolute include outside Dir or a relative one escaping
// FS with "..", a malformed glob, and exec, exec-set or stun-set when not
// allowed. Unknown commands and malformed directives are dropped with a
// warning (FreeSWITCH drops them silently); a glob that matches nothing
// is logged at INFO, as in FreeSWITCH; directories matched by a glob are
// skipped. Lines end at "\r\n", "\n" or a lone "\r"; output lines have no
// terminator. Every file ends with a line break, and an included file
// starts on a new line (FreeSWITCH would join a last line without newline,
// or text before a multi-line "<!--#include", to the next output).
func RunContext(ctx context.Context, opts Options) ([]xmltree.Line, error) {
	if opts.FS == nil {
		return nil, errors.New("preprocess: Options.FS is nil")
	}
	if opts.Globals == nil {
		return nil, errors.New("preprocess: Options.Globals is nil")
	}
	if opts.DisplayName == nil {
		opts.DisplayName = func(p string) string { return p }
	}
	if opts.Getenv == nil {
		opts.Getenv = os.LookupEnv
	}
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = DefaultMaxFileSize
	}
	if opts.MaxOutputSize <= 0 {
		opts.MaxOutputSize = DefaultMaxOutputSize
	}
	if opts.MaxDepth <= 0 {
		opts.MaxDepth = DefaultMaxDepth
	}
	if opts.MaxFiles <= 0 {
		opts.MaxFiles = DefaultMaxFiles
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	root := path.Clean(strings.TrimPrefix(opts.Root, "./"))
	if !fs.ValidPath(root) || root == "." {
		return nil, xmltree.Errorf(xmltree.Pos{File: opts.Root}, "invalid root file name %q", opts.Root)
	}
	p := &processor{ctx: ctx, opts: opts, log: opts.Logger}
	if err := p.file(root, nil, 0); err != nil {
		return nil, err
	}
	return p.out.lines, nil
}

// processor is the state of one Run.
type processor struct {
	ctx   context.Context
	opts  Options
	log   *slog.Logger
	out   writer
	open  []string // FS paths of the files being processed, outermost first
	files int      // files read so far
}

// fileState is what the line loop needs to know about the current file.
type fileState struct {
	dir       string // FS directory of the file, for relative includes
	depth     int    // include depth of the file
	inComment bool   // inside a multi-line <!--# comment
}

// file preprocesses the FS path name, pulled in by the directive at from
// (nil for the root), at include depth depth.
func (p *processor) file(name string, from *xmltree.Pos, depth int) error {
	display := p.opts.DisplayName(name)
	filePos := xmltree.Pos{File: display, From: from}
	if from != nil {
		for i, open := range p.open {
			if open == name {
				chain := append(append([]string(nil), p.open[i:]...), name)
				for j := range chain {
					chain[j] = p.opts.DisplayName(chain[j])
				}
				return xmltree.Errorf(*from, "include loop: %s", strings.Join(chain, " -> "))
			}
		}
		if depth > p.opts.MaxDepth {
			return xmltree.Errorf(*from, "includes nested deeper than %d levels", p.opts.MaxDepth)
		}
	}
	if err := p.ctx.Err(); err != nil {
		return &xmltree.Error{Pos: filePos, Msg: "preprocessing interrupted", Err: err}
	}
	p.files++
	if p.files > p.opts.MaxFiles {
		return xmltree.Errorf(filePos, "more than %d files read", p.opts.MaxFiles)
	}
	data, err := p.read(name, filePos)
	if err != nil {
		return err
	}
	lines, err := p.lines(name, display, data, from)
	if err != nil {
		return err
	}
	p.out.flush()
	p.open = append(p.open, name)
	st := &fileState{dir: path.Dir(name), depth: depth}
	for _, l := range lines {
		if err := p.line(l.Text, l.Pos, st); err != nil {
			return err
		}
		if p.out.size > p.opts.MaxOutputSize {
			return xmltree.Errorf(l.Pos, "expanded configuration is larger than %d bytes", p.opts.MaxOutputSize)
		}
	}
	if st.inComment {
		p.log.Warn("preprocess: <!--# comment not closed before end of file", "file", display)
	}
	p.open = p.open[:len(p.open)-1]
	p.out.flush()
	return nil
}

// read returns the contents of the FS path name, refusing directories,
// special files and anything over MaxFileSize. A leading UTF-8 byte order
// mark is removed.
func (p *processor) read(name string, pos xmltree.Pos) ([]byte, error) {
	f, err := p.opts.FS.Open(name)
	if err != nil {
		return nil, &xmltree.Error{Pos: pos, Msg: "cannot open configuration file", Err: err}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, &xmltree.Error{Pos: pos, Msg: "cannot stat configuration file", Err: err}
	}
	if st.IsDir() {
		return nil, xmltree.Errorf(pos, "is a directory, not a configuration file")
	}
	if !st.Mode().IsRegular() {
		return nil, xmltree.Errorf(pos, "not a regular file")
	}
	max := p.opts.MaxFileSize
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, &xmltree.Error{Pos: pos, Msg: "cannot read configuration file", Err: err}
	}
	if int64(len(data)) > max {
		return nil, xmltree.Errorf(pos, "file is larger than %d bytes", max)
	}
	return bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), nil
}

// lines checks that data is UTF-8 text and splits it into positioned lines,
// through a Translator when one is registered for the file's extension.
func (p *processor) lines(name, display string, data []byte, from *xmltree.Pos) ([]xmltree.Line, error) {
	raw := splitLines(data)
	for i, l := range raw {
		pos := xmltree.Pos{File: display, Line: i + 1, From: from}
		if strings.IndexByte(l, 0) >= 0 {
			return nil, xmltree.Errorf(pos, "binary data (NUL byte): configuration files must be UTF-8 text")
		}
		if !utf8.ValidString(l) {
			return nil, xmltree.Errorf(pos, "not valid UTF-8: configuration files must be UTF-8 text")
		}
	}
	if tr := p.opts.Translators[strings.ToLower(path.Ext(name))]; tr != nil {
		tl, err := tr(display, data)
		if err != nil {
			return nil, translatorError(err, display, from)
		}
		var out []xmltree.Line
		for _, l := range tl {
			if l.Pos.File == "" {
				l.Pos.File = display
			}
			if l.Pos.From == nil {
				l.Pos.From = from
			}
			for _, t := range strings.Split(l.Text, "\n") {
				out = append(out, xmltree.Line{Text: strings.TrimSuffix(t, "\r"), Pos: l.Pos})
			}
		}
		return out, nil
	}
	out := make([]xmltree.Line, len(raw))
	for i, l := range raw {
		out[i] = xmltree.Line{Text: l, Pos: xmltree.Pos{File: display, Line: i + 1, From: from}}
	}
	return out, nil
}

// translatorError positions a translator's error: an *xmltree.Error or
// xmltree.ErrorList gets the file name and include chain where its
// positions lack them; any other error is wrapped in an *xmltree.Error on
// the file.
func translatorError(err error, display string, from *xmltree.Pos) error {
	fix := func(e *xmltree.Error) *xmltree.Error {
		c := *e
		if c.Pos.File == "" {
			c.Pos.File = display
		}
		if c.Pos.From == nil {
			c.Pos.From = from
		}
		return &c
	}
	switch e := err.(type) {
	case *xmltree.Error:
		return fix(e)
	case xmltree.ErrorList:
		out := make(xmltree.ErrorList, len(e))
		for i, pe := range e {
			out[i] = fix(pe)
		}
		return out
	}
	return &xmltree.Error{Pos: xmltree.Pos{File: display, From: from}, Msg: "cannot translate", Err: err}
}

// splitLines cuts data at "\r\n", "\n" and lone "\r" (FreeSWITCH ends a
// line at either character). A final line without terminator is kept.
func splitLines(data []byte) []string {
	var lines []string
	for len(data) > 0 {
		i := bytes.IndexAny(data, "\r\n")
		if i < 0 {
			lines = append(lines, string(data))
			break
		}
		lines = append(lines, string(data[:i]))
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	return lines
}

// line preprocesses one raw line of the current file.
func (p *processor) line(raw string, pos xmltree.Pos, st *fileState) error {
	line, unterminated, tooLong := expandVars(raw, p.opts.Globals, int(min(p.opts.MaxFileSize, int64(^uint(0)>>1))))
	if tooLong {
		return xmltree.Errorf(pos, "line is longer than %d bytes after $${} expansion", p.opts.MaxFileSize)
	}
	if unterminated {
		p.log.Error("preprocess: unterminated $${", "pos", pos.String(), "chain", pos.Chain())
	}
	if strings.Contains(raw, "<include>") || strings.Contains(raw, "</include>") || strings.Contains(raw, "<?") {
		return nil
	}
	if st.inComment {
		end := strings.Index(raw, "-->")
		if end < 0 {
			return nil
		}
		st.inComment = false
		line = raw[end+3:]
	}
	if i := indexFold(line, "X-PRE-PROCESS"); i >= 0 {
		if i == 0 || line[i-1] != '<' {
			p.log.Debug("preprocess: disabled directive dropped", "pos", pos.String())
			return nil
		}
		return p.directive(line[i:], pos, st)
	}
	if i := strings.Index(line, "<!--#"); i >= 0 {
		p.out.write(line[:i], pos)
		arg := line[i+5:]
		if end := strings.Index(line[i:], "-->"); end >= 0 {
			arg = line[i+5 : i+end]
			p.out.write(line[i+end+3:], pos)
			p.out.endLine(pos)
		} else {
			st.inComment = true
		}
		return p.hashDirective(arg, pos, st)
	}
	p.out.write(line, pos)
	p.out.endLine(pos)
	return nil
}

// directive scans and runs an X-PRE-PROCESS directive; s starts at
// "X-PRE-PROCESS". The scan follows FreeSWITCH: the text is cut after the
// first "/>", then "cmd", '=' and '"' are looked for in turn and the value
// runs to the next '"'; likewise for "data" after it (an unclosed data
// value runs to the cut).
func (p *processor) directive(s string, pos xmltree.Pos, st *fileState) error {
	if end := strings.Index(s, "/>"); end >= 0 {
		s = s[:end+2]
	}
	cmd, rest, found, closed := quotedAfter(s, "cmd")
	if !found || !closed {
		p.log.Warn(`preprocess: malformed X-PRE-PROCESS directive ignored (no cmd="...")`, "pos", pos.String(), "chain", pos.Chain())
		return nil
	}
	data, _, found, _ := quotedAfter(rest, "data")
	if !found {
		p.log.Warn(`preprocess: malformed X-PRE-PROCESS directive ignored (no data="...")`, "pos", pos.String(), "chain", pos.Chain())
		return nil
	}
	switch strings.ToLower(cmd) {
	case "set":
		p.set(data, pos)
	case "include":
		return p.include(data, pos, st)
	case "exec-set":
		return p.execSet(data, pos)
	case "env-set":
		p.envSet(data, pos)
	case "stun-set":
		return p.stunSet(data, pos)
	case "exec":
		return p.exec(data, pos)
	default:
		p.log.Warn("preprocess: unknown X-PRE-PROCESS command ignored", "cmd", cmd, "pos", pos.String(), "chain", pos.Chain())
	}
	return nil
}

// quotedAfter finds key (any case) in s, then the next '=', then the next
// '"', and returns the text from there to the following '"' and what
// follows that quote. Without a closing quote the value runs to the end of
// s and closed is false.
func quotedAfter(s, key string) (value, rest string, found, closed bool) {
	i := indexFold(s, key)
	if i < 0 {
		return "", "", false, false
	}
	s = s[i:]
	eq := strings.IndexByte(s, '=')
	if eq < 0 {
		return "", "", false, false
	}
	s = s[eq:]
	q := strings.IndexByte(s, '"')
	if q < 0 {
		return "", "", false, false
	}
	s = s[q+1:]
	if end := strings.IndexByte(s, '"'); end >= 0 {
		return s[:end], s[end+1:], true, true
	}
	return s, "", true, false
}

// hashDirective runs the command of a "<!--#cmd arg" comment; s is the text
// after "<!--#" up to "-->" or the end of the line.
func (p *processor) hashDirective(s string, pos xmltree.Pos, st *fileState) error {
	sp := strings.IndexByte(s, ' ')
	if sp < 0 {
		return nil
	}
	cmd, arg := s[:sp], s[sp+1:]
	if q := strings.IndexByte(arg, '"'); q >= 0 {
		if end := strings.IndexByte(arg[q+1:], '"'); end >= 0 {
			arg = arg[q+1 : q+1+end]
		}
	}
	switch strings.ToLower(cmd) {
	case "set":
		p.set(arg, pos)
	case "include":
		return p.include(arg, pos, st)
	case "exec-set":
		return p.execSet(arg, pos)
	case "stun-set":
		return p.stunSet(arg, pos)
	case "exec":
		return p.exec(arg, pos)
	case "comment":
	case "env-set":
		p.log.Warn("preprocess: env-set is not available in <!--# comments (FreeSWITCH ignores it); use X-PRE-PROCESS", "pos", pos.String(), "chain", pos.Chain())
	default:
		p.log.Warn("preprocess: unknown <!--# command ignored", "cmd", cmd, "pos", pos.String(), "chain", pos.Chain())
	}
	return nil
}

// splitAssign splits "name = value" at the first '=', trimming spaces
// after the name and before the value (only spaces, as FreeSWITCH does).
func splitAssign(s string) (name, value string, ok bool) {
	name, value, ok = strings.Cut(s, "=")
	return strings.TrimRight(name, " "), strings.TrimLeft(value, " "), ok
}

// setGlobal stores a global the way FreeSWITCH's switch_core_set_variable
// does: "${" in the value is defused to "%{".
func (p *processor) setGlobal(name, value string, pos xmltree.Pos) {
	if name == "" {
		p.log.Warn("preprocess: empty variable name ignored", "pos", pos.String(), "chain", pos.Chain())
		return
	}
	p.opts.Globals.Set(name, vars.Defuse(value))
}

// set runs "set name=value".
func (p *processor) set(data string, pos xmltree.Pos) {
	name, value, ok := splitAssign(data)
	if !ok {
		p.log.Warn("preprocess: set without '=' ignored", "data", data, "pos", pos.String(), "chain", pos.Chain())
		return
	}
	p.setGlobal(name, value, pos)
}

// envSet runs "env-set name=$ENVVAR". Like FreeSWITCH it does not trim
// spaces, and leaves the global alone when the variable is unset.
func (p *processor) envSet(data string, pos xmltree.Pos) {
	name, value, ok := strings.Cut(data, "=")
	if !ok || !strings.HasPrefix(value, "$") {
		p.log.Warn("preprocess: env-set needs name=$VARIABLE; ignored", "data", data, "pos", pos.String(), "chain", pos.Chain())
		return
	}
	if v, ok := p.opts.Getenv(value[1:]); ok {
		p.setGlobal(name, v, pos)
	}
}

// stunSet runs "stun-set name=value" without touching the network.
func (p *processor) stunSet(data string, pos xmltree.Pos) error {
	if !p.opts.AllowStun {
		return xmltree.Errorf(pos, "stun-set is not allowed (allow it with --allow-stun; it resolves to local_ip_v4 and never uses the network)")
	}
	name, value, ok := splitAssign(data)
	if !ok {
		p.log.Warn("preprocess: stun-set without '=' ignored", "data", data, "pos", pos.String(), "chain", pos.Chain())
		return nil
	}
	lower := strings.ToLower(value)
	if !strings.HasPrefix(lower, "stun:") && !strings.HasPrefix(lower, "host:") {
		p.setGlobal(name, strings.TrimRight(value, " \n"), pos)
		return nil
	}
	ip, ok := p.opts.Globals.Get("local_ip_v4")
	if !ok || ip == "" {
		p.log.Error("preprocess: stun-set failed: local_ip_v4 is not set", "var", name, "pos", pos.String(), "chain", pos.Chain())
		return nil
	}
	p.log.Info("preprocess: stun-set uses local_ip_v4 instead of a network lookup", "var", name, "lookup", value, "value", ip, "pos", pos.String())
	p.setGlobal(name, ip, pos)
	return nil
}

// include runs "include glob".
func (p *processor) include(pattern string, pos xmltree.Pos, st *fileState) error {
	matches, err := p.glob(pattern, st.dir, pos)
	if err != nil {
		return err
	}
	if len(matches) == 0 {
		p.log.Info("preprocess: no files to include", "pattern", pattern, "pos", pos.String(), "chain", pos.Chain())
		return nil
	}
	from := new(xmltree.Pos)
	*from = pos
	for _, m := range matches {
		info, err := fs.Stat(p.opts.FS, m)
		if err != nil {
			return &xmltree.Error{Pos: xmltree.Pos{File: p.opts.DisplayName(m), From: from}, Msg: "cannot stat included file", Err: err}
		}
		if info.IsDir() {
			p.log.Debug("preprocess: include glob matched a directory; skipped", "path", m, "pos", pos.String())
			continue
		}
		if err := p.file(m, from, st.depth+1); err != nil {
			return err
		}
	}
	return nil
}

// glob resolves an include pattern relative to dir and returns the matching
// FS paths in sorted order, as glob(3) would: '*' and '?' do not match a
// leading '.', and "[!...]" negates a class.
func (p *processor) glob(pattern, dir string, pos xmltree.Pos) ([]string, error) {
	var full string
	if strings.HasPrefix(pattern, "/") {
		if p.opts.Dir == "" {
			return nil, xmltree.Errorf(pos, "absolute include path %q: the configuration is not a directory on disk; use a path relative to the including file", pattern)
		}
		base := path.Clean(strings.ReplaceAll(p.opts.Dir, `\`, "/"))
		cp := path.Clean(pattern)
		switch {
		case cp == base:
			full = "."
		case base == "/":
			full = cp[1:]
		case strings.HasPrefix(cp, base+"/"):
			full = cp[len(base)+1:]
		default:
			return nil, xmltree.Errorf(pos, "absolute include path %q is outside the configuration directory %s", pattern, p.opts.Dir)
		}
	} else {
		full = path.Join(dir, pattern)
		if full == ".." || strings.HasPrefix(full, "../") {
			return nil, xmltree.Errorf(pos, "include path %q leaves the configuration directory", pattern)
		}
	}
	full = posixClasses(full)
	matches, err := fs.Glob(p.opts.FS, full)
	if err != nil {
		return nil, &xmltree.Error{Pos: pos, Msg: fmt.Sprintf("bad include pattern %q", pattern), Err: err}
	}
	kept := matches[:0]
	for _, m := range matches {
		if !hiddenMatch(full, m) {
			kept = append(kept, m)
		}
	}
	sort.Strings(kept)
	return kept, nil
}

// posixClasses rewrites glob(3)'s "[!...]" to path.Match's "[^...]".
func posixClasses(pattern string) string {
	if !strings.Contains(pattern, "[!") {
		return pattern
	}
	b := []byte(pattern)
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '[':
			if i+1 < len(b) && b[i+1] == '!' {
				b[i+1] = '^'
			}
			// Skip to the end of the class so a '[' inside it is literal.
			for i++; i < len(b) && b[i] != ']'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		}
	}
	return string(b)
}

// hiddenMatch reports whether match has a component starting with '.'
// where the pattern's component does not start with a literal '.'.
func hiddenMatch(pattern, match string) bool {
	pc := strings.Split(pattern, "/")
	mc := strings.Split(match, "/")
	if len(pc) != len(mc) {
		return false
	}
	for i := range mc {
		if strings.HasPrefix(mc[i], ".") && !strings.HasPrefix(pc[i], ".") && !strings.HasPrefix(pc[i], `\.`) {
			return true
		}
	}
	return false
}

// writer assembles output lines. Text can arrive in pieces (the text before
// a multi-line "<!--#" is continued by the text after its "-->"); a line's
// Pos is that of its first piece with non-blank text.
type writer struct {
	lines   []xmltree.Line
	buf     strings.Builder
	pos     xmltree.Pos
	pending bool // buf holds the start of a line
	solid   bool // the pending text is not all blank
	size    int64
}

// write appends text (no line breaks) to the current line.
func (w *writer) write(text string, pos xmltree.Pos) {
	if text == "" {
		return
	}
	blank := strings.TrimLeft(text, " \t") == ""
	if !w.pending || (!w.solid && !blank) {
		w.pos = pos
	}
	w.pending = true
	w.solid = w.solid || !blank
	w.buf.WriteString(text)
	w.size += int64(len(text))
}

// endLine finishes the current line (an empty one if nothing is pending).
func (w *writer) endLine(pos xmltree.Pos) {
	if !w.pending {
		w.pos = pos
	}
	w.lines = append(w.lines, xmltree.Line{Text: w.buf.String(), Pos: w.pos})
	w.size++
	w.buf.Reset()
	w.pending, w.solid = false, false
}

// flush finishes the current line if one is pending.
func (w *writer) flush() {
	if w.pending {
		w.endLine(w.pos)
	}
}

// Dump renders lines as the expanded document text, one line per Line,
// each ending in "\n" (what FreeSWITCH writes to freeswitch.xml.fsxml).
func Dump(lines []xmltree.Line) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	return b.String()
}
