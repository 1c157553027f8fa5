package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestPtraceAPI: ptrace(2) between guest processes answers as Linux does,
// stop by stop and errno by errno (see ptraceSrc).
func TestPtraceAPI(t *testing.T) {
	t.Parallel()
	bin := compileC(t, "ptrace", ptraceSrc)
	native, _ := diff(t, []string{bin})
	for _, want := range []string{"info size 80 entry nr 110", "child: getuid after tracer changed it: 4242",
		"child: skipped getpid returned 77", "State:\tt (tracing stop)", "steps 102", "child: SIGUSR2 handler",
		"grandchild exec: stopped 0x405", "group stop: stopped 0x8013", "exitkill victim: killed by 9",
		"dr6 b0 1", "child: xmm1 7.25", "seize uid 1000 dumpable: ok", "seize uid 1000 undumpable: EPERM"} {
		if !strings.Contains(native.Stdout, want) {
			t.Errorf("native run lacks %q:\n%s", want, native.Stdout)
		}
	}
}

// straceSrc makes a known set of calls: a failing and a succeeding open,
// a read, a signal to itself with a handler, writes, and (with an
// argument) a child that writes and exits 3.
const straceSrc = `#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
static void on_usr1(int s) { (void)s; write(1, "handler\n", 8); }
int main(int argc, char **argv) {
	signal(SIGUSR1, on_usr1);
	open("/nonexistent/file", O_RDONLY);
	int fd = open("/etc/passwd", O_RDONLY);
	char b[16];
	read(fd, b, sizeof b);
	close(fd);
	kill(getpid(), SIGUSR1);
	write(1, "hello\n", 6);
	if (argc > 1) {
		pid_t p = fork();
		if (p == 0) { write(1, "child\n", 6); _exit(3); }
		waitpid(p, 0, 0);
	}
	return 0;
}
`

