package main

import (
	"context"
	"maps"
	"regexp"
	"strings"
	"testing"

	apicmd "github.com/switchboard-voip/switchboard/commands"
	"github.com/switchboard-voip/switchboard/conf/conftest"
)

// sofiaTree is reloadTree with gateways in sip_profiles/internal/*.xml,
// included inside the profile's <gateways> as vanilla FreeSWITCH lays
// them out. The gateways neither register nor ping: nothing is sent.
func sofiaTree() map[string]string {
	tree := maps.Clone(reloadTree)
	tree["autoload_configs/sofia.conf.xml"] = `<configuration name="sofia.conf">
  <profiles>
    <X-PRE-PROCESS cmd="include" data="../sip_profiles/*.xml"/>
  </profiles>
</configuration>
`
	tree["sip_profiles/internal.xml"] = `<profile name="internal">
  <gateways>
    <X-PRE-PROCESS cmd="include" data="internal/*.xml"/>
  </gateways>
  <settings>
    <param name="sip-ip" value="127.0.0.1"/>
    <param name="sip-port" value="0"/>
  </settings>
</profile>
`
	tree["sip_profiles/internal/peer.xml"] = `<include>
  <gateway name="peer">
    <param name="register" value="false"/>
    <param name="proxy" value="192.0.2.9:5070"/>
    <variables><variable name="carrier" value="peer-co" direction="outbound"/></variables>
  </gateway>
</include>
`
	return tree
}

func TestSofiaCommands(t *testing.T) {
	dir := conftest.WriteTree(t, sofiaTree())
	sw := startSwitchOn(t, dir, obsFlags{})
	api := func(cmd, args string) string { return apicmd.Execute(context.Background(), sw, cmd, args) }

	out := api("sofia", "status")
	row := regexp.MustCompile(`(?m)^ +internal::peer\tgateway\t +sip:FreeSWITCH@192\.0\.2\.9:5070\tNOREG$`)
	if !row.MatchString(out) || !strings.Contains(out, "\tprofile\t") || !strings.HasSuffix(out, "1 profile 0 aliases\n") {
		t.Errorf("sofia status:\n%s", out)
	}
	if out := api("sofia", "status gateway peer"); !strings.Contains(out, "State   \tNOREG\n") || !strings.Contains(out, "Status  \tUP\n") {
		t.Errorf("sofia status gateway peer:\n%s", out)
	}
	if got := api("sofia_gateway_data", "peer ovar carrier"); got != "peer-co" {
		t.Errorf("sofia_gateway_data = %q", got)
	}

	// A new gateway file: reloadxml alone does not start it; rescan does.
	conftest.AddFiles(t, dir, map[string]string{"sip_profiles/internal/second.xml": `<include>
  <gateway name="second">
    <param name="register" value="false"/>
    <param name="proxy" value="192.0.2.10"/>
  </gateway>
</include>
`})
	if got := api("reloadxml", ""); !strings.HasPrefix(got, "+OK") {
		t.Fatalf("reloadxml: %q", got)
	}
	if strings.Contains(api("sofia", "status"), "internal::second") {
		t.Error("reloadxml started a gateway")
	}
	if got := api("sofia", "profile internal rescan"); got != "Reload XML [Success]\n+OK scan complete\n" {
		t.Errorf("rescan: %q", got)
	}
	if !strings.Contains(api("sofia", "status"), "internal::second") {
		t.Error("rescan did not start the new gateway")
	}

	if got := api("sofia", "profile internal killgw second"); got != "+OK gateway marked for deletion.\n" {
		t.Errorf("killgw: %q", got)
	}
	if got := api("sofia", "status gateway second"); got != "Invalid Gateway!\n" {
		t.Errorf("killed gateway: %q", got)
	}
	if got := api("sofia", "profile internal register peer"); got != "-ERR NOREG gateway [peer] can't be registered!\n" {
		t.Errorf("register of a NOREG gateway: %q", got)
	}

	// A broken gateway refuses the reload with its file and line; rescan
	// says so and keeps going with the configuration in force.
	conftest.AddFiles(t, dir, map[string]string{"sip_profiles/internal/bad.xml": `<include>
  <gateway name="bad">
    <param name="proxy" value="192.0.2.11"/>
  </gateway>
</include>
`})
	got := api("sofia", "profile internal rescan")
	if !regexp.MustCompile(`^Reload XML \[(sip: )?\S*sip_profiles/internal/bad\.xml:2: .*username param is required.*\]\n\+OK scan complete\n$`).MatchString(got) {
		t.Errorf("rescan with a bad gateway: %q", got)
	}
	if !strings.Contains(api("sofia", "status"), "internal::second") {
		t.Error("rescan with the configuration in force did not start the killed gateway again")
	}
}
