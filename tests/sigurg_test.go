package tests

import (
	"strings"
	"testing"
)

// sigurgSrc sends out-of-band bytes on loopback TCP and AF_UNIX streams
// and prints what the receiver's F_SETOWN owner gets: SIGURG with
// SI_KERNEL for a process, a process group and a thread (F_SETOWN_EX)
// owner, nothing without one or for plain data, SIGIO beside it with
// O_ASYNC, and F_SETSIG's signal with POLL_PRI. It also prints poll,
// select's exceptional set, SIOCATMARK and FIONREAD around the mark,
// where TCP and AF_UNIX differ.
const sigurgSrc = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>
/* The handler records which signals came and the last siginfo of each. */
static volatile sig_atomic_t got, urg, io, ucode = -1, upid = -1, iocode = -1;
static void on(int s, siginfo_t *si, void *u) {
	(void)u;
	got++;
	if (s == SIGURG) { urg++; ucode = si->si_code; upid = si->si_pid; }
	if (s == SIGIO) { io++; iocode = si->si_code; }
}
static void tcp(int *a, int *b) {
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t n = sizeof s;
	bind(l, (void *)&s, sizeof s); listen(l, 1); getsockname(l, (void *)&s, &n);
	*a = socket(AF_INET, SOCK_STREAM, 0); connect(*a, (void *)&s, sizeof s); *b = accept(l, 0, 0); close(l);
}
/* waitfor waits up to 2 s for the handler to have run n times. */
static void waitfor(const char *what, int n) {
	for (int i = 0; i < 200 && got < n; i++) usleep(10000);
	usleep(20000);
	if (got == 0) printf("%s: no signal\n", what);
	if (urg) printf("%s: SIGURG code %s pid %d\n", what, ucode == SI_KERNEL ? "SI_KERNEL" : "other", upid);
	if (io) printf("%s: SIGIO code %s\n", what, iocode == SI_KERNEL ? "SI_KERNEL" : "other");
	got = urg = io = 0;
}
static void state(int b) {
	struct pollfd p = { b, POLLIN | POLLPRI };
	poll(&p, 1, 0);
	fd_set r, x; FD_ZERO(&r); FD_ZERO(&x); FD_SET(b, &r); FD_SET(b, &x);
	struct timeval tv = {0, 0};
	int n = select(b + 1, &r, 0, &x, &tv);
	int at = -1; ioctl(b, SIOCATMARK, &at);
	printf("  poll revents %#x select %d read %d except %d atmark %d\n", p.revents, n, FD_ISSET(b, &r) != 0, FD_ISSET(b, &x) != 0, at);
}
static void oob(const char *what, int a, int b) {
	char c = 0;
	printf("== %s\n", what);
	send(a, "ab", 2, MSG_OOB);
	waitfor("  send ab MSG_OOB", 1);
	state(b);
	int n = recv(b, &c, 1, MSG_OOB);
	printf("  recv MSG_OOB = %d '%c'\n", n, n > 0 ? c : '?');
	n = recv(b, &c, 1, 0);
	printf("  recv = %d '%c'\n", n, n > 0 ? c : '?');
	state(b);
}
static void st(const char *w, int b) {
	struct pollfd p = { b, POLLIN | POLLPRI }; poll(&p, 1, 0);
	int q = -1, at = -1; ioctl(b, FIONREAD, &q); ioctl(b, SIOCATMARK, &at);
	printf("%s: revents %#x inq %d atmark %d\n", w, p.revents, q, at);
}
/* marks: poll and FIONREAD around the mark, where TCP and AF_UNIX differ. */
static void marks(void) {
	int a, b, s[2]; char c;
	for (int k = 0; k < 2; k++) {
		if (k == 0) tcp(&a, &b); else { socketpair(AF_UNIX, SOCK_STREAM, 0, s); a = s[0]; b = s[1]; }
		printf("== %s\n", k ? "unix" : "tcp");
		send(a, "x", 1, MSG_OOB); usleep(50000);
		st("oob only", b);
		recv(b, &c, 1, MSG_OOB);
		st("taken", b);
		send(a, "y", 1, 0); usleep(50000);
		st("data after", b);
		printf("read %zd\n", recv(b, &c, 1, MSG_DONTWAIT));
		st("read", b);
		int on = 1; setsockopt(b, SOL_SOCKET, SO_OOBINLINE, &on, sizeof on);
		send(a, "z", 1, MSG_OOB); usleep(50000);
		st("inline oob", b);
		printf("read %zd %c\n", recv(b, &c, 1, MSG_DONTWAIT), c);
		st("inline read", b);
	}
}
int main(void) {
	struct sigaction sa = { .sa_sigaction = on, .sa_flags = SA_SIGINFO | SA_RESTART };
	sigaction(SIGURG, &sa, 0);
	sigaction(SIGIO, &sa, 0);
	sigaction(SIGRTMIN, &sa, 0);
	setvbuf(stdout, 0, _IONBF, 0);
	int a, b;
	tcp(&a, &b);
	oob("tcp, no owner", a, b);
	fcntl(b, F_SETOWN, getpid());
	oob("tcp, F_SETOWN getpid", a, b);
	fcntl(b, F_SETOWN, -getpgrp());
	oob("tcp, F_SETOWN -pgrp", a, b);
	struct f_owner_ex ox = { F_OWNER_TID, gettid() };
	fcntl(b, F_SETOWN_EX, &ox);
	oob("tcp, F_SETOWN_EX tid", a, b);
	/* O_ASYNC with plain SIGIO: SIGURG and SIGIO for the data. */
	fcntl(b, F_SETOWN, getpid());
	fcntl(b, F_SETFL, fcntl(b, F_GETFL) | O_ASYNC);
	got = 0;
	oob("tcp, O_ASYNC", a, b);
	/* O_ASYNC with F_SETSIG: the queued signal says POLL_PRI too. */
	fcntl(b, F_SETSIG, SIGRTMIN);
	sigset_t m; sigemptyset(&m); sigaddset(&m, SIGRTMIN); sigaddset(&m, SIGURG);
	sigprocmask(SIG_BLOCK, &m, 0);
	send(a, "x", 1, MSG_OOB);
	usleep(200000);
	siginfo_t si; struct timespec ts = {2, 0};
	char seen[4][80]; int nseen = 0;
	for (int i = 0; i < 8; i++) {
		int s = sigtimedwait(&m, &si, i ? &(struct timespec){0, 200000000} : &ts);
		if (s < 0) break;
		char line[80];
		snprintf(line, sizeof line, "  F_SETSIG: %s code %d band %#lx fd %d", s == SIGRTMIN ? "SIGRTMIN" : sigabbrev_np(s), si.si_code, s == SIGURG ? 0 : si.si_band, s == SIGURG ? -1 : si.si_fd == b ? 1 : si.si_fd);
		int dup = 0;
		for (int j = 0; j < nseen; j++) dup |= !strcmp(seen[j], line);
		if (!dup && nseen < 4) { strcpy(seen[nseen++], line); }
	}
	/* The order differs between runs of Linux too: print them sorted. */
	for (int i = 0; i < nseen; i++) for (int j = i + 1; j < nseen; j++) if (strcmp(seen[i], seen[j]) > 0) {
		char t[80]; strcpy(t, seen[i]); strcpy(seen[i], seen[j]); strcpy(seen[j], t); }
	for (int i = 0; i < nseen; i++) printf("%s\n", seen[i]);
	sigprocmask(SIG_UNBLOCK, &m, 0);
	char c; recv(b, &c, 1, MSG_OOB);
	fcntl(b, F_SETFL, fcntl(b, F_GETFL) & ~O_ASYNC);
	fcntl(b, F_SETSIG, 0);
	/* a plain send: no SIGURG */
	send(a, "p", 1, 0);
	waitfor("tcp, plain send", 1);
	recv(b, &c, 1, 0);
	/* AF_UNIX stream */
	int s[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, s);
	fcntl(s[1], F_SETOWN, getpid());
	oob("unix stream, F_SETOWN getpid", s[0], s[1]);
	/* default action of SIGURG is ignore: a child without a handler lives */
	if (fork() == 0) {
		signal(SIGURG, SIG_DFL);
		send(a, "z", 1, MSG_OOB);
		usleep(100000);
		_exit(3);
	}
	int st; wait(&st);
	printf("child: exit %d\n", WEXITSTATUS(st));
	marks();
	return 0;
}
`

// TestSigURG: out-of-band data signals the socket's owner with SIGURG,
// and poll/select/ioctl see the mark, as Linux does.
func TestSigURG(t *testing.T) {
	t.Parallel()
	bin := compileC(t, "sigurg", sigurgSrc)
	probe := runNative(t, []string{bin})
	if !strings.Contains(probe.Stdout, "unix stream, F_SETOWN getpid") || strings.Contains(probe.Stdout, "recv MSG_OOB = -1") {
		t.Skipf("this host's kernel lacks out-of-band data on AF_UNIX streams (CONFIG_AF_UNIX_OOB):\n%s", probe.Stdout)
	}
	native, _ := diff(t, []string{bin})
	for _, want := range []string{"tcp, no owner\n  send ab MSG_OOB: no signal", "tcp, F_SETOWN getpid\n  send ab MSG_OOB: SIGURG code SI_KERNEL pid 0",
		"F_SETSIG: SIGRTMIN code 5 band 0x82 fd 1", "tcp, plain send: no signal", "oob only: revents 0x2 inq 0 atmark 1"} {
		if !strings.Contains(native.Stdout, want) {
			t.Errorf("native run lacks %q:\n%s", want, native.Stdout)
		}
	}
}
