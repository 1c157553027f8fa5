package oci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"golang.org/x/sys/unix"

	"glassbox"
)

// sandboxCmd is the hidden command create starts: the sandbox process.
// It holds the sandbox (its kernel runs in this process), answers the
// control socket, and exits with the first process's status (128+N for
// a signal), so the engine that watches its pid sees the container's.
const sandboxCmd = "_sandbox"

func (g *globals) cmdSandbox(args []string) error {
	fs := newFlags(sandboxCmd)
	bundle := fs.String("bundle", "", "")
	console := fs.String("console-socket", "", "")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	id, err := oneID(sandboxCmd, pos)
	if err != nil {
		return err
	}
	unix.CloseOnExec(3) // not for the stub processes glassbox starts
	ready := os.NewFile(3, "ready")
	said := false
	say := func(m readyMsg) {
		if said {
			return
		}
		said = true
		b, _ := json.Marshal(m)
		ready.Write(b)
		ready.Close()
	}
	code, err := g.sandboxMain(id, *bundle, *console, func() { say(readyMsg{OK: true}) })
	if err != nil {
		g.log.Errorf("%v", err)
		say(readyMsg{Error: err.Error()})
		return exitCode(1)
	}
	if code != 0 {
		return exitCode(code)
	}
	return nil
}

// sandboxMain builds and holds the sandbox; ready is called once the
// control socket answers. It returns the first process's status.
func (g *globals) sandboxMain(id, bundle, console string, ready func()) (int, error) {
	signal.Ignore(unix.SIGPIPE)
	d, err := g.dir(id)
	if err != nil {
		return 0, err
	}
	spec, err := loadSpec(bundle)
	if err != nil {
		return 0, err
	}
	pl, err := plan(spec, bundle, g.log)
	if err != nil {
		return 0, err
	}
	cfg := pl.cfg
	cfg.Hold = true
	cfg.Log = g.log.Writer()
	cfg.PassTerminal = !pl.tty // no terminal asked for: stdio as given
	if pl.traceOut != "" {
		f, err := os.OpenFile(pl.traceOut, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return 0, fmt.Errorf("annotation org.glassbox.trace-out: %v", err)
		}
		defer f.Close()
		cfg.TraceOut = f
	}
	if pl.tty && console != "" {
		master, slave, err := openPTY()
		if err != nil {
			return 0, err
		}
		defer slave.Close()
		setSize(master, pl.size)
		if err := makeControlling(slave); err != nil {
			master.Close()
			return 0, err
		}
		err = sendConsole(console, master, slave.Name())
		master.Close()
		if err != nil {
			return 0, err
		}
		cfg.Stdin, cfg.Stdout, cfg.Stderr = slave, slave, slave
	}
	// Signals to the sandbox process go to the container's first process.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2)
	cfg.Signals = sigs
	s, err := glassbox.Start(context.Background(), cfg, pl.argv)
	if err != nil {
		return 0, startError(pl.argv[0], err)
	}
	sv, err := serve(d.path, s, cfg.Root, g.log)
	if err != nil {
		s.Signal(int(unix.SIGKILL), true)
		s.Wait()
		return 0, err
	}
	ready()
	st, _ := s.Wait()
	sv.close()
	return st.ShellCode(), nil
}

// startError words a program that could not be found as runc does
// (engines map it to status 127).
func startError(prog string, err error) error {
	var ge *glassbox.Error
	if errors.As(err, &ge) && ge.Op == prog && strings.Contains(ge.Error(), "command not found") {
		return fmt.Errorf("exec: %q: executable file not found in $PATH", prog)
	}
	return err
}
