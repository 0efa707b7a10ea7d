package caller

import (
	"strings"
	"testing"
)

func TestEventHeaders(t *testing.T) {
	p := &Profile{
		Username: "1000", Dialplan: "XML", CallerIDName: "Jane", CallerIDNumber: "1000",
		OrigCallerIDName: "Jane", NetworkAddr: "127.0.0.1", DestinationNumber: "9196",
		UUID: "u1", Context: "default", ChanName: "sofia/internal/1000@127.0.0.1",
		CreatedTime: 42, Soft: map[string]string{"b": "2", "a": "1"},
	}
	var got []string
	p.EventHeaders("Caller", "inbound", func(n, v string) { got = append(got, n+"="+v) })
	want := []string{
		"Caller-Direction=inbound", "Caller-Logical-Direction=inbound", "Caller-Username=1000",
		"Caller-Dialplan=XML", "Caller-Caller-ID-Name=Jane", "Caller-Caller-ID-Number=1000",
		"Caller-Orig-Caller-ID-Name=Jane", "Caller-Network-Addr=127.0.0.1",
		"Caller-Destination-Number=9196", "Caller-Unique-ID=u1", "Caller-Context=default",
		"Caller-Channel-Name=sofia/internal/1000@127.0.0.1", "a=1", "b=2",
		"Caller-Profile-Created-Time=0", "Caller-Channel-Created-Time=42",
	}
	if strings.Join(got[:len(want)], "\n") != strings.Join(want, "\n") {
		t.Fatalf("headers:\n%s\nwant prefix:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if last := got[len(got)-1]; last != "Caller-Privacy-Hide-Number=false" {
		t.Errorf("last header %q", last)
	}
}
