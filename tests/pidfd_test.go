package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// pidfdCommon is the head of the pidfd test programs: raw syscalls (the
// static glibc may lack wrappers) and R, which prints a call, its result
// and errno.
const pidfdCommon = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sched.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <linux/sched.h>

static int popen_(int pid, unsigned flags) { return syscall(SYS_pidfd_open, pid, flags); }
static int psig(int fd, int sig, siginfo_t *si, unsigned fl) { return syscall(SYS_pidfd_send_signal, fd, sig, si, fl); }
static int pgetfd(int fd, int t, unsigned fl) { return syscall(SYS_pidfd_getfd, fd, t, fl); }
/* R prints a call, its result (descriptors, > 2, as 3) and errno. */
#define R(expr) do { errno = 0; long r_ = (expr); printf("%-60s = %ld %s\n", #expr, r_ < 0 ? -1L : (r_ > 2 ? 3L : r_), r_ < 0 ? strerror(errno) : ""); } while (0)
#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
static int wid(int type, int id, siginfo_t *si, int opts) { return syscall(SYS_waitid, type, id, si, opts, NULL); }
`

const pidfdWaitPollC = pidfdCommon + `
static int pollfd1(int fd, int ms) { struct pollfd p = {fd, POLLIN, 0}; int n = poll(&p, 1, ms); return n <= 0 ? n : p.revents; }

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	R(popen_(0, 0));
	R(popen_(-1, 0));
	R(popen_(getpid(), 1));
	R(popen_(getpid(), 0x40000000));
	R(popen_(99999999, 0));
	/* waitid(P_PIDFD) sleeps until the child exits */
	pid_t c0 = fork();
	if (c0 == 0) { usleep(100000); _exit(5); }
	int fd0 = popen_(c0, 0);
	siginfo_t si0 = {0};
	R(wid(P_PIDFD, fd0, &si0, WEXITED));
	printf("blocking wait: pid ok %d status %d\n", si0.si_pid == c0, si0.si_status);
	close(fd0);
	int p[2]; pipe(p);
	pid_t c = fork();
	if (c == 0) { char b; read(p[0], &b, 1); _exit(7); }
	int fd = popen_(c, 0);
	printf("fd>2 %d cloexec %d\n", fd > 2, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	printf("flags %o\n", fcntl(fd, F_GETFL));
	printf("poll before exit: %d\n", pollfd1(fd, 50));
	char buf[8]; R(read(fd, buf, 8));
	R(write(fd, buf, 1));
	R(lseek(fd, 0, SEEK_SET));
	struct stat st; fstat(fd, &st);
	printf("mode %o\n", st.st_mode);
	char link[64] = {0}, path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	readlink(path, link, sizeof link - 1);
	printf("link %s\n", link);
	snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
	FILE *f = fopen(path, "r"); char line[256];
	while (f && fgets(line, sizeof line, f)) {
		if (!strncmp(line, "Pid:", 4)) printf("fdinfo Pid matches: %d\n", atoi(line + 4) == c);
		else if (!strncmp(line, "NSpid:", 6)) printf("fdinfo NSpid matches: %d\n", atoi(line + 6) == c);
		else { char *t = strchr(line, ':'); if (t) *t = 0; printf("fdinfo key %s\n", line); }
	}
	if (f) fclose(f);
	int nb = popen_(c, PIDFD_NONBLOCK);
	siginfo_t si;
	R(wid(P_PIDFD, nb, &si, WEXITED));
	R(wid(P_PIDFD, nb, &si, WEXITED | WNOHANG));
	R(wid(P_PIDFD, -1, &si, WEXITED));
	R(wid(P_PIDFD, p[0], &si, WEXITED));
	R(wid(P_PIDFD, 1000, &si, WEXITED));
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 42};
	R(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
	write(p[1], "x", 1);
	printf("poll after exit: %d\n", pollfd1(fd, 5000));
	struct epoll_event out; int n = epoll_wait(ep, &out, 1, 5000);
	printf("epoll: %d %x %u\n", n, n > 0 ? out.events : 0, n > 0 ? out.data.u32 : 0);
	R(psig(fd, 0, NULL, 0));
	R(popen_(c, 0) >= 0 ? 0 : -1);
	memset(&si, 0, sizeof si);
	R(wid(P_PIDFD, fd, &si, WEXITED | WNOWAIT));
	printf("si pid ok %d code %d status %d\n", si.si_pid == c, si.si_code, si.si_status);
	R(wid(P_PIDFD, fd, &si, WEXITED));
	printf("si pid ok %d code %d status %d signo %d\n", si.si_pid == c, si.si_code, si.si_status, si.si_signo);
	printf("poll after reap: %d\n", pollfd1(fd, 0));
	f = fopen(path, "r");
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "Pid:", 4) || !strncmp(line, "NSpid:", 6)) printf("reaped fdinfo %s", line);
	if (f) fclose(f);
	R(wid(P_PIDFD, fd, &si, WEXITED));
	R(psig(fd, 0, NULL, 0));
	R(psig(fd, SIGTERM, NULL, 0));
	R(popen_(c, 0));
	R(pgetfd(fd, 0, 0));
	R(psig(p[0], 0, NULL, 0));
	R(psig(-1, 0, NULL, 0));
	int self = popen_(getpid(), 0);
	R(psig(self, 0, NULL, 1));
	R(psig(self, 0, NULL, 0));
	R(psig(self, 99, NULL, 0));
	R(wid(P_PIDFD, self, &si, WEXITED));
	R(wid(P_PIDFD, self, &si, WEXITED|WNOHANG));
	return 0;
}
`

// TestPidfdOpenWaitPoll: pidfd_open's errors (EINVAL, ESRCH), the file
// itself (close-on-exec, O_RDWR, read/write EINVAL, lseek ESPIPE, fstat,
// /proc/self/fd and fdinfo with its Pid: line, -1 once reaped),
// waitid(P_PIDFD) blocking, non-blocking (EAGAIN), on a non-child (ECHILD)
// and on bad descriptors (EINVAL, EBADF), and poll and epoll: readable when
// the process exits, hung up once it is reaped.
func TestPidfdOpenWaitPoll(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "pidfd-wait-poll", pidfdWaitPollC)
	native, _ := diff(t, []string{prog})
	if native.Code != 0 || !strings.Contains(native.Stdout, "poll after exit: 1\n") {
		t.Errorf("native run looks wrong: %s", native)
	}
}

const pidfdSignalGetfdC = pidfdCommon + `
#include <sys/stat.h>
static volatile int tid2, tid3;
static void *thr(void *a) { tid2 = gettid(); pause(); return 0; }
static void *thr3(void *a) { tid3 = gettid(); usleep(100000); return 0; }
static volatile sig_atomic_t got, gotcode, gotval;
static void h(int s, siginfo_t *si, void *u) { got = s; gotcode = si->si_code; gotval = si->si_value.sival_int; }

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	int p[2]; pipe(p);
	pid_t c = fork();
	if (c == 0) { write(p[1], "hello", 5); close(p[1]); char b; read(p[0], &b, 1); pause(); _exit(0); }
	close(p[1]);
	char b[8]; read(p[0], b, 5);
	int fd = popen_(c, 0);
	int g = pgetfd(fd, p[0], 0);
	printf("getfd cloexec %d\n", fcntl(g, F_GETFD));
	struct stat s1, s2; fstat(g, &s1); fstat(p[0], &s2);
	printf("same pipe %d\n", s1.st_ino == s2.st_ino);
	R(pgetfd(fd, p[0], 1));
	R(pgetfd(fd, 999, 0));
	R(pgetfd(fd, -1, 0));
	R(pgetfd(p[0], 0, 0));
	R(pgetfd(-1, 0, 0));
	R(psig(fd, SIGTERM, NULL, 8));
	R(psig(fd, SIGTERM, NULL, 3));
	siginfo_t si; memset(&si, 0, sizeof si);
	si.si_signo = SIGUSR1; si.si_code = SI_USER;
	R(psig(fd, SIGUSR1, &si, 0));
	si.si_code = SI_QUEUE; si.si_signo = SIGUSR2;
	R(psig(fd, SIGUSR1, &si, 0));
	R(psig(fd, SIGTERM, NULL, 0));
	siginfo_t w; memset(&w, 0, sizeof w);
	R(wid(P_PIDFD, fd, &w, WEXITED));
	printf("killed: code %d status %d pid ok %d\n", w.si_code, w.si_status, w.si_pid == c);
	close(fd);

	/* signals to self with siginfo */
	struct sigaction sa = {0}; sa.sa_sigaction = h; sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, 0);
	int self = popen_(getpid(), 0);
	memset(&si, 0, sizeof si);
	si.si_signo = SIGUSR1; si.si_code = SI_QUEUE; si.si_value.sival_int = 77;
	R(psig(self, SIGUSR1, &si, 0));
	printf("got %d code %d val %d\n", got, gotcode, gotval);
	got = 0;
	R(psig(self, SIGUSR1, NULL, 0));
	printf("got %d code %d\n", got, gotcode);

	/* thread pidfds */
	pthread_t th; pthread_create(&th, 0, thr, 0);
	while (!tid2) usleep(1000);
	R(popen_(tid2, 0));
	R(popen_(tid2, O_EXCL));
	R(popen_(getpid(), O_EXCL));
	R(popen_(getpid(), O_EXCL|O_NONBLOCK));

	/* a thread pidfd polls readable (and hung up) once its thread is gone */
	pthread_t t3; pthread_create(&t3, 0, thr3, 0);
	while (!tid3) usleep(1000);
	int tfd = popen_(tid3, O_EXCL);
	struct pollfd pf = {tfd, POLLIN, 0};
	printf("thread poll before: %d\n", poll(&pf, 1, 0));
	pf.revents = 0;
	int pn = poll(&pf, 1, 5000);
	/* POLLHUP joins POLLIN once the thread is released, a moment after
	   it exited: whether a poller sees it is a race on Linux too. */
	printf("thread poll after: %d %d\n", pn, (pf.revents & POLLIN) != 0);
	pthread_join(t3, 0);
	R(psig(tfd, 0, NULL, 0));
	R(popen_(tid3, O_EXCL));

	/* the process group scope signals the group the pidfd's pid leads */
	setpgid(0, 0);
	R(psig(self, 0, NULL, 4));

	/* clone with CLONE_PIDFD */
	int pfd = -1;
	long r = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, &pfd, 0, 0);
	if (r == 0) _exit(3);
	printf("clone pidfd ok %d cloexec %d\n", pfd > 2, fcntl(pfd, F_GETFD));
	R(wid(P_PIDFD, pfd, &w, WEXITED));
	printf("status %d\n", w.si_status);
	R(syscall(SYS_clone, CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD, 0, &pfd, 0, 0));
	R(syscall(SYS_clone, CLONE_PIDFD | CLONE_DETACHED | SIGCHLD, 0, &pfd, 0, 0));
	struct clone_args ca = {0};
	int pfd3 = -1;
	ca.flags = CLONE_PIDFD; ca.pidfd = (uintptr_t)&pfd3; ca.exit_signal = SIGCHLD;
	r = syscall(SYS_clone3, &ca, sizeof ca);
	if (r == 0) _exit(4);
	if (r < 0) printf("clone3: %s\n", strerror(errno));
	printf("clone3 pidfd ok %d\n", pfd3 > 2);
	R(wid(P_PIDFD, pfd3, &w, WEXITED));
	printf("status %d\n", w.si_status);
	ca.pidfd = 8; /* bad pointer */
	R(syscall(SYS_clone3, &ca, sizeof ca));

	/* the caller by name, without a pidfd */
	R(psig(-10000, 0, NULL, 0));
	R(psig(-10001, 0, NULL, 0));
	R(pgetfd(-10000, 0, 0));
	/* a zombie is still there (kill too finds it); once reaped, ESRCH */
	c = fork();
	if (c == 0) _exit(0);
	usleep(100000);
	int z = popen_(c, 0);
	R(kill(c, 0));
	R(kill(c, SIGTERM));
	R(psig(z, SIGTERM, NULL, 0));
	R(psig(z, 99, NULL, 0));
	R(pgetfd(z, 0, 0));
	waitpid(c, 0, 0);
	R(psig(z, 99, NULL, 0));
	R(psig(z, 0, (void *)8, 0));
	R(kill(c, 0));
	return 0;
}
`

// TestPidfdSignalGetfdClone: pidfd_getfd of a child's pipe (a close-on-exec
// duplicate of the same pipe; EINVAL, EBADF), pidfd_send_signal with and
// without siginfo (EINVAL for flags or a mismatched si_signo, EPERM for a
// forged si_code, SIGTERM killing the child, the PIDFD_SELF_* names, the
// process group scope), thread pidfds (PIDFD_THREAD; ENOENT without it;
// readable and hung up once the thread is gone), and CLONE_PIDFD in clone
// and clone3 (EINVAL with CLONE_PARENT_SETTID or CLONE_DETACHED, EFAULT).
func TestPidfdSignalGetfdClone(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "pidfd-signal-getfd", pidfdSignalGetfdC, "-pthread")
	native, _ := diff(t, []string{prog})
	if native.Code != 0 || !strings.Contains(native.Stdout, "clone3 pidfd ok 1\n") {
		t.Errorf("native run looks wrong: %s", native)
	}
}

const pidfdCloneThreadC = `#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <time.h>
static int child(void *a) {
	struct timespec ts = {0, 100000000};
	syscall(SYS_nanosleep, &ts, NULL);
	syscall(SYS_exit, 0);
	return 0;
}
int main(void) {
	char *stack = malloc(1 << 16);
	int pfd = -1;
	int tid = clone(child, stack + (1 << 16), CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
		CLONE_SYSVSEM | CLONE_PIDFD, NULL, &pfd);
	printf("clone ok %d pidfd ok %d flags %o\n", tid > 0, pfd > 2, fcntl(pfd, F_GETFL));
	struct pollfd p = {pfd, POLLIN, 0};
	printf("poll now: %d\n", poll(&p, 1, 0));
	int n = poll(&p, 1, 5000);
	printf("poll: %d revents %x\n", n, p.revents);
	return 0;
}
`

// TestPidfdCloneThread: clone(CLONE_THREAD|CLONE_PIDFD) gives a thread
// pidfd (PIDFD_THREAD in its flags) that polls readable and hung up once
// the thread has exited.
func TestPidfdCloneThread(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "pidfd-clone-thread", pidfdCloneThreadC)
	native, _ := diff(t, []string{prog})
	expect(t, "native", native, "clone ok 1 pidfd ok 1 flags 202\npoll now: 0\npoll: 1 revents 11\n", 0)
}

// compileGo builds a single-file Go program (statically, CGO_ENABLED=0)
// and returns the path of the executable.
func compileGo(t *testing.T, name, src string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module "+name+"\ngo 1.22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", name, err, out)
	}
	return bin
}

const goOsExecProgram = `package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

