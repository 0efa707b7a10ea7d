package commands

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/vars"
)

// showUsage is FreeSWITCH's syntax string for `show`, printed for a report
// it does not know.
const showUsage = "codec|endpoint|application|api|dialplan|file|timer|calls [count]|channels [count|like <match string>]|calls|detailed_calls|bridged_calls|detailed_bridged_calls|aliases|complete|chat|management|modules|nat_map|say|interfaces|interface_types|tasks|limits|status"

func init() {
	Register(Command{Name: "show", Usage: showUsage, Description: "Show various reports", Run: show})
	Register(Command{Name: "help", Usage: "", Description: "Show help for all the api commands", Run: help})
}

// Table is a report `show` prints: named columns and rows of values, one
// value per column.
type Table struct {
	Columns []string
	Rows    [][]string
	// CountOnly makes the report a count of Count rows (`show channels
	// count`): "N total." alone, {"row_count":N,"rows":[]} as json,
	// <result row_count="N"/> as xml. Columns and Rows are ignored.
	CountOnly bool
	Count     int
}

// ShowFunc builds the report `show <name> [args...]` prints. args are the
// words after the report's name, without a trailing "as <format>
// [<delimiter>]", which `show` handles for every report.
type ShowFunc func(ctx context.Context, env Env, args []string) (*Table, error)

// showReports holds the reports registered with RegisterShow, keyed by
// lower-case name.
var showReports = struct {
	sync.RWMutex
	m map[string]ShowFunc
}{m: make(map[string]ShowFunc)}

// RegisterShow adds a report to `show`, such as "channels". It is meant to
// be called from init() and panics on an empty or duplicate name (ignoring
// case), on a name `show` implements itself, and on a nil f.
func RegisterShow(name string, f ShowFunc) {
	k := strings.ToLower(name)
	switch {
	case k == "" || strings.ContainsAny(k, " \t\r\n\v"):
		panic(fmt.Sprintf("commands: RegisterShow(%q): bad report name", name))
	case f == nil:
		panic(fmt.Sprintf("commands: RegisterShow(%q) with a nil function", name))
	case k == "application" || k == "api" || strings.HasPrefix(k, "help") || strings.HasPrefix(k, "status"):
		panic(fmt.Sprintf("commands: RegisterShow(%q): show implements this report itself", name))
	}
	showReports.Lock()
	defer showReports.Unlock()
	if _, dup := showReports.m[k]; dup {
		panic(fmt.Sprintf("commands: show report %q registered twice", name))
	}
	showReports.m[k] = f
}

func lookupShow(name string) (ShowFunc, bool) {
	showReports.RLock()
	defer showReports.RUnlock()
	f, ok := showReports.m[strings.ToLower(name)]
	return f, ok
}

// fsReports are the reports FreeSWITCH's show knows (matched, as there, by
// prefix) that Switchboard does not implement unless one is registered.
var fsReports = []string{
	"codec", "dialplan", "file", "timer", "chat", "limit", "say", "management", "endpoint",
	"module", "interfaces", "interface_types", "tasks", "aliases", "complete", "nat_map",
	"calls", "registrations", "channels", "detailed_calls", "bridged_calls", "detailed_bridged_calls",
}

