package cdr

import (
	"errors"
	"path/filepath"
	"strings"

	"github.com/switchboard-voip/switchboard/vars"
)

// writeCSV writes leg's cdr_csv lines as mod_cdr_csv does: with an
// account code (the ACCOUNTCODE variable), a line to <accountcode>.csv
// from the template of that name (or the default template), unless
// master-file-only; then always a line to Master.csv from the default
// template. The directory is the leg's cdr_csv_base variable, or the
// configuration's.
func (w *Writer) writeCSV(c *CSVConfig, leg Leg) error {
	look := vars.Lookup(stamps{leg: leg, p: leg.Profile()})
	if c.Encoding == EncodingCSV {
		look = csvQuoted{look}
	}
	if c.Debug {
		var b strings.Builder
		leg.Vars().Range(func(n, v string) bool {
			b.WriteString(n + ": " + v + "\n")
			return true
		})
		w.log.Info("CHANNEL_DATA:\n"+b.String(), "uuid", leg.UUID())
	}
	dir := c.Dir
	if v, ok := leg.Get("cdr_csv_base"); ok && v != "" {
		dir = v
	}
	master := c.Templates[c.DefaultTemplate]
	var errs []error
	if acct, ok := leg.Get("ACCOUNTCODE"); ok && acct != "" && !c.MasterFileOnly {
		if !safeName(acct) {
			w.log.Warn("cdr_csv: account code is not a file name; written to Master.csv only", "uuid", leg.UUID(), "accountcode", acct)
		} else {
			tpl, ok := c.Templates[acct]
			if !ok {
				tpl = master
			}
			line := vars.Expand(tpl, look, w.api)
			errs = append(errs, w.write(filepath.Join(dir, acct+".csv"), []byte(line)))
		}
	}
	line := vars.Expand(master, look, w.api)
	errs = append(errs, w.write(filepath.Join(dir, "Master.csv"), []byte(line)))
	return errors.Join(errs...)
}

// safeName reports whether an account code can name a file in the CDR
// directory without leaving it: no separator, not "." or "..", no NUL.
func safeName(s string) bool {
	return s != "." && s != ".." && !strings.ContainsAny(s, "/\\\x00")
}

// csvQuoted doubles the double quotes of every value it looks up
// (encoding csv).
type csvQuoted struct{ l vars.Lookup }

func (q csvQuoted) Get(name string) (string, bool) {
	v, ok := q.l.Get(name)
	if ok && strings.Contains(v, `"`) {
		v = strings.ReplaceAll(v, `"`, `""`)
	}
	return v, ok
}
