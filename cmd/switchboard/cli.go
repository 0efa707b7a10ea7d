package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chzyer/readline"

	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/esl"
)

// runConsole is `switchboard cli`: an fs_cli-like console over the event
// socket.
func runConsole(args []string, stdout, stderr io.Writer) int {
	return runConsoleWith(args, os.Stdin, stdout, stderr)
}

// cliProfile is where and how the console connects.
type cliProfile struct {
	host     string
	port     int
	password string
	loglevel string
}

// cliSlashHelp lists the console's own commands.
const cliSlashHelp = `Command                    Description
-----------------------------------------------
/help                      Help
/exit, /quit, /bye, ...    Exit the program.
/event, /noevents, /nixevent Event commands.
/log, /nolog               Log commands.
/filter                    Filter commands.

Anything else is sent as an API command ("status", "show channels", ...).
`

// runConsoleWith is runConsole reading the console's input from stdin.
//
// Where to connect comes from, in order of precedence: the flags; the
// event_socket.conf of --conf DIR (its listen address and password, the
// way a local operator reaches a switch started with that
// configuration); the profile of ~/.fs_cli_conf named by the argument
// (or [default]), as fs_cli reads it; then 127.0.0.1:8021 and ClueCon.
func runConsoleWith(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("cli", stderr, "[flags] [profile]")
	host := fs.String("H", "", "host to connect to (default 127.0.0.1)")
	port := fs.Int("P", 0, "port to connect to (default 8021)")
	password := fs.String("p", "", "password (default ClueCon)")
	execute := fs.String("x", "", "run this API command, print its output and exit (1 if it answers -ERR)")
	loglevel := fs.String("l", "", "log level to stream: console, alert, crit, err, warning, notice, info, debug (default debug)")
	quiet := fs.Bool("q", false, "do not stream logs")
	confDir := fs.String("conf", "", "read the address and password from this configuration's event_socket.conf")
	timeout := fs.Duration("timeout", 0, "with -x: how long to wait for the answer (default: no limit)")
	history := fs.String("history", "", "history file (default: the state directory's cli_history; \"off\" keeps none)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) > 1 {
		fs.Usage()
		return exitUsage
	}
	prof := cliProfile{host: "127.0.0.1", port: esl.DefaultListenPort, password: esl.DefaultPassword, loglevel: "debug"}
	name := "default"
	if len(pos) == 1 {
		name = pos[0]
	}
	if home, err := os.UserHomeDir(); err == nil {
		found, err := readFSCLIConf(filepath.Join(home, ".fs_cli_conf"), name, &prof)
		if err != nil {
			fmt.Fprintf(stderr, "switchboard cli: %v\n", err)
			return exitError
		}
		if !found && len(pos) == 1 {
			fmt.Fprintf(stderr, "switchboard cli: no profile %q in ~/.fs_cli_conf\n", name)
			return exitUsage
		}
	}
	if *confDir != "" {
		if err := profileFromConf(*confDir, &prof); err != nil {
			fmt.Fprintf(stderr, "switchboard cli: %v\n", err)
			return exitError
		}
	}
	if *host != "" {
		prof.host = *host
	}
	if *port != 0 {
		prof.port = *port
	}
	if *password != "" {
		prof.password = *password
	}
	if *loglevel != "" {
		prof.loglevel = *loglevel
	}
	addr := net.JoinHostPort(prof.host, strconv.Itoa(prof.port))
	dialCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	cl, err := esl.Dial(dialCtx, addr, prof.password)
	cancel()
	if err != nil {
		fmt.Fprintf(stderr, "switchboard cli: cannot connect to %s: %v\n", addr, err)
		return exitError
	}
	defer cl.Close()

	if *execute != "" {
		ctx := context.Background()
		if *timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, *timeout)
			defer cancel()
		}
		out, err := cl.API(ctx, *execute)
		if err != nil {
			fmt.Fprintf(stderr, "switchboard cli: %v\n", err)
			return exitError
		}
		if out != "" && !strings.HasSuffix(out, "\n") {
			out += "\n"
		}
		if _, err := io.WriteString(stdout, out); err != nil {
			return exitError
		}
		if strings.HasPrefix(out, "-ERR") {
			return exitError
		}
		return exitOK
	}
	return cliConsole(cl, addr, prof, *quiet, *history, stdin, stdout, stderr)
}

