// Command glassbox runs a Linux program inside glassbox' user-space kernel,
// and is an OCI runtime (runc's command line) for container engines.
//
//	glassbox run [--root DIR] [--env K=V]... [--clear-env] [--trace[=KINDS]] [-v] [--] PROG [ARG...]
//	glassbox [--root STATEDIR] [--log FILE] create|start|state|kill|delete|run|exec|ps|list|features|spec ...
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"glassbox"
	"glassbox/internal/gostack"
	"glassbox/internal/oci"
)

// version is glassbox' version.
const version = "0.2.0"

const usage = `usage: glassbox run [flags] [--] PROG [ARG...]
       glassbox [global flags] COMMAND [flags] ID ...   (an OCI runtime, as runc)
       glassbox help [COMMAND]

Runs PROG inside glassbox: every system call it makes is answered by
glassbox' own kernel, never by the host's.

commands: run, exec, ps, kill, state, list (any sandbox started with
--name); create, start, delete, features, spec (for container engines).
"glassbox help COMMAND" describes one; "man glassbox" all of them.

run flags:
  --root DIR       the directory the program sees as / (default: the host's /, read-only)
  --bind HOST:GUEST     mount a host directory read-write at GUEST (writes reach the host)
  --ro-bind HOST:GUEST  the same, read-only
  --volume HOST:GUEST[:ro]  the same as --bind, or --ro-bind with :ro
  --dir DIR        the program's working directory inside the sandbox
                   (default: the current directory when it lies inside the root, else /)
  --uid N, --gid N run as this user and group inside (default 0: root inside)
  --env K=V        set an environment variable (repeatable)
  --clear-env      start from an empty environment instead of glassbox' own
  --trace[=KINDS]  show what happens: syscall,fault,cow,signal,proc,fd,mem or all (default all)
  --trace-out FILE write the trace to FILE instead of stderr
  --trace-format F text (default) or json (one object per line)
  --timeout D      kill the guest after D (e.g. 10s, 2m); glassbox then exits 124
  --stats          print counters (syscalls, faults, copy-on-write copies, peak memory),
                   where the start-up time went (glassbox' own start, memory file,
                   platform, file systems, first stub, exec, PROG's run, exit), the
                   unsupported calls PROG made, and a per-syscall table (calls,
                   errors, time) at exit
  -v, --verbose    say what PROG met that glassbox lacks (unsupported syscalls and
                   options), OOM kills, and how PROG ended (killed by SIGNAL, timed
                   out); by default glassbox adds nothing to PROG's output
  --ui ADDR        serve a live dashboard (process tree, fds, pipes, memory maps,
                   events) at ADDR, e.g. 127.0.0.1:8080 (port 0 picks one; the URL
                   is printed); it stays up after PROG exits by itself, until Ctrl-C
  --memory SIZE    bound the sandbox's resident memory (e.g. 256M, 2G; default half the
                   host's RAM): guest pages, /tmp and other in-memory files count; past
                   it pages go to swap, or without swap the largest process is killed
                   (OOM), and file writes fail with ENOSPC
  --pids N         bound the sandbox's processes and threads (default 4096); fork and
                   clone fail with EAGAIN at the bound
  --cpu-time D     bound the CPU time of all the sandbox's processes together (e.g. 30s):
                   at D every process gets SIGXCPU, one CPU second later SIGKILL
  --swap SIZE      a swap area of SIZE in a host temporary file (needs --memory)
  --net=none|host  none (default): AF_INET/AF_INET6 on a sandbox-private loopback only;
                   host: real host sockets (the guest reaches the host's network)
  --publish HOSTPORT:GUESTPORT[/udp]  serve the sandbox's 127.0.0.1:GUESTPORT (TCP,
                   or UDP) on the host's 127.0.0.1:HOSTPORT (repeatable; --net=none)
  --pass-tty       lend the host terminal to PROG as it is (default: PROG gets a
                   terminal of the sandbox's own, copied to and from the host's, with
                   job control: Ctrl-C/Ctrl-Z reach PROG's foreground job)
  --platform=ptrace|seccomp|auto  how guest threads run: under ptrace, or
                   trapping through seccomp into a handler that talks to glassbox over
                   shared memory; auto: seccomp where it works here, else ptrace
                   (default: $GLASSBOX_PLATFORM, else auto)
  --syscall-patch=on|off  on the seccomp platform, patch each trapping syscall
                   site (the 7-byte "mov $NR to eax, syscall") into a jump that reaches
                   glassbox without a host signal (default: $GLASSBOX_SYSCALL_PATCH,
                   else on)
  --name NAME      make the sandbox reachable as NAME while it runs: "glassbox exec
                   NAME -- CMD" starts CMD inside it; ps, kill and state work on NAME
                   (state under the global --root, default /run/glassbox)
`