// straceNorm masks what differs between any two runs: pids, addresses,
// CPU times, and strace -c's timing columns.
var straceNorm = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\[pid +\d+\]`), "[pid N]"},
	{regexp.MustCompile(`Process \d+`), "Process N"},
	{regexp.MustCompile(`si_pid=\d+`), "si_pid=N"},
	{regexp.MustCompile(`si_utime=\d+`), "si_utime=N"},
	{regexp.MustCompile(`si_stime=\d+`), "si_stime=N"},
	{regexp.MustCompile(`0x[0-9a-f]{6,}`), "0xADDR"},
	{regexp.MustCompile(`process \d+`), "process N"},
	{regexp.MustCompile(`LWP \d+`), "LWP N"},
	{regexp.MustCompile(`(?m)^ *[0-9.]+ +[0-9.]+ +\d+ +`), ""}, // strace -c: % time, seconds, usecs/call
}

func normalizeTrace(s string) string {
	for _, n := range straceNorm {
		s = n.re.ReplaceAllString(s, n.with)
	}
	return s
}

// diffTrace runs argv natively and under glassbox and compares exit
// status and the normalized stdout and stderr (gdb and strace print pids
// and addresses).
func diffTrace(t *testing.T, argv []string) res {
	t.Helper()
	native := run(t, argv, os.Environ())
	gb := runGlassbox(t, nil, argv)
	no, go_ := normalizeTrace(native.Stdout), normalizeTrace(gb.Stdout)
	ns, gs := normalizeTrace(native.Stderr), normalizeTrace(gb.Stderr)
	if no != go_ || native.Code != gb.Code || ns != gs {
		t.Errorf("%q: glassbox differs from native\n===== native: exit %d\n%s\n%s\n===== glassbox: exit %d\n%s\n%s",
			argv, native.Code, no, ns, gb.Code, go_, gs)
	}
	return native
}

// TestStrace: the host's strace, run inside glassbox, traces a guest as
// it does on the host: plain, following forks and execs (-f), counting
// (-c) and filtering (-e trace=).
func TestStrace(t *testing.T) {
	t.Parallel()
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace not installed (scripts/setup installs it: apt-get install strace)")
	}
	bin := compileC(t, "strace-target", straceSrc)
	for _, argv := range [][]string{
		{strace, "-e", "trace=openat,read,write,close,exit_group", bin},
		{strace, "-f", "-q", "-e", "trace=write,exit_group", bin, "fork"},
		{strace, "-f", "-q", "-e", "trace=execve,write", "sh", "-c", bin + "; /bin/echo done"},
		{strace, "-c", "-S", "name", "-e", "trace=openat,read,write,close", bin},
		{strace, "-e", "trace=none", "-e", "signal=SIGUSR1", bin},
	} {
		native := diffTrace(t, argv)
		if !strings.Contains(native.Stderr, "write(") && !strings.Contains(native.Stderr, "SIGUSR1") &&
			!strings.Contains(native.Stderr, "calls") {
			t.Errorf("%q: native strace printed no trace:\n%s", argv, native.Stderr)
		}
	}
}

// gdbSrc is a program to debug: a function called three times, a global
// that changes, and (with an argument) two threads one after the other.
const gdbSrc = `#include <pthread.h>
#include <stdio.h>
int counter = 0;
int add(int a, int b) { counter += b; return a + b; }
void *worker(void *a) { long n = (long)a; counter += n; return 0; }
int main(int argc, char **argv) {
	int s = 0;
	for (int i = 0; i < 3; i++) s = add(s, i);
	printf("sum %d counter %d\n", s, counter);
	if (argc > 1) {
		for (long i = 1; i <= 2; i++) {
			pthread_t t;
			pthread_create(&t, 0, worker, (void *)i);
			pthread_join(t, 0);
		}
		printf("counter %d\n", counter);
	}
	return 0;
}
`

// TestGDB: the host's gdb, run inside glassbox, debugs a guest as on the
// host: breakpoints, run, backtrace, print, next, step, finish, stepi, a
// hardware watchpoint, continue, and threads.
func TestGDB(t *testing.T) {
	t.Parallel()
	gdb, err := exec.LookPath("gdb")
	if err != nil {
		t.Skip("gdb not installed (scripts/setup installs it: apt-get install gdb)")
	}
	bin := compileC(t, "gdb-target", gdbSrc, "-dynamic", "-g", "-O0", "-pthread")
	dir := t.TempDir()
	scripts := map[string]string{
		"basic": "break add\nrun\nbt\nprint a\nprint counter\nfinish\nnext\nstep\ninfo breakpoints\ndelete\nstepi\nprint $pc == $rip\ncontinue\n",
		"watch": "break main\nrun\nwatch counter\ncontinue\ncontinue\nbt\ndelete\ncontinue\n",
		// Thread creation and exit messages race with each other on the
		// host too (a joined thread is reported gone when the tracer gets
		// to it): they are left out.
		"threads": "set print thread-events off\nset args threads\nbreak worker\nrun\nbt 1\nprint n\ncontinue\nprint (long)a\ncontinue\n",
	}
	for name, cmds := range scripts {
		f := filepath.Join(dir, name+".gdb")
		writeFile(t, f, cmds, 0o644)
		argv := []string{gdb, "-batch", "-nx", "-x", f, bin}
		native := diffTrace(t, argv)
		if name == "watch" && !strings.Contains(native.Stdout, "Hardware watchpoint 2: counter") {
			t.Errorf("native gdb set no hardware watchpoint:\n%s", native.Stdout)
		}
	}
}

// ptraceEscapeSrc tries to reach each pid given in argv through ptrace,
// process_vm_readv, /proc/PID/mem and kill, and prints the errors.
const ptraceEscapeSrc = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
int main(int argc, char **argv) {
	for (int i = 1; i < argc; i++) {
		int pid = atoi(argv[i]);
		char buf[8], path[64];
		struct iovec l = { buf, 8 }, r = { (void *)0x400000, 8 };
		errno = 0; ptrace(PTRACE_ATTACH, pid, 0, 0); int e1 = errno;
		errno = 0; ptrace(PTRACE_SEIZE, pid, 0, 0); int e2 = errno;
		errno = 0; process_vm_readv(pid, &l, 1, &r, 1, 0); int e3 = errno;
		snprintf(path, sizeof path, "/proc/%d/mem", pid);
		errno = 0; open(path, O_RDWR); int e4 = errno;
		errno = 0; kill(pid, 0); int e5 = errno;
		printf("%s %s %s %s %s\n", strerrorname_np(e1), strerrorname_np(e2), strerrorname_np(e3),
		       strerrorname_np(e4), strerrorname_np(e5));
	}
	return 0;
}
`

