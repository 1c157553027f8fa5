package tests

// ioStressCommon is the first part of the data-integrity stress program
// (see stress_io_test.go): the byte pattern every stream carries, the
// signal pest, waits for readiness and the channels data moves through.
const ioStressCommon = `
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <poll.h>
#include <stdint.h>
#include <stdatomic.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/sendfile.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

static long SIZE = 1 << 16;   /* bytes per stream */
static uint32_t SEED = 1;
static const char *TMPDIR = "/tmp";
static int SIGMODE;           /* 0 none, 1 SA_RESTART handler, 2 handler without it */

/* The byte at position i of stream s: a hash, so a lost, repeated or
   reordered run of any length shows. */
static inline unsigned char pat(uint64_t i, uint32_t s) {
	uint32_t x = (uint32_t)i * 0x9E3779B1u ^ (s * 0x85EBCA77u + (uint32_t)(i >> 32));
	x ^= x >> 15; x *= 0x2C1B3C6Du; x ^= x >> 12; x *= 0x297A2D39u; x ^= x >> 15;
	return x >> 24;
}
static void fillpat(unsigned char *b, uint64_t from, size_t n, uint32_t s) {
	for (size_t k = 0; k < n; k++) b[k] = pat(from + k, s);
}
/* first position in b (holding stream bytes from..) that is wrong, or -1 */
static long checkpat(const unsigned char *b, uint64_t from, size_t n, uint32_t s) {
	for (size_t k = 0; k < n; k++) if (b[k] != pat(from + k, s)) return (long)(from + k);
	return -1;
}
static inline uint64_t fnv(uint64_t h, const unsigned char *b, size_t n) {
	for (size_t k = 0; k < n; k++) { h ^= b[k]; h *= 0x100000001b3ull; }
	return h;
}
#define FNV0 0xcbf29ce484222325ull
static inline uint32_t rnd(uint64_t *st) {
	*st ^= *st << 13; *st ^= *st >> 7; *st ^= *st << 17; return (uint32_t)(*st >> 11);
}
static void die(const char *what) {
	printf("FAIL %s: %s\n", what, strerror(errno)); fflush(stdout); _exit(1);
}

/* ---- signals: a pest thread interrupts every worker thread and child ---- */
static atomic_long nsig;
static void onsig(int s) { (void)s; atomic_fetch_add(&nsig, 1); }
static pthread_mutex_t pestmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_t pestt[256]; static int npestt;
static pid_t pestp[64]; static int npestp;
static atomic_int peststop;
static pthread_t pestthr;
static void pest_add_thread(pthread_t t) {
	pthread_mutex_lock(&pestmu); if (npestt < 256) pestt[npestt++] = t; pthread_mutex_unlock(&pestmu);
}
static void pest_del_thread(pthread_t t) {
	pthread_mutex_lock(&pestmu);
	for (int i = 0; i < npestt; i++) if (pthread_equal(pestt[i], t)) { pestt[i] = pestt[--npestt]; break; }
	pthread_mutex_unlock(&pestmu);
}
static void pest_add_pid(pid_t p) {
	pthread_mutex_lock(&pestmu); if (npestp < 64) pestp[npestp++] = p; pthread_mutex_unlock(&pestmu);
}
static void pest_del_pid(pid_t p) {
	pthread_mutex_lock(&pestmu);
	for (int i = 0; i < npestp; i++) if (pestp[i] == p) { pestp[i] = pestp[--npestp]; break; }
	pthread_mutex_unlock(&pestmu);
}
static void *pest(void *a) {
	(void)a;
	struct timespec ts = {0, 300000};
	while (!atomic_load(&peststop)) {
		pthread_mutex_lock(&pestmu);
		for (int i = 0; i < npestt; i++) pthread_kill(pestt[i], SIGUSR1);
		for (int i = 0; i < npestp; i++) kill(pestp[i], SIGUSR1);
		pthread_mutex_unlock(&pestmu);
		nanosleep(&ts, 0);
	}
	return 0;
}
static void pest_start(void) {
	struct sigaction sa = {0};
	sa.sa_handler = SIGMODE ? onsig : SIG_IGN;
	sa.sa_flags = SIGMODE == 1 ? SA_RESTART : 0;
	sigaction(SIGUSR1, &sa, 0);
	signal(SIGPIPE, SIG_IGN);
	if (SIGMODE && pthread_create(&pestthr, 0, pest, 0)) die("pthread_create pest");
}
static void pest_stop(void) {
	atomic_store(&peststop, 1);
	if (SIGMODE) pthread_join(pestthr, 0);
}
/* A worker thread registers itself so the pest reaches it. */
static void worker_begin(void) { if (SIGMODE) pest_add_thread(pthread_self()); }
static void worker_end(void) {
	if (!SIGMODE) return;
	pest_del_thread(pthread_self());
	/* a signal sent just before may still be pending: let it land here */
	sigset_t s; sigemptyset(&s); sigaddset(&s, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &s, 0);
}

/* ---- readiness: poll, level-triggered or edge-triggered epoll ---- */
struct waiter { int fd, ep, how; unsigned ev; };
static void waiter_init(struct waiter *w, int fd, unsigned ev, int how) {
	w->fd = fd; w->how = how; w->ev = ev; w->ep = -1;
	if (how) {
		w->ep = epoll_create1(EPOLL_CLOEXEC);
		if (w->ep < 0) die("epoll_create1");
		struct epoll_event e = { .events = ev | (how == 2 ? EPOLLET : 0), .data.fd = fd };
		if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &e)) die("epoll_ctl");
	}
}
static void waiter_close(struct waiter *w) { if (w->ep >= 0) close(w->ep); }
/* waits until fd is ready; a signal ends the wait early (the caller retries) */
static void waitready(struct waiter *w, const char *who) {
	for (int tries = 0;; tries++) {
		int r;
		if (w->ep >= 0) {
			struct epoll_event e;
			r = epoll_wait(w->ep, &e, 1, 5000);
		} else {
			struct pollfd p = { .fd = w->fd, .events = (short)w->ev };
			r = poll(&p, 1, 5000);
		}
		if (r != 0) return;
		fprintf(stderr, "stall? %s waited 5 s for %s on fd %d (%s)\n", who,
			w->ev == POLLIN ? "POLLIN" : "POLLOUT", w->fd, w->how == 2 ? "epoll ET" : w->how ? "epoll" : "poll");
	}
}

/* ---- channels ---- */
enum { K_PIPE, K_UNIX, K_TCP, K_DGRAM, K_SEQPACKET };
static const char *kname[] = { "pipe", "unix", "tcp", "dgram", "seqpacket" };
static void tcppair(int sv[2]) {
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	if (l < 0 || bind(l, (void *)&a, sizeof a) || listen(l, 8) || getsockname(l, (void *)&a, &al)) die("tcp listen");
	sv[1] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sv[1] < 0 || connect(sv[1], (void *)&a, sizeof a)) die("tcp connect");
	sv[0] = accept4(l, 0, 0, SOCK_CLOEXEC);
	if (sv[0] < 0) die("accept");
	close(l);
}
/* fds[0] receives, fds[1] sends; small asks for small buffers (partial writes) */
static void mkchan(int kind, int fds[2], int small) {
	int sv[2];
	switch (kind) {
	case K_PIPE:
		if (pipe2(fds, O_CLOEXEC)) die("pipe2");
		if (small && fcntl(fds[1], F_SETPIPE_SZ, 4096) < 0) die("F_SETPIPE_SZ");
		return;
	case K_TCP: tcppair(sv); break;
	default:
		if (socketpair(AF_UNIX, (kind == K_UNIX ? SOCK_STREAM : kind == K_DGRAM ? SOCK_DGRAM : SOCK_SEQPACKET) | SOCK_CLOEXEC, 0, sv))
			die("socketpair");
	}
	if (small) {
		int sz = 4096;
		setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
		/* (a tiny TCP receive window stalls Linux on delayed ACKs) */
		if (kind != K_TCP) setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	}
	fds[0] = sv[0]; fds[1] = sv[1];
}
static void setnonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

/* a file in TMPDIR holding stream s's first n bytes (unlinked) */
static int patfile(uint32_t s, long n) {
	char path[4096];
	snprintf(path, sizeof path, "%s/gbstressXXXXXX", TMPDIR);
	int fd = mkstemp(path);
	if (fd < 0) die("mkstemp");
	unlink(path);
	unsigned char *b = malloc(65536);
	for (long off = 0; off < n; off += 65536) {
		long m = n - off < 65536 ? n - off : 65536;
		fillpat(b, off, m, s);
		if (pwrite(fd, b, m, off) != m) die("pwrite patfile");
	}
	free(b);
	return fd;
}
static int tmpfile_in(const char *dir) {
	char path[4096];
	snprintf(path, sizeof path, "%s/gbstressXXXXXX", dir);
	int fd = mkstemp(path);
	if (fd < 0) die("mkstemp");
	unlink(path);
	return fd;
}
/* splits n bytes at b into up to max iovecs at random points */
static int splitiov(struct iovec *iov, int max, unsigned char *b, size_t n, uint64_t *st) {
	int cnt = 1 + rnd(st) % max;
	size_t left = n;
	for (int i = 0; i < cnt; i++) {
		size_t m = i == cnt - 1 ? left : (left ? rnd(st) % (left + 1) : 0);
		iov[i].iov_base = b; iov[i].iov_len = m;
		b += m; left -= m;
	}
	return cnt;
}
/* reads exactly n bytes from a blocking fd (EINTR retried) */
static int readfull(int fd, unsigned char *b, size_t n) {
	while (n > 0) {
		ssize_t r = read(fd, b, n);
		if (r < 0 && errno == EINTR) continue;
		if (r <= 0) return -1;
		b += r; n -= r;
	}
	return 0;
}
static int writefull(int fd, const unsigned char *b, size_t n) {
	while (n > 0) {
		ssize_t r = write(fd, b, n);
		if (r < 0 && errno == EINTR) continue;
		if (r <= 0) return -1;
		b += r; n -= r;
	}
	return 0;
}
`
