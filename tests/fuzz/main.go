// Command fuzz is glassbox' syscall fuzzer: a guest (testdata/guest.c, compiled
// static with gcc) makes random system calls from several processes and
// threads while signals fly, inside glassbox, under a watchdog.
//
//	go run ./tests/fuzz [-duration 60s] [-session 60s] [-seed N] [-procs 3] [-threads 3]
//
// The duration is cut into sessions; session i runs seed N+i (N is random
// unless -seed gives it, and printed either way, so `-seed N -duration
// <one session>` replays a failing session). Each session is a fresh
// glassbox, in a process of its own inside new user-visible namespaces
// (UTS, network, mount, PID, IPC) where every host mount is read-only;
// glassbox runs there as a library, so the session can check glassbox
// itself at the end. A session fails on:
//
//   - a glassbox panic or fatal error (the process dies; its stderr holds
//     the stack);
//   - a hang: no "FUZZ tick" line from the guest's supervisor for
//     -hang (default 30s), or no end within the session plus a minute
//     (the session gets SIGQUIT first, so Go prints every goroutine);
//   - a host-side effect: the guest's root (a tmpfs copy, writable on the
//     host side so that a write glassbox lets through shows) changed, or
//     host processes, descriptors or threads left behind after the run;
//   - a leak: goroutines or host descriptors not returned, memory-file
//     frames still in use once the sandbox's files are gone.
//
// Failures are written to -out (default $TMPDIR/glassbox-fuzz) with the
// seed in the file name; the exit status is 1 if any session failed.
package main

import (
	"bufio"
	_ "embed"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

//go:embed testdata/guest.c
var guestSource []byte

type options struct {
	duration, session, hang time.Duration
	seed                    uint64
	seedSet                 bool
	procs, threads          int
	out                     string
	trace                   string
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-inner" {
		os.Exit(inner(os.Args[2:]))
	}
	var o options
	var seed string
	flag.DurationVar(&o.duration, "duration", 60*time.Second, "total fuzzing time")
	flag.DurationVar(&o.session, "session", 60*time.Second, "length of one session (one seed, one glassbox)")
	flag.DurationVar(&o.hang, "hang", 30*time.Second, "no progress for this long is a hang")
	flag.StringVar(&seed, "seed", "", "first seed (default: random)")
	flag.IntVar(&o.procs, "procs", 3, "worker processes in the guest")
	flag.IntVar(&o.threads, "threads", 3, "threads per worker")
	flag.StringVar(&o.out, "out", filepath.Join(os.TempDir(), "glassbox-fuzz"), "directory for failure reports")
	flag.StringVar(&o.trace, "trace", "", "write glassbox' syscall trace of each session to this directory")
	flag.Parse()
	if seed != "" {
		n, err := strconv.ParseUint(seed, 10, 64)
		if err != nil {
			fmt.Fprintf(os.Stderr, "fuzz: bad -seed %q\n", seed)
			os.Exit(2)
		}
		o.seed, o.seedSet = n, true
	} else {
		o.seed = uint64(rand.Int63n(1 << 40))
	}
	if o.session > o.duration {
		o.session = o.duration
	}
	os.Exit(outer(o))
}

func outer(o options) int {
	work, err := os.MkdirTemp("", "glassbox-fuzz-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "fuzz:", err)
		return 2
	}
	defer os.RemoveAll(work)
	if err := makeRoot(filepath.Join(work, "root")); err != nil {
		fmt.Fprintln(os.Stderr, "fuzz:", err)
		return 2
	}
	if err := os.Mkdir(filepath.Join(work, "mnt"), 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "fuzz:", err)
		return 2
	}
	n := int((o.duration + o.session - 1) / o.session)
	fmt.Printf("fuzz: seed %d, %d session(s) of %v, %d processes x %d threads\n", o.seed, n, o.session, o.procs, o.threads)
	failed := 0
	for i := 0; i < n; i++ {
		seed := o.seed + uint64(i)
		start := time.Now()
		res := session(o, work, seed)
		if res.failure == "" {
			fmt.Printf("fuzz: seed %d: ok, %s (%v)\n", seed, res.summary, time.Since(start).Round(time.Second))
			continue
		}
		failed++
		path := report(o.out, seed, res)
		fmt.Printf("fuzz: seed %d: FAIL: %s (report: %s; replay: go run ./tests/fuzz -seed %d -duration %v)\n",
			seed, res.failure, path, seed, o.session)
	}
	if failed > 0 {
		fmt.Printf("fuzz: %d of %d session(s) failed\n", failed, n)
		return 1
	}
	fmt.Printf("fuzz: %d session(s), no failures\n", n)
	return 0
}