// TestPtraceEscape: a guest cannot trace, read or signal a process
// outside its sandbox: the host's pids (this test's own, its parent's)
// are not pids inside, whatever their numbers.
func TestPtraceEscape(t *testing.T) {
	t.Parallel()
	bin := compileC(t, "ptrace-escape", ptraceEscapeSrc)
	pids := []string{strconv.Itoa(os.Getpid()), strconv.Itoa(os.Getppid()), "4194304"}
	r := runGlassbox(t, nil, append([]string{bin}, pids...))
	want := strings.Repeat("ESRCH ESRCH ESRCH ENOENT ESRCH\n", len(pids))
	if r.Stdout != want || r.Code != 0 {
		t.Errorf("a guest reached host pids %v:\n%s\nwant:\n%s", pids, r, want)
	}
}

// debugRegEscapeSrc, traced by its parent, has the parent try hardware
// breakpoints on glassbox' own pages above the guest's TASK_SIZE (the
// stub's code, its slots) and just below them: only the guest's addresses
// may be watched.
const debugRegEscapeSrc = `#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>
#define DR(i) (offsetof(struct user, u_debugreg) + (i) * 8)
static void try(pid_t c, const char *what, unsigned long addr, unsigned long dr7) {
	errno = 0;
	long r1 = ptrace(PTRACE_POKEUSER, c, DR(0), addr);
	int e1 = errno;
	errno = 0;
	long r2 = ptrace(PTRACE_POKEUSER, c, DR(7), dr7);
	int e2 = errno;
	printf("%s: dr0 %ld %s dr7 %ld %s\n", what, r1, strerrorname_np(e1), r2, strerrorname_np(e2));
	ptrace(PTRACE_POKEUSER, c, DR(7), 0);
}
int main(void) {
	pid_t c = fork();
	if (c == 0) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		_exit(0);
	}
	waitpid(c, 0, 0);
	try(c, "stub code", 0x7ff000000100UL, 1);
	try(c, "stub slots", 0x7ff000200000UL, 1 | (3UL << 18) | (1UL << 16));
	try(c, "straddling", 0x7feffffffffcUL, 1 | (2UL << 18) | (1UL << 16));
	try(c, "guest", 0x7fefffff0000UL, 1 | (3UL << 18) | (1UL << 16));
	kill(c, SIGKILL);
	waitpid(c, 0, 0);
	return 0;
}
`

// TestDebugRegEscape: a guest debugger cannot put a hardware breakpoint on
// glassbox' stub pages (there, a watchpoint would let the guest observe or
// disturb the stub), on either platform. Native Linux would accept these
// addresses (its user space is larger), so the expected output is written
// down rather than taken from the host.
func TestDebugRegEscape(t *testing.T) {
	t.Parallel()
	bin := compileC(t, "debugreg-escape", debugRegEscapeSrc)
	want := "stub code: dr0 -1 EINVAL dr7 0 0\n" +
		"stub slots: dr0 -1 EINVAL dr7 0 0\n" +
		"straddling: dr0 0 0 dr7 -1 EINVAL\n" +
		"guest: dr0 0 0 dr7 0 0\n"
	for _, p := range []string{"ptrace", "seccomp"} {
		r := runGlassbox(t, []string{"--platform=" + p}, []string{bin})
		if r.Stdout != want || r.Code != 0 {
			t.Errorf("--platform=%s: got\n%s\nwant:\n%s", p, r, want)
		}
	}
}
