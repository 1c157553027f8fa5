/* munmapfault: munmap and mprotect racing with faults from other threads.
 *
 * First, deterministic cases: a touch of an unmapped page and of a
 * PROT_NONE page give SIGSEGV with the exact address and SEGV_MAPERR /
 * SEGV_ACCERR; a read of a PROT_WRITE-less page is fine, a write is not.
 * Then the race: readers and writers touch a region while another thread
 * unmaps it, maps it again (zeroed) and fills part of it, makes it
 * PROT_NONE and back, drops it with MADV_DONTNEED, or moves it away and
 * back with mremap, and a fourth thread maps and fills scratch memory
 * with a foreign pattern. Every value read must be 0, a filler word or a
 * writer word for that index (never a foreign or shifted word: that would
 * be a reused frame); every SIGSEGV must name the exact address touched
 * and say MAPERR or ACCERR. */
#include "common.h"

#define NP 64
#define NWORDS (NP * PAGE / 8)

static volatile uint64_t *R;
static volatile long stop, bad_addr, bad_code, bad_value, segvs, reads;
static __thread sigjmp_buf jb;
static __thread volatile uint64_t *want_addr;
static __thread volatile int in_probe;
static volatile int last_code;
static volatile void *last_addr;

static void segv(int sig, siginfo_t *si, void *uc) {
	if (!in_probe) {
		static const char msg[] = "FAIL unexpected SIGSEGV\n";
		write(1, msg, sizeof msg - 1);
		_exit(1);
	}
	last_code = si->si_code;
	last_addr = si->si_addr;
	if (si->si_addr != (void *)want_addr) __atomic_add_fetch(&bad_addr, 1, __ATOMIC_RELAXED);
	if (si->si_code != SEGV_MAPERR && si->si_code != SEGV_ACCERR) __atomic_add_fetch(&bad_code, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&segvs, 1, __ATOMIC_RELAXED);
	siglongjmp(jb, 1);
}

/* probe touches p (write if w) and returns 0, or the si_code of its SIGSEGV. */
static int probe(volatile uint64_t *p, int w, uint64_t val, uint64_t *out) {
	want_addr = p;
	if (sigsetjmp(jb, 1)) {
		in_probe = 0;
		return last_code;
	}
	in_probe = 1;
	if (w) *p = val;
	else *out = *p;
	in_probe = 0;
	return 0;
}

static const char *code_name(int c) {
	return c == 0 ? "ok" : c == SEGV_MAPERR ? "SEGV_MAPERR" : c == SEGV_ACCERR ? "SEGV_ACCERR" : "other";
}

