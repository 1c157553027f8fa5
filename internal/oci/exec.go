package oci

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// execHelperCmd is the hidden command `exec --detach` leaves behind: it
// holds the exec'd process's connection and exits with its status, so
// the engine watching its pid (written to --pid-file) sees the process's.
const execHelperCmd = "_exec"

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func (g *globals) cmdExec(args []string) error {
	fs := newFlags("exec")
	var (
		processFile, console, pidFile, cwd, user string
		tty, detach, noNewPrivs                  bool
		env, gids, caps                          stringList
	)
	fs.StringVar(&processFile, "process", "", "")
	fs.StringVar(&processFile, "p", "", "")
	fs.StringVar(&console, "console-socket", "", "")
	fs.StringVar(&pidFile, "pid-file", "", "")
	fs.StringVar(&cwd, "cwd", "", "")
	fs.StringVar(&user, "user", "", "")
	fs.StringVar(&user, "u", "", "")
	fs.BoolVar(&tty, "tty", false, "")
	fs.BoolVar(&tty, "t", false, "")
	fs.BoolVar(&detach, "detach", false, "")
	fs.BoolVar(&detach, "d", false, "")
	fs.BoolVar(&noNewPrivs, "no-new-privs", false, "")
	fs.Var(&env, "env", "")
	fs.Var(&env, "e", "")
	fs.Var(&gids, "additional-gids", "")
	fs.Var(&gids, "g", "")
	fs.Var(&caps, "cap", "")
	fs.Var(&caps, "c", "")
	for _, ignored := range []string{"process-label", "apparmor", "cgroup"} {
		fs.String(ignored, "", "")
	}
	fs.Int("preserve-fds", 0, "")
	fs.Bool("ignore-paused", false, "")
	pos, err := parseFirst(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageErr{"exec takes a container id and a command (or --process FILE)"}
	}
	id, argv := pos[0], pos[1:]
	if len(argv) > 0 && argv[0] == "--" {
		argv = argv[1:]
	}
	d, err := g.dir(id)
	if err != nil {
		return err
	}
	r, err := d.load()
	if err != nil {
		return err
	}
	if r.current().Status == specs.StateStopped {
		return errors.New("cannot exec in a stopped container")
	}
	var proc specs.Process
	if processFile != "" {
		b, err := os.ReadFile(processFile)
		if err != nil {
			return fmt.Errorf("--process: %v", err)
		}
		if err := json.Unmarshal(b, &proc); err != nil {
			return fmt.Errorf("--process %s: %v", processFile, err)
		}
	} else {
		// As runc: the container's own process, with the command and
		// the flags over it.
		if r.Base != nil {
			proc = *r.Base
			proc.Env = append([]string(nil), r.Base.Env...)
		}
		proc.Args = argv
		proc.Env = append(proc.Env, env...)
		proc.Terminal = tty
		proc.ConsoleSize = nil
		if cwd != "" {
			proc.Cwd = cwd
		}
		if user != "" {
			u, gs, ok := strings.Cut(user, ":")
			uid, err := strconv.ParseUint(u, 10, 32)
			if err != nil {
				return usageErr{fmt.Sprintf("--user %q: want UID[:GID]", user)}
			}
			proc.User.UID = uint32(uid)
			if ok {
				gid, err := strconv.ParseUint(gs, 10, 32)
				if err != nil {
					return usageErr{fmt.Sprintf("--user %q: want UID[:GID]", user)}
				}
				proc.User.GID = uint32(gid)
			}
		}
		for _, gs := range gids {
			gid, err := strconv.ParseUint(gs, 10, 32)
			if err != nil {
				return usageErr{fmt.Sprintf("--additional-gids %q: want a number", gs)}
			}
			proc.User.AdditionalGids = append(proc.User.AdditionalGids, uint32(gid))
		}
		proc.NoNewPrivileges = proc.NoNewPrivileges || noNewPrivs
		if len(caps) > 0 {
			// As runc: each --cap joins the bounding, effective and
			// permitted sets.
			if proc.Capabilities == nil {
				proc.Capabilities = &specs.LinuxCapabilities{}
			}
			pc := proc.Capabilities
			pc.Bounding = append(pc.Bounding, caps...)
			pc.Effective = append(pc.Effective, caps...)
			pc.Permitted = append(pc.Permitted, caps...)
		}
	}
	if len(proc.Args) == 0 {
		return usageErr{"exec: no command given"}
	}
	if proc.Terminal && console == "" && detach {
		return errors.New("cannot allocate a terminal without --console-socket when detached")
	}
	if !proc.Terminal && console != "" {
		return errors.New("--console-socket given without a terminal (--tty or process.terminal)")
	}
	if detach {
		return g.execDetached(id, &proc, console, pidFile)
	}
	if pidFile != "" {
		if err := writeAtomic(pidFile, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
			return fmt.Errorf("--pid-file: %v", err)
		}
	}
	code, err := execClient(d.path, &proc, console, false, nil)
	if err != nil {
		return err
	}
	if code != 0 {
		return exitCode(code)
	}
	return nil
}

