package conf

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// vanillaDir returns FreeSWITCH's own conf/vanilla tree: from
// $SWITCHBOARD_VANILLA_DIR, or extracted from a local mirror of the
// FreeSWITCH repository ($SWITCHBOARD_FREESWITCH_GIT, a git directory). We
// never commit it, so the test is skipped when neither is available; the
// committed testdata/vanilla-like fixture covers the same constructs.
func vanillaDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("SWITCHBOARD_VANILLA_DIR"); d != "" {
		return d
	}
	gitDir := os.Getenv("SWITCHBOARD_FREESWITCH_GIT")
	if gitDir == "" {
		t.Skip("set SWITCHBOARD_VANILLA_DIR to FreeSWITCH's conf/vanilla, or SWITCHBOARD_FREESWITCH_GIT to a FreeSWITCH git directory")
	}
	out := t.TempDir()
	cmd := exec.Command("sh", "-c", `git --git-dir="$0" archive HEAD conf/vanilla | tar -x -C "$1"`, gitDir, out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("extracting conf/vanilla: %v\n%s", err, b)
	}
	return filepath.Join(out, "conf", "vanilla")
}

// TestRealVanillaTree loads FreeSWITCH's unmodified vanilla configuration
// and checks the loaded tree holds what the files define, counted
// independently from the raw files: an include that silently matched
// nothing would fail here.
func TestRealVanillaTree(t *testing.T) {
	dir := vanillaDir(t)
	s := load(t, Options{Dir: dir, AllowStun: true})
	for _, w := range s.Warnings() {
		t.Logf("warning: %s", w)
	}

	// Contexts: one per dialplan/*.xml file, with its subdirectory.
	tops, _ := filepath.Glob(filepath.Join(dir, "dialplan", "*.xml"))
	sort.Strings(tops)
	total := 0
	for _, top := range tops {
		data, err := os.ReadFile(top)
		if err != nil {
			t.Fatal(err)
		}
		m := contextName.FindAllStringSubmatch(xmlComment.ReplaceAllString(string(data), ""), -1)
		if len(m) != 1 {
			t.Fatalf("%s: %d contexts", top, len(m))
		}
		files := []string{top}
		sub, _ := filepath.Glob(filepath.Join(strings.TrimSuffix(top, ".xml"), "*.xml"))
		files = append(files, sub...)
		want := countRaw(t, files...)
		c := s.Dialplan.Context(m[0][1])
		if c == nil {
			t.Errorf("context %s not loaded", m[0][1])
			continue
		}
		got := countModel(c)
		if got != want {
			t.Errorf("context %s: loaded %+v, files hold %+v", c.Name, got, want)
		}
		total += got.extensions
		t.Logf("context %-16s %+v", c.Name, got)
	}
	if len(s.Dialplan.Contexts) != len(tops) || len(tops) < 4 {
		t.Errorf("loaded %d contexts from %d files", len(s.Dialplan.Contexts), len(tops))
	}
	t.Logf("%d contexts, %d extensions", len(s.Dialplan.Contexts), total)

	// SIP profiles: every <profile> of sip_profiles/*.xml.
	profFiles, _ := filepath.Glob(filepath.Join(dir, "sip_profiles", "*.xml"))
	var wantProfiles []string
	for _, f := range profFiles {
		data, _ := os.ReadFile(f)
		for _, m := range profileName.FindAllStringSubmatch(xmlComment.ReplaceAllString(string(data), ""), -1) {
			wantProfiles = append(wantProfiles, m[1])
		}
	}
	sofia := s.Configuration("sofia.conf")
	if sofia == nil {
		t.Fatal("sofia.conf not found")
	}
	var gotProfiles []string
	for _, p := range sofia.FindElements(".//profiles/profile") {
		gotProfiles = append(gotProfiles, p.SelectAttrValue("name", ""))
	}
	sort.Strings(wantProfiles)
	sort.Strings(gotProfiles)
	if strings.Join(gotProfiles, ",") != strings.Join(wantProfiles, ",") || len(wantProfiles) == 0 {
		t.Errorf("profiles = %v, want %v", gotProfiles, wantProfiles)
	}

	// Directory users: every <user id=...> of directory/**/*.xml that is
	// not a group pointer (type="pointer").
	wantUsers := 0
	_ = filepath.WalkDir(filepath.Join(dir, "directory"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".xml" {
			return nil
		}
		data, _ := os.ReadFile(p)
		for _, m := range userElement.FindAllStringSubmatch(xmlComment.ReplaceAllString(string(data), ""), -1) {
			if !strings.Contains(m[2], `type="pointer"`) {
				wantUsers++
			}
		}
		return nil
	})
	gotUsers := 0
	for _, d := range s.Domains() {
		gotUsers += len(d.Users)
	}
	if gotUsers != wantUsers || wantUsers == 0 {
		t.Errorf("directory users = %d, want %d", gotUsers, wantUsers)
	}
	t.Logf("%d profiles, %d directory users", len(gotProfiles), gotUsers)
}