// show is `show <report> [<name>] [as delim|csv|json|xml [<delimiter>]]`.
//
// Implemented reports: application and api (name, description, syntax,
// ikey of every registered application or command that has a description,
// or only the one called <name>), status (runs the status command), help
// (what `help` prints), and those added with RegisterShow. The others
// FreeSWITCH knows answer "-ERR show <report> is not supported\n"; an
// unknown report gets FreeSWITCH's usage text.
//
// Formats, as FreeSWITCH prints them: delim (the default; a header line,
// one line per row with values joined by "," or the given delimiter, then
// a blank line and "N total."), csv (the same), json
// ({"row_count":N,"rows":[{...}]}) and xml (<result row_count="N"> with one
// <row row_id="i"> per row).
func show(ctx context.Context, env Env, args string) (string, error) {
	argv := vars.Separate(args, ' ', 6)
	if len(argv) == 0 {
		return "-USAGE: " + showUsage + "\n", nil
	}
	for len(argv) < 4 {
		argv = append(argv, "")
	}
	report := argv[0]
	format, delim := "", ""
	if argv[2] != "" && strings.EqualFold(argv[1], "as") {
		format = argv[2]
	}
	lower := strings.ToLower(report)
	var (
		tab   *Table
		title = true
		total = true
	)
	switch {
	case strings.HasPrefix(lower, "status"):
		// FreeSWITCH forwards "show status" to the status command.
		arg := format
		if arg == "" {
			arg = argv[1]
		}
		out, _ := ExecuteStream(ctx, env, report, arg)
		return out, nil
	case lower == "application" || lower == "api":
		name := ""
		if argv[1] != "" && !strings.EqualFold(argv[1], "as") {
			name = argv[1]
		}
		if lower == "api" {
			tab = apiTable(name)
		} else {
			tab = applicationTable(name)
		}
	case strings.HasPrefix(lower, "help"):
		name := ""
		if argv[1] != "" && !strings.EqualFold(argv[1], "as") {
			name = argv[1]
		}
		tab, title, total = helpTable(name), false, false
	default:
		f, ok := lookupShow(report)
		if !ok {
			for _, r := range fsReports {
				if strings.HasPrefix(lower, r) {
					return "-ERR show " + report + " is not supported\n", nil
				}
			}
			return "-USAGE: " + showUsage + "\n", nil
		}
		rest, fmtArgs := splitAs(reportWords(args))
		format = "delim"
		if len(fmtArgs) > 0 {
			format = fmtArgs[0]
		}
		if len(fmtArgs) > 1 {
			delim = fmtArgs[1]
		}
		var err error
		if tab, err = f(ctx, env, rest); err != nil {
			if errors.Is(err, errNoCore) {
				return needs("show " + report), nil
			}
			return "", fmt.Errorf("%s: %w", report, err)
		}
		if tab == nil {
			tab = &Table{}
		}
		return render(tab, format, delim, true, true), nil
	}
	if format == "" {
		format, delim = "delim", ","
	} else if delim == "" {
		delim = argv[3]
	}
	out := render(tab, format, delim, title, total)
	if !total && len(tab.Rows) == 0 && isDelim(format) {
		out += "-ERR No such command\n"
	}
	return out, nil
}

// reportWords splits a registered report's arguments, dropping the report name.
func reportWords(args string) []string {
	argv := vars.Separate(args, ' ', 0)
	return argv[1:]
}

// splitAs separates a trailing "as <format> [<delimiter>]" from words.
func splitAs(words []string) (rest, format []string) {
	for i := len(words) - 2; i >= 0 && i >= len(words)-3; i-- {
		if strings.EqualFold(words[i], "as") {
			return words[:i], words[i+1:]
		}
	}
	return words, nil
}

func isDelim(format string) bool {
	return strings.EqualFold(format, "delim") || strings.EqualFold(format, "csv")
}

// applicationTable lists the registered applications that have a
// description (or only the one called name, compared exactly).
func applicationTable(name string) *Table {
	t := &Table{Columns: []string{"name", "description", "syntax", "ikey"}}
	for _, a := range apps.List() {
		if a.Description == "" || name != "" && a.Name != name {
			continue
		}
		t.Rows = append(t.Rows, []string{a.Name, a.Description, a.Usage, appModule(a.Name)})
	}
	return t
}

// apiTable lists the registered commands that have a description (or only
// the one called name, compared exactly).
func apiTable(name string) *Table {
	t := &Table{Columns: []string{"name", "description", "syntax", "ikey"}}
	for _, c := range List() {
		if c.Description == "" || name != "" && c.Name != name {
			continue
		}
		t.Rows = append(t.Rows, []string{c.Name, c.Description, c.Usage, c.Module})
	}
	return t
}

// helpTable lists every registered command (or the one called name) as
// `help` shows it: name, syntax, description, module.
func helpTable(name string) *Table {
	t := &Table{Columns: []string{"name", "syntax", "description", "ikey"}}
	for _, c := range List() {
		if name != "" && c.Name != name {
			continue
		}
		t.Rows = append(t.Rows, []string{c.Name, c.Usage, c.Description, c.Module})
	}
	return t
}

// appModule is the FreeSWITCH module of a registered application: the one
// the catalogue names, or "switchboard" for an application FreeSWITCH
// does not have.
func appModule(name string) string {
	if i, ok := apps.KnownApp(name); ok {
		return i.Module
	}
	return "switchboard"
}

