// Package stress is glassbox' concurrency and memory-integrity stress
// suite: guest programs (C with pthreads, Go, python3, node) that fork,
// exec, exit, unmap, protect and signal while other threads of the same
// process run, write memory or fault, and print only what every correct
// run prints (counts, checksums, "ok" lines). Each runs natively and under
// glassbox; the outputs must be identical.
//
// The catalog (Cases) holds issue 13's repros verbatim plus one program
// per race. Two drivers use it: tests/stress_test.go (one run of each at
// its short size in `go test ./...`; GLASSBOX_STRESS=long for many runs at
// the long size) and the repro command (tests/stress/repro: every repro N
// times in a row against a glassbox binary, reporting each run that
// differs from native).
//
// Sources are in testdata/: C programs share common.h; testdata/gostress
// is one Go program with a mode per shape.
package stress

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

//go:embed testdata
var sources embed.FS

// Case is one stress program.
type Case struct {
	Name string
	// Repro marks issue 13's repros (the ones "Done means" asks to pass
	// 200 runs in a row).
	Repro bool
	What  string
	// Short and Long are the size argument (iterations) passed to the
	// program: Short in a plain test run, Long in the long mode. Zero:
	// the program takes no argument (a verbatim repro).
	Short, Long int
	// argv builds the command line from the built programs and the size.
	argv func(b *Built, n int) []string
}

// Argv returns the command line of c at size n (ignored when the case takes
// no size).
func (c Case) Argv(b *Built, n int) []string { return c.argv(b, n) }

// Verbatim repros from issue 13.
const (
	nodeExecSync = `const c=require("child_process"); console.log(c.execSync("echo hi").toString().trim()); setTimeout(()=>console.log("timer"),100)`
	pythonFork16 = `import os,threading,time,sys; ts=[threading.Thread(target=lambda: time.sleep(0.3)) for _ in range(16)]; [t.start() for t in ts]; pid=os.fork(); os._exit(51) if pid==0 else print(os.waitpid(pid,0)[1]>>8); [t.join() for t in ts]`
)

func cProg(name string) func(b *Built, n int) []string {
	return func(b *Built, n int) []string { return []string{b.bin(name), strconv.Itoa(n)} }
}

func goMode(mode string) func(b *Built, n int) []string {
	return func(b *Built, n int) []string { return []string{b.bin("gostress"), mode, strconv.Itoa(n)} }
}

func pyScript(name string) func(b *Built, n int) []string {
	return func(b *Built, n int) []string {
		return []string{b.Python, filepath.Join(b.Dir, name), strconv.Itoa(n)}
	}
}

// Cases is the catalog, repros first.
var Cases = []Case{
	{Name: "node-execsync-timer", Repro: true,
		What: "node: execSync, then a timer (was SIGSEGV at exit in 1 run of 3)",
		argv: func(b *Built, _ int) []string { return []string{b.Node, "-e", nodeExecSync} }},
	{Name: "python-fork-16-threads", Repro: true,
		What: "python3: fork while 16 threads sleep (parent was SIGSEGV after reaping, 1 run of 4)",
		argv: func(b *Built, _ int) []string { return []string{b.Python, "-c", pythonFork16} }},
	{Name: "python-forkinthread", Repro: true, Short: 12, Long: 200,
		What: "python3: test_thread's test_forkinthread shape: a thread forks, the child writes b\"OK\" into a pipe (was b'\\x90\\xfd')",
		argv: pyScript("forkinthread.py")},
	{Name: "go-forkexec", Repro: true, Short: 8, Long: 60,
		What: "Go: fork/exec from 8 goroutines while others allocate and read the clock (os/exec tests: SEGV_ACCERR in runtime.nanotime1)",
		argv: goMode("forkexec")},
	{Name: "go-iocopy-tcp", Repro: true, Short: 10, Long: 64,
		What: "Go: io.Copy of a 10 MiB file into a loopback TCP connection, sendfile (delivered about 6.4 MiB, both sides reporting success)",
		argv: goMode("iocopy")},
	{Name: "go-dial-accept", Repro: true, Short: 20, Long: 500,
		What: "Go: dials racing with Accept on one listener (Go's net tests stalled: readiness before EPOLL_CTL_ADD was missed)",
		argv: goMode("dialaccept")},
	{Name: "sh-kill-self", Repro: true,
		What: "sh -c 'kill $$': status 143 and nothing on stderr (glassbox added \"killed by SIGTERM\")",
		argv: func(*Built, int) []string { return []string{"/bin/sh", "-c", `sh -c 'kill $$'; echo $?`} }},
	{Name: "go-sync", Short: 10, Long: 100,
		What: "Go: sync.Mutex/RWMutex/Cond/Once/Pool/Map and channels under contention with GC",
		argv: goMode("sync")},
	{Name: "go-signal", Short: 6, Long: 200,
		What: "Go: os/signal while goroutines allocate",
		argv: goMode("signal")},
	{Name: "forkmem", Short: 12, Long: 500,
		What: "C: fork from a thread while 4 threads write; neither side sees the other's later writes",
		argv: cProg("forkmem")},
	{Name: "forkstorm", Short: 15, Long: 300,
		What: "C: 4 threads fork at once while 2 threads write and check every word",
		argv: cProg("forkstorm")},
	{Name: "exitbusy", Short: 15, Long: 300,
		What: "C: exit_group, exit from a thread, fatal signal while threads spin, sleep in syscalls, fault, create threads",
		argv: cProg("exitbusy")},
	{Name: "execthread", Short: 10, Long: 200,
		What: "C: execve from a non-main thread (sometimes two at once) while the others run",
		argv: cProg("execthread")},
	{Name: "munmapfault", Short: 200, Long: 3000,
		What: "C: munmap/mprotect/MADV_DONTNEED racing with faults; exact SIGSEGV addresses and codes",
		argv: cProg("munmapfault")},
	{Name: "mprotectcow", Short: 5, Long: 200,
		What: "C: mprotect flipping while threads break copy-on-write after fork",
		argv: cProg("mprotectcow")},
	{Name: "dontneed", Short: 300, Long: 20000,
		What: "C: MADV_DONTNEED racing with writers on private, shared and file mappings, and after fork",
		argv: cProg("dontneed")},
	{Name: "tgkill", Short: 100, Long: 3000,
		What: "C: queued real-time signals to every thread (counts and values must match), SIGUSR1 bursts",
		argv: cProg("tgkill")},
	{Name: "stopcont", Short: 40, Long: 500,
		What: "C: SIGSTOP/SIGCONT to a process whose threads spin, fault and sleep: all of them stop, all go on",
		argv: cProg("stopcont")},
	{Name: "vforkthreads", Short: 10, Long: 200,
		What: "C: vfork and posix_spawn from 4 threads at once while others write and check memory",
		argv: cProg("vforkthreads")},
	{Name: "threadexit", Short: 6, Long: 200,
		What: "C: the process exits while its threads keep creating threads",
		argv: cProg("threadexit")},
	{Name: "python-forkthreads", Short: 6, Long: 200,
		What: "python3: threads fork while others mutate shared data; snapshot checksums in both",
		argv: pyScript("forkthreads.py")},
	{Name: "node-stress", Short: 4, Long: 100,
		What: "node: worker threads, execSync, spawn, fs and crypto pool work, timers at once",
		argv: func(b *Built, n int) []string {
			return []string{b.Node, filepath.Join(b.Dir, "nodestress.js"), strconv.Itoa(n)}
		}},
}

