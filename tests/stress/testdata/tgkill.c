/* tgkill: signal storms to every thread.
 *
 * Eight threads each do something different (spin, sleep in nanosleep,
 * read a pipe, wait on a condition variable, fault pages in a loop, block
 * and unblock the signal, sit in poll). Two sender threads queue real-time
 * signals with rt_tgsigqueueinfo to every thread, each with a value, and
 * kill() the process with another real-time signal, and sigqueue() a third
 * one that every thread blocks and a dedicated thread takes with
 * sigwaitinfo; real-time signals are queued, so every thread's handler
 * count and value sum must match exactly what was sent to it, and the
 * process-directed ones must add up. A burst
 * of SIGUSR1 (not queued) must arrive at least once per thread. */
#include "common.h"
#include <poll.h>

#define NT 8
#define NS 2
#define OUTSTANDING 32

static pid_t tids[NT];
static pthread_t pts[NT];
static volatile long got[NT], sum[NT], sent[NT], sentsum[NT], usr1[NT], procwide, procsent, ready, stop;
static __thread int me = -1;
static int wake[2];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void on_rt(int sig, siginfo_t *si, void *uc) {
	if (me < 0) return;
	CHECK(si->si_code == SI_QUEUE, "thread %d: si_code %d, want SI_QUEUE", me, si->si_code);
	CHECK(si->si_pid == getpid(), "thread %d: si_pid %d", me, si->si_pid);
	__atomic_add_fetch(&sum[me], si->si_value.sival_int, __ATOMIC_RELAXED);
	__atomic_add_fetch(&got[me], 1, __ATOMIC_RELEASE);
}

static void on_proc(int sig, siginfo_t *si, void *uc) {
	CHECK(si->si_code == SI_USER, "process signal: si_code %d, want SI_USER", si->si_code);
	__atomic_add_fetch(&procwide, 1, __ATOMIC_RELEASE);
}

/* The dedicated signal thread: every thread blocks SIGRTMIN+2, this one
 * takes it with sigwaitinfo. */
static volatile long waited, waitsent;
static void *sigwaiter(void *arg) {
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGRTMIN + 2);
	for (;;) {
		siginfo_t si;
		int r = sigwaitinfo(&s, &si);
		if (r < 0 && errno == EINTR) continue;
		CHECK(r == SIGRTMIN + 2, "sigwaitinfo: %d %s", r, strerror(errno));
		if (si.si_value.sival_int < 0) return 0;
		__atomic_add_fetch(&waited, 1, __ATOMIC_RELEASE);
	}
}

static void on_usr1(int sig) {
	if (me >= 0) __atomic_add_fetch(&usr1[me], 1, __ATOMIC_RELAXED);
}