func main() {
	gostack.Grow() // building the sandbox goes deep
	os.Exit(profiled(os.Stderr, func() int { return run(os.Args[1:], os.Stderr) }))
}

// cpuProfile starts a CPU profile of glassbox itself written to out and
// returns its stop; it is nil unless glassbox is built with -tags pprof
// (profile.go), so that an ordinary build does not link runtime/pprof
// and pay its packages' initialisation at every start.
var cpuProfile func(out io.Writer) (stop func(), err error)

// profiled runs f, writing a CPU profile of glassbox itself to the file
// $GLASSBOX_CPUPROFILE names, if it is set (a developer's tool: `go tool
// pprof` reads it; glassbox built with -tags pprof).
func profiled(stderr io.Writer, f func() int) int {
	path := os.Getenv("GLASSBOX_CPUPROFILE")
	if path == "" {
		return f()
	}
	if cpuProfile == nil {
		fmt.Fprintln(stderr, "glassbox: GLASSBOX_CPUPROFILE: this glassbox was built without profiling (go build -tags pprof)")
		return f()
	}
	out, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(stderr, "glassbox: %v\n", err)
		return f()
	}
	defer out.Close()
	stop, err := cpuProfile(out)
	if err != nil {
		fmt.Fprintf(stderr, "glassbox: %v\n", err)
		return f()
	}
	defer stop()
	return f()
}

// usageError is bad input from the user: one line, exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(args []string, stderr io.Writer) int {
	g, rest, err := oci.ParseGlobals(args)
	if err != nil {
		fmt.Fprintf(stderr, "glassbox: %v\n", err)
		return 2
	}
	if g.Version {
		fmt.Fprintf(os.Stdout, "glassbox version %s\nspec: %s\ngo: %s\n", version, specs.Version, runtime.Version())
		return 0
	}
	if g.Help {
		fmt.Fprint(os.Stdout, usage+"\n"+oci.GlobalHelp)
		return 0
	}
	if len(rest) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch rest[0] {
	case "run":
		if oci.IsOCIRun(rest[1:]) {
			return oci.Main(g, rest, os.Stdout, stderr)
		}
		return cmdRun(g, rest[1:], stderr)
	case "help", "-h", "--help", "-help":
		return cmdHelp(rest[1:], stderr)
	}
	if oci.IsCommand(rest[0]) {
		return oci.Main(g, rest, os.Stdout, stderr)
	}
	fmt.Fprintf(stderr, "glassbox: unknown command %q (try: glassbox run -- PROG, or glassbox help)\n", rest[0])
	return 2
}

// cmdHelp prints the usage of one command, or the general one.
func cmdHelp(args []string, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(os.Stdout, usage+"\n"+oci.GlobalHelp)
		return 0
	}
	if args[0] == "run" {
		fmt.Fprint(os.Stdout, usage+"\n"+oci.Help("run"))
		return 0
	}
	if h := oci.Help(args[0]); h != "" {
		fmt.Fprint(os.Stdout, h)
		return 0
	}
	fmt.Fprintf(stderr, "glassbox: no help for %q (commands: run, exec, ps, kill, state, list, create, start, delete, features, spec)\n", args[0])
	return 2
}

type envList []string

func (e *envList) String() string { return strings.Join(*e, " ") }
func (e *envList) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("want K=V, got %q", v)
	}
	*e = append(*e, v)
	return nil
}

// traceFlag is --trace or --trace=KINDS.
type traceFlag struct{ kinds string }

func (t *traceFlag) String() string   { return t.kinds }
func (t *traceFlag) IsBoolFlag() bool { return true }
func (t *traceFlag) Set(v string) error {
	switch v {
	case "true":
		t.kinds = "all"
	case "false":
		t.kinds = ""
	default:
		t.kinds = v
	}
	return nil
}

