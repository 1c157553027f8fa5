// Package tests is glassbox's differential test suite: the host is the truth.
//
// Every test runs a program natively and under `glassbox run`, and compares
// stdout and exit status. A native death by signal N counts as exit status
// 128+N, which is what the glassbox CLI exits with when its guest is killed.
//
// Requirements: gcc with a static glibc (libc6-dev), and /bin/busybox from
// Debian's busybox-static. A missing tool is a failure, never a skip.
//
// GLASSBOX_BIN=/path/to/glassbox runs the suite against a prebuilt binary
// instead of building glassbox/cmd/glassbox.
//
// GLASSBOX_PLATFORM=ptrace|seccomp|auto runs every glassbox of the suite on that
// platform: glassbox takes its default --platform from the variable, so it
// reaches the runs made through shell command lines too. The suite must
// pass on every platform.
package tests

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// runTimeout bounds every process a test starts, so a hang fails the test
// instead of stalling the suite.
const runTimeout = 60 * time.Second

var (
	glassboxBin string // path of the glassbox binary under test
	buildErr    error  // why it could not be built, reported by every glassbox run
	workDir     string // per-test-binary scratch dir (compiled C programs)
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "glassbox-tests-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "tests:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	workDir = dir

	if bin := os.Getenv("GLASSBOX_BIN"); bin != "" {
		glassboxBin, buildErr = filepath.Abs(bin)
	} else {
		glassboxBin = filepath.Join(dir, "glassbox")
		buildErr = buildGlassbox(glassboxBin)
	}
	switch pl := os.Getenv("GLASSBOX_PLATFORM"); pl {
	case "", "ptrace", "seccomp", "auto":
		if pl != "" {
			fmt.Fprintln(os.Stderr, "tests: glassbox platform:", pl)
		}
	default:
		fmt.Fprintf(os.Stderr, "tests: GLASSBOX_PLATFORM=%q is not a platform (ptrace, seccomp or auto)\n", pl)
		return 1
	}
	if buildErr != nil {
		// Keep going: the native halves of the tests still run, and every
		// glassbox run reports this error in its own test.
		fmt.Fprintln(os.Stderr, "tests: glassbox unavailable:", buildErr)
	}
	return m.Run()
}

// buildGlassbox builds glassbox/cmd/glassbox from the module root (the parent
// of this package's directory, which is the working directory of go test).
func buildGlassbox(out string) error {
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	cmd := exec.Command(goTool, "build", "-o", out, "glassbox/cmd/glassbox")
	cmd.Dir = filepath.Dir(wd)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0") // as README and scripts/install build it
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build glassbox/cmd/glassbox: %v\n%s", err, msg)
	}
	return nil
}

// res is the outcome of one process run.
type res struct {
	Stdout, Stderr string
	Code           int  // exit status, or 128+N after death by signal N
	Signaled       bool // the process itself was killed by a signal
}

func (r res) String() string {
	return fmt.Sprintf("exit %d\n--- stdout ---\n%s\n--- stderr ---\n%s", r.Code, r.Stdout, r.Stderr)
}

// run starts argv with the given environment (nil: inherit ours), waits at
// most runTimeout, and decodes the exit status.
func run(t *testing.T, argv, env []string) res {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Own process group, so a timeout kills everything the run started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	r := res{Stdout: stdout.String(), Stderr: stderr.String()}
	if ctx.Err() == context.DeadlineExceeded {
		t.Fatalf("%q: timed out after %v\n%s", argv, runTimeout, r)
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		ws := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			r.Code, r.Signaled = 128+int(ws.Signal()), true
		} else {
			r.Code = ws.ExitStatus()
		}
	default:
		t.Fatalf("%q: %v", argv, err)
	}
	return r
}

// runNative runs argv on the host with our environment plus env (K=V...).
func runNative(t *testing.T, argv []string, env ...string) res {
	t.Helper()
	return run(t, argv, append(os.Environ(), env...))
}

// runGlassbox runs `glassbox run gbFlags... -- argv...` with our environment.
func runGlassbox(t *testing.T, gbFlags, argv []string) res {
	t.Helper()
	args := append([]string{"run"}, gbFlags...)
	args = append(append(args, "--"), argv...)
	return runGlassboxRaw(t, args...)
}

// runGlassboxRaw runs the glassbox binary with exactly these arguments.
func runGlassboxRaw(t *testing.T, args ...string) res {
	t.Helper()
	if buildErr != nil {
		t.Fatalf("glassbox unavailable: %v", buildErr)
	}
	r := run(t, append([]string{glassboxBin}, args...), os.Environ())
	if strings.Contains(r.Stderr, "goroutine ") && strings.Contains(r.Stderr, "panic") ||
		strings.Contains(r.Stderr, "fatal error:") {
		t.Errorf("glassbox %q crashed with a Go stack trace:\n%s", args, r.Stderr)
	}
	if r.Signaled {
		t.Errorf("glassbox %q itself was killed by signal %d (it must exit 128+N instead)", args, r.Code-128)
	}
	return r
}

// diffOpts describe one differential run.
type diffOpts struct {
	env      []string // K=V: set natively, passed to glassbox as --env K=V
	clearEnv bool     // natively only env; glassbox gets --clear-env
	gbFlags  []string // extra glassbox flags (not mirrored natively)
	// freshNet runs the native side in a network namespace of its own
	// with lo up: the world the private loopback (--net=none) gives the
	// guest. The host's own loopback may differ from a fresh one (this
	// machine's has IPv6 disabled, a new namespace has ::1).
	freshNet bool
}

// diff runs argv natively and under glassbox and requires equal stdout,
// stderr and exit status (stderr unless glassbox was asked to print: see
// gbPrints). It returns both results for further checks.
func diff(t *testing.T, argv []string) (native, gb res) {
	t.Helper()
	return diffWith(t, diffOpts{}, argv)
}

