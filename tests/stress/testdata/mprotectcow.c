/* mprotectcow: mprotect racing with copy-on-write.
 *
 * Each iteration forks a child, so every page of region P is shared
 * copy-on-write. Then two writer threads rewrite all of P (each its own
 * words) while a third thread flips parts of P between PROT_READ and
 * PROT_READ|PROT_WRITE (splitting and merging the mapping). A write that
 * meets PROT_READ gets SIGSEGV with SEGV_ACCERR at the exact address and
 * is retried. Afterwards the parent's P holds exactly what the writers
 * wrote, and the child, told to look only then, still sees the snapshot
 * taken at fork. */
#include "common.h"

#define NP 48
#define NWORDS (NP * PAGE / 8)

static volatile uint64_t *P;
static volatile long bad, stop, done_writers, accerr;
static __thread sigjmp_buf jb;
static __thread volatile uint64_t *want_addr;
static int cur;

static void segv(int sig, siginfo_t *si, void *uc) {
	if (si->si_addr != (void *)want_addr || si->si_code != SEGV_ACCERR) __atomic_add_fetch(&bad, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&accerr, 1, __ATOMIC_RELAXED);
	siglongjmp(jb, 1);
}

static uint64_t pat(int gen, int i) { return (uint64_t)gen << 40 | (uint64_t)(i * 2654435761u); }

static void *writer(void *arg) {
	int w = (int)(long)arg;
	for (int i = w; i < NWORDS; i += 2) {
		want_addr = P + i;
		while (sigsetjmp(jb, 1)) sched_yield();
		P[i] = pat(cur * 2 + 2, i);
	}
	__atomic_add_fetch(&done_writers, 1, __ATOMIC_RELEASE);
	return 0;
}

static void *flipper(void *arg) {
	int k = 0;
	while (__atomic_load_n(&done_writers, __ATOMIC_ACQUIRE) < 2) {
		size_t off = (size_t)(k * 5 % NP) * PAGE, len = (size_t)(1 + k % 7) * PAGE;
		if (off + len > NP * PAGE) len = NP * PAGE - off;
		CHECK(mprotect((char *)P + off, len, PROT_READ) == 0, "mprotect: %s", strerror(errno));
		sched_yield();
		CHECK(mprotect((char *)P + off, len, PROT_READ | PROT_WRITE) == 0, "mprotect: %s", strerror(errno));
		k++;
	}
	return 0;
}

int main(int argc, char **argv) {
	int n = iters(argc, argv, 20);
	struct sigaction sa = {0};
	sa.sa_sigaction = segv;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, 0);
	P = xmmap(0, NP * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	for (int i = 0; i < NWORDS; i++) P[i] = pat(1, i);
	for (cur = 0; cur < n; cur++) {
		int go[2];
		CHECK(pipe(go) == 0, "pipe");
		fflush(stdout);
		pid_t pid = fork();
		CHECK(pid >= 0, "fork: %s", strerror(errno));
		if (pid == 0) {
			char c;
			xread(go[0], &c, 1);
			int gen = cur == 0 ? 1 : cur * 2;
			for (int i = 0; i < NWORDS; i++)
				CHECK(P[i] == pat(gen, i), "iter %d: child word %d = %#lx, want %#lx (the parent's later write?)",
				      cur, i, (unsigned long)P[i], (unsigned long)pat(gen, i));
			_exit(0);
		}
		done_writers = 0;
		pthread_t t[3] = {spawn(writer, (void *)0), spawn(writer, (void *)1), spawn(flipper, 0)};
		for (int i = 0; i < 3; i++) join(t[i]);
		for (int i = 0; i < NWORDS; i++)
			CHECK(P[i] == pat(cur * 2 + 2, i), "iter %d: parent word %d = %#lx, want %#lx",
			      cur, i, (unsigned long)P[i], (unsigned long)pat(cur * 2 + 2, i));
		xwrite(go[1], "g", 1);
		int st = xwaitpid(pid);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "iter %d: child %s", cur, status_str(st));
		close(go[0]);
		close(go[1]);
	}
	printf("mprotect/cow race: %d forks, bad SIGSEGVs %ld\n", n, bad);
	return 0;
}
