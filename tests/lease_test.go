package tests

import "testing"

// leaseC takes read and write leases and has children open the file:
// readers pass a read lease, writers break it (EWOULDBLOCK with
// O_NONBLOCK, else a wait until the holder lets go), a reader breaks a
// write lease to a read one; the holder gets SIGIO or F_SETSIG's signal
// with POLL_MSG and its fd; truncate(2) breaks it as a writer does.
const leaseC = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got, gotfd, gotcode;
static void on(int sig, siginfo_t *si, void *uc) {
	(void)uc;
	got = sig;
	gotfd = si->si_fd;
	gotcode = si->si_code;
}
static const char *lt(int t) { return t == F_RDLCK ? "RDLCK" : t == F_WRLCK ? "WRLCK" : t == F_UNLCK ? "UNLCK" : "?"; }
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

// opener opens path with flags in a child and reports through the pipe.
static pid_t opener(const char *path, int flags, int out) {
	pid_t c = fork();
	if (c == 0) {
		double t0 = now();
		int fd = open(path, flags);
		char msg[128];
		snprintf(msg, sizeof msg, "child open(%s%s): %s, waited %s\n",
			 (flags & O_ACCMODE) == O_RDONLY ? "O_RDONLY" : "O_WRONLY", flags & O_NONBLOCK ? "|O_NONBLOCK" : "",
			 fd >= 0 ? "ok" : strerror(errno), now() - t0 > 0.05 ? "yes" : "no");
		write(out, msg, strlen(msg));
		_exit(0);
	}
	return c;
}

static void drain(int in) {
	char buf[256];
	int n = read(in, buf, sizeof buf - 1);
	if (n > 0) {
		buf[n] = 0;
		printf("%s", buf);
	}
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	char path[] = "/tmp/lease-XXXXXX";
	close(mkstemp(path));
	int p[2];
	pipe(p);
	struct sigaction sa = {0};
	sa.sa_sigaction = on;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGIO, &sa, NULL);
	sigaction(SIGRTMIN + 1, &sa, NULL);

	int fd = open(path, O_RDONLY);
	printf("F_SETLEASE RDLCK: %d\n", fcntl(fd, F_SETLEASE, F_RDLCK));
	printf("owner is us: %d\n", fcntl(fd, F_GETOWN) == getpid());
	waitpid(opener(path, O_RDONLY, p[1]), NULL, 0);
	drain(p[0]);
	printf("lease after a reader: %s, signal: %d\n", lt(fcntl(fd, F_GETLEASE)), got != 0);
	waitpid(opener(path, O_WRONLY | O_NONBLOCK, p[1]), NULL, 0);
	drain(p[0]);
	while (!got)
		usleep(1000);
	printf("signal SIGIO: %d, breaking: F_GETLEASE %s\n", got == SIGIO, lt(fcntl(fd, F_GETLEASE)));
	pid_t c = opener(path, O_WRONLY, p[1]);
	usleep(200000);
	printf("F_SETLEASE UNLCK: %d\n", fcntl(fd, F_SETLEASE, F_UNLCK));
	waitpid(c, NULL, 0);
	drain(p[0]);
	printf("lease now %s\n", lt(fcntl(fd, F_GETLEASE)));

	// A write lease, F_SETSIG: a reader breaks it to a read lease.
	got = 0;
	fcntl(fd, F_SETSIG, SIGRTMIN + 1);
	printf("F_SETLEASE WRLCK: %d\n", fcntl(fd, F_SETLEASE, F_WRLCK));
	c = opener(path, O_RDONLY, p[1]);
	while (!got)
		usleep(1000);
	printf("signal F_SETSIG's: %d, si_fd is the lease's fd: %d, si_code POLL_MSG: %d, F_GETLEASE %s\n",
	       got == SIGRTMIN + 1, gotfd == fd, gotcode == POLL_MSG, lt(fcntl(fd, F_GETLEASE)));
	usleep(100000);
	printf("F_SETLEASE RDLCK (downgrade): %d\n", fcntl(fd, F_SETLEASE, F_RDLCK));
	waitpid(c, NULL, 0);
	drain(p[0]);
	printf("lease now %s\n", lt(fcntl(fd, F_GETLEASE)));
	// truncate(2) breaks a lease as a writer's open does, waiting.
	got = 0;
	c = fork();
	if (c == 0) {
		double t0 = now();
		int r = truncate(path, 0);
		char msg[96];
		snprintf(msg, sizeof msg, "child truncate: %d, waited %s\n", r, now() - t0 > 0.05 ? "yes" : "no");
		write(p[1], msg, strlen(msg));
		_exit(0);
	}
	while (!got)
		usleep(1000);
	printf("truncate broke it: F_GETLEASE %s\n", lt(fcntl(fd, F_GETLEASE)));
	usleep(100000);
	fcntl(fd, F_SETLEASE, F_UNLCK);
	waitpid(c, NULL, 0);
	drain(p[0]);
	close(fd);
	// The lease went with its file: a writer opens at once.
	waitpid(opener(path, O_WRONLY | O_NONBLOCK, p[1]), NULL, 0);
	drain(p[0]);
	unlink(path);
	return 0;
}
`

// TestLeaseBreak: F_SETLEASE leases are broken by conflicting opens, as on
// Linux (they were recorded but never broken).
func TestLeaseBreak(t *testing.T) {
	t.Parallel()
	diff(t, []string{compileC(t, "lease", leaseC)})
}
