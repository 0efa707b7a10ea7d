package conf

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/beevik/etree"

	"github.com/switchboard-voip/switchboard/dialplan"
	"github.com/switchboard-voip/switchboard/xmltree"
)

// Snapshot is one loaded configuration: the expanded document, the compiled
// dialplan, the directory and the global variables as they stood at the end
// of the load. It is immutable once Load returns it and safe for concurrent
// use; callers must treat the document, the dialplan and the maps it hands
// out as read-only. A reload builds a new Snapshot and swaps a pointer; a
// call keeps the one it was routed with.
type Snapshot struct {
	// Doc is the expanded document; every element knows its original file
	// and line (Doc.Pos).
	Doc *xmltree.Document
	// Dialplan is the compiled <section name="dialplan">, ready to hunt.
	Dialplan *dialplan.Dialplan

	globals  *Globals
	src      source
	stateDir string
	domains  []Domain
	text     string
	hash     string
	warnings []*xmltree.Error
	files    []string
}

// Global returns the global variable name (case-insensitive) and whether
// it is set.
func (s *Snapshot) Global(name string) (string, bool) { return s.globals.Get(name) }

// Get is Global under the name vars.Lookup wants, so a Snapshot can be the
// global-variable fallback of an expansion.
func (s *Snapshot) Get(name string) (string, bool) { return s.globals.Get(name) }

// Globals returns a copy of every global variable.
func (s *Snapshot) Globals() map[string]string { return s.globals.Map() }

// ConfDir returns conf_dir: the absolute configuration directory, or
// EmbeddedConfDir for the built-in tree.
func (s *Snapshot) ConfDir() string { return s.src.confDir }

// Embedded reports whether the snapshot was read from the embedded default
// tree (or another in-memory tree) rather than a directory on disk.
func (s *Snapshot) Embedded() bool { return !s.src.onDisk }

// StateDir returns the root of the writable directories.
func (s *Snapshot) StateDir() string { return s.stateDir }

// StateDirs returns the writable directories the configuration names
// (log_dir, db_dir, recordings_dir, ...; --set or vars.xml may have moved
// them), for the caller to create before use. Load itself creates nothing.
func (s *Snapshot) StateDirs() []string {
	var dirs []string
	for _, n := range stateDirNames {
		if v, ok := s.Global(n); ok && v != "" {
			dirs = append(dirs, v)
		}
	}
	return dirs
}

// Root returns the document element (<document type="freeswitch/xml">).
func (s *Snapshot) Root() *etree.Element { return s.Doc.Root() }

// Pos returns where el was written: original file, line and include chain.
func (s *Snapshot) Pos(el *etree.Element) xmltree.Pos { return s.Doc.Pos(el) }

// Section returns the first <section name=NAME> (compared
// case-insensitively, as FreeSWITCH does), or nil.
func (s *Snapshot) Section(name string) *etree.Element {
	root := s.Doc.Root()
	if root == nil {
		return nil
	}
	return findChild(root, "section", name)
}

// Configuration returns the <configuration name="NAME"> element of the
// configuration section, or nil. name may be given with or without the
// ".conf" suffix: "sofia" and "sofia.conf" both find sofia.conf. When
// several elements carry the name the first wins, as in FreeSWITCH.
func (s *Snapshot) Configuration(name string) *etree.Element {
	sec := s.Section("configuration")
	if sec == nil {
		return nil
	}
	want := strings.TrimSuffix(strings.ToLower(name), ".conf")
	for _, el := range sec.SelectElements("configuration") {
		n := strings.TrimSuffix(strings.ToLower(el.SelectAttrValue("name", "")), ".conf")
		if n == want {
			return el
		}
	}
	return nil
}

// Domains returns the directory's domains in document order.
func (s *Snapshot) Domains() []Domain { return s.domains }

// Domain returns the first domain named name (case-insensitively), or nil.
func (s *Snapshot) Domain(name string) *Domain {
	for i := range s.domains {
		if strings.EqualFold(s.domains[i].Name, name) {
			return &s.domains[i]
		}
	}
	return nil
}

