/* forkmem: fork from a thread while other threads write memory.
 *
 * Each iteration: writer threads fill their region A (anonymous, private
 * file mapping, .bss, malloc) with generation 1, then keep rewriting their
 * busy region B (word i of pass p holds p<<32|i). A thread forks while
 * they write. After fork returns in the parent, the writers rewrite A with
 * generation 2 and B with a MARK pass, the parent overwrites its stack
 * buffer, and a reader thread parked in read() before the fork receives a
 * page from a pipe. The child checks, both while the parent writes and
 * after: A is exactly generation 1, B holds valid words and no MARK, the
 * stack buffer and the read buffer are unchanged. Then the child writes
 * generation 3 into A and stamps a MAP_SHARED page; the parent checks A is
 * generation 2, B all MARK, its read buffer got the page, and sees the
 * stamp. Neither side may see the other's later writes. */
#include "common.h"

#define NW 4
#define AWORDS (32 * PAGE / 8)
#define BWORDS (8 * PAGE / 8)
#define MARK 0xFFFFFFFFull

static uint64_t *A[NW];
static volatile uint64_t *B[NW];
static uint64_t bss_region[AWORDS];
static volatile uint64_t *S;
static char *rbuf;
static int rpipe[2];

enum { FILL = 1, BUSY, POST, QUIT };
static volatile int cmd, cur_iter;
static volatile long cmdseq, ack, passes[NW];

static uint64_t apat(uint64_t gen, int w, uint64_t i) {
	return (gen << 48) ^ ((uint64_t)w << 40) ^ ((i * 0x9E3779B97F4A7C15ull) >> 24) ^ i;
}

static void command(int c) {
	ack = 0;
	for (int w = 0; w < NW; w++) passes[w] = 0;
	cmd = c;
	__atomic_add_fetch(&cmdseq, 1, __ATOMIC_RELEASE);
}

static void *writer(void *arg) {
	int w = (int)(long)arg;
	long seen = 0;
	for (;;) {
		while (__atomic_load_n(&cmdseq, __ATOMIC_ACQUIRE) == seen) sched_yield();
		seen = cmdseq;
		int c = cmd, it = cur_iter;
		if (c == QUIT) return 0;
		if (c == FILL) {
			for (int i = 0; i < AWORDS; i++) A[w][i] = apat(2 * it + 1, w, i);
			__atomic_add_fetch(&ack, 1, __ATOMIC_RELEASE);
		} else if (c == BUSY) {
			for (uint64_t p = 1; __atomic_load_n(&cmdseq, __ATOMIC_ACQUIRE) == seen; p++) {
				for (int i = 0; i < BWORDS; i++) B[w][i] = p << 32 | i;
				__atomic_store_n(&passes[w], p, __ATOMIC_RELEASE);
			}
		} else if (c == POST) {
			for (int i = 0; i < AWORDS; i++) A[w][i] = apat(2 * it + 2, w, i);
			for (int i = 0; i < BWORDS; i++) B[w][i] = MARK << 32 | i;
			__atomic_add_fetch(&ack, 1, __ATOMIC_RELEASE);
		}
	}
}

static void *reader(void *arg) {
	xread(rpipe[0], rbuf, PAGE);
	return 0;
}

static void check_bytes(const char *what, const volatile char *p, size_t n, char want, int it) {
	for (size_t i = 0; i < n; i++)
		CHECK(p[i] == want, "iter %d: %s byte %zu = %#x, want %#x", it, what, i, p[i] & 0xff, want);
}

/* check_child: what the child must see, at any time after fork. */
static void check_child(int it, int round, volatile char *stackbuf) {
	for (int w = 0; w < NW; w++)
		for (int i = 0; i < AWORDS; i++)
			CHECK(A[w][i] == apat(2 * it + 1, w, i), "iter %d round %d: child A[%d][%d] = %#lx, want gen 1 %#lx",
			      it, round, w, i, (unsigned long)A[w][i], (unsigned long)apat(2 * it + 1, w, i));
	for (int w = 0; w < NW; w++)
		for (int i = 0; i < BWORDS; i++) {
			uint64_t v = B[w][i];
			CHECK((v & 0xffffffff) == (uint64_t)i && (v >> 32) != MARK && (v >> 32) != 0,
			      "iter %d round %d: child B[%d][%d] = %#lx (a word the parent wrote after fork, or garbage)",
			      it, round, w, i, (unsigned long)v);
		}
	check_bytes("child stack buffer", stackbuf, 2 * PAGE, 'S', it);
	check_bytes("child read buffer", rbuf, PAGE, 'A', it);
}

