package dialplan_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/conf/conftest"
	"github.com/switchboard-voip/switchboard/dialplan"
	"github.com/switchboard-voip/switchboard/dryrun"
)

// repoTrees are the configuration trees in the repository whose dialplans
// must route identically after XML → YAML → XML (and YAML → XML → YAML).
var repoTrees = []struct {
	dir  string
	opts conf.Options
}{
	{"../conf/default", conf.Options{}},
	{"../conf/testdata/vanilla-like", conf.Options{AllowStun: true}},
	{"../e2e/testdata/conf", conf.Options{Set: map[string]string{"test_sip_port": "5060", "internal_sip_port": "5060"}}},
}

// probeCalls are the calls routed on every tree, in every context.
func probeCalls() []string {
	calls := []string{"0", "operator", "100", "1234", "2000", "3000", "5000", "5551212", "9664",
		"18005551212", "+15551212", "*98", "**1000", "6000", "6001", "1", ""}
	for i := 1000; i <= 1019; i++ {
		calls = append(calls, strconv.Itoa(i))
	}
	for i := 9170; i <= 9199; i++ {
		calls = append(calls, strconv.Itoa(i))
	}
	return calls
}

// roundTrip rewrites every dialplan file under dir in place through the
// other form: XML → YAML → XML, YAML → XML → YAML.
func roundTrip(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(filepath.Join(dir, "dialplan"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ext := filepath.Ext(p)
		if ext != ".xml" && ext != ".yaml" {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var f *dialplan.File
		var buf bytes.Buffer
		if ext == ".xml" {
			if f, err = dialplan.ParseXMLFile(p, data); err == nil {
				err = dialplan.WriteYAML(&buf, f)
			}
			if err == nil {
				f, err = dialplan.ParseYAML(p, buf.Bytes())
			}
			buf.Reset()
			if err == nil {
				err = dialplan.WriteXML(&buf, f)
			}
		} else {
			if f, err = dialplan.ParseYAML(p, data); err == nil {
				err = dialplan.WriteXML(&buf, f)
			}
			if err == nil {
				f, err = dialplan.ParseXMLFile(p, buf.Bytes())
			}
			buf.Reset()
			if err == nil {
				err = dialplan.WriteYAML(&buf, f)
			}
		}
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		n++
		return os.WriteFile(p, buf.Bytes(), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func routeAll(t *testing.T, dir, stateDir string, opts conf.Options) map[string]string {
	t.Helper()
	opts.Dir = dir
	opts.StateDir = stateDir
	snap, err := conf.Load(opts)
	if err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	at := time.Date(2026, 3, 2, 10, 30, 0, 0, time.UTC) // a Monday morning
	out := map[string]string{}
	for _, c := range snap.Dialplan.Contexts {
		for _, dest := range probeCalls() {
			rep := dryrun.Run(snap.Dialplan, snap, nil, dryrun.Call{Destination: dest, Context: c.Name, Time: at,
				Fields: map[string]string{"caller_id_number": "1001", "network_addr": "127.0.0.1"}})
			b, _ := json.Marshal(rep)
			out[c.Name+"/"+dest] = string(b)
		}
	}
	return out
}

func TestRepoDialplansRoundTrip(t *testing.T) {
	for _, tree := range repoTrees {
		t.Run(filepath.Base(tree.dir), func(t *testing.T) {
			// The same directory before and after, so paths in globals agree.
			dir, state := conftest.CopyTree(t, tree.dir), t.TempDir()
			want := routeAll(t, dir, state, tree.opts)
			routed := 0
			for _, v := range want {
				if strings.Contains(v, `"result":"route"`) {
					routed++
				}
			}
			if routed == 0 {
				t.Fatal("no probe call routes: the probe list does not exercise this tree")
			}
			if n := roundTrip(t, dir); n == 0 {
				t.Fatal("no dialplan files converted")
			}
			got := routeAll(t, dir, state, tree.opts)
			for k, w := range want {
				if got[k] != w {
					t.Errorf("%s routes differently after the round trip:\n got: %s\nwant: %s", k, got[k], w)
				}
			}
			t.Logf("%d calls compared, %d of them routed", len(want), routed)
		})
	}
}