// Lookup returns the case with this name.
func Lookup(name string) (Case, bool) {
	for _, c := range Cases {
		if c.Name == name {
			return c, true
		}
	}
	return Case{}, false
}

// Built holds the compiled programs and the interpreters.
type Built struct {
	Dir    string // sources and binaries
	Python string
	Node   string
	bins   map[string]string
}

func (b *Built) bin(name string) string { return b.bins[name] }

// Tools finds the host programs the suite needs. A missing one is an
// error: the suite never skips.
func Tools() (gcc, goTool, python, node string, err error) {
	var missing []string
	find := func(names ...string) string {
		for _, n := range names {
			if p, err := exec.LookPath(n); err == nil {
				return p
			}
		}
		missing = append(missing, names[0])
		return ""
	}
	gcc = find("gcc")
	goTool = find("go")
	// Debian's python3 when present: the same interpreter every time,
	// not a version manager's shim script.
	if _, e := os.Stat("/usr/bin/python3"); e == nil {
		python = "/usr/bin/python3"
	} else {
		python = find("python3")
	}
	node = find("node", "nodejs")
	if len(missing) > 0 {
		err = fmt.Errorf("missing %s (./scripts/setup installs them)", strings.Join(missing, ", "))
	}
	return
}

// Build writes the sources into dir and compiles the C programs (gcc -O1
// -pthread, dynamically linked like the programs people run) and the Go
// program (static, CGO_ENABLED=0), in parallel.
func Build(dir string) (*Built, error) {
	gcc, goTool, python, node, err := Tools()
	if err != nil {
		return nil, err
	}
	b := &Built{Dir: dir, Python: python, Node: node, bins: map[string]string{}}
	var cs []string
	err = fs.WalkDir(sources, "testdata", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := sources.ReadFile(p)
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(p, "testdata/")
		out := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		if strings.HasSuffix(rel, ".c") {
			cs = append(cs, strings.TrimSuffix(rel, ".c"))
		}
		return os.WriteFile(out, data, 0o644)
	})
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "gostress", "go.mod"), []byte("module gostress\n\ngo 1.22\n"), 0o644); err != nil {
		return nil, err
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []string
	)
	do := func(name string, cmd *exec.Cmd) {
		defer wg.Done()
		if out, err := cmd.CombinedOutput(); err != nil {
			mu.Lock()
			errs = append(errs, fmt.Sprintf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out))
			mu.Unlock()
		}
	}
	for _, name := range cs {
		out := filepath.Join(dir, "bin", name)
		b.bins[name] = out
		wg.Add(1)
		go do(name, exec.Command(gcc, "-O1", "-Wall", "-Werror", "-Wno-unused-result", "-pthread",
			"-o", out, filepath.Join(dir, name+".c")))
	}
	out := filepath.Join(dir, "bin", "gostress")
	b.bins["gostress"] = out
	cmd := exec.Command(goTool, "build", "-o", out, ".")
	cmd.Dir = filepath.Join(dir, "gostress")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOWORK=off")
	wg.Add(1)
	go do("gostress", cmd)
	wg.Wait()
	if len(errs) > 0 {
		return nil, fmt.Errorf("building the stress programs:\n%s", strings.Join(errs, "\n"))
	}
	return b, nil
}
