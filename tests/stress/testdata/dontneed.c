/* dontneed: MADV_DONTNEED racing with writers and readers.
 *
 * Three mappings, each with a writer, a reader and a thread that drops
 * pages with MADV_DONTNEED over and over:
 *  - private anonymous: a dropped page reads as zero, so every word read is
 *    0 or the writer's word for that index;
 *  - shared anonymous: dropping loses nothing, so every word is the
 *    initial fill or the writer's word, never 0;
 *  - private file mapping: a dropped page reverts to the file, so every
 *    word is the file's or the writer's.
 * Then, with a child forked from a thread holding a copy-on-write snapshot
 * of the private mapping, the parent drops and rewrites it; the child must
 * still read its snapshot. Finally the deterministic semantics once more,
 * single-threaded. */
#include "common.h"

#define NP 32
#define NWORDS (NP * PAGE / 8)

enum { PRIV, SHARED, FILEP, NKIND };
static volatile uint64_t *M[NKIND];
static volatile long stop, bad[NKIND], drops;

static uint64_t initial(int k, int i) { return k == PRIV ? 0 : (0xF0ull + k) << 56 | (uint64_t)i; }
static uint64_t wword(int k, uint64_t seq, int i) { return (0xA0ull + k) << 56 | (seq & 0xffffff) << 32 | (uint64_t)i; }

static int valid(int k, uint64_t v, int i) {
	if (v == initial(k, i)) return 1;
	return v >> 56 == 0xA0ull + k && (v & 0xffffffff) == (uint64_t)i;
}

static void *writer(void *arg) {
	int k = (int)(long)arg;
	unsigned s = k * 17 + 3;
	for (uint64_t seq = 1; !stop; seq++) {
		s = s * 1103515245 + 12345;
		int i = (s >> 8) % NWORDS;
		M[k][i] = wword(k, seq, i);
	}
	return 0;
}

static void *reader(void *arg) {
	int k = (int)(long)arg;
	unsigned s = k * 101 + 7;
	while (!stop) {
		s = s * 1103515245 + 12345;
		int i = (s >> 8) % NWORDS;
		uint64_t v = M[k][i];
		if (!valid(k, v, i) && __atomic_add_fetch(&bad[k], 1, __ATOMIC_RELAXED) == 1)
			printf("kind %d: first bad word %d = %#lx\n", k, i, (unsigned long)v);
	}
	return 0;
}

static void *dropper(void *arg) {
	int k = (int)(long)arg;
	for (int r = 0; !stop; r++) {
		size_t off = (size_t)(r * 3 % NP) * PAGE, len = (size_t)(1 + r % 5) * PAGE;
		if (off + len > NP * PAGE) len = NP * PAGE - off;
		CHECK(madvise((char *)M[k] + off, len, MADV_DONTNEED) == 0, "madvise: %s", strerror(errno));
		__atomic_add_fetch(&drops, 1, __ATOMIC_RELAXED);
		sched_yield();
	}
	return 0;
}

static void *fork_snapshot(void *arg) {
	volatile uint64_t *p = M[PRIV];
	for (int i = 0; i < NWORDS; i++) p[i] = 0x5500000000000000ull | i;
	int go[2];
	CHECK(pipe(go) == 0, "pipe");
	pid_t pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		char c;
		xread(go[0], &c, 1);
		for (int i = 0; i < NWORDS; i++)
			CHECK(p[i] == (0x5500000000000000ull | i), "child: word %d = %#lx after the parent's MADV_DONTNEED",
			      i, (unsigned long)p[i]);
		_exit(0);
	}
	CHECK(madvise((void *)p, NP * PAGE, MADV_DONTNEED) == 0, "madvise");
	long zero = 0;
	for (int i = 0; i < NWORDS; i++) zero += p[i] == 0;
	for (int i = 0; i < NWORDS; i += 3) p[i] = 0x6600000000000000ull | i;
	xwrite(go[1], "g", 1);
	int st = xwaitpid(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %s", status_str(st));
	printf("after fork: parent saw %ld zero words of %d after MADV_DONTNEED\n", zero, NWORDS);
	return 0;
}

int main(int argc, char **argv) {
	int n = iters(argc, argv, 2000);
	M[PRIV] = xmmap(0, NP * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	M[SHARED] = xmmap(0, NP * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1);
	char path[] = "/tmp/dontneed-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0, "mkstemp");
	unlink(path);
	uint64_t *buf = malloc(NP * PAGE);
	for (int i = 0; i < NWORDS; i++) buf[i] = initial(FILEP, i);
	xwrite(fd, buf, NP * PAGE);
	M[FILEP] = xmmap(0, NP * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd);
	for (int i = 0; i < NWORDS; i++) M[SHARED][i] = initial(SHARED, i);

	pthread_t t[3 * NKIND];
	for (int k = 0; k < NKIND; k++) {
		t[3 * k] = spawn(writer, (void *)(long)k);
		t[3 * k + 1] = spawn(reader, (void *)(long)k);
		t[3 * k + 2] = spawn(dropper, (void *)(long)k);
	}
	wait_until(&drops, n);
	stop = 1;
	for (int i = 0; i < 3 * NKIND; i++) join(t[i]);
	printf("race: private bad %ld, shared bad %ld, file bad %ld\n", bad[PRIV], bad[SHARED], bad[FILEP]);

	pthread_t f = spawn(fork_snapshot, 0);
	join(f);

	/* the semantics, single-threaded */
	for (int i = 0; i < NWORDS; i++) M[PRIV][i] = M[SHARED][i] = M[FILEP][i] = 0x77;
	for (int k = 0; k < NKIND; k++) madvise((void *)M[k], NP * PAGE, MADV_DONTNEED);
	printf("after MADV_DONTNEED: private %lx, shared %lx, file %lx\n",
	       (unsigned long)M[PRIV][5], (unsigned long)M[SHARED][5], (unsigned long)M[FILEP][5]);
	return 0;
}
