package tests

import "testing"

const vforkSharedC = `#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <spawn.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/syscall.h>
extern char **environ;
static volatile int shared_word;
static char stack[65536];
static int child(void *a) { shared_word = 42; struct sigaction sa = {0}; sa.sa_handler = SIG_IGN; sigaction(SIGUSR2, &sa, 0); return 7; }
int main(void) {
	pid_t p;
	int r = posix_spawn(&p, "/nonexistent/prog", 0, 0, (char *[]){"x", 0}, environ);
	printf("posix_spawn missing: %s\n", r ? strerror(r) : "ok");
	r = posix_spawn(&p, "/bin/true", 0, 0, (char *[]){"true", 0}, environ);
	int st; waitpid(p, &st, 0);
	printf("posix_spawn true: %d status %d\n", r, WEXITSTATUS(st));
	volatile int x = 1;
	pid_t v = vfork();
	if (v == 0) { x = 2; _exit(3); }
	waitpid(v, &st, 0);
	printf("vfork child wrote x=%d, status %d\n", x, WEXITSTATUS(st));
	/* CLONE_VM without CLONE_VFORK, sharing handlers too. */
	pid_t c = clone(child, stack + sizeof stack, CLONE_VM | CLONE_SIGHAND | SIGCHLD, 0);
	waitpid(c, &st, 0);
	struct sigaction old; sigaction(SIGUSR2, 0, &old);
	printf("clone(CLONE_VM|CLONE_SIGHAND): word=%d status %d usr2 ignored=%d\n", shared_word, WEXITSTATUS(st), old.sa_handler == SIG_IGN);
	return 0;
}
`

// TestVforkSharesMemory: a vfork or CLONE_VM child runs in its parent's
// memory (posix_spawn reports the child's exec error through it), and
// CLONE_SIGHAND shares the signal dispositions.
func TestVforkSharesMemory(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "vforkshared", vforkSharedC)
	native, _ := diff(t, []string{prog})
	expect(t, "native", native, "posix_spawn missing: No such file or directory\nposix_spawn true: 0 status 0\n"+
		"vfork child wrote x=2, status 3\nclone(CLONE_VM|CLONE_SIGHAND): word=42 status 7 usr2 ignored=1\n", 0)
}
