package cdr

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/beevik/etree"

	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/xmltree"
)

// Legs says which call legs get a record.
type Legs uint8

// The legs of a call: A is a leg nobody originated (an inbound call, or
// one the originate command placed), B one another leg originated.
const (
	LegA Legs = 1 << iota
	LegB
)

// String renders l as in the configuration: "a", "b", "ab" or "".
func (l Legs) String() string {
	s := ""
	if l&LegA != 0 {
		s += "a"
	}
	if l&LegB != 0 {
		s += "b"
	}
	return s
}

// parseLegs reads a legs value the way mod_cdr_csv does: every 'a' and
// 'b' in it counts. A value with neither is refused (FreeSWITCH would
// silently record nothing).
func parseLegs(v string) (Legs, error) {
	var l Legs
	if strings.ContainsRune(v, 'a') {
		l |= LegA
	}
	if strings.ContainsRune(v, 'b') {
		l |= LegB
	}
	if l == 0 {
		return 0, fmt.Errorf("legs %q: want a, b or ab", v)
	}
	return l, nil
}

// Encoding is how a CSV template's ${variables} are inserted.
type Encoding string

// Encodings of CSV values.
const (
	// EncodingNone inserts values as they are, as FreeSWITCH does: a
	// value holding a double quote breaks the quoted field around it.
	EncodingNone Encoding = "none"
	// EncodingCSV doubles every double quote in an inserted value
	// (RFC 4180), so a template whose fields are quoted stays valid CSV
	// whatever the caller's name is.
	EncodingCSV Encoding = "csv"
)

// BuiltinTemplate is the template called "default", which mod_cdr_csv
// always has.
const BuiltinTemplate = `"${caller_id_name}","${caller_id_number}","${destination_number}","${context}","${start_stamp}",` +
	`"${answer_stamp}","${end_stamp}","${duration}","${billsec}","${hangup_cause}","${uuid}","${bleg_uuid}", "${accountcode}"` + "\n"

// CSVConfig is cdr_csv.conf: FreeSWITCH's mod_cdr_csv settings.
type CSVConfig struct {
	// Dir is where Master.csv and the per-account files go: log-base
	// followed by "cdr-csv", or $${log_dir}/cdr-csv. A channel's
	// cdr_csv_base variable overrides it for that call.
	Dir string
	// DefaultTemplate names the template of Master.csv (default-template;
	// "default" when unset).
	DefaultTemplate string
	// Templates maps each template name to its text, which ends with a
	// newline (added when the configuration's text lacks one).
	Templates map[string]string
	// Legs are the legs recorded (legs; default "a").
	Legs Legs
	// RotateOnHUP renames the files with a timestamp suffix on SIGHUP
	// (rotate-on-hup); without it SIGHUP only reopens them.
	RotateOnHUP bool
	// MasterFileOnly writes no per-account files (master-file-only).
	MasterFileOnly bool
	// Debug logs each leg's variables at info level (debug).
	Debug bool
	// Encoding is how values are inserted (encoding; Switchboard's own
	// setting, default none).
	Encoding Encoding
}

// JSONLConfig is cdr_jsonl.conf, Switchboard's JSON-lines CDRs: one JSON
// object per line and per leg, with the leg's times, caller profile and
// channel variables.
type JSONLConfig struct {
	// Path is the file written: log-dir (default $${log_dir}/cdr-jsonl)
	// joined with file (default cdr.jsonl).
	Path string
	// Legs are the legs recorded (legs; default "ab").
	Legs Legs
	// RotateOnHUP renames the file with a timestamp suffix on SIGHUP
	// (rotate-on-hup, default true); without it SIGHUP only reopens it.
	RotateOnHUP bool
	// Variables, when not empty, lists the channel variables written
	// (variables, comma-separated; default every variable).
	Variables []string
}

// Config is the CDR configuration of one snapshot; a nil part is off.
type Config struct {
	CSV   *CSVConfig
	JSONL *JSONLConfig
}

// FromSnapshot reads cdr_csv.conf and cdr_jsonl.conf from snap. CSV
// records are on when cdr_csv.conf is present and modules.conf (when
// present) loads mod_cdr_csv, as in FreeSWITCH; JSON-lines records are on
// when cdr_jsonl.conf is present. A bad setting is an error naming its
// file and line, so a reload that introduces one is refused.
func FromSnapshot(snap *conf.Snapshot) (*Config, error) {
	logDir, _ := snap.Global("log_dir")
	var c Config
	if el := snap.Configuration("cdr_csv.conf"); el != nil && moduleLoaded(snap, "mod_cdr_csv") {
		csv, err := parseCSV(snap, el, logDir)
		if err != nil {
			return nil, err
		}
		c.CSV = csv
	}
	if el := snap.Configuration("cdr_jsonl.conf"); el != nil {
		j, err := parseJSONL(snap, el, logDir)
		if err != nil {
			return nil, err
		}
		c.JSONL = j
	}
	return &c, nil
}

