package dialplan

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchboard-voip/switchboard/xmltree"
)

// FuzzParseXMLFile feeds the XML front end arbitrary files: it never
// panics, errors are positioned, and whatever it accepts converts to YAML
// and back to the same model.
func FuzzParseXMLFile(f *testing.F) {
	for _, dir := range []string{"../conf/default/dialplan", "../conf/testdata/vanilla-like/dialplan"} {
		_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && filepath.Ext(p) == ".xml" {
				if b, err := os.ReadFile(p); err == nil {
					f.Add(b)
				}
			}
			return nil
		})
	}
	f.Add([]byte(`<extension name="x"><condition field="destination_number" expression="^(1)$" break="never"><action application="set" data="a=$1" inline="true" loop="2"/><anti-action application="log" data="no"/><condition regex="any"><regex field="caller_id_number" expression="^1"/></condition></condition></extension>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseXMLFile("fuzz.xml", data)
		if err != nil {
			var pe *xmltree.Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not an *xmltree.Error", err, err)
			}
			return
		}
		var y bytes.Buffer
		if err := WriteYAML(&y, m); err != nil {
			// Some XML values cannot be written as a preprocessor-safe
			// file (e.g. a directive value with a quote); refusing is fine.
			return
		}
		again, err := ParseYAML("fuzz.yaml", y.Bytes())
		if err != nil {
			t.Fatalf("re-parse of written YAML: %v\n%s", err, y.String())
		}
		if len(m.Contexts)+len(m.Extensions) == 0 {
			again.HoldsExtensions = m.HoldsExtensions
		}
		sameModel(t, "XML → YAML round trip", again, m)
	})
}
