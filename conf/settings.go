package conf

import (
	"strings"

	"github.com/beevik/etree"
)

// Params returns the <param name=... value=...> children of el's child
// element called wrapper (e.g. "settings"), names lower-cased; the first
// of a repeated name wins, as FreeSWITCH's lookups do. A nil el gives an
// empty map.
func Params(el *etree.Element, wrapper string) map[string]string {
	out := map[string]string{}
	if el == nil {
		return out
	}
	w := el.SelectElement(wrapper)
	if w == nil {
		return out
	}
	for _, p := range w.SelectElements("param") {
		name := strings.ToLower(p.SelectAttrValue("name", ""))
		if name == "" {
			continue
		}
		if _, seen := out[name]; !seen {
			out[name] = p.SelectAttrValue("value", "")
		}
	}
	return out
}

// Settings returns the <settings> params of the configuration called name
// (e.g. "switch.conf"), or an empty map when it is absent.
func (s *Snapshot) Settings(name string) map[string]string {
	return Params(s.Configuration(name), "settings")
}