func cmdRun(g *oci.Globals, args []string, stderr io.Writer) int {
	// Signals sent to glassbox go to the guest; glassbox ends when the
	// guest's first process does (and a dashboard does not linger).
	// signal.Notify waits on the runtime's signal thread for each signal
	// (its first call starts that thread): it runs while the sandbox is
	// built, and the guest's first instruction waits for it (Hold). There
	// is no signal.Stop: glassbox exits when cmdRun returns, and Stop
	// would wait on that thread again for each signal, on the way out; a
	// signal arriving meanwhile goes to no one, and glassbox exits with
	// the guest's status.
	sigs := make(chan os.Signal, 8)
	notified := make(chan struct{})
	go func() {
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
		close(notified)
	}()
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		cfg      glassbox.Config
		env      envList
		clearEnv bool
		tr       traceFlag
		traceOut string
		stats    bool
		verbose  bool
		timeout  time.Duration
		name     string
	)
	fs.StringVar(&name, "name", "", "")
	fs.StringVar(&cfg.Root, "root", "", "")
	fs.StringVar(&cfg.Dir, "dir", "", "")
	bindFlag := func(ro bool) func(string) error {
		return func(v string) error {
			b, err := glassbox.ParseBind(v, ro)
			if err == nil {
				cfg.Binds = append(cfg.Binds, b)
			}
			return err
		}
	}
	fs.Func("bind", "", bindFlag(false))
	fs.Func("ro-bind", "", bindFlag(true))
	fs.Func("volume", "", bindFlag(false))
	fs.BoolVar(&clearEnv, "clearenv", false, "")
	fs.Func("uid", "", func(v string) error { return parseID(v, &cfg.UID) })
	fs.Func("gid", "", func(v string) error { return parseID(v, &cfg.GID) })
	fs.Var(&env, "env", "")
	fs.BoolVar(&clearEnv, "clear-env", false, "")
	fs.Var(&tr, "trace", "")
	fs.StringVar(&traceOut, "trace-out", "", "")
	fs.BoolVar(&stats, "stats", false, "")
	fs.BoolVar(&verbose, "verbose", false, "")
	fs.BoolVar(&verbose, "v", false, "")
	fs.StringVar(&cfg.UI, "ui", "", "")
	fs.DurationVar(&timeout, "timeout", 0, "")
	fs.StringVar(&cfg.TraceFormat, "trace-format", "", "")
	fs.StringVar(&cfg.Net, "net", "none", "")
	fs.Func("memory", "", func(v string) error { return parseSize(v, &cfg.Memory) })
	fs.Func("swap", "", func(v string) error { return parseSize(v, &cfg.Swap) })
	fs.Func("pids", "", func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("want a positive number of processes, got %q", v)
		}
		cfg.MaxTasks = n
		return nil
	})
	fs.Func("cpu-time", "", func(v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("want a duration like 30s or 2m, got %q", v)
		}
		cfg.CPUTime = d
		return nil
	})
	fs.BoolVar(&cfg.PassTerminal, "pass-tty", false, "")
	fs.Func("publish", "", func(v string) error { cfg.Publish = append(cfg.Publish, v); return nil })
	fs.StringVar(&cfg.Platform, "platform", os.Getenv("GLASSBOX_PLATFORM"), "")
	fs.StringVar(&cfg.SyscallPatch, "syscall-patch", os.Getenv("GLASSBOX_SYSCALL_PATCH"), "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(os.Stdout, usage)
			return 0
		}
		fmt.Fprintf(stderr, "glassbox: %v\n", err)
		return 2
	}
	argv := fs.Args()
	if len(argv) == 0 {
		fmt.Fprintln(stderr, "glassbox: no program given (usage: glassbox run [flags] -- PROG [ARG...])")
		return 2
	}
	if !clearEnv {
		cfg.Env = os.Environ()
	}
	cfg.Env = mergeEnv(cfg.Env, env)
	if cfg.Dir == "" {
		cfg.Dir = defaultDir(cfg.Root)
	}
	cfg.Trace = tr.kinds
	cfg.CountSyscalls = stats
	cfg.Verbose = verbose
	if traceOut != "" {
		f, err := os.Create(traceOut)
		if err != nil {
			fmt.Fprintf(stderr, "glassbox: trace output: %v\n", err)
			return 2
		}
		defer f.Close()
		cfg.TraceOut = f
	}
	// A guest writing to a closed pipe gets EPIPE (and its own SIGPIPE
	// from glassbox); glassbox itself must not die of the host's.
	signal.Ignore(syscall.SIGPIPE)
	cfg.Signals = sigs
	// glassbox exits when the run ends: its exit closes the memory file
	// and the host descriptors.
	cfg.ExitAfterWait = true
	ctx := context.Background()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	st, err := startWait(ctx, g, name, cfg, argv, notified)
	if errors.Is(err, context.DeadlineExceeded) {
		// As timeout(1): the status (124) says it; the line only with -v.
		if verbose {
			fmt.Fprintf(stderr, "glassbox: %s timed out after %v\n", argv[0], timeout)
		}
		if stats {
			printStats(stderr, st)
		}
		return 124
	}
	if err != nil {
		fmt.Fprintf(stderr, "glassbox: %v\n", err)
		var en unix.Errno
		if errors.As(err, &en) && en == unix.ENOENT || strings.Contains(err.Error(), "command not found") {
			return 127
		}
		return 126
	}
	if stats {
		printStats(stderr, st)
	}
	// The exit status says 128+N; the line, as a shell's "Terminated",
	// only when asked.
	if st.Signal != 0 && verbose {
		core := ""
		if st.Core {
			core = " (core dumped)"
		}
		fmt.Fprintf(stderr, "glassbox: %s killed by %s%s\n", argv[0], st.SignalName(), core)
	}
	return st.ShellCode()
}

