package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/switchboard-voip/switchboard/dialplan"
)

func runConvert(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("convert", stderr, "--to yaml|xml FILE")
	to := fs.String("to", "", "output form: yaml or xml")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) != 1 || (*to != "yaml" && *to != "xml") {
		fs.Usage()
		return exitUsage
	}
	name := pos[0]
	data, err := os.ReadFile(name)
	if err != nil {
		fmt.Fprintf(stderr, "switchboard convert: %v\n", err)
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
