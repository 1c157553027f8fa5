package oci

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// DefaultRoot is where container state lives without --root.
const DefaultRoot = "/run/glassbox"

// Globals are the flags before the command, as runc takes them.
type Globals struct {
	Root          string // --root: state directory
	Log           string // --log FILE
	LogFormat     string // --log-format text|json
	Debug         bool   // --debug
	SystemdCgroup bool   // --systemd-cgroup (accepted; glassbox makes no cgroups)
	Version       bool   // --version, -v
	Help          bool   // --help, -h

	log *logger
}

type globals = Globals

// ParseGlobals reads the global flags at the front of args and returns
// them with the rest (the command and its arguments).
func ParseGlobals(args []string) (*Globals, []string, error) {
	g := &Globals{Root: DefaultRoot, LogFormat: "text"}
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") {
			break
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		takes := func() (string, error) {
			if hasVal {
				return val, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("flag needs an argument: %s", a)
			}
			i++
			return args[i], nil
		}
		var err error
		switch name {
		case "root":
			g.Root, err = takes()
		case "log":
			g.Log, err = takes()
		case "log-format":
			g.LogFormat, err = takes()
		case "rootless", "criu":
			_, err = takes() // accepted, as runc's; nothing to do
		case "debug":
			g.Debug = !hasVal || val == "true"
		case "systemd-cgroup":
			g.SystemdCgroup = !hasVal || val == "true"
		case "version", "v":
			g.Version = true
		case "help", "h":
			g.Help = true
		default:
			return nil, nil, fmt.Errorf("unknown global flag %s", a)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	if g.Root == "" {
		g.Root = DefaultRoot
	}
	if g.Root == DefaultRoot && os.Geteuid() != 0 {
		// As runc without root: the user's own runtime directory.
		if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
			g.Root = filepath.Join(d, "glassbox")
		}
	}
	l, err := openLog(g.Log, g.LogFormat, g.Debug)
	if err != nil {
		return nil, nil, err
	}
	g.log = l
	return g, args[i:], nil
}

// Commands lists the OCI commands Main runs.
var Commands = []string{"create", "start", "state", "kill", "delete", "run", "exec", "ps", "list", "features", "spec", sandboxCmd, execHelperCmd, "pause", "resume", "events", "update", "checkpoint", "restore"}

// IsCommand reports whether Main runs name.
func IsCommand(name string) bool {
	for _, c := range Commands {
		if c == name {
			return true
		}
	}
	return false
}

// IsOCIRun tells the OCI runtime's `run [flags] ID` from glassbox' own
// `run [flags] [--] PROG [ARG...]`: it is the OCI one when an OCI-only
// flag is given, or when no `--` is given, one argument remains after
// the flags and the bundle (--bundle, else the current directory) holds
// a config.json.
func IsOCIRun(args []string) bool {
	bundle := "."
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return false
		}
		if !strings.HasPrefix(a, "-") {
			rest = append(rest, a)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch name {
		case "bundle", "b":
			if !hasVal && i+1 < len(args) {
				i++
				val = args[i]
			}
			bundle = val
			return true
		case "pid-file", "console-socket", "detach", "d", "no-pivot", "no-new-keyring", "preserve-fds", "keep", "no-subreaper":
			return true
		}
		if !hasVal && i+1 < len(args) && runFlagTakesValue(name) {
			i++
		}
	}
	if len(rest) != 1 {
		return false
	}
	_, err := os.Stat(bundle + "/config.json")
	return err == nil
}

// runFlagTakesValue lists glassbox run's flags that take a value, so
// IsOCIRun can skip it.
func runFlagTakesValue(name string) bool {
	switch name {
	case "root", "dir", "bind", "ro-bind", "volume", "uid", "gid", "env", "trace-out", "ui", "timeout",
		"trace-format", "memory", "swap", "publish", "name":
		return true
	}
	return false
}

// Main runs an OCI command (args[0] is its name) and returns the exit
// status. Errors go to stderr and, with --log, to the log.
func Main(g *Globals, args []string, stdout, stderr io.Writer) int {
	cmd := args[0]
	err := dispatch(g, cmd, args[1:], stdout, stderr)
	var ex exitCode
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ex):
		return int(ex)
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, Help(cmd))
		return 0
	}
	g.log.Errorf("%s", err)
	fmt.Fprintf(stderr, "glassbox: %s: %v\n", cmd, err)
	var ue usageErr
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

// exitCode is a status to exit with that is not a failure of glassbox
// (the container's or exec'd process's own).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// usageErr is bad command-line input (exit status 2).
type usageErr struct{ msg string }

func (e usageErr) Error() string { return e.msg }

func dispatch(g *Globals, cmd string, args []string, stdout, stderr io.Writer) error {
	switch cmd {
	case "create":
		return g.cmdCreate(args)
	case "start":
		return g.cmdStart(args)
	case "state":
		return g.cmdState(args, stdout)
	case "kill":
		return g.cmdKill(args)
	case "delete":
		return g.cmdDelete(args)
	case "run":
		return g.cmdRunOCI(args)
	case "exec":
		return g.cmdExec(args)
	case "ps":
		return g.cmdPs(args, stdout)
	case "list":
		return g.cmdList(args, stdout)
	case "features":
		return g.cmdFeatures(args, stdout)
	case "spec":
		return g.cmdSpec(args)
	case sandboxCmd:
		return g.cmdSandbox(args)
	case execHelperCmd:
		return g.cmdExecHelper(args)
	case "pause", "resume", "events", "update", "checkpoint", "restore":
		return fmt.Errorf("%s is not supported by glassbox", cmd)
	}
	return usageErr{fmt.Sprintf("unknown command %q", cmd)}
}

type flagSet = flag.FlagSet

// newFlags is a command's flag set: errors are returned, not printed.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFirst parses the flags before the first positional argument and
// returns the rest as they are (for exec and ps, whose trailing
// arguments belong to a program).
func parseFirst(fs *flag.FlagSet, args []string) ([]string, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usageErr{err.Error()}
	}
	return fs.Args(), nil
}

// parse parses args, allowing flags after positional arguments (runc's
// CLI does), up to a `--`.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageErr{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// oneID returns the single container id among pos.
func oneID(cmd string, pos []string) (string, error) {
	if len(pos) != 1 {
		return "", usageErr{fmt.Sprintf("%s takes exactly one container id", cmd)}
	}
	return pos[0], nil
}
