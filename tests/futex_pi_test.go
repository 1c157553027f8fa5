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

// futexPISharedDeathC: a PI lock in MAP_SHARED memory whose owner, another
// process, exits holding it while the parent waits in FUTEX_LOCK_PI (the
// shared futex is keyed by the memory, not an address space). The lock
// goes to the waiter with FUTEX_OWNER_DIED, as Linux's exit_pi_state_list
// and fixup_pi_state_owner do; a second waiter then gets it from the
// first with FUTEX_UNLOCK_PI. Linux: kernel/futex/core.c, pi.c
const futexPISharedDeathC = `#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static uint32_t *word;
static int pipefd[2];

static long fx(int op) { return syscall(SYS_futex, word, op, 0, NULL, NULL, 0); }

static void *second(void *a) {
	(void)a;
	long r = fx(FUTEX_LOCK_PI);
	uint32_t w = *word;
	printf("second waiter: lock=%ld owner_is_me=%d owner_died=%d\n", r,
		(w & FUTEX_TID_MASK) == (uint32_t)gettid(), !!(w & FUTEX_OWNER_DIED));
	fflush(stdout);
	fx(FUTEX_UNLOCK_PI);
	return 0;
}

int main(void) {
	word = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pipe(pipefd);
	pid_t c = fork();
	if (c == 0) {
		*word = (uint32_t)gettid(); /* take the free lock as user space does */
		write(pipefd[1], "x", 1);
		pause(); /* killed holding it */
		_exit(0);
	}
	char x;
	read(pipefd[0], &x, 1);
	uint32_t me = (uint32_t)gettid();
	pid_t killer = fork();
	if (killer == 0) {
		/* ends the owner once the parent waits in FUTEX_LOCK_PI (the
		   kernel has set FUTEX_WAITERS) */
		for (int i = 0; i < 2000 && !(*word & FUTEX_WAITERS); i++) usleep(5000);
		kill(c, SIGKILL);
		_exit(0);
	}
	long r = fx(FUTEX_LOCK_PI);
	uint32_t w = *word;
	printf("first waiter: lock=%ld owner_is_me=%d owner_died=%d waiters=%d\n", r,
		(w & FUTEX_TID_MASK) == me, !!(w & FUTEX_OWNER_DIED), !!(w & FUTEX_WAITERS));
	fflush(stdout);
	waitpid(c, NULL, 0);
	waitpid(killer, NULL, 0);
	/* The second thread gets it by hand-over if it waits by then, else
	   takes the free lock: either way it owns it, without OWNER_DIED. */
	pthread_t th;
	pthread_create(&th, 0, second, 0);
	usleep(20000);
	/* The result is printed after the join: a second thread woken by the
	   hand-over prints its line while this one returns, in either order. */
	long u = fx(FUTEX_UNLOCK_PI);
	pthread_join(th, 0);
	printf("unlock: %ld\n", u);
	printf("after: %#x\n", *word);
	return 0;
}
`

// TestFutexPISharedOwnerDeath: see futexPISharedDeathC.
func TestFutexPISharedOwnerDeath(t *testing.T) {
	t.Parallel()
	diff(t, []string{compileC(t, "futex-pi-shared-death", futexPISharedDeathC, "-pthread")})
}