func main() {
	out, err := exec.Command("/bin/sh", "-c", "echo out; echo err >&2; exit 3").CombinedOutput()
	fmt.Printf("combined: %q %v\n", out, err)

	// Signal and Wait go through the child's pidfd.
	c := exec.Command("/bin/sleep", "30")
	if err := c.Start(); err != nil {
		fmt.Println("start:", err)
		return
	}
	fmt.Println("signal:", c.Process.Signal(syscall.SIGTERM))
	fmt.Println("wait:", c.Wait())
	fmt.Println("signal after wait:", c.Process.Signal(syscall.SIGTERM))

	// FindProcess opens a pidfd (pidfd_open) for a child started elsewhere.
	c2 := exec.Command("/bin/sleep", "30")
	c2.Start()
	p, err := os.FindProcess(c2.Process.Pid)
	fmt.Println("find:", err, p.Signal(syscall.Signal(0)))
	fmt.Println("kill:", p.Kill())
	st, err := p.Wait()
	fmt.Println("wait found:", st, err)
	fmt.Println("wait again:", c2.Wait())

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	fmt.Println("context:", exec.CommandContext(ctx, "/bin/sleep", "30").Run())

	var pidfd int = -1
	c3 := exec.Command("/bin/true")
	c3.SysProcAttr = &syscall.SysProcAttr{PidFD: &pidfd}
	fmt.Println("run with PidFD:", c3.Run(), pidfd > 2)
}
`

// TestPidfdGoOsExec: Go's os/exec and os.StartProcess use pidfds
// (clone(CLONE_PIDFD), waitid(P_PIDFD), pidfd_send_signal, pidfd_open in
// os.FindProcess): a Go program starting, signalling and waiting for
// children behaves as natively, takes the pidfd path, and glassbox adds
// nothing to its stderr.
func TestPidfdGoOsExec(t *testing.T) {
	t.Parallel()
	bin := compileGo(t, "goosexec", goOsExecProgram)
	native, _ := diff(t, []string{bin})
	want := "combined: \"out\\nerr\\n\" exit status 3\n" +
		"signal: <nil>\nwait: signal: terminated\nsignal after wait: os: process already finished\n" +
		"find: <nil> <nil>\nkill: <nil>\nwait found: signal: killed <nil>\n" +
		"wait again: waitid: no child processes\ncontext: signal: killed\nrun with PidFD: <nil> true\n"
	expect(t, "native", native, want, 0)
	// The pidfd path, not the fallback: pidfd_open and waitid(P_PIDFD)
	// succeed, and nothing was unsupported.
	tr := runGlassbox(t, []string{"--trace=syscall", "--stats"}, []string{bin})
	expect(t, "glassbox --trace", tr, want, 0)
	for _, re := range []string{`pidfd_open#434\(\d+, NULL\) = \d+`, `waitid#247\(3, \d+, 0x[0-9a-f]+, 0x4, 0x[0-9a-f]+\) = 0`,
		`pidfd_send_signal#424\(\d+, SIGTERM, NULL, NULL\) = 0`, `clone#56\(0x[0-9a-f]*[13579bdf][0-9a-f]{3}, `} {
		if !regexp.MustCompile(re).MatchString(tr.Stderr) {
			t.Errorf("the trace lacks %s", re)
		}
	}
	if strings.Contains(tr.Stderr, "unsupported") {
		t.Errorf("unsupported calls:\n%s", grepLines(tr.Stderr, "unsupported"))
	}
}

// TestPidfdProcDir: an open /proc/PID directory works as a pidfd
// (CPython's test_signal uses one); /proc itself does not.
func TestPidfdProcDir(t *testing.T) {
	t.Parallel()
	py := `import os, signal, errno
fd = os.open(f'/proc/{os.getpid()}', os.O_DIRECTORY)
try:
    signal.pidfd_send_signal(fd, signal.SIGINT)
except KeyboardInterrupt:
    print("KeyboardInterrupt")
try:
    signal.pidfd_send_signal(os.open('/proc', os.O_DIRECTORY), signal.SIGINT)
except OSError as e:
    print("/proc:", errno.errorcode[e.errno])
`
	native, _ := diff(t, []string{"python3", "-c", py})
	expect(t, "native", native, "KeyboardInterrupt\n/proc: EBADF\n", 0)
}
