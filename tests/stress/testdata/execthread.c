/* execthread: execve from a non-main thread while the others run.
 *
 * Each iteration forks a child whose threads spin, fault, sleep in read(),
 * wait on a condition variable and create threads; then one non-main
 * thread (or two at once, in some iterations; in others the main thread
 * has left with pthread_exit) calls execve of this program. The new image must have the old pid, be single-threaded (its
 * tid is its pid, /proc/self/status says Threads: 1), have its arguments,
 * and exit with its code; the parent checks the status. */
#include "common.h"

static volatile long started, faults;
static int never[2];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static char *self;

static void *shortlived(void *a) { return 0; }

static void *busy(void *arg) {
	int kind = (int)(long)arg;
	__atomic_add_fetch(&started, 1, __ATOMIC_RELEASE);
	switch (kind) {
	case 0:
		for (volatile long x = 0;; x++) {}
	case 1: {
		char c;
		read(never[0], &c, 1);
		break;
	}
	case 2:
		pthread_mutex_lock(&mu);
		for (;;) pthread_cond_wait(&cv, &mu);
	case 3:
		for (;;) {
			char *p = xmmap(0, 32 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
			for (int i = 0; i < 32; i++) p[i * PAGE] = 1;
			munmap(p, 32 * PAGE);
			__atomic_add_fetch(&faults, 1, __ATOMIC_RELEASE);
		}
	case 4:
		for (;;) {
			pthread_t t;
			if (pthread_create(&t, 0, shortlived, 0) == 0) pthread_detach(t);
		}
	}
	return 0;
}

static volatile int gate;

static void *execer(void *arg) {
	long it = (long)arg;
	while (!__atomic_load_n(&gate, __ATOMIC_ACQUIRE)) {}
	char a1[32], a2[32];
	snprintf(a1, sizeof a1, "%ld", it);
	snprintf(a2, sizeof a2, "%d", getpid());
	char *argv[] = {"execthread", "--target", a1, a2, 0};
	execv(self, argv);
	fail("execv: %s", strerror(errno));
	return 0;
}

static int target(char **argv) {
	long it = atol(argv[2]);
	int pid = atoi(argv[3]);
	CHECK(getpid() == pid, "iter %ld: pid after exec %d, want %d", it, getpid(), pid);
	CHECK(gettid_() == pid, "iter %ld: tid after exec %d, want %d", it, gettid_(), pid);
	FILE *f = fopen("/proc/self/status", "r");
	CHECK(f != 0, "open /proc/self/status");
	char line[256];
	int threads = -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "Threads: %d", &threads) == 1) break;
	fclose(f);
	CHECK(threads == 1, "iter %ld: Threads: %d after exec", it, threads);
	printf("target %ld ok\n", it);
	return (int)(it % 50) + 1;
}

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "--target") == 0) return target(argv);
	int n = iters(argc, argv, 20);
	/* not /proc/self/exe at exec time: with the leader gone (pthread_exit)
	 * /proc/self/exe is unreadable on Linux */
	static char path[4096];
	ssize_t l = readlink("/proc/self/exe", path, sizeof path - 1);
	CHECK(l > 0, "readlink: %s", strerror(errno));
	path[l] = 0;
	self = path;
	for (int it = 0; it < n; it++) {
		fflush(stdout);
		pid_t pid = fork();
		CHECK(pid >= 0, "fork: %s", strerror(errno));
		if (pid == 0) {
			CHECK(pipe(never) == 0, "pipe");
			for (int k = 0; k < 5; k++) spawn(busy, (void *)(long)k);
			wait_until(&started, 5);
			wait_until(&faults, 2);
			spawn(execer, (void *)(long)it);
			if (it % 3 == 1) spawn(execer, (void *)(long)it); /* two threads race to exec */
			__atomic_store_n(&gate, 1, __ATOMIC_RELEASE);
			if (it % 3 == 2) pthread_exit(0); /* the exec'ing thread takes over a gone leader's pid */
			for (;;) pause();
		}
		int st = xwaitpid(pid);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == it % 50 + 1, "iter %d: child %s", it, status_str(st));
	}
	printf("execthread: %d execs from threads: ok\n", n);
	return 0;
}
