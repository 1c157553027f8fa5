package tests

import (
	"os/exec"
	"testing"
)

// nsInitSrc is the init of a PID namespace the guest makes, and a child of
// it, sending the init every signal they can; then the parent, outside,
// sends SIGTERM (dropped) and SIGKILL (forced). A second namespace's init
// calls abort().
const nsInitSrc = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile int usr1;
static void on_usr1(int s) { (void)s; usr1++; }

static void report(const char *what, long r) {
	printf("%s = %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerror(errno) : "");
}

// child_attacks runs in a child of the namespace's init: every way it has
// to send SIGKILL or SIGTERM to pid 1.
static void child_attacks(void) {
	report("kill(1, SIGKILL)", kill(1, SIGKILL));
	report("kill(1, SIGTERM)", kill(1, SIGTERM));
	report("kill(1, SIGSTOP)", kill(1, SIGSTOP));
	report("tgkill(1, 1, SIGKILL)", syscall(SYS_tgkill, 1, 1, SIGKILL));
	union sigval v = {0};
	report("sigqueue(1, SIGUSR2)", sigqueue(1, SIGUSR2, v));
	int pfd = syscall(SYS_pidfd_open, 1, 0);
	report("pidfd_send_signal(SIGKILL)", syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0));
	int p[2];
	pipe(p);
	fcntl(p[0], F_SETOWN, 1);
	fcntl(p[0], F_SETSIG, SIGKILL);
	fcntl(p[0], F_SETFL, O_ASYNC);
	report("F_GETOWN", fcntl(p[0], F_GETOWN));
	report("write with F_SETOWN 1, F_SETSIG SIGKILL", write(p[1], "x", 1));
	report("kill(1, SIGUSR1) (a handler)", kill(1, SIGUSR1));
	fflush(stdout);
	_exit(0);
}

static void init_main(int ready) {
	printf("init: pid %d\n", getpid());
	signal(SIGUSR1, on_usr1);
	fflush(stdout);
	pid_t c = fork();
	if (c == 0)
		child_attacks();
	int st;
	waitpid(c, &st, 0);
	printf("init: alive after the child's signals, handler ran %d time(s)\n", usr1);
	report("init: raise(SIGTERM)", raise(SIGTERM));
	report("init: raise(SIGKILL)", raise(SIGKILL));
	int p[2];
	pipe(p);
	close(p[0]);
	report("init: write to a pipe with no reader", write(p[1], "x", 1));
	struct itimerval it = {{0, 0}, {0, 50000}};
	setitimer(ITIMER_REAL, &it, NULL);
	struct timespec ts = {0, 200000000};
	report("init: nanosleep across SIGALRM", nanosleep(&ts, NULL));
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGHUP);
	sigprocmask(SIG_BLOCK, &s, NULL);
	raise(SIGHUP);
	sigpending(&s);
	printf("init: blocked SIGHUP pending: %d\n", sigismember(&s, SIGHUP));
	sigprocmask(SIG_UNBLOCK, &s, NULL);
	printf("init: alive after unblocking it\n");
	fflush(stdout);
	write(ready, "r", 1);
	for (;;)
		pause();
}

// newinit makes a PID namespace and its init running fn; returns its pid.
static pid_t newinit(void (*fn)(int), int ready) {
	if (unshare(CLONE_NEWPID) != 0) {
		perror("unshare");
		exit(1);
	}
	pid_t p = fork();
	if (p == 0) {
		fn(ready);
		_exit(0);
	}
	return p;
}

static void aborting_init(int ready) {
	(void)ready;
	fflush(stdout);
	abort();
}

