// Package conf loads a configuration tree into one immutable Snapshot.
//
// There is one rule for finding configuration, FreeSWITCH's: a single tree
// rooted at freeswitch.xml, from a directory (--conf) or, without one, from
// the default tree embedded in the binary. The preprocessor (package
// conf/preprocess) follows the tree's include directives, expands $${var}
// globals and hands one document to the parser. Subsystems then find their
// settings by name in the loaded tree, never by file path:
//
//	snap.Configuration("sofia.conf")   <section name="configuration"><configuration name="sofia.conf">
//	snap.Dialplan                      <section name="dialplan">, compiled
//	snap.Domains()                     <section name="directory">
//
// A load returns a complete Snapshot or an error; an error names the
// original file and line and the chain of includes that led there. Load
// never changes anything outside the Snapshot it returns, so a failed
// reload leaves the running configuration as it was.
package conf

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"path/filepath"
	"strings"

	"github.com/beevik/etree"

	"github.com/switchboard-voip/switchboard/conf/preprocess"
	"github.com/switchboard-voip/switchboard/dialplan"
	"github.com/switchboard-voip/switchboard/xmltree"
)

// Load reads the configuration tree opts names and returns its Snapshot.
//
// The steps: build the global variables (built-ins, then opts.Set, which
// the configuration cannot override), preprocess freeswitch.xml with YAML
// dialplan files translated to XML where they are included, parse the
// result, compile the dialplan section and read the directory. Errors are
// positioned (*xmltree.Error or xmltree.ErrorList) whenever the problem is
// in a file.
func Load(opts Options) (*Snapshot, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	src, err := opts.source()
	if err != nil {
		return nil, err
	}
	stateDir := opts.StateDir
	if stateDir == "" {
		stateDir = DefaultStateDir(opts.LookupEnv)
	} else if stateDir, err = filepath.Abs(stateDir); err != nil {
		return nil, fmt.Errorf("state directory %s: %w", opts.StateDir, err)
	}
	host := DetectHost
	if opts.Host != nil {
		h := *opts.Host
		host = func() Host { return h }
	}
	coreUUID := opts.CoreUUID
	if coreUUID == "" {
		coreUUID = newUUID()
	}

	g := NewGlobals(logger)
	for _, kv := range builtinGlobals(src, stateDir, host(), coreUUID, opts.Set) {
		g.Set(kv[0], kv[1])
	}
	for _, name := range sortedKeys(opts.Set) {
		if err := checkSetName(name); err != nil {
			return nil, err
		}
		g.Lock(name, opts.Set[name])
	}

	if _, err := fs.Stat(src.fsys, RootFile); err != nil {
		return nil, &xmltree.Error{
			Pos: xmltree.Pos{File: src.displayName(RootFile)},
			Msg: "cannot open the configuration root",
			Err: err,
		}
	}

	translate := preprocess.Translator(dialplan.YAMLToXML)
	var diskDir string
	if src.onDisk {
		diskDir = src.confDir
	}
	lines, err := preprocess.Run(preprocess.Options{
		FS:          src.fsys,
		Root:        RootFile,
		Dir:         diskDir,
		DisplayName: src.displayName,
		Globals:     g,
		AllowExec:   opts.AllowExec,
		AllowStun:   opts.AllowStun,
		Getenv:      opts.lookupEnv(),
		Translators: map[string]preprocess.Translator{".yaml": translate, ".yml": translate},
		Logger:      logger,
	})
	if err != nil {
		return nil, err
	}
	doc, err := xmltree.Parse(lines)
	if err != nil {
		return nil, err
	}

	s := &Snapshot{Doc: doc, globals: g, src: src, stateDir: stateDir}
	s.text, s.files = joinLines(lines)
	sum := sha256.Sum256([]byte(s.text))
	s.hash = hex.EncodeToString(sum[:])
	if err := s.assemble(); err != nil {
		return nil, err
	}
	logger.Debug("configuration loaded", "conf_dir", src.confDir, "files", len(s.files),
		"warnings", len(s.warnings), "hash", s.hash)
	return s, nil
}

