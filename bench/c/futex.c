/* futex: two threads hand a turn back and forth N times through one futex
 * word (FUTEX_WAIT until it is my turn, then flip it and FUTEX_WAKE).
 * Times the N round trips. */
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "common.h"

static atomic_int turn; /* 0: the main thread's turn, 1: the peer's */
static long rounds;
static long peer_rounds;

static void futex_wait(int val)
{
	syscall(SYS_futex, &turn, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(void)
{
	syscall(SYS_futex, &turn, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* pass waits for my turn, then gives the turn to the other thread. */
static void pass(int me)
{
	while (atomic_load(&turn) != me)
		futex_wait(!me);
	atomic_store(&turn, !me);
	futex_wake();
}

static void *peer(void *arg)
{
	(void)arg;
	for (long i = 0; i < rounds; i++) {
		pass(1);
		peer_rounds++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	rounds = argc > 1 ? atol(argv[1]) : 20000;
	pthread_t t;
	if (pthread_create(&t, NULL, peer, NULL) != 0) {
		fprintf(stderr, "futex: pthread_create failed\n");
		return 1;
	}
	long long t0 = now_ns();
	for (long i = 0; i < rounds; i++)
		pass(0);
	/* The peer's last pass gives the turn back; wait for it, then join. */
	while (atomic_load(&turn) != 0)
		futex_wait(1);
	pthread_join(t, NULL);
	long long t1 = now_ns();
	/* check: the round trips the peer completed. */
	report(t1 - t0, rounds, (unsigned long long)peer_rounds);
	return 0;
}
