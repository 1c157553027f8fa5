/* threadexit: threads creating threads while the process exits.
 *
 * Each iteration forks a child in which several threads keep creating
 * threads (joinable and detached; each new one creates another before it
 * ends, so the tree keeps growing and shrinking) while they touch fresh
 * memory. Once enough have been created, the child exits: from main
 * (exit or return), from a thread deep in the tree (exit_group), or by
 * SIGKILL from its parent. The parent checks each status; the child's
 * one line of output, flushed at exit, must arrive exactly once. */
#include "common.h"

static volatile long created;
static int variant, code;

static void *node(void *arg) {
	long depth = (long)arg;
	long c = __atomic_add_fetch(&created, 1, __ATOMIC_RELAXED);
	char *p = xmmap(0, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	for (int i = 0; i < 4; i++) p[i * PAGE] = (char)depth;
	munmap(p, 4 * PAGE);
	if (variant == 2 && c == 100) {
		printf("child %d: exit_group from a thread\n", code);
		fflush(stdout);
		syscall(SYS_exit_group, code);
	}
	pthread_t t;
	if (pthread_create(&t, 0, node, (void *)(depth + 1)) == 0) {
		if (depth % 2) pthread_detach(t);
		else pthread_join(t, 0);
	}
	return 0;
}

static __attribute__((noreturn)) void *root(void *arg) {
	for (;;) {
		pthread_t t;
		if (pthread_create(&t, 0, node, (void *)1) == 0) pthread_join(t, 0);
	}
}

int main(int argc, char **argv) {
	int n = iters(argc, argv, 12);
	int kinds[4] = {0};
	for (int it = 0; it < n; it++) {
		variant = it % 4;
		code = it % 60 + 1;
		int p[2];
		CHECK(pipe(p) == 0, "pipe");
		fflush(stdout);
		pid_t pid = fork();
		CHECK(pid >= 0, "fork");
		if (pid == 0) {
			close(p[0]);
			for (int i = 0; i < 3; i++) spawn(root, 0);
			wait_until(&created, 64);
			switch (variant) {
			case 0:
				printf("child %d: exit from main\n", code);
				exit(code);
			case 1:
				printf("child %d: return from main\n", code);
				return code;
			case 2:
				for (;;) pause();
			case 3:
				xwrite(p[1], "k", 1);
				for (;;) pause();
			}
		}
		close(p[1]);
		if (variant == 3) {
			char c;
			xread(p[0], &c, 1);
			kill(pid, SIGKILL);
		}
		close(p[0]);
		int st = xwaitpid(pid);
		if (variant == 3)
			CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "iter %d: child %s, want SIGKILL", it, status_str(st));
		else
			CHECK(WIFEXITED(st) && WEXITSTATUS(st) == code, "iter %d: child %s, want exit %d", it, status_str(st), code);
		kinds[variant]++;
	}
	printf("threadexit: %d processes ended while creating threads: %d %d %d %d\n", n, kinds[0], kinds[1], kinds[2], kinds[3]);
	return 0;
}