// help is `help [<command>]`: every command's name, syntax, description
// and module, one per line after a "Valid Commands:" heading; or just the
// named command's line (without the heading), or "-ERR No such command\n".
//
// Deviation: FreeSWITCH's `help <command>` ignores the name and lists
// every command, without the heading.
func help(ctx context.Context, env Env, args string) (string, error) {
	if args == "" {
		out, err := show(ctx, env, "help")
		return "\nValid Commands:\n\n" + out, err
	}
	return show(ctx, env, "help "+args)
}

// render prints t in format ("delim", "csv", "json" or "xml", ignoring
// case) as FreeSWITCH's show does. title adds the header line of the
// delimited form (when there are rows) and total its "N total." trailer.
func render(t *Table, format, delim string, title, total bool) string {
	if t.CountOnly {
		return renderCount(t.Count, format)
	}
	var b strings.Builder
	switch {
	case isDelim(format):
		if delim == "" {
			delim = ","
		}
		if title && len(t.Rows) > 0 {
			b.WriteString(strings.Join(t.Columns, delim))
			b.WriteByte('\n')
		}
		for _, r := range t.Rows {
			b.WriteString(strings.Join(r, delim))
			b.WriteByte('\n')
		}
		if total {
			fmt.Fprintf(&b, "\n%d total.\n", len(t.Rows))
		}
	case strings.EqualFold(format, "json"):
		if len(t.Rows) == 0 {
			return "{\"row_count\": 0}\n"
		}
		b.WriteString(`{"row_count":`)
		b.WriteString(strconv.Itoa(len(t.Rows)))
		b.WriteString(`,"rows":[`)
		for i, r := range t.Rows {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('{')
			for j, col := range t.Columns {
				if j > 0 {
					b.WriteByte(',')
				}
				writeJSONString(&b, col)
				b.WriteByte(':')
				writeJSONString(&b, cell(r, j))
			}
			b.WriteByte('}')
		}
		b.WriteString("]}")
	case strings.EqualFold(format, "xml"):
		if len(t.Rows) == 0 {
			return "<result row_count=\"0\"/>\n"
		}
		fmt.Fprintf(&b, "<result row_count=\"%d\">\n", len(t.Rows))
		for i, r := range t.Rows {
			fmt.Fprintf(&b, "  <row row_id=\"%d\">\n", i+1)
			for j, col := range t.Columns {
				v := cell(r, j)
				b.WriteString("    <" + col + ">")
				writeXMLText(&b, v)
				if strings.HasSuffix(v, "\n") {
					// FreeSWITCH indents a closing tag that starts a line.
					b.WriteString("    ")
				}
				b.WriteString("</" + col + ">\n")
			}
			b.WriteString("  </row>\n")
		}
		b.WriteString("</result>\n")
	default:
		return "-ERR Cannot find format " + format + "\n"
	}
	return b.String()
}

// renderCount prints a count report as FreeSWITCH's show prints the
// result of its count(*) queries.
func renderCount(n int, format string) string {
	switch {
	case isDelim(format):
		return fmt.Sprintf("\n%d total.\n", n)
	case strings.EqualFold(format, "json"):
		return fmt.Sprintf(`{"row_count":%d,"rows":[]}`, n)
	case strings.EqualFold(format, "xml"):
		return fmt.Sprintf("<result row_count=\"%d\"/>\n", n)
	}
	return "-ERR Cannot find format " + format + "\n"
}

func cell(row []string, i int) string {
	if i < len(row) {
		return row[i]
	}
	return ""
}

// writeJSONString writes s as cJSON prints a string: '"', '\\' and the
// control characters escaped, everything else (non-ASCII included) as it
// is.
func writeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < 0x20 {
				fmt.Fprintf(b, `\u%04x`, c)
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
}

// writeXMLText writes element text as FreeSWITCH's XML printer does: &, <
// and > as entities, CR as &#xD;, non-ASCII characters as &#xHEX;
// references, and the rest as it is. As there, "<!" starts a run copied
// verbatim, and bytes that are not valid UTF-8 are dropped.
func writeXMLText(b *strings.Builder, s string) {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '<' && i+1 < len(s) && s[i+1] == '!':
			b.WriteString(s[i:])
			return
		case c == '&':
			b.WriteString("&amp;")
		case c == '<':
			b.WriteString("&lt;")
		case c == '>':
			b.WriteString("&gt;")
		case c == '\r':
			b.WriteString("&#xD;")
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || n > 1 {
				fmt.Fprintf(b, "&#x%X;", r)
			}
			i += n
			continue
		default:
			b.WriteByte(c)
		}
		i++
	}
}
