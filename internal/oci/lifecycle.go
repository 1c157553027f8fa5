package oci

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// createOpts are create's (and run's) flags.
type createOpts struct {
	bundle, pidFile, console string
	foreground               bool // run without --detach: the sandbox process stays in our process group
}

func createFlags(name string, o *createOpts) *flagSet {
	fs := newFlags(name)
	fs.StringVar(&o.bundle, "bundle", ".", "")
	fs.StringVar(&o.bundle, "b", ".", "")
	fs.StringVar(&o.pidFile, "pid-file", "", "")
	fs.StringVar(&o.console, "console-socket", "", "")
	fs.Bool("no-pivot", false, "")
	fs.Bool("no-new-keyring", false, "")
	fs.Int("preserve-fds", 0, "")
	return fs
}

func (g *globals) cmdCreate(args []string) error {
	var o createOpts
	pos, err := parse(createFlags("create", &o), args)
	if err != nil {
		return err
	}
	id, err := oneID("create", pos)
	if err != nil {
		return err
	}
	_, err = g.create(id, o)
	return err
}

// create makes container id from its bundle: the sandbox process is
// started and holds the first process before its first instruction;
// the state is "created". It returns the sandbox process (a child of
// this one until we exit).
func (g *globals) create(id string, o createOpts) (*exec.Cmd, error) {
	bundle, err := filepath.Abs(o.bundle)
	if err != nil {
		return nil, err
	}
	spec, err := loadSpec(bundle)
	if err != nil {
		return nil, err
	}
	pl, err := plan(spec, bundle, nil) // checked here; the sandbox process logs what it ignores
	if err != nil {
		return nil, err
	}
	if pl.tty && o.console == "" && !o.foreground {
		return nil, errors.New("cannot allocate a terminal without --console-socket")
	}
	if !pl.tty && o.console != "" {
		return nil, errors.New("--console-socket given but process.terminal is false")
	}
	d, err := g.dir(id)
	if err != nil {
		return nil, err
	}
	if err := d.create(); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			d.remove()
		}
	}()
	if err := d.lockDir(); err != nil {
		return nil, err
	}
	defer d.unlock()

	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	rd, wr, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	args := append(g.args(), sandboxCmd, "--bundle", bundle)
	if o.console != "" {
		args = append(args, "--console-socket", o.console)
	}
	cmd := exec.Command(self, append(args, id)...)
	if !pl.tty || o.console == "" {
		// The container's stdio. (With a console socket the container
		// gets the pty, and the sandbox process keeps none of ours:
		// engines read create's output until it is closed, as
		// containerd's shim does.)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	}
	cmd.ExtraFiles = []*os.File{wr} // fd 3: readiness
	if !o.foreground {
		// Its own session: no terminal signals from the engine's, and a
		// pty it opens becomes its controlling terminal.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	}
	err = startIn(pl.netns, cmd)
	wr.Close()
	if err != nil {
		return nil, fmt.Errorf("starting the sandbox process: %v", err)
	}
	var ready readyMsg
	b, _ := io.ReadAll(rd)
	if err := json.Unmarshal(b, &ready); err != nil || !ready.OK {
		cmd.Process.Kill()
		cmd.Wait()
		if ready.Error == "" {
			ready.Error = "the sandbox process ended before it was ready"
		}
		return nil, errors.New(ready.Error)
	}
	pid := cmd.Process.Pid
	start, _, _ := procStartTime(pid)
	rec := &record{State: specs.State{Version: specs.Version, ID: id, Status: specs.StateCreated, Pid: pid,
		Bundle: bundle, Annotations: spec.Annotations}, Created: time.Now().UTC(), Rootfs: pl.cfg.Root,
		Owner: strconv.Itoa(os.Getuid()), StartTime: start, Hooks: spec.Hooks, Base: spec.Process}
	fail := func(err error) (*exec.Cmd, error) {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, err
	}
	if err := d.save(rec); err != nil {
		return fail(err)
	}
	if o.pidFile != "" {
		if err := writeAtomic(o.pidFile, []byte(strconv.Itoa(pid)), 0o644); err != nil {
			return fail(fmt.Errorf("--pid-file: %v", err))
		}
	}
	if h := spec.Hooks; h != nil {
		st := rec.specState()
		for _, hs := range [][]specs.Hook{h.Prestart, h.CreateRuntime, h.CreateContainer} {
			if err := runHooks(hs, st); err != nil {
				return fail(err)
			}
		}
	}
	ok = true
	return cmd, nil
}

// readyMsg is what the sandbox process writes on its readiness pipe.
type readyMsg struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	PID   int    `json:"pid,omitempty"`
}