static void *grandchild_forker(void *arg) {
	int it = (int)(long)arg;
	pid_t pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		for (int w = 0; w < NW; w++)
			for (int i = 0; i < AWORDS; i++)
				CHECK(A[w][i] == apat(2 * it + 3, w, i), "iter %d: grandchild A[%d][%d] wrong", it, w, i);
		_exit(0);
	}
	int st = xwaitpid(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "iter %d: grandchild %s", it, status_str(st));
	return 0;
}

static void *forker(void *arg) {
	int it = (int)(long)arg;
	volatile char stackbuf[2 * PAGE];
	memset((char *)stackbuf, 'S', sizeof stackbuf);
	int go[2];
	CHECK(pipe(go) == 0, "pipe");
	pid_t pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		check_child(it, 1, stackbuf);
		char c;
		xread(go[0], &c, 1);
		check_child(it, 2, stackbuf);
		for (int w = 0; w < NW; w++)
			for (int i = 0; i < AWORDS; i++) A[w][i] = apat(2 * it + 3, w, i);
		for (int i = 0; i < PAGE / 8; i++) S[i] = (uint64_t)it << 32 | i;
		if (it % 4 == 0) { /* a thread of the child forks again */
			pthread_t t = spawn(grandchild_forker, (void *)(long)it);
			join(t);
		}
		_exit(0);
	}
	command(POST);
	wait_until(&ack, NW);
	memset((char *)stackbuf, 'P', sizeof stackbuf);
	char page[PAGE];
	memset(page, 'B', sizeof page);
	xwrite(rpipe[1], page, PAGE);
	xwrite(go[1], "g", 1);
	int st = xwaitpid(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "iter %d: child %s", it, status_str(st));
	close(go[0]);
	close(go[1]);
	for (int w = 0; w < NW; w++)
		for (int i = 0; i < AWORDS; i++)
			CHECK(A[w][i] == apat(2 * it + 2, w, i), "iter %d: parent A[%d][%d] = %#lx, want gen 2",
			      it, w, i, (unsigned long)A[w][i]);
	for (int w = 0; w < NW; w++)
		for (int i = 0; i < BWORDS; i++)
			CHECK(B[w][i] == (MARK << 32 | i), "iter %d: parent B[%d][%d] = %#lx, want MARK",
			      it, w, i, (unsigned long)B[w][i]);
	check_bytes("parent stack buffer", stackbuf, sizeof stackbuf, 'P', it);
	for (int i = 0; i < PAGE / 8; i++)
		CHECK(S[i] == ((uint64_t)it << 32 | i), "iter %d: shared page word %d = %#lx, child's stamp missing",
		      it, i, (unsigned long)S[i]);
	return 0;
}

int main(int argc, char **argv) {
	int n = iters(argc, argv, 20);
	A[0] = xmmap(0, AWORDS * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	char path[] = "/tmp/forkmem-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0, "mkstemp: %s", strerror(errno));
	unlink(path);
	CHECK(ftruncate(fd, AWORDS * 8) == 0, "ftruncate");
	A[1] = xmmap(0, AWORDS * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd);
	A[2] = bss_region;
	A[3] = malloc(AWORDS * 8);
	volatile uint64_t *b = xmmap(0, NW * BWORDS * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	for (int w = 0; w < NW; w++) B[w] = b + w * BWORDS;
	S = xmmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1);
	rbuf = xmmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	CHECK(pipe(rpipe) == 0, "pipe");

	pthread_t wt[NW];
	for (int w = 0; w < NW; w++) wt[w] = spawn(writer, (void *)(long)w);
	for (int it = 0; it < n; it++) {
		cur_iter = it;
		command(FILL);
		wait_until(&ack, NW);
		memset(rbuf, 'A', PAGE);
		pthread_t r = spawn(reader, 0);
		command(BUSY);
		for (int w = 0; w < NW; w++) wait_until(&passes[w], 1);
		if (it % 3 == 2) {
			forker((void *)(long)it); /* the main thread forks */
		} else {
			pthread_t f = spawn(forker, (void *)(long)it);
			join(f);
		}
		join(r);
		check_bytes("parent read buffer", rbuf, PAGE, 'B', it);
	}
	command(QUIT);
	for (int w = 0; w < NW; w++) join(wt[w]);
	uint64_t h = 0;
	for (int w = 0; w < NW; w++) h ^= fnv(A[w], AWORDS * 8);
	printf("forkmem: %d forks from threads while %d threads wrote: ok (A %016lx)\n", n, NW, (unsigned long)h);
	return 0;
}