// startWait runs argv as glassbox.Run does; with a name, the sandbox is
// reachable under it (glassbox exec NAME ...) until it ends. The guest's
// first instruction waits until ready is closed.
func startWait(ctx context.Context, g *oci.Globals, name string, cfg glassbox.Config, argv []string, ready <-chan struct{}) (glassbox.ExitStatus, error) {
	cfg.Hold = true
	s, err := glassbox.Start(ctx, cfg, argv)
	if err != nil {
		return glassbox.ExitStatus{}, err
	}
	<-ready
	s.Release()
	if name != "" {
		unregister, err := g.Register(name, s, cfg, argv)
		if err != nil {
			s.Signal(int(syscall.SIGKILL), true)
			s.Wait()
			return glassbox.ExitStatus{}, &glassbox.Error{Op: "--name " + name, Err: err}
		}
		defer unregister()
	}
	return s.Wait()
}

// mergeEnv applies K=V settings over env, replacing earlier values.
func mergeEnv(env, set []string) []string {
	out := append([]string(nil), env...)
	for _, kv := range set {
		k := kv[:strings.IndexByte(kv, '=')+1]
		replaced := false
		for i, e := range out {
			if strings.HasPrefix(e, k) {
				out[i], replaced = kv, true
			}
		}
		if !replaced {
			out = append(out, kv)
		}
	}
	return out
}

// defaultDir is the host's working directory as seen inside root, or "/"
// when it lies outside.
func defaultDir(root string) string {
	wd, err := os.Getwd()
	if err != nil {
		return "/"
	}
	if root == "" {
		return wd
	}
	r, err := filepath.Abs(root)
	if err != nil {
		return "/"
	}
	if r, err = filepath.EvalSymlinks(r); err != nil {
		return "/"
	}
	rel, err := filepath.Rel(r, wd)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "/"
	}
	return filepath.Join("/", rel)
}

// parseID parses a numeric user or group id.
func parseID(v string, out *uint32) error {
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n == 1<<32-1 {
		return fmt.Errorf("want a number, got %q", v)
	}
	*out = uint32(n)
	return nil
}

// parseSize reads a byte count with an optional K, M, G or T suffix
// (powers of 1024; a trailing B or iB is allowed).
func parseSize(v string, out *uint64) error {
	num := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(v), "B"), "I")
	shift := 0
	if n := len(num); n > 0 {
		if i := strings.IndexByte("KMGT", num[n-1]); i >= 0 {
			shift, num = 10*(i+1), num[:n-1]
		}
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil || n == 0 || n > (1<<50)>>shift {
		return fmt.Errorf("want a size like 512M or 2G, got %q", v)
	}
	*out = n << shift
	return nil
}

