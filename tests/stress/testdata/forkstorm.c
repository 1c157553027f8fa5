/* forkstorm: several threads fork at once, over and over, while other
 * threads write memory and read it back.
 *
 * The writers rewrite their buffers and check every word right after, so
 * a write lost to a racing copy-on-write (written to the old frame after
 * the new one was copied, or to a frame the child got) shows up at once.
 * Each child checks a table written before any thread started and the
 * forking thread's stack, starts a thread of its own, and exits with a
 * code the parent checks. */
#include "common.h"

#define NF 4
#define NWR 2
#define TW (64 * PAGE / 8)
#define BW (16 * PAGE / 8)

static uint64_t *table;
static int nper;
static volatile long stop, rounds[NWR];

static uint64_t tword(int i) { return (uint64_t)i * 0x9E3779B97F4A7C15ull; }

static void *writer(void *arg) {
	int w = (int)(long)arg;
	volatile uint64_t *b = xmmap(0, BW * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	for (uint64_t g = 1; !stop; g++) {
		for (int i = 0; i < BW; i++) b[i] = g << 32 | (uint64_t)w << 24 | i;
		for (int i = 0; i < BW; i++)
			CHECK(b[i] == (g << 32 | (uint64_t)w << 24 | i), "writer %d pass %lu: word %d = %#lx: a lost write",
			      w, (unsigned long)g, i, (unsigned long)b[i]);
		__atomic_store_n(&rounds[w], g, __ATOMIC_RELEASE);
	}
	return 0;
}

static void *child_thread(void *arg) {
	long s = 0;
	for (int i = 0; i < TW; i++) s += table[i] == tword(i);
	return (void *)s;
}

static void *forker(void *arg) {
	int f = (int)(long)arg;
	for (int k = 0; k < nper; k++) {
		volatile uint64_t stackbuf[512];
		for (int i = 0; i < 512; i++) stackbuf[i] = (uint64_t)f << 48 | (uint64_t)k << 32 | i;
		pid_t pid = fork();
		CHECK(pid >= 0, "fork: %s", strerror(errno));
		if (pid == 0) {
			for (int i = 0; i < TW; i++)
				CHECK(table[i] == tword(i), "forker %d #%d: child table word %d = %#lx", f, k, i, (unsigned long)table[i]);
			for (int i = 0; i < 512; i++)
				CHECK(stackbuf[i] == ((uint64_t)f << 48 | (uint64_t)k << 32 | i), "forker %d #%d: child stack word %d", f, k, i);
			pthread_t t = spawn(child_thread, 0);
			void *r;
			pthread_join(t, &r);
			CHECK((long)r == TW, "forker %d #%d: child thread saw %ld good words", f, k, (long)r);
			_exit((f * 16 + k) % 200 + 1);
		}
		for (int i = 0; i < 512; i++) stackbuf[i] = 0;
		int st = xwaitpid(pid);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == (f * 16 + k) % 200 + 1, "forker %d #%d: child %s", f, k, status_str(st));
	}
	return 0;
}

int main(int argc, char **argv) {
	nper = iters(argc, argv, 25);
	table = xmmap(0, TW * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	for (int i = 0; i < TW; i++) table[i] = tword(i);
	pthread_t w[NWR], f[NF];
	for (int i = 0; i < NWR; i++) w[i] = spawn(writer, (void *)(long)i);
	for (int i = 0; i < NWR; i++) wait_until(&rounds[i], 1);
	for (int i = 0; i < NF; i++) f[i] = spawn(forker, (void *)(long)i);
	for (int i = 0; i < NF; i++) join(f[i]);
	stop = 1;
	for (int i = 0; i < NWR; i++) join(w[i]);
	printf("forkstorm: %d threads x %d forks while %d threads wrote and checked: ok\n", NF, nper, NWR);
	return 0;
}
