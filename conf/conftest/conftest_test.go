package conftest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteAndCopyTree(t *testing.T) {
	dir := WriteTree(t, map[string]string{"freeswitch.xml": "<document/>\n", "dialplan/a.xml": "<include/>\n"})
	cp := CopyTree(t, dir)
	for _, name := range []string{"freeswitch.xml", "dialplan/a.xml"} {
		want, _ := os.ReadFile(filepath.Join(dir, name))
		got, err := os.ReadFile(filepath.Join(cp, name))
		if err != nil || string(got) != string(want) || len(want) == 0 {
			t.Errorf("%s: copied %q (%v), want %q", name, got, err, want)
		}
	}
}