// cliConsole is the interactive console.
func cliConsole(cl *esl.Client, addr string, prof cliProfile, quiet bool, history string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx := context.Background()
	names := commandNames(ctx, cl)
	if history == "" {
		history = filepath.Join(conf.DefaultStateDir(os.LookupEnv), "cli_history")
		_ = os.MkdirAll(filepath.Dir(history), 0o750)
	} else if history == "off" {
		history = ""
	}
	rc, ok := stdin.(io.ReadCloser)
	if !ok {
		rc = io.NopCloser(stdin)
	}
	rl, err := readline.NewEx(&readline.Config{
		Prompt:          "switchboard@" + addr + "> ",
		HistoryFile:     history,
		AutoComplete:    &cliCompleter{names: names},
		InterruptPrompt: "^C",
		EOFPrompt:       "/exit",
		Stdin:           rc,
		Stdout:          stdout,
		Stderr:          stderr,
	})
	if err != nil {
		fmt.Fprintf(stderr, "switchboard cli: %v\n", err)
		return exitError
	}
	defer rl.Close()
	out := &lockedOut{w: rl.Stdout()}
	fmt.Fprintf(out, "Connected to %s. Type /help for help, /exit to leave.\n", addr)
	if !quiet {
		if text, err := cl.Command(ctx, "log "+prof.loglevel); err != nil {
			fmt.Fprintln(out, text)
		}
	}
	lost := make(chan struct{})
	go func() {
		defer close(lost)
		for n := range cl.Notices() {
			printNotice(out, n)
			if n.ContentType() == "text/disconnect-notice" && n.Get("Content-Disposition") != "linger" {
				rl.Close() // ends Readline
				return
			}
		}
		rl.Close()
	}()
	for {
		line, err := rl.Readline()
		if errors.Is(err, readline.ErrInterrupt) {
			continue
		}
		if err != nil { // io.EOF (Ctrl-D), or the connection ended
			break
		}
		if done := cliLine(ctx, cl, strings.TrimSpace(line), out); done {
			break
		}
	}
	select {
	case <-lost:
		fmt.Fprintln(out, "Disconnected.")
	default:
	}
	return exitOK
}

// lockedOut serialises the console's output from the reader and the
// notice printer.
type lockedOut struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedOut) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// cliLine runs one console line and reports whether the console ends.
func cliLine(ctx context.Context, cl *esl.Client, line string, out io.Writer) bool {
	if line == "" {
		return false
	}
	if strings.HasPrefix(line, "/") || strings.HasPrefix(line, "...") {
		cmd := strings.TrimPrefix(line, "/")
		word, _, _ := strings.Cut(cmd, " ")
		switch strings.ToLower(word) {
		case "help":
			fmt.Fprint(out, cliSlashHelp)
		case "exit", "quit", "bye", "...":
			fmt.Fprintln(out, "Goodbye!")
			return true
		case "event", "noevents", "nixevent", "log", "nolog", "filter":
			p, err := cl.Send(ctx, cmd, nil, "")
			if err != nil {
				fmt.Fprintln(out, err)
				return true
			}
			fmt.Fprintln(out, p.ReplyText())
		default:
			fmt.Fprintf(out, "Unknown command [%s]\n", cmd)
		}
		return false
	}
	// fs_cli turns the console's log level command into a log stream
	// change too.
	if lvl, ok := strings.CutPrefix(line, "console loglevel "); ok {
		if p, err := cl.Send(ctx, "log "+lvl, nil, ""); err == nil {
			fmt.Fprintln(out, p.ReplyText())
		}
	}
	p, err := cl.Send(ctx, "api "+line, nil, "")
	if err != nil {
		fmt.Fprintln(out, err)
		return true
	}
	if p.ContentType() != "api/response" {
		fmt.Fprintf(out, "Error: %s!\n", strings.TrimSpace(strings.TrimPrefix(p.ReplyText(), "-ERR")))
		return false
	}
	body := p.Body
	if !strings.HasSuffix(body, "\n") {
		body += "\n"
	}
	fmt.Fprint(out, body)
	return false
}

