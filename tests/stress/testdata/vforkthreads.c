/* vforkthreads: vfork and posix_spawn from several threads at once while
 * other threads write memory and check it.
 *
 * Each spawning thread alternates vfork+execve (of this program, which
 * exits with the code it is given), vfork+_exit, and posix_spawn; the
 * parent checks every status. Meanwhile two threads rewrite and verify
 * their own buffers, which nothing else may change. */
#include "common.h"
#include <spawn.h>

extern char **environ;
#define NSP 4
#define BW (16 * PAGE / 8)

static int nper;
static volatile long stop, checked;
static char *self = "/proc/self/exe";

static void *spawner(void *arg) {
	int s = (int)(long)arg;
	for (int k = 0; k < nper; k++) {
		int code = (s * 31 + k) % 120 + 1, how = (k + s) % 3;
		char a[16];
		snprintf(a, sizeof a, "%d", code);
		char *argv[] = {"vforkthreads", "--exit", a, 0};
		pid_t pid;
		if (how == 2) {
			int e = posix_spawn(&pid, self, 0, 0, argv, environ);
			CHECK(e == 0, "posix_spawn: %s", strerror(e));
		} else {
			pid = vfork();
			CHECK(pid >= 0, "vfork: %s", strerror(errno));
			if (pid == 0) {
				if (how == 0) execve(self, argv, environ);
				_exit(code);
			}
		}
		int st = xwaitpid(pid);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == code, "spawner %d #%d (how %d): %s, want exit %d",
		      s, k, how, status_str(st), code);
	}
	return 0;
}

static void *checker(void *arg) {
	uint64_t *b = xmmap(0, BW * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	uint64_t tag = (uint64_t)(long)arg << 56;
	for (uint64_t g = 1; !stop; g++) {
		for (int i = 0; i < BW; i++) b[i] = tag | g << 32 | i;
		for (int i = 0; i < BW; i++)
			CHECK(b[i] == (tag | g << 32 | i), "checker: word %d = %#lx, want %#lx", i,
			      (unsigned long)b[i], (unsigned long)(tag | g << 32 | i));
		__atomic_add_fetch(&checked, 1, __ATOMIC_RELAXED);
	}
	return 0;
}

int main(int argc, char **argv) {
	if (argc > 2 && strcmp(argv[1], "--exit") == 0) return atoi(argv[2]);
	nper = iters(argc, argv, 15);
	pthread_t c[2] = {spawn(checker, (void *)1), spawn(checker, (void *)2)};
	pthread_t s[NSP];
	for (int i = 0; i < NSP; i++) s[i] = spawn(spawner, (void *)(long)i);
	for (int i = 0; i < NSP; i++) join(s[i]);
	stop = 1;
	join(c[0]);
	join(c[1]);
	printf("vforkthreads: %d threads x %d vfork/posix_spawn: ok\n", NSP, nper);
	return 0;
}
