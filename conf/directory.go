package conf

import (
	"strings"

	"github.com/beevik/etree"

	"github.com/switchboard-voip/switchboard/xmltree"
)

// Domain is a <domain> of the directory section: its params, variables,
// users and groups.
type Domain struct {
	Name      string
	Params    map[string]string // <params><param name= value=>
	Variables map[string]string // <variables><variable name= value=>
	// Users holds every user defined in the domain, whether written directly
	// under <users> or inside <groups><group><users>, in document order.
	// Pointer entries (type="pointer") are not users of their own: they only
	// add a user to a group.
	Users  []User
	Groups []Group
	Pos    xmltree.Pos
}

// User is a <user> of a domain.
type User struct {
	ID          string
	Domain      string // name of the domain it belongs to
	NumberAlias string // number-alias attribute: another id that finds it
	Cidr        string // cidr attribute: networks that act as this user (acl.conf)
	Params      map[string]string
	Variables   map[string]string
	Groups      []string // names of the groups listing it, itself or by pointer
	Pos         xmltree.Pos
}

// Group is a <group> of a domain: a name and the ids of its members in
// document order (pointers included).
type Group struct {
	Name  string
	Users []string
	Pos   xmltree.Pos
}

// User returns the user whose id or number-alias equals id
// (case-insensitively, as FreeSWITCH compares them), or nil.
func (d *Domain) User(id string) *User {
	for i := range d.Users {
		if strings.EqualFold(d.Users[i].ID, id) {
			return &d.Users[i]
		}
	}
	for i := range d.Users {
		if d.Users[i].NumberAlias != "" && strings.EqualFold(d.Users[i].NumberAlias, id) {
			return &d.Users[i]
		}
	}
	return nil
}

// readDirectory decodes the domains of a <section name="directory">. Problems
// that FreeSWITCH would shrug off (a second user with the same id, a pointer
// to nobody) are warnings; the first definition wins, as in FreeSWITCH's
// lookups.
func readDirectory(doc *xmltree.Document, section *etree.Element, warn func(xmltree.Pos, string, ...any)) []Domain {
	if section == nil {
		return nil
	}
	var domains []Domain
	for _, del := range section.SelectElements("domain") {
		d := Domain{
			Name:      del.SelectAttrValue("name", ""),
			Params:    nameValues(del, "params", "param"),
			Variables: nameValues(del, "variables", "variable"),
			Pos:       doc.Pos(del),
		}
		if d.Name == "" {
			warn(d.Pos, "<domain> without a name is ignored")
			continue
		}
		for _, prev := range domains {
			if strings.EqualFold(prev.Name, d.Name) {
				warn(d.Pos, "domain %q is also defined at %s; only the first is used", d.Name, prev.Pos)
			}
		}
		r := domainReader{doc: doc, d: &d, index: map[string]int{}, warn: warn}
		for _, users := range del.SelectElements("users") {
			r.users(users, "")
		}
		for _, groups := range del.SelectElements("groups") {
			for _, gel := range groups.SelectElements("group") {
				g := Group{Name: gel.SelectAttrValue("name", ""), Pos: doc.Pos(gel)}
				for _, users := range gel.SelectElements("users") {
					g.Users = append(g.Users, r.users(users, g.Name)...)
				}
				d.Groups = append(d.Groups, g)
			}
		}
		r.resolvePointers()
		domains = append(domains, d)
	}
	return domains
}

type domainReader struct {
	doc      *xmltree.Document
	d        *Domain
	index    map[string]int // lower-case id → index in d.Users
	pointers []pointer
	warn     func(xmltree.Pos, string, ...any)
}

type pointer struct {
	id, group string
	pos       xmltree.Pos
}

// users reads one <users> element and returns the ids it lists.
func (r *domainReader) users(el *etree.Element, group string) []string {
	var ids []string
	for _, uel := range el.SelectElements("user") {
		id := uel.SelectAttrValue("id", "")
		pos := r.doc.Pos(uel)
		if id == "" {
			r.warn(pos, "<user> without an id is ignored")
			continue
		}
		ids = append(ids, id)
		if strings.EqualFold(uel.SelectAttrValue("type", ""), "pointer") {
			r.pointers = append(r.pointers, pointer{id: id, group: group, pos: pos})
			continue
		}
		key := strings.ToLower(id)
		if i, dup := r.index[key]; dup {
			r.warn(pos, "user %q of domain %q is also defined at %s; only the first is used", id, r.d.Name, r.d.Users[i].Pos)
			continue
		}
		u := User{
			ID:          id,
			Domain:      r.d.Name,
			NumberAlias: uel.SelectAttrValue("number-alias", ""),
			Cidr:        uel.SelectAttrValue("cidr", ""),
			Params:      nameValues(uel, "params", "param"),
			Variables:   nameValues(uel, "variables", "variable"),
			Pos:         pos,
		}
		if group != "" {
			u.Groups = []string{group}
		}
		r.index[key] = len(r.d.Users)
		r.d.Users = append(r.d.Users, u)
	}
	return ids
}

func (r *domainReader) resolvePointers() {
	for _, p := range r.pointers {
		i, ok := r.index[strings.ToLower(p.id)]
		if !ok {
			r.warn(p.pos, "group %q points to user %q, which domain %q does not define", p.group, p.id, r.d.Name)
			continue
		}
		if p.group != "" && !containsFold(r.d.Users[i].Groups, p.group) {
			r.d.Users[i].Groups = append(r.d.Users[i].Groups, p.group)
		}
	}
}

// nameValues collects <wrapper><item name= value=/></wrapper> children of
// el into a map; a later item of the same name wins, as it does when
// FreeSWITCH applies them in order.
func nameValues(el *etree.Element, wrapper, item string) map[string]string {
	m := map[string]string{}
	for _, w := range el.SelectElements(wrapper) {
		for _, it := range w.SelectElements(item) {
			if n := it.SelectAttrValue("name", ""); n != "" {
				m[n] = it.SelectAttrValue("value", "")
			}
		}
	}
	return m
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
