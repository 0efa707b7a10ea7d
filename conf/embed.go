package conf

import (
	"embed"
	"io/fs"
)

// defaultTree is the built-in configuration, conf/default in the source.
//
//go:embed default
var defaultTree embed.FS

// DefaultFS returns the embedded default configuration tree, rooted at the
// directory holding freeswitch.xml. It is what Load reads when no
// configuration directory is given, and what a tool copies to give a user
// a tree of their own to edit.
func DefaultFS() fs.FS {
	sub, err := fs.Sub(defaultTree, "default")
	if err != nil {
		panic("conf: embedded default tree: " + err.Error()) // cannot happen: the directory is embedded
	}
	return sub
}
