package main

import (
	"io/fs"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/media"
)

// localStreamConfigs reads local_stream.conf: each <directory name path>
// with its rate and shuffle params. Paths resolve through the
// configuration (so the embedded tree's music works too).
func localStreamConfigs(snap *conf.Snapshot, log *slog.Logger) []media.LocalStreamConfig {
	root := snap.Configuration("local_stream.conf")
	if root == nil {
		return nil
	}
	var out []media.LocalStreamConfig
	for _, d := range root.FindElements(".//directory") {
		name, dir := d.SelectAttrValue("name", ""), d.SelectAttrValue("path", "")
		if name == "" || dir == "" {
			log.Warn("local_stream.conf: a directory needs a name and a path", "name", name, "path", dir)
			continue
		}
		c := media.LocalStreamConfig{
			Name:    name,
			Dir:     strings.TrimRight(dir, "/"),
			ReadDir: func(dir string) ([]fs.DirEntry, error) { return snapReadDir(snap, dir) },
			Open:    snap.Open,
		}
		for _, p := range d.SelectElements("param") {
			v := p.SelectAttrValue("value", "")
			switch strings.ToLower(p.SelectAttrValue("name", "")) {
			case "rate":
				c.Rate, _ = strconv.Atoi(v)
			case "shuffle":
				c.Shuffle = caller.True(v)
			}
		}
		out = append(out, c)
	}
	return out
}

// snapReadDir lists a directory the configuration names, resolved as
// Snapshot.Open resolves files.
func snapReadDir(snap *conf.Snapshot, dir string) ([]fs.DirEntry, error) {
	if rel, ok := snap.Rel(dir); ok {
		return fs.ReadDir(snap.FS(), rel)
	}
	return os.ReadDir(dir)
}
