package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/switchboard-voip/switchboard/conf/preprocess"
	"github.com/switchboard-voip/switchboard/dialplan"
	"github.com/switchboard-voip/switchboard/xmltree"
)

func runConvert(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("convert", stderr, "--to yaml|xml FILE")
	to := fs.String("to", "", "output form: yaml or xml")
	// --set is accepted as by every subcommand, but convert keeps $${var}
	// references as written, so there is nothing to apply it to.
	var set setFlags
	set.register(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) != 1 || (*to != "yaml" && *to != "xml") {
		fs.Usage()
		return exitUsage
	}
	name := pos[0]
	data, err := readLimited(name, preprocess.DefaultMaxFileSize)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitError
	}
	var f *dialplan.File
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml":
		f, err = dialplan.ParseYAML(name, data)
	default:
		f, err = dialplan.ParseXMLFile(name, data)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitError
	}
	var out bytes.Buffer
	if *to == "yaml" {
		err = dialplan.WriteYAML(&out, f)
	} else {
		err = dialplan.WriteXML(&out, f)
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return exitError
	}
	if _, err := stdout.Write(out.Bytes()); err != nil {
		return exitError
	}
	return exitOK
}

// readLimited reads the file name, refusing one larger than limit bytes
// without reading it all: the loader refuses such a file too, and
// converting it would take far more memory than its size.
func readLimited(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("switchboard convert: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, xmltree.Errorf(xmltree.Pos{File: name}, "is a directory, not a dialplan file")
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("switchboard convert: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, xmltree.Errorf(xmltree.Pos{File: name}, "file is larger than %d bytes", limit)
	}
	return data, nil
}
