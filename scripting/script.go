package scripting

import (
	"errors"
	"strings"

	"github.com/switchboard-voip/switchboard/vars"
)

// Script is a script command line as FreeSWITCH's mod_lua reads it
// (lua_parse_and_execute): either inline code or a file with arguments.
type Script struct {
	// Inline is true for "~<code>" and "#!/lua<code>"; Code is the code.
	Inline bool
	Code   string
	// File is the script's name as written (before ResolvePath) and Args
	// its arguments: the script's argv[0] and argv[1..].
	File string
	Args []string
}

// ErrNoCode is returned by ParseScript for an empty command line.
var ErrNoCode = errors.New("No code to execute!")

// maxArgs is how many arguments a script gets at most (mod_lua's argv
// array); further text stays in the last one.
const maxArgs = 128

// ParseScript reads a command line: leading spaces and line breaks are
// skipped; "~code" and "#!/lua code" (any case) are inline code;
// anything else is "file [args]", the arguments split at spaces with
// '...' quoting and backslash escapes as application data is split
// (vars.Separate).
func ParseScript(line string) (Script, error) {
	line = strings.TrimLeft(line, " \r\n")
	switch {
	case line == "":
		return Script{}, ErrNoCode
	case line[0] == '~':
		return Script{Inline: true, Code: line[1:]}, nil
	case len(line) >= 6 && strings.EqualFold(line[:6], "#!/lua"):
		return Script{Inline: true, Code: line[6:]}, nil
	}
	file, rest, _ := strings.Cut(line, " ")
	return Script{File: file, Args: vars.Separate(rest, ' ', maxArgs)}, nil
}

// ResolvePath returns the file a script name designates, as FreeSWITCH
// does: a name that starts with '/' (after any {var=value} prefixes) or
// contains "://" is used as written; any other is taken relative to
// scriptDir (the script_dir global) with a "/" between them.
func ResolvePath(name, scriptDir string) string {
	if isFilePath(name) {
		return name
	}
	if scriptDir == "" {
		return name
	}
	if strings.HasSuffix(scriptDir, "/") {
		return scriptDir + name
	}
	return scriptDir + "/" + name
}

// isFilePath is switch_is_file_path on a Unix build.
func isFilePath(name string) bool {
	s := name
	for strings.HasPrefix(s, "{") {
		end := strings.IndexByte(s, '}')
		if end < 0 {
			break
		}
		s = strings.TrimLeft(s[end+1:], " ")
	}
	return strings.HasPrefix(s, "/") || strings.Contains(s, "://")
}

// ChunkName is the name a script's errors and tracebacks carry, as Lua
// names a chunk loaded from a file: the resolved path for a file, "line"
// for inline code (as mod_lua names it).
func ChunkName(sc Script, resolved string) string {
	switch {
	case sc.Inline:
		return "line"
	case resolved != "":
		return resolved
	}
	return sc.File
}
