package tests

import (
	"strings"
	"testing"
)

// A writer that finds a reader already waiting on an empty pipe hands its
// bytes to that reader directly (internal/fs/pipe, handOffLocked). What
// every call returns must stay what Linux returns, where the bytes go
// through the pipe and the woken reader takes them: the counts of
// nonblocking and interrupted writes, FIONREAD, the free slots left
// behind, O_DIRECT packets, and the order of the bytes. Each case starts
// its reader, lets it block in read, then writes.

const pipeHandoffC = `
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <unistd.h>

static unsigned char pat(long i) { return (unsigned char)(i * 31 + 7 + i / 4099); }

static unsigned char *wbuf;
static void fill(long from, long n) { for (long i = 0; i < n; i++) wbuf[i] = pat(from + i); }

/* One reader thread: reads once (once=1) or until EOF, checking that the
 * bytes are the stream's next ones. */
struct reader {
	pthread_t t;
	int fd, once;
	long want, got, bad, calls, max;
	long pos; /* shared stream position when several readers */
};
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long sharedSum, sharedGot;

static void *readLoop(void *arg) {
	struct reader *r = arg;
	unsigned char *b = malloc(r->want);
	for (;;) {
		ssize_t n = read(r->fd, b, r->want);
		if (n <= 0) {
			if (n < 0) printf("read: %s\n", strerror(errno));
			break;
		}
		r->calls++;
		if (n > r->max) r->max = n;
		for (long i = 0; i < n; i++)
			if (b[i] != pat(r->got + i)) r->bad++;
		r->got += n;
		if (r->once) break;
	}
	free(b);
	return NULL;
}

static void *sumLoop(void *arg) {
	struct reader *r = arg;
	unsigned char *b = malloc(r->want);
	ssize_t n;
	while ((n = read(r->fd, b, r->want)) > 0) {
		long s = 0;
		for (long i = 0; i < n; i++) s += b[i];
		pthread_mutex_lock(&mu);
		sharedSum += s;
		sharedGot += n;
		pthread_mutex_unlock(&mu);
	}
	free(b);
	return NULL;
}

static void startReader(struct reader *r, int fd, long want, int once) {
	memset(r, 0, sizeof *r);
	r->fd = fd, r->want = want, r->once = once;
	pthread_create(&r->t, NULL, readLoop, r);
	usleep(100000); /* let it block in read */
}

static void res(const char *what, ssize_t n) {
	if (n < 0) printf("  %s: -1 %s\n", what, strerror(errno));
	else printf("  %s: %zd\n", what, n);
}

static int fionread(int fd) { int n = -1; ioctl(fd, FIONREAD, &n); return n; }

/* Drains what is left without blocking and checks it continues the stream at pos. */
static void drain(int fd, long pos) {
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	unsigned char b[4096];
	long bad = 0, got = 0;
	ssize_t n;
	while ((n = read(fd, b, sizeof b)) > 0) {
		for (long i = 0; i < n; i++)
			if (b[i] != pat(pos + got + i)) bad++;
		got += n;
	}
	printf("  drained %ld bad %ld\n", got, bad);
}

static void onAlarm(int s) { (void)s; }

int main(void) {
	alarm(60);
	setvbuf(stdout, NULL, _IONBF, 0);
	wbuf = malloc(1 << 20);
	struct reader r;
	int p[2];

	/* Blocking writes, large and small, to a reader that waits each time. */
	printf("blocking stream:\n");
	pipe(p);
	startReader(&r, p[0], 65536, 0);
	long pos = 0;
	long sizes[] = {200000, 65536, 65536, 10, 4096, 70000, 131072, 1};
	for (int i = 0; i < 8; i++) {
		fill(pos, sizes[i]);
		ssize_t n = write(p[1], wbuf, sizes[i]);
		if (n != sizes[i]) res("short write", n);
		pos += sizes[i];
		usleep(20000);
	}
	close(p[1]);
	pthread_join(r.t, NULL);
	printf("  reader got %ld of %ld, bad %ld, largest read %s\n", r.got, pos, r.bad,
	       r.max <= 65536 ? "<= 64 KiB" : "too large");
	close(p[0]);

	/* Nonblocking writes to a reader waiting with buffers of several sizes. */
	long wants[] = {4096, 100, 65536, 8192};
	long firsts[] = {10000, 10000, 65536, 12288};
	for (int k = 0; k < 4; k++) {
		for (int j = 0; j < 2; j++) {
			long first = j == 0 ? 200000 : firsts[k];
			printf("nonblocking, reader wants %ld, write %ld:\n", wants[k], first);
			pipe(p);
			startReader(&r, p[0], wants[k], 1);
			fcntl(p[1], F_SETFL, O_NONBLOCK);
			fill(0, first);
			ssize_t n = write(p[1], wbuf, first);
			res("write", n);
			pthread_join(r.t, NULL);
			printf("  reader got %ld bad %ld\n", r.got, r.bad);
			printf("  FIONREAD %d\n", fionread(p[0]));
			long at = n > 0 ? n : 0;
			fill(at, 65536);
			res("write 64 KiB", n = write(p[1], wbuf, 65536));
			if (n > 0) at += n;
			fill(at, 10);
			res("write 10", n = write(p[1], wbuf, 10));
			if (n > 0) at += n;
			printf("  FIONREAD %d\n", fionread(p[0]));
			drain(p[0], r.got);
			close(p[0]);
			close(p[1]);
		}
	}

	/* Blocking writes interrupted by a signal, with a reader that waited
	 * for a little (0: none), a page, or two pages. */
	struct sigaction sa = {0};
	sa.sa_handler = onAlarm; /* no SA_RESTART */
	sigaction(SIGALRM, &sa, NULL);
	long iwants[] = {0, 100, 4096, 8192};
	for (int k = 0; k < 4; k++) {
		printf("interrupted, reader wants %ld:\n", iwants[k]);
		pipe(p);
		memset(&r, 0, sizeof r);
		if (iwants[k]) startReader(&r, p[0], iwants[k], 1);
		struct itimerval it = {.it_value = {.tv_usec = 400000}};
		setitimer(ITIMER_REAL, &it, NULL);
		fill(0, 200000);
		ssize_t n = write(p[1], wbuf, 200000);
		res("write", n);
		if (iwants[k]) pthread_join(r.t, NULL);
		printf("  reader got %ld bad %ld\n", r.got, r.bad);
		printf("  FIONREAD %d\n", fionread(p[0]));
		setitimer(ITIMER_REAL, &it, NULL);
		res("write to the full pipe", write(p[1], wbuf, 10));
		drain(p[0], r.got);
		close(p[0]);
		close(p[1]);
	}

	/* O_DIRECT: a waiting reader gets one packet, never more. */
	printf("packets:\n");
	pipe2(p, O_DIRECT);
	startReader(&r, p[0], 65536, 1);
	fill(0, 10000);
	res("write", write(p[1], wbuf, 10000));
	pthread_join(r.t, NULL);
	printf("  reader got %ld bad %ld\n", r.got, r.bad);
	printf("  FIONREAD %d\n", fionread(p[0]));
	close(p[0]);
	close(p[1]);

	/* Several readers waiting at once: every byte arrives exactly once. */
	printf("two readers:\n");
	pipe(p);
	struct reader a = {.fd = p[0], .want = 65536}, b = {.fd = p[0], .want = 4096};
	pthread_create(&a.t, NULL, sumLoop, &a);
	pthread_create(&b.t, NULL, sumLoop, &b);
	usleep(100000);
	long want = 0, sum = 0;
	for (long i = 0; i < 200; i++) {
		long sz = 1 + (i * 7919) % 30000;
		fill(want, sz);
		for (long j = 0; j < sz; j++) sum += wbuf[j];
		if (write(p[1], wbuf, sz) != sz) printf("  short write\n");
		want += sz;
	}
	close(p[1]);
	pthread_join(a.t, NULL);
	pthread_join(b.t, NULL);
	printf("  got %ld of %ld, sums %s\n", sharedGot, want, sharedSum == sum ? "match" : "differ");
	return 0;
}
`

// TestPipeHandoff: reads and writes through a pipe whose reader is already
// waiting, as Linux answers them (see above).
func TestPipeHandoff(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "pipehandoff", pipeHandoffC, "-pthread")
	native, _ := diff(t, []string{prog})
	if native.Code != 0 || !strings.Contains(native.Stdout, "sums match") ||
		strings.Contains(native.Stdout, "short") || strings.Count(native.Stdout, "bad 0") != 26 {
		t.Errorf("native run looks wrong: %s", native)
	}
}