static void deterministic(void) {
	uint64_t v;
	volatile uint64_t *p = xmmap(0, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	p[0] = 1;
	munmap((void *)(p + PAGE / 8), PAGE);
	mprotect((void *)(p + 2 * PAGE / 8), PAGE, PROT_NONE);
	mprotect((void *)(p + 3 * PAGE / 8), PAGE, PROT_READ);
	int c1 = probe(p + PAGE / 8 + 3, 0, 0, &v);
	int a1 = last_addr == (void *)(p + PAGE / 8 + 3);
	int c2 = probe(p + 2 * PAGE / 8 + 5, 1, 7, &v);
	int a2 = last_addr == (void *)(p + 2 * PAGE / 8 + 5);
	int c3 = probe(p + 3 * PAGE / 8, 0, 0, &v);
	int c4 = probe(p + 3 * PAGE / 8 + 1, 1, 7, &v);
	int a4 = last_addr == (void *)(p + 3 * PAGE / 8 + 1);
	printf("unmapped read: %s addr %s\n", code_name(c1), a1 ? "exact" : "wrong");
	printf("PROT_NONE write: %s addr %s\n", code_name(c2), a2 ? "exact" : "wrong");
	printf("PROT_READ read: %s value %lu\n", code_name(c3), (unsigned long)v);
	printf("PROT_READ write: %s addr %s\n", code_name(c4), a4 ? "exact" : "wrong");
	munmap((void *)p, 4 * PAGE);
	segvs = 0;
}

static int valid(uint64_t v, int i) {
	if (v == 0) return 1;
	uint64_t tag = v >> 56;
	return (v & 0xffffffff) == (uint64_t)i && (tag == 0x11 || tag == 0xA0 || tag == 0xA1);
}

static void *reader(void *arg) {
	unsigned s = (unsigned)(long)arg * 7919 + 1;
	uint64_t v;
	while (!stop) {
		s = s * 1103515245 + 12345;
		int i = (s >> 8) % NWORDS;
		v = 0;
		if (probe(R + i, 0, 0, &v) == 0 && !valid(v, i) &&
		    __atomic_add_fetch(&bad_value, 1, __ATOMIC_RELAXED) == 1)
			printf("first bad value %#lx at word %d\n", (unsigned long)v, i);
		__atomic_add_fetch(&reads, 1, __ATOMIC_RELAXED);
	}
	return 0;
}

static void *writer(void *arg) {
	uint64_t tag = 0xA0 + (long)arg;
	unsigned s = (unsigned)(long)arg * 31 + 5;
	uint64_t seq = 0;
	while (!stop) {
		s = s * 1103515245 + 12345;
		int i = (s >> 8) % NWORDS;
		probe(R + i, 1, tag << 56 | (++seq & 0xffffff) << 32 | i, 0);
	}
	return 0;
}

static void *foreign(void *arg) {
	while (!stop) {
		uint64_t *p = xmmap(0, NP * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
		for (int i = 0; i < NWORDS; i += 64) p[i] = 0xEEull << 56 | (uint64_t)(i + 1);
		munmap(p, NP * PAGE);
	}
	return 0;
}

int main(int argc, char **argv) {
	int n = iters(argc, argv, 2000);
	struct sigaction sa = {0};
	sa.sa_sigaction = segv;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, 0);
	deterministic();

	/* Far below where mmap(NULL) places things (top down), so no other
	 * mapping (thread stacks, malloc arenas, the foreign thread's) ever
	 * lands in the hole while R is unmapped. */
	R = xmmap((void *)0x100000000000ul, NP * PAGE, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1);
	pthread_t t[5];
	t[0] = spawn(reader, (void *)1);
	t[1] = spawn(reader, (void *)2);
	t[2] = spawn(writer, (void *)0);
	t[3] = spawn(writer, (void *)1);
	t[4] = spawn(foreign, 0);
	for (int k = 0; k < n; k++) {
		switch (k % 5) {
		case 0: case 1:
			CHECK(munmap((void *)R, NP * PAGE) == 0, "munmap");
			sched_yield();
			CHECK(mmap((void *)R, NP * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == (void *)R, "mmap fixed");
			for (int i = (k * 97) % 512; i < NWORDS; i += 512) R[i] = 0x11ull << 56 | (uint64_t)i;
			break;
		case 2:
			CHECK(mprotect((void *)R, NP * PAGE / 2, PROT_NONE) == 0, "mprotect");
			sched_yield();
			CHECK(mprotect((void *)R, NP * PAGE / 2, PROT_READ | PROT_WRITE) == 0, "mprotect");
			break;
		case 3:
			CHECK(madvise((void *)R, NP * PAGE, MADV_DONTNEED) == 0, "madvise");
			break;
		case 4: /* move the pages away and back: same contents, same place */
			CHECK(mremap((void *)R, NP * PAGE, NP * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)0x110000000000ul) ==
				      (void *)0x110000000000ul, "mremap: %s", strerror(errno));
			sched_yield();
			CHECK(mremap((void *)0x110000000000ul, NP * PAGE, NP * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)R) ==
				      (void *)R, "mremap back: %s", strerror(errno));
			break;
		}
		if (k % 64 == 0) sched_yield();
	}
	long r0 = reads;
	while (reads < r0 + 1000) sched_yield();
	stop = 1;
	for (int i = 0; i < 5; i++) join(t[i]);
	printf("munmap/mprotect race: %d rounds, bad values %ld, bad addresses %ld, bad codes %ld\n",
	       n, bad_value, bad_addr, bad_code);
	return 0;
}
