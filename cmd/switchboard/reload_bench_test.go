package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-voip/switchboard/conf/conftest"
)

// benchReload measures reloadxml on a running switch: load, check and
// swap in the configuration (every part a reload puts in force).
func benchReload(b *testing.B, sw *theSwitch) {
	b.Helper()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := sw.Reload(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// defaultTree copies the default configuration (conf/default, the tree
// embedded in the binary) to a directory. The benchmarks set
// event_socket_port=0 so they never collide with a switch already running.
func defaultTree(b *testing.B) string {
	b.Helper()
	root, err := filepath.Abs(filepath.Join("..", "..", "conf", "default"))
	if err != nil {
		b.Fatal(err)
	}
	dir := conftest.CopyTree(b, root)
	return dir
}

// BenchmarkReloadDefault: reloadxml of the default configuration.
func BenchmarkReloadDefault(b *testing.B) {
	benchReload(b, startSwitchOn(b, defaultTree(b), obsFlags{}, "internal_sip_port=0", "event_socket_port=0"))
}

// BenchmarkReload1000: reloadxml of the default configuration with 1,000
// more extensions in the default context, one per four-digit number with
// a capture, like a PBX's user list.
func BenchmarkReload1000(b *testing.B) {
	dir := defaultTree(b)
	var x strings.Builder
	x.WriteString("<include>\n")
	for i := range 1000 {
		fmt.Fprintf(&x, `  <extension name="user_%04d">
    <condition field="destination_number" expression="^(%04d)$">
      <action application="set" data="call_timeout=30"/>
      <action application="bridge" data="user/$1@${domain_name}"/>
    </condition>
  </extension>
`, i, i)
	}
	x.WriteString("</include>\n")
	conftest.AddFiles(b, dir, map[string]string{"dialplan/default/00_users_1000.xml": x.String()})
	sw := startSwitchOn(b, dir, obsFlags{}, "internal_sip_port=0", "event_socket_port=0")
	exts := 0
	for _, c := range sw.current.Load().Dialplan.Contexts {
		exts += len(c.Extensions)
	}
	if exts < 1000 {
		b.Fatalf("%d extensions loaded, want over 1000", exts)
	}
	benchReload(b, sw)
}