// Dump returns the expanded document text, the equivalent of FreeSWITCH's
// freeswitch.xml.fsxml: every include spliced in, every $${var} expanded,
// every directive line removed.
func (s *Snapshot) Dump() string { return s.text }

// Hash returns the SHA-256 of Dump, in hex: two loads with the same hash
// produced the same configuration.
func (s *Snapshot) Hash() string { return s.hash }

// Files returns the display names of the files the load read, in the order
// it read them.
func (s *Snapshot) Files() []string { return s.files }

// Warnings returns the problems found that did not stop the load, each
// rendered as "file:line: message (included from ...)".
func (s *Snapshot) Warnings() []string {
	out := make([]string, len(s.warnings))
	for i, w := range s.warnings {
		out[i] = w.Error()
	}
	return out
}

// FS returns the one file-system layer configuration files resolve
// through: the configuration directory on disk, or the embedded tree. Names
// are relative to conf_dir and slash-separated.
func (s *Snapshot) FS() fs.FS { return s.src.fsys }

// Open opens a file the configuration names (a sound, a script, a
// template). A relative name is taken relative to conf_dir; an absolute one
// under conf_dir (such as $${script_dir}/x.lua) resolves through FS, so it
// works for the embedded tree as well; any other absolute path is opened
// from the disk.
func (s *Snapshot) Open(name string) (fs.File, error) {
	fsys, rel, ok := s.resolve(name)
	if !ok {
		return os.Open(name)
	}
	return fsys.Open(rel)
}

// ReadFile reads a file the configuration names, resolved as by Open.
func (s *Snapshot) ReadFile(name string) ([]byte, error) {
	fsys, rel, ok := s.resolve(name)
	if !ok {
		return os.ReadFile(name)
	}
	return fs.ReadFile(fsys, rel)
}

// Stat describes a file the configuration names, resolved as by Open.
func (s *Snapshot) Stat(name string) (fs.FileInfo, error) {
	fsys, rel, ok := s.resolve(name)
	if !ok {
		return os.Stat(name)
	}
	return fs.Stat(fsys, rel)
}

// resolve maps name to a file of FS; ok is false for an absolute path
// outside conf_dir.
func (s *Snapshot) resolve(name string) (fs.FS, string, bool) {
	rel, ok := relToConf(s.src.confDir, name)
	if !ok {
		return nil, "", false
	}
	return s.src.fsys, rel, true
}

// relToConf turns name into a slash-separated path relative to confDir;
// ok is false when name is an absolute path outside confDir. A relative
// name that leaves confDir ("../x") is returned unchanged so that the
// fs.FS rejects it.
func relToConf(confDir, name string) (string, bool) {
	if confDir == EmbeddedConfDir {
		switch {
		case name == EmbeddedConfDir:
			return ".", true
		case strings.HasPrefix(name, EmbeddedConfDir+"/"):
			return cleanRel(name[len(EmbeddedConfDir)+1:]), true
		case filepath.IsAbs(name):
			return "", false
		}
		return cleanRel(filepath.ToSlash(name)), true
	}
	if !filepath.IsAbs(name) {
		return cleanRel(filepath.ToSlash(name)), true
	}
	rel, err := filepath.Rel(confDir, filepath.Clean(name))
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// cleanRel cleans a relative slash path; one that climbs out stays invalid
// for fs.FS (fs.ValidPath rejects ".." elements).
func cleanRel(p string) string {
	c := path.Clean(p)
	if c == ".." || strings.HasPrefix(c, "../") {
		return p
	}
	return c
}

// findChild returns the first child of el with tag whose name attribute
// equals name case-insensitively (switch_xml_find_child).
func findChild(el *etree.Element, tag, name string) *etree.Element {
	for _, ch := range el.SelectElements(tag) {
		if strings.EqualFold(ch.SelectAttrValue("name", ""), name) {
			return ch
		}
	}
	return nil
}