// args renders the global flags for a child glassbox.
func (g *globals) args() []string {
	a := []string{"--root", g.Root, "--log-format", g.LogFormat}
	if g.Log != "" {
		a = append(a, "--log", g.Log)
	}
	if g.Debug {
		a = append(a, "--debug")
	}
	return a
}

// startIn starts cmd inside the network namespace at netns (none: here).
// The namespace is entered by one OS thread only, which starts the child
// (a child gets the namespaces of the thread that forks it) and is then
// thrown away.
func startIn(netns string, cmd *exec.Cmd) error {
	if netns == "" {
		return cmd.Start()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: Go ends the thread with this goroutine
		fd, err := unix.Open(netns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("network namespace %s: %v", netns, err)
			return
		}
		err = unix.Setns(fd, unix.CLONE_NEWNET)
		unix.Close(fd)
		if err != nil {
			errc <- fmt.Errorf("network namespace %s: %v", netns, err)
			return
		}
		errc <- cmd.Start()
	}()
	return <-errc
}

func (g *globals) cmdStart(args []string) error {
	pos, err := parse(newFlags("start"), args)
	if err != nil {
		return err
	}
	id, err := oneID("start", pos)
	if err != nil {
		return err
	}
	d, err := g.dir(id)
	if err != nil {
		return err
	}
	if err := d.lockDir(); err != nil {
		return err
	}
	defer d.unlock()
	r, err := d.load()
	if err != nil {
		return err
	}
	switch r.current().Status {
	case specs.StateStopped:
		return errors.New("cannot start a container that has stopped")
	case specs.StateRunning:
		return errors.New("cannot start an already running container")
	}
	if _, err := call(d.path, request{Op: "start"}); err != nil {
		return err
	}
	r.Status = specs.StateRunning
	if err := d.save(r); err != nil {
		return err
	}
	if r.Hooks != nil {
		st := r.specState()
		if err := runHooks(r.Hooks.StartContainer, st); err != nil {
			g.log.Warnf("startContainer hook: %v", err)
		}
		if err := runHooks(r.Hooks.Poststart, st); err != nil {
			g.log.Warnf("poststart hook: %v", err)
		}
	}
	return nil
}

func (g *globals) cmdState(args []string, stdout io.Writer) error {
	pos, err := parse(newFlags("state"), args)
	if err != nil {
		return err
	}
	id, err := oneID("state", pos)
	if err != nil {
		return err
	}
	d, err := g.dir(id)
	if err != nil {
		return err
	}
	r, err := d.load()
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(r.specState(), "", "  ")
	fmt.Fprintf(stdout, "%s\n", b)
	return nil
}

func (g *globals) cmdKill(args []string) error {
	fs := newFlags("kill")
	all := fs.Bool("all", false, "")
	fs.BoolVar(all, "a", false, "")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 {
		return usageErr{"kill takes a container id and a signal"}
	}
	sig := int(unix.SIGTERM)
	if len(pos) == 2 {
		if sig, err = parseSignal(pos[1]); err != nil {
			return usageErr{err.Error()}
		}
	}
	d, err := g.dir(pos[0])
	if err != nil {
		return err
	}
	r, err := d.load()
	if err != nil {
		return err
	}
	if r.current().Status == specs.StateStopped {
		return errors.New("container not running")
	}
	_, err = call(d.path, request{Op: "kill", Signal: sig, All: *all})
	if err != nil && sig == int(unix.SIGKILL) && r.alive() {
		// The sandbox process does not answer: end it, and with it
		// every guest process (their stubs die with their tracer).
		return unix.Kill(r.Pid, unix.SIGKILL)
	}
	return err
}

// parseSignal reads "TERM", "SIGTERM", "term" or "15".
func parseSignal(s string) (int, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal %q", s)
		}
		return n, nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if n := unix.SignalNum(name); n != 0 {
		return int(n), nil
	}
	if strings.HasPrefix(name, "SIGRTMIN") || strings.HasPrefix(name, "SIGRTMAX") {
		base, off := 34, name[8:]
		if strings.HasPrefix(name, "SIGRTMAX") {
			base = 64
		}
		if off == "" {
			return base, nil
		}
		if n, err := strconv.Atoi(off); err == nil && base+n >= 34 && base+n <= 64 {
			return base + n, nil
		}
	}
	return 0, fmt.Errorf("unknown signal %q", s)
}

