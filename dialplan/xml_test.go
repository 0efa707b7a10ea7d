package dialplan

import (
	"strings"
	"testing"

	"github.com/switchboard-voip/switchboard/xmltree"
)

func TestFromXMLExtensionOutsideContext(t *testing.T) {
	doc, err := xmltree.ParseFile("dp.xml", []byte(`<section name="dialplan">
  <context name="default"/>
  <extension name="stray">
    <condition field="destination_number" expression="^1$"/>
  </extension>
</section>
`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = FromXML(doc, doc.Root())
	if err == nil || !strings.Contains(err.Error(), `dp.xml:3: extension "stray" is outside any <context>`) {
		t.Fatalf("err = %v", err)
	}
}

func TestParseXMLFileKeepsDirectives(t *testing.T) {
	f, err := ParseXMLFile("d.xml", []byte(`<include>
  <context name="default">
    <extension name="a"><condition field="destination_number" expression="^1$"/></extension>
    <X-PRE-PROCESS cmd="include" data="default/*.xml"/>
  </context>
</include>
`))
	if err != nil {
		t.Fatal(err)
	}
	c := f.Contexts[0]
	if len(c.Directives) != 1 || c.Directives[0].Before != 1 || c.Directives[0].Data != "default/*.xml" || c.Directives[0].Pos.Line != 4 {
		t.Fatalf("directives = %+v", c.Directives)
	}
}