// moduleLoaded reports whether modules.conf loads module, or true when
// there is no modules.conf at all.
func moduleLoaded(snap *conf.Snapshot, module string) bool {
	mods := snap.Configuration("modules.conf")
	if mods == nil {
		return true
	}
	for _, l := range mods.FindElements(".//modules/load") {
		if strings.EqualFold(l.SelectAttrValue("module", ""), module) {
			return true
		}
	}
	return false
}

// param is one <param name value> with where it was written.
type param struct {
	name, value string
	pos         xmltree.Pos
}

// settings returns the params of el's <settings>, in order.
func settings(snap *conf.Snapshot, el *etree.Element) []param {
	var out []param
	for _, s := range el.SelectElements("settings") {
		for _, p := range s.SelectElements("param") {
			out = append(out, param{
				name:  strings.ToLower(p.SelectAttrValue("name", "")),
				value: p.SelectAttrValue("value", ""),
				pos:   snap.Pos(p),
			})
		}
	}
	return out
}

func parseCSV(snap *conf.Snapshot, el *etree.Element, logDir string) (*CSVConfig, error) {
	c := &CSVConfig{
		Dir:       filepath.Join(logDir, "cdr-csv"),
		Templates: map[string]string{"default": BuiltinTemplate},
		Legs:      LegA,
		Encoding:  EncodingNone,
	}
	var tplPos xmltree.Pos
	// Later params override earlier ones, as mod_cdr_csv's loop does.
	for _, p := range settings(snap, el) {
		switch p.name {
		case "debug":
			c.Debug = caller.True(p.value)
		case "legs":
			l, err := parseLegs(p.value)
			if err != nil {
				return nil, xmltree.Errorf(p.pos, "cdr_csv.conf: %v", err)
			}
			c.Legs = l
		case "log-base":
			if p.value == "" {
				return nil, xmltree.Errorf(p.pos, "cdr_csv.conf: log-base is empty")
			}
			c.Dir = filepath.Join(p.value, "cdr-csv")
		case "rotate-on-hup":
			c.RotateOnHUP = caller.True(p.value)
		case "default-template":
			c.DefaultTemplate, tplPos = p.value, p.pos
		case "master-file-only":
			c.MasterFileOnly = caller.True(p.value)
		case "encoding":
			switch e := Encoding(strings.ToLower(p.value)); e {
			case EncodingNone, EncodingCSV:
				c.Encoding = e
			default:
				return nil, xmltree.Errorf(p.pos, "cdr_csv.conf: encoding %q: want none or csv", p.value)
			}
		}
	}
	for _, ts := range el.SelectElements("templates") {
		for _, t := range ts.SelectElements("template") {
			name := t.SelectAttrValue("name", "")
			if name == "" {
				continue
			}
			text := t.Text()
			if !strings.HasSuffix(text, "\n") {
				text += "\n"
			}
			c.Templates[name] = text
		}
	}
	if c.DefaultTemplate == "" {
		c.DefaultTemplate = "default"
	}
	if _, ok := c.Templates[c.DefaultTemplate]; !ok {
		return nil, xmltree.Errorf(tplPos, "cdr_csv.conf: default-template %q names no <template>", c.DefaultTemplate)
	}
	return c, nil
}

func parseJSONL(snap *conf.Snapshot, el *etree.Element, logDir string) (*JSONLConfig, error) {
	j := &JSONLConfig{Legs: LegA | LegB, RotateOnHUP: true}
	dir, file := filepath.Join(logDir, "cdr-jsonl"), "cdr.jsonl"
	for _, p := range settings(snap, el) {
		switch p.name {
		case "log-dir":
			if p.value == "" {
				return nil, xmltree.Errorf(p.pos, "cdr_jsonl.conf: log-dir is empty")
			}
			dir = p.value
		case "file":
			if p.value == "" || strings.ContainsAny(p.value, `/\`) || p.value == "." || p.value == ".." {
				return nil, xmltree.Errorf(p.pos, "cdr_jsonl.conf: file %q: want a file name (the directory is log-dir)", p.value)
			}
			file = p.value
		case "legs":
			l, err := parseLegs(p.value)
			if err != nil {
				return nil, xmltree.Errorf(p.pos, "cdr_jsonl.conf: %v", err)
			}
			j.Legs = l
		case "rotate-on-hup":
			j.RotateOnHUP = caller.True(p.value)
		case "variables":
			j.Variables = nil
			for _, v := range strings.Split(p.value, ",") {
				if v = strings.TrimSpace(v); v != "" {
					j.Variables = append(j.Variables, v)
				}
			}
		default:
			return nil, xmltree.Errorf(p.pos, "cdr_jsonl.conf: unknown param %q (known: log-dir, file, legs, rotate-on-hup, variables)", p.name)
		}
	}
	j.Path = filepath.Join(dir, file)
	return j, nil
}
