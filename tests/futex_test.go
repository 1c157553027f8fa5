package tests

import "testing"

// futexWaitWakeC: plain futex waits and wakes between threads and
// processes, written so that no result depends on timing: a waker that
// needs a sleeping waiter retries its wake until the wake reports one.
// Covers a two-thread hand-off (both sides sleeping in turn), timed waits
// that expire (relative and FUTEX_WAIT_BITSET's absolute deadline) and one
// woken before its deadline, wake bitsets choosing among waiters,
// FUTEX_CMP_REQUEUE moving sleepers (also onto the word they sleep on),
// FUTEX_WAKE_OP, a shared futex in
// MAP_SHARED memory woken from another process, a sleeper woken for a
// signal's handler (EINTR), and exit_group ending a process whose other
// thread sleeps for good. Linux: kernel/futex/waitwake.c, requeue.c
const futexWaitWakeC = `#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long fx(void *w, int op, int val, const struct timespec *ts, void *w2, int val3) {
	return syscall(SYS_futex, w, op, val, ts, w2, val3);
}
static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}
static void show(const char *what, long r) {
	printf("%s: %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerror(errno) : "");
}
/* wake1 wakes one sleeper on w (matching bitset), retrying until one was
   asleep to be woken. */
static void wake1(void *w, int op, int bitset) {
	for (int i = 0; i < 200000; i++) {
		if (fx(w, op, 1, NULL, NULL, bitset) == 1)
			return;
		sched_yield();
	}
	printf("wake1: nobody woke\n");
}

/* ping-pong */
static atomic_int turn;
static long peer_rounds;
#define ROUNDS 3000
static void pass(int me) {
	while (atomic_load(&turn) != me)
		fx(&turn, FUTEX_WAIT_PRIVATE, !me, NULL, NULL, 0);
	atomic_store(&turn, !me);
	fx(&turn, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}
static void *peer(void *a) {
	(void)a;
	for (int i = 0; i < ROUNDS; i++) {
		pass(1);
		peer_rounds++;
	}
	return NULL;
}

/* one-shot sleepers: each waits once on its word and records the result */
struct sleeper {
	uint32_t *w;
	int op, bitset;
	struct timespec *ts;
	long r;
	int err;
	atomic_int done;
	pthread_t th;
};
static void *sleep1(void *a) {
	struct sleeper *s = a;
	s->r = fx(s->w, s->op, 0, s->ts, NULL, s->bitset);
	s->err = s->r < 0 ? errno : 0;
	atomic_store(&s->done, 1);
	return NULL;
}
static void start(struct sleeper *s, uint32_t *w, int op, int bitset, struct timespec *ts) {
	s->w = w, s->op = op, s->bitset = bitset, s->ts = ts, s->r = -2;
	atomic_store(&s->done, 0);
	pthread_create(&s->th, NULL, sleep1, s);
}
static void done(const char *what, struct sleeper *s) {
	pthread_join(s->th, NULL);
	printf("%s: %ld %s\n", what, s->r, s->r < 0 ? strerror(s->err) : "");
}

static void on_usr1(int sig) { (void)sig; }
static void *forever(void *a) {
	static uint32_t never;
	(void)a;
	for (;;)
		fx(&never, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	return NULL;
}

int main(void) {
	alarm(60);
	setvbuf(stdout, NULL, _IONBF, 0);

	pthread_t t;
	pthread_create(&t, NULL, peer, NULL);
	for (int i = 0; i < ROUNDS; i++)
		pass(0);
	while (atomic_load(&turn) != 0)
		fx(&turn, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0);
	pthread_join(t, NULL);
	printf("ping-pong: peer rounds %ld turn %d\n", peer_rounds, atomic_load(&turn));

	static uint32_t w, w2;
	struct timespec rel = {0, 100 * 1000 * 1000};
	double t0 = now();
	long r = fx(&w, FUTEX_WAIT_PRIVATE, 0, &rel, NULL, 0);
	show("relative timeout", r);
	printf("relative timeout waited >= 100ms: %d\n", now() - t0 >= 0.1);
	struct timespec abs;
	clock_gettime(CLOCK_MONOTONIC, &abs);
	abs.tv_nsec += 100 * 1000 * 1000;
	if (abs.tv_nsec >= 1000000000)
		abs.tv_sec++, abs.tv_nsec -= 1000000000;
	t0 = now();
	r = fx(&w, FUTEX_WAIT_BITSET_PRIVATE, 0, &abs, NULL, FUTEX_BITSET_MATCH_ANY);
	show("absolute timeout", r);
	printf("absolute timeout waited >= 100ms: %d\n", now() - t0 >= 0.1);

	struct sleeper a, b, c;
	struct timespec long_ts = {30, 0};
	start(&a, &w, FUTEX_WAIT_PRIVATE, 0, &long_ts);
	t0 = now();
	wake1(&w, FUTEX_WAKE_PRIVATE, 0);
	done("woken before its timeout", &a);
	printf("woken well before 30s: %d\n", now() - t0 < 20);

	/* bitsets: a waits for bit 0, b for bit 1 */
	start(&a, &w, FUTEX_WAIT_BITSET_PRIVATE, 1, NULL);
	start(&b, &w, FUTEX_WAIT_BITSET_PRIVATE, 2, NULL);
	wake1(&w, FUTEX_WAKE_BITSET_PRIVATE, 2);
	done("bitset 2 sleeper", &b);
	printf("bitset 1 sleeper still asleep: %d\n", !atomic_load(&a.done));
	show("wake bitset 4", fx(&w, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, NULL, NULL, 4));
	printf("bitset 1 sleeper still asleep: %d\n", !atomic_load(&a.done));
	wake1(&w, FUTEX_WAKE_BITSET_PRIVATE, 1);
	done("bitset 1 sleeper", &a);

	/* requeue: three sleepers on w move to w2 as they fall asleep */
	start(&a, &w, FUTEX_WAIT_PRIVATE, 0, NULL);
	start(&b, &w, FUTEX_WAIT_PRIVATE, 0, NULL);
	start(&c, &w, FUTEX_WAIT_PRIVATE, 0, NULL);
	long moved = 0;
	for (int i = 0; i < 200000 && moved < 3; i++) {
		r = fx(&w, FUTEX_CMP_REQUEUE_PRIVATE, 0, (void *)(long)INT_MAX, &w2, 0);
		if (r < 0) {
			show("cmp_requeue", r);
			break;
		}
		moved += r;
		if (moved < 3)
			sched_yield();
	}
	printf("requeued: %ld\n", moved);
	show("requeue with a changed word", fx(&w, FUTEX_CMP_REQUEUE_PRIVATE, 0, (void *)1L, &w2, 1));
	show("wake the old word", fx(&w, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0));
	show("wake one on the new word", fx(&w2, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
	while (atomic_load(&a.done) + atomic_load(&b.done) + atomic_load(&c.done) < 1)
		sched_yield();
	printf("awake after one wake: %d\n", atomic_load(&a.done) + atomic_load(&b.done) + atomic_load(&c.done));
	show("wake the rest", fx(&w2, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0));
	done("requeued sleeper a", &a);
	done("requeued sleeper b", &b);
	done("requeued sleeper c", &c);

	/* requeue onto the same word: the sleeper stays queued there */
	start(&a, &w, FUTEX_WAIT_PRIVATE, 0, NULL);
	for (int i = 0; i < 200000; i++) {
		r = fx(&w, FUTEX_CMP_REQUEUE_PRIVATE, 0, (void *)(long)INT_MAX, &w, 0);
		if (r != 0)
			break;
		sched_yield();
	}
	show("requeue onto itself", r);
	show("wake after requeue onto itself", fx(&w, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0));
	done("sleeper requeued onto its own word", &a);

	/* wake_op: the op is applied to w2 at each try, and w2's sleeper is
	   woken when the old value passes the comparison */
	w2 = 0;
	start(&b, &w2, FUTEX_WAIT_PRIVATE, 0, NULL);
	for (int i = 0; i < 200000; i++) {
		r = fx(&w, FUTEX_WAKE_OP_PRIVATE, 0, (void *)1L, &w2,
		       FUTEX_OP(FUTEX_OP_OR, 0, FUTEX_OP_CMP_EQ, 0));
		if (r != 0)
			break;
		sched_yield();
	}
	show("wake_op passing", r);
	done("wake_op sleeper on w2", &b);
	start(&a, &w, FUTEX_WAIT_PRIVATE, 0, NULL);
	for (int i = 0; i < 200000; i++) {
		r = fx(&w, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1L, &w2,
		       FUTEX_OP(FUTEX_OP_SET, 5, FUTEX_OP_CMP_GT, 0));
		if (r != 0)
			break;
		sched_yield();
	}
	show("wake_op failing", r);
	printf("w2 after op: %u\n", w2);
	done("wake_op sleeper on w", &a);
	/* a shared futex woken from another process */
	uint32_t *sw = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t kid = fork();
	if (kid == 0) {
		long kr = fx(sw, FUTEX_WAIT, 0, NULL, NULL, 0);
		_exit(kr == 0 ? 7 : 8);
	}
	wake1(sw, FUTEX_WAKE, 0);
	int st;
	waitpid(kid, &st, 0);
	printf("shared futex child: exited %d status %d\n", WIFEXITED(st), WEXITSTATUS(st));

	/* a signal's handler interrupts a sleeper (no SA_RESTART: EINTR) */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	start(&a, &w, FUTEX_WAIT_PRIVATE, 0, &long_ts);
	for (int i = 0; i < 200000 && !atomic_load(&a.done); i++) {
		pthread_kill(a.th, SIGUSR1);
		struct timespec tiny = {0, 1000 * 1000};
		nanosleep(&tiny, NULL);
	}
	done("sleeper given a signal", &a);

	/* exit_group with a thread asleep for good */
	pthread_create(&t, NULL, forever, NULL);
	printf("exiting with a sleeper\n");
	return 0;
}
`

func TestFutexWaitWake(t *testing.T) {
	t.Parallel()
	native, _ := diff(t, []string{compileC(t, "futex-waitwake", futexWaitWakeC, "-pthread")})
	if native.Code != 0 || len(native.Stdout) < 200 {
		t.Errorf("native run looks wrong: %s", native)
	}
}
