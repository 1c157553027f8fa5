package tests

import "testing"

const stopContCancelC = `#include <stdio.h>
#include <signal.h>
#include <unistd.h>
#include <sys/wait.h>
static void show(const char *when) {
	sigset_t p; sigpending(&p);
	printf("%s: TSTP=%d CONT=%d\n", when, sigismember(&p, SIGTSTP), sigismember(&p, SIGCONT));
}
int main(void) {
	sigset_t blk; sigemptyset(&blk); sigaddset(&blk, SIGTSTP); sigaddset(&blk, SIGCONT);
	sigprocmask(SIG_BLOCK, &blk, 0);
	/* A stop signal and SIGCONT cancel each other's pending instances
	 * when they are sent, even while the process is not stopped. */
	kill(getpid(), SIGTSTP); show("tstp");
	kill(getpid(), SIGCONT); show("tstp then cont");
	kill(getpid(), SIGTSTP); show("cont then tstp");
	kill(getpid(), SIGCONT); /* else the pending SIGTSTP stops us at the unblock */
	sigprocmask(SIG_UNBLOCK, &blk, 0);
	pid_t c = fork();
	if (c == 0) {
		sigprocmask(SIG_BLOCK, &blk, 0);
		kill(getpid(), SIGTSTP); kill(getpid(), SIGCONT);
		sigprocmask(SIG_UNBLOCK, &blk, 0); /* the SIGTSTP is gone: no stop */
		_exit(7);
	}
	int st; waitpid(c, &st, WUNTRACED);
	printf("child: exited=%d status=%d stopped=%d\n", WIFEXITED(st), WEXITSTATUS(st), WIFSTOPPED(st));
	return 0;
}
`

// TestStopContCancel: SIGCONT discards pending stop signals and a stop
// signal discards a pending SIGCONT at the moment they are sent, whether
// or not the process is stopped (a SIGCONT sent before a pending SIGSTOP
// was acted on used to leave the process stopped for good).
func TestStopContCancel(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "stopcontcancel", stopContCancelC)
	native, _ := diff(t, []string{prog})
	expect(t, "native", native, "tstp: TSTP=1 CONT=0\ntstp then cont: TSTP=0 CONT=1\ncont then tstp: TSTP=1 CONT=0\n"+
		"child: exited=1 status=7 stopped=0\n", 0)
}

const sharedSignalsC = `#include <stdio.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
static sigset_t set;
static volatile sig_atomic_t got;
static void h(int s) { got = s; }
static void *waiter(void *a) {
	int sig; sigwait(&set, &sig); printf("sigwait got %d\n", sig);
	int fd = signalfd(-1, &set, 0); struct signalfd_siginfo si;
	read(fd, &si, sizeof si); printf("signalfd got %d pid_ok=%d\n", si.ssi_signo, si.ssi_pid == (unsigned)getpid());
	return 0;
}
static void *survivor(void *a) {
	usleep(100000);
	kill(getpid(), SIGUSR1);
	while (!got) usleep(1000);
	printf("survivor got %d after the main thread exited\n", got);
	fflush(stdout);
	return 0;
}
int main(void) {
	/* Every thread blocks the signals; one waits for them. A signal sent
	 * to the process must reach it, not sit on the main thread. */
	sigemptyset(&set); sigaddset(&set, SIGUSR1); sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, 0);
	pthread_t t; pthread_create(&t, 0, waiter, 0);
	usleep(50000); kill(getpid(), SIGUSR1);
	usleep(50000); kill(getpid(), SIGUSR2);
	pthread_join(t, 0);
	/* Blocked everywhere: it stays pending for the process. */
	kill(getpid(), SIGUSR2);
	sigset_t p; sigpending(&p); printf("pending: USR1=%d USR2=%d\n", sigismember(&p, SIGUSR1), sigismember(&p, SIGUSR2));
	int sig; sigwait(&set, &sig); printf("main sigwait got %d\n", sig);
	pthread_sigmask(SIG_UNBLOCK, &set, 0);
	/* The main thread leaves; the process lives on in another thread,
	 * which must get a signal sent to the process. */
	fflush(stdout);
	if (fork() == 0) {
		signal(SIGUSR1, h);
		pthread_create(&t, 0, survivor, 0);
		pthread_exit(0);
	}
	int st; wait(&st);
	printf("child exit=%d\n", WEXITSTATUS(st));
	return 0;
}
`

// TestSharedSignals: process-directed signals wait in the process's
// shared queue for any thread that does not block them (or waits for
// them in sigwait/signalfd), and are never left on a thread that exited.
func TestSharedSignals(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "sharedsignals", sharedSignalsC, "-pthread")
	native, _ := diff(t, []string{prog})
	expect(t, "native", native, "sigwait got 10\nsignalfd got 12 pid_ok=1\npending: USR1=0 USR2=1\nmain sigwait got 12\n"+
		"survivor got 10 after the main thread exited\nchild exit=0\n", 0)
}

const noCttyC = `#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
#include <termios.h>
int main(void) {
	int m = posix_openpt(O_RDWR);
	grantpt(m); unlockpt(m);
	int s = open(ptsname(m), O_RDWR); /* no O_NOCTTY */
	int tty = open("/dev/tty", O_RDWR);
	printf("slave %s, /dev/tty %s\n", s >= 0 ? "opened" : strerror(errno), tty >= 0 ? "opened" : strerror(errno));
	printf("tcgetsid: %s\n", tcgetsid(s) < 0 ? strerror(errno) : "a session");
	close(m); /* a hangup: SIGHUP only if s were our controlling terminal */
	char c;
	printf("read after hangup: %zd\n", read(s, &c, 1));
	return 0;
}
`

// TestNoCtty: the first process of a run without a host terminal is not
// a session leader (as a program a shell starts), so opening a pty slave
// does not make it its controlling terminal and the master's close does
// not hang it up (Go's net and os tests open ptys this way).
func TestNoCtty(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "noctty", noCttyC)
	native, _ := diff(t, []string{prog})
	expect(t, "native", native, "slave opened, /dev/tty No such device or address\ntcgetsid: Inappropriate ioctl for device\n"+
		"read after hangup: 0\n", 0)
}

const suspendPendingC = `#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <errno.h>
#include <poll.h>
#include <unistd.h>
static volatile sig_atomic_t got;
static void h(int s) { got++; }
int main(void) {
	signal(SIGUSR1, h);
	sigset_t blk, old; sigemptyset(&blk); sigaddset(&blk, SIGUSR1);
	sigprocmask(SIG_BLOCK, &blk, &old);
	/* Sent while blocked: it waits; unblocking it in the wait itself
	 * must deliver it at once. */
	kill(getpid(), SIGUSR1);
	int r = sigsuspend(&old);
	printf("sigsuspend %d %s got %d\n", r, strerror(errno), got);
	kill(getpid(), SIGUSR1);
	r = ppoll(0, 0, &(struct timespec){5, 0}, &old);
	printf("ppoll %d %s got %d\n", r, strerror(errno), got);
	return 0;
}
`

// TestSuspendPending: a process-directed signal sent while blocked is
// delivered as soon as sigsuspend or ppoll unblocks it (it used to wait
// for a wake-up that no sender gave).
func TestSuspendPending(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "suspendpending", suspendPendingC)
	native, _ := diff(t, []string{prog})
	expect(t, "native", native, "sigsuspend -1 Interrupted system call got 1\nppoll -1 Interrupted system call got 2\n", 0)
}