// printNotice shows a log line, an event or a disconnect notice.
func printNotice(out io.Writer, n *esl.Packet) {
	switch ct := n.ContentType(); {
	case ct == "log/data":
		fmt.Fprint(out, n.Body)
	case strings.HasPrefix(ct, "text/event-"):
		fmt.Fprintf(out, "RECV EVENT\n%s\n", n.Body)
	case ct == "text/disconnect-notice":
		if n.Body != "" {
			fmt.Fprint(out, n.Body)
		} else {
			fmt.Fprintf(out, "Channel %s hung up (lingering)\n", n.Get("Channel-Name"))
		}
	}
}

// commandNames asks the server for its API commands (show api as json)
// for tab completion, plus the console's own commands.
func commandNames(ctx context.Context, cl *esl.Client) []string {
	names := []string{"/help", "/exit", "/quit", "/bye", "/event", "/noevents", "/nixevent", "/log", "/nolog", "/filter"}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	body, err := cl.API(ctx, "show api as json")
	if err == nil {
		var res struct {
			Rows []struct {
				Name string `json:"name"`
			} `json:"rows"`
		}
		if json.Unmarshal([]byte(body), &res) == nil {
			for _, r := range res.Rows {
				names = append(names, r.Name)
			}
		}
	}
	sort.Strings(names)
	return names
}

// cliCompleter completes the first word of a line: API command names and
// the console's own commands.
type cliCompleter struct {
	names []string
}

// Do returns the completions of the word before pos, when it is the
// line's first word.
func (c *cliCompleter) Do(line []rune, pos int) ([][]rune, int) {
	head := string(line[:pos])
	if strings.ContainsAny(head, " \t") {
		return nil, 0
	}
	var out [][]rune
	for _, n := range c.names {
		if strings.HasPrefix(n, head) {
			out = append(out, []rune(n[len(head):]+" "))
		}
	}
	return out, len([]rune(head))
}

// readFSCLIConf reads the profile name of fs_cli's configuration file
// (sections "[name]" with "key => value" lines; host, port, password and
// loglevel are used) into p. found is false when the file or the section
// does not exist.
func readFSCLIConf(path, name string, p *cliProfile) (found bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	section := ""
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = strings.TrimSpace(line[1 : len(line)-1])
			found = found || section == name
			continue
		}
		if section != name {
			continue
		}
		key, value, ok := strings.Cut(line, "=>")
		if !ok {
			key, value, ok = strings.Cut(line, "=")
		}
		if !ok {
			return found, fmt.Errorf("%s:%d: want key => value", path, n)
		}
		key, value = strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(value)
		switch key {
		case "host":
			p.host = value
		case "port":
			if v, err := strconv.Atoi(value); err == nil && v > 0 {
				p.port = v
			}
		case "password":
			p.password = value
		case "loglevel":
			p.loglevel = value
		}
	}
	return found, sc.Err()
}

// profileFromConf takes the address and password of a configuration's
// event_socket.conf; a wildcard listen address is reached on loopback.
func profileFromConf(dir string, p *cliProfile) error {
	snap, err := conf.Load(conf.Options{Dir: dir})
	if err != nil {
		return err
	}
	s, err := esl.SettingsFromSnapshot(snap)
	if err != nil {
		return err
	}
	switch s.ListenIP {
	case "", "::", "0.0.0.0":
		p.host = "127.0.0.1"
	default:
		p.host = s.ListenIP
	}
	if s.ListenPort != 0 {
		p.port = s.ListenPort
	}
	p.password = s.Password
	return nil
}