// makeRoot lays out the guest's root: the fuzz program, a file, a
// directory with a file, a symlink to it and a #! script.
func makeRoot(root string) error {
	for _, d := range []string{"etc", "dir", "tmp", "proc", "dev", "sys"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return err
		}
	}
	src := filepath.Join(root, "..", "guest.c")
	if err := os.WriteFile(src, guestSource, 0o644); err != nil {
		return err
	}
	cc := exec.Command("gcc", "-static", "-O1", "-pthread", "-o", filepath.Join(root, "fuzz"), src)
	if out, err := cc.CombinedOutput(); err != nil {
		return fmt.Errorf("gcc: %v\n%s", err, out)
	}
	files := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n",
		"dir/file":   "a file in a directory\n",
		"script":     "#!/fuzz run\n",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(data), 0o755); err != nil {
			return err
		}
	}
	return os.Symlink("dir", filepath.Join(root, "link"))
}

type result struct {
	failure string // "" when the session passed
	summary string // the guest's last counters
	stdout  string
	stderr  string
	kstacks string // the host kernel's stacks of the session's threads, for a hang
}

// session runs one seed in a fresh process inside new namespaces and
// watches it.
func session(o options, work string, seed uint64) result {
	self, err := os.Executable()
	if err != nil {
		return result{failure: err.Error()}
	}
	args := []string{"-inner", "-seed", strconv.FormatUint(seed, 10),
		"-millis", strconv.FormatInt(o.session.Milliseconds(), 10),
		"-procs", strconv.Itoa(o.procs), "-threads", strconv.Itoa(o.threads),
		"-root", filepath.Join(work, "root"), "-mnt", filepath.Join(work, "mnt")}
	if o.trace != "" {
		if err := os.MkdirAll(o.trace, 0o755); err != nil {
			return result{failure: err.Error()}
		}
		// The session's mounts are read-only: it writes the trace to
		// its stderr's sibling, a pipe we copy to the file.
		args = append(args, "-trace")
	}
	cmd := exec.Command(self, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWUTS | syscall.CLONE_NEWNET | syscall.CLONE_NEWNS |
			syscall.CLONE_NEWPID | syscall.CLONE_NEWIPC,
		Pdeathsig: syscall.SIGKILL,
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return result{failure: err.Error()}
	}
	var stderr strings.Builder
	var traceFile *os.File
	if o.trace != "" {
		traceFile, err = os.Create(filepath.Join(o.trace, fmt.Sprintf("seed-%d.trace", seed)))
		if err != nil {
			return result{failure: err.Error()}
		}
		defer traceFile.Close()
		cmd.ExtraFiles = []*os.File{traceFile}
	}
	cmd.Stderr = &limitedWriter{w: &stderr, n: 4 << 20}
	if err := cmd.Start(); err != nil {
		return result{failure: "starting the session (namespaces need root): " + err.Error()}
	}
	lines := make(chan string, 64)
	var out strings.Builder
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var res result
	hangTimer := time.NewTimer(o.hang)
	deadline := time.NewTimer(o.session + time.Minute)
	done := false
	hung := ""
	for lines != nil {
		select {
		case l, ok := <-lines:
			if !ok {
				lines = nil
				break
			}
			out.WriteString(l + "\n")
			if strings.HasPrefix(l, "FUZZ tick") || strings.HasPrefix(l, "FUZZ start") {
				hangTimer.Reset(o.hang)
				res.summary = strings.TrimPrefix(l, "FUZZ tick ")
			}
			if strings.HasPrefix(l, "FUZZ checked") {
				res.summary += "; " + strings.TrimPrefix(l, "FUZZ checked ")
			}
			if strings.HasPrefix(l, "FUZZ done") {
				done = true
				res.summary = strings.TrimPrefix(l, "FUZZ done ")
				hangTimer.Stop()
			}
		case <-hangTimer.C:
			if !done && hung == "" {
				hung = fmt.Sprintf("hang: no progress from the guest for %v", o.hang)
				quit(cmd, &res.kstacks)
			}
		case <-deadline.C:
			if hung == "" {
				hung = fmt.Sprintf("hang: the session did not end within %v", o.session+time.Minute)
				quit(cmd, &res.kstacks)
			}
		}
	}
	err = cmd.Wait()
	res.stdout, res.stderr = out.String(), stderr.String()
	switch {
	case hung != "":
		res.failure = hung
	case strings.Contains(res.stderr, "panic:") || strings.Contains(res.stderr, "fatal error:"):
		res.failure = "glassbox panicked: " + firstLine(res.stderr, "panic:", "fatal error:")
	case strings.Contains(res.stdout, "FUZZ FAIL"):
		res.failure = firstLine(res.stdout, "FUZZ FAIL")
	case err != nil:
		res.failure = fmt.Sprintf("the session ended badly: %v", err)
	case !done:
		res.failure = "the guest's supervisor did not finish"
	}
	return res
}

