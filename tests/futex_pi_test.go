package tests

import "testing"

// futexPIC: FUTEX_LOCK_PI, TRYLOCK_PI and UNLOCK_PI on a raw word (hand-over
// to a blocked waiter, EDEADLK, EPERM, EAGAIN, ETIMEDOUT, ESRCH, EINVAL,
// EFAULT), an owner exiting while another thread waits (OWNER_DIED) and
// after it has exited (ESRCH), and glibc's PTHREAD_PRIO_INHERIT mutexes.
const futexPIC = `#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static uint32_t word;

// sleeping waits until thread t sleeps in the kernel (state S in /proc).
static void sleeping(int t) {
	for (int i = 0; i < 5000; i++) {
		char path[64], st[256] = "";
		snprintf(path, sizeof path, "/proc/self/task/%d/stat", t);
		FILE *f = t ? fopen(path, "r") : NULL;
		if (f) {
			fgets(st, sizeof st, f);
			fclose(f);
		}
		char *p = strrchr(st, ')');
		if (p && p[2] == 'S')
			return;
		usleep(1000);
	}
}
static long fx(uint32_t *w, int op, const struct timespec *ts) {
	return syscall(SYS_futex, w, op, 0, ts, NULL, 0);
}
static int tid(void) { return syscall(SYS_gettid); }
static void show(const char *what, long r) {
	printf("%s: %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerror(errno) : "");
}

static long blk, bunl;
static int bowns, bwaiters;
static uint32_t bafter;
static volatile int btid;
static void *locker(void *arg) {
	(void)arg;
	btid = tid();
	blk = fx(&word, FUTEX_LOCK_PI, NULL);
	bowns = (word & FUTEX_TID_MASK) == (uint32_t)tid();
	bwaiters = !!(word & FUTEX_WAITERS);
	bunl = fx(&word, FUTEX_UNLOCK_PI, NULL);
	bafter = word;
	return NULL;
}

static void *trier(void *arg) {
	(void)arg;
	show("C trylock_pi on a held lock", fx(&word, FUTEX_TRYLOCK_PI, NULL));
	show("C unlock_pi of A's lock", fx(&word, FUTEX_UNLOCK_PI, NULL));
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 30000000;
	if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
	show("C lock_pi with a timeout", fx(&word, FUTEX_LOCK_PI, &ts));
	return NULL;
}

static uint32_t dword, eword;
static long dres;
static volatile int going;
static void *exiter(void *arg) {
	(void)arg;
	fx(&eword, FUTEX_LOCK_PI, NULL);
	return NULL;
}
static void *dier(void *arg) {
	(void)arg;
	dres = fx(&dword, FUTEX_LOCK_PI, NULL);
	while (!going)
		usleep(1000);
	sleeping(getpid()); // main waits for the lock
	return NULL; // exits holding it
}

static pthread_mutex_t m;
static long counter;
static void *incr(void *arg) {
	(void)arg;
	for (int i = 0; i < 20000; i++) {
		pthread_mutex_lock(&m);
		counter++;
		pthread_mutex_unlock(&m);
	}
	return NULL;
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	show("A lock_pi", fx(&word, FUTEX_LOCK_PI, NULL));
	printf("A owns: %d, word is its tid: %d\n", (word & FUTEX_TID_MASK) == (uint32_t)tid(), word == (uint32_t)tid());
	show("A lock_pi again", fx(&word, FUTEX_LOCK_PI, NULL));
	show("A trylock_pi again", fx(&word, FUTEX_TRYLOCK_PI, NULL));
	pthread_t c, b;
	pthread_create(&c, NULL, trier, NULL);
	pthread_join(c, NULL);
	pthread_create(&b, NULL, locker, NULL);
	while (!btid)
		usleep(1000);
	sleeping(btid);
	printf("waiters bit while B waits: %d\n", !!(word & FUTEX_WAITERS));
	show("A unlock_pi", fx(&word, FUTEX_UNLOCK_PI, NULL));
	pthread_join(b, NULL);
	show("B lock_pi (blocked)", blk);
	printf("B owns: %d, waiters bit: %d\n", bowns, bwaiters);
	show("B unlock_pi", bunl);
	printf("word after B: %#x\n", bafter);
	show("unlock_pi of a free lock", fx(&word, FUTEX_UNLOCK_PI, NULL));
	uint32_t bogus = 0x3ffffff0;
	show("lock_pi, owner tid names nobody", fx(&bogus, FUTEX_LOCK_PI, NULL));
	show("lock_pi misaligned", fx((uint32_t *)((char *)&word + 1), FUTEX_LOCK_PI, NULL));
	show("lock_pi NULL", fx(NULL, FUTEX_LOCK_PI, NULL));
	// The owner exits holding it: the waiter gets it.
	pthread_t d;
	pthread_create(&d, NULL, dier, NULL);
	while (!dword)
		usleep(1000);
	going = 1;
	show("main lock_pi of a lock whose owner exits", fx(&dword, FUTEX_LOCK_PI, NULL));
	printf("main owns it: %d, flags %#x\n", (dword & FUTEX_TID_MASK) == (uint32_t)tid(), dword & ~FUTEX_TID_MASK);
	pthread_join(d, NULL);
	show("D lock_pi", dres);
	fx(&dword, FUTEX_UNLOCK_PI, NULL);
	// An owner that has exited already: nobody will hand it over.
	pthread_t e;
	pthread_create(&e, NULL, exiter, NULL);
	pthread_join(e, NULL);
	show("lock_pi of a lock whose owner has exited", fx(&eword, FUTEX_LOCK_PI, NULL));
	// glibc's priority-inheritance mutexes.
	pthread_mutexattr_t at;
	pthread_mutexattr_init(&at);
	pthread_mutexattr_setprotocol(&at, PTHREAD_PRIO_INHERIT);
	pthread_mutex_init(&m, &at);
	pthread_t th[4];
	for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, incr, NULL);
	for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
	printf("PI mutex counter: %ld\n", counter);
	return 0;
}
`

// TestFutexPI: priority-inheritance futexes (they were ENOSYS) behave as
// Linux's, without the priority boost.
func TestFutexPI(t *testing.T) {
	t.Parallel()
	diff(t, []string{compileC(t, "futex-pi", futexPIC)})
}