// printStats writes the counters line and an strace -c style table.
func printStats(w io.Writer, st glassbox.ExitStatus) {
	s := st.Stats
	fmt.Fprintf(w, "glassbox: stats: syscalls=%d faults=%d cow_copies=%d processes=%d threads=%d mem_peak_kib=%d signals=%d wall=%v cpu=%v\n",
		s.Syscalls, s.Faults, s.COWCopies, s.Processes, s.Threads, s.MemPeakByte/1024, s.Signals,
		s.Wall.Round(time.Millisecond), s.CPU.Round(time.Millisecond))
	if s.SwapOuts+s.SwapIns+s.MajorFaults+s.OOMKills > 0 {
		fmt.Fprintf(w, "glassbox: stats: major_faults=%d swap_outs=%d swap_ins=%d oom_kills=%d\n",
			s.MajorFaults, s.SwapOuts, s.SwapIns, s.OOMKills)
	}
	if s.HostFileMaps > 0 {
		fmt.Fprintf(w, "glassbox: stats: host_file_maps=%d\n", s.HostFileMaps)
	}
	if s.PatchedSites > 0 {
		fmt.Fprintf(w, "glassbox: stats: patched_sites=%d patched_calls=%d\n", s.PatchedSites, s.PatchedCalls)
	}
	if h := s.HandOff; h.HandOffs > 0 {
		fmt.Fprintf(w, "glassbox: stats: handoffs=%d spun=%d spin_probes=%d spin_kept=%d spin_refused_busy=%d\n",
			h.HandOffs, h.Spun, h.Probes, h.Kept, h.Refused)
	}
	if s.FutexSleeps > 0 {
		fmt.Fprintf(w, "glassbox: stats: futex_sleeps=%d futex_polled=%d\n", s.FutexSleeps, s.FutexPolled)
	}
	printStartup(w, st.Startup)
	fmt.Fprintf(w, "glassbox: stats: pipe_bytes=%d socket_bytes=%d", s.PipeBytes, s.SocketBytes)
	names := make([]string, 0, len(s.SignalsByName))
	for n := range s.SignalsByName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, " %s=%d", n, s.SignalsByName[n])
	}
	fmt.Fprintln(w)
	printUnsupported(w, s.Unsupported)
	if len(st.Syscalls) == 0 {
		return
	}
	var total time.Duration
	var calls, errs uint64
	for _, c := range st.Syscalls {
		total += c.Time
		calls += c.Calls
		errs += c.Errors
	}
	fmt.Fprintf(w, "%% time     seconds  usecs/call     calls    errors syscall\n")
	fmt.Fprintf(w, "------ ----------- ----------- --------- --------- ----------------\n")
	for _, c := range st.Syscalls {
		pct := 0.0
		if total > 0 {
			pct = 100 * float64(c.Time) / float64(total)
		}
		fmt.Fprintf(w, "%6.2f %11.6f %11d %9d %9s %s\n", pct, c.Time.Seconds(),
			c.Time.Microseconds()/int64(c.Calls), c.Calls, errCount(c.Errors), c.Name)
	}
	fmt.Fprintf(w, "------ ----------- ----------- --------- --------- ----------------\n")
	fmt.Fprintf(w, "100.00 %11.6f %11d %9d %9s total\n", total.Seconds(), total.Microseconds()/int64(max(calls, 1)), calls, errCount(errs))
}

// printStartup writes the start-up breakdown: the phases from glassbox'
// own start to the guest's first instruction, the exit, and the total, in
// milliseconds.
func printStartup(w io.Writer, b glassbox.Startup) {
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) + "ms" }
	fmt.Fprintf(w, "glassbox: stats: startup go=%s memfile=%s platform=%s vfs=%s stub=%s exec=%s first_insn_at=%s run=%s exit=%s total=%s\n",
		ms(b.Go), ms(b.MemFile), ms(b.Platform), ms(b.VFS), ms(b.Stub), ms(b.Exec), ms(b.FirstInsn), ms(b.Run), ms(b.Exit), ms(b.Total))
}

func errCount(n uint64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatUint(n, 10)
}

// printUnsupported lists the unsupported syscalls and options the guest
// used, most used first, one line each.
func printUnsupported(w io.Writer, m map[string]uint64) {
	what := make([]string, 0, len(m))
	for k := range m {
		what = append(what, k)
	}
	sort.Slice(what, func(i, j int) bool {
		if m[what[i]] != m[what[j]] {
			return m[what[i]] > m[what[j]]
		}
		return what[i] < what[j]
	})
	for _, k := range what {
		fmt.Fprintf(w, "glassbox: stats: unsupported %s calls=%d\n", k, m[k])
	}
}