static void describe(const char *who, int st) {
	if (WIFSIGNALED(st))
		printf("%s: killed by signal %d\n", who, WTERMSIG(st));
	else
		printf("%s: exited %d\n", who, WEXITSTATUS(st));
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	int st;
	// A namespace whose init calls abort(): SIGABRT is dropped, abort's
	// last resort (a faulting instruction) kills it.
	pid_t c = fork();
	if (c == 0) {
		pid_t i2 = newinit(aborting_init, -1);
		waitpid(i2, &st, 0);
		describe("aborting init", st);
		_exit(0);
	}
	waitpid(c, &st, 0);
	int r[2];
	pipe(r);
	pid_t init = newinit(init_main, r[1]);
	char b;
	read(r[0], &b, 1);
	// From the parent namespace: SIGTERM is still dropped (a default
	// action is never forced), SIGKILL is forced.
	report("parent: kill(init, SIGTERM)", kill(init, SIGTERM));
	usleep(100000);
	report("parent: init still running", waitpid(init, &st, WNOHANG));
	report("parent: kill(init, SIGKILL)", kill(init, SIGKILL));
	waitpid(init, &st, 0);
	describe("parent: init", st);
	return 0;
}
`

// TestPIDNamespaceInitSignals: a PID namespace's init ignores signals
// with the default action and SIGKILL/SIGSTOP from its own namespace
// (F_SETOWN+F_SETSIG, pidfds and sigqueue included), dies of them from
// the parent namespace and of a fault, as on Linux.
func TestPIDNamespaceInitSignals(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare not installed (apt-get install util-linux)")
	}
	bin := compileC(t, "nsinit", nsInitSrc)
	diff(t, []string{"unshare", "-Ur", bin})
}

// sandboxInitSrc is killed by its own signals (or its child's SIGKILL)
// when it is not a namespace's init, as a program on the host is.
const sandboxInitSrc = `#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
	if (argc < 2)
		return 2;
	switch (argv[1][0]) {
	case 't': raise(SIGTERM); break;
	case 'a': abort();
	case 'p': { int p[2]; pipe(p); close(p[0]); write(p[1], "x", 1); break; }
	case 'l': alarm(1); pause(); break;
	case 'c': if (fork() == 0) { kill(getppid(), SIGKILL); _exit(0); } pause(); break;
	}
	printf("survived\n");
	return 0;
}
`

// TestSandboxInitKillable: the sandbox's pid 1 is not a protected init:
// a program `glassbox run` starts dies of raise(SIGTERM), abort(), SIGPIPE,
// alarm() and a child's kill as it does on the host (and under runsc).
func TestSandboxInitKillable(t *testing.T) {
	t.Parallel()
	bin := compileC(t, "sandbox-init", sandboxInitSrc)
	for _, c := range []string{"t", "a", "p", "l", "c"} {
		native, _ := diff(t, []string{bin, c})
		if native.Code < 128 {
			t.Errorf("case %s: native run was not killed (%d): the test proves nothing", c, native.Code)
		}
	}
}

// setnsPIDSrc joins PID namespaces for its children with setns(2): its own,
// a child namespace's, and (from that namespace's init) the parent's.
const setnsPIDSrc = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const char *what, long r) {
	printf("%s: %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerror(errno) : "");
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	int ready[2], done[2];
	pipe(ready);
	pipe(done);
	int outer = open("/proc/self/ns/pid", O_RDONLY);
	if (unshare(CLONE_NEWPID) != 0) {
		perror("unshare");
		return 1;
	}
	pid_t init = fork();
	if (init == 0) {
		// The namespace's init: tries to go back up, then waits.
		show("init: setns to the parent's namespace", setns(outer, CLONE_NEWPID));
		write(ready[1], "r", 1);
		char b;
		read(done[0], &b, 1);
		return 0;
	}
	char b;
	read(ready[0], &b, 1);
	// Back to our own namespace for children, then into the init's.
	show("setns to our own namespace", setns(outer, CLONE_NEWPID));
	pid_t c = fork();
	if (c == 0) {
		printf("child of our namespace: pid is not 2: %d\n", getpid() != 2);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/ns/pid", init);
	int fd = open(path, O_RDONLY);
	show("setns into the init's namespace", setns(fd, CLONE_NEWPID));
	show("setns with the wrong type", setns(fd, CLONE_NEWUTS));
	struct stat a, s;
	stat("/proc/self/ns/pid_for_children", &a);
	stat(path, &s);
	printf("pid_for_children is the init's: %d\n", a.st_ino == s.st_ino);
	c = fork();
	if (c == 0) {
		printf("child in the init's namespace: pid %d, ppid %d\n", getpid(), getppid());
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	printf("child exited %d\n", WEXITSTATUS(st));
	write(done[1], "d", 1);
	waitpid(init, NULL, 0);
	c = fork();
	show("fork into a namespace whose init has exited", c < 0 ? -1 : 0);
	if (c == 0)
		_exit(0);
	return 0;
}
`

// TestSetnsPID: setns(CLONE_NEWPID) moves the caller's children into the
// namespace of a /proc/PID/ns/pid file, only downwards (EINVAL upwards,
// EPERM without CAP_SYS_ADMIN over it), as Linux's pidns_install.
func TestSetnsPID(t *testing.T) {
	t.Parallel()
	bin := compileC(t, "setns-pid", setnsPIDSrc)
	diff(t, []string{bin})
	if _, err := exec.LookPath("unshare"); err == nil {
		diff(t, []string{"unshare", "-Ur", bin})
	}
}

// setnsPidfdSrc joins a child's UTS and IPC namespaces through its pidfd.
const setnsPidfdSrc = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const char *what, long r) {
	printf("%s: %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerror(errno) : "");
}

static int same(const char *kind, pid_t p) {
	char a[64], b[64];
	struct stat x, y;
	snprintf(a, sizeof a, "/proc/self/ns/%s", kind);
	snprintf(b, sizeof b, "/proc/%d/ns/%s", p, kind);
	stat(a, &x);
	stat(b, &y);
	return x.st_ino == y.st_ino;
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	int ready[2], done[2];
	pipe(ready);
	pipe(done);
	pid_t c = fork();
	if (c == 0) {
		unshare(CLONE_NEWUTS | CLONE_NEWIPC);
		sethostname("inner", 5);
		write(ready[1], "r", 1);
		char b;
		read(done[0], &b, 1);
		_exit(0);
	}
	char b;
	read(ready[0], &b, 1);
	int pfd = syscall(SYS_pidfd_open, c, 0);
	show("setns(pidfd, 0)", setns(pfd, 0));
	show("setns(pidfd, a bad bit)", setns(pfd, CLONE_NEWUTS | CLONE_VM));
	printf("before: same uts %d ipc %d\n", same("uts", c), same("ipc", c));
	show("setns(pidfd, UTS|IPC)", setns(pfd, CLONE_NEWUTS | CLONE_NEWIPC));
	printf("after: same uts %d ipc %d net %d\n", same("uts", c), same("ipc", c), same("net", c));
	char h[64] = "";
	gethostname(h, sizeof h);
	printf("hostname now %s\n", h);
	show("setns(pidfd, NET) to the namespace we share", setns(pfd, CLONE_NEWNET));
	write(done[1], "d", 1);
	waitpid(c, NULL, 0);
	show("setns(pidfd of a reaped process, UTS)", setns(pfd, CLONE_NEWUTS));
	return 0;
}
`

// TestSetnsPidfd: setns(pidfd, CLONE_NEW* flags) joins the process's
// namespaces of those kinds (EINVAL for no flag or another bit, ESRCH once
// it is reaped), as Linux (5.8) does.
func TestSetnsPidfd(t *testing.T) {
	t.Parallel()
	diff(t, []string{compileC(t, "setns-pidfd", setnsPidfdSrc)})
}