static void *worker(void *arg) {
	me = (int)(long)arg;
	tids[me] = gettid_();
	__atomic_add_fetch(&ready, 1, __ATOMIC_RELEASE);
	while (!stop) {
		switch (me % 7) {
		case 0: {
			for (volatile int i = 0; i < 10000; i++) {}
			break;
		}
		case 1: {
			struct timespec ts = {0, 2000000};
			nanosleep(&ts, 0);
			break;
		}
		case 2: {
			char c;
			read(wake[0], &c, 1);
			break;
		}
		case 3: {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 3000000;
			if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
			pthread_mutex_lock(&mu);
			pthread_cond_timedwait(&cv, &mu, &ts);
			pthread_mutex_unlock(&mu);
			break;
		}
		case 4: {
			char *p = xmmap(0, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
			for (int i = 0; i < 16; i++) p[i * PAGE] = (char)i;
			munmap(p, 16 * PAGE);
			break;
		}
		case 5: {
			sigset_t s;
			sigemptyset(&s);
			sigaddset(&s, SIGRTMIN);
			pthread_sigmask(SIG_BLOCK, &s, 0);
			for (volatile int i = 0; i < 20000; i++) {}
			pthread_sigmask(SIG_UNBLOCK, &s, 0);
			break;
		}
		case 6: {
			struct pollfd p = {.fd = wake[0], .events = POLLIN};
			poll(&p, 1, 3);
			break;
		}
		}
	}
	return 0;
}

static int nrounds;

static void *rtsender(void *arg) {
	int s = (int)(long)arg;
	for (int r = 0; r < nrounds; r++) {
		for (int t = 0; t < NT; t++) {
			/* keep at most OUTSTANDING queued per thread (RLIMIT_SIGPENDING) */
			while (__atomic_load_n(&sent[t], __ATOMIC_ACQUIRE) - __atomic_load_n(&got[t], __ATOMIC_ACQUIRE) > OUTSTANDING)
				sched_yield();
			int val = (r * NT + t) * NS + s + 1;
			siginfo_t si = {0};
			si.si_signo = SIGRTMIN;
			si.si_code = SI_QUEUE;
			si.si_pid = getpid();
			si.si_uid = getuid();
			si.si_value.sival_int = val;
			__atomic_add_fetch(&sent[t], 1, __ATOMIC_RELEASE);
			__atomic_add_fetch(&sentsum[t], val, __ATOMIC_RELEASE);
			CHECK(syscall(SYS_rt_tgsigqueueinfo, getpid(), tids[t], SIGRTMIN, &si) == 0,
			      "rt_tgsigqueueinfo: %s", strerror(errno));
		}
		if (r % 3 == s) {
			while (__atomic_load_n(&waitsent, __ATOMIC_ACQUIRE) - __atomic_load_n(&waited, __ATOMIC_ACQUIRE) > OUTSTANDING)
				sched_yield();
			__atomic_add_fetch(&waitsent, 1, __ATOMIC_RELEASE);
			union sigval v = {.sival_int = r};
			CHECK(sigqueue(getpid(), SIGRTMIN + 2, v) == 0, "sigqueue: %s", strerror(errno));
		}
		if (r % 4 == s) {
			while (__atomic_load_n(&procsent, __ATOMIC_ACQUIRE) - __atomic_load_n(&procwide, __ATOMIC_ACQUIRE) > OUTSTANDING)
				sched_yield();
			__atomic_add_fetch(&procsent, 1, __ATOMIC_RELEASE);
			CHECK(kill(getpid(), SIGRTMIN + 1) == 0, "kill: %s", strerror(errno));
		}
	}
	return 0;
}

int main(int argc, char **argv) {
	nrounds = iters(argc, argv, 200);
	CHECK(pipe(wake) == 0, "pipe");
	sigset_t w2;
	sigemptyset(&w2);
	sigaddset(&w2, SIGRTMIN + 2);
	pthread_sigmask(SIG_BLOCK, &w2, 0);
	pthread_t sw = spawn(sigwaiter, 0);
	struct sigaction sa = {0};
	sa.sa_sigaction = on_rt;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGRTMIN, &sa, 0);
	sa.sa_sigaction = on_proc;
	sigaction(SIGRTMIN + 1, &sa, 0);
	struct sigaction su = {0};
	su.sa_handler = on_usr1;
	su.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &su, 0);
	for (int t = 0; t < NT; t++) pts[t] = spawn(worker, (void *)(long)t);
	/* only the workers take process-directed signals (the senders
	 * inherit this mask) */
	sigset_t all;
	sigemptyset(&all);
	sigaddset(&all, SIGRTMIN + 1);
	pthread_sigmask(SIG_BLOCK, &all, 0);
	/* SIGRTMIN+2 is blocked everywhere before the workers start */
	wait_until(&ready, NT);
	pthread_t s[NS];
	for (int i = 0; i < NS; i++) s[i] = spawn(rtsender, (void *)(long)i);
	for (int i = 0; i < NS; i++) join(s[i]);
	for (int t = 0; t < NT; t++) wait_until(&got[t], sent[t]);
	wait_until(&procwide, procsent);
	wait_until(&waited, waitsent);
	union sigval last = {.sival_int = -1};
	sigqueue(getpid(), SIGRTMIN + 2, last);
	join(sw);
	for (int k = 0; k < 50; k++)
		for (int t = 0; t < NT; t++) pthread_kill(pts[t], SIGUSR1);
	for (int t = 0; t < NT; t++) {
		while (__atomic_load_n(&usr1[t], __ATOMIC_ACQUIRE) == 0) sched_yield();
		CHECK(usr1[t] <= 50, "thread %d: %ld SIGUSR1 for 50 sent", t, usr1[t]);
	}
	stop = 1;
	for (int t = 0; t < NT; t++) xwrite(wake[1], "x", 1);
	pthread_cond_broadcast(&cv);
	for (int t = 0; t < NT; t++) join(pts[t]);
	for (int t = 0; t < NT; t++)
		printf("thread %d: %ld signals (sent %ld), values %ld (sent %ld)\n", t, got[t], sent[t], sum[t], sentsum[t]);
	printf("process-directed: %ld (sent %ld)\n", procwide, procsent);
	printf("to the sigwaitinfo thread: %ld (sent %ld)\n", waited, waitsent);
	return 0;
}