// assemble checks the document's shape and builds the typed views.
func (s *Snapshot) assemble() error {
	root := s.Doc.Root()
	if root == nil {
		return xmltree.Errorf(xmltree.Pos{File: s.src.displayName(RootFile)}, "the configuration has no root element")
	}
	if root.Tag != "document" {
		s.warn(s.Pos(root), "root element is <%s>; FreeSWITCH configurations start with <document type=\"freeswitch/xml\">", root.Tag)
	}
	s.checkDuplicates()

	sec := s.Section("dialplan")
	if sec == nil {
		s.warn(s.Pos(root), "no <section name=\"dialplan\">: no call can be routed")
	}
	dp, err := dialplan.FromXML(s.Doc, sec)
	if err != nil {
		return err
	}
	s.Dialplan = dp
	seen := map[string]*dialplan.Context{}
	for _, c := range dp.Contexts {
		key := strings.ToLower(c.Name)
		if first, ok := seen[key]; ok {
			s.warn(c.Pos, "context %q is also defined at %s; only the first is hunted", c.Name, first.Pos)
			continue
		}
		seen[key] = c
	}

	s.domains = readDirectory(s.Doc, s.Section("directory"), s.warn)
	s.checkDefaultPassword()
	return nil
}

func (s *Snapshot) warn(pos xmltree.Pos, format string, args ...any) {
	s.warnings = append(s.warnings, xmltree.Errorf(pos, format, args...))
}

// checkDuplicates warns about sections and configurations that appear
// twice: lookups find the first, so the second is dead text.
func (s *Snapshot) checkDuplicates() {
	dup := func(what string, els []*etree.Element, key func(string) string) {
		seen := map[string]xmltree.Pos{}
		for _, el := range els {
			name := el.SelectAttrValue("name", "")
			k := key(name)
			if first, ok := seen[k]; ok {
				s.warn(s.Pos(el), "%s %q is also defined at %s; only the first is used", what, name, first)
				continue
			}
			seen[k] = s.Pos(el)
		}
	}
	dup("section", s.Doc.Root().SelectElements("section"), strings.ToLower)
	if c := s.Section("configuration"); c != nil {
		dup("configuration", c.SelectElements("configuration"), func(n string) string {
			return strings.TrimSuffix(strings.ToLower(n), ".conf")
		})
	}
}

// checkDefaultPassword warns when the demo password is still in place while
// a SIP profile listens on an address other hosts can reach.
func (s *Snapshot) checkDefaultPassword() {
	if pw, _ := s.Global("default_password"); pw != "1234" {
		return
	}
	sofia := s.Configuration("sofia.conf")
	if sofia == nil {
		return
	}
	for _, profiles := range sofia.SelectElements("profiles") {
		for _, p := range profiles.SelectElements("profile") {
			ip, pos := "", s.Pos(p)
			for _, settings := range p.SelectElements("settings") {
				for _, param := range settings.SelectElements("param") {
					if param.SelectAttrValue("name", "") == "sip-ip" {
						ip, pos = param.SelectAttrValue("value", ""), s.Pos(param)
					}
				}
			}
			if !isLoopback(ip) {
				where := fmt.Sprintf("%q", ip)
				if ip == "" {
					where = "this machine's address (no sip-ip)"
				}
				s.warn(pos, "SIP profile %q listens on %s while default_password is still 1234: change it in vars.xml",
					p.SelectAttrValue("name", ""), where)
			}
		}
	}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// joinLines renders the preprocessed lines as one text and lists the
// files they came from, in first-seen order.
func joinLines(lines []xmltree.Line) (string, []string) {
	var b strings.Builder
	var files []string
	seen := map[string]bool{}
	for _, l := range lines {
		b.WriteString(l.Text)
		b.WriteByte('\n')
		if f := l.Pos.File; f != "" && !seen[f] {
			seen[f] = true
			files = append(files, f)
		}
	}
	return b.String(), files
}

// checkSetName rejects --set names the preprocessor could never look up.
func checkSetName(name string) error {
	if name == "" || strings.ContainsAny(name, "=}\"\n\r") {
		return fmt.Errorf("--set %q: invalid variable name", name)
	}
	return nil
}

// ParseSet turns --set arguments ("NAME=VALUE", repeatable) into the map
// Options.Set takes. Spaces around the first '=' are trimmed, as the
// preprocessor's set does; a later NAME wins.
func ParseSet(args []string) (map[string]string, error) {
	m := make(map[string]string, len(args))
	for _, a := range args {
		name, value, ok := strings.Cut(a, "=")
		name = strings.TrimSpace(name)
		if !ok {
			return nil, fmt.Errorf("--set %q: want NAME=VALUE", a)
		}
		if err := checkSetName(name); err != nil {
			return nil, err
		}
		for k := range m {
			if strings.EqualFold(k, name) {
				delete(m, k) // names are case-insensitive: the later one wins
			}
		}
		m[name] = strings.TrimSpace(value)
	}
	return m, nil
}
