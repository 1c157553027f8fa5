/* stopcont: SIGSTOP and SIGCONT to a process whose threads are busy.
 *
 * The child's eight threads spin, fault pages in, sleep in nanosleep and
 * yield, each bumping a counter in shared memory. The parent stops the
 * child over and over: once waitpid reports the stop, no counter may move
 * until SIGCONT (every thread stops, not just one), and after SIGCONT
 * every running thread moves again. A SIGCHLD handler in the parent
 * counts the stop/continue notifications it gets (at least one). */
#include "common.h"

#define NT 8
static volatile long *ctr;
static volatile long sigchld;

static void *worker(void *arg) {
	int k = (int)(long)arg;
	for (;;) {
		switch (k % 4) {
		case 0:
			for (volatile int i = 0; i < 1000; i++) {}
			break;
		case 1: {
			char *p = xmmap(0, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
			for (int i = 0; i < 8; i++) p[i * PAGE] = 1;
			munmap(p, 8 * PAGE);
			break;
		}
		case 2: {
			struct timespec ts = {0, 100000};
			nanosleep(&ts, 0);
			break;
		}
		case 3:
			sched_yield();
			break;
		}
		__atomic_add_fetch(&ctr[k], 1, __ATOMIC_RELAXED);
	}
	return 0;
}

static void on_chld(int s) { sigchld++; }

static void snap(long *out) {
	for (int k = 0; k < NT; k++) out[k] = __atomic_load_n(&ctr[k], __ATOMIC_ACQUIRE);
}

int main(int argc, char **argv) {
	int n = iters(argc, argv, 20);
	ctr = xmmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1);
	struct sigaction sa = {0};
	sa.sa_handler = on_chld;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, 0);
	pid_t pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		for (int k = 0; k < NT; k++) spawn(worker, (void *)(long)k);
		for (;;) pause();
	}
	for (int k = 0; k < NT; k++) wait_until(&ctr[k], 1);
	int frozen = 0, moved = 0;
	for (int i = 0; i < n; i++) {
		CHECK(kill(pid, SIGSTOP) == 0, "kill");
		int st;
		while (waitpid(pid, &st, WUNTRACED) < 0) CHECK(errno == EINTR, "waitpid: %s", strerror(errno));
		CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP, "round %d: %s, want stopped", i, status_str(st));
		long a[NT], b[NT];
		snap(a);
		usleep(20000);
		snap(b);
		int same = 1;
		for (int k = 0; k < NT; k++) same &= a[k] == b[k];
		frozen += same;
		CHECK(kill(pid, SIGCONT) == 0, "kill");
		while (waitpid(pid, &st, WCONTINUED) < 0) CHECK(errno == EINTR, "waitpid: %s", strerror(errno));
		CHECK(WIFCONTINUED(st), "round %d: %s, want continued", i, status_str(st));
		for (int k = 0; k < NT; k++) wait_until(&ctr[k], b[k] + 1);
		moved++;
	}
	kill(pid, SIGKILL);
	int st = xwaitpid(pid);
	printf("stopcont: %d rounds, frozen while stopped %d, all moved after SIGCONT %d, SIGCHLD seen %s, end %s\n",
	       n, frozen, moved, sigchld > 0 ? "yes" : "no", status_str(st));
	return 0;
}
