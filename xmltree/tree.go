package xmltree

import (
	"github.com/beevik/etree"
)

// Line is one line of preprocessed configuration text and the original
// position it came from.
type Line struct {
	Text string
	Pos  Pos
}

// Document is a parsed configuration tree whose elements know their source
// positions.
type Document struct {
	Doc *etree.Document
	pos map[*etree.Element]Pos
}

// Root returns the document element, or nil for an empty document.
func (d *Document) Root() *etree.Element { return d.Doc.Root() }

// Pos returns where e started in the original files (zero Pos if e did not
// come from this document's parse).
func (d *Document) Pos(e *etree.Element) Pos { return d.pos[e] }

// SetPos records a position for e (used by code that builds documents).
func (d *Document) SetPos(e *etree.Element, p Pos) {
	if d.pos == nil {
		d.pos = make(map[*etree.Element]Pos)
	}
	d.pos[e] = p
}
