/* Shared by the stress programs: deterministic reporting and small helpers.
 * A program prints only lines that are the same on every correct run; a
 * failure prints a FAIL line (which never matches native) and exits 1. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
#define HELPER static __attribute__((unused))

HELPER void fail(const char *fmt, ...) {
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
	va_end(ap);
	if (n < 0) n = 0;
	if (n > (int)sizeof buf - 2) n = sizeof buf - 2;
	buf[n++] = '\n';
	/* write(2) directly: this may run in a forked child or a signal-heavy thread */
	write(1, "FAIL ", 5);
	write(1, buf, n);
	_exit(1);
}

#define CHECK(cond, ...) do { if (!(cond)) fail(__VA_ARGS__); } while (0)

HELPER int iters(int argc, char **argv, int def) {
	return argc > 1 ? atoi(argv[1]) : def;
}

HELPER uint64_t fnv(const void *p, size_t n) {
	const unsigned char *b = p;
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

HELPER void *xmmap(void *addr, size_t len, int prot, int flags, int fd) {
	void *p = mmap(addr, len, prot, flags, fd, 0);
	CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno));
	return p;
}

HELPER pthread_t spawn(void *(*fn)(void *), void *arg) {
	pthread_t t;
	int e = pthread_create(&t, 0, fn, arg);
	CHECK(e == 0, "pthread_create: %s", strerror(e));
	return t;
}

HELPER void join(pthread_t t) {
	int e = pthread_join(t, 0);
	CHECK(e == 0, "pthread_join: %s", strerror(e));
}

HELPER pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

/* wait_until spins (yielding) until *p >= v. */
HELPER void wait_until(volatile long *p, long v) {
	while (__atomic_load_n(p, __ATOMIC_ACQUIRE) < v) sched_yield();
}

HELPER void xwrite(int fd, const void *b, size_t n) {
	const char *p = b;
	while (n > 0) {
		ssize_t r = write(fd, p, n);
		if (r < 0 && errno == EINTR) continue;
		CHECK(r > 0, "write: %s", strerror(errno));
		p += r, n -= r;
	}
}

HELPER void xread(int fd, void *b, size_t n) {
	char *p = b;
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR) continue;
		CHECK(r > 0, "read: %s (got %zd)", strerror(errno), r);
		p += r, n -= r;
	}
}

/* status_str renders a wait status the same way natively and under glassbox. */
HELPER const char *status_str(int st) {
	static char buf[64];
	if (WIFEXITED(st)) snprintf(buf, sizeof buf, "exit %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st)) snprintf(buf, sizeof buf, "signal %d", WTERMSIG(st));
	else snprintf(buf, sizeof buf, "status %#x", st);
	return buf;
}

HELPER int xwaitpid(pid_t pid) {
	int st;
	pid_t r;
	while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR) {}
	CHECK(r == pid, "waitpid(%d): %s", pid, strerror(errno));
	return st;
}