func (g *globals) cmdDelete(args []string) error {
	fs := newFlags("delete")
	force := fs.Bool("force", false, "")
	fs.BoolVar(force, "f", false, "")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	id, err := oneID("delete", pos)
	if err != nil {
		return err
	}
	d, err := g.dir(id)
	if err != nil {
		return err
	}
	if err := d.lockDir(); err != nil {
		var ne notExistError
		if *force && errors.As(err, &ne) {
			return nil
		}
		return err
	}
	defer d.unlock()
	r, err := d.load()
	if err != nil {
		if *force {
			return d.remove()
		}
		return err
	}
	switch r.current().Status {
	case specs.StateRunning:
		if !*force {
			return fmt.Errorf("cannot delete container %s that is not stopped: running", id)
		}
		fallthrough
	case specs.StateCreated:
		g.killWait(d.path, r)
	}
	if err := d.remove(); err != nil {
		return err
	}
	if r.Hooks != nil {
		st := r.specState()
		st.Status = specs.StateStopped
		if err := runHooks(r.Hooks.Poststop, st); err != nil {
			g.log.Warnf("poststop hook: %v", err)
		}
	}
	return nil
}

// killWait ends the sandbox (SIGKILL to every guest process through its
// sandbox process, or to the sandbox process itself if it does not
// answer) and waits until the sandbox process is gone.
func (g *globals) killWait(dir string, r *record) {
	call(dir, request{Op: "kill", Signal: int(unix.SIGKILL), All: true})
	for i := 0; i < 2; i++ {
		deadline := time.Now().Add(5 * time.Second)
		for r.alive() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if !r.alive() {
			return
		}
		unix.Kill(r.Pid, unix.SIGKILL)
	}
}

func (g *globals) cmdRunOCI(args []string) error {
	var o createOpts
	fs := createFlags("run", &o)
	detach := fs.Bool("detach", false, "")
	fs.BoolVar(detach, "d", false, "")
	keep := fs.Bool("keep", false, "")
	fs.Bool("no-subreaper", false, "")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	id, err := oneID("run", pos)
	if err != nil {
		return err
	}
	o.foreground = !*detach
	cmd, err := g.create(id, o)
	if err != nil {
		return err
	}
	if err := g.cmdStart([]string{id}); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		g.cmdDelete([]string{"--force", id})
		return err
	}
	if *detach {
		return nil
	}
	// Signals to this process go to the container, as runc run's do.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2)
	go func() {
		for s := range sigs {
			cmd.Process.Signal(s)
		}
	}()
	err = cmd.Wait()
	signal.Stop(sigs)
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
	} else if err != nil {
		return err
	}
	if !*keep {
		g.cmdDelete([]string{"--force", id})
	}
	if code != 0 {
		return exitCode(code)
	}
	return nil
}

func (g *globals) cmdList(args []string, stdout io.Writer) error {
	fs := newFlags("list")
	format := fs.String("format", "table", "")
	fs.StringVar(format, "f", "table", "")
	quiet := fs.Bool("quiet", false, "")
	fs.BoolVar(quiet, "q", false, "")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	ents, err := os.ReadDir(g.Root)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	type item struct {
		specs.State
		Created time.Time `json:"created"`
		Owner   string    `json:"owner"`
	}
	var items []item
	for _, e := range ents {
		if !e.IsDir() || checkID(e.Name()) != nil {
			continue
		}
		d, _ := g.dir(e.Name())
		r, err := d.load()
		if err != nil {
			continue
		}
		items = append(items, item{r.specState(), r.Created, r.Owner})
	}
	switch {
	case *quiet:
		for _, it := range items {
			fmt.Fprintln(stdout, it.ID)
		}
	case *format == "json":
		if items == nil {
			items = []item{}
		}
		b, _ := json.Marshal(items)
		fmt.Fprintf(stdout, "%s\n", b)
	case *format == "table":
		fmt.Fprintf(stdout, "%-20s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER")
		for _, it := range items {
			fmt.Fprintf(stdout, "%-20s %-8d %-10s %-40s %-30s %s\n", it.ID, it.Pid, it.Status, it.Bundle,
				it.Created.Format(time.RFC3339Nano), it.Owner)
		}
	default:
		return usageErr{fmt.Sprintf("--format %q: want table or json", *format)}
	}
	return nil
}