func diffWith(t *testing.T, o diffOpts, argv []string) (native, gb res) {
	t.Helper()
	flags := append([]string(nil), o.gbFlags...)
	nargv := argv
	if o.freshNet {
		nargv = append(freshNetPrefix(t), argv...)
	}
	if o.clearEnv {
		native = run(t, nargv, append([]string{}, o.env...))
		flags = append(flags, "--clear-env")
	} else {
		native = runNative(t, nargv, o.env...)
	}
	for _, kv := range o.env {
		flags = append(flags, "--env", kv)
	}
	gb = runGlassbox(t, flags, argv)
	if native.Stdout != gb.Stdout || native.Code != gb.Code {
		t.Errorf("%q: glassbox differs from native\n===== native: %s\n===== glassbox %q: %s",
			argv, native, flags, gb)
	} else if native.Stderr != gb.Stderr && !gbPrints(flags) {
		// Quiet by default: glassbox adds nothing to the guest's stderr.
		t.Errorf("%q: glassbox's stderr differs from native\n===== native:\n%s\n===== glassbox %q:\n%s",
			argv, native.Stderr, flags, gb.Stderr)
	}
	return native, gb
}

var freshNetOnce struct {
	sync.Once
	err error
}

// freshNetPrefix returns the argv prefix that runs a program natively in
// a new network namespace with lo up (see diffOpts.freshNet); the test
// fails when the host cannot make one.
func freshNetPrefix(t *testing.T) []string {
	t.Helper()
	prefix := []string{"unshare", "-n", "sh", "-c", `/usr/sbin/ip link set lo up && exec "$@"`, "sh"}
	freshNetOnce.Do(func() {
		out, err := exec.Command(prefix[0], append(prefix[1:], "true")...).CombinedOutput()
		if err != nil {
			freshNetOnce.err = fmt.Errorf("%v: %s", err, out)
		}
	})
	if freshNetOnce.err != nil {
		t.Fatalf("cannot run natively in a new network namespace (run the tests as root, with util-linux and iproute2 installed): %v", freshNetOnce.err)
	}
	return prefix
}

// gbPrints reports whether glassbox flags ask glassbox to write lines of
// its own to stderr (--stats, --verbose, a trace without --trace-out).
func gbPrints(flags []string) bool {
	traceOut := false
	for _, f := range flags {
		traceOut = traceOut || strings.HasPrefix(f, "--trace-out")
	}
	for _, f := range flags {
		switch {
		case f == "--stats", f == "-v", f == "--verbose",
			(f == "--trace" || strings.HasPrefix(f, "--trace=")) && !traceOut:
			return true
		}
	}
	return false
}

// compiled caches compileC results per test binary: key → *compileEntry.
var compiled sync.Map

type compileEntry struct {
	once sync.Once
	path string
	err  error
}

// compileC compiles src (C) with gcc -O1 -static plus extraFlags (-static is
// left out when extraFlags ask for -static-pie or "-dynamic") and returns the absolute path
// of the executable. Results are cached per test binary by name, source and
// flags, so parallel tests compiling the same program share one gcc run.
func compileC(t *testing.T, name, src string, extraFlags ...string) string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Fatalf("gcc not found (%v): the differential tests need gcc and libc6-dev (apt-get install gcc libc6-dev)", err)
	}
	flags := []string{"-O1", "-Wall", "-Wno-unused-result"}
	static := true
	var rest []string
	for _, f := range extraFlags {
		switch f {
		case "-static-pie":
			static = false
		case "-dynamic": // glassbox' own marker: link against the host's shared libc
			static = false
			continue
		}
		rest = append(rest, f)
	}
	extraFlags = rest
	if static {
		flags = append(flags, "-static")
	}
	flags = append(flags, extraFlags...)

	h := sha256.Sum256([]byte(src + "\x00" + strings.Join(flags, "\x00")))
	key := name + "-" + hex.EncodeToString(h[:6])
	v, _ := compiled.LoadOrStore(key, &compileEntry{})
	e := v.(*compileEntry)
	e.once.Do(func() {
		dir := filepath.Join(workDir, "bin")
		if e.err = os.MkdirAll(dir, 0o755); e.err != nil {
			return
		}
		cfile := filepath.Join(dir, key+".c")
		if e.err = os.WriteFile(cfile, []byte(src), 0o644); e.err != nil {
			return
		}
		out := filepath.Join(dir, key)
		args := append(append([]string{}, flags...), "-o", out, cfile)
		if msg, err := exec.Command(gcc, args...).CombinedOutput(); err != nil {
			e.err = fmt.Errorf("gcc %s: %v\n%s", strings.Join(args, " "), err, msg)
			return
		}
		e.path = out
	})
	if e.err != nil {
		t.Fatalf("compile %s: %v", name, e.err)
	}
	return e.path
}

// busybox returns the path of the host's static busybox, failing the test if
// it is missing.
func busybox(t *testing.T) string {
	t.Helper()
	const bb = "/bin/busybox"
	if _, err := os.Stat(bb); err != nil {
		t.Fatalf("%s missing (%v): apt-get install busybox-static", bb, err)
	}
	return bb
}

// writeFile creates path with content and mode, failing the test on error.
func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // umask-independent
		t.Fatal(err)
	}
}

// expect fails the test unless r has exactly this stdout and exit status.
func expect(t *testing.T, what string, r res, stdout string, code int) {
	t.Helper()
	if r.Stdout != stdout || r.Code != code {
		t.Errorf("%s: want exit %d, stdout %q\ngot %s", what, code, stdout, r)
	}
}