// execDetached leaves a helper process holding the exec'd process's
// connection and writes its pid to pidFile.
func (g *globals) execDetached(id string, proc *specs.Process, console, pidFile string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	procR, procW, err := os.Pipe()
	if err != nil {
		return err
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		procR.Close()
		procW.Close()
		return err
	}
	defer readyR.Close()
	args := append(g.args(), execHelperCmd)
	if console != "" {
		args = append(args, "--console-socket", console)
	}
	cmd := exec.Command(self, append(args, id)...)
	if !proc.Terminal || console == "" {
		// The process's stdio (a terminal process gets the pty, and the
		// helper keeps none of ours open).
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	}
	cmd.ExtraFiles = []*os.File{procR, readyW} // fds 3 and 4
	// Its own session, so a terminal it gets becomes its controlling
	// one (and its window-size changes reach it).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	procR.Close()
	readyW.Close()
	if err != nil {
		procW.Close()
		return err
	}
	json.NewEncoder(procW).Encode(proc)
	procW.Close()
	var ready readyMsg
	b, _ := io.ReadAll(readyR)
	if err := json.Unmarshal(b, &ready); err != nil || !ready.OK {
		cmd.Process.Kill()
		cmd.Wait()
		if ready.Error == "" {
			ready.Error = "the exec helper ended before the process started"
		}
		return errors.New(ready.Error)
	}
	if pidFile != "" {
		if err := writeAtomic(pidFile, []byte(strconv.Itoa(cmd.Process.Pid)), 0o644); err != nil {
			cmd.Process.Kill()
			return fmt.Errorf("--pid-file: %v", err)
		}
	}
	cmd.Process.Release()
	return nil
}

func (g *globals) cmdExecHelper(args []string) error {
	fs := newFlags(execHelperCmd)
	console := fs.String("console-socket", "", "")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	id, err := oneID(execHelperCmd, pos)
	if err != nil {
		return err
	}
	// The helper leads a session whose controlling terminal is the
	// process's pty: a hangup of it (the engine closing the master, or
	// our own close after a failure) must not end the helper. Once the
	// process runs, SIGHUP is forwarded to it (execClient).
	signal.Ignore(unix.SIGHUP)
	unix.CloseOnExec(3)
	unix.CloseOnExec(4)
	procIn, ready := os.NewFile(3, "process"), os.NewFile(4, "ready")
	said := false
	say := func(m readyMsg) {
		if !said {
			said = true
			b, _ := json.Marshal(m)
			ready.Write(b)
			ready.Close()
		}
	}
	var proc specs.Process
	err = json.NewDecoder(procIn).Decode(&proc)
	procIn.Close()
	d, derr := g.dir(id)
	if err == nil {
		err = derr
	}
	code := 0
	if err == nil {
		code, err = execClient(d.path, &proc, *console, true, func(pid int) { say(readyMsg{OK: true, PID: pid}) })
	}
	if err != nil {
		if said {
			return err // after the start: nobody else reports it
		}
		say(readyMsg{Error: err.Error()}) // exec --detach reports it
		return exitCode(1)
	}
	if code != 0 {
		return exitCode(code)
	}
	return nil
}

// execClient asks the sandbox process in dir to start proc with this
// process's stdio (or, with a terminal, a new pty whose master goes to
// the console socket, or this process's own terminal), forwards
// signals and window-size changes to it, and returns its status.
// leader says this process leads its own session (the detached helper).
func execClient(dir string, proc *specs.Process, console string, leader bool, started func(pid int)) (int, error) {
	stdio := [3]*os.File{os.Stdin, os.Stdout, os.Stderr}
	for i, f := range stdio {
		if _, err := unix.FcntlInt(f.Fd(), unix.F_GETFD, 0); err != nil {
			null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
			if err != nil {
				return 0, err
			}
			defer null.Close()
			stdio[i] = null
		}
	}
	if proc.Terminal && console != "" {
		master, slave, err := openPTY()
		if err != nil {
			return 0, err
		}
		defer slave.Close()
		setSize(master, proc.ConsoleSize)
		if leader {
			makeControlling(slave) // so its SIGWINCH comes here
		}
		err = sendConsole(console, master, slave.Name())
		master.Close()
		if err != nil {
			return 0, err
		}
		stdio = [3]*os.File{slave, slave, slave}
	}
	c, err := dial(dir)
	if err != nil {
		return 0, fmt.Errorf("the sandbox process does not answer: %v", err)
	}
	defer c.c.Close()
	if err := c.send(request{Op: "exec", Process: proc}, int(stdio[0].Fd()), int(stdio[1].Fd()), int(stdio[2].Fd())); err != nil {
		return 0, err
	}
	var resp response
	if _, err := c.recv(&resp); err != nil {
		return 0, err
	}
	if !resp.OK {
		return 0, errors.New(resp.Error)
	}
	if started != nil {
		started(resp.PID)
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH)
	defer signal.Stop(sigs)
	go func() {
		for s := range sigs {
			if s == unix.SIGWINCH {
				c.send(request{Op: "resize"})
				continue
			}
			c.send(request{Op: "signal", Signal: int(s.(syscall.Signal))})
		}
	}()
	for {
		var r response
		if _, err := c.recv(&r); err != nil {
			return 0, errors.New("the sandbox ended before the process did")
		}
		if r.Exit != nil {
			return r.Exit.shellCode(), nil
		}
	}
}