// quit records the host kernel's view of the session's threads (what a
// thread stuck in a host call waits for), asks the session for a
// goroutine dump (SIGQUIT), then kills it.
func quit(cmd *exec.Cmd, stacks *string) {
	*stacks = kernelStacks(cmd.Process.Pid)
	cmd.Process.Signal(syscall.SIGQUIT)
	time.AfterFunc(5*time.Second, func() { cmd.Process.Kill() })
}

// kernelStacks lists each thread of pid that is not idle in the Go
// runtime's futex wait, with its state, wchan and kernel stack.
func kernelStacks(pid int) string {
	var b strings.Builder
	dir := fmt.Sprintf("/proc/%d/task", pid)
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		stat, _ := os.ReadFile(filepath.Join(dir, e.Name(), "stat"))
		wchan, _ := os.ReadFile(filepath.Join(dir, e.Name(), "wchan"))
		stack, _ := os.ReadFile(filepath.Join(dir, e.Name(), "stack"))
		if strings.Contains(string(stack), "futex_wait") && !strings.Contains(string(stack), "ptrace") {
			continue
		}
		fmt.Fprintf(&b, "thread %s: %s wchan %s\n%s\n", e.Name(), strings.TrimSpace(string(stat)), wchan, stack)
	}
	return b.String()
}

func firstLine(s string, prefixes ...string) string {
	for _, l := range strings.Split(s, "\n") {
		for _, p := range prefixes {
			if i := strings.Index(l, p); i >= 0 {
				return strings.TrimSpace(l[i:])
			}
		}
	}
	return ""
}

func report(dir string, seed uint64, res result) string {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "(not written: " + err.Error() + ")"
	}
	path := filepath.Join(dir, fmt.Sprintf("seed-%d.txt", seed))
	text := fmt.Sprintf("seed %d\nfailure: %s\n\n--- stdout\n%s\n--- stderr\n%s", seed, res.failure, res.stdout, res.stderr)
	if res.kstacks != "" {
		text += "\n--- host kernel stacks of the session's threads\n" + res.kstacks
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		return "(not written: " + err.Error() + ")"
	}
	return path
}

// limitedWriter keeps the first n bytes.
type limitedWriter struct {
	mu sync.Mutex
	w  *strings.Builder
	n  int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := l.n - l.w.Len(); room > 0 {
		if len(p) > room {
			l.w.Write(p[:room])
		} else {
			l.w.Write(p)
		}
	}
	return len(p), nil
}
