/* exitbusy: a process ends while its threads are busy.
 *
 * Each iteration forks a child that starts threads running guest code,
 * parked in system calls (read on a pipe, a condition variable, nanosleep,
 * poll, sigwaitinfo, vfork), faulting fresh pages in a loop, and
 * creating threads. Once all run, the child ends one of several ways: exit_group
 * from main, exit() from another thread (stdio flushed), main's
 * pthread_exit followed by a thread's _exit, a fatal signal, or return
 * from main. The parent checks each child's status and output. */
#include "common.h"
#include <poll.h>

enum { SPIN, PIPE, COND, SLEEP, POLL, SIGWAIT, FAULT, CREATE, VFORK, NKIND };
static volatile long started, faults, spins, created;
static int never[2];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int variant, code;

static void *shortlived(void *a) {
	__atomic_add_fetch(&created, 1, __ATOMIC_RELAXED);
	return 0;
}

static void *busy(void *arg) {
	int kind = (int)(long)arg;
	__atomic_add_fetch(&started, 1, __ATOMIC_RELEASE);
	switch (kind) {
	case SPIN:
		for (;;) __atomic_add_fetch(&spins, 1, __ATOMIC_RELAXED);
	case PIPE: {
		char c;
		read(never[0], &c, 1);
		break;
	}
	case COND:
		pthread_mutex_lock(&mu);
		for (;;) pthread_cond_wait(&cv, &mu);
	case SLEEP: {
		struct timespec ts = {100, 0};
		nanosleep(&ts, 0);
		break;
	}
	case POLL: {
		struct pollfd p = {.fd = never[0], .events = POLLIN};
		poll(&p, 1, -1);
		break;
	}
	case SIGWAIT: {
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, SIGUSR2);
		sigwaitinfo(&s, 0);
		break;
	}
	case FAULT:
		for (;;) {
			char *p = xmmap(0, 64 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
			for (int i = 0; i < 64; i++) p[i * PAGE] = 1;
			munmap(p, 64 * PAGE);
			__atomic_add_fetch(&faults, 1, __ATOMIC_RELEASE);
		}
	case VFORK: {
		/* parked in vfork: the child sleeps a little before exec'ing */
		char *argv[] = {"/bin/sh", "-c", "sleep 0.1; exec true", 0};
		pid_t pid = vfork();
		if (pid == 0) {
			execv(argv[0], argv);
			_exit(127);
		}
		for (;;) pause();
	}
	case CREATE:
		for (;;) {
			pthread_t t;
			pthread_attr_t at;
			pthread_attr_init(&at);
			pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
			if (pthread_create(&t, &at, shortlived, 0) != 0) sched_yield();
			pthread_attr_destroy(&at);
		}
	}
	return 0;
}

static void finish(void) {
	switch (variant) {
	case 0: /* exit_group from main while everyone is busy */
		printf("child %d: _exit from main\n", code);
		fflush(stdout);
		_exit(code);
	case 1: /* exit() from a thread: atexit and stdio run while others run */
	case 2: /* main has left with pthread_exit; a thread exits the group */
		printf("child %d: exit from a thread\n", code);
		exit(code);
	case 3: /* a fatal signal */
		printf("child %d: SIGTERM\n", code);
		fflush(stdout);
		kill(getpid(), SIGTERM);
		for (;;) pause();
	case 4: /* return from main */
		printf("child %d: return from main\n", code);
		break;
	}
}

static void *finisher(void *a) {
	finish();
	return 0;
}

static void child(void) {
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &s, 0);
	CHECK(pipe(never) == 0, "pipe");
	for (int k = 0; k < NKIND; k++) spawn(busy, (void *)(long)k);
	wait_until(&started, NKIND);
	wait_until(&faults, 2);
	wait_until(&spins, 1000);
	switch (variant) {
	case 0: case 3: case 4:
		finish();
		return;
	case 1:
		spawn(finisher, 0);
		for (;;) pause();
	case 2:
		spawn(finisher, 0);
		pthread_exit(0);
	}
}

int main(int argc, char **argv) {
	int n = iters(argc, argv, 20);
	int want[5] = {0};
	for (int it = 0; it < n; it++) {
		variant = it % 5;
		code = it % 100 + 1;
		fflush(stdout);
		pid_t pid = fork();
		CHECK(pid >= 0, "fork: %s", strerror(errno));
		if (pid == 0) {
			child();
			return code;
		}
		int st = xwaitpid(pid);
		if (variant == 3)
			CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "iter %d: child %s, want SIGTERM", it, status_str(st));
		else
			CHECK(WIFEXITED(st) && WEXITSTATUS(st) == code, "iter %d variant %d: child %s, want exit %d",
			      it, variant, status_str(st), code);
		want[variant]++;
	}
	printf("exitbusy: %d children ended with busy threads: %d %d %d %d %d\n", n, want[0], want[1], want[2], want[3], want[4]);
	return 0;
}
